//! The drives as properties: for each drive slot (`ide0`..`ide3`, `fd0`,
//! `fd1`) the property table has `drive.<slot>.file` (the image, or nil),
//! `drive.<slot>.media` (disk, cdrom or floppy; nil when nothing is
//! attached) and `drive.<slot>.mode` (where the guest's writes go). While
//! the VM is off, setting them attaches, changes or takes off the drive;
//! while it is powered, only the medium of a removable drive changes
//! (`drive.ide2.file = "other.iso"` inserts a disc, `= nil` ejects it), as
//! a user can on a real PC. The mapping onto `control/drives.rs` lives
//! here, once, for Lua, `--set` and the monitor alike.

use super::state::VmState;
use super::value::Value;
use super::vm::Vm;
use super::ControlError;
use crate::machine::{media_name, DriveConfig, DriveId, DriveInterface, FLOPPY_DRIVES, IDE_DRIVES};
use crate::storage::{DiskMode, MediaKind};
use std::path::PathBuf;

/// Which property of a drive slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriveField {
    File,
    Media,
    Mode,
}

/// Every drive slot, IDE first.
pub fn slots() -> impl Iterator<Item = DriveId> {
    let ide = (0..IDE_DRIVES).map(|index| DriveId {
        interface: DriveInterface::Ide,
        index,
    });
    let floppy = (0..FLOPPY_DRIVES).map(|index| DriveId {
        interface: DriveInterface::Floppy,
        index,
    });
    ide.chain(floppy)
}

/// The name of a disk mode in the property.
pub fn mode_name(mode: DiskMode) -> &'static str {
    match mode {
        DiskMode::Overlay => "overlay",
        DiskMode::ReadOnly => "read-only",
        DiskMode::WriteThrough => "write-through",
    }
}

fn parse_mode(s: &str) -> Option<DiskMode> {
    match s {
        "overlay" => Some(DiskMode::Overlay),
        "read-only" | "readonly" => Some(DiskMode::ReadOnly),
        "write-through" | "writethrough" => Some(DiskMode::WriteThrough),
        _ => None,
    }
}

impl Vm {
    fn drive_config(&self, id: DriveId) -> Option<&DriveConfig> {
        self.drives().iter().find(|d| d.id() == id)
    }

    /// The value of property `field` of drive slot `id`.
    pub(super) fn drive_property(&self, id: DriveId, field: DriveField) -> Value {
        let Some(d) = self.drive_config(id) else {
            return Value::Nil;
        };
        match field {
            DriveField::File => d
                .path
                .as_ref()
                .map_or(Value::Nil, |p| Value::Str(p.display().to_string())),
            DriveField::Media => Value::Str(media_name(d.interface, d.media).into()),
            DriveField::Mode if d.media == MediaKind::Cdrom => {
                Value::Str(mode_name(DiskMode::ReadOnly).into())
            }
            DriveField::Mode => Value::Str(mode_name(d.mode).into()),
        }
    }

    /// Sets property `field` of drive slot `id` to `v` (a string or nil,
    /// already checked against the property's type); `path` is the
    /// property's name for errors. On error nothing changes.
    pub(super) fn set_drive_property(
        &mut self,
        id: DriveId,
        field: DriveField,
        v: Value,
        path: &str,
    ) -> Result<(), ControlError> {
        let bad = |reason: String| ControlError::BadValue {
            name: path.to_owned(),
            reason,
        };
        let text = match v {
            Value::Str(s) => Some(s),
            _ => None,
        };
        let current = self.drive_config(id).cloned();
        if self.state() != VmState::Off {
            // Only the File property is settable while powered (the table
            // says so); a hard disk cannot be swapped under a running guest.
            let Some(d) = current else {
                return Err(bad(format!(
                    "there is no drive {id}: attach drives while the VM is off"
                )));
            };
            if d.interface == DriveInterface::Ide && d.media == MediaKind::Disk {
                return Err(ControlError::SetInWrongState {
                    property: path.to_owned(),
                    state: self.state(),
                    allowed: &[VmState::Off],
                });
            }
            return match text {
                Some(file) => self.insert_disc(id, std::path::Path::new(&file)),
                None => self.eject(id),
            };
        }
        let fresh = || DriveConfig {
            interface: id.interface,
            index: id.index,
            media: MediaKind::Disk,
            path: None,
            mode: DiskMode::Overlay,
        };
        let drive = match (field, text) {
            (DriveField::File, None) => match current {
                // An empty CD-ROM drive is a drive; a disk or floppy drive
                // without an image is taken off.
                Some(d) if d.media == MediaKind::Cdrom => DriveConfig { path: None, ..d },
                _ => return self.detach_drive(id),
            },
            (DriveField::File, Some(file)) => DriveConfig {
                path: Some(PathBuf::from(file)),
                ..current.unwrap_or_else(fresh)
            },
            (DriveField::Media, None) => return self.detach_drive(id),
            (DriveField::Media, Some(name)) => {
                let media = match (id.interface, name.as_str()) {
                    (DriveInterface::Ide, "disk") => MediaKind::Disk,
                    (DriveInterface::Ide, "cdrom") => MediaKind::Cdrom,
                    (DriveInterface::Floppy, "floppy") => MediaKind::Disk,
                    (DriveInterface::Ide, _) => {
                        return Err(bad(format!("'{name}' is not disk or cdrom")))
                    }
                    (DriveInterface::Floppy, _) => {
                        return Err(bad(format!(
                            "'{name}' is not floppy (a floppy slot holds only a floppy drive)"
                        )))
                    }
                };
                let d = current.unwrap_or_else(fresh);
                if media == MediaKind::Disk && d.path.is_none() {
                    return Err(bad(format!(
                        "a {} needs an image: set drive.{id}.file instead",
                        if id.interface == DriveInterface::Floppy {
                            "floppy drive"
                        } else {
                            "hard disk"
                        }
                    )));
                }
                DriveConfig { media, ..d }
            }
            (DriveField::Mode, None) => return Err(bad("expected a mode, got nil".into())),
            (DriveField::Mode, Some(name)) => {
                let mode = parse_mode(&name).ok_or_else(|| {
                    bad(format!(
                        "'{name}' is not overlay, read-only or write-through"
                    ))
                })?;
                let d = current
                    .ok_or_else(|| bad(format!("there is no drive {id}: set its file first")))?;
                if d.media == MediaKind::Cdrom && mode != DiskMode::ReadOnly {
                    return Err(bad(format!("{id} is a CD-ROM drive, always read-only")));
                }
                DriveConfig { mode, ..d }
            }
        };
        self.attach_drive(drive)
    }
}
