//! Code-page tracking: which parts of which RAM pages hold instructions
//! that an executor has cached in decoded form, and a stamp naming the
//! current contents of each page. `GuestMemory` calls
//! [`CodePages::written`] on every write path (CPU writes of any width,
//! loader and control-API writes), so a write over cached code gives its
//! page a new stamp before the next instruction runs; an executor keeps the
//! stamp beside each cached instruction and trusts the entry only while the
//! page still has that stamp. Marks are kept per 64-byte chunk (one `u64`
//! a page), so data written next to code (a stack or variables below the
//! code on the same page) does not discard the page's decodes. This module
//! knows nothing of instructions or of the CPU.
//!
//! Stamps are unique across every `GuestMemory` of the process (they come
//! from one atomic counter), so an entry can never match a page of another
//! memory, a replaced RAM, or an older version of the same page.

use std::sync::atomic::{AtomicU64, Ordering};

/// Page size of the tracking (the paging unit's small page).
pub const PAGE_SHIFT: u32 = 12;

/// The next unused stamp, shared by every memory of the process.
static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

/// Reserves `n` consecutive fresh stamps and returns the first.
fn fresh_stamps(n: u64) -> u64 {
    NEXT_STAMP.fetch_add(n, Ordering::Relaxed)
}

/// Log2 of the marking granularity within a page.
const CHUNK_SHIFT: u32 = 6;

/// The chunk bits of bytes `first..=last` of one page (offsets within it).
#[inline]
fn chunk_mask(first: u64, last: u64) -> u64 {
    let lo = (first & 0xFFF) >> CHUNK_SHIFT;
    let hi = (last & 0xFFF) >> CHUNK_SHIFT;
    (!0u64 << lo) & (!0u64 >> (63 - hi))
}

/// Per-page marks and stamps for `pages` pages starting at address 0.
#[derive(Debug)]
pub struct CodePages {
    /// Per page, one bit per 64-byte chunk holding cached code.
    marked: Vec<u64>,
    /// The current stamp of each page.
    stamps: Vec<u64>,
    /// Counts the times a page went from unmarked to marked (and whole
    /// renewals): a JIT's direct pointers for writing lapse then.
    marked_epoch: u64,
}

impl CodePages {
    /// Tracking for `pages` pages, none marked, every stamp fresh.
    pub fn new(pages: usize) -> CodePages {
        let mut c = CodePages {
            marked: vec![0; pages],
            stamps: vec![0; pages],
            marked_epoch: 0,
        };
        c.renew_all();
        c
    }

    /// Gives every page a fresh stamp and clears every mark (the contents
    /// of the whole space changed: cleared RAM, a ROM mapped or unmapped).
    pub fn renew_all(&mut self) {
        let base = fresh_stamps(self.stamps.len() as u64);
        for (i, s) in self.stamps.iter_mut().enumerate() {
            *s = base + i as u64;
        }
        self.marked.fill(0);
        self.marked_epoch += 1;
    }

    /// Changes whenever a page gains its first mark (see `marked_epoch`).
    pub fn marked_epoch(&self) -> u64 {
        self.marked_epoch
    }

    /// The stamp of the page holding `addr`, or `None` outside the tracked
    /// pages (such code must not be cached).
    #[inline]
    pub fn stamp(&self, addr: u64) -> Option<u64> {
        let page = usize::try_from(addr >> PAGE_SHIFT).ok()?;
        self.stamps.get(page).copied()
    }

    /// The address of the stamp of the page holding `addr`: stamps never
    /// move while this `CodePages` lives (the table is never resized), so
    /// a JIT may read the stamp through it in generated code.
    pub fn stamp_at(&self, addr: u64) -> Option<*const u64> {
        let page = usize::try_from(addr >> PAGE_SHIFT).ok()?;
        self.stamps.get(page).map(|s| s as *const u64)
    }

    /// True when some of the page holding `addr` is marked as cached code
    /// (or it lies outside the tracked pages).
    pub fn page_marked(&self, addr: u64) -> bool {
        usize::try_from(addr >> PAGE_SHIFT)
            .ok()
            .and_then(|p| self.marked.get(p))
            .is_none_or(|&w| w != 0)
    }

    /// Marks the `len` bytes at `addr` (within one page: the rest of the
    /// page when longer) as cached code and returns the page's stamp
    /// (`None` outside the tracked pages).
    pub fn mark(&mut self, addr: u64, len: u64) -> Option<u64> {
        let page = usize::try_from(addr >> PAGE_SHIFT).ok()?;
        let stamp = self.stamps.get(page).copied()?;
        let last = (addr + len.max(1) - 1).min(addr | 0xFFF);
        if let Some(w) = self.marked.get_mut(page) {
            if *w == 0 {
                self.marked_epoch += 1;
            }
            *w |= chunk_mask(addr, last);
        }
        Some(stamp)
    }

    /// Records a write of `len` (at least 1) bytes at `addr`: every page
    /// where it overlaps marked code gets a fresh stamp and loses its marks.
    #[inline]
    pub fn written(&mut self, addr: u64, len: u64) {
        let last = addr + len.max(1) - 1;
        if addr >> PAGE_SHIFT == last >> PAGE_SHIFT {
            self.written_page(addr >> PAGE_SHIFT, chunk_mask(addr, last));
        } else {
            for page in addr >> PAGE_SHIFT..=last >> PAGE_SHIFT {
                let first = (page << PAGE_SHIFT).max(addr);
                let end = ((page << PAGE_SHIFT) | 0xFFF).min(last);
                self.written_page(page, chunk_mask(first, end));
            }
        }
    }

    #[inline]
    fn written_page(&mut self, page: u64, mask: u64) {
        let Ok(page) = usize::try_from(page) else {
            return;
        };
        let Some(w) = self.marked.get_mut(page) else {
            return;
        };
        if *w & mask != 0 {
            *w = 0;
            if let Some(s) = self.stamps.get_mut(page) {
                *s = fresh_stamps(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CodePages;

    #[test]
    fn a_write_renews_only_marked_pages() {
        let mut c = CodePages::new(4);
        let s0 = c.stamp(0x10).unwrap();
        let s1 = c.stamp(0x1010).unwrap();
        assert_ne!(s0, s1);
        c.written(0x20, 4);
        assert_eq!(c.stamp(0).unwrap(), s0, "unmarked: the stamp stays");
        assert_eq!(c.mark(0xFF8, 8), Some(s0)); // the page's last chunk
        c.written(0xF00, 0xC0); // up to the marked chunk (0xFC0..), not into it
        assert_eq!(c.stamp(0).unwrap(), s0, "a write beside code");
        c.written(0xFFF, 2); // crosses into page 1, which is not marked
        let n0 = c.stamp(0).unwrap();
        assert_ne!(n0, s0);
        assert_eq!(c.stamp(0x1000).unwrap(), s1);
        c.written(0xFFF, 1);
        assert_eq!(c.stamp(0).unwrap(), n0, "the mark was cleared");
        // An instruction over two chunks: a write to either renews.
        assert_eq!(c.mark(0x13E, 4), Some(n0));
        c.written(0x140, 1);
        assert_ne!(c.stamp(0).unwrap(), n0);
        assert_eq!(c.stamp(0x4000), None);
        assert_eq!(c.mark(0x4000, 1), None);
        c.written(0x3FFF, 8); // runs past the end: no panic
        c.written(0, 0x4000); // a whole-range write
    }

    #[test]
    fn stamps_are_unique_across_memories() {
        let a = CodePages::new(2);
        let b = CodePages::new(2);
        assert_ne!(a.stamp(0), b.stamp(0));
    }
}
