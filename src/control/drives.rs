//! A VM's drives: while it is off, a [`DriveConfig`] is checked (index,
//! media), its image opened and checked (never written unless write-through
//! was asked for), the drive put on the board and recorded in the
//! configuration, so snapshots name it and a power cycle keeps it; or taken
//! off again. At any time a CD-ROM's disc or a floppy's diskette can be
//! ejected or changed (the guest sees the media change, as on a real
//! drive), a disk read as the guest sees it, saved whole to a new image, or
//! its overlay committed to the image file.

use super::action::Action;
use super::output_file::write_whole_with;
use super::vm::Vm;
use super::ControlError;
use crate::devices::ata::Drive;
use crate::devices::FloppyDrive;
use crate::machine::{DriveConfig, DriveId, DriveInterface};
use crate::storage::{Disk, DiskMode, MediaKind};
use std::path::Path;

/// The most a single `disk_read` returns (bytes).
pub const MAX_DISK_READ: u64 = 64 << 20;

/// What `info block` and `vm:drives()` show of one drive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveInfo {
    /// Which drive (`id.to_string()` is its name: `ide0`, `fd0`...).
    pub id: DriveId,
    pub media: MediaKind,
    /// The image, or `None` (an empty CD-ROM drive).
    pub path: Option<std::path::PathBuf>,
    pub mode: DiskMode,
    pub sectors: u64,
    pub sector_size: u32,
    /// Sectors the guest wrote that are only in the overlay.
    pub dirty_sectors: usize,
}

impl DriveInfo {
    /// What the drive is: disk, cdrom or floppy.
    pub fn kind(&self) -> &'static str {
        crate::machine::media_name(self.id.interface, self.media)
    }
}

impl Vm {
    /// Attaches `drive` (replacing any drive at its index). Only while off.
    pub fn attach_drive(&mut self, drive: DriveConfig) -> Result<(), ControlError> {
        self.guard(Action::AttachDrive)?;
        let count = drive.interface.drives();
        if drive.index >= count {
            return Err(ControlError::BadValue {
                name: "drive index".into(),
                reason: format!(
                    "{} is not 0-{} ({} has {count} drives)",
                    drive.index,
                    count - 1,
                    drive.interface.name()
                ),
            });
        }
        match drive.interface {
            DriveInterface::Ide => {
                let device = drive.open()?;
                self.machine_mut()?.attach_ide(drive.index, Some(device));
            }
            DriveInterface::Floppy => {
                let device = drive.open_floppy()?;
                self.machine_mut()?.attach_floppy(drive.index, Some(device));
            }
        }
        let config = self.config().clone();
        self.machine_mut()?.write_firmware_cmos(&config);
        let drives = &mut self.config_mut().drives;
        drives.retain(|d| d.id() != drive.id());
        drives.push(drive);
        drives.sort_by_key(|d| (d.interface == DriveInterface::Floppy, d.index));
        Ok(())
    }

    /// The drives attached, by index.
    pub fn drives(&self) -> &[DriveConfig] {
        &self.config().drives
    }

    /// The drives attached, IDE first, with their media as the board has
    /// them now.
    pub fn drive_info(&self) -> Result<Vec<DriveInfo>, ControlError> {
        self.guard(Action::Drives)?;
        Ok(self
            .drives()
            .iter()
            .map(|d| {
                let disk = self.media_of(d.id()).ok();
                DriveInfo {
                    id: d.id(),
                    media: d.media,
                    path: disk.map(|k| k.path().to_path_buf()),
                    mode: disk.map_or(d.mode, Disk::mode),
                    sectors: disk.map_or(0, Disk::sectors),
                    sector_size: d.media.sector_size(),
                    dirty_sectors: disk.map_or(0, |k| k.overlay().len()),
                }
            })
            .collect())
    }

