//! Guest physical memory: RAM plus read-only ROM regions.
//!
//! RAM is one anonymous `memmap2` mapping of `ram_size` bytes, committed
//! lazily by the host OS. ROM regions overlay RAM and the address space above
//! it; writes to them are dropped, as on a real board. Every guest address is
//! bounds-checked here: nothing outside `mem/` touches the host mapping.
//! Devices, the CPU and the control API all go through [`GuestMemory`].
//! Every write path also tells `code.rs` which pages it touched, so a
//! decoded-instruction cache never runs stale code. `image.rs` copies the
//! contents out and back for snapshots.

mod code;
mod error;
mod image;
mod ram;
mod rom;

pub use code::CodePages;
pub use error::MemError;
pub use image::MemImage;
pub use ram::Ram;
pub use rom::RomRegion;

use std::sync::Arc;

/// The whole guest physical address space.
#[derive(Debug)]
pub struct GuestMemory {
    ram: Ram,
    roms: Vec<RomRegion>,
    /// The hull of the ROM regions that overlay RAM (`start..end`, empty when
    /// none do): RAM accesses outside it skip the ROM lookup.
    overlay: (u64, u64),
    /// Which RAM pages hold cached code, and each page's content stamp.
    code: CodePages,
}

impl GuestMemory {
    /// Zero-filled RAM of `ram_size` bytes and no ROM.
    pub fn new(ram_size: u64) -> Result<GuestMemory, MemError> {
        let ram = Ram::new(ram_size)?;
        let pages = ram.len() >> code::PAGE_SHIFT;
        Ok(GuestMemory {
            ram,
            roms: Vec::new(),
            overlay: (0, 0),
            code: CodePages::new(pages),
        })
    }

    /// Size of RAM in bytes.
    pub fn ram_size(&self) -> u64 {
        self.ram.len() as u64
    }

    /// Maps `data` read-only at physical address `start`.
    pub fn map_rom(&mut self, start: u32, data: Arc<[u8]>) -> Result<(), MemError> {
        let region = RomRegion::new(start, data)?;
        if let Some(other) = self.roms.iter().find(|r| r.overlaps(&region)) {
            return Err(MemError::RomOverlap {
                start: region.start(),
                end: region.end(),
                other_start: other.start(),
                other_end: other.end(),
            });
        }
        self.roms.push(region);
        self.update_overlay();
        self.code.renew_all();
        Ok(())
    }

    /// Removes every ROM mapping.
    pub fn unmap_roms(&mut self) {
        self.roms.clear();
        self.update_overlay();
        self.code.renew_all();
    }

    fn update_overlay(&mut self) {
        let ram = self.ram_size();
        let over = self.roms.iter().filter(|r| r.start() < ram);
        let lo = over.clone().map(|r| r.start()).min();
        let hi = over.map(|r| r.end()).max();
        self.overlay = lo.zip(hi).unwrap_or((0, 0));
    }

    /// True when the `len` bytes at `addr` are plain RAM with no ROM over
    /// them (where a read has no side effect, and a write is kept as
    /// written).
    pub fn plain_ram_at(&self, addr: u32, len: u32) -> bool {
        self.plain_ram(addr.into(), len.into())
    }

    /// True when `addr..addr+len` is plain RAM with no ROM over it.
    fn plain_ram(&self, addr: u64, len: u64) -> bool {
        let end = addr + len;
        let (lo, hi) = self.overlay;
        end <= self.ram_size() && (end <= lo || addr >= hi)
    }

    /// A pointer to the plain-RAM page holding `addr` (no ROM over it), for
    /// an executor's direct accesses; for writes (`write`) only while no
    /// code is cached from the page, since such writes skip the code-page
    /// tracking. Valid until RAM is replaced (it never moves).
    pub fn host_page(&mut self, addr: u32, write: bool) -> Option<*mut u8> {
        let page = u64::from(addr & !0xFFF);
        if !self.plain_ram(page, 0x1000) || (write && self.code.page_marked(page)) {
            return None;
        }
        self.ram.page_ptr(page)
    }

