//! Block chaining: a block's direct exit (a jump, either side of a
//! conditional jump, a call, or running off its end) to code on the same
//! page goes straight on into the next block's body instead of returning
//! to `Cpu::run_block`, when the next block is translated and still valid.
//!
//! Each such exit owns a [`Cell`], data beside the code (the code is never
//! patched, so the arena stays read-execute). The cell names the block the
//! exit leads to (its physical address, EIP and key, fixed when the exit
//! is translated, and the page stamp its own block was translated at) and
//! holds where the exit goes: at first the exit's own code that returns,
//! leaving the cell's address in `Jit::link_from` (the next `run_block`
//! links the cell to the block it finds there if that is the block the
//! cell names), once linked that block's chained entry. A cell is linked
//! only to a block translated at that same stamp: a block runs only while
//! its page has the stamp it was translated at, so whenever the exit's own
//! block runs, a linked target is the current translation of the current
//! bytes, and generated code need not check. The exit is one indirect
//! jump through the cell; the target's chained entry checks the rest
//! itself: CS's limit (not in blocks whose key says the limit is 4 GiB)
//! and the remaining instruction budget, returning to the dispatcher at
//! its own start when either does not allow it.
//!
//! An indirect exit (a return, an indirect jump or call) has a set of
//! [`SET`] cells. A target on the exit's own page takes the cell
//! `(eip ^ eip >> 4) % SET` when that is unclaimed, and generated code
//! names it there with the names a direct exit's cell would have; the next
//! `run_block` links it as above. A target whose cell another holds, or
//! one off the page, goes on through the jump cache (`jump.rs`).
//!
//! Only targets on the exit's own page are chained: the page's translation
//! cannot change while generated code runs, and a write to the page ends
//! the block, so everything `run_block` checks before a block still holds
//! for the next one on that page. A cell also names its target's linear
//! address (the source's CS base + the target's EIP), so both blocks were
//! formed against the execute watches of the same addresses.

/// One direct exit's link (read by generated code, hence `repr(C)`).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(super) struct Cell {
    /// Where the exit goes on to: the target block's chained entry once
    /// linked, until then the exit's own code that leaves unlinked (set
    /// by `Cells::leave_unlinked`, or by generated code when a set's cell
    /// is claimed).
    pub body: usize,
    /// The page stamp the exit's block, and so its target, was translated
    /// at.
    pub stamp: u64,
    /// The block this exit leads to.
    pub phys: u32,
    pub eip: u32,
    /// Its linear address (CS base + `eip`): the block's execute watches
    /// are those of its linear addresses.
    pub lin: u32,
    pub key: u8,
}

/// Cells in an indirect exit's set (a power of two).
pub(super) const SET: usize = 8;
/// The key of a set's cell that no target has claimed yet (no block has
/// it: keys are a few bits).
pub(super) const UNCLAIMED: u8 = 0xFF;

/// Cells per allocation chunk (chunks never move once allocated).
const CHUNK: usize = 4096;
/// At most this many cells until the next flush (about 10 MiB).
const MAX_CHUNKS: usize = 64;

/// Every cell handed out since the last flush.
#[derive(Default)]
pub(super) struct Cells {
    chunks: Vec<Box<[Cell]>>,
    used: usize,
}

impl Cells {
    /// A new unlinked cell for an exit to `(phys, eip, lin, key)` of a
    /// block translated at page stamp `stamp`, or `None` when the table is
    /// full (the exit then simply returns).
    pub fn alloc(&mut self, phys: u32, eip: u32, lin: u32, key: u8, stamp: u64) -> Option<usize> {
        if self.used == CHUNK || self.chunks.is_empty() {
            if self.chunks.len() == MAX_CHUNKS {
                return None;
            }
            self.chunks
                .push(vec![Cell::default(); CHUNK].into_boxed_slice());
            self.used = 0;
        }
        let chunk = self.chunks.last_mut()?;
        let cell = chunk.get_mut(self.used)?;
        *cell = Cell {
            phys,
            eip,
            lin,
            key,
            stamp,
            ..Cell::default()
        };
        self.used += 1;
        Some(cell as *mut Cell as usize)
    }

