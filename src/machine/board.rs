//! The board as the CPU sees it: guest memory behind the A20 gate, the I/O
//! port bus, and the virtual clock that times every port access. It also
//! checks CPU memory and port accesses against the memory and I/O watches
//! (see `watch.rs`) and keeps what they saw until the run loop collects it.

use super::clock::VirtualClock;
use super::watch::{overlaps, reported, AddrSet, Event, MemWatch, PortRange};
use crate::cpu::{operand_mask, Bus, IoSize};
use crate::devices::IoBus;
use crate::mem::GuestMemory;

#[derive(Debug)]
pub struct Board {
    pub mem: GuestMemory,
    pub io: IoBus,
    pub clock: VirtualClock,
    /// Physical address mask: bit 20 clear while the A20 gate is closed.
    a20_mask: u32,
    /// Set by every port access, so the run loop knows to poll the devices,
    /// and by every watched access, so it collects `events`.
    pub(super) io_touched: bool,
    /// Memory watches (an empty hull when none).
    pub(super) mem_watch: MemWatch,
    /// Watched port ranges, inclusive.
    pub(super) io_watch: Vec<PortRange>,
    /// Execute watches by linear and by physical address (checked by the
    /// run loop before the interpreter's instructions, and by the JIT when
    /// it forms blocks: `Bus::exec_watched`).
    pub(super) exec_linear: AddrSet,
    pub(super) exec_physical: AddrSet,
    /// What the watches saw during the current instruction.
    pub(super) events: Vec<Event>,
    /// The VGA text buffer was written since the last look (when tracked).
    pub(super) screen_dirty: bool,
    /// Counts A20 moves and watch changes (see `Bus::host_epoch`).
    map_changes: u64,
}

impl Board {
    pub fn new(mem: GuestMemory, io: IoBus, clock: VirtualClock) -> Board {
        Board {
            mem,
            io,
            clock,
            a20_mask: !0,
            io_touched: false,
            mem_watch: MemWatch::default(),
            io_watch: Vec::new(),
            exec_linear: AddrSet::default(),
            exec_physical: AddrSet::default(),
            events: Vec::new(),
            screen_dirty: false,
            map_changes: 0,
        }
    }

    pub fn a20(&self) -> bool {
        self.a20_mask == !0
    }

    pub fn set_a20(&mut self, enabled: bool) {
        let mask = if enabled { !0 } else { !(1 << 20) };
        if mask != self.a20_mask {
            self.a20_mask = mask;
            self.map_changes += 1;
        }
    }

    /// Sets the memory watches.
    pub(super) fn set_mem_watch(&mut self, watch: MemWatch) {
        self.mem_watch = watch;
        self.map_changes += 1;
    }
}

impl Board {
    pub(super) fn plain_read_u8(&mut self, addr: u32) -> u8 {
        self.mem.read_u8(addr & self.a20_mask)
    }
    pub(super) fn plain_write_u8(&mut self, addr: u32, value: u8) {
        self.mem.write_u8(addr & self.a20_mask, value)
    }
    // Wider accesses go to memory whole unless A20 could split them (an
    // access crossing the 1 MiB boundary with the gate closed).
    #[inline]
    pub(super) fn plain_read_u16(&mut self, addr: u32) -> u16 {
        if self.a20_mask == !0 {
            return self.mem.read_u16(addr);
        }
        u16::from_le_bytes([
            self.plain_read_u8(addr),
            self.plain_read_u8(addr.wrapping_add(1)),
        ])
    }
    #[inline]
    pub(super) fn plain_read_u32(&mut self, addr: u32) -> u32 {
        if self.a20_mask == !0 {
            return self.mem.read_u32(addr);
        }
        u32::from(self.plain_read_u16(addr))
            | (u32::from(self.plain_read_u16(addr.wrapping_add(2))) << 16)
    }
    #[inline]
    pub(super) fn plain_write_u16(&mut self, addr: u32, value: u16) {
        if self.a20_mask == !0 {
            return self.mem.write_u16(addr, value);
        }
        let [lo, hi] = value.to_le_bytes();
        self.plain_write_u8(addr, lo);
        self.plain_write_u8(addr.wrapping_add(1), hi);
    }
    #[inline]
    pub(super) fn plain_write_u32(&mut self, addr: u32, value: u32) {
        if self.a20_mask == !0 {
            return self.mem.write_u32(addr, value);
        }
        self.plain_write_u16(addr, value as u16);
        self.plain_write_u16(addr.wrapping_add(2), (value >> 16) as u16);
    }
}

