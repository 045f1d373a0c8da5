//! The translation lookaside buffer: a direct-mapped cache of page
//! translations, keyed by the linear page number, with 4096 slots (16 MiB
//! of pages, so buffers a few MiB apart at round addresses do not take
//! each other's slot). Each entry keeps what the walk found (the physical
//! frame, the combined user and writable permissions of every level,
//! whether instructions may be fetched from it, whether the dirty bit is
//! already set, and whether the page is global). It holds no policy:
//! `paging.rs` decides when to fill, use and flush it.
//!
//! Beside each entry sits a host entry for the JIT (`HostEntry`): where the
//! page lies in host memory, with one tag for reads and one for writes. A
//! host entry lives and dies with its slot (every insert, invalidation and
//! flush drops it), so it can never outlive the translation it was made
//! from. Host entries are never serialised and never copied: a clone or a
//! restored TLB starts with none.

use serde::{Deserialize, Serialize};

/// Number of entries (a power of two).
pub(crate) const SIZE: usize = 4096;

/// The slot of linear page `page` (address >> 12): its low bits.
/// Generated code computes it too (`jit/emit.rs`), and relies on
/// consecutive pages, 0xFFFFF and 0 included, taking different slots: its
/// inline check finds an access that crosses a page by the last byte's
/// page not matching the first byte's slot.
fn slot_of(page: u32) -> usize {
    (page as usize) & (SIZE - 1)
}

/// The slots of `entries` that hold a translation.
fn in_use(entries: &[Entry]) -> Vec<u16> {
    (0..entries.len() as u16)
        .filter(|&i| entries[usize::from(i)].tag != 0)
        .collect()
}

/// One cached translation (`repr(C)`: the JIT's jump cache compares its
/// first ten bytes in generated code: tag, frame, `user` and `executable`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[repr(C)]
pub(crate) struct Entry {
    /// Linear page number + 1 (0 marks an empty slot).
    pub(crate) tag: u32,
    /// Physical address of the page frame, bits 0-31 (low 12 bits zero).
    pub frame: u32,
    /// User mode may access the page (U/S set in both levels).
    pub user: bool,
    /// Instruction fetches may use the translation as it is: no XD bit
    /// on the way (with EFER.NXE) and the frame below 4 GiB. A fetch from
    /// any other page takes the slow route, which walks the tables.
    pub executable: bool,
    /// Physical address of the page frame, bits 32-35 (PAE paging; above
    /// 4 GiB is open bus, see `wide_phys.rs`).
    pub frame_high: u8,
    /// The page is writable (R/W set in both levels).
    pub writable: bool,
    /// The dirty bit of the mapping entry is already set.
    pub dirty: bool,
    /// A global page (CR4.PGE and G): kept across CR3 loads.
    pub global: bool,
}

// Generated code reads `user` and `executable` as one 16-bit word at byte
// 8, after the tag and the frame (`Entry::fetch_access`), and the slots
// 16 bytes apart.
const _: () = assert!(
    std::mem::offset_of!(Entry, user) == 8
        && std::mem::offset_of!(Entry, executable) == 9
        && std::mem::size_of::<Entry>() == 16
);

impl Entry {
    /// The physical address of `lin`'s byte on this page.
    pub fn physical(&self, lin: u32) -> u64 {
        u64::from(self.frame_high) << 32 | u64::from(self.frame | (lin & 0xFFF))
    }

    /// The `user` and `executable` bytes as generated code reads them
    /// (one little-endian 16-bit word), for the JIT's jump cache.
    pub fn fetch_access(&self) -> u16 {
        u16::from(self.user) | u16::from(self.executable) << 8
    }
}

/// Where a linear page lies in host memory, for generated code (which
/// reads it directly, hence `repr(C)`): `tags[0]` for reads, `tags[1]` for
/// writes, each `page address | key` (see [`Tlb::host_key`]) or 0, and
/// `addend`, which added to a linear address on the page gives the host
/// address of that byte.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(crate) struct HostEntry {
    pub tags: [u32; 2],
    pub addend: usize,
}

/// Host-entry generations run 1..=HOST_GENS (11 bits beside the user bit).
const HOST_GENS: u32 = 0x7FF;