    /// Changes whenever a page gets its first cached code or every page is
    /// renewed (RAM cleared, ROM mapped): [`GuestMemory::host_page`]'s
    /// answers for writes may have changed.
    pub fn code_marked_epoch(&self) -> u64 {
        self.code.marked_epoch()
    }

    /// Fills RAM with zeros (ROM is untouched).
    pub fn clear_ram(&mut self) {
        self.ram.clear();
        self.code.renew_all();
    }

    fn rom_at(&self, addr: u64) -> Option<&RomRegion> {
        self.roms.iter().find(|r| r.contains(addr))
    }

    /// Reads one byte as the CPU sees it: ROM first, then RAM; unmapped reads 0xFF.
    pub fn read_u8(&self, addr: u32) -> u8 {
        let a = u64::from(addr);
        if self.plain_ram(a, 1) {
            return self.ram.get(a).unwrap_or(0xFF);
        }
        if let Some(rom) = self.rom_at(a) {
            return rom.byte(a);
        }
        self.ram.get(a).unwrap_or(0xFF)
    }

    /// Writes one byte as the CPU does: dropped on ROM and unmapped addresses.
    #[inline]
    pub fn write_u8(&mut self, addr: u32, value: u8) {
        let a = u64::from(addr);
        if self.plain_ram(a, 1) || self.rom_at(a).is_none() {
            self.code.written(a, 1);
            self.ram.set(a, value);
        }
    }

    /// Reads a little-endian word as the CPU does (one load from plain RAM).
    #[inline]
    pub fn read_u16(&self, addr: u32) -> u16 {
        let a = u64::from(addr);
        if self.plain_ram(a, 2) {
            if let Some(v) = self.ram.get_u16(a) {
                return v;
            }
        }
        u16::from_le_bytes([self.read_u8(addr), self.read_u8(addr.wrapping_add(1))])
    }

    /// Reads a little-endian doubleword as the CPU does.
    #[inline]
    pub fn read_u32(&self, addr: u32) -> u32 {
        let a = u64::from(addr);
        if self.plain_ram(a, 4) {
            if let Some(v) = self.ram.get_u32(a) {
                return v;
            }
        }
        u32::from(self.read_u16(addr)) | (u32::from(self.read_u16(addr.wrapping_add(2))) << 16)
    }

    /// Writes a little-endian word as the CPU does.
    #[inline]
    pub fn write_u16(&mut self, addr: u32, value: u16) {
        let a = u64::from(addr);
        if self.plain_ram(a, 2) {
            self.code.written(a, 2);
            self.ram.set_u16(a, value);
            return;
        }
        let [lo, hi] = value.to_le_bytes();
        self.write_u8(addr, lo);
        self.write_u8(addr.wrapping_add(1), hi);
    }

    /// Writes a little-endian doubleword as the CPU does.
    #[inline]
    pub fn write_u32(&mut self, addr: u32, value: u32) {
        let a = u64::from(addr);
        if self.plain_ram(a, 4) {
            self.code.written(a, 4);
            self.ram.set_u32(a, value);
            return;
        }
        self.write_u16(addr, value as u16);
        self.write_u16(addr.wrapping_add(2), (value >> 16) as u16);
    }

    /// The content stamp of the page holding `addr` (see `code.rs`), or
    /// `None` when code there must not be cached (outside RAM's pages).
    #[inline]
    pub fn code_stamp(&self, addr: u32) -> Option<u64> {
        self.code.stamp(u64::from(addr))
    }

    /// Where the stamp of the page holding `addr` is kept (see
    /// `CodePages::stamp_at`).
    #[inline]
    pub fn code_stamp_at(&self, addr: u32) -> Option<*const u64> {
        self.code.stamp_at(u64::from(addr))
    }

