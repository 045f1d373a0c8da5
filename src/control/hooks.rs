//! The hook table: every hook a front end registered (Lua now, the monitor
//! and the gdb stub later), with its kind, its filters, whether it is
//! enabled, and how often and how long it ran. The table compiles itself
//! into the machine's [`WatchSet`] whenever it changes, and turns the
//! machine's raw events into [`Fire`]s: one per hook whose kind and filters
//! match, in event order and, for one event, in registration order. The
//! callbacks themselves live in the front end, keyed by [`HookId`]; this
//! module never calls them.
//!
//! Serial and screen text hooks with a plain string are matched here. A
//! text hook with a pattern (a Lua pattern, which only the front end can
//! evaluate) produces a candidate fire carrying the text to search, and the
//! front end reports back through [`HookTable::text_result`].

use crate::cpu::SegReg;
use crate::machine::{Machine, MemRange, PortRange, WatchSet};
// What fires carry and filters hold, named here so front ends need
// nothing below control/.
pub use crate::cpu::{CpuMode, InterruptSource};
pub use crate::machine::{AccessFilter, Event, EventRecord, ModeBits};
use std::time::Duration;

/// Names a hook for as long as it exists; never reused within a VM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HookId(pub u64);

/// Which I/O accesses an I/O hook sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoDir {
    In,
    Out,
    Both,
}

impl IoDir {
    /// The machine's watch of ports `first..=last` in this direction.
    fn ports(self, first: u16, last: u16, only: AccessFilter) -> PortRange {
        PortRange {
            first,
            last,
            ins: self != IoDir::Out,
            outs: self != IoDir::In,
            only,
        }
    }
}

/// What a hook watches. Address ranges are `start..end`, end exclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// An instruction whose first byte is in the range is about to run;
    /// linear (CS base + EIP) or physical addresses.
    Exec {
        start: u64,
        end: u64,
        physical: bool,
    },
    /// A CPU read touching the physical range.
    Read { start: u64, end: u64 },
    /// A CPU write touching the physical range; `pre` hooks see memory as
    /// it was before the write and may replace the value written.
    Write { start: u64, end: u64, pre: bool },
    /// An IN or OUT on a port in `first..=last`.
    Io { first: u16, last: u16, dir: IoDir },
    /// The CPU delivered this vector (any vector when `None`).
    Interrupt { vector: Option<u8> },
    /// The CPU mode changed (real, protected, V86, paging on or off).
    ModeChange,
    /// A drive's controller transferred sectors overlapping `first..=last`
    /// for the guest: of `drive` (any when `None`), reads (`In`), writes
    /// (`Out`) or both.
    Disk {
        drive: Option<crate::machine::DriveId>,
        first: u64,
        last: u64,
        dir: IoDir,
    },
    /// The guest wrote `text` to serial port `port` (0 is COM1).
    SerialText {
        port: usize,
        text: String,
        plain: bool,
    },
    /// `text` appeared on the screen (it was not there at the previous look).
    ScreenText { text: String, plain: bool },
    /// Virtual time reached `next_ns`; again every `period_ns` when set.
    Timer {
        next_ns: u64,
        period_ns: Option<u64>,
    },
}

