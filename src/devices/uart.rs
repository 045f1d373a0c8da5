//! A 16550A UART (COM1 at 0x3F8, COM2 at 0x2F8: the base port is given at
//! construction; the device decodes base..base+7).
//!
//! Modelled: the divisor latch (DLAB), IER, IIR with the FIFO bits and the
//! interrupt priorities (line status > received data / character timeout >
//! THR empty > modem status), FCR (FIFO enable and resets, trigger levels
//! 1/4/8/14), LCR, MCR with loopback (TX looped to RX, DTR/RTS/OUT1/OUT2 to
//! DSR/CTS/RI/DCD), LSR (DR, OE, THRE, TEMT), MSR with delta bits, SCR, a
//! 16-byte receive FIFO (one holding byte with FIFOs off) fed from an
//! unbounded host queue ([`Uart::receive`]) as the guest drains it, and the
//! character-timeout interrupt after four character times of virtual time
//! (from the divisor and LCR) with data below the trigger level.
//!
//! Transmission is instantaneous: a byte written to THR goes straight to the
//! host ([`Uart::take_output`]), so THRE and TEMT always read 1. The THRE
//! interrupt follows the 16550 rules Linux relies on: it becomes pending
//! when the transmitter empties (right after every THR write) and when
//! IER.ETBEI goes from 0 to 1 while THR is empty; reading IIR while it is the
//! reported source, or writing THR, clears it. As on a PC, the interrupt
//! output reaches the PIC only while MCR.OUT2 is set and loopback is off
//! ([`Uart::irq_level`]). Not modelled: the TX FIFO (nothing waits in it),
//! parity/framing errors and break (PE, FE, BI never set; LSR bit 7 reads
//! 0), DMA mode, and line settings affecting the data (only their timing).

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub const COM1_BASE: u16 = 0x3F8;
pub const COM2_BASE: u16 = 0x2F8;

const FIFO_SIZE: usize = 16;
/// The UART's input clock (1.8432 MHz on a PC).
const UART_CLOCK_HZ: u128 = 1_843_200;

const IER_RDA: u8 = 0x01;
const IER_THRE: u8 = 0x02;
const IER_LS: u8 = 0x04;
const IER_MS: u8 = 0x08;

const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

const MCR_LOOP: u8 = 0x10;
const MCR_OUT2: u8 = 0x08;

/// IIR interrupt identifications.
const IIR_NONE: u8 = 0x01;
const IIR_LS: u8 = 0x06;
const IIR_RDA: u8 = 0x04;
const IIR_TIMEOUT: u8 = 0x0C;
const IIR_THRE: u8 = 0x02;
const IIR_MS: u8 = 0x00;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Uart {
    base: u16,
    divisor: u16,
    ier: u8,
    lcr: u8,
    mcr: u8,
    /// Error bits of LSR (OE), cleared by reading LSR.
    lsr_errors: u8,
    /// MSR delta bits (0-3), cleared by reading MSR.
    msr_delta: u8,
    /// MSR input lines (bits 4-7) as last seen.
    msr_lines: u8,
    scr: u8,
    fifo_enabled: bool,
    /// FCR bits 7-6.
    trigger_bits: u8,
    rx_fifo: VecDeque<u8>,
    host_rx: VecDeque<u8>,
    output: Vec<u8>,
    thre_pending: bool,
    now_ns: u64,
    /// Last time a byte entered the RX FIFO or the guest read one.
    rx_activity_ns: u64,
    /// Interrupts the board sees only with OUT2 set and loopback off.
    pub irq_gated_by_out2: bool,
}

impl Uart {
    /// A UART decoding `base`..=`base + 7`.
    pub fn new(base: u16) -> Uart {
        Uart {
            base,
            divisor: 12,
            ier: 0,
            lcr: 0,
            mcr: 0,
            lsr_errors: 0,
            msr_delta: 0,
            msr_lines: 0,
            scr: 0,
            fifo_enabled: false,
            trigger_bits: 0,
            rx_fifo: VecDeque::new(),
            host_rx: VecDeque::new(),
            output: Vec::new(),
            thre_pending: false,
            now_ns: 0,
            rx_activity_ns: 0,
            irq_gated_by_out2: true,
        }
        .with_lines()
    }

