//! Splits word and dword port accesses into byte accesses, as the ISA bus
//! does for an 8-bit device: a 16-bit `IN` from port `p` reads `p` then
//! `p + 1` and returns them little-endian. Devices with byte-wide registers
//! implement their byte access and let these helpers serve wider ones.

use super::IoSize;

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