impl HookKind {
    /// The short name scripts and the monitor show.
    pub fn name(&self) -> &'static str {
        match self {
            HookKind::Exec { .. } => "exec",
            HookKind::Read { .. } => "read",
            HookKind::Write { pre: false, .. } => "write",
            HookKind::Write { pre: true, .. } => "pre_write",
            HookKind::Io { .. } => "io",
            HookKind::Disk { .. } => "disk",
            HookKind::Interrupt { .. } => "interrupt",
            HookKind::ModeChange => "mode_change",
            HookKind::SerialText { .. } => "serial_text",
            HookKind::ScreenText { .. } => "screen_text",
            HookKind::Timer { .. } => "timer",
        }
    }

    /// What the hook watches, in words (for `info hooks` and errors).
    pub fn describe(&self) -> String {
        match self {
            HookKind::Exec {
                start,
                end,
                physical,
            } => format!(
                "exec {}{}",
                range_text(*start, *end),
                if *physical { " (physical)" } else { "" }
            ),
            HookKind::Read { start, end } => format!("read {}", range_text(*start, *end)),
            HookKind::Write { start, end, pre } => format!(
                "{} {}",
                if *pre { "pre_write" } else { "write" },
                range_text(*start, *end)
            ),
            HookKind::Io { first, last, dir } => {
                let d = match dir {
                    IoDir::In => " in",
                    IoDir::Out => " out",
                    IoDir::Both => "",
                };
                if first == last {
                    format!("io{d} port 0x{first:x}")
                } else {
                    format!("io{d} ports 0x{first:x}-0x{last:x}")
                }
            }
            HookKind::Disk {
                drive,
                first,
                last,
                dir,
            } => {
                let d = match dir {
                    IoDir::In => " read",
                    IoDir::Out => " write",
                    IoDir::Both => "",
                };
                let which = drive.map_or("any drive".to_string(), |d| d.to_string());
                if *first == 0 && *last == u64::MAX {
                    format!("disk{d} {which}")
                } else {
                    format!("disk{d} {which} sectors {first}-{last}")
                }
            }
            HookKind::Interrupt { vector: Some(v) } => format!("interrupt 0x{v:02x}"),
            HookKind::Interrupt { vector: None } => "interrupt (any)".into(),
            HookKind::ModeChange => "mode_change".into(),
            HookKind::SerialText { port, text, plain } => format!(
                "serial{} {} {text:?}",
                port + 1,
                if *plain { "text" } else { "pattern" }
            ),
            HookKind::ScreenText { text, plain } => {
                format!(
                    "screen {} {text:?}",
                    if *plain { "text" } else { "pattern" }
                )
            }
            HookKind::Timer {
                next_ns,
                period_ns: Some(p),
            } => format!("every {p} ns (next at {next_ns} ns)"),
            HookKind::Timer {
                next_ns,
                period_ns: None,
            } => format!("at {next_ns} ns"),
        }
    }
}

fn range_text(start: u64, end: u64) -> String {
    if end == start + 1 {
        format!("0x{start:x}")
    } else {
        format!("0x{start:x}..0x{end:x}")
    }
}

/// Conditions checked in Rust before a hook fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Memory and I/O hooks: only accesses of this size and value. The
    /// machine checks it too, so accesses it refuses cost no event.
    pub access: AccessFilter,
    /// Ignore the first `skip` matches.
    pub skip: u64,
    /// Then fire on every `every`-th match (1: each).
    pub every: u64,
    /// Fire at most `limit` times; the hook then disables itself.
    pub limit: Option<u64>,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter {
            access: AccessFilter::ANY,
            skip: 0,
            every: 1,
            limit: None,
        }
    }
}

/// What one fire tells the front end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FireEvent {
    /// A machine event (execute, memory, I/O, interrupt, mode change).
    Machine(EventRecord),
    /// Serial or screen text. `matched` is true when the text was matched
    /// here (`text` is the match); false for a pattern hook's candidate
    /// (`text` is what to search).
    Text {
        icount: u64,
        cs: u16,
        eip: u32,
        text: Vec<u8>,
        matched: bool,
    },
    /// A timer reached its time.
    Timer { icount: u64, now_ns: u64 },
}

/// One hook to call, with what it saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fire {
    pub hook: HookId,
    pub event: FireEvent,
}

/// A hook as the front ends see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookInfo {
    pub id: HookId,
    pub kind: HookKind,
    pub filter: Filter,
    pub enabled: bool,
    /// Times it fired (its callback was called).
    pub hits: u64,
    /// Times its kind and value filters matched (before skip/every/limit).
    pub matches: u64,
    /// Time spent in its callback, as the front end reported it.
    pub time: Duration,
}