    fn with_lines(mut self) -> Uart {
        self.msr_lines = self.input_lines();
        self
    }

    pub fn base(&self) -> u16 {
        self.base
    }

    /// Queues bytes from the host to the guest.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.host_rx.extend(bytes);
        self.refill();
    }

    /// Bytes the guest transmitted since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Host bytes not yet in the receive FIFO.
    pub fn pending_input(&self) -> usize {
        self.host_rx.len()
    }

    /// The baud rate the guest programmed.
    pub fn baud(&self) -> u32 {
        115_200 / u32::from(self.divisor.max(1))
    }

    pub fn advance_to(&mut self, now_ns: u64) {
        self.now_ns = self.now_ns.max(now_ns);
    }

    /// When the character timeout would fire, if it is armed.
    pub fn next_event_ns(&self) -> Option<u64> {
        (self.timeout_armed() && !self.timeout_due()).then(|| self.timeout_at())
    }

    /// The interrupt line as the PIC sees it.
    pub fn irq_level(&self) -> bool {
        let connected =
            !self.irq_gated_by_out2 || (self.mcr & MCR_OUT2 != 0 && self.mcr & MCR_LOOP == 0);
        connected && self.interrupt_id() != IIR_NONE
    }

    fn fifo_capacity(&self) -> usize {
        if self.fifo_enabled {
            FIFO_SIZE
        } else {
            1
        }
    }

    fn trigger_level(&self) -> usize {
        [1, 4, 8, 14][usize::from(self.trigger_bits & 3)]
    }

    /// One character's time on the line in ns: start, data, parity, stop bits.
    fn char_time_ns(&self) -> u64 {
        let data = 5 + u128::from(self.lcr & 3);
        let stop = if self.lcr & 4 != 0 { 2 } else { 1 };
        let parity = u128::from((self.lcr >> 3) & 1);
        let bits = 1 + data + parity + stop;
        let divisor = u128::from(self.divisor.max(1));
        (bits * divisor * 16 * 1_000_000_000 / UART_CLOCK_HZ) as u64
    }

    fn timeout_at(&self) -> u64 {
        self.rx_activity_ns
            .saturating_add(self.char_time_ns().saturating_mul(4))
    }

    fn timeout_armed(&self) -> bool {
        self.fifo_enabled && !self.rx_fifo.is_empty() && self.rx_fifo.len() < self.trigger_level()
    }

    fn timeout_due(&self) -> bool {
        self.timeout_armed() && self.now_ns >= self.timeout_at()
    }

    /// Moves host bytes into the receive FIFO while it has room.
    fn refill(&mut self) {
        if self.mcr & MCR_LOOP != 0 {
            return;
        }
        let mut moved = false;
        while self.rx_fifo.len() < self.fifo_capacity() {
            let Some(b) = self.host_rx.pop_front() else {
                break;
            };
            self.rx_fifo.push_back(b);
            moved = true;
        }
        if moved {
            self.rx_activity_ns = self.now_ns;
        }
    }

    fn interrupt_id(&self) -> u8 {
        let rx_ready = if self.fifo_enabled {
            self.rx_fifo.len() >= self.trigger_level()
        } else {
            !self.rx_fifo.is_empty()
        };
        if self.ier & IER_LS != 0 && self.lsr_errors != 0 {
            IIR_LS
        } else if self.ier & IER_RDA != 0 && rx_ready {
            IIR_RDA
        } else if self.ier & IER_RDA != 0 && self.timeout_due() {
            IIR_TIMEOUT
        } else if self.ier & IER_THRE != 0 && self.thre_pending {
            IIR_THRE
        } else if self.ier & IER_MS != 0 && self.msr_delta != 0 {
            IIR_MS
        } else {
            IIR_NONE
        }
    }

    /// DSR/CTS/RI/DCD (MSR bits 4-7) as the UART sees them now.
    fn input_lines(&self) -> u8 {
        if self.mcr & MCR_LOOP != 0 {
            let m = self.mcr;
            // RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
            (m & 0x02) << 3 | (m & 0x01) << 5 | (m & 0x04) << 4 | (m & 0x08) << 4
        } else {
            // A host is attached: CTS, DSR and DCD asserted, no ring.
            0xB0
        }
    }

    fn update_lines(&mut self) {
        let new = self.input_lines();
        let old = self.msr_lines;
        let changed = new ^ old;
        self.msr_delta |= (changed >> 4) & 0x0B; // DCTS, DDSR, DDCD
        if old & 0x40 != 0 && new & 0x40 == 0 {
            self.msr_delta |= 0x04; // TERI: trailing edge of RI
        }
        self.msr_lines = new;
    }

    fn transmit(&mut self, byte: u8) {
        if self.mcr & MCR_LOOP != 0 {
            if self.rx_fifo.len() < self.fifo_capacity() {
                self.rx_fifo.push_back(byte);
                self.rx_activity_ns = self.now_ns;
            } else {
                self.lsr_errors |= LSR_OE;
            }
        } else {
            self.output.push(byte);
        }
        // Sent at once: the transmitter is empty again.
        self.thre_pending = true;
    }

    fn lsr(&self) -> u8 {
        let dr = if self.rx_fifo.is_empty() { 0 } else { LSR_DR };
        dr | self.lsr_errors | LSR_THRE | LSR_TEMT
    }
}

