//! The drives a machine is built with ([`DriveConfig`]: IDE index 0-3 =
//! primary master, primary slave, secondary master, secondary slave; disk or
//! CD-ROM; or floppy index 0-1 = A:, B:; the image; where the guest's writes
//! go) and how they are put on the board's ATA channels and floppy
//! controller. The firmware side reads them back through
//! [`Machine::ide_drive`] and [`Machine::floppy_drive`]; the floppies'
//! CMOS bytes and the disks' CHS translation are written at power-on and
//! when a drive is attached, by `Machine::write_firmware_cmos`.

use super::watch::{Event, EventRecord};
use super::Machine;
use crate::devices::ata::{Drive, Geometry};
use crate::devices::FloppyDrive;
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
    /// The floppy disk controller.
    Floppy,
}

impl DriveInterface {
    /// How many drives the interface has.
    pub fn drives(self) -> u8 {
        match self {
            DriveInterface::Ide => IDE_DRIVES,
            DriveInterface::Floppy => FLOPPY_DRIVES,
        }
    }
    /// Its name on the command line (`if=`).
    pub fn name(self) -> &'static str {
        match self {
            DriveInterface::Ide => "ide",
            DriveInterface::Floppy => "floppy",
        }
    }
}

/// What a drive on `interface` holding `media` is called in the Lua API,
/// the properties and `info block`: disk, cdrom or floppy.
pub fn media_name(interface: DriveInterface, media: MediaKind) -> &'static str {
    match interface {
        DriveInterface::Floppy => "floppy",
        DriveInterface::Ide => media.name(),
    }
}

/// IDE indices: two channels of master and slave.
pub const IDE_DRIVES: u8 = 4;
/// Floppy indices: A: and B:.
pub const FLOPPY_DRIVES: u8 = 2;

/// One drive of the machine's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveConfig {
    pub interface: DriveInterface,
    /// IDE: 0 primary master, 1 primary slave, 2 secondary master, 3
    /// secondary slave. Floppy: 0 A:, 1 B:.
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
        if self.interface == DriveInterface::Floppy {
            return write!(f, "floppy{} {path}{mode}", self.index);
        }
        write!(f, "ide{} {} {path}{mode}", self.index, self.media.name())
    }
}

/// Which drive: its interface and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DriveId {
    pub interface: DriveInterface,
    pub index: u8,
}

impl fmt::Display for DriveId {
    /// `ide0`..`ide3`, `fd0`, `fd1`: as `info block` and the Lua API name
    /// drives.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.interface {
            DriveInterface::Ide => write!(f, "ide{}", self.index),
            DriveInterface::Floppy => write!(f, "fd{}", self.index),
        }
    }
}

impl DriveId {
    /// Reads a drive name: `ide0`..`ide3` (or just the IDE index),
    /// `fd0`/`fd1` (or QEMU's `floppy0`/`floppy1`). Whether the drive is
    /// attached is not checked.
    pub fn parse(name: &str) -> Option<DriveId> {
        let (interface, index) = if let Some(i) = name.strip_prefix("ide") {
            (DriveInterface::Ide, i)
        } else if let Some(i) = name.strip_prefix("floppy").or(name.strip_prefix("fd")) {
            (DriveInterface::Floppy, i)
        } else {
            (DriveInterface::Ide, name)
        };
        let index = index.parse::<u8>().ok()?;
        Some(DriveId { interface, index })
    }
}

impl DriveConfig {
    /// Which drive this is.
    pub fn id(&self) -> DriveId {
        DriveId {
            interface: self.interface,
            index: self.index,
        }
    }