/// A serial text hook's window: bytes since its previous match, at most this long.
pub const TEXT_WINDOW: usize = 4096;
/// How often (virtual time) screen text hooks look at a changed screen.
pub const SCREEN_POLL_NS: u64 = 10_000_000;

#[derive(Debug)]
struct Hook {
    info: HookInfo,
    /// Serial: unmatched text since the previous match. Screen: unused.
    window: Vec<u8>,
    /// Screen: the text was on screen at the previous look.
    on_screen: bool,
}

impl Hook {
    /// Counts a match and applies skip/every/limit: true when the hook fires.
    fn count_match(&mut self) -> bool {
        let i = &mut self.info;
        i.matches += 1;
        let f = &i.filter;
        if i.matches <= f.skip || !(i.matches - f.skip - 1).is_multiple_of(f.every.max(1)) {
            return false;
        }
        i.hits += 1;
        if f.limit.is_some_and(|l| i.hits >= l) {
            i.enabled = false;
        }
        true
    }

    /// True when the kind and the value filters match `event`.
    fn matches(&self, event: &Event) -> bool {
        let only = self.info.filter.access;
        let range = |start: u64, end: u64| MemRange { start, end, only };
        match (&self.info.kind, event) {
            (
                HookKind::Exec {
                    start,
                    end,
                    physical,
                },
                Event::Exec {
                    linear,
                    physical: p,
                },
            ) => {
                let addr = if *physical { *p } else { Some(*linear) };
                addr.is_some_and(|a| MemRange::all(*start, *end).reports(a, 1, 0))
            }
            (HookKind::Read { start, end }, Event::Read { addr, size, value }) => {
                range(*start, *end).reports(*addr, *size, *value)
            }
            (
                HookKind::Write { start, end, .. },
                Event::Write {
                    addr, size, new, ..
                },
            ) => range(*start, *end).reports(*addr, *size, *new),
            (
                HookKind::Io { first, last, dir },
                Event::Io {
                    out,
                    port,
                    size,
                    value,
                },
            ) => dir
                .ports(*first, *last, only)
                .reports(*out, *port, *size, *value),
            (
                HookKind::Disk {
                    drive,
                    first,
                    last,
                    dir,
                },
                Event::Disk {
                    drive: d,
                    lba,
                    count,
                    write,
                    ..
                },
            ) => {
                let dir_ok = match dir {
                    IoDir::Both => true,
                    IoDir::In => !write,
                    IoDir::Out => *write,
                };
                let end = lba.saturating_add((*count).max(1) - 1);
                dir_ok && drive.is_none_or(|want| want == *d) && *lba <= *last && end >= *first
            }
            (HookKind::Interrupt { vector }, Event::Interrupt { vector: v, .. }) => {
                vector.is_none_or(|want| want == *v)
            }
            (HookKind::ModeChange, Event::ModeChange { .. }) => true,
            _ => false,
        }
    }
}

/// Every hook of one VM.
#[derive(Debug, Default)]
pub struct HookTable {
    hooks: Vec<Hook>,
    next_id: u64,
    fires: Vec<Fire>,
    /// Virtual time of the previous screen look.
    screen_looked_ns: u64,
    /// A screen hook was added or enabled: look at the next poll even if
    /// the screen did not change.
    screen_force: bool,
}

impl HookTable {
    /// The fires waiting to be taken, oldest first.
    pub fn fires(&self) -> &[Fire] {
        &self.fires
    }

    /// Adds a hook (enabled) and returns its id.
    pub fn add(&mut self, kind: HookKind, filter: Filter) -> HookId {
        self.next_id += 1;
        let id = HookId(self.next_id);
        if matches!(kind, HookKind::ScreenText { .. }) {
            self.screen_force = true;
        }
        self.hooks.push(Hook {
            info: HookInfo {
                id,
                kind,
                filter,
                enabled: true,
                hits: 0,
                matches: 0,
                time: Duration::ZERO,
            },
            window: Vec::new(),
            on_screen: false,
        });
        id
    }