    /// The drive called `name` (`ide0`..`ide3` or just `0`..`3`, `fd0`,
    /// `fd1`); with no name, the first CD-ROM drive when `cdrom`, else the
    /// first drive.
    pub fn find_drive(&self, name: Option<&str>, cdrom: bool) -> Result<DriveId, ControlError> {
        if self.state() == crate::control::VmState::Destroyed {
            return Err(ControlError::Destroyed);
        }
        let drives = self.drives();
        let names = || {
            let list: Vec<String> = drives.iter().map(DriveConfig::name).collect();
            if list.is_empty() {
                "the VM has no drives".to_string()
            } else {
                format!("the drives are {}", list.join(", "))
            }
        };
        let found = match name {
            Some(n) => {
                let id = DriveId::parse(n);
                drives.iter().find(|d| Some(d.id()) == id)
            }
            None if cdrom => drives.iter().find(|d| d.media == MediaKind::Cdrom),
            None => drives.first(),
        };
        found
            .map(DriveConfig::id)
            .ok_or_else(|| ControlError::BadValue {
                name: "drive".into(),
                reason: match name {
                    Some(n) => format!("no drive '{n}' ({})", names()),
                    None if cdrom => format!("no CD-ROM drive ({})", names()),
                    None => names(),
                },
            })
    }

    fn config_drive(&mut self, id: DriveId) -> &mut DriveConfig {
        self.config_mut()
            .drives
            .iter_mut()
            .find(|d| d.id() == id)
            .expect("find_drive found it")
    }

    /// Checks that drive `id` is attached and takes removable media: a
    /// CD-ROM or a floppy drive.
    fn check_removable(&self, id: DriveId) -> Result<&DriveConfig, ControlError> {
        let drive =
            self.drives()
                .iter()
                .find(|d| d.id() == id)
                .ok_or_else(|| ControlError::BadValue {
                    name: "drive".into(),
                    reason: format!("no drive '{id}'"),
                })?;
        if drive.interface == DriveInterface::Ide && drive.media != MediaKind::Cdrom {
            return Err(ControlError::BadValue {
                name: "drive".into(),
                reason: format!(
                    "{id} is a hard disk: only a CD-ROM's disc or a floppy can be ejected or changed"
                ),
            });
        }
        Ok(drive)
    }

    /// Takes the disc or diskette out of drive `id` (a CD-ROM's lock is
    /// overridden, as by a host's forced eject); the guest sees the media
    /// go (a CD-ROM's UNIT ATTENTION, a floppy's disk-change line).
    pub fn eject(&mut self, id: DriveId) -> Result<(), ControlError> {
        self.guard(Action::CdromEject)?;
        self.check_removable(id)?;
        let m = self.machine_mut()?;
        match id.interface {
            DriveInterface::Ide => m.ide_drive_mut(id.index).map(|d| {
                d.eject();
            }),
            DriveInterface::Floppy => m.floppy_drive_mut(id.index).map(FloppyDrive::eject),
        }
        .expect("check_removable found the drive");
        self.config_drive(id).path = None;
        Ok(())
    }

