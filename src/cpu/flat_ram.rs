//! A flat, `Vec`-backed [`Bus`] for tests and tools that run the CPU without
//! a board: memory beyond the vector reads as 0xFF and ignores writes, ports
//! read as all ones and ignore writes.

use super::bus::{Bus, IoSize};

/// Physical memory `0..len` as a byte vector, and no devices.
#[derive(Clone, Debug)]
pub struct FlatRam(pub Vec<u8>);

impl Bus for FlatRam {
    fn read_u8(&mut self, addr: u32) -> u8 {
        self.0.get(addr as usize).copied().unwrap_or(0xFF)
    }
    fn write_u8(&mut self, addr: u32, value: u8) {
        if let Some(b) = self.0.get_mut(addr as usize) {
            *b = value;
        }
    }
    fn io_read(&mut self, _port: u16, _size: IoSize) -> u32 {
        0xFFFF_FFFF
    }
    fn io_write(&mut self, _port: u16, _size: IoSize, _value: u32) {}
}
