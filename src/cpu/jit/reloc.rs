//! Blocks reused at another EIP. The same physical code often runs at
//! many linear addresses: a shared library or a position-independent
//! program mapped somewhere else in every process (address-space layout
//! randomisation). Its blocks differ only in the EIPs written into their
//! code, so the emitter records where those are ([`Reloc`]), and a block
//! translated once serves as a [`Template`]: for the same bytes (physical
//! address, page stamp and key) at another EIP, `Cpu::copy_block` copies
//! its code and moves each recorded EIP by the difference, with new
//! chaining cells for its exits, instead of decoding and assembling the
//! block again.
//!
//! A template is made only of a block whose copies are exactly what
//! translating at their EIP would give (`Cpu::compile`): 32-bit code (an
//! offset wraps at 4 GiB, not at 64 KiB), no 16-bit branch target (masked
//! to 16 bits), no handler call (its decode is shared by address), not
//! ended by an instruction running into the next page (as a handler call
//! or not: what ends the block there depends on how the next page is
//! mapped at its linear address), not cut short by an execute watch, every cell it asked for given, and no EIP it names wrapping.
//! A copy is made for the same CS base (so linear address and CS offset
//! move alike), where no EIP it names wraps ([`Template::fits`]) and no
//! execute watch covers its bytes (`Cpu::copy_block`). With
//! `Cpu::set_jit_check_copies` every copy is checked against a fresh
//! translation, byte for byte.

use super::emit::Origin;

/// Something in a block's code that depends on where the block is in the
/// guest's offset space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reloc {
    /// A 32-bit immediate at byte `at` that is `value`, an EIP (or an EIP
    /// less a constant of the block's page).
    Eip { at: u32, value: u32 },
    /// A 64-bit immediate at byte `at` that is `cell`, the chaining cell
    /// of a direct exit to `target`.
    Cell { at: u32, cell: usize, target: u32 },
    /// A 64-bit immediate at byte `at` that is `set`, the set of cells of
    /// an indirect exit.
    Set { at: u32, set: usize },
}

/// A translated block kept for copying, with what a copy needs.
pub(super) struct Template {
    /// Its code in the arena (`len` bytes from `code`).
    pub code: usize,
    pub len: usize,
    /// Where it was translated (only `eip` and `lin` matter to a copy: the
    /// physical address is the table's key).
    pub origin: Origin,
    /// The page stamp it was translated at.
    pub stamp: u64,
    pub extent: Extent,
    /// `emit::Code`'s entry offsets: the body and the chained entry.
    pub body: usize,
    pub chained: usize,
    /// Each direct exit's cell, as its place in the order of [`NewCells`],
    /// and the offset of the exit's unlinked code.
    pub unlinked: Box<[(usize, usize)]>,
    pub relocs: Box<[Reloc]>,
}

/// The guest side of a template: its length in bytes and instructions,
/// and the lowest and highest CS offsets it names (its start, its last
/// byte, its branch targets: the highest is `Slot::last_needed`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Extent {
    pub bytes: u32,
    pub insns: u32,
    pub low: u32,
    pub last_needed: u32,
}

/// What a copy gets in place of the template's cells: a cell for each
/// [`Reloc::Cell`] and a set for each [`Reloc::Set`], in order.
pub(super) type NewCells = Vec<usize>;