    /// Puts the image `path` into removable drive `id` (a CD-ROM's disc,
    /// or a diskette, written as the drive's mode says), replacing what
    /// was there; the guest sees new media. A bad image is refused and
    /// the drive left as it was.
    pub fn insert_disc(&mut self, id: DriveId, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::CdromInsert)?;
        let mode = self.check_removable(id)?.mode;
        let m = self.machine_mut()?;
        match id.interface {
            DriveInterface::Ide => {
                let disc = Disk::open(path, MediaKind::Cdrom, DiskMode::ReadOnly)?;
                m.ide_drive_mut(id.index)
                    .expect("check_removable found the drive")
                    .insert(disc);
            }
            DriveInterface::Floppy => {
                let diskette = Disk::open(path, MediaKind::Disk, mode)?;
                m.floppy_drive_mut(id.index)
                    .expect("check_removable found the drive")
                    .insert(diskette)?;
            }
        }
        self.config_drive(id).path = Some(path.to_path_buf());
        Ok(())
    }

    /// Takes drive `id` off the board (nothing if none is there). Only
    /// while off.
    pub fn detach_drive(&mut self, id: DriveId) -> Result<(), ControlError> {
        self.guard(Action::AttachDrive)?;
        let m = self.machine_mut()?;
        match id.interface {
            DriveInterface::Ide => m.attach_ide(id.index, None),
            DriveInterface::Floppy => m.attach_floppy(id.index, None),
        }
        let config = self.config().clone();
        self.machine_mut()?.write_firmware_cmos(&config);
        self.config_mut().drives.retain(|d| d.id() != id);
        Ok(())
    }

    fn media_of(&self, id: DriveId) -> Result<&Disk, ControlError> {
        let m = self.machine()?;
        match id.interface {
            DriveInterface::Ide => m.ide_drive(id.index).and_then(Drive::media),
            DriveInterface::Floppy => m.floppy_drive(id.index).and_then(FloppyDrive::media),
        }
        .ok_or_else(|| ControlError::BadValue {
            name: "drive".into(),
            reason: format!("{id} has no media"),
        })
    }

    /// `count` sectors from `lba` of drive `id` as the guest sees them
    /// (its writes in the overlay over the image).
    pub fn disk_read(&self, id: DriveId, lba: u64, count: u64) -> Result<Vec<u8>, ControlError> {
        self.guard(Action::DiskRead)?;
        let disk = self.media_of(id)?;
        let bytes = count.saturating_mul(u64::from(disk.sector_size()));
        if bytes > MAX_DISK_READ {
            return Err(ControlError::BadValue {
                name: "count".into(),
                reason: format!(
                    "{count} sectors is {bytes} bytes, more than one read returns ({MAX_DISK_READ}); read in pieces or save the disk"
                ),
            });
        }
        let mut buf = vec![0u8; bytes as usize];
        disk.peek(lba, &mut buf)?;
        Ok(buf)
    }

    /// Writes the whole of drive `id` as the guest sees it to a new image
    /// at `path` (the drive's own image is not changed).
    pub fn disk_save(&self, id: DriveId, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::DiskSave)?;
        let disk = self.media_of(id)?;
        let same = std::fs::canonicalize(path)
            .ok()
            .is_some_and(|p| std::fs::canonicalize(disk.path()).ok() == Some(p));
        if same {
            return Err(ControlError::BadValue {
                name: "path".into(),
                reason: format!(
                    "'{}' is the drive's own image: use commit to write the guest's changes into it",
                    path.display()
                ),
            });
        }
        let mut failure = None;
        let result = write_whole_with(path, |w| {
            disk.write_image(w).map_err(|e| {
                let io = std::io::Error::other(e.to_string());
                failure = Some(e);
                io
            })
        });
        match (result, failure) {
            (_, Some(e)) => Err(e.into()),
            (r, None) => r,
        }
    }

    /// Writes the overlay of drive `id` into its image file and empties
    /// it; returns the sectors written.
    pub fn disk_commit(&mut self, id: DriveId) -> Result<usize, ControlError> {
        self.guard(Action::DiskCommit)?;
        self.media_of(id)?;
        let m = self.machine_mut()?;
        let disk = match id.interface {
            DriveInterface::Ide => m.ide_drive_mut(id.index).and_then(Drive::media_mut),
            DriveInterface::Floppy => m
                .floppy_drive_mut(id.index)
                .and_then(FloppyDrive::media_mut),
        }
        .expect("media_of found it");
        Ok(disk.commit()?)
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

    fn floppy(f: &TestFile, index: u8) -> DriveConfig {
        DriveConfig {
            interface: DriveInterface::Floppy,
            index,
            ..hda(f)
        }
    }

    /// Writes `byte` over sector 1 of A: by a WRITE DATA through the
    /// FIFO (non-DMA mode).
    fn floppy_write(vm: &mut Vm, byte: u8) {
        let io = &mut vm.machine_mut().unwrap().board.io;
        for b in [0x03, 0xAF, 0x03, 0xC5, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF] {
            io.write(0x3F5, IoSize::Byte, b, 0);
        }
        for _ in 0..512 {
            io.write(0x3F5, IoSize::Byte, u32::from(byte), 0);
        }
        for _ in 0..7 {
            io.read(0x3F5, IoSize::Byte, 0);
        }
    }

    fn floppy_sector0(vm: &Vm) -> u8 {
        let mut buf = [0u8; 512];
        let d = vm.machine().unwrap().floppy_drive(0).unwrap();
        d.media().unwrap().read(0, &mut buf).unwrap();
        buf[0]
    }

    #[test]
    fn hard_disks_put_their_chs_translation_in_cmos() {
        let small = TestFile::disk(2100);
        let big = TestFile::sparse(1219 * 16 * 63);
        let huge = TestFile::sparse(16383 * 16 * 63);
        let cd = TestFile::cd(32);
        let mut vm = Vm::new(MachineConfig::default()).unwrap();
        let cmos = |vm: &mut Vm, i| vm.machine_mut().unwrap().board.io.rtc.read_cmos(i);
        assert_eq!(cmos(&mut vm, 0x39), 0);
        for (index, f, media) in [
            (0, &small, MediaKind::Disk),
            (1, &big, MediaKind::Disk),
            (2, &cd, MediaKind::Cdrom),
            (3, &huge, MediaKind::Disk),
        ] {
            vm.attach_drive(DriveConfig {
                interface: DriveInterface::Ide,
                index,
                media,
                path: Some(f.path().to_path_buf()),
                mode: DiskMode::Overlay,
            })
            .unwrap();
        }
        // 0: none (20 cylinders), 1: large (1219), 2: a CD, 3: LBA.
        let want = 2 << 2 | 1 << 6;
        assert_eq!(cmos(&mut vm, 0x39), want);
        vm.set("rtc_start", crate::control::Value::Int(1_000_000))
            .unwrap();
        assert_eq!(cmos(&mut vm, 0x39), want, "a new RTC gets them too");
        vm.power_on().unwrap();
        vm.power_off().unwrap();
        assert_eq!(cmos(&mut vm, 0x39), want, "and a power cycle");
    }

    #[test]
    fn floppies_set_cmos_and_survive_power_cycles_and_snapshots() {
        let a = TestFile::disk(2880);
        let b = TestFile::disk(1440);
        let mut vm = Vm::new(MachineConfig::default()).unwrap();
        vm.attach_drive(hda(&a)).unwrap();
        vm.attach_drive(floppy(&a, 0)).unwrap();
        vm.attach_drive(floppy(&b, 1)).unwrap();
        assert_eq!(vm.drives().len(), 3, "IDE 0 and floppy 0 are two drives");
        let cmos = |vm: &mut Vm, i| vm.machine_mut().unwrap().board.io.rtc.read_cmos(i);
        assert_eq!(cmos(&mut vm, 0x10), 0x43, "A: 1.44M, B: 720K");
        assert_eq!(cmos(&mut vm, 0x14) & 0xC1, 0x41, "two floppies");
        vm.set("rtc_start", crate::control::Value::Int(1_000_000))
            .unwrap();
        assert_eq!(cmos(&mut vm, 0x10), 0x43, "a new RTC gets them too");
        vm.power_on().unwrap();
        floppy_write(&mut vm, 0x44);
        assert_eq!(floppy_sector0(&vm), 0x44);
        let snap = vm.snapshot().unwrap();
        floppy_write(&mut vm, 0x55);
        vm.restore(&snap).unwrap();
        assert_eq!(floppy_sector0(&vm), 0x44);
        vm.power_off().unwrap();
        assert_eq!(floppy_sector0(&vm), 0x44, "a power cycle keeps the overlay");
        assert_eq!(cmos(&mut vm, 0x10), 0x43);
        assert_eq!(
            std::fs::read(a.path()).unwrap(),
            crate::storage::testfile::pattern(512, 2880)
        );

        let mut other = Vm::new(MachineConfig::default()).unwrap();
        other.attach_drive(hda(&a)).unwrap();
        other.attach_drive(floppy(&a, 0)).unwrap();
        other.power_on().unwrap();
        let e = other.restore(&snap).unwrap_err().to_string();
        assert!(e.contains("floppy1"), "{e}");
        let e = vm.attach_drive(floppy(&a, 2)).unwrap_err().to_string();
        assert!(e.contains("is not 0-1 (floppy has 2 drives)"), "{e}");
    }
}
