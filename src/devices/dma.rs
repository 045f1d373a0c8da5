//! The two 8237A DMA controllers of a PC/AT and their page registers.
//! The first (ports 0x00-0x0F) moves bytes on channels 0-3; the second
//! (0xC0-0xDF, one register every other port) moves words on channels
//! 5-7, its channel 4 cascading the first. The page registers (0x81-0x8F;
//! 0x80 stays the POST-code port) give address bits 16-23. A device that
//! wants a transfer raises DREQ on its channel; the board then calls
//! [`Dma::serve`] with the device and guest memory, and the whole transfer
//! the device is ready for happens at once (single, demand and block mode
//! alike): up to terminal count, when the device is told so, or until the
//! device has no more. This module owns the registers only; it never keeps
//! a reference to memory or devices, and its state serialises into
//! snapshots.

use super::ByteDevice;
use serde::{Deserialize, Serialize};

/// DMA channel 2, the floppy controller's.
pub const FLOPPY_DMA_CHANNEL: usize = 2;

/// What a DMA transfer moves bytes between: guest physical memory. A
/// bus master sees memory without the A20 gate, and writes must keep the
/// decoded-instruction cache exact (see `GuestMemory::dma_write`).
pub trait DmaMemory {
    fn dma_read(&mut self, addr: u32, buf: &mut [u8]);
    fn dma_write(&mut self, addr: u32, data: &[u8]);
}

impl DmaMemory for crate::mem::GuestMemory {
    fn dma_read(&mut self, addr: u32, buf: &mut [u8]) {
        self.read_block(addr, buf)
    }
    fn dma_write(&mut self, addr: u32, data: &[u8]) {
        crate::mem::GuestMemory::dma_write(self, addr, data)
    }
}

/// The device end of a transfer.
pub trait DmaDevice {
    /// A "write" transfer (device to memory): fills the start of `buf`
    /// with the next bytes, returning how many (0: nothing more for now).
    fn dma_out(&mut self, buf: &mut [u8]) -> usize;
    /// A "read" transfer (memory to device): takes the start of `data`,
    /// returning how many bytes it took.
    fn dma_in(&mut self, data: &[u8]) -> usize;
    /// The channel reached terminal count (TC) on the last byte moved.
    fn dma_terminal_count(&mut self);
}

/// Mode register bits 3-2.
const XFER_VERIFY: u8 = 0;
const XFER_WRITE: u8 = 1; // device to memory
const XFER_READ: u8 = 2; // memory to device
const MODE_AUTOINIT: u8 = 0x10;
const MODE_DECREMENT: u8 = 0x20;
/// Command register bit 2: the controller is disabled.
const CMD_DISABLE: u8 = 0x04;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Channel {
    base_addr: u16,
    base_count: u16,
    addr: u16,
    count: u16,
    mode: u8,
    page: u8,
}

/// One 8237A: four channels of 8-bit (`word: false`) or 16-bit transfers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Controller {
    word: bool,
    ch: [Channel; 4],
    /// Bit n: channel n masked.
    mask: u8,
    command: u8,
    /// Bits 0-3: TC reached (cleared by reading status); 4-7: software requests.
    status: u8,
    flip_flop: bool,
    temp: u8,
}

impl Controller {
    fn new(word: bool) -> Controller {
        Controller {
            word,
            ch: Default::default(),
            mask: 0x0F,
            command: 0,
            status: 0,
            flip_flop: false,
            temp: 0,
        }
    }

    fn master_clear(&mut self) {
        self.command = 0;
        self.status = 0;
        self.flip_flop = false;
        self.temp = 0;
        self.mask = 0x0F;
    }

    /// Register `reg` (0-15) as the 8237 numbers them.
    fn read(&mut self, reg: u8) -> u8 {
        match reg {
            0..=7 => {
                let c = &self.ch[usize::from(reg >> 1)];
                let v = if reg & 1 == 0 { c.addr } else { c.count };
                let byte = if self.flip_flop { v >> 8 } else { v } as u8;
                self.flip_flop = !self.flip_flop;
                byte
            }
            8 => {
                let status = self.status;
                self.status &= 0xF0;
                status
            }
            0xD => self.temp,
            0xF => self.mask | 0xF0,
            _ => 0xFF,
        }
    }

