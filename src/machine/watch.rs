//! Watches: the raw conditions the run loop checks on behalf of hooks, and
//! the events it reports when one is met. `machine/` knows nothing of
//! callbacks or Lua, and of a hook's filters only the [`AccessFilter`] (an
//! access's size and value), which the board applies so that an access no
//! filter accepts makes no event: `control/hooks.rs` compiles its hook
//! table into a [`WatchSet`] and turns the [`EventRecord`]s back into hook
//! fires.
//!
//! Costs: with no watch set the run loop is the plain one. With any watch
//! set it checks execute watches before every instruction the interpreter
//! runs and every translated block (a compare with the last page found
//! free of linear execute watches; on another page a page bitmap lookup,
//! then the ranges on a marked page); blocks end before watched
//! instructions (`Bus::exec_watched`). The board checks memory reads
//! against the hull of the read watches, and writes against that of the
//! write watches (one compare), before looking at the ranges themselves,
//! and only pages holding a byte watched for reads (writes) lose
//! generated code's direct path for reads (writes); there its helper
//! makes an access to plain RAM that no filter accepts itself, and leaves
//! the others to the interpreter. `benches/phase_times.py --hooks`
//! measures what idle hooks cost the JIT (see docs/performance.md).

use crate::cpu::{CpuMode, InterruptSource};

/// Everything the hooks want the run loop to watch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchSet {
    /// Execute watches on linear addresses (CS base + EIP), `start..end`.
    pub exec_linear: Vec<(u64, u64)>,
    /// Execute watches on physical addresses of the instruction's first byte.
    pub exec_physical: Vec<(u64, u64)>,
    /// Physical memory ranges whose CPU reads are reported.
    pub mem_read: Vec<MemRange>,
    /// Physical memory ranges whose CPU writes are reported.
    pub mem_write: Vec<MemRange>,
    /// I/O port ranges whose accesses are reported.
    pub io: Vec<PortRange>,
    /// Report every interrupt and exception the CPU delivers.
    pub interrupts: bool,
    /// Report changes of the CPU mode (real, protected, V86, paging).
    pub mode: bool,
    /// Report serial output as it leaves the UARTs.
    pub serial: bool,
    /// Report the guest's disk transfers (sectors read or written by a
    /// drive's controller).
    pub disk: bool,
    /// Track writes to the VGA text buffer (see `Machine::take_screen_dirty`).
    pub screen: bool,
}

impl WatchSet {
    /// True when a watch looks at single instructions, so the run loop
    /// must take its checked path. Serial, disk and screen watches do not:
    /// serial and disk events come from the device poll and screen writes
    /// only set a flag, all on the plain path.
    pub fn needs_checked_loop(&self) -> bool {
        !(self.exec_linear.is_empty()
            && self.exec_physical.is_empty()
            && self.mem_read.is_empty()
            && self.mem_write.is_empty()
            && self.io.is_empty()
            && !self.interrupts
            && !self.mode)
    }
}

/// Which accesses to a watched range are reported, by their size and the
/// value they moved (for a write, the value memory holds after it). The
/// board checks it, so an access it refuses never leaves the run loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessFilter {
    /// Only accesses of this many bytes.
    pub size: Option<u8>,
    /// With `value`: only accesses whose value agrees with it in the bits
    /// of `mask`.
    pub mask: u32,
    pub value: Option<u32>,
}

impl AccessFilter {
    /// Every access.
    pub const ANY: AccessFilter = AccessFilter {
        size: None,
        mask: u32::MAX,
        value: None,
    };

    /// True when an access of `size` bytes moving `value` is reported.
    #[inline]
    pub fn accepts(&self, size: u8, value: u32) -> bool {
        self.size.is_none_or(|s| s == size)
            && self.value.is_none_or(|v| (value ^ v) & self.mask == 0)
    }
}

impl Default for AccessFilter {
    fn default() -> AccessFilter {
        AccessFilter::ANY
    }
}

/// A watched range of physical memory, `start..end`, and which accesses to
/// it count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRange {
    pub start: u64,
    pub end: u64,
    pub only: AccessFilter,
}

impl MemRange {
    /// Every access to `start..end`.
    pub fn all(start: u64, end: u64) -> MemRange {
        MemRange {
            start,
            end,
            only: AccessFilter::ANY,
        }
    }