    /// The drive's name, as `info block` and the Lua API show it: `ide0`
    /// to `ide3`, `fd0`, `fd1`.
    pub fn name(&self) -> String {
        self.id().to_string()
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

    /// Opens the image as a floppy: its size must be one a floppy has
    /// (see `devices/floppy/geometry.rs`); nothing is written.
    pub fn open_floppy(&self) -> Result<FloppyDrive, StorageError> {
        let path = self.path.as_ref().ok_or(StorageError::NoImage)?;
        FloppyDrive::new(Disk::open(path, MediaKind::Disk, self.mode)?)
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

    /// Puts `drive` in floppy slot `index` (0 A:, 1 B:), replacing what
    /// was there (`None` removes it).
    pub fn attach_floppy(&mut self, index: u8, drive: Option<FloppyDrive>) {
        self.board.io.fdc.attach(usize::from(index), drive);
    }

    /// The floppy drive in slot `index`, to commit its overlay.
    pub fn floppy_drive_mut(&mut self, index: u8) -> Option<&mut FloppyDrive> {
        self.board.io.fdc.slot_mut(usize::from(index))
    }

    /// The floppy drive in slot `index` (0 A:, 1 B:).
    pub fn floppy_drive(&self, index: u8) -> Option<&FloppyDrive> {
        self.board.io.fdc.drive(usize::from(index))
    }

    /// Writes the floppy drives into CMOS, as a BIOS setup would have:
    /// register 0x10 the drive types (A: high nibble, B: low; 1 360K,
    /// 2 1.2M, 3 720K, 4 1.44M, 5 2.88M; 0 none) and, in the equipment
    /// byte 0x14, bit 0 (floppies present) and bits 7-6 (their number
    /// minus one); then the checksum.
    pub(super) fn set_floppy_cmos(&mut self) {
        let ty = |i: u8| self.floppy_drive(i).map_or(0, |d| d.geometry().cmos_type);
        let (a, b) = (ty(0), ty(1));
        let count = u8::from(a != 0) + u8::from(b != 0);
        let rtc = &mut self.board.io.rtc;
        rtc.write_cmos(0x10, a << 4 | b);
        let mut equipment = rtc.read_cmos(0x14) & !0xC1;
        if count > 0 {
            equipment |= 0x01 | (count - 1) << 6;
        }
        rtc.write_cmos(0x14, equipment);
        rtc.update_checksum();
    }

    /// Writes the hard disks' CHS translation into CMOS, as QEMU does for
    /// SeaBIOS and Bochs's BIOS: two bits per IDE index i at bits 2i of
    /// register 0x39 (0 none, 1 LBA, 2 large), chosen from the geometry
    /// IDENTIFY reports: none within 1024 cylinders, "large" (heads doubled
    /// and cylinders halved until at most 1024) while heads x cylinders
    /// stay within 131072, LBA-assisted beyond. Both BIOSes read 0x39 for
    /// the two legacy channels (0x3A would be for a third and fourth).
    pub(super) fn set_disk_cmos(&mut self) {
        let mut bits = 0u8;
        for index in 0..4u8 {
            let Some(drive) = self.ide_drive(index) else {
                continue;
            };
            if drive.kind() != MediaKind::Disk {
                continue;
            }
            bits |= disk_translation(drive.geometry()) << (2 * index);
        }
        let rtc = &mut self.board.io.rtc;
        rtc.write_cmos(0x39, bits);
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

    /// Takes the transfers the controllers made since the last look and,
    /// when disk hooks watch, reports each as an event.
    pub(super) fn collect_disk_accesses(&mut self) {
        let io = &self.board.io;
        let ide = (0..IDE_DRIVES).filter_map(|i| {
            let disk = io
                .ata
                .get(usize::from(i / 2))?
                .drive(usize::from(i % 2))?
                .media()?;
            Some((DriveInterface::Ide, i, disk))
        });
        let floppy = (0..FLOPPY_DRIVES).filter_map(|i| {
            Some((
                DriveInterface::Floppy,
                i,
                io.fdc.drive(usize::from(i))?.media()?,
            ))
        });
        let mut events = Vec::new();
        for (interface, index, disk) in ide.chain(floppy) {
            if !disk.has_accesses() {
                continue;
            }
            let taken = disk.take_accesses();
            if self.watches.disk {
                let drive = DriveId { interface, index };
                events.extend(taken.into_iter().map(|a| {
                    // What the sectors hold now: what was read, or written.
                    let size = u64::from(disk.sector_size());
                    let mut data = vec![0; (a.count * size).min(1 << 24) as usize];
                    let whole = data.len() as u64 / size * size;
                    data.truncate(whole as usize);
                    if disk.peek(a.lba, &mut data).is_err() {
                        data.clear();
                    }
                    Event::Disk {
                        drive,
                        lba: a.lba,
                        count: a.count,
                        write: a.write,
                        data,
                    }
                }));
            }
        }
        let (cs, eip) = (
            self.cpu.segment(crate::cpu::SegReg::Cs).selector,
            self.cpu.eip(),
        );
        for event in events {
            self.watches.events.push(EventRecord {
                event,
                icount: self.icount,
                cs,
                eip,
            });
        }
    }
}

/// QEMU's automatic BIOS translation for a disk of geometry `g` (CMOS
/// 0x39's two bits): 0 none, 2 large, 1 LBA-assisted.
fn disk_translation(g: Geometry) -> u8 {
    if g.cylinders <= 1024 && g.heads <= 16 && g.sectors <= 63 {
        0
    } else if u32::from(g.heads) * u32::from(g.cylinders) <= 131_072 {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_past_1024_cylinders_get_large_then_lba_translation() {
        let t = |cylinders, heads, sectors| {
            disk_translation(Geometry {
                cylinders,
                heads,
                sectors,
            })
        };
        assert_eq!(t(2, 16, 63), 0);
        assert_eq!(t(1024, 16, 63), 0);
        assert_eq!(t(1025, 16, 63), 2);
        assert_eq!(t(8192, 16, 63), 2, "131072 heads x cylinders");
        assert_eq!(t(8193, 16, 63), 1);
        assert_eq!(t(16383, 16, 63), 1);
    }
}
