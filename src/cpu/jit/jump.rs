//! The jump cache: where generated code goes on by itself after a return,
//! an indirect jump or call, or a direct jump to another page, instead of
//! coming back to `Cpu::run_block` to look the next block up.
//!
//! `run_block` records each block it is about to run in a small
//! direct-mapped table indexed by EIP, with everything it checked to run
//! it: the linear address it found the code at, the TLB slot's contents
//! when paging is on (so the same translation, with the same permission
//! and still executable),
//! the page's content stamp and where the bus keeps it, the block's key
//! and the cache's generation with the privilege, the highest CS offset
//! the block needs and its length. Generated code leaving for EIP `t`
//! jumps straight into the recorded block's body when all of that still
//! holds for `t` now: the entry names `t`, CS base + `t` is the recorded
//! linear address, paging is as it was and the TLB slot still holds the
//! recorded translation, the page still has the recorded stamp, the keys
//! match, CS's limit covers the block (checked only where the key does not
//! say the limit is 4 GiB) and the instruction budget its
//! length. The generation (64 bits, never reused) changes at every run of
//! the machine the control API starts (`Machine::run`; not between the
//! slices of one run, `Machine::run_on`, where nothing else touches the
//! machine) and whenever the bus's host epoch moves (A20, watches,
//! remapped RAM), with the TLB's host entries, so no entry, and no stamp
//! pointer in it, outlives either. A block is translated for one linear
//! address (its execute watches: `Bus::exec_watched`), which the entry's
//! linear address check keeps.

/// One recorded block (read by generated code, hence `repr(C)`; 64 bytes).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(super) struct Entry {
    pub eip: u32,
    /// CS base + EIP when recorded.
    pub lin: u32,
    pub last_needed: u32,
    pub insns: u32,
    /// The physical address of the block's first byte.
    pub phys: u32,
    /// The block's key (code size, stack size, flat segments, a 4 GiB CS
    /// limit).
    pub key: u8,
    /// Paging was on (1) or off (0).
    pub paged: u8,
    /// With paging on, the TLB slot's `user` and `executable` bytes
    /// (`tlb::Entry::fetch_access`).
    pub tlb_access: u16,
    /// With paging on, the TLB slot's tag and frame (its first 8 bytes).
    pub tlb: u64,
    pub stamp: u64,
    /// Where the page's current stamp is kept (`Bus::code_stamp_at`).
    pub stamp_at: usize,
    /// The block's body (past its prologue).
    pub body: usize,
    /// `Jit::jump_key` when recorded (the cache's generation and the
    /// privilege); 0, never a valid key, marks an empty entry.
    pub gen: u64,
}

/// Entries in the table (a power of two).
pub(super) const ENTRIES: usize = 16384;

/// The entry index of EIP `eip`, as generated code computes it.
pub(super) fn index(eip: u32) -> usize {
    ((eip ^ (eip >> 12)) as usize) & (ENTRIES - 1)
}

/// The table, allocated when the JIT first runs a block (a CPU that only
/// interprets never needs it).
#[derive(Default)]
pub(super) struct JumpCache {
    table: Vec<Entry>,
    /// The table's address, read by generated code (0 until allocated).
    pub base: usize,
}

impl JumpCache {
    /// Allocates the table if it is not yet: generated code may then look
    /// entries up.
    #[inline]
    pub fn ensure(&mut self) {
        if self.base == 0 {
            self.table = vec![Entry::default(); ENTRIES];
            self.base = self.table.as_ptr() as usize;
        }
    }

    /// Records `e` at its EIP's index.
    pub fn record(&mut self, e: Entry) {
        self.ensure();
        self.table[index(e.eip)] = e;
    }

    /// Empties every entry.
    pub fn clear(&mut self) {
        self.table.fill(Entry::default());
    }
}