impl super::ByteDevice for Uart {
    fn read_byte(&mut self, port: u16) -> u8 {
        let dlab = self.lcr & 0x80 != 0;
        match port.wrapping_sub(self.base) {
            0 if dlab => self.divisor as u8,
            0 => {
                let b = self.rx_fifo.pop_front().unwrap_or(0);
                self.rx_activity_ns = self.now_ns;
                self.refill();
                b
            }
            1 if dlab => (self.divisor >> 8) as u8,
            1 => self.ier,
            2 => {
                let id = self.interrupt_id();
                if id == IIR_THRE {
                    self.thre_pending = false;
                }
                id | if self.fifo_enabled { 0xC0 } else { 0 }
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let v = self.lsr();
                self.lsr_errors = 0;
                v
            }
            6 => {
                let v = self.msr_lines | self.msr_delta;
                self.msr_delta = 0;
                v
            }
            7 => self.scr,
            _ => 0xFF,
        }
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        let dlab = self.lcr & 0x80 != 0;
        match port.wrapping_sub(self.base) {
            0 if dlab => self.divisor = self.divisor & 0xFF00 | u16::from(value),
            0 => self.transmit(value),
            1 if dlab => self.divisor = self.divisor & 0x00FF | u16::from(value) << 8,
            1 => {
                let enabling_thre = value & IER_THRE != 0 && self.ier & IER_THRE == 0;
                self.ier = value & 0x0F;
                if enabling_thre {
                    // THR is always empty: a newly enabled THRE interrupt fires.
                    self.thre_pending = true;
                } else if value & IER_THRE == 0 {
                    self.thre_pending = false;
                }
            }
            2 => {
                let enable = value & 0x01 != 0;
                if enable != self.fifo_enabled {
                    self.rx_fifo.clear();
                }
                self.fifo_enabled = enable;
                if enable && value & 0x02 != 0 {
                    self.rx_fifo.clear();
                }
                self.trigger_bits = value >> 6;
                self.rx_activity_ns = self.now_ns;
                self.refill();
            }
            3 => self.lcr = value,
            4 => {
                let was_loop = self.mcr & MCR_LOOP != 0;
                self.mcr = value & 0x1F;
                self.update_lines();
                if was_loop && self.mcr & MCR_LOOP == 0 {
                    self.refill();
                }
            }
            7 => self.scr = value,
            _ => {} // LSR and MSR are read-only
        }
    }
    /// Registers to power-on values; host bytes still queued stay queued,
    /// bytes in the FIFO are lost, and the clock reading is kept.
    fn reset(&mut self) {
        let mut fresh = Uart::new(self.base);
        fresh.host_rx = std::mem::take(&mut self.host_rx);
        fresh.output = std::mem::take(&mut self.output);
        fresh.now_ns = self.now_ns;
        fresh.rx_activity_ns = self.now_ns;
        fresh.irq_gated_by_out2 = self.irq_gated_by_out2;
        *self = fresh;
        self.refill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice};

