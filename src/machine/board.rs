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
