//! Memory for generated code, never writable and executable at once: the
//! arena is one anonymous mapping that is read-write only while a block is
//! copied in, and read-execute otherwise (W^X). Blocks are appended; when
//! the arena is full the JIT drops every block and starts again from the
//! beginning (no per-block freeing).

use memmap2::{Mmap, MmapMut};

/// The arena's size.
pub(super) const ARENA_BYTES: usize = 32 << 20;

pub(super) struct Arena {
    /// The mapping, read-execute (`None` only while it is being written,
    /// or for good after a protection change failed).
    map: Option<Mmap>,
    /// Bytes in use from the start.
    used: usize,
}

impl Arena {
    /// An empty arena, mapped read-execute; `None` when the host refuses the
    /// mapping (the JIT then stays off and the interpreter runs).
    pub fn new() -> Option<Arena> {
        let map = MmapMut::map_anon(ARENA_BYTES).ok()?.make_exec().ok()?;
        Some(Arena {
            map: Some(map),
            used: 0,
        })
    }

    /// The address the next block will start at.
    pub fn next_addr(&self) -> usize {
        self.base() + self.used
    }

    fn base(&self) -> usize {
        self.map.as_ref().map_or(0, |m| m.as_ptr() as usize)
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// True when `len` more bytes fit.
    pub fn fits(&self, len: usize) -> bool {
        self.used + len <= ARENA_BYTES
    }

    /// Forgets every block (their addresses must no longer be called).
    pub fn clear(&mut self) {
        self.used = 0;
    }

    /// Copies `code` (assembled for [`Arena::next_addr`]) in and returns
    /// its address; `None` when it does not fit or the protection could not
    /// be changed (the arena is then unusable and stays empty).
    pub fn append(&mut self, code: &[u8]) -> Option<usize> {
        if !self.fits(code.len()) {
            return None;
        }
        let addr = self.next_addr();
        let mut writable: MmapMut = self.map.take()?.make_mut().ok()?;
        writable[self.used..self.used + code.len()].copy_from_slice(code);
        self.map = Some(writable.make_exec().ok()?);
        self.used += code.len();
        Some(addr)
    }
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Arena({} of {} bytes)", self.used, ARENA_BYTES)
    }
}