    /// True when `size` bytes at `addr` overlap the range (an access of
    /// no size counts as one byte).
    #[inline]
    pub(super) fn overlaps(&self, addr: u32, size: u8) -> bool {
        let a = u64::from(addr);
        a < self.end && self.start < a + u64::from(size.max(1))
    }

    /// True when an access of `size` bytes at `addr` that moved `value`
    /// overlaps the range and its filter accepts it.
    #[inline]
    pub fn reports(&self, addr: u32, size: u8, value: u32) -> bool {
        self.overlaps(addr, size) && self.only.accepts(size, value)
    }
}

/// A watched range of I/O ports, `first..=last`, the directions watched and
/// which accesses count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
    /// IN instructions are reported.
    pub ins: bool,
    /// OUT instructions are reported.
    pub outs: bool,
    pub only: AccessFilter,
}

impl PortRange {
    /// Every access to `first..=last`, either way.
    pub fn all(first: u16, last: u16) -> PortRange {
        PortRange {
            first,
            last,
            ins: true,
            outs: true,
            only: AccessFilter::ANY,
        }
    }

    /// True when an access (an OUT when `out`) of `size` bytes moving
    /// `value` through `port` is reported.
    #[inline]
    pub fn reports(&self, out: bool, port: u16, size: u8, value: u32) -> bool {
        (if out { self.outs } else { self.ins })
            && self.first <= port
            && port <= self.last
            && self.only.accepts(size, value)
    }
}

/// The CPU's operating mode as mode-change watches see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeBits {
    pub mode: CpuMode,
    pub paging: bool,
}

/// One thing a watch saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The instruction at `linear` (physical `physical`) is about to run.
    Exec { linear: u32, physical: Option<u32> },
    /// A CPU read of `size` bytes at physical `addr` returned `value`.
    Read { addr: u32, size: u8, value: u32 },
    /// A CPU write of `size` bytes at physical `addr` replaced `old` with `new`.
    Write {
        addr: u32,
        size: u8,
        old: u32,
        new: u32,
    },
    /// An IN (`out` false) or OUT of `size` bytes at `port` moved `value`.
    Io {
        out: bool,
        port: u16,
        size: u8,
        value: u32,
    },
    /// The CPU delivered interrupt `vector` and is at its handler's entry.
    Interrupt {
        vector: u8,
        error: Option<u16>,
        source: InterruptSource,
    },
    /// The CPU mode changed.
    ModeChange { from: ModeBits, to: ModeBits },
    /// The guest wrote `bytes` to serial port `port` (0 is COM1).
    Serial { port: usize, bytes: Vec<u8> },
    /// A drive's controller read (or wrote) `count` sectors from `lba` of
    /// its media for the guest; `data` is what the sectors hold after it.
    Disk {
        drive: super::DriveId,
        lba: u64,
        count: u64,
        write: bool,
        data: Vec<u8>,
    },
}

/// An event with where and when it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub event: Event,
    /// Instructions retired (since power-on or reset) when the event is
    /// reported: before the instruction for an execute event, after it for
    /// the others; what `Machine::icount` reads when the hook runs.
    pub icount: u64,
    /// CS selector and EIP of the instruction that caused the event (for an
    /// execute event, the instruction about to run; for an interrupt, the
    /// handler's first instruction).
    pub cs: u16,
    pub eip: u32,
}

/// A set of address ranges with a page bitmap in front, so a miss costs a
/// bit test.
#[derive(Clone, Debug, Default)]
pub(super) struct AddrSet {
    /// One bit per 4 KiB page of the 4 GiB space (empty when no ranges).
    pages: Vec<u64>,
    ranges: Vec<(u64, u64)>,
}

impl AddrSet {
    pub(super) fn new(ranges: &[(u64, u64)]) -> AddrSet {
        if ranges.is_empty() {
            return AddrSet::default();
        }
        let mut pages = vec![0u64; (1 << 20) / 64];
        for &(start, end) in ranges {
            let end = end.min(1 << 32);
            if start >= end {
                continue;
            }
            for page in start >> 12..=(end - 1) >> 12 {
                pages[(page / 64) as usize] |= 1 << (page % 64);
            }
        }
        AddrSet {
            pages,
            ranges: ranges.to_vec(),
        }
    }

