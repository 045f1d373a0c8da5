//! A read-only region of the physical address space (BIOS or option ROM).
//! The same image may be mapped at several addresses (below 1 MiB and at the
//! top of 4 GiB) by sharing its bytes.

use super::MemError;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct RomRegion {
    start: u64,
    data: Arc<[u8]>,
}

impl RomRegion {
    pub fn new(start: u32, data: Arc<[u8]>) -> Result<RomRegion, MemError> {
        let start = u64::from(start);
        let len = data.len() as u64;
        if len == 0 || start + len > 1 << 32 {
            return Err(MemError::RomOutsideAddressSpace { start, len });
        }
        Ok(RomRegion { start, data })
    }
    pub fn start(&self) -> u64 {
        self.start
    }
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end()
    }
    pub fn overlaps(&self, other: &RomRegion) -> bool {
        self.start < other.end() && other.start < self.end()
    }
    pub fn overlaps_range(&self, addr: u64, len: u64) -> bool {
        len > 0 && addr < self.end() && self.start < addr.saturating_add(len)
    }
    /// The region's bytes.
    pub fn data(&self) -> &Arc<[u8]> {
        &self.data
    }
    /// The byte at `addr`, which the caller has checked is inside the region.
    pub fn byte(&self, addr: u64) -> u8 {
        self.data[(addr - self.start) as usize]
    }
}
