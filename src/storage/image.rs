//! A host file holding a raw disk or CD image: opened read-only (read-write
//! only when the user asked to write through), its size checked once from
//! metadata before the guest sees it, then read and written at offsets
//! without a seek position, so one handle serves any number of readers.

use super::{StorageError, CD_SECTOR, HD_SECTOR};
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the image holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MediaKind {
    /// A hard disk of 512-byte sectors, addressed with LBA48 at most.
    Disk,
    /// An ISO 9660 CD of 2048-byte sectors, read-only.
    Cdrom,
}

impl MediaKind {
    pub fn sector_size(self) -> u32 {
        match self {
            MediaKind::Disk => HD_SECTOR,
            MediaKind::Cdrom => CD_SECTOR,
        }
    }
    /// The largest image the device can address, in bytes.
    pub fn max_bytes(self) -> u64 {
        match self {
            // LBA48.
            MediaKind::Disk => (1u64 << 48) * u64::from(HD_SECTOR),
            // READ CAPACITY's 32-bit last LBA.
            MediaKind::Cdrom => (1u64 << 32) * u64::from(CD_SECTOR),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Disk => "disk",
            MediaKind::Cdrom => "cdrom",
        }
    }
}

/// An open, checked image file.
#[derive(Clone, Debug)]
pub struct ImageFile {
    path: PathBuf,
    file: Arc<File>,
    len: u64,
    writable: bool,
}

/// Checks an image of `size` bytes for `kind` (everything but the contents).
pub fn check_size(path: &Path, size: u64, kind: MediaKind) -> Result<(), StorageError> {
    let path = path.to_path_buf();
    let sector = kind.sector_size();
    if size == 0 {
        return Err(StorageError::Empty { path });
    }
    if !size.is_multiple_of(u64::from(sector)) {
        return Err(StorageError::PartialSector { path, size, sector });
    }
    if size > kind.max_bytes() {
        return Err(StorageError::TooLarge {
            path,
            size,
            max: kind.max_bytes(),
            kind: kind.name(),
        });
    }
    Ok(())
}

impl ImageFile {
    /// Opens `path` as an image of `kind`: read-only, or read-write when
    /// `writable`. The file must be a non-empty regular file of whole
    /// sectors the device can address; a CD must carry an ISO 9660 volume
    /// descriptor. Nothing is ever written here.
    pub fn open(path: &Path, kind: MediaKind, writable: bool) -> Result<ImageFile, StorageError> {
        let owned = || path.to_path_buf();
        // Look before opening: opening a FIFO would block.
        let meta = std::fs::metadata(path).map_err(|source| StorageError::Open {
            path: owned(),
            source,
        })?;
        if meta.is_dir() {
            return Err(StorageError::Directory { path: owned() });
        }
        if !meta.is_file() {
            return Err(StorageError::NotAFile { path: owned() });
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(writable && kind == MediaKind::Disk)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|source| StorageError::Open {
                path: owned(),
                source,
            })?;
        // The handle's own metadata: the file may have changed since.
        let meta = file.metadata().map_err(|source| StorageError::Open {
            path: owned(),
            source,
        })?;
        if !meta.is_file() {
            return Err(StorageError::NotAFile { path: owned() });
        }
        let len = meta.len();
        check_size(path, len, kind)?;
        let image = ImageFile {
            path: owned(),
            file: Arc::new(file),
            len,
            writable: writable && kind == MediaKind::Disk,
        };
        if kind == MediaKind::Cdrom {
            let mut pvd = [0u8; 6];
            let at = 16 * u64::from(CD_SECTOR);
            if len < at + u64::from(CD_SECTOR)
                || image.read_at(at, &mut pvd).is_err()
                || &pvd[1..6] != b"CD001"
            {
                return Err(StorageError::NotIso { path: owned() });
            }
        }
        Ok(image)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The size in bytes when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Fills `buf` from byte `offset`; a file that shrank since it was
    /// opened is an error, never a short read passed on.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|source| StorageError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Writes `buf` at byte `offset` (only on a writable image).
    pub fn write_at(&self, offset: u64, buf: &[u8]) -> Result<(), StorageError> {
        if !self.writable {
            return Err(StorageError::ReadOnly {
                path: self.path.clone(),
            });
        }
        self.file
            .write_all_at(buf, offset)
            .map_err(|source| StorageError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Asks the host to put written data on stable storage.
    pub fn flush(&self) -> Result<(), StorageError> {
        if !self.writable {
            return Ok(());
        }
        self.file.sync_data().map_err(|source| StorageError::Io {
            path: self.path.clone(),
            source,
        })
    }
}
