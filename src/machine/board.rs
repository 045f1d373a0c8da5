//! The board as the CPU sees it: guest memory behind the A20 gate, the I/O
//! port bus, and the virtual clock that times every port access.

use super::clock::VirtualClock;
use crate::cpu::{Bus, IoSize};
use crate::devices::IoBus;
use crate::mem::GuestMemory;

#[derive(Debug)]
pub struct Board {
    pub mem: GuestMemory,
    pub io: IoBus,
    pub clock: VirtualClock,
    /// Physical address mask: bit 20 clear while the A20 gate is closed.
    a20_mask: u32,
    /// Set by every port access, so the run loop knows to poll the devices.
    pub(super) io_touched: bool,
}

impl Board {
    pub fn new(mem: GuestMemory, io: IoBus, clock: VirtualClock) -> Board {
        Board {
            mem,
            io,
            clock,
            a20_mask: !0,
            io_touched: false,
        }
    }

    pub fn a20(&self) -> bool {
        self.a20_mask == !0
    }

    pub fn set_a20(&mut self, enabled: bool) {
        self.a20_mask = if enabled { !0 } else { !(1 << 20) };
    }
}

impl Bus for Board {
    fn read_u8(&mut self, addr: u32) -> u8 {
        self.mem.read_u8(addr & self.a20_mask)
    }
    fn write_u8(&mut self, addr: u32, value: u8) {
        self.mem.write_u8(addr & self.a20_mask, value)
    }
    // Wider accesses go to memory whole unless A20 could split them (an
    // access crossing the 1 MiB boundary with the gate closed).
    #[inline]
    fn read_u16(&mut self, addr: u32) -> u16 {
        if self.a20_mask == !0 {
            return self.mem.read_u16(addr);
        }
        u16::from_le_bytes([self.read_u8(addr), self.read_u8(addr.wrapping_add(1))])
    }
    #[inline]
    fn read_u32(&mut self, addr: u32) -> u32 {
        if self.a20_mask == !0 {
            return self.mem.read_u32(addr);
        }
        u32::from(self.read_u16(addr)) | (u32::from(self.read_u16(addr.wrapping_add(2))) << 16)
    }
    #[inline]
    fn write_u16(&mut self, addr: u32, value: u16) {
        if self.a20_mask == !0 {
            return self.mem.write_u16(addr, value);
        }
        let [lo, hi] = value.to_le_bytes();
        self.write_u8(addr, lo);
        self.write_u8(addr.wrapping_add(1), hi);
    }
    #[inline]
    fn write_u32(&mut self, addr: u32, value: u32) {
        if self.a20_mask == !0 {
            return self.mem.write_u32(addr, value);
        }
        self.write_u16(addr, value as u16);
        self.write_u16(addr.wrapping_add(2), (value >> 16) as u16);
    }
    #[inline]
    fn code_stamp(&mut self, addr: u32) -> Option<u64> {
        self.mem.code_stamp(addr & self.a20_mask)
    }
    fn mark_code(&mut self, addr: u32, len: u32) -> Option<u64> {
        self.mem.mark_code(addr & self.a20_mask, len)
    }
    fn read_block(&mut self, addr: u32, buf: &mut [u8]) {
        if self.a20_mask == !0 {
            self.mem.read_block(addr, buf)
        } else {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.read_u8(addr.wrapping_add(i as u32));
            }
        }
    }
    fn io_read(&mut self, port: u16, size: IoSize) -> u32 {
        self.io_touched = true;
        self.io.read(port, size, self.clock.now_ns())
    }
    fn io_write(&mut self, port: u16, size: IoSize, value: u32) {
        self.io_touched = true;
        self.io.write(port, size, value, self.clock.now_ns())
    }
}