    fn write(&mut self, reg: u8, value: u8) {
        match reg {
            0..=7 => {
                let c = &mut self.ch[usize::from(reg >> 1)];
                let (base, cur) = if reg & 1 == 0 {
                    (&mut c.base_addr, &mut c.addr)
                } else {
                    (&mut c.base_count, &mut c.count)
                };
                *base = if self.flip_flop {
                    (*base & 0x00FF) | (u16::from(value) << 8)
                } else {
                    (*base & 0xFF00) | u16::from(value)
                };
                *cur = *base;
                self.flip_flop = !self.flip_flop;
            }
            8 => self.command = value,
            9 => {
                let bit = 0x10 << (value & 3);
                if value & 4 != 0 {
                    self.status |= bit;
                } else {
                    self.status &= !bit;
                }
            }
            0xA => {
                let bit = 1 << (value & 3);
                if value & 4 != 0 {
                    self.mask |= bit;
                } else {
                    self.mask &= !bit;
                }
            }
            0xB => self.ch[usize::from(value & 3)].mode = value,
            0xC => self.flip_flop = false,
            0xD => self.master_clear(),
            0xE => self.mask = 0,
            0xF => self.mask = value & 0x0F,
            _ => {}
        }
    }
}

/// Both controllers and the page registers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dma {
    ctl: [Controller; 2],
    /// Ports 0x80-0x8F as latches (the ones no channel uses are scratch).
    pages: [u8; 16],
}

impl Default for Dma {
    fn default() -> Self {
        Dma::new()
    }
}

/// The page register port of each channel (0-7).
const PAGE_PORT: [u8; 8] = [0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA];

impl Dma {
    pub fn new() -> Dma {
        Dma {
            ctl: [Controller::new(false), Controller::new(true)],
            pages: [0; 16],
        }
    }

    /// True when `channel` (0-7) is unmasked on an enabled controller.
    /// (Channels 0-3 do not wait for the cascade channel 4 to be unmasked,
    /// as in QEMU; a BIOS unmasks it anyway.)
    pub fn channel_enabled(&self, channel: usize) -> bool {
        let (c, n) = (&self.ctl[channel / 4], channel % 4);
        c.mask & (1 << n) == 0 && c.command & CMD_DISABLE == 0
    }

    /// Runs the transfer of `channel` with `dev` as far as it goes: until
    /// terminal count (the device is told, and the channel reloads itself
    /// when autoinitialising or masks itself otherwise) or until the device
    /// has nothing more. Does nothing while the channel is masked. Returns
    /// the number of bytes moved.
    pub fn serve(
        &mut self,
        channel: usize,
        dev: &mut dyn DmaDevice,
        mem: &mut dyn DmaMemory,
    ) -> usize {
        if channel >= 8 || channel == 4 || !self.channel_enabled(channel) {
            return 0;
        }
        let page = u32::from(self.pages[usize::from(PAGE_PORT[channel])]);
        let c = &mut self.ctl[channel / 4];
        let word = c.word;
        let n = channel % 4;
        let mut ch = c.ch[n].clone();
        let kind = (ch.mode >> 2) & 3;
        let unit = if word { 2 } else { 1 };
        let mut moved = 0;
        let mut buf = [0u8; 512];
        loop {
            // Units left (count + 1) and units before the address wraps
            // within its 64 K (the page register does not carry).
            let left = usize::from(ch.count) + 1;
            let decrement = ch.mode & MODE_DECREMENT != 0;
            let room = if decrement {
                1
            } else {
                0x10000 - usize::from(ch.addr)
            };
            let units = left.min(room).min(buf.len() / unit);
            let phys = if word {
                ((page & 0xFE) << 16) | (u32::from(ch.addr) << 1)
            } else {
                (page << 16) | u32::from(ch.addr)
            };
            let chunk = &mut buf[..units * unit];
            let got = match kind {
                XFER_WRITE | XFER_VERIFY => {
                    let got = dev.dma_out(chunk) / unit * unit;
                    if kind == XFER_WRITE {
                        mem.dma_write(phys, &chunk[..got]);
                    }
                    got
                }
                XFER_READ => {
                    mem.dma_read(phys, chunk);
                    dev.dma_in(chunk) / unit * unit
                }
                _ => 0,
            };
            if got == 0 {
                break;
            }
            moved += got;
            let done = (got / unit) as u16;
            ch.addr = if decrement {
                ch.addr.wrapping_sub(done)
            } else {
                ch.addr.wrapping_add(done)
            };
            let (count, wrapped) = ch.count.overflowing_sub(done);
            ch.count = count;
            if wrapped {
                // Terminal count: the count went past zero.
                c.status |= 1 << n;
                c.status &= !(0x10 << n);
                if ch.mode & MODE_AUTOINIT != 0 {
                    ch.addr = ch.base_addr;
                    ch.count = ch.base_count;
                } else {
                    c.mask |= 1 << n;
                }
                c.ch[n] = ch;
                dev.dma_terminal_count();
                return moved;
            }
        }
        c.ch[n] = ch;
        moved
    }
}

