//! Snapshots of a VM: in memory ([`Vm::snapshot`], [`Vm::restore`]) and in
//! files ([`Vm::save_state`], [`Vm::restore_state`], format in
//! `snapshot_file.rs`). A [`Snapshot`] is the VM's configuration, why the
//! guest stopped (when it had), and the machine's whole state. Restoring
//! one refuses, naming each difference, a snapshot taken on another
//! configuration, and in every error case leaves the VM as it was. What is
//! not in a snapshot stays as the VM has it: the loaded images (a reset
//! after a restore puts this VM's images back), the host-side echo
//! settings and the decoded-instruction cache switch. A restored VM is
//! paused, or halted when the snapshot was taken while halted.

use super::action::Action;
use super::output_file::write_whole;
use super::snapshot_file::{self, SnapshotFileError};
use super::value::format_size;
use super::vm::Vm;
use super::ControlError;
use crate::machine::{HaltReason, MachineConfig, MachineState};
use std::path::Path;

/// A VM's state at an instruction boundary.
#[derive(Clone, Debug)]
pub struct Snapshot {
    config: MachineConfig,
    halt: Option<HaltReason>,
    machine: MachineState,
}

impl Snapshot {
    pub(super) fn new(
        config: MachineConfig,
        halt: Option<HaltReason>,
        machine: MachineState,
    ) -> Snapshot {
        Snapshot {
            config,
            halt,
            machine,
        }
    }
    /// The configuration of the VM it was taken on.
    pub fn config(&self) -> &MachineConfig {
        &self.config
    }
    /// Why the guest had stopped itself, if it had.
    pub fn halt_reason(&self) -> Option<HaltReason> {
        self.halt
    }
    /// The machine's state.
    pub fn machine(&self) -> &MachineState {
        &self.machine
    }
    /// Instructions retired when it was taken.
    pub fn icount(&self) -> u64 {
        self.machine.icount()
    }
}

/// Each setting in which `snapshot` (taken on) and `vm` (this VM) differ.
pub fn config_differences(snapshot: &MachineConfig, vm: &MachineConfig) -> Vec<String> {
    let mut out = Vec::new();
    let mut diff = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name} is {a} in the snapshot but {b} in this VM"));
        }
    };
    diff(
        "ram_size",
        format_size(snapshot.ram_size),
        format_size(vm.ram_size),
    );
    diff(
        "cpu_model",
        snapshot.cpu_model.to_string(),
        vm.cpu_model.to_string(),
    );
    diff(
        "exit_port",
        format!("0x{:x}", snapshot.exit_port),
        format!("0x{:x}", vm.exit_port),
    );
    diff("ips", snapshot.ips.to_string(), vm.ips.to_string());
    diff(
        "rtc_start",
        snapshot.rtc_start.to_string(),
        vm.rtc_start.to_string(),
    );
    let drives = |c: &MachineConfig| {
        let list: Vec<String> = c.drives.iter().map(|d| d.to_string()).collect();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    diff("drives", drives(snapshot), drives(vm));
    out
}

impl Vm {
    fn check_config(&self, snapshot: &MachineConfig) -> Result<(), ControlError> {
        let differences = config_differences(snapshot, self.config());
        if differences.is_empty() {
            Ok(())
        } else {
            Err(ControlError::SnapshotConfig { differences })
        }
    }

    fn take_snapshot(&self) -> Result<Snapshot, ControlError> {
        Ok(Snapshot {
            config: self.config().clone(),
            halt: self.halt_reason(),
            machine: self.machine()?.save_state(),
        })
    }

    fn put_back(&mut self, snapshot: &Snapshot) -> Result<(), ControlError> {
        self.check_config(&snapshot.config)?;
        self.machine_mut()?.restore_state(&snapshot.machine)?;
        self.stop_restored(snapshot.halt);
        // The hooks stay; the restored CPU and board learn them again.
        self.after_restore()
    }

    /// The whole VM state, in memory.
    pub fn snapshot(&self) -> Result<Snapshot, ControlError> {
        self.guard(Action::Snapshot)?;
        self.take_snapshot()
    }

    /// Puts back a snapshot taken by [`Vm::snapshot`] (any number of times).
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<(), ControlError> {
        self.guard(Action::Restore)?;
        self.put_back(snapshot)
    }

    /// Writes the whole VM state to `path` (whole or not at all).
    pub fn save_state(&self, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::SaveState)?;
        let snapshot = self.take_snapshot()?;
        let bytes =
            snapshot_file::encode(&snapshot).map_err(|source| ControlError::SnapshotFile {
                path: path.to_owned(),
                source,
            })?;
        write_whole(path, &bytes)
    }

    /// Puts back the state saved in `path` by [`Vm::save_state`].
    pub fn restore_state(&mut self, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::RestoreState)?;
        let file_err = |source: SnapshotFileError| ControlError::SnapshotFile {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(|source| ControlError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        // Refused from its size before a byte is read or inflated.
        let ram_size = self.ram_size()?;
        if let Ok(meta) = file.metadata() {
            if meta.is_file() && meta.len() > snapshot_file::max_file_len(ram_size) {
                return Err(file_err(SnapshotFileError::TooLarge {
                    len: meta.len(),
                    ram_size,
                }));
            }
        }
        let mut reader = std::io::BufReader::new(file);
        let check =
            |config: &MachineConfig| self.check_config(config).map_err(SnapshotDecode::Control);
        let snapshot = snapshot_file::decode(&mut reader, check).map_err(|e| match e {
            SnapshotDecode::File(source) => file_err(source),
            SnapshotDecode::Control(e) => e,
        })?;
        self.put_back(&snapshot)
    }
}

/// A decoding failure: the file's own, or the VM refusing its configuration.
enum SnapshotDecode {
    File(SnapshotFileError),
    Control(ControlError),
}

impl From<SnapshotFileError> for SnapshotDecode {
    fn from(e: SnapshotFileError) -> Self {
        SnapshotDecode::File(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::CpuModel;

    #[test]
    fn differences_are_named() {
        let a = MachineConfig::default();
        let b = MachineConfig {
            ram_size: 32 << 20,
            cpu_model: CpuModel::I386,
            ..a.clone()
        };
        assert!(config_differences(&a, &a).is_empty());
        assert_eq!(
            config_differences(&a, &b),
            [
                "ram_size is 16M in the snapshot but 32M in this VM",
                "cpu_model is i686 in the snapshot but i386 in this VM"
            ]
        );
    }
}
