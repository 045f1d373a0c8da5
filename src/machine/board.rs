//! The board as the CPU sees it: guest memory and the I/O port bus behind the
//! CPU's [`Bus`] trait.

use crate::cpu::{Bus, IoSize};
use crate::devices::IoBus;
use crate::mem::GuestMemory;

#[derive(Debug)]
pub struct Board {
    pub mem: GuestMemory,
    pub io: IoBus,
}

impl Bus for Board {
    fn read_u8(&mut self, addr: u32) -> u8 {
        self.mem.read_u8(addr)
    }
    fn write_u8(&mut self, addr: u32, value: u8) {
        self.mem.write_u8(addr, value)
    }
    fn read_block(&mut self, addr: u32, buf: &mut [u8]) {
        self.mem.read_block(addr, buf)
    }
    fn io_read(&mut self, port: u16, size: IoSize) -> u32 {
        self.io.read(port, size)
    }
    fn io_write(&mut self, port: u16, size: IoSize, value: u32) {
        self.io.write(port, size, value)
    }
}
