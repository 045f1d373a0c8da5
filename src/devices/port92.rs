//! System control port A (port 0x92, the PS/2 "fast A20 and reset" port).
//! Bit 1 gates A20 (1 = enabled); a 0->1 transition of bit 0 requests a
//! machine reset, which the board collects with [`Port92::take_reset_request`].
//! The other bits (security lock, disk activity LEDs) are stored and read
//! back but have no effect. The board combines this A20 gate with the 8042's
//! (either one enables A20). Not modelled: the lock bit write-protecting the
//! CMOS password area.

use serde::{Deserialize, Serialize};

pub const PORT92: u16 = 0x92;

/// Bit 1: A20 gate.
const A20: u8 = 0x02;
/// Bit 0: fast reset.
const RESET: u8 = 0x01;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Port92 {
    value: u8,
    reset_requested: bool,
}

impl Port92 {
    pub fn new() -> Port92 {
        Port92::default()
    }

    /// Whether this port enables A20 (bit 1).
    pub fn a20_enabled(&self) -> bool {
        self.value & A20 != 0
    }

    /// Whether the guest requested a reset since the last call.
    pub fn take_reset_request(&mut self) -> bool {
        std::mem::take(&mut self.reset_requested)
    }
}

impl super::ByteDevice for Port92 {
    fn read_byte(&mut self, port: u16) -> u8 {
        if port == PORT92 {
            self.value
        } else {
            0xFF
        }
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        if port != PORT92 {
            return;
        }
        if value & RESET != 0 && self.value & RESET == 0 {
            self.reset_requested = true;
        }
        self.value = value;
    }
    fn reset(&mut self) {
        *self = Port92::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice};

    #[test]
    fn a20_follows_bit_1_and_reads_back() {
        let mut p = Port92::new();
        assert!(!p.a20_enabled());
        p.write(PORT92, IoSize::Byte, 0x02);
        assert!(p.a20_enabled());
        assert_eq!(p.read(PORT92, IoSize::Byte), 0x02);
        p.write(PORT92, IoSize::Byte, 0x00);
        assert!(!p.a20_enabled());
    }

    #[test]
    fn reset_on_rising_edge_of_bit_0_only() {
        let mut p = Port92::new();
        p.write(PORT92, IoSize::Byte, 0x01);
        assert!(p.take_reset_request());
        assert!(!p.take_reset_request(), "taken once");
        p.write(PORT92, IoSize::Byte, 0x03);
        assert!(!p.take_reset_request(), "bit 0 already set: no edge");
        p.write(PORT92, IoSize::Byte, 0x02);
        p.write(PORT92, IoSize::Byte, 0x03);
        assert!(p.take_reset_request());
    }

    #[test]
    fn reset_clears_state() {
        let mut p = Port92::new();
        p.write(PORT92, IoSize::Byte, 0x03);
        p.reset();
        assert!(!p.a20_enabled());
        assert!(!p.take_reset_request());
        assert_eq!(p.read(PORT92, IoSize::Byte), 0);
    }
}