    fn get_mut(&mut self, id: HookId) -> Option<&mut Hook> {
        self.hooks.iter_mut().find(|h| h.info.id == id)
    }

    /// Removes a hook; false when there is none with that id. Its pending
    /// fires are dropped.
    /// Whether `id` was ever given to a hook (it may have been removed since).
    pub fn was_issued(&self, id: HookId) -> bool {
        (1..=self.next_id).contains(&id.0)
    }

    pub fn remove(&mut self, id: HookId) -> bool {
        let before = self.hooks.len();
        self.hooks.retain(|h| h.info.id != id);
        self.fires.retain(|f| f.hook != id);
        self.hooks.len() != before
    }

    /// Enables or disables a hook; false when there is none with that id.
    pub fn set_enabled(&mut self, id: HookId, enabled: bool) -> bool {
        let force = &mut self.screen_force;
        match self.hooks.iter_mut().find(|h| h.info.id == id) {
            Some(h) => {
                if enabled && !h.info.enabled && matches!(h.info.kind, HookKind::ScreenText { .. })
                {
                    *force = true;
                    h.on_screen = false;
                }
                h.info.enabled = enabled;
                true
            }
            None => false,
        }
    }

    pub fn info(&self, id: HookId) -> Option<&HookInfo> {
        self.hooks.iter().find(|h| h.info.id == id).map(|h| &h.info)
    }

    /// Every hook, in registration order.
    pub fn list(&self) -> impl Iterator<Item = &HookInfo> {
        self.hooks.iter().map(|h| &h.info)
    }

    /// Adds `spent` to the time a hook's callback has taken.
    pub fn account(&mut self, id: HookId, spent: Duration) {
        if let Some(h) = self.get_mut(id) {
            h.info.time += spent;
        }
    }

    /// Starts a serial text hook's window with text already written (so a
    /// match may span text from before the hook and after).
    pub fn seed_window(&mut self, id: HookId, text: &[u8]) {
        if let Some(h) = self.get_mut(id) {
            h.window.clear();
            push_window(&mut h.window, text);
        }
    }

    /// The front end matched (or not) a pattern hook's candidate text. For
    /// a serial hook, `consumed` bytes of its window are dropped on a match;
    /// for a screen hook a match counts only if the text was not on screen
    /// at the previous look. True when the callback should run.
    pub fn text_result(&mut self, id: HookId, matched: bool, consumed: usize) -> bool {
        let Some(h) = self.get_mut(id) else {
            return false;
        };
        match h.info.kind {
            HookKind::ScreenText { .. } => {
                let newly = matched && !h.on_screen;
                h.on_screen = matched;
                newly && h.info.enabled && h.count_match()
            }
            _ => {
                if !matched {
                    return false;
                }
                let n = consumed.min(h.window.len());
                h.window.drain(..n);
                h.info.enabled && h.count_match()
            }
        }
    }

    /// The watch set the enabled hooks need.
    pub fn watch_set(&self) -> WatchSet {
        let mut w = WatchSet::default();
        for h in self.hooks.iter().filter(|h| h.info.enabled) {
            let only = h.info.filter.access;
            let range = |start: u64, end: u64| MemRange { start, end, only };
            match &h.info.kind {
                HookKind::Exec {
                    start,
                    end,
                    physical: false,
                } => w.exec_linear.push((*start, *end)),
                HookKind::Exec {
                    start,
                    end,
                    physical: true,
                } => w.exec_physical.push((*start, *end)),
                HookKind::Read { start, end } => w.mem_read.push(range(*start, *end)),
                HookKind::Write { start, end, .. } => w.mem_write.push(range(*start, *end)),
                HookKind::Io { first, last, dir } => w.io.push(dir.ports(*first, *last, only)),
                HookKind::Disk { .. } => w.disk = true,
                HookKind::Interrupt { .. } => w.interrupts = true,
                HookKind::ModeChange => w.mode = true,
                HookKind::SerialText { .. } => w.serial = true,
                HookKind::ScreenText { .. } => w.screen = true,
                HookKind::Timer { .. } => {}
            }
        }
        w
    }

