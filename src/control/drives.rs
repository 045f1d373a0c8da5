//! Attaching drives to a VM: while it is off, a [`DriveConfig`] is checked
//! (index, media), its image opened and checked (never written unless
//! write-through was asked for), the drive put on the board and recorded
//! in the configuration, so snapshots name it and a power cycle keeps it.

use super::vm::Vm;
use super::{ControlError, VmState};
use crate::machine::{DriveConfig, IDE_DRIVES};

impl Vm {
    /// Attaches `drive` (replacing any drive at its index). Only while off.
    pub fn attach_drive(&mut self, drive: DriveConfig) -> Result<(), ControlError> {
        if self.state() != VmState::Off {
            return Err(ControlError::ActionInWrongState {
                action: "attach a drive",
                state: self.state(),
                allowed: &[VmState::Off],
            });
        }
        if drive.index >= IDE_DRIVES {
            return Err(ControlError::BadValue {
                name: "drive index".into(),
                reason: format!("{} is not 0-3 (IDE has 4 drives)", drive.index),
            });
        }
        let device = drive.open()?;
        self.machine_mut()?.attach_ide(drive.index, Some(device));
        let drives = &mut self.config_mut().drives;
        drives.retain(|d| d.index != drive.index);
        drives.push(drive);
        drives.sort_by_key(|d| d.index);
        Ok(())
    }

    /// The drives attached, by index.
    pub fn drives(&self) -> &[DriveConfig] {
        &self.config().drives
    }
}
