//! The translation lookaside buffer: a direct-mapped cache of page
//! translations, keyed by the linear page number. Each entry keeps what
//! the walk found (the physical frame, the combined user and writable
//! permissions of both levels, whether the dirty bit is already set, and
//! whether the page is global). It holds no policy: `paging.rs` decides
//! when to fill, use and flush it.

use serde::{Deserialize, Serialize};

/// Number of entries (a power of two).
const SIZE: usize = 1024;

/// One cached translation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Linear page number + 1 (0 marks an empty slot).
    pub(crate) tag: u32,
    /// Physical address of the page frame (low 12 bits zero).
    pub frame: u32,
    /// User mode may access the page (U/S set in both levels).
    pub user: bool,
    /// The page is writable (R/W set in both levels).
    pub writable: bool,
    /// The dirty bit of the mapping entry is already set.
    pub dirty: bool,
    /// A global page (CR4.PGE and G): kept across CR3 loads.
    pub global: bool,
}

/// The cache itself. It is part of the CPU's state in a snapshot (a guest
/// may rely on a stale entry until it flushes it), serialised as its list
/// of entries, which must have the table's size.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "Vec<Entry>", into = "Vec<Entry>")]
pub(crate) struct Tlb {
    entries: Vec<Entry>,
}

impl Default for Tlb {
    fn default() -> Self {
        Tlb {
            entries: vec![Entry::default(); SIZE],
        }
    }
}

impl TryFrom<Vec<Entry>> for Tlb {
    type Error = String;
    fn try_from(entries: Vec<Entry>) -> Result<Tlb, String> {
        if entries.len() != SIZE {
            return Err(format!(
                "a TLB of {} entries (this build has {SIZE})",
                entries.len()
            ));
        }
        Ok(Tlb { entries })
    }
}

impl From<Tlb> for Vec<Entry> {
    fn from(tlb: Tlb) -> Vec<Entry> {
        tlb.entries
    }
}

impl Tlb {
    fn slot(page: u32) -> usize {
        (page as usize) & (SIZE - 1)
    }

    /// The cached translation of linear page `page` (address >> 12).
    pub fn get(&self, page: u32) -> Option<&Entry> {
        let e = self.entries.get(Self::slot(page))?;
        (e.tag == page.wrapping_add(1)).then_some(e)
    }

    /// Caches a translation of linear page `page`.
    pub fn insert(&mut self, page: u32, mut e: Entry) {
        e.tag = page.wrapping_add(1);
        if let Some(slot) = self.entries.get_mut(Self::slot(page)) {
            *slot = e;
        }
    }

    /// Drops the translation of one page (INVLPG), global or not.
    pub fn invalidate(&mut self, page: u32) {
        if let Some(slot) = self.entries.get_mut(Self::slot(page)) {
            if slot.tag == page.wrapping_add(1) {
                *slot = Entry::default();
            }
        }
    }

    /// Drops every translation; with `keep_global`, global pages stay (a
    /// CR3 load with CR4.PGE set).
    pub fn flush(&mut self, keep_global: bool) {
        for e in &mut self.entries {
            if !(keep_global && e.global) {
                *e = Entry::default();
            }
        }
    }
}
