//! What can go wrong with a disk image, always naming the file.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("cannot open disk image '{}': {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("disk image '{}' is a directory, not a file", path.display())]
    Directory { path: PathBuf },
    #[error("disk image '{}' is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("disk image '{}' is empty", path.display())]
    Empty { path: PathBuf },
    #[error(
        "disk image '{}' is {size} bytes, not a whole number of {sector}-byte sectors (truncated?)",
        path.display()
    )]
    PartialSector {
        path: PathBuf,
        size: u64,
        sector: u32,
    },
    #[error(
        "disk image '{}' is {size} bytes, larger than the {max} bytes a {kind} can address",
        path.display()
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        max: u64,
        kind: &'static str,
    },
    #[error("disk image '{}' is {size} bytes; accepted: {accepted}", path.display())]
    WrongSize {
        path: PathBuf,
        size: u64,
        accepted: String,
    },
    #[error("'{}' is not an ISO 9660 CD image (no CD001 volume descriptor at sector 16)", path.display())]
    NotIso { path: PathBuf },
    #[error("I/O error on disk image '{}': {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("disk image '{}' is not attached to a host file (restored without one)", path.display())]
    Detached { path: PathBuf },
    #[error("sectors {lba}+{count} are beyond the end of '{}' ({sectors} sectors)", path.display())]
    OutOfRange {
        path: PathBuf,
        lba: u64,
        count: u64,
        sectors: u64,
    },
    #[error("a hard disk needs an image file")]
    NoImage,
    #[error("disk image '{}' is read-only", path.display())]
    ReadOnly { path: PathBuf },
    #[error("disk image '{}' changed size since it was opened; nothing was written", path.display())]
    Changed { path: PathBuf },
}