/// The cache itself. It is part of the CPU's state in a snapshot (a guest
/// may rely on a stale entry until it flushes it), serialised as the list
/// of entries in use.
#[derive(Debug, Serialize, Deserialize)]
#[serde(from = "Vec<Entry>", into = "Vec<Entry>")]
pub(crate) struct Tlb {
    entries: Vec<Entry>,
    /// The slots filled since the last flush (some perhaps emptied since,
    /// or listed twice), so that a flush visits those alone; past `SIZE`
    /// of them it visits every slot instead.
    filled: Vec<u16>,
    /// The JIT's host entries, slot for slot (see the module comment).
    host: Box<[HostEntry; SIZE]>,
    /// The current host-entry generation: entries of older ones never match.
    host_gen: u32,
}

impl Default for Tlb {
    fn default() -> Self {
        Tlb::with_entries(vec![Entry::default(); SIZE])
    }
}

/// A copy has the same translations and no host entries.
impl Clone for Tlb {
    fn clone(&self) -> Self {
        Tlb::with_entries(self.entries.clone())
    }
}

/// Each saved entry goes back to its page's slot, so a state saved by a
/// build whose table had another size restores too (an entry that meets
/// another in one slot is dropped, as a TLB may drop any entry).
impl From<Vec<Entry>> for Tlb {
    fn from(saved: Vec<Entry>) -> Tlb {
        let mut entries = vec![Entry::default(); SIZE];
        for e in saved.into_iter().filter(|e| e.tag != 0) {
            entries[slot_of(e.tag.wrapping_sub(1))] = e;
        }
        Tlb::with_entries(entries)
    }
}

/// Saved as the entries in use, in slot order.
impl From<Tlb> for Vec<Entry> {
    fn from(tlb: Tlb) -> Vec<Entry> {
        tlb.entries.into_iter().filter(|e| e.tag != 0).collect()
    }
}

impl Tlb {
    fn with_entries(entries: Vec<Entry>) -> Tlb {
        Tlb {
            filled: in_use(&entries),
            entries,
            host: Box::new([HostEntry::default(); SIZE]),
            host_gen: 1,
        }
    }

    /// The entries, slot by slot (for the JIT's jump cache, which reads
    /// the slot of a linear page in generated code; the table never
    /// moves while this `Tlb` lives).
    pub fn entries_ptr(&self) -> *const Entry {
        self.entries.as_ptr()
    }

    /// The entry in the slot of linear page `page`, whatever it holds.
    pub fn slot_entry(&self, page: u32) -> Option<Entry> {
        self.entries.get(slot_of(page)).copied()
    }

    /// Byte offset of the host table's pointer within a `Tlb` (generated
    /// code loads it; a `Box` of a sized type is one plain pointer).
    pub fn host_table_offset() -> usize {
        std::mem::offset_of!(Tlb, host)
    }

    /// The low 12 bits of a host tag valid now, for user (`user`) or
    /// supervisor accesses: the generation and the privilege.
    pub fn host_key(&self, user: bool) -> u32 {
        self.host_gen << 1 | u32::from(user)
    }

    /// Drops every host entry (in O(1): a new generation).
    pub fn host_forget(&mut self) {
        self.host_gen += 1;
        if self.host_gen > HOST_GENS {
            self.host.fill(HostEntry::default());
            self.host_gen = 1;
        }
    }

    /// Records that linear address `lin`'s page, accessed under `key`, is
    /// at host address `page_ptr` for reads or (`write`) writes. With
    /// paging on, the caller has just found the page's translation in this
    /// slot, so the host entry dies with it.
    pub fn host_fill(&mut self, lin: u32, write: bool, key: u32, page_ptr: *mut u8) {
        let page = lin & !0xFFF;
        let tag = page | key;
        let e = &mut self.host[slot_of(lin >> 12)];
        let other = &mut e.tags[usize::from(!write)];
        if *other != tag {
            // The other kind's tag is for another page (or stale): the
            // addend is about to change under it.
            *other = 0;
        }
        e.tags[usize::from(write)] = tag;
        e.addend = (page_ptr as usize).wrapping_sub(page as usize);
    }

