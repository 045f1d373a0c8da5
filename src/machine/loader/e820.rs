//! The physical memory map a PC's firmware reports (BIOS e820), shared by the
//! Linux zero page and the Multiboot information structure.

/// A range of physical memory and its e820 type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRange {
    pub base: u64,
    pub len: u64,
    /// 1 = usable RAM, 2 = reserved.
    pub kind: u32,
}

pub const USABLE: u32 = 1;
pub const RESERVED: u32 = 2;

/// Conventional memory ends at 639 KiB (the EBDA's usual start).
pub const LOW_MEM_END: u64 = 0x9_FC00;

/// The map of a machine with `ram_size` bytes of RAM: conventional memory,
/// the EBDA, the BIOS area, and extended memory from 1 MiB.
pub fn memory_map(ram_size: u64) -> Vec<MemRange> {
    let mut map = vec![
        MemRange {
            base: 0,
            len: LOW_MEM_END.min(ram_size),
            kind: USABLE,
        },
        MemRange {
            base: LOW_MEM_END,
            len: 0xA_0000 - LOW_MEM_END,
            kind: RESERVED,
        },
        MemRange {
            base: 0xF_0000,
            len: 0x1_0000,
            kind: RESERVED,
        },
    ];
    if ram_size > 0x10_0000 {
        map.push(MemRange {
            base: 0x10_0000,
            len: ram_size - 0x10_0000,
            kind: USABLE,
        });
    }
    map
}
