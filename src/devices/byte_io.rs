//! Devices with byte-wide registers. The ISA bus splits a word or dword
//! access to an 8-bit device into byte accesses: a 16-bit `IN` from port `p`
//! reads `p` then `p + 1` and returns them little-endian. Such a device
//! implements [`ByteDevice`] and gets [`PortDevice`] from the blanket impl.

use super::{IoSize, PortDevice};

/// A device whose every register is one byte wide.
pub trait ByteDevice {
    /// Reads the byte register at `port`.
    fn read_byte(&mut self, port: u16) -> u8;
    /// Writes the byte register at `port`.
    fn write_byte(&mut self, port: u16, value: u8);
    /// Returns the device to its power-on state.
    fn reset(&mut self);
}

impl<T: ByteDevice> PortDevice for T {
    fn read(&mut self, port: u16, size: IoSize) -> u32 {
        read_bytes(port, size, |p| self.read_byte(p))
    }
    fn write(&mut self, port: u16, size: IoSize, value: u32) {
        write_bytes(port, size, value, |p, b| self.write_byte(p, b));
    }
    fn reset(&mut self) {
        ByteDevice::reset(self)
    }
}

/// Reads `size` consecutive byte ports starting at `port` through `read_byte`.
pub(crate) fn read_bytes(port: u16, size: IoSize, mut read_byte: impl FnMut(u16) -> u8) -> u32 {
    let mut value = 0u32;
    for i in 0..size.bytes() {
        let byte = read_byte(port.wrapping_add(i as u16));
        value |= u32::from(byte) << (8 * i);
    }
    value
}

/// Writes `size` bytes of `value` to consecutive byte ports starting at `port`.
pub(crate) fn write_bytes(
    port: u16,
    size: IoSize,
    value: u32,
    mut write_byte: impl FnMut(u16, u8),
) {
    for i in 0..size.bytes() {
        write_byte(port.wrapping_add(i as u16), (value >> (8 * i)) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_read_is_two_byte_reads_little_endian() {
        let v = read_bytes(0x40, IoSize::Word, |p| p as u8);
        assert_eq!(v, 0x4140);
    }

    #[test]
    fn dword_write_splits_in_order_and_wraps_port() {
        let mut seen = Vec::new();
        write_bytes(0xFFFE, IoSize::Dword, 0x4433_2211, |p, b| seen.push((p, b)));
        assert_eq!(
            seen,
            vec![
                (0xFFFE, 0x11),
                (0xFFFF, 0x22),
                (0x0000, 0x33),
                (0x0001, 0x44)
            ]
        );
    }
}