    /// The ranges, as given.
    pub(super) fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// True when a range touches the 4 KiB page holding `addr`.
    #[inline]
    pub(super) fn page_marked(&self, addr: u32) -> bool {
        let page = (addr >> 12) as usize;
        self.pages
            .get(page / 64)
            .is_some_and(|word| word >> (page % 64) & 1 != 0)
    }

    #[inline]
    pub(super) fn contains(&self, addr: u32) -> bool {
        if !self.page_marked(addr) {
            return false;
        }
        let a = u64::from(addr);
        self.ranges.iter().any(|&(s, e)| s <= a && a < e)
    }
}

/// The memory side of a watch set, kept by the board: the read watches and
/// the write watches (with the screen, when tracked) each have their own
/// [`WatchedSide`], so a watch of one kind costs nothing to accesses of the
/// other, which keep generated code's direct path on its page.
#[derive(Clone, Debug, Default)]
pub(super) struct MemWatch {
    pub(super) reads: WatchedSide,
    pub(super) writes: WatchedSide,
    pub(super) read: Vec<MemRange>,
    pub(super) write: Vec<MemRange>,
    /// The VGA text buffer, when screen writes are tracked.
    pub(super) screen: Option<MemRange>,
}

/// Where accesses of one kind (reads or writes) may touch a watched byte.
#[derive(Clone, Debug, Default)]
pub(super) struct WatchedSide {
    /// Hull of the watched bytes, widened 3 bytes down so an access that
    /// starts below a range and reaches into it is caught: an access at
    /// `a` is looked at when `a - lo < span` (wrapping).
    lo: u32,
    span: u32,
    /// The pages holding a watched byte: the others keep generated code's
    /// direct path to RAM (`Bus::host_page`), however wide the hull.
    pub(super) pages: AddrSet,
}

impl WatchedSide {
    fn new(ranges: &[(u64, u64)]) -> WatchedSide {
        let lo = ranges.iter().map(|r| r.0).min();
        let hi = ranges.iter().map(|r| r.1).max();
        let (lo, span) = match lo.zip(hi) {
            Some((lo, hi)) if hi > lo => {
                let lo = lo.saturating_sub(3).min(u64::from(u32::MAX));
                (
                    lo as u32,
                    (hi.min(1 << 32) - lo).min(u64::from(u32::MAX)) as u32,
                )
            }
            _ => (0, 0),
        };
        WatchedSide {
            lo,
            span,
            pages: AddrSet::new(ranges),
        }
    }

    /// True when an access at `addr` may touch a watched range.
    #[inline(always)]
    pub(super) fn near(&self, addr: u32) -> bool {
        addr.wrapping_sub(self.lo) < self.span
    }
}

impl MemWatch {
    pub(super) fn new(set: &WatchSet, screen: (u64, u64)) -> MemWatch {
        let screen = set.screen.then(|| MemRange::all(screen.0, screen.1));
        let spans = |ranges: &[MemRange]| -> Vec<(u64, u64)> {
            ranges.iter().map(|r| (r.start, r.end)).collect()
        };
        let written = spans(&[&set.mem_write[..], screen.as_slice()].concat());
        MemWatch {
            reads: WatchedSide::new(&spans(&set.mem_read)),
            writes: WatchedSide::new(&written),
            read: set.mem_read.clone(),
            write: set.mem_write.clone(),
            screen,
        }
    }

    /// The side of accesses that write (`write`) or read.
    #[inline(always)]
    pub(super) fn side(&self, write: bool) -> &WatchedSide {
        if write {
            &self.writes
        } else {
            &self.reads
        }
    }
}

/// True when `size` bytes at `addr` overlap one of `ranges`.
pub(super) fn overlaps(ranges: &[MemRange], addr: u32, size: u8) -> bool {
    ranges.iter().any(|r| r.overlaps(addr, size))
}

