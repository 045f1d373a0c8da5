//! Attaching drives to a VM: while it is off, a [`DriveConfig`] is checked
//! (index, media), its image opened and checked (never written unless
//! write-through was asked for), the drive put on the board and recorded
//! in the configuration, so snapshots name it and a power cycle keeps it.

use super::action::Action;
use super::vm::Vm;
use super::ControlError;
use crate::machine::{DriveConfig, IDE_DRIVES};

impl Vm {
    /// Attaches `drive` (replacing any drive at its index). Only while off.
    pub fn attach_drive(&mut self, drive: DriveConfig) -> Result<(), ControlError> {
        self.guard(Action::AttachDrive)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::IoSize;
    use crate::machine::{DriveInterface, MachineConfig};
    use crate::storage::testfile::TestFile;
    use crate::storage::{DiskMode, MediaKind};

    fn hda(f: &TestFile) -> DriveConfig {
        DriveConfig {
            interface: DriveInterface::Ide,
            index: 0,
            media: MediaKind::Disk,
            path: Some(f.path().to_path_buf()),
            mode: DiskMode::Overlay,
        }
    }

    /// Writes `byte` over sector 0 through the ports.
    fn guest_write(vm: &mut Vm, byte: u8) {
        let io = &mut vm.machine_mut().unwrap().board.io;
        for (port, v) in [
            (0x1F6, 0xE0),
            (0x1F2, 1),
            (0x1F3, 0),
            (0x1F4, 0),
            (0x1F5, 0),
            (0x1F7, 0x30),
        ] {
            io.write(port, IoSize::Byte, v, 0);
        }
        for _ in 0..256 {
            io.write(0x1F0, IoSize::Word, u32::from(byte) * 0x101, 0);
        }
    }

    fn sector0(vm: &Vm) -> u8 {
        let m = vm.machine().unwrap();
        let mut buf = [0u8; 512];
        m.ide_drive(0)
            .unwrap()
            .media()
            .unwrap()
            .read(0, &mut buf)
            .unwrap();
        buf[0]
    }

    #[test]
    fn drives_attach_while_off_and_survive_power_cycles_and_snapshots() {
        let f = TestFile::disk(8);
        let mut vm = Vm::new(MachineConfig::default()).unwrap();
        vm.attach_drive(hda(&f)).unwrap();
        assert_eq!(vm.drives().len(), 1);
        vm.power_on().unwrap();
        assert!(vm.attach_drive(hda(&f)).is_err(), "only while off");
        guest_write(&mut vm, 0x11);
        let snap = vm.snapshot().unwrap();
        guest_write(&mut vm, 0x22);
        assert_eq!(sector0(&vm), 0x22);
        vm.restore(&snap).unwrap();
        assert_eq!(sector0(&vm), 0x11);
        vm.power_off().unwrap();
        assert_eq!(
            sector0(&vm),
            0x11,
            "the overlay is the disk: a power cycle keeps it"
        );

        let mut other = Vm::new(MachineConfig::default()).unwrap();
        other.power_on().unwrap();
        let e = other.restore(&snap).unwrap_err().to_string();
        assert!(e.contains("drives"), "{e}");
    }

    #[test]
    fn a_snapshot_file_carries_the_overlay_to_a_vm_with_the_same_drive() {
        let f = TestFile::disk(8);
        let before = std::fs::read(f.path()).unwrap();
        let state = TestFile::new(&[]);
        let mut vm = Vm::new(MachineConfig::default()).unwrap();
        vm.attach_drive(hda(&f)).unwrap();
        vm.power_on().unwrap();
        guest_write(&mut vm, 0x33);
        vm.save_state(state.path()).unwrap();

        let mut other = Vm::new(MachineConfig::default()).unwrap();
        other.attach_drive(hda(&f)).unwrap();
        other.power_on().unwrap();
        assert_eq!(sector0(&other), before[0]);
        other.restore_state(state.path()).unwrap();
        assert_eq!(sector0(&other), 0x33);
        let m = other.machine().unwrap();
        let mut buf = [0u8; 512];
        m.ide_drive(0)
            .unwrap()
            .media()
            .unwrap()
            .read(1, &mut buf)
            .unwrap();
        assert_eq!(
            buf[..],
            before[512..1024],
            "the rest still comes from the file"
        );
        assert_eq!(std::fs::read(f.path()).unwrap(), before);
    }

    #[test]
    fn a_bad_drive_is_refused_and_nothing_attached() {
        let empty = TestFile::new(&[]);
        let mut vm = Vm::new(MachineConfig::default()).unwrap();
        let e = vm.attach_drive(hda(&empty)).unwrap_err().to_string();
        assert!(e.contains("is empty"), "{e}");
        let f = TestFile::disk(8);
        let e = vm
            .attach_drive(DriveConfig {
                index: 4,
                ..hda(&f)
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("0-3"), "{e}");
        assert!(vm.drives().is_empty());
        assert!(vm.machine().unwrap().ide_drive(0).is_none());
    }
}
