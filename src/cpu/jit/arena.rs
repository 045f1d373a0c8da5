//! Memory for generated code, never writable and executable at once (W^X).
//! Where the host allows it, one shared memory object (`memfd_create`) is
//! mapped twice: read-execute where blocks run, read-write where they are
//! copied in, so no mapping is ever both and no protection changes per
//! block. Otherwise one anonymous mapping, read-execute, whose pages are
//! made read-write only while a block is copied onto them. Blocks are
//! appended; when the arena is full the JIT drops every block and starts
//! again from the beginning (no per-block freeing).

/// The arena's size: room for the code of a Linux boot to its shell
/// (about 84 MB in 65,000 blocks) without a flush. Only the pages written
/// take memory.
pub(super) const ARENA_BYTES: usize = 128 << 20;
const PAGE: usize = 4096;

pub(super) struct Arena {
    /// Start of the mapping (`ARENA_BYTES` long), or null after a failed
    /// protection change (the arena is then unusable).
    base: *mut u8,
    /// The read-write view of the same memory, or null when there is
    /// only the one mapping (whose protection then changes per block).
    view: *mut u8,
    /// Bytes in use from the start.
    used: usize,
}

impl Arena {
    /// An empty arena, mapped read-execute; `None` when the host refuses the
    /// mapping (the JIT then stays off and the interpreter runs).
    pub fn new() -> Option<Arena> {
        Self::dual().or_else(Self::single)
    }

    /// The two views of one memory object.
    fn dual() -> Option<Arena> {
        // SAFETY: creates a new anonymous file (the name is a NUL-ended
        // literal), sizes it and maps it twice fresh; every result is
        // checked, and the descriptor is closed once mapped (the mappings
        // keep the memory alive).
        unsafe {
            let fd = libc::memfd_create(c"moon86-jit".as_ptr(), libc::MFD_CLOEXEC);
            if fd < 0 {
                return None;
            }
            let map = |prot| {
                libc::mmap(
                    std::ptr::null_mut(),
                    ARENA_BYTES,
                    prot,
                    libc::MAP_SHARED,
                    fd,
                    0,
                )
            };
            let sized = libc::ftruncate(fd, ARENA_BYTES as libc::off_t) == 0;
            let rx = if sized {
                map(libc::PROT_READ | libc::PROT_EXEC)
            } else {
                libc::MAP_FAILED
            };
            let rw = if rx != libc::MAP_FAILED {
                map(libc::PROT_READ | libc::PROT_WRITE)
            } else {
                libc::MAP_FAILED
            };
            libc::close(fd);
            if rw == libc::MAP_FAILED {
                if rx != libc::MAP_FAILED {
                    libc::munmap(rx, ARENA_BYTES);
                }
                return None;
            }
            Some(Arena {
                base: rx.cast(),
                view: rw.cast(),
                used: 0,
            })
        }
    }

    /// One mapping whose protection changes while a block is copied in.
    fn single() -> Option<Arena> {
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
            view: std::ptr::null_mut(),
            used: 0,
        })
    }

    /// The address the next block will start at.
    pub fn next_addr(&self) -> usize {
        self.base as usize + self.used
    }

    /// The `len` bytes of code at `addr`, when they are in the arena's
    /// used part.
    pub fn code(&self, addr: usize, len: usize) -> Option<&[u8]> {
        let at = addr.checked_sub(self.base as usize)?;
        if self.base.is_null() || at.checked_add(len)? > self.used {
            return None;
        }
        // SAFETY: the range lies within the used part of our mapping,
        // which is readable (read-execute, or read-write while a block is
        // copied in, which is not now: we hold `&self`) and not written
        // while the slice lives (appending takes `&mut self`).
        Some(unsafe { std::slice::from_raw_parts(self.base.add(at), len) })
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
        if !self.view.is_null() {
            // SAFETY: the destination lies within the read-write view
            // (checked by `fits`); no block runs while we copy, and the
            // read-execute view shows the same bytes.
            unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), self.view.add(at), len) };
            self.used += len;
            return Some(self.base as usize + at);
        }
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
        if !self.view.is_null() {
            // SAFETY: as above, for the read-write view.
            unsafe { libc::munmap(self.view.cast(), ARENA_BYTES) };
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
