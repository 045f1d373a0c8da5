//! Disk images as the guest's drives see them. `image.rs` opens and checks a
//! host file (read-only unless the user asked to write through);
//! `overlay.rs` keeps the sectors the guest wrote, in memory, so the file
//! is never written; `disk.rs` puts the two together as a [`Disk`] of
//! fixed-size sectors that reads through the overlay. The overlay is plain
//! data that serialises into snapshots; the host file handle is not, and is
//! re-attached by whoever restores (see `devices/ata`). Nothing here knows
//! of ATA, ports or the machine.

mod disk;
mod error;
mod image;
mod overlay;
#[cfg(test)]
pub(crate) mod testfile;

pub use disk::{Disk, DiskAccess, DiskMode};
pub use error::StorageError;
pub use image::{ImageFile, MediaKind};
pub use overlay::Overlay;

/// A hard disk's sector.
pub const HD_SECTOR: u32 = 512;
/// A CD-ROM's (mode 1) sector.
pub const CD_SECTOR: u32 = 2048;
