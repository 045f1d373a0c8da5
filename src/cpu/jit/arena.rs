//! Memory for generated code, never writable and executable at once: one
//! anonymous mapping, read-execute, whose pages are made read-write only
//! while a block is copied onto them and read-execute again right after
//! (W^X). Blocks are appended; when the arena is full the JIT drops every
//! block and starts again from the beginning (no per-block freeing).

/// The arena's size.
pub(super) const ARENA_BYTES: usize = 32 << 20;
const PAGE: usize = 4096;

pub(super) struct Arena {
    /// Start of the mapping (`ARENA_BYTES` long), or null after a failed
    /// protection change (the arena is then unusable).
    base: *mut u8,
    /// Bytes in use from the start.
    used: usize,
}

impl Arena {
    /// An empty arena, mapped read-execute; `None` when the host refuses the
    /// mapping (the JIT then stays off and the interpreter runs).
    pub fn new() -> Option<Arena> {
        // SAFETY: a fresh private anonymous mapping; no existing memory is
        // affected, and the result is checked before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ARENA_BYTES,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        Some(Arena {
            base: p.cast(),
            used: 0,
        })
    }

    /// The address the next block will start at.
    pub fn next_addr(&self) -> usize {
        self.base as usize + self.used
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// True when `len` more bytes fit.
    pub fn fits(&self, len: usize) -> bool {
        !self.base.is_null() && self.used + len <= ARENA_BYTES
    }

    /// Forgets every block (their addresses must no longer be called).
    pub fn clear(&mut self) {
        self.used = 0;
    }

    /// Changes the protection of the pages holding `start..start + len`.
    fn protect(&self, start: usize, len: usize, prot: libc::c_int) -> bool {
        let first = start / PAGE * PAGE;
        let end = (start + len).div_ceil(PAGE) * PAGE;
        // SAFETY: the range lies within our own mapping (`start + len` is
        // at most ARENA_BYTES, checked by `fits`), which nothing else uses.
        unsafe { libc::mprotect(self.base.add(first).cast(), end - first, prot) == 0 }
    }

    /// Copies `code` (assembled for [`Arena::next_addr`]) in and returns
    /// its address; `None` when it does not fit or the protection could not
    /// be changed (the arena is then unusable).
    pub fn append(&mut self, code: &[u8]) -> Option<usize> {
        if !self.fits(code.len()) {
            return None;
        }
        let (at, len) = (self.used, code.len());
        if !self.protect(at, len, libc::PROT_READ | libc::PROT_WRITE) {
            self.base = std::ptr::null_mut();
            return None;
        }
        // SAFETY: the destination lies within the mapping (checked by
        // `fits`) and is writable now; no block runs while we copy.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), self.base.add(at), len) };
        if !self.protect(at, len, libc::PROT_READ | libc::PROT_EXEC) {
            self.base = std::ptr::null_mut();
            return None;
        }
        self.used += len;
        Some(self.base as usize + at)
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        if !self.base.is_null() {
            // SAFETY: our own mapping, unmapped once; no block runs (the
            // JIT that owns it is being dropped).
            unsafe { libc::munmap(self.base.cast(), ARENA_BYTES) };
        }
    }
}

// SAFETY: the arena is plain memory owned by one `Jit`; moving it to another
// thread moves that ownership.
unsafe impl Send for Arena {}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Arena({} of {} bytes)", self.used, ARENA_BYTES)
    }
}
