//! The decoded-instruction cache: a direct-mapped table from the physical
//! address of an instruction's first byte (and the code size it was decoded
//! for) to its decoded [`Insn`], so that code already seen skips fetch and
//! decode. Each entry keeps the content stamp the [`Bus`](super::Bus) gave
//! its page when it was filled; the bus changes a page's stamp on any write
//! to it, so an entry is used only while its page is unchanged. Only
//! instructions lying within one page are cached. This module holds no
//! policy about segments or paging: `cpu/fetch.rs` decides what may be
//! looked up and filled.

use super::exec::Form;
use super::traces::Traces;
use crate::x86::{self, Insn};

/// Number of entries (a power of two).
const BITS: u32 = 13;
const SIZE: usize = 1 << BITS;

/// One cached decode: one 64-byte cache line (see the size test below).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    /// The page's content stamp at fill time (0: empty; stamps start at 1).
    stamp: u64,
    /// Physical address of the first byte (as the CPU addresses it).
    phys: u32,
    /// Decoded with 32-bit default operand and address size.
    code32: bool,
    /// The interpreter's fast form of `insn` (see `exec/fast.rs`).
    form: Form,
    insn: Insn,
}

/// The cache itself.
#[derive(Clone)]
pub(crate) struct ICache {
    slots: Vec<Slot>,
    /// Off: every step fetches and decodes (the reference behaviour the
    /// cache is checked against).
    pub enabled: bool,
    /// The cached fast forms as straight lines (`traces.rs`), built from
    /// the slots and dropped with them.
    pub traces: Traces,
}

impl std::fmt::Debug for ICache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let used = self.slots.iter().filter(|s| s.stamp != 0).count();
        write!(
            f,
            "ICache({used} of {SIZE} entries, enabled: {})",
            self.enabled
        )
    }
}

/// Enabled and empty; the table is allocated on the first insert, so a
/// CPU that never runs code from RAM (or has the cache off) pays nothing.
impl Default for ICache {
    fn default() -> Self {
        ICache {
            slots: Vec::new(),
            enabled: true,
            traces: Traces::default(),
        }
    }
}

impl ICache {
    fn empty() -> Slot {
        // A one-byte NOP as filler; stamp 0 never matches.
        let insn = match x86::decode(&[0x90], false) {
            Ok(i) => i,
            Err(_) => unreachable!("NOP decodes"),
        };
        Slot {
            phys: 0,
            code32: false,
            stamp: 0,
            form: Form::GENERAL,
            insn,
        }
    }

    #[inline]
    fn index(phys: u32) -> usize {
        (phys as usize) & (SIZE - 1)
    }

    /// The instruction cached for `phys` decoded with `code32`, and its
    /// fast form, provided its page still has `stamp`.
    #[inline]
    pub fn get(&self, phys: u32, code32: bool, stamp: u64) -> Option<(&Insn, Form)> {
        let s = self.slots.get(Self::index(phys))?;
        (s.phys == phys && s.stamp == stamp && s.code32 == code32).then_some((&s.insn, s.form))
    }

    /// Caches `insn` and its fast form, decoded from `phys` with `code32`
    /// while its page had `stamp`.
    pub fn insert(&mut self, phys: u32, code32: bool, stamp: u64, insn: &Insn, form: Form) {
        if self.slots.is_empty() {
            self.slots = vec![Self::empty(); SIZE];
        }
        if let Some(s) = self.slots.get_mut(Self::index(phys)) {
            *s = Slot {
                phys,
                code32,
                stamp,
                form,
                insn: *insn,
            };
        }
    }

    /// Drops every entry.
    pub fn flush(&mut self) {
        self.slots = Vec::new();
        self.traces.flush();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_slot_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<super::Slot>(), 64);
    }
}