    /// Marks the `len` bytes at `addr` (within one page) as cached code and
    /// returns the page's stamp: the next write over them gives the page a
    /// new one.
    pub fn mark_code(&mut self, addr: u32, len: u32) -> Option<u64> {
        self.code.mark(u64::from(addr), u64::from(len))
    }

    /// Reads `buf.len()` bytes from `addr` as the CPU does (instruction fetch):
    /// a block copy from plain RAM, byte by byte elsewhere.
    pub fn read_block(&self, addr: u32, buf: &mut [u8]) {
        let a = u64::from(addr);
        if self.plain_ram(a, buf.len() as u64) {
            self.ram.read(a, buf);
            return;
        }
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.read_u8(addr.wrapping_add(i as u32));
        }
    }

    /// Writes `data` at `addr` as a DMA transfer does: like CPU writes
    /// (dropped on ROM and beyond RAM), one block copy on plain RAM, and
    /// telling `code.rs`, so code loaded by DMA is decoded afresh.
    pub fn dma_write(&mut self, addr: u32, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let a = u64::from(addr);
        if self.plain_ram(a, data.len() as u64) {
            self.code.written(a, data.len() as u64);
            self.ram.write(a, data);
            return;
        }
        for (i, &b) in data.iter().enumerate() {
            self.write_u8(addr.wrapping_add(i as u32), b);
        }
    }

    /// Copies `buf.len()` bytes starting at `addr` as the CPU would read them.
    /// Fails if any byte lies outside RAM and ROM.
    pub fn read_bytes(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.check_mapped(addr, buf.len() as u64)?;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.read_u8((addr + i as u64) as u32);
        }
        Ok(())
    }

    /// Fails exactly as [`GuestMemory::read_bytes`] would for `len` bytes
    /// at `addr`, without reading them.
    pub fn check_readable(&self, addr: u64, len: u64) -> Result<(), MemError> {
        self.check_mapped(addr, len)
    }

    /// Writes `data` into RAM at `addr` (loaders and the control API). Unlike
    /// a CPU write, this fails when the range leaves RAM or touches ROM.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
        let len = data.len() as u64;
        self.check_writable(addr, len)?;
        self.code.written(addr, len);
        self.ram.write(addr, data);
        Ok(())
    }

    /// Fails exactly as [`GuestMemory::write_bytes`] would for `len` bytes
    /// at `addr`, without writing them.
    pub fn check_writable(&self, addr: u64, len: u64) -> Result<(), MemError> {
        self.ram.check_range(addr, len)?;
        if let Some(rom) = self.roms.iter().find(|r| r.overlaps_range(addr, len)) {
            return Err(MemError::WriteToRom {
                addr,
                len,
                rom_start: rom.start(),
            });
        }
        Ok(())
    }

    fn check_mapped(&self, addr: u64, len: u64) -> Result<(), MemError> {
        let end = addr.checked_add(len).ok_or(MemError::OutOfRange {
            addr,
            len,
            ram_size: self.ram_size(),
        })?;
        if end > 1 << 32 {
            return Err(MemError::OutOfRange {
                addr,
                len,
                ram_size: self.ram_size(),
            });
        }
        // Every byte must be RAM or ROM; walk region by region, not byte by byte.
        let mut a = addr;
        while a < end {
            if let Some(rom) = self.rom_at(a) {
                a = rom.end().min(end);
            } else if a < self.ram_size() {
                let next_rom = self
                    .roms
                    .iter()
                    .map(|r| r.start())
                    .filter(|&s| s > a)
                    .min()
                    .unwrap_or(u64::MAX);
                a = self.ram_size().min(next_rom).min(end);
            } else {
                return Err(MemError::OutOfRange {
                    addr,
                    len,
                    ram_size: self.ram_size(),
                });
            }
        }
        Ok(())
    }
}
