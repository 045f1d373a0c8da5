//! The drives a machine is built with ([`DriveConfig`]: IDE index 0-3 =
//! primary master, primary slave, secondary master, secondary slave; disk or
//! CD-ROM; the image; where the guest's writes go) and how they are put on
//! the board's ATA channels. The firmware side reads them back through
//! [`Machine::ide_drive`] (CMOS drive types, the boot order).

use super::Machine;
use crate::devices::ata::Drive;
use crate::storage::{Disk, DiskMode, MediaKind, StorageError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// The bus a drive hangs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriveInterface {
    /// The ATA/IDE controller (ATAPI for a CD-ROM).
    #[default]
    Ide,
}

/// IDE indices: two channels of master and slave.
pub const IDE_DRIVES: u8 = 4;

/// One drive of the machine's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveConfig {
    pub interface: DriveInterface,
    /// 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave.
    pub index: u8,
    pub media: MediaKind,
    /// The image; `None` for an empty CD-ROM drive.
    pub path: Option<PathBuf>,
    /// Where the guest's writes go (a CD-ROM is always read-only).
    pub mode: DiskMode,
}

impl fmt::Display for DriveConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self
            .path
            .as_ref()
            .map_or("(empty)".into(), |p| p.display().to_string());
        let mode = match (self.media, self.mode) {
            (MediaKind::Cdrom, _) => "",
            (_, DiskMode::Overlay) => " (overlay)",
            (_, DiskMode::ReadOnly) => " (read-only)",
            (_, DiskMode::WriteThrough) => " (write-through)",
        };
        write!(f, "ide{} {} {path}{mode}", self.index, self.media.name())
    }
}

impl DriveConfig {
    /// The drive's name, as `info block` and the Lua API show it: `ide0`
    /// to `ide3`.
    pub fn name(&self) -> String {
        format!("ide{}", self.index)
    }

    /// Opens the image and makes the drive; a bad image is an error naming
    /// the file, and nothing is written.
    pub fn open(&self) -> Result<Drive, StorageError> {
        let disk = match &self.path {
            Some(p) => Some(Disk::open(p, self.media, self.mode)?),
            None => None,
        };
        Ok(match (self.media, disk) {
            (MediaKind::Cdrom, disc) => Drive::cdrom(disc, self.index),
            (MediaKind::Disk, Some(disk)) => Drive::hard_disk(disk, self.index),
            (MediaKind::Disk, None) => return Err(StorageError::NoImage),
        })
    }
}

impl Machine {
    /// Puts `drive` at IDE index `index` (0-3), replacing what was there
    /// (`None` removes it). Indices above 3 are ignored.
    pub fn attach_ide(&mut self, index: u8, drive: Option<Drive>) {
        if let Some(ch) = self.board.io.ata.get_mut(usize::from(index / 2)) {
            ch.attach(usize::from(index % 2), drive);
        }
    }

    /// The drive at IDE index `index` (0-3): its kind (`kind()`), size
    /// (`sectors()`), CHS geometry (`geometry()`) and media (`media()`).
    pub fn ide_drive(&self, index: u8) -> Option<&Drive> {
        self.board
            .io
            .ata
            .get(usize::from(index / 2))?
            .drive(usize::from(index % 2))
    }

    /// The drive at IDE index `index`, to change its media.
    pub fn ide_drive_mut(&mut self, index: u8) -> Option<&mut Drive> {
        self.board
            .io
            .ata
            .get_mut(usize::from(index / 2))?
            .drive_mut(usize::from(index % 2))
    }
}