    /// [`SET`] consecutive unclaimed cells for an indirect exit (a return,
    /// an indirect jump or call) of a block translated at page stamp
    /// `stamp`: its address, or `None` when sets have taken half the
    /// cells (the rest are kept for direct exits). Their EIP is
    /// `unclaimed`, which must be an EIP off the block's page (so that no
    /// target matches an unclaimed cell).
    pub fn alloc_set(&mut self, stamp: u64, unclaimed: u32) -> Option<usize> {
        if self.used + SET > CHUNK || self.chunks.is_empty() {
            if self.chunks.len() >= MAX_CHUNKS / 2 {
                return None;
            }
            self.chunks
                .push(vec![Cell::default(); CHUNK].into_boxed_slice());
            self.used = 0;
        }
        let chunk = self.chunks.last_mut()?;
        let set = chunk.get_mut(self.used..self.used + SET)?;
        set.fill(Cell {
            key: UNCLAIMED,
            eip: unclaimed,
            stamp,
            ..Cell::default()
        });
        self.used += SET;
        Some(set.as_ptr() as usize)
    }

    /// Links the cell at `addr` (from `Jit::link_from`) to the block `to`
    /// describes, when that is the block the cell names, translated at the
    /// stamp the cell's own block was.
    pub fn link(&mut self, addr: usize, to: &Cell) {
        let Some(cell) = self.find(addr) else {
            return;
        };
        let names = |c: &Cell| (c.phys, c.eip, c.lin, c.key, c.stamp);
        if names(cell) == names(to) {
            *cell = *to;
        }
    }

    /// Makes the cell at `addr` lead to `code` (its exit's code that
    /// leaves unlinked) until it is linked.
    pub fn leave_unlinked(&mut self, addr: usize, code: usize) {
        if let Some(cell) = self.find(addr) {
            cell.body = code;
        }
    }

    /// The cell at `addr`, when it is one of ours (a stale address is
    /// ignored rather than trusted).
    fn find(&mut self, addr: usize) -> Option<&mut Cell> {
        let size = std::mem::size_of::<Cell>();
        self.chunks.iter_mut().find_map(|chunk| {
            let start = chunk.as_ptr() as usize;
            let off = addr.checked_sub(start)?;
            if off % size != 0 {
                return None;
            }
            chunk.get_mut(off / size)
        })
    }

    /// Drops every cell (with the code that used them).
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.used = 0;
    }
}

/// The physical address of `target` when it lies on the same page as the
/// block at physical `phys`, CS offset `eip`.
pub(super) fn same_page(phys: u32, eip: u32, target: u32) -> Option<u32> {
    let delta = i64::from(target.wrapping_sub(eip) as i32);
    let pos = i64::from(phys & 0xFFF) + delta;
    (0..0x1000)
        .contains(&pos)
        .then_some((phys & !0xFFF) | pos as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set is `SET` consecutive unclaimed cells of one chunk, named by
    /// no target, and sets stop at half the cells, leaving the rest to
    /// direct exits.
    #[test]
    fn sets_are_consecutive_unclaimed_cells_and_leave_half_to_direct_exits() {
        let mut cells = Cells::default();
        let size = std::mem::size_of::<Cell>();
        let first = cells.alloc_set(7, 0x8000_1000).unwrap();
        let direct = cells.alloc(0x1000, 0x1000, 0x1000, 0, 7).unwrap();
        assert_eq!(direct, first + SET * size, "a set's cells are consecutive");
        for k in 0..SET {
            let cell = *cells.find(first + k * size).unwrap();
            assert_eq!(
                (cell.key, cell.eip, cell.body, cell.stamp),
                (UNCLAIMED, 0x8000_1000, 0, 7)
            );
        }
        let mut sets = 1;
        while cells.alloc_set(7, 0).is_some() {
            sets += 1;
        }
        // (Less one set: the direct cell took its room in the first chunk.)
        assert_eq!(sets, MAX_CHUNKS / 2 * (CHUNK / SET) - 1);
        assert!(cells.alloc(0x1000, 0x1000, 0x1000, 0, 7).is_some());
    }
}