    const B: u16 = COM1_BASE;

    fn out(u: &mut Uart, off: u16, v: u8) {
        u.write(B + off, IoSize::Byte, u32::from(v));
    }
    fn inb(u: &mut Uart, off: u16) -> u8 {
        u.read(B + off, IoSize::Byte) as u8
    }
    /// Linux-like setup: 115200 8N1, FIFOs on with trigger 8, OUT2.
    fn linux_uart() -> Uart {
        let mut u = Uart::new(B);
        out(&mut u, 3, 0x80);
        out(&mut u, 0, 0x01);
        out(&mut u, 1, 0x00);
        out(&mut u, 3, 0x03);
        out(&mut u, 2, 0x87);
        out(&mut u, 4, 0x0B);
        u
    }

    #[test]
    fn power_on_registers() {
        let mut u = Uart::new(COM2_BASE);
        assert_eq!(u.base(), 0x2F8);
        let r = |u: &mut Uart, off: u16| u.read(COM2_BASE + off, IoSize::Byte) as u8;
        assert_eq!(r(&mut u, 1), 0x00);
        assert_eq!(r(&mut u, 2), 0x01);
        assert_eq!(r(&mut u, 3), 0x00);
        assert_eq!(r(&mut u, 4), 0x00);
        assert_eq!(r(&mut u, 5), 0x60);
        assert_eq!(r(&mut u, 6), 0xB0);
    }

    #[test]
    fn divisor_latch_shares_ports_with_rbr_and_ier() {
        let mut u = Uart::new(B);
        out(&mut u, 3, 0x83);
        out(&mut u, 0, 0x0C);
        out(&mut u, 1, 0x00);
        assert_eq!(inb(&mut u, 0), 0x0C);
        assert_eq!(inb(&mut u, 1), 0x00);
        assert_eq!(u.baud(), 9600);
        out(&mut u, 3, 0x03);
        out(&mut u, 1, 0x05);
        assert_eq!(inb(&mut u, 1), 0x05);
        out(&mut u, 3, 0x83);
        assert_eq!(inb(&mut u, 0), 0x0C, "IER write left the divisor alone");
    }

    #[test]
    fn transmit_is_instantaneous() {
        let mut u = linux_uart();
        for b in b"hi\n" {
            out(&mut u, 0, *b);
            assert_eq!(inb(&mut u, 5) & 0x60, 0x60, "THRE and TEMT");
        }
        assert_eq!(u.take_output(), b"hi\n");
        assert!(u.take_output().is_empty());
    }

    #[test]
    fn thre_interrupt_on_enable_cleared_by_iir_read() {
        let mut u = linux_uart();
        assert!(!u.irq_level());
        out(&mut u, 1, 0x02);
        assert!(u.irq_level());
        assert_eq!(inb(&mut u, 2), 0xC2);
        assert!(!u.irq_level(), "reading IIR cleared THRE");
        assert_eq!(inb(&mut u, 2), 0xC1);
        // Linux's UART_BUG_THRE test: disable and re-enable reasserts it.
        out(&mut u, 1, 0x00);
        out(&mut u, 1, 0x02);
        assert_eq!(inb(&mut u, 2), 0xC2);
    }