impl ByteDevice for Dma {
    fn read_byte(&mut self, port: u16) -> u8 {
        match port {
            0x00..=0x0F => self.ctl[0].read(port as u8),
            0xC0..=0xDF => self.ctl[1].read(((port - 0xC0) >> 1) as u8),
            0x80..=0x8F => self.pages[usize::from(port & 0xF)],
            _ => 0xFF,
        }
    }

    fn write_byte(&mut self, port: u16, value: u8) {
        match port {
            0x00..=0x0F => self.ctl[0].write(port as u8, value),
            0xC0..=0xDF if port & 1 == 0 => self.ctl[1].write(((port - 0xC0) >> 1) as u8, value),
            0x80..=0x8F => self.pages[usize::from(port & 0xF)] = value,
            _ => {}
        }
    }

    fn reset(&mut self) {
        *self = Dma::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory of 16 MiB as a plain vector.
    struct Mem(Vec<u8>);
    impl DmaMemory for Mem {
        fn dma_read(&mut self, addr: u32, buf: &mut [u8]) {
            let a = addr as usize;
            buf.copy_from_slice(&self.0[a..a + buf.len()]);
        }
        fn dma_write(&mut self, addr: u32, data: &[u8]) {
            let a = addr as usize;
            self.0[a..a + data.len()].copy_from_slice(data);
        }
    }

    /// A device with `out` bytes to give and a sink for what it is given.
    #[derive(Default)]
    struct Dev {
        out: Vec<u8>,
        got: Vec<u8>,
        tc: usize,
    }
    impl DmaDevice for Dev {
        fn dma_out(&mut self, buf: &mut [u8]) -> usize {
            let n = buf.len().min(self.out.len());
            buf[..n].copy_from_slice(&self.out[..n]);
            self.out.drain(..n);
            n
        }
        fn dma_in(&mut self, data: &[u8]) -> usize {
            self.got.extend_from_slice(data);
            data.len()
        }
        fn dma_terminal_count(&mut self) {
            self.tc += 1;
        }
    }

    /// Programs channel 2 as a BIOS does: mask, mode, flip-flop, address,
    /// page, count, unmask.
    fn program(dma: &mut Dma, mode: u8, addr: u32, count: u16) {
        dma.write_byte(0x0A, 0x06);
        dma.write_byte(0x0B, mode);
        dma.write_byte(0x0C, 0);
        dma.write_byte(0x04, addr as u8);
        dma.write_byte(0x04, (addr >> 8) as u8);
        dma.write_byte(0x81, (addr >> 16) as u8);
        dma.write_byte(0x05, count as u8);
        dma.write_byte(0x05, (count >> 8) as u8);
        dma.write_byte(0x0A, 0x02);
    }

    #[test]
    fn a_write_transfer_fills_memory_up_to_terminal_count_and_masks_the_channel() {
        let mut dma = Dma::new();
        let mut mem = Mem(vec![0; 1 << 24]);
        program(&mut dma, 0x46, 0x12_3400, 1023);
        assert!(dma.channel_enabled(2));
        let mut dev = Dev {
            out: (0..2000).map(|i| i as u8).collect(),
            ..Default::default()
        };
        assert_eq!(dma.serve(2, &mut dev, &mut mem), 1024);
        assert_eq!(dev.tc, 1);
        assert_eq!(
            &mem.0[0x12_3400..0x12_3400 + 1024],
            &(0..1024).map(|i| i as u8).collect::<Vec<_>>()[..]
        );
        assert_eq!(dev.out.len(), 2000 - 1024);
        assert!(!dma.channel_enabled(2), "masked at TC");
        assert_eq!(dma.read_byte(0x08) & 0x0F, 0x04, "TC of channel 2");
        assert_eq!(dma.read_byte(0x08) & 0x0F, 0, "cleared by reading");
        // The current address and count read back through the flip-flop.
        dma.write_byte(0x0C, 0);
        let lo = dma.read_byte(0x04);
        let hi = dma.read_byte(0x04);
        assert_eq!(u16::from_le_bytes([lo, hi]), 0x3800);
        let lo = dma.read_byte(0x05);
        let hi = dma.read_byte(0x05);
        assert_eq!(u16::from_le_bytes([lo, hi]), 0xFFFF);
    }

    #[test]
    fn a_read_transfer_gives_memory_to_the_device_and_autoinit_reloads() {
        let mut dma = Dma::new();
        let mut mem = Mem(vec![0; 1 << 24]);
        mem.0[0x2000..0x2200].fill(0xAB);
        program(&mut dma, 0x5A, 0x2000, 511);
        let mut dev = Dev::default();
        assert_eq!(dma.serve(2, &mut dev, &mut mem), 512);
        assert_eq!(dev.got, vec![0xAB; 512]);
        assert!(dma.channel_enabled(2), "autoinit keeps the channel");
        assert_eq!(dma.serve(2, &mut dev, &mut mem), 512);
        assert_eq!(dev.tc, 2);
    }

    #[test]
    fn a_device_with_less_data_leaves_the_count_where_it_stopped() {
        let mut dma = Dma::new();
        let mut mem = Mem(vec![0; 1 << 24]);
        program(&mut dma, 0x46, 0x1000, 1023);
        let mut dev = Dev {
            out: vec![7; 100],
            ..Default::default()
        };
        assert_eq!(dma.serve(2, &mut dev, &mut mem), 100);
        assert_eq!(dev.tc, 0);
        assert!(dma.channel_enabled(2));
        dma.write_byte(0x0C, 0);
        let lo = dma.read_byte(0x05);
        let hi = dma.read_byte(0x05);
        assert_eq!(u16::from_le_bytes([lo, hi]), 1023 - 100);
    }

    #[test]
    fn masked_channels_move_nothing_and_the_address_wraps_within_its_page() {
        let mut dma = Dma::new();
        let mut mem = Mem(vec![0; 1 << 24]);
        let mut dev = Dev {
            out: vec![1; 64],
            ..Default::default()
        };
        assert_eq!(dma.serve(2, &mut dev, &mut mem), 0, "masked at power-on");
        program(&mut dma, 0x46, 0x3_FFF0, 31);
        dma.write_byte(0x0F, 0x04);
        assert_eq!(dma.serve(2, &mut dev, &mut mem), 0, "masked by 0x0F");
        dma.write_byte(0x0E, 0);
        assert_eq!(dma.serve(2, &mut dev, &mut mem), 32);
        assert_eq!(&mem.0[0x3_FFF0..0x4_0000], &[1; 16]);
        assert_eq!(
            &mem.0[0x3_0000..0x3_0010],
            &[1; 16],
            "wrapped to the page's start"
        );
        assert_eq!(mem.0[0x4_0000], 0);
    }

    #[test]
    fn the_second_controller_moves_words_with_its_registers_on_even_ports() {
        let mut dma = Dma::new();
        let mut mem = Mem(vec![0; 1 << 24]);
        dma.write_byte(0xD4, 0x05); // mask channel 5
        dma.write_byte(0xD6, 0x45); // channel 5, write, single
        dma.write_byte(0xD8, 0);
        dma.write_byte(0xC4, 0x00); // word address 0x0800 = byte 0x1000
        dma.write_byte(0xC4, 0x08);
        dma.write_byte(0x8B, 0x02); // page: bit 0 ignored
        dma.write_byte(0xC6, 1); // 2 words
        dma.write_byte(0xC6, 0);
        dma.write_byte(0xD4, 0x01);
        let mut dev = Dev {
            out: vec![1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        assert_eq!(dma.serve(5, &mut dev, &mut mem), 4);
        assert_eq!(&mem.0[0x2_1000..0x2_1005], &[1, 2, 3, 4, 0]);
        assert_eq!(dma.read_byte(0xD0) & 0x0F, 0x02);
    }

    #[test]
    fn master_clear_masks_everything_and_page_scratch_ports_keep_their_value() {
        let mut dma = Dma::new();
        program(&mut dma, 0x46, 0, 0);
        dma.write_byte(0x0D, 0);
        assert!(!dma.channel_enabled(2));
        dma.write_byte(0x84, 0x5A);
        assert_eq!(dma.read_byte(0x84), 0x5A);
        assert_eq!(dma.read_byte(0x0F), 0xFF);
    }
}
