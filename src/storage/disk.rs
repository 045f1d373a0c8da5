//! A [`Disk`]: an image file seen as numbered sectors, with the guest's
//! writes kept in an [`Overlay`] (the default), refused (read-only media),
//! or written to the file (write-through, only when asked for). The
//! overlay serialises with the disk; the open file does not, and
//! [`Disk::keep_host_file`] carries it over a restore.

use super::image::{ImageFile, MediaKind};
use super::{Overlay, StorageError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the guest's writes go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskMode {
    /// Into an in-memory overlay; the file is never written.
    #[default]
    Overlay,
    /// Nowhere: writes fail (as write-protected media).
    ReadOnly,
    /// Into the file.
    WriteThrough,
}

impl DiskMode {
    /// The mode QEMU's `readonly=` and `snapshot=` flags ask for: read-only
    /// media, an overlay (snapshot on, the default) or writing through
    /// (snapshot off); read-only with writing through is a contradiction.
    pub fn from_flags(readonly: bool, snapshot: bool) -> Result<DiskMode, String> {
        match (readonly, snapshot) {
            (true, false) => Err("readonly=on and snapshot=off contradict each other".into()),
            (true, true) => Ok(DiskMode::ReadOnly),
            (false, true) => Ok(DiskMode::Overlay),
            (false, false) => Ok(DiskMode::WriteThrough),
        }
    }
}

/// One transfer the guest's controller made, as disk hooks see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskAccess {
    pub lba: u64,
    pub count: u64,
    pub write: bool,
}

/// The most accesses kept between two looks (the board drains them after
/// every port access, so this is only a bound).
const MAX_ACCESSES: usize = 256;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Disk {
    path: PathBuf,
    kind: MediaKind,
    mode: DiskMode,
    sectors: u64,
    /// The sectors the file holds: fewer than `sectors` when padded.
    file_sectors: u64,
    overlay: Overlay,
    #[serde(skip)]
    file: Option<ImageFile>,
    /// The guest's transfers since the board last took them.
    #[serde(skip)]
    accesses: std::cell::RefCell<Vec<DiskAccess>>,
}

