//! Physical addresses wider than the bus. PAE paging maps linear pages to
//! 36-bit physical addresses (MAXPHYADDR 36), while the [`Bus`] the board
//! implements decodes 32 bits. Nothing on this board answers at or above
//! 4 GiB: such an address is open bus, as the unmapped addresses below
//! 4 GiB are, so a read there gives all ones and a write is dropped. Paging
//! structures read from there thus hold all ones (present, with reserved
//! bits set: a reserved-bit #PF), never a panic.

use super::bus::Bus;

/// Physical addresses as paging produces them (36 bits used).
pub(crate) type PhysAddr = u64;

/// The bus address of `addr`, or `None` above 4 GiB (open bus).
pub(crate) fn on_bus(addr: PhysAddr) -> Option<u32> {
    u32::try_from(addr).ok()
}

/// Reads `bytes` (1, 2 or 4) at physical `addr`.
pub(crate) fn read<B: Bus + ?Sized>(bus: &mut B, addr: PhysAddr, bytes: u8) -> u32 {
    match (on_bus(addr), bytes) {
        (None, 1) => 0xFF,
        (None, 2) => 0xFFFF,
        (None, _) => u32::MAX,
        (Some(a), 1) => u32::from(bus.read_u8(a)),
        (Some(a), 2) => u32::from(bus.read_u16(a)),
        (Some(a), _) => bus.read_u32(a),
    }
}

/// Writes the low `bytes` (1, 2 or 4) of `value` at physical `addr`.
pub(crate) fn write<B: Bus + ?Sized>(bus: &mut B, addr: PhysAddr, bytes: u8, value: u32) {
    let Some(a) = on_bus(addr) else {
        return;
    };
    match bytes {
        1 => bus.write_u8(a, value as u8),
        2 => bus.write_u16(a, value as u16),
        _ => bus.write_u32(a, value),
    }
}

/// Reads a 64-bit paging-structure entry at physical `addr` (8-aligned,
/// so both halves lie on the same side of 4 GiB).
pub(crate) fn read_u64<B: Bus + ?Sized>(bus: &mut B, addr: PhysAddr) -> u64 {
    u64::from(read(bus, addr, 4)) | u64::from(read(bus, addr + 4, 4)) << 32
}

/// Fills `buf` from physical `addr` (instruction fetch; one page).
pub(crate) fn read_block<B: Bus + ?Sized>(bus: &mut B, addr: PhysAddr, buf: &mut [u8]) {
    match on_bus(addr) {
        Some(a) => bus.read_block(a, buf),
        None => buf.fill(0xFF),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::flat_ram::FlatRam;

    #[test]
    fn above_4_gib_is_open_bus() {
        let mut ram = FlatRam(vec![0; 0x1000]);
        write(&mut ram, 0x1_0000_0000, 4, 0x1234_5678);
        assert_eq!(read(&mut ram, 0x1_0000_0000, 4), u32::MAX);
        assert_eq!(read(&mut ram, 0xF_FFFF_FFF0, 2), 0xFFFF);
        assert_eq!(read_u64(&mut ram, 0x1_0000_0000), u64::MAX);
        assert_eq!(read(&mut ram, 0, 4), 0, "nothing wrapped to 0");
        let mut buf = [0u8; 4];
        read_block(&mut ram, 0x2_0000_0000, &mut buf);
        assert_eq!(buf, [0xFF; 4]);
    }
}
