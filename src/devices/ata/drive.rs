//! One drive on a channel: a hard disk (always with its media) or an ATAPI
//! CD-ROM (with or without a disc, a tray and a lock), the settings the
//! host gave it (CHS translation, sectors per READ MULTIPLE block), and a
//! CD-ROM's sense data.

use crate::storage::{Disk, MediaKind};
use serde::{Deserialize, Serialize};

/// Cylinders, heads and sectors per track.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    pub cylinders: u16,
    pub heads: u8,
    pub sectors: u8,
}

impl Geometry {
    /// The default translation of a disk of `total` sectors: 16 heads and
    /// 63 sectors per track, as many cylinders as fit (at most 16383, at
    /// least 2, as QEMU has it: BIOSes report the number less two as INT
    /// 13h AH=08h's maximum cylinder, and SeaBIOS's wraps around from 1 to
    /// 1023). Sectors past the image stay out of reach however addressed.
    pub fn for_sectors(total: u64) -> Geometry {
        let cylinders = (total / (16 * 63)).clamp(2, 16383) as u16;
        Geometry {
            cylinders,
            heads: 16,
            sectors: 63,
        }
    }
    /// The sectors CHS addressing reaches.
    pub fn capacity(&self) -> u64 {
        u64::from(self.cylinders) * u64::from(self.heads) * u64::from(self.sectors)
    }
}

/// SCSI sense keys and additional sense codes the CD-ROM reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sense {
    pub key: u8,
    pub asc: u8,
    pub ascq: u8,
}

pub const SENSE_NOT_READY: u8 = 0x02;
pub const SENSE_MEDIUM_ERROR: u8 = 0x03;
pub const SENSE_ILLEGAL_REQUEST: u8 = 0x05;
pub const SENSE_UNIT_ATTENTION: u8 = 0x06;

impl Sense {
    pub const NONE: Sense = Sense::new(0, 0, 0);
    pub const NO_MEDIUM: Sense = Sense::new(SENSE_NOT_READY, 0x3A, 0);
    pub const MEDIUM_CHANGED: Sense = Sense::new(SENSE_UNIT_ATTENTION, 0x28, 0);
    pub const INVALID_OPCODE: Sense = Sense::new(SENSE_ILLEGAL_REQUEST, 0x20, 0);
    pub const INVALID_FIELD: Sense = Sense::new(SENSE_ILLEGAL_REQUEST, 0x24, 0);
    pub const LBA_OUT_OF_RANGE: Sense = Sense::new(SENSE_ILLEGAL_REQUEST, 0x21, 0);
    pub const REMOVAL_PREVENTED: Sense = Sense::new(SENSE_ILLEGAL_REQUEST, 0x53, 0x02);
    pub const READ_ERROR: Sense = Sense::new(SENSE_MEDIUM_ERROR, 0x11, 0);
    pub const SAVING_NOT_SUPPORTED: Sense = Sense::new(SENSE_ILLEGAL_REQUEST, 0x39, 0);
    pub const fn new(key: u8, asc: u8, ascq: u8) -> Sense {
        Sense { key, asc, ascq }
    }
}

/// What a CD-ROM reports through GET EVENT STATUS NOTIFICATION.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaEvent {
    #[default]
    None,
    NewMedia,
    Removed,
}

/// The largest READ/WRITE MULTIPLE block, in sectors.
pub const MAX_MULTIPLE: u8 = 16;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drive {
    kind: MediaKind,
    /// The disk, or the CD-ROM's disc (also while the tray is open).
    pub(super) media: Option<Disk>,
    /// The drive's number on the board (0-3), for its serial number.
    pub(super) index: u8,
    /// The CHS translation in use (INITIALIZE DEVICE PARAMETERS changes it).
    pub(super) chs: Geometry,
    /// Sectors per DRQ block of READ/WRITE MULTIPLE; 0 until set.
    pub(super) multiple: u8,
    pub(super) tray_open: bool,
    pub(super) locked: bool,
    pub(super) sense: Sense,
    /// A UNIT ATTENTION is due before the next media command.
    pub(super) unit_attention: bool,
    pub(super) event: MediaEvent,
}

impl Drive {
    /// A hard disk on `disk`; `index` is its position (0-3) on the board.
    pub fn hard_disk(disk: Disk, index: u8) -> Drive {
        let chs = Geometry::for_sectors(disk.sectors());
        Drive::new(MediaKind::Disk, Some(disk), index, chs)
    }

    /// A CD-ROM drive, with `disc` in it or empty.
    pub fn cdrom(disc: Option<Disk>, index: u8) -> Drive {
        Drive::new(MediaKind::Cdrom, disc, index, Geometry::for_sectors(0))
    }

    fn new(kind: MediaKind, media: Option<Disk>, index: u8, chs: Geometry) -> Drive {
        Drive {
            kind,
            media,
            index,
            chs,
            multiple: 0,
            tray_open: false,
            locked: false,
            sense: Sense::NONE,
            unit_attention: false,
            event: MediaEvent::None,
        }
    }

    pub fn kind(&self) -> MediaKind {
        self.kind
    }
    pub fn is_atapi(&self) -> bool {
        self.kind == MediaKind::Cdrom
    }
    /// The disk or disc, if there is one (a CD-ROM's also while its tray is open).
    pub fn media(&self) -> Option<&Disk> {
        self.media.as_ref()
    }
    /// The disk or disc, to commit its overlay.
    pub fn media_mut(&mut self) -> Option<&mut Disk> {
        self.media.as_mut()
    }
    /// The number of sectors of the media (0 without).
    pub fn sectors(&self) -> u64 {
        self.media.as_ref().map_or(0, Disk::sectors)
    }
    /// A hard disk's default CHS geometry, as IDENTIFY reports it.
    pub fn geometry(&self) -> Geometry {
        Geometry::for_sectors(self.sectors())
    }
    /// The medium the guest can read now: present and the tray closed.
    pub(super) fn ready_media(&self) -> Option<&Disk> {
        self.media.as_ref().filter(|_| !self.tray_open)
    }

    /// Puts `disc` in a CD-ROM drive (closing the tray): the guest sees a
    /// UNIT ATTENTION and a new-media event.
    pub fn insert(&mut self, disc: Disk) {
        self.media = Some(disc);
        self.tray_open = false;
        self.unit_attention = true;
        self.event = MediaEvent::NewMedia;
    }

    /// Takes the disc out of a CD-ROM drive (the host's eject ignores the lock).
    pub fn eject(&mut self) -> Option<Disk> {
        self.tray_open = true;
        self.event = MediaEvent::Removed;
        self.media.take()
    }

    /// Power-on or hard reset: the host's settings are forgotten; media stay.
    pub(super) fn reset(&mut self) {
        self.chs = self.geometry();
        self.multiple = 0;
        self.locked = false;
        self.sense = Sense::NONE;
    }
}