/// True when an access of `size` bytes at `addr` that moved `value` is
/// reported by one of `ranges`.
pub(super) fn reported(ranges: &[MemRange], addr: u32, size: u8, value: u32) -> bool {
    ranges.iter().any(|r| r.reports(addr, size, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addr_set_checks_pages_then_ranges() {
        let s = AddrSet::new(&[(0x1010, 0x1012), (0xFFFF_F000, 1 << 32)]);
        assert!(!s.contains(0x100F));
        assert!(s.contains(0x1010));
        assert!(s.contains(0x1011));
        assert!(!s.contains(0x1012));
        assert!(!s.contains(0x5000));
        assert!(s.contains(0xFFFF_FFFF));
        assert!(s.page_marked(0x1000) && s.page_marked(0x1FFF));
        assert!(!s.page_marked(0x0FFF) && !s.page_marked(0x2000));
        assert!(AddrSet::new(&[]).is_empty());
        assert!(!AddrSet::new(&[]).page_marked(0));
    }

    #[test]
    fn mem_watch_hull_catches_accesses_reaching_in() {
        let set = WatchSet {
            mem_write: vec![MemRange::all(0x2000, 0x2004)],
            ..WatchSet::default()
        };
        let w = MemWatch::new(&set, (0xB8000, 0xC0000));
        assert!(w.writes.near(0x1FFD));
        assert!(!w.writes.near(0x1FFC));
        assert!(w.writes.near(0x2003));
        assert!(!w.writes.near(0x2004));
        assert!(overlaps(&w.write, 0x1FFD, 4));
        assert!(!overlaps(&w.write, 0x1FFC, 4));
        assert!(!w.reads.near(0x2000), "a write watch is not near reads");
        let none = MemWatch::new(&WatchSet::default(), (0xB8000, 0xC0000));
        for side in [&none.reads, &none.writes] {
            assert!(!side.near(0) && !side.near(u32::MAX));
        }
    }

    #[test]
    fn mem_watch_pages_are_those_holding_a_watched_byte_of_each_kind() {
        // Watches far apart: the hull spans the pages between, which keep
        // their direct path (`Bus::host_page`); the screen counts when
        // tracked, as a write watch; each kind marks only its own pages.
        let set = WatchSet {
            mem_read: vec![MemRange::all(0x1FFF, 0x2001)],
            mem_write: vec![MemRange::all(0x80_0000, 0x80_0004)],
            screen: true,
            ..WatchSet::default()
        };
        let w = MemWatch::new(&set, (0xB8000, 0xB9000));
        assert!(w.writes.near(0x40_0000), "inside the hull");
        for page in [0x1000, 0x2000] {
            assert!(w.reads.pages.page_marked(page), "{page:#x}");
            assert!(!w.writes.pages.page_marked(page), "{page:#x}");
        }
        for page in [0xB8000, 0x80_0000] {
            assert!(w.writes.pages.page_marked(page), "{page:#x}");
            assert!(!w.reads.pages.page_marked(page), "{page:#x}");
        }
        for page in [0x0, 0x3000, 0xB7000, 0xB9000, 0x40_0000, 0x80_1000] {
            assert!(!w.reads.pages.page_marked(page), "{page:#x}");
            assert!(!w.writes.pages.page_marked(page), "{page:#x}");
        }
    }

    #[test]
    fn filters_pick_accesses_by_size_and_value() {
        let only = AccessFilter {
            size: Some(2),
            mask: 0xFF00,
            value: Some(0x1234),
        };
        assert!(only.accepts(2, 0x12FF));
        assert!(!only.accepts(2, 0x13FF), "a bit under the mask differs");
        assert!(!only.accepts(4, 0x1234), "another size");
        assert!(AccessFilter::ANY.accepts(1, 0xAB));
        let ranges = [
            MemRange::all(0x100, 0x104),
            MemRange {
                start: 0x200,
                end: 0x204,
                only,
            },
        ];
        assert!(reported(&ranges, 0x102, 1, 0));
        assert!(reported(&ranges, 0x1FF, 2, 0x1200), "reaches in from below");
        assert!(!reported(&ranges, 0x200, 2, 0x5500));
        assert!(
            overlaps(&ranges, 0x200, 2),
            "overlaps, refused by its filter"
        );
        let port = PortRange {
            ins: false,
            ..PortRange::all(0x3F8, 0x3FF)
        };
        assert!(port.reports(true, 0x3F8, 1, 0x41));
        assert!(!port.reports(false, 0x3F8, 1, 0x41), "an IN, OUTs only");
        assert!(!port.reports(true, 0x400, 1, 0x41));
    }
}
