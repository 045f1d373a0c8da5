//! The CPU's view of the outside world: physical memory and I/O ports.
//!
//! The interpreter never owns memory or devices; every access goes through a
//! [`Bus`] implemented by the machine (or by a test harness). Addresses here
//! are physical: segmentation (and later paging) happen inside `cpu/`.

/// Width of an I/O port access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoSize {
    Byte,
    Word,
    Dword,
}

impl IoSize {
    /// Number of bytes moved by an access of this width.
    pub fn bytes(self) -> u32 {
        match self {
            IoSize::Byte => 1,
            IoSize::Word => 2,
            IoSize::Dword => 4,
        }
    }
}

/// Physical memory and port I/O as the CPU sees them.
pub trait Bus {
    /// Reads one byte of physical memory. Unmapped memory reads as 0xFF.
    fn read_u8(&mut self, addr: u32) -> u8;
    /// Writes one byte of physical memory. Writes to ROM or unmapped memory are dropped.
    fn write_u8(&mut self, addr: u32, value: u8);

    fn read_u16(&mut self, addr: u32) -> u16 {
        u16::from_le_bytes([self.read_u8(addr), self.read_u8(addr.wrapping_add(1))])
    }
    fn read_u32(&mut self, addr: u32) -> u32 {
        u32::from(self.read_u16(addr)) | (u32::from(self.read_u16(addr.wrapping_add(2))) << 16)
    }
    fn write_u16(&mut self, addr: u32, value: u16) {
        let [lo, hi] = value.to_le_bytes();
        self.write_u8(addr, lo);
        self.write_u8(addr.wrapping_add(1), hi);
    }
    fn write_u32(&mut self, addr: u32, value: u32) {
        self.write_u16(addr, value as u16);
        self.write_u16(addr.wrapping_add(2), (value >> 16) as u16);
    }

    /// Reads `buf.len()` consecutive bytes from `addr` (instruction fetch).
    /// Implementors may override it with a block copy.
    fn read_block(&mut self, addr: u32, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.read_u8(addr.wrapping_add(i as u32));
        }
    }

    /// The content stamp of the physical page holding `addr`, for the
    /// decoded-instruction cache: a value that changes whenever a byte
    /// marked by [`Bus::mark_code`] on that page is written (by anyone), and
    /// that differs between pages and between memories. `None` (the
    /// default) means code at `addr` must not be cached.
    fn code_stamp(&mut self, _addr: u32) -> Option<u64> {
        None
    }
    /// Where the stamp of the page holding `addr` lives, for generated
    /// code that checks it without calling the bus: valid until
    /// [`Bus::host_epoch`] changes or the next run of the machine that
    /// the control API starts (the
    /// default: nowhere, so nothing relies on it).
    fn code_stamp_at(&mut self, _addr: u32) -> Option<*const u64> {
        None
    }
    /// Marks the `len` bytes at physical `addr` (all on one page) as cached
    /// code, so the next write over any of them changes the page's stamp,
    /// and returns the current stamp, or `None` when code there must not be
    /// cached (the default).
    fn mark_code(&mut self, _addr: u32, _len: u32) -> Option<u64> {
        None
    }

    /// True when a write (`write`) or read of `len` bytes at physical
    /// `addr` may touch an address watched for that kind of access (the
    /// JIT then leaves the instruction to the interpreter, whose accesses
    /// the watches see). The default: nothing is.
    fn watched(&self, _addr: u32, _len: u32, _write: bool) -> bool {
        false
    }

    /// For a read [`Bus::watched`] flagged: its value, when the `len`
    /// bytes at physical `addr` are plain RAM (so reading them has no side
    /// effect) and no read watch reports that value; `None` leaves the
    /// read to the interpreter. The default: `None`.
    fn read_unreported(&mut self, _addr: u32, _len: u32) -> Option<u32> {
        None
    }

    /// For a write [`Bus::watched`] flagged: when the `len` bytes at
    /// physical `addr` are plain RAM (which then holds the low `len` bytes
    /// of `value`) and no write watch reports that value, makes the write
    /// (as the bus's `write_*` would, without an event) and returns true;
    /// false, having written nothing, leaves it to the interpreter. The
    /// default: false.
    fn write_unreported(&mut self, _addr: u32, _len: u32, _value: u32) -> bool {
        false
    }

    /// True when some CPU memory read or write is watched: the JIT then
    /// leaves each handler call that touches memory to the interpreter, as
    /// the handler's accesses are not checked one by one. The default:
    /// none is.
    fn watches_memory(&self) -> bool {
        false
    }

    /// True when an execute watch covers the instruction at linear address
    /// `lin`, physical `phys`: a translated block ends before it, and none
    /// starts there, so the instruction always comes back to the
    /// interpreter, before which the run loop reports it. The JIT drops
    /// its blocks when the execute watches change. The default: none does.
    fn exec_watched(&self, _lin: u32, _phys: u32) -> bool {
        false
    }

    /// A host pointer to the 4 KiB physical page holding `addr` when
    /// accesses to it may bypass the bus for a while: plain RAM, no access
    /// of that kind (write, or read) watched on it, and for writes no
    /// cached code on it. The
    /// caller must drop the pointer at the next instruction the interpreter
    /// runs (which may change any of this). The default: never.
    fn host_page(&mut self, _addr: u32, _write: bool) -> Option<*mut u8> {
        None
    }
    /// A number that changes whenever an answer of [`Bus::host_page`] may
    /// have changed for reasons other than the CPU's own state: a page got
    /// cached code, the A20 gate moved, RAM or ROM was remapped, a watch
    /// was set. The JIT drops its host pointers when it changes.
    fn host_epoch(&self) -> u64 {
        0
    }

    /// Reads an I/O port. Ports nobody decodes read as all ones.
    fn io_read(&mut self, port: u16, size: IoSize) -> u32;
    /// Writes an I/O port. Writes nobody decodes are dropped.
    fn io_write(&mut self, port: u16, size: IoSize, value: u32);
}