    /// The earliest virtual time at which a timer fires or the screen
    /// hooks look.
    pub fn next_deadline_ns(&mut self, now_ns: u64) -> Option<u64> {
        // The clock restarts at power-off.
        self.screen_looked_ns = self.screen_looked_ns.min(now_ns);
        let mut next: Option<u64> = None;
        let mut earliest = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        let mut screen = false;
        for h in self.hooks.iter().filter(|h| h.info.enabled) {
            match h.info.kind {
                HookKind::Timer { next_ns, .. } => earliest(next_ns),
                HookKind::ScreenText { .. } => screen = true,
                _ => {}
            }
        }
        if screen {
            earliest((self.screen_looked_ns / SCREEN_POLL_NS + 1) * SCREEN_POLL_NS);
        }
        next
    }

    /// Turns machine events into fires.
    pub fn dispatch(&mut self, events: Vec<EventRecord>) {
        for rec in events {
            if let Event::Serial { port, bytes } = &rec.event {
                self.dispatch_serial(*port, bytes, &rec);
                continue;
            }
            for h in self.hooks.iter_mut() {
                if h.info.enabled && h.matches(&rec.event) && h.count_match() {
                    self.fires.push(Fire {
                        hook: h.info.id,
                        event: FireEvent::Machine(rec.clone()),
                    });
                }
            }
        }
    }

    fn dispatch_serial(&mut self, port: usize, bytes: &[u8], rec: &EventRecord) {
        for h in self.hooks.iter_mut() {
            let HookKind::SerialText {
                port: p,
                text,
                plain,
            } = &h.info.kind
            else {
                continue;
            };
            if !h.info.enabled || *p != port {
                continue;
            }
            push_window(&mut h.window, bytes);
            if !*plain {
                self.fires.push(text_fire(
                    h.info.id,
                    (rec.icount, rec.cs, rec.eip),
                    h.window.clone(),
                    false,
                ));
                continue;
            }
            let needle = text.as_bytes().to_vec();
            let mut fresh = bytes.len().min(h.window.len());
            while next_match(&mut h.window, &mut fresh, &needle) {
                if !h.info.enabled {
                    break;
                }
                if h.count_match() {
                    self.fires.push(text_fire(
                        h.info.id,
                        (rec.icount, rec.cs, rec.eip),
                        needle.clone(),
                        true,
                    ));
                }
            }
        }
    }

    /// Fires the timers due now and, at each screen poll, lets the screen
    /// hooks look at the screen if it changed.
    pub fn on_deadline(&mut self, m: &mut Machine) {
        let now_ns = m.now_ns();
        let icount = m.icount;
        for h in self.hooks.iter_mut() {
            let HookKind::Timer { next_ns, period_ns } = &mut h.info.kind else {
                continue;
            };
            if !h.info.enabled || *next_ns > now_ns {
                continue;
            }
            match period_ns {
                Some(p) => {
                    // A halted guest may sleep past several periods: fire
                    // once and go on from the next one after now.
                    let p = (*p).max(1);
                    *next_ns += p * ((now_ns - *next_ns) / p + 1);
                }
                None => h.info.enabled = false,
            }
            if h.count_match() {
                self.fires.push(Fire {
                    hook: h.info.id,
                    event: FireEvent::Timer { icount, now_ns },
                });
            }
        }
        let due = (self.screen_looked_ns / SCREEN_POLL_NS + 1) * SCREEN_POLL_NS;
        if now_ns >= due {
            self.screen_looked_ns = now_ns;
            self.look_at_screen(m);
        }
    }