    /// The host address of the `bytes` at linear `lin` for a read or
    /// (`write`) a write under `key`, when a host entry for its page holds
    /// them all.
    #[inline(always)]
    pub fn host_addr(&self, lin: u32, write: bool, key: u32, bytes: u32) -> Option<*mut u8> {
        if (lin & 0xFFF) + bytes > 0x1000 {
            return None;
        }
        let e = &self.host[slot_of(lin >> 12)];
        (e.tags[usize::from(write)] == (lin & !0xFFF) | key)
            .then(|| e.addend.wrapping_add(lin as usize) as *mut u8)
    }

    /// The cached translation of linear page `page` (address >> 12).
    pub fn get(&self, page: u32) -> Option<&Entry> {
        let e = self.entries.get(slot_of(page))?;
        (e.tag == page.wrapping_add(1)).then_some(e)
    }

    /// Caches a translation of linear page `page`.
    pub fn insert(&mut self, page: u32, mut e: Entry) {
        e.tag = page.wrapping_add(1);
        if let Some(slot) = self.entries.get_mut(slot_of(page)) {
            if slot.tag == 0 && self.filled.len() <= SIZE {
                self.filled.push(slot_of(page) as u16);
            }
            *slot = e;
        }
        self.host[slot_of(page)] = HostEntry::default();
    }

    /// Drops the translation of one page (INVLPG), global or not.
    pub fn invalidate(&mut self, page: u32) {
        if let Some(slot) = self.entries.get_mut(slot_of(page)) {
            if slot.tag == page.wrapping_add(1) {
                *slot = Entry::default();
            }
        }
        self.host[slot_of(page)] = HostEntry::default();
    }

    /// Drops every translation; with `keep_global`, global pages stay (a
    /// CR3 load with CR4.PGE set).
    pub fn flush(&mut self, keep_global: bool) {
        let clear = |e: &mut Entry| {
            let keep = keep_global && e.global && e.tag != 0;
            if !keep {
                *e = Entry::default();
            }
            keep
        };
        if self.filled.len() > SIZE {
            for e in &mut self.entries {
                clear(e);
            }
            self.filled = in_use(&self.entries);
        } else {
            let entries = &mut self.entries;
            self.filled.retain(|&i| clear(&mut entries[usize::from(i)]));
        }
        self.host_forget();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_pages_never_share_a_slot() {
        // The JIT's page-crossing check depends on it, the wrap from page
        // 0xFFFFF to page 0 included.
        for page in 0..=0xF_FFFFu32 {
            let next = (page + 1) & 0xF_FFFF;
            assert_ne!(slot_of(page), slot_of(next), "pages {page:#x}, {next:#x}");
        }
    }

    fn entry(global: bool) -> Entry {
        Entry {
            frame: 0x5000,
            global,
            ..Entry::default()
        }
    }

    #[test]
    fn a_flush_drops_what_it_must_however_the_slots_were_filled() {
        // Past SIZE refills between flushes, the flush scans every slot.
        for refills in [3u32, SIZE as u32 + 10] {
            let mut tlb = Tlb::default();
            for k in 0..refills {
                tlb.insert(7, entry(false));
                tlb.invalidate(7);
                tlb.insert(0x100 + k % 64, entry(false));
            }
            tlb.insert(1, entry(true));
            tlb.insert(2, entry(false));
            tlb.flush(true);
            assert!(tlb.get(1).is_some(), "the global page stays");
            assert!(tlb.get(2).is_none() && tlb.get(0x100).is_none());
            assert!(tlb.entries.iter().all(|e| e.tag == 0 || e.global));
            tlb.insert(3, entry(false));
            tlb.flush(false);
            assert!(tlb.entries.iter().all(|e| e.tag == 0), "{refills}");
        }
    }

    #[test]
    fn a_table_of_another_size_restores_by_page() {
        let mut old = vec![Entry::default(); 1024];
        old[5] = Entry {
            tag: 0x1005 + 1,
            frame: 0x1234_5000,
            ..Entry::default()
        };
        let tlb = Tlb::from(old);
        assert_eq!(tlb.get(0x1005).map(|e| e.frame), Some(0x1234_5000));
        assert_eq!(tlb.get(0x5), None);
        assert_eq!(Vec::<Entry>::from(tlb).len(), 1);
    }
}