impl Template {
    /// A template of the block whose code is `len` bytes at `code`, with
    /// its entries (`body`, `chained`), its direct exits' cells and the
    /// offsets of their unlinked code (`emit::Code::unlinked`) and its
    /// relocations.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        code: usize,
        len: usize,
        origin: Origin,
        stamp: u64,
        extent: Extent,
        (body, chained): (usize, usize),
        unlinked: &[(usize, usize)],
        relocs: Vec<Reloc>,
    ) -> Template {
        let cells: Vec<usize> = relocs
            .iter()
            .filter_map(|r| match *r {
                Reloc::Cell { cell, .. } | Reloc::Set { set: cell, .. } => Some(cell),
                Reloc::Eip { .. } => None,
            })
            .collect();
        let unlinked = unlinked
            .iter()
            .filter_map(|&(cell, at)| Some((cells.iter().position(|&c| c == cell)?, at)))
            .collect();
        Template {
            code,
            len,
            origin,
            stamp,
            extent,
            body,
            chained,
            unlinked,
            relocs: relocs.into_boxed_slice(),
        }
    }

    /// True when a copy of the block at `eip`, with linear address `lin`
    /// (same stamp, key and physical address), is what translating there
    /// would give (see the module's notes; the execute watches are the
    /// caller's to check).
    pub fn fits(&self, eip: u32, lin: u32) -> bool {
        let (o, x) = (self.origin, self.extent);
        let delta = i64::from(eip) - i64::from(o.eip);
        let moved = |v: u32| u32::try_from(i64::from(v) + delta).is_ok();
        lin.wrapping_sub(eip) == o.lin.wrapping_sub(o.eip)
            && far_from_top(eip, x.bytes)
            && moved(x.low)
            && moved(x.last_needed)
    }

    /// The highest CS offset the copy at `eip` names.
    pub fn last_needed_at(&self, eip: u32) -> u32 {
        let delta = eip.wrapping_sub(self.origin.eip);
        self.extent.last_needed.wrapping_add(delta)
    }

    /// The template's code moved to `eip`: each EIP moved by the
    /// difference and each cell replaced by the one `cells` gives in
    /// order; `None` when an immediate is not what the template recorded
    /// (the code would then be wrong to copy).
    pub fn relocate(&self, code: &[u8], eip: u32, cells: &NewCells) -> Option<Vec<u8>> {
        let delta = eip.wrapping_sub(self.origin.eip);
        let mut out = code.to_vec();
        let mut next_cell = cells.iter();
        for r in self.relocs.iter() {
            match *r {
                Reloc::Eip { at, value } => {
                    let at = at as usize;
                    let site = out.get_mut(at..at + 4)?;
                    if site != value.to_le_bytes() {
                        return None;
                    }
                    site.copy_from_slice(&value.wrapping_add(delta).to_le_bytes());
                }
                Reloc::Cell { at, cell: old, .. } | Reloc::Set { at, set: old } => {
                    let at = at as usize;
                    let site = out.get_mut(at..at + 8)?;
                    if site != old.to_le_bytes() {
                        return None;
                    }
                    site.copy_from_slice(&next_cell.next()?.to_le_bytes());
                }
            }
        }
        Some(out)
    }
}

/// True when a block of `bytes` bytes at `eip` ends well below 4 GiB (so
/// that no instruction's next EIP wraps, there or at a copy).
pub(super) fn far_from_top(eip: u32, bytes: u32) -> bool {
    eip.checked_add(bytes + 16).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(relocs: Vec<Reloc>) -> Template {
        let origin = Origin {
            phys: 0x1000,
            eip: 0x1000,
            lin: 0x1000,
        };
        let extent = Extent {
            bytes: 10,
            insns: 2,
            low: 0x800,
            last_needed: 0x1009,
        };
        Template::new(0, 0, origin, 1, extent, (0, 0), &[], relocs)
    }

    /// EIPs move by the difference, cells are replaced in order, and an
    /// immediate that is not what was recorded refuses the copy.
    #[test]
    fn eips_move_and_cells_are_replaced_in_order() {
        let t = template(vec![
            Reloc::Eip {
                at: 0,
                value: 0x1005,
            },
            Reloc::Cell {
                at: 4,
                cell: 0x1111,
                target: 0x1005,
            },
            Reloc::Set {
                at: 12,
                set: 0x2222,
            },
        ]);
        let mut code = vec![0u8; 20];
        code[0..4].copy_from_slice(&0x1005u32.to_le_bytes());
        code[4..12].copy_from_slice(&0x1111usize.to_le_bytes());
        code[12..20].copy_from_slice(&0x2222usize.to_le_bytes());
        let out = t.relocate(&code, 0x8_0000, &vec![0x3333, 0x4444]).unwrap();
        assert_eq!(out[0..4], 0x8_0005u32.to_le_bytes());
        assert_eq!(out[4..12], 0x3333usize.to_le_bytes());
        assert_eq!(out[12..20], 0x4444usize.to_le_bytes());
        code[1] ^= 1;
        assert!(t.relocate(&code, 0x8_0000, &vec![0x3333, 0x4444]).is_none());
    }

    /// A copy needs the template's CS base and room below 4 GiB.
    #[test]
    fn a_copy_needs_the_same_cs_base_and_room_below_4g() {
        let t = template(vec![]);
        assert!(t.fits(0x40_1000, 0x40_1000));
        assert!(!t.fits(0x40_1000, 0x40_2000));
        assert!(!t.fits(0xFFFF_FFF0, 0xFFFF_FFF0));
        // (Its lowest target, 0x800 below its start, would wrap.)
        assert!(!t.fits(0x100, 0x100));
        assert!(t.fits(0x800, 0x800));
    }
}