impl Bus for Board {
    #[inline]
    fn read_u8(&mut self, addr: u32) -> u8 {
        let v = self.plain_read_u8(addr);
        if self.mem_watch.reads.near(addr) {
            self.watch_read(addr, 1, v.into());
        }
        v
    }
    #[inline]
    fn write_u8(&mut self, addr: u32, value: u8) {
        if self.mem_watch.writes.near(addr) {
            return self.watch_write(addr, 1, value.into());
        }
        self.plain_write_u8(addr, value)
    }
    #[inline]
    fn read_u16(&mut self, addr: u32) -> u16 {
        let v = self.plain_read_u16(addr);
        if self.mem_watch.reads.near(addr) {
            self.watch_read(addr, 2, v.into());
        }
        v
    }
    #[inline]
    fn read_u32(&mut self, addr: u32) -> u32 {
        let v = self.plain_read_u32(addr);
        if self.mem_watch.reads.near(addr) {
            self.watch_read(addr, 4, v);
        }
        v
    }
    #[inline]
    fn write_u16(&mut self, addr: u32, value: u16) {
        if self.mem_watch.writes.near(addr) {
            return self.watch_write(addr, 2, value.into());
        }
        self.plain_write_u16(addr, value)
    }
    #[inline]
    fn write_u32(&mut self, addr: u32, value: u32) {
        if self.mem_watch.writes.near(addr) {
            return self.watch_write(addr, 4, value);
        }
        self.plain_write_u32(addr, value)
    }
    #[inline]
    fn code_stamp(&mut self, addr: u32) -> Option<u64> {
        self.mem.code_stamp(addr & self.a20_mask)
    }
    fn code_stamp_at(&mut self, addr: u32) -> Option<*const u64> {
        self.mem.code_stamp_at(addr & self.a20_mask)
    }
    fn mark_code(&mut self, addr: u32, len: u32) -> Option<u64> {
        self.mem.mark_code(addr & self.a20_mask, len)
    }
    #[inline]
    fn watched(&self, addr: u32, len: u32, write: bool) -> bool {
        let a = addr & self.a20_mask;
        let side = self.mem_watch.side(write);
        side.near(a) || side.near(a.wrapping_add(len - 1))
    }
    fn read_unreported(&mut self, addr: u32, len: u32) -> Option<u32> {
        if !self.plain_ram_as_is(addr, len) {
            return None;
        }
        let size = len as u8;
        let value = self.plain_read(addr, size);
        (!reported(&self.mem_watch.read, addr, size, value)).then_some(value)
    }
    fn write_unreported(&mut self, addr: u32, len: u32, value: u32) -> bool {
        let size = len as u8;
        if !self.plain_ram_as_is(addr, len)
            || reported(
                &self.mem_watch.write,
                addr,
                size,
                value & operand_mask(size),
            )
        {
            return false;
        }
        self.plain_write(addr, size, value);
        self.note_screen_write(addr, size);
        true
    }
    fn watches_memory(&self) -> bool {
        !(self.mem_watch.read.is_empty() && self.mem_watch.write.is_empty())
    }
    fn exec_watched(&self, lin: u32, phys: u32) -> bool {
        self.exec_linear.contains(lin) || self.exec_physical.contains(phys)
    }
    fn host_page(&mut self, addr: u32, write: bool) -> Option<*mut u8> {
        // (With the A20 gate closed, addresses wrap: no page is direct.)
        if self.a20_mask != !0 || self.mem_watch.side(write).pages.page_marked(addr) {
            return None;
        }
        self.mem.host_page(addr, write)
    }
    fn host_epoch(&self) -> u64 {
        self.map_changes + self.mem.code_marked_epoch()
    }
    fn read_block(&mut self, addr: u32, buf: &mut [u8]) {
        if self.a20_mask == !0 {
            self.mem.read_block(addr, buf)
        } else {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.read_u8(addr.wrapping_add(i as u32));
            }
        }
    }
    fn io_read(&mut self, port: u16, size: IoSize) -> u32 {
        self.io_touched = true;
        let value = self.io.read(port, size, self.clock.now_ns());
        if !self.io_watch.is_empty() {
            self.watch_io(false, port, size, value);
        }
        value
    }
    fn io_write(&mut self, port: u16, size: IoSize, value: u32) {
        self.io_touched = true;
        if !self.io_watch.is_empty() {
            self.watch_io(true, port, size, value);
        }
        self.io.write(port, size, value, self.clock.now_ns())
    }
}

