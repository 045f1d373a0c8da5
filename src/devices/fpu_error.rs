//! Port 0xF0, the PC's coprocessor-error latch: the FPU's FERR# output drives
//! IRQ13, and a write to port 0xF0 clears the latch and asserts IGNNE#, so the
//! FPU instruction that froze on an unmasked exception can go on. The write is
//! recorded here and applied to the CPU by the machine.

use super::{all_ones, IoSize, PortDevice};
use serde::{Deserialize, Serialize};

pub const FPU_ERROR_PORT: u16 = 0xF0;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FpuErrorPort {
    cleared: bool,
}

impl FpuErrorPort {
    /// True (once) after the guest wrote the port.
    pub fn take_clear(&mut self) -> bool {
        std::mem::take(&mut self.cleared)
    }
}

impl PortDevice for FpuErrorPort {
    fn read(&mut self, _port: u16, size: IoSize) -> u32 {
        all_ones(size)
    }
    fn write(&mut self, _port: u16, _size: IoSize, _value: u32) {
        self.cleared = true;
    }
    fn reset(&mut self) {
        self.cleared = false;
    }
}