    #[test]
    fn thre_interrupt_after_each_write() {
        let mut u = linux_uart();
        out(&mut u, 1, 0x02);
        inb(&mut u, 2);
        out(&mut u, 0, b'x');
        assert!(u.irq_level(), "transmitter emptied again");
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x02);
    }

    #[test]
    fn irq_needs_out2_and_no_loopback() {
        let mut u = linux_uart();
        out(&mut u, 1, 0x02);
        assert!(u.irq_level());
        out(&mut u, 4, 0x03);
        assert!(!u.irq_level(), "OUT2 off");
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x02, "still pending inside");
        u.irq_gated_by_out2 = false;
        out(&mut u, 1, 0x00);
        out(&mut u, 1, 0x02);
        assert!(u.irq_level());
    }

    #[test]
    fn receive_without_fifo_one_byte_at_a_time() {
        let mut u = Uart::new(B);
        out(&mut u, 4, 0x08);
        out(&mut u, 1, 0x01);
        u.receive(b"ab");
        assert_eq!(inb(&mut u, 5) & 1, 1);
        assert!(u.irq_level());
        assert_eq!(inb(&mut u, 2), 0x04);
        assert_eq!(inb(&mut u, 0), b'a');
        assert_eq!(inb(&mut u, 0), b'b');
        assert_eq!(inb(&mut u, 5) & 1, 0);
        assert!(!u.irq_level());
    }

    #[test]
    fn fifo_trigger_level_and_unbounded_host_queue() {
        let mut u = linux_uart();
        out(&mut u, 1, 0x01);
        u.receive(&[b'z'; 7]);
        assert!(!u.irq_level(), "7 bytes below trigger 8");
        u.receive(b"z");
        assert!(u.irq_level());
        assert_eq!(inb(&mut u, 2), 0xC4);
        let data: Vec<u8> = (0..100u8).collect();
        u.receive(&data);
        assert_eq!(u.pending_input(), 92);
        let mut got = Vec::new();
        while inb(&mut u, 5) & 1 != 0 {
            got.push(inb(&mut u, 0));
        }
        assert_eq!(got.len(), 108);
        assert_eq!(&got[8..], &data[..], "nothing lost, in order");
    }

    #[test]
    fn trigger_levels() {
        for (bits, level) in [(0x00u8, 1usize), (0x40, 4), (0x80, 8), (0xC0, 14)] {
            let mut u = linux_uart();
            out(&mut u, 2, bits | 0x01);
            out(&mut u, 1, 0x01);
            u.receive(&vec![0; level - 1]);
            assert_eq!(inb(&mut u, 2) & 0x0F, 0x01, "below level {level}");
            u.receive(&[0]);
            assert_eq!(inb(&mut u, 2) & 0x0F, 0x04, "level {level}");
        }
    }

    #[test]
    fn character_timeout_after_four_char_times() {
        let mut u = linux_uart();
        out(&mut u, 1, 0x01);
        u.advance_to(1_000);
        u.receive(b"ls\n");
        // 10 bits at 115200 baud: 86805 ns a character.
        let due = 1_000 + 4 * 86_805;
        assert_eq!(u.next_event_ns(), Some(due));
        u.advance_to(due - 1);
        assert!(!u.irq_level());
        u.advance_to(due);
        assert!(u.irq_level());
        assert_eq!(inb(&mut u, 2), 0xCC);
        assert_eq!(inb(&mut u, 0), b'l');
        assert!(!u.irq_level(), "reading a byte restarts the timer");
        u.advance_to(due + 4 * 86_805);
        assert_eq!(inb(&mut u, 2), 0xCC);
        inb(&mut u, 0);
        inb(&mut u, 0);
        assert_eq!(u.next_event_ns(), None, "FIFO empty");
    }

    #[test]
    fn fifo_reset_drops_fifo_bytes_only() {
        let mut u = linux_uart();
        u.receive(&[1; 20]);
        out(&mut u, 2, 0x83);
        // The 16 in the FIFO are gone; the last four come from the host queue.
        let mut n = 0;
        while inb(&mut u, 5) & 1 != 0 {
            inb(&mut u, 0);
            n += 1;
        }
        assert_eq!(n, 4);
    }

    #[test]
    fn loopback_routes_tx_to_rx_and_modem_lines() {
        let mut u = linux_uart();
        inb(&mut u, 6);
        out(&mut u, 4, 0x10 | 0x0F);
        assert_eq!(inb(&mut u, 6) & 0xF0, 0xF0);
        out(&mut u, 0, 0x5A);
        assert!(u.take_output().is_empty());
        assert_eq!(inb(&mut u, 5) & 1, 1);
        assert_eq!(inb(&mut u, 0), 0x5A);
        out(&mut u, 4, 0x10 | 0x02); // only RTS
                                     // DSR and DCD changed, RI fell (TERI); CTS stayed.
        assert_eq!(inb(&mut u, 6), 0x10 | 0x02 | 0x04 | 0x08);
        assert_eq!(inb(&mut u, 6), 0x10, "deltas cleared by reading");
    }

    #[test]
    fn loopback_overrun_sets_oe_and_line_status_interrupt() {
        let mut u = linux_uart();
        out(&mut u, 4, 0x18);
        out(&mut u, 1, 0x04);
        for i in 0..17 {
            out(&mut u, 0, i);
        }
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x06);
        assert_eq!(inb(&mut u, 5) & 0x03, 0x03);
        assert_eq!(inb(&mut u, 5) & 0x02, 0, "OE cleared by reading LSR");
    }

    #[test]
    fn interrupt_priority_order() {
        let mut u = linux_uart();
        out(&mut u, 4, 0x18);
        out(&mut u, 1, 0x0F);
        for i in 0..17 {
            out(&mut u, 0, i);
        }
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x06, "line status first");
        inb(&mut u, 5);
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x04, "then received data");
        while inb(&mut u, 5) & 1 != 0 {
            inb(&mut u, 0);
        }
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x02, "then THRE");
        out(&mut u, 4, 0x08); // leaving loopback changes the modem lines
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x00, "then modem status");
        inb(&mut u, 6);
        assert_eq!(inb(&mut u, 2) & 0x0F, 0x01);
    }

    #[test]
    fn host_bytes_wait_during_loopback() {
        let mut u = linux_uart();
        out(&mut u, 4, 0x10);
        u.receive(b"q");
        assert_eq!(inb(&mut u, 5) & 1, 0);
        out(&mut u, 4, 0x00);
        assert_eq!(inb(&mut u, 0), b'q');
    }

    #[test]
    fn scratch_register() {
        let mut u = Uart::new(B);
        out(&mut u, 7, 0xA5);
        assert_eq!(inb(&mut u, 7), 0xA5);
    }

    #[test]
    fn reset_keeps_host_queue() {
        let mut u = linux_uart();
        u.receive(&[7; 40]);
        u.reset();
        assert_eq!(inb(&mut u, 0), 7, "FIFO off after reset: one byte held");
        // 16 went into the FIFO and were lost; one held, one refilled after the read.
        assert_eq!(u.pending_input(), 40 - 16 - 2);
    }

    #[test]
    fn garbage_never_panics() {
        let mut u = Uart::new(B);
        let mut x: u32 = 0x1357_9BDF;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let port = B + (x % 9) as u16;
            if x & 0x100 != 0 {
                u.write(port, IoSize::Byte, x >> 16);
            } else {
                u.read(port, IoSize::Dword);
            }
            if x & 0x1000 != 0 {
                u.receive(&[x as u8]);
            }
            u.advance_to(i * 50_000);
            u.next_event_ns();
            u.irq_level();
        }
    }
}