impl Disk {
    /// Opens `path` as `kind` media; only [`DiskMode::WriteThrough`] opens
    /// it for writing (a CD is always read-only).
    pub fn open(path: &Path, kind: MediaKind, mode: DiskMode) -> Result<Disk, StorageError> {
        let mode = if kind == MediaKind::Cdrom {
            DiskMode::ReadOnly
        } else {
            mode
        };
        let file = ImageFile::open(path, kind, mode == DiskMode::WriteThrough)?;
        let sectors = file.len() / u64::from(kind.sector_size());
        Ok(Disk {
            path: path.to_path_buf(),
            kind,
            mode,
            sectors,
            file_sectors: sectors,
            overlay: Overlay::default(),
            file: Some(file),
            accesses: Default::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn kind(&self) -> MediaKind {
        self.kind
    }
    pub fn mode(&self) -> DiskMode {
        self.mode
    }
    /// The number of sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }
    pub fn sector_size(&self) -> u32 {
        self.kind.sector_size()
    }
    /// Makes the disk `sectors` long when the file is shorter: the
    /// missing sectors read as zeros (and the guest's writes there go to
    /// the overlay). Refused when writing through, which would grow the
    /// file.
    pub fn pad_to(&mut self, sectors: u64) -> Result<(), StorageError> {
        if sectors <= self.sectors {
            return Ok(());
        }
        if self.mode == DiskMode::WriteThrough {
            return Err(StorageError::WrongSize {
                path: self.path.clone(),
                size: self.file_sectors * u64::from(self.sector_size()),
                accepted: format!(
                    "{} bytes for writing through (it would be padded otherwise)",
                    sectors * u64::from(self.sector_size())
                ),
            });
        }
        self.sectors = sectors;
        Ok(())
    }
    /// The guest's writes not in the file.
    pub fn overlay(&self) -> &Overlay {
        &self.overlay
    }
    /// True when guest writes are refused.
    pub fn read_only(&self) -> bool {
        self.mode == DiskMode::ReadOnly
    }

    /// Takes the host file of `host` (the running machine's disk) for this
    /// disk (restored from a snapshot), when both name the same file.
    pub fn keep_host_file(&mut self, host: &Disk) {
        if self.path == host.path && self.file_sectors == host.file_sectors {
            self.file = host.file.clone();
        }
    }

    fn check(&self, lba: u64, bytes: usize) -> Result<u64, StorageError> {
        let size = u64::from(self.sector_size());
        let count = bytes as u64 / size;
        if !(bytes as u64).is_multiple_of(size)
            || lba.checked_add(count).is_none_or(|e| e > self.sectors)
        {
            return Err(StorageError::OutOfRange {
                path: self.path.clone(),
                lba,
                count,
                sectors: self.sectors,
            });
        }
        Ok(count)
    }

    fn file(&self) -> Result<&ImageFile, StorageError> {
        self.file.as_ref().ok_or_else(|| StorageError::Detached {
            path: self.path.clone(),
        })
    }

    /// Fills `buf` (whole sectors) from sector `lba` on, as the guest sees
    /// the disk: the overlay over the file.
    pub fn read(&self, lba: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        let count = self.peek(lba, buf)?;
        self.log(lba, count, false);
        Ok(())
    }

    /// As [`Disk::read`], for the host (`vm.disk:read`, saving the disk):
    /// disk hooks do not see it.
    pub fn peek(&self, lba: u64, buf: &mut [u8]) -> Result<u64, StorageError> {
        let count = self.check(lba, buf.len())?;
        let size = self.sector_size() as usize;
        // Sectors past the file's end (a padded image) read as zeros.
        let in_file = self.file_sectors.saturating_sub(lba).min(count) as usize * size;
        let (from_file, padding) = buf.split_at_mut(in_file);
        if !from_file.is_empty() {
            self.file()?.read_at(lba * size as u64, from_file)?;
        }
        padding.fill(0);
        for (sector, data) in self.overlay.range(lba, count) {
            let at = (sector - lba) as usize * size;
            if let Some(dst) = buf.get_mut(at..at + size) {
                let n = data.len().min(size);
                dst[..n].copy_from_slice(&data[..n]);
                dst[n..].fill(0);
            }
        }
        Ok(count)
    }

    /// Writes `data` (whole sectors) from sector `lba` on: into the overlay,
    /// or the file when writing through; refused on read-only media.
    pub fn write(&mut self, lba: u64, data: &[u8]) -> Result<(), StorageError> {
        let count = self.check(lba, data.len())?;
        let result = match self.mode {
            DiskMode::ReadOnly => Err(StorageError::ReadOnly {
                path: self.path.clone(),
            }),
            DiskMode::WriteThrough => self
                .file()?
                .write_at(lba * u64::from(self.sector_size()), data),
            DiskMode::Overlay => {
                let size = self.sector_size() as usize;
                for (i, sector) in data.chunks_exact(size).enumerate() {
                    self.overlay.put(lba + i as u64, sector);
                }
                Ok(())
            }
        };
        // Disk hooks see writes that happened, not refused ones.
        if result.is_ok() {
            self.log(lba, count, true);
        }
        result
    }

    fn log(&self, lba: u64, count: u64, write: bool) {
        let mut log = self.accesses.borrow_mut();
        if log.len() < MAX_ACCESSES {
            log.push(DiskAccess { lba, count, write });
        }
    }

    /// The guest's transfers since the last call, oldest first.
    pub fn take_accesses(&self) -> Vec<DiskAccess> {
        std::mem::take(&mut self.accesses.borrow_mut())
    }

    /// Whether the guest made transfers since the last `take_accesses`.
    pub fn has_accesses(&self) -> bool {
        !self.accesses.borrow().is_empty()
    }

    /// Writes the whole disk as the guest sees it (the overlay over the
    /// file) to `out`, a megabyte at a time.
    pub fn write_image(&self, out: &mut dyn std::io::Write) -> Result<(), StorageError> {
        let size = u64::from(self.sector_size());
        let per_chunk = (1 << 20) / size;
        let mut buf = Vec::new();
        let mut lba = 0;
        while lba < self.sectors {
            let n = per_chunk.min(self.sectors - lba);
            buf.resize((n * size) as usize, 0);
            self.peek(lba, &mut buf)?;
            out.write_all(&buf).map_err(|source| StorageError::Io {
                path: self.path.clone(),
                source,
            })?;
            lba += n;
        }
        Ok(())
    }

    /// Writes the overlay into the image file and empties it (QEMU's
    /// `commit`); returns how many sectors were written. A padded image
    /// grows to the last sector the guest wrote. Only a disk with
    /// an overlay has anything to commit: read-only media refuse, and a
    /// write-through disk has nothing pending.
    pub fn commit(&mut self) -> Result<usize, StorageError> {
        match self.mode {
            DiskMode::ReadOnly => Err(StorageError::ReadOnly {
                path: self.path.clone(),
            }),
            DiskMode::WriteThrough => Ok(0),
            DiskMode::Overlay => {
                if self.overlay.is_empty() {
                    return Ok(0);
                }
                let file = ImageFile::open(&self.path, self.kind, true)?;
                if file.len() != self.file_sectors * u64::from(self.sector_size()) {
                    return Err(StorageError::Changed {
                        path: self.path.clone(),
                    });
                }
                let size = u64::from(self.sector_size());
                let mut sector = vec![0u8; size as usize];
                for (lba, data) in self.overlay.range(0, self.sectors) {
                    // Sized as the read path does: a sector from a crafted
                    // snapshot may be short or long.
                    let n = data.len().min(sector.len());
                    sector[..n].copy_from_slice(&data[..n]);
                    sector[n..].fill(0);
                    file.write_at(lba * size, &sector)?;
                }
                file.flush()?;
                // A padded image (a short floppy) grows as far as the
                // guest wrote; what lies between reads as zeros, as before.
                let written_end = self.overlay.last_sector().map_or(0, |l| l + 1);
                self.file_sectors = self.file_sectors.max(written_end);
                let n = self.overlay.len();
                self.overlay.clear();
                Ok(n)
            }
        }
    }

    /// Puts written-through data on stable storage (nothing to do otherwise).
    pub fn flush(&self) -> Result<(), StorageError> {
        match (self.mode, &self.file) {
            (DiskMode::WriteThrough, Some(f)) => f.flush(),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
