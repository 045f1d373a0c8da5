//! The flat 32-bit protected-mode entry state that the Linux 32-bit boot
//! protocol and Multiboot both hand a kernel: a GDT in low memory with flat
//! 4 GiB code (selector 0x10) and data (0x18) descriptors, segment caches
//! loaded from them, CR0.PE set, paging and interrupts off.

use crate::cpu::{Cpu, SegReg, Segment};
use crate::mem::{GuestMemory, MemError};

/// Where the boot GDT lives (below the real-mode IVT's end is avoided).
pub const GDT_ADDR: u32 = 0x800;
pub const CODE_SELECTOR: u16 = 0x10;
pub const DATA_SELECTOR: u16 = 0x18;

/// Null, null, flat code (0x10), flat data (0x18): the layout Linux expects.
const GDT: [u64; 4] = [0, 0, 0x00CF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF];

/// Writes the boot GDT and puts the CPU in flat 32-bit protected mode at
/// `entry` with interrupts disabled.
pub fn enter_flat(cpu: &mut Cpu, mem: &mut GuestMemory, entry: u32) -> Result<(), MemError> {
    let bytes: Vec<u8> = GDT.iter().flat_map(|d| d.to_le_bytes()).collect();
    mem.write_bytes(u64::from(GDT_ADDR), &bytes)?;
    cpu.set_gdtr(GDT_ADDR, (bytes.len() - 1) as u32);
    cpu.set_segment(SegReg::Cs, Segment::flat(CODE_SELECTOR, 0x9B));
    for s in [SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs] {
        cpu.set_segment(s, Segment::flat(DATA_SELECTOR, 0x93));
    }
    cpu.set_cr0(cpu.cr0() | 1);
    cpu.set_eflags(2);
    cpu.set_eip(entry);
    Ok(())
}
