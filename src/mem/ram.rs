//! Guest RAM: one anonymous host mapping, zero-filled, bounds-checked on
//! every access.

use super::MemError;
use memmap2::MmapMut;

/// Smallest RAM a machine may have (the real-mode IVT, BDA and a boot sector).
pub const MIN_RAM: u64 = 64 * 1024;
/// Largest RAM: up to the 3.5 GiB mark, leaving the top of the 4 GiB space for ROM.
pub const MAX_RAM: u64 = 0xE000_0000;

pub struct Ram {
    map: MmapMut,
}

impl std::fmt::Debug for Ram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ram({} bytes)", self.map.len())
    }
}

impl Ram {
    pub fn new(size: u64) -> Result<Ram, MemError> {
        if !(MIN_RAM..=MAX_RAM).contains(&size) || !size.is_multiple_of(4096) {
            return Err(MemError::BadRamSize {
                size,
                min: MIN_RAM,
                max: MAX_RAM,
            });
        }
        let map = MmapMut::map_anon(size as usize).map_err(|e| MemError::MapFailed {
            size,
            reason: e.to_string(),
        })?;
        Ok(Ram { map })
    }

    /// A pointer to the 4 KiB page holding `addr`, when it lies in RAM.
    /// The pointer stays valid for as long as this `Ram` lives.
    pub fn page_ptr(&mut self, addr: u64) -> Option<*mut u8> {
        let start = usize::try_from(addr & !0xFFF).ok()?;
        let page = self.map.get_mut(start..start.checked_add(0x1000)?)?;
        Some(page.as_mut_ptr())
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, addr: u64) -> Option<u8> {
        usize::try_from(addr)
            .ok()
            .and_then(|a| self.map.get(a).copied())
    }

    pub fn set(&mut self, addr: u64, value: u8) {
        if let Some(b) = usize::try_from(addr).ok().and_then(|a| self.map.get_mut(a)) {
            *b = value;
        }
    }

    /// The little-endian word at `addr`, or `None` past the end.
    #[inline]
    pub fn get_u16(&self, addr: u64) -> Option<u16> {
        let a = usize::try_from(addr).ok()?;
        let b = self.map.get(a..a.checked_add(2)?)?;
        Some(u16::from_le_bytes(b.try_into().ok()?))
    }

    /// The little-endian doubleword at `addr`, or `None` past the end.
    #[inline]
    pub fn get_u32(&self, addr: u64) -> Option<u32> {
        let a = usize::try_from(addr).ok()?;
        let b = self.map.get(a..a.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// Stores a little-endian word at `addr`; dropped past the end.
    #[inline]
    pub fn set_u16(&mut self, addr: u64, value: u16) {
        self.set_bytes(addr, &value.to_le_bytes());
    }

    /// Stores a little-endian doubleword at `addr`; dropped past the end.
    #[inline]
    pub fn set_u32(&mut self, addr: u64, value: u32) {
        self.set_bytes(addr, &value.to_le_bytes());
    }

    #[inline]
    fn set_bytes(&mut self, addr: u64, bytes: &[u8]) {
        let Ok(a) = usize::try_from(addr) else {
            return;
        };
        let Some(end) = a.checked_add(bytes.len()) else {
            return;
        };
        if let Some(dst) = self.map.get_mut(a..end) {
            dst.copy_from_slice(bytes);
        }
    }

    pub fn check_range(&self, addr: u64, len: u64) -> Result<(), MemError> {
        match addr.checked_add(len) {
            Some(end) if end <= self.map.len() as u64 => Ok(()),
            _ => Err(MemError::OutOfRange {
                addr,
                len,
                ram_size: self.map.len() as u64,
            }),
        }
    }

    /// The whole of RAM, for taking a snapshot.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Copies RAM at `addr` into `buf`; the caller has checked the range.
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        let a = addr as usize;
        buf.copy_from_slice(&self.map[a..a + buf.len()]);
    }

    /// Copies `data` to `addr`; the caller has checked the range.
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        let a = addr as usize;
        self.map[a..a + data.len()].copy_from_slice(data);
    }

    /// Zero-fills RAM by replacing the mapping, so untouched pages stay uncommitted.
    pub fn clear(&mut self) {
        if let Ok(fresh) = MmapMut::map_anon(self.map.len()) {
            self.map = fresh;
        } else {
            self.map.fill(0);
        }
    }
}
