//! The QEMU-compatible `isa-debug-exit` port: a write of `v` asks the machine
//! to halt with exit status `(v << 1) | 1`. The request is recorded here and
//! collected by the machine after the instruction that made it.

use super::{all_ones, IoSize, PortDevice};
use serde::{Deserialize, Serialize};

pub const DEFAULT_EXIT_PORT: u16 = 0xF4;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ExitPort {
    requested: Option<u32>,
}

impl ExitPort {
    /// The exit status requested since the last call, if any.
    pub fn take_request(&mut self) -> Option<u32> {
        self.requested.take()
    }
}

impl PortDevice for ExitPort {
    fn read(&mut self, _port: u16, size: IoSize) -> u32 {
        all_ones(size)
    }
    fn write(&mut self, _port: u16, _size: IoSize, value: u32) {
        self.requested = Some((value << 1) | 1);
    }
    fn reset(&mut self) {
        self.requested = None;
    }
}