// The slow paths of watched accesses, out of line so the plain path stays small.
impl Board {
    fn plain_read(&mut self, addr: u32, size: u8) -> u32 {
        match size {
            1 => self.plain_read_u8(addr).into(),
            2 => self.plain_read_u16(addr).into(),
            _ => self.plain_read_u32(addr),
        }
    }

    #[inline(never)]
    fn watch_read(&mut self, addr: u32, size: u8, value: u32) {
        let a = addr & self.a20_mask;
        if reported(&self.mem_watch.read, a, size, value) {
            self.events.push(Event::Read {
                addr: a,
                size,
                value,
            });
            self.io_touched = true;
        }
    }

    /// True when the `len` bytes at `addr` are plain RAM at that very
    /// address (the A20 gate open, so it does not wrap).
    fn plain_ram_as_is(&self, addr: u32, len: u32) -> bool {
        self.a20_mask == !0 && self.mem.plain_ram_at(addr, len)
    }

    fn plain_write(&mut self, addr: u32, size: u8, value: u32) {
        match size {
            1 => self.plain_write_u8(addr, value as u8),
            2 => self.plain_write_u16(addr, value as u16),
            _ => self.plain_write_u32(addr, value),
        }
    }

    /// Marks the screen changed when the tracked text buffer holds one of
    /// the `size` bytes written at `addr`.
    fn note_screen_write(&mut self, addr: u32, size: u8) {
        let a = addr & self.a20_mask;
        if self.mem_watch.screen.is_some_and(|s| s.overlaps(a, size)) {
            self.screen_dirty = true;
        }
    }

    #[inline(never)]
    fn watch_write(&mut self, addr: u32, size: u8, value: u32) {
        let a = addr & self.a20_mask;
        let watched = overlaps(&self.mem_watch.write, a, size);
        let old = if watched {
            self.plain_read(addr, size)
        } else {
            0
        };
        self.plain_write(addr, size, value);
        self.note_screen_write(addr, size);
        if watched {
            let new = self.plain_read(addr, size);
            if !reported(&self.mem_watch.write, a, size, new) {
                return;
            }
            self.events.push(Event::Write {
                addr: a,
                size,
                old,
                new,
            });
            self.io_touched = true;
        }
    }

    #[inline(never)]
    fn watch_io(&mut self, out: bool, port: u16, size: IoSize, value: u32) {
        let size = size.bytes() as u8;
        if self
            .io_watch
            .iter()
            .any(|w| w.reports(out, port, size, value))
        {
            self.events.push(Event::Io {
                out,
                port,
                size,
                value,
            });
        }
    }
}