    /// Lets the screen text hooks look at the screen, if it changed since
    /// the previous look (or a hook was added). The run loop calls this at
    /// each screen poll and when the guest stops.
    pub fn look_at_screen(&mut self, m: &mut Machine) {
        let at = (m.icount, m.cpu.segment(SegReg::Cs).selector, m.cpu.eip());
        let changed = m.take_screen_dirty();
        if !(changed || std::mem::take(&mut self.screen_force)) {
            return;
        }
        let has_screen_hooks = self
            .hooks
            .iter()
            .any(|h| h.info.enabled && matches!(h.info.kind, HookKind::ScreenText { .. }));
        if !has_screen_hooks {
            return;
        }
        let screen = m.screen_text().join("\n");
        for h in self.hooks.iter_mut() {
            let HookKind::ScreenText { text, plain } = &h.info.kind else {
                continue;
            };
            if !h.info.enabled {
                continue;
            }
            if !*plain {
                let candidate = screen.as_bytes().to_vec();
                self.fires.push(text_fire(h.info.id, at, candidate, false));
                continue;
            }
            let text = text.as_bytes().to_vec();
            let now_on = find(screen.as_bytes(), &text).is_some();
            let newly = now_on && !h.on_screen;
            h.on_screen = now_on;
            if newly && h.count_match() {
                self.fires.push(text_fire(h.info.id, at, text, true));
            }
        }
    }

    pub fn has_fires(&self) -> bool {
        !self.fires.is_empty()
    }

    /// The fires not yet handed out, oldest first.
    pub fn take_fires(&mut self) -> Vec<Fire> {
        std::mem::take(&mut self.fires)
    }
}

/// A text fire at `at` (icount, CS, EIP).
fn text_fire(hook: HookId, at: (u64, u16, u32), text: Vec<u8>, matched: bool) -> Fire {
    let (icount, cs, eip) = at;
    Fire {
        hook,
        event: FireEvent::Text {
            icount,
            cs,
            eip,
            text,
            matched,
        },
    }
}

fn push_window(window: &mut Vec<u8>, bytes: &[u8]) {
    window.extend_from_slice(bytes);
    if window.len() > TEXT_WINDOW {
        let cut = window.len() - TEXT_WINDOW;
        window.drain(..cut);
    }
}

/// Finds the next `needle` in `window`, whose last `fresh` bytes arrived
/// since the last search, and drains the window up to the end of it.
/// Earlier text held no match (a match is drained), so a new one ends
/// within the fresh bytes: only the window's tail is searched, not all of
/// it again for every byte the guest prints.
fn next_match(window: &mut Vec<u8>, fresh: &mut usize, needle: &[u8]) -> bool {
    let from = window
        .len()
        .saturating_sub((*fresh + needle.len()).saturating_sub(1));
    let Some(at) = find(&window[from..], needle) else {
        return false;
    };
    window.drain(..from + at + needle.len());
    *fresh = (*fresh).min(window.len());
    true
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod text_tests {
    use super::{find, next_match, push_window};

    /// The tail search finds what a search of the whole window finds, fed
    /// in chunks of every size.
    #[test]
    fn tail_search_matches_a_whole_search() {
        let text = b"xxabcabcaababcab-abc\nabcabc".repeat(40);
        for needle in [&b"abc"[..], b"ab", b"a", b"cab", b"\nabc"] {
            for chunk in 1..8 {
                let (mut tail, mut whole) = (Vec::new(), Vec::new());
                let (mut n_tail, mut n_whole) = (0, 0);
                for part in text.chunks(chunk) {
                    push_window(&mut tail, part);
                    let mut fresh = part.len().min(tail.len());
                    while next_match(&mut tail, &mut fresh, needle) {
                        n_tail += 1;
                    }
                    push_window(&mut whole, part);
                    while let Some(at) = find(&whole, needle) {
                        whole.drain(..at + needle.len());
                        n_whole += 1;
                    }
                    assert_eq!(tail, whole);
                }
                assert_eq!(n_tail, n_whole);
                assert!(n_tail > 0);
            }
        }
    }
}
