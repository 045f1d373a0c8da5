//! Decoded traces: the interpreter's cached fast forms laid out in the
//! order they run, so that a run (`cpu/cached_run.rs`) looks an
//! instruction up once per trace rather than once per instruction. A trace
//! is a straight line of instructions on one physical page, each a fast
//! form already in the decoded-instruction cache (`icache.rs`) under the
//! page's current content stamp, stored one after another in an arena and
//! found by the physical address of its first byte (with the code size and
//! the stamp, as a cache slot is). It runs through conditional branches,
//! whose fall-through comes next, and ends at the page's end, before an
//! instruction that is not cached or has no fast form, after an
//! unconditional transfer, or at [`MAX_OPS`]. Whoever runs a trace leaves
//! it as soon as EIP is not the next instruction's (a branch taken, a
//! string instruction repeating), so a trace makes no promise about where
//! control goes. A trace holds copies of its slots: it is checked by the
//! same stamp and dropped by the same flush, and never consulted when its
//! stamp is not the page's.

use super::exec::Form;
use crate::x86::Insn;

/// Head table entries (a power of two).
const HEADS_BITS: u32 = 12;
const HEADS: usize = 1 << HEADS_BITS;
/// The arena's capacity in instructions; when full, every trace is dropped.
const ARENA: usize = 1 << 16;
/// The most instructions one trace holds.
const MAX_OPS: usize = 64;

/// One instruction of a trace.
#[derive(Clone, Copy)]
pub(crate) struct Op {
    pub insn: Insn,
    pub form: Form,
    /// `form.writes_memory()`, kept at hand.
    pub writes: bool,
    /// Where its handler is in `exec::Handlers::TABLE`.
    pub handler: u16,
}

/// Where a trace is.
#[derive(Clone, Copy)]
struct Head {
    /// The page's content stamp when it was built (0: empty).
    stamp: u64,
    /// Physical address of its first instruction.
    phys: u32,
    code32: bool,
    /// Its first instruction's index in the arena.
    first: u32,
    /// How many instructions it holds (at least one).
    count: u16,
    /// Bytes from its first instruction's start to its last one's end.
    span: u16,
}

const EMPTY: Head = Head {
    stamp: 0,
    phys: 0,
    code32: false,
    first: 0,
    count: 0,
    span: 0,
};

/// A trace found: its instructions and the bytes they cover.
pub(crate) struct Trace<'a> {
    pub ops: &'a [Op],
    pub span: u32,
}

/// The heads and the arena; empty until the first trace is built.
#[derive(Default)]
pub(crate) struct Traces {
    heads: Vec<Head>,
    arena: Vec<Op>,
}

/// A copy starts empty: traces are rebuilt from the decoded-instruction
/// cache as needed, so a cloned CPU need not copy megabytes of them.
impl Clone for Traces {
    fn clone(&self) -> Self {
        Traces::default()
    }
}

impl Traces {
    /// A head for `phys`: its offset in the page mixed with the page's
    /// number, so that code at the same offset of two pages (a loop in
    /// each of two copies of a program) need not share one.
    #[inline]
    fn index(phys: u32) -> usize {
        ((phys ^ (phys >> 12).wrapping_mul(0x9E5)) as usize) & (HEADS - 1)
    }

    /// The trace starting at `phys`, decoded with `code32`, whose page
    /// still has `stamp`.
    #[inline]
    pub fn get(&self, phys: u32, code32: bool, stamp: u64) -> Option<Trace<'_>> {
        let h = self.heads.get(Self::index(phys))?;
        if h.phys != phys || h.stamp != stamp || h.code32 != code32 {
            return None;
        }
        let first = h.first as usize;
        let ops = self.arena.get(first..first + usize::from(h.count))?;
        Some(Trace {
            ops,
            span: u32::from(h.span),
        })
    }

    /// True when [`Traces::get`] finds the trace.
    #[inline]
    pub fn has(&self, phys: u32, code32: bool, stamp: u64) -> bool {
        self.heads
            .get(Self::index(phys))
            .is_some_and(|h| h.phys == phys && h.stamp == stamp && h.code32 == code32)
    }

    /// Starts a trace: makes room for [`MAX_OPS`] instructions (dropping
    /// every trace when the arena is full) and returns where the trace's
    /// first instruction goes, for [`Traces::push`] and [`Traces::finish`].
    pub fn start(&mut self) -> usize {
        if self.heads.is_empty() {
            self.heads = vec![EMPTY; HEADS];
            self.arena.reserve_exact(ARENA);
        }
        if self.arena.len() + MAX_OPS > ARENA {
            self.flush_keeping_memory();
        }
        self.arena.len()
    }

    /// Appends an instruction to the trace begun at `first`; false when
    /// it already holds [`MAX_OPS`].
    pub fn push(&mut self, first: usize, op: Op) -> bool {
        if self.arena.len() - first >= MAX_OPS {
            return false;
        }
        self.arena.push(op);
        true
    }

    /// Ends the trace begun at `first`, which starts at `phys` and was
    /// built from slots of `stamp`: it becomes the one found for them,
    /// unless it is empty.
    pub fn finish(&mut self, first: usize, phys: u32, code32: bool, stamp: u64) {
        let Some(ops) = self.arena.get(first..).filter(|ops| !ops.is_empty()) else {
            return;
        };
        // (At most 64 instructions of at most 15 bytes.)
        let span: u32 = ops.iter().map(|op| u32::from(op.insn.len)).sum();
        let count = ops.len();
        self.heads[Self::index(phys)] = Head {
            stamp,
            phys,
            code32,
            first: first as u32,
            count: count as u16,
            span: span as u16,
        };
    }

    /// Drops every trace, keeping the allocations.
    fn flush_keeping_memory(&mut self) {
        self.heads.fill(EMPTY);
        self.arena.clear();
    }

    /// Drops every trace and the memory they took.
    pub fn flush(&mut self) {
        *self = Traces::default();
    }
}
