//! The reset control register at port 0xCF9 (the PIIX/ICH "RCR" that SeaBIOS
//! and Linux use to reboot a PC). Bit 1 selects a hard (system) reset over a
//! soft (CPU) one and bit 2 starts it; the board collects the request with
//! [`ResetControl::take_reset_request`] and resets the whole machine either
//! way. The register reads back what was written, less bit 2. Only byte
//! accesses to 0xCF9 itself decode here: 0xCF8 and 0xCFC are PCI's.

use serde::{Deserialize, Serialize};

pub const RESET_CONTROL_PORT: u16 = 0xCF9;

/// Bit 2: start the reset.
const RESET_CPU: u8 = 0x04;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ResetControl {
    value: u8,
    reset_requested: bool,
}

impl ResetControl {
    /// Whether the guest requested a reset since the last call.
    pub fn take_reset_request(&mut self) -> bool {
        std::mem::take(&mut self.reset_requested)
    }
}

impl super::ByteDevice for ResetControl {
    fn read_byte(&mut self, port: u16) -> u8 {
        if port == RESET_CONTROL_PORT {
            self.value
        } else {
            0xFF
        }
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        if port != RESET_CONTROL_PORT {
            return;
        }
        if value & RESET_CPU != 0 {
            self.reset_requested = true;
        }
        self.value = value & !RESET_CPU;
    }
    fn reset(&mut self) {
        *self = ResetControl::default();
    }
}

#[cfg(test)]
mod tests {
    use super::super::ByteDevice;
    use super::*;

    #[test]
    fn bit_2_requests_a_reset_once() {
        let mut r = ResetControl::default();
        r.write_byte(RESET_CONTROL_PORT, 0x02);
        assert!(!r.take_reset_request());
        assert_eq!(r.read_byte(RESET_CONTROL_PORT), 0x02);
        r.write_byte(RESET_CONTROL_PORT, 0x06);
        assert!(r.take_reset_request());
        assert!(!r.take_reset_request());
        assert_eq!(r.read_byte(RESET_CONTROL_PORT), 0x02);
    }
}
