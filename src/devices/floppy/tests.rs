//! The controller through its ports, as a BIOS or a driver drives it.

use super::*;
use crate::devices::dma::{Dma, DmaMemory};
use crate::storage::testfile::{pattern, TestFile};
use crate::storage::DiskMode;

/// 1 MiB of memory for DMA.
struct Mem(Vec<u8>);
impl DmaMemory for Mem {
    fn dma_read(&mut self, addr: u32, buf: &mut [u8]) {
        let a = addr as usize;
        buf.copy_from_slice(&self.0[a..a + buf.len()]);
    }
    fn dma_write(&mut self, addr: u32, data: &[u8]) {
        let a = addr as usize;
        self.0[a..a + data.len()].copy_from_slice(data);
    }
}

struct Rig {
    fdc: Fdc,
    dma: Dma,
    mem: Mem,
    _file: TestFile,
}

fn rig_with(sectors: u64, mode: DiskMode) -> Rig {
    let file = TestFile::new(&pattern(512, sectors));
    let disk = Disk::open(file.path(), crate::storage::MediaKind::Disk, mode).unwrap();
    let mut fdc = Fdc::new();
    fdc.attach(0, Some(FloppyDrive::new(disk).unwrap()));
    Rig {
        fdc,
        dma: Dma::new(),
        mem: Mem(vec![0; 1 << 20]),
        _file: file,
    }
}

/// A 1.44M disk in A:.
fn rig() -> Rig {
    rig_with(2880, DiskMode::Overlay)
}

impl Rig {
    fn out(&mut self, port: u16, v: u8) {
        self.fdc.write_byte(port, v);
        if self.fdc.dreq() {
            self.dma.serve(2, &mut self.fdc, &mut self.mem);
        }
    }
    fn msr(&mut self) -> u8 {
        self.fdc.read_byte(0x3F4)
    }
    /// Sends a command; returns its result bytes (none for those without).
    fn command(&mut self, bytes: &[u8]) -> Vec<u8> {
        for &b in bytes {
            assert_eq!(self.msr() & 0xC0, 0x80, "ready for a command byte");
            self.out(0x3F5, b);
        }
        let mut result = Vec::new();
        while self.msr() & 0xD0 == 0xD0 {
            result.push(self.fdc.read_byte(0x3F5));
        }
        result
    }
    /// Sets up channel 2 for `count` bytes at `addr`, device to memory
    /// (`write` false) or memory to device.
    fn dma(&mut self, addr: u32, count: u16, to_device: bool) {
        self.dma.write_byte(0x0A, 0x06);
        self.dma
            .write_byte(0x0B, if to_device { 0x4A } else { 0x46 });
        self.dma.write_byte(0x0C, 0);
        self.dma.write_byte(0x04, addr as u8);
        self.dma.write_byte(0x04, (addr >> 8) as u8);
        self.dma.write_byte(0x81, (addr >> 16) as u8);
        self.dma.write_byte(0x05, (count - 1) as u8);
        self.dma.write_byte(0x05, ((count - 1) >> 8) as u8);
        self.dma.write_byte(0x0A, 0x02);
    }
    /// Resets through the DOR as SeaBIOS does and takes the first sense.
    fn reset(&mut self) {
        self.out(0x3F2, 0x00);
        assert!(!self.fdc.irq_level());
        self.out(0x3F2, 0x0C);
    }
}

fn image_sector(lba: usize) -> Vec<u8> {
    pattern(512, 2880)[lba * 512..(lba + 1) * 512].to_vec()
}

#[test]
fn a_dor_reset_interrupts_and_four_senses_report_each_drive() {
    let mut r = rig();
    r.reset();
    assert!(r.fdc.irq_level());
    assert_eq!(r.msr(), 0x80);
    for drive in 0..4 {
        assert_eq!(r.command(&[0x08]), [0xC0 | drive, 0]);
        assert!(!r.fdc.irq_level());
    }
    assert_eq!(r.command(&[0x08]), [0x80], "nothing more to sense");
    // The DSR's reset bit does the same.
    r.out(0x3F4, 0x80);
    assert!(r.fdc.irq_level());
    assert_eq!(r.command(&[0x08]), [0xC0, 0]);
}

#[test]
fn seek_and_recalibrate_interrupt_and_sense_reports_the_cylinder() {
    let mut r = rig();
    assert_eq!(
        r.fdc.read_byte(0x3F7) & 0x80,
        0x80,
        "disk changed at power-on"
    );
    assert!(r.command(&[0x0F, 0x04, 33]).is_empty());
    assert!(r.fdc.irq_level());
    assert_eq!(r.command(&[0x08]), [0x24, 33]);
    assert_eq!(
        r.fdc.read_byte(0x3F7) & 0x80,
        0,
        "a step clears the change line"
    );
    assert_eq!(r.command(&[0x04, 0x00]), [0x28]);
    assert!(r.command(&[0x07, 0x00]).is_empty());
    assert_eq!(r.command(&[0x08]), [0x20, 0]);
    assert_eq!(r.command(&[0x04, 0x00]), [0x38], "track 0");
    // Drive B: is absent: recalibrating it fails with an equipment check.
    r.command(&[0x07, 0x01]);
    assert_eq!(r.command(&[0x08])[0], 0x71);
}

#[test]
fn version_configure_lock_dumpreg_perpendicular_and_invalid_commands() {
    let mut r = rig();
    assert_eq!(r.command(&[0x10]), [0x90]);
    assert!(r.command(&[0x03, 0xAF, 0x02]).is_empty());
    assert!(r.command(&[0x13, 0, 0x57, 0x05]).is_empty());
    assert!(r.command(&[0x12, 0x83]).is_empty());
    assert_eq!(r.command(&[0x94]), [0x10]);
    let regs = r.command(&[0x0E]);
    assert_eq!(regs, [0, 0, 0, 0, 0xAF, 0x02, 18, 0x8C, 0x57, 0x05]);
    // LOCK keeps CONFIGURE over a reset; unlocked, it goes back.
    r.reset();
    assert_eq!(r.command(&[0x0E])[8..], [0x57, 0x05]);
    assert_eq!(r.command(&[0x14]), [0x00]);
    r.reset();
    assert_eq!(r.command(&[0x0E])[8..], [0x60, 0x00]);
    assert_eq!(r.command(&[0x1F]), [0x80]);
    assert!(!r.fdc.irq_level());
}

#[test]
fn read_data_by_dma_stops_at_terminal_count_with_the_next_id() {
    let mut r = rig();
    r.dma(0x1000, 3 * 512, false);
    let res = r.command(&[0xE6, 0x00, 0, 0, 2, 2, 18, 0x1B, 0xFF]);
    assert_eq!(res, [0x00, 0, 0, 0, 0, 5, 2]);
    for i in 0..3 {
        let at = 0x1000 + i * 512;
        assert_eq!(r.mem.0[at..at + 512], image_sector(1 + i)[..], "sector {i}");
    }
    assert!(!r.fdc.irq_level(), "reading the result cleared it");
    assert!(!r.dma.channel_enabled(2));
}

#[test]
fn multi_track_reads_run_onto_head_one_and_end_on_the_next_cylinder() {
    let mut r = rig();
    r.dma(0x2000, 4 * 512, false);
    // Sectors 17-18 of head 0 and 1-2 of head 1.
    let res = r.command(&[0xC6, 0x00, 0, 0, 17, 2, 18, 0x1B, 0xFF]);
    assert_eq!(res, [0x04, 0, 0, 0, 1, 3, 2]);
    assert_eq!(r.mem.0[0x2000..0x2200], image_sector(16)[..]);
    assert_eq!(r.mem.0[0x2600..0x2800], image_sector(19)[..]);
    // Without TC the read ends after the last sector of head 1.
    r.command(&[0x0F, 0x00, 5]);
    r.command(&[0x08]);
    r.dma(0x4000, 0xFFFF, false);
    let res = r.command(&[0xC6, 0x04, 5, 1, 18, 2, 18, 0x1B, 0xFF]);
    assert_eq!(res, [0x00, 0, 0, 6, 0, 1, 2]);
    assert_eq!(r.mem.0[0x4000..0x4200], image_sector(5 * 36 + 18 + 17)[..]);
}

#[test]
fn missing_sectors_wrong_cylinders_and_rates_end_abnormally() {
    let mut r = rig();
    r.dma(0x1000, 512, false);
    // Sector 19 of an 18-sector track.
    assert_eq!(
        r.command(&[0xE6, 0x00, 0, 0, 19, 2, 19, 0x1B, 0xFF])[..3],
        [0x40, 0x04, 0x00]
    );
    // Cylinder 3 asked for while the head is on 0, with implied seek off.
    r.command(&[0x13, 0, 0x20, 0]);
    assert_eq!(
        r.command(&[0xE6, 0x00, 3, 0, 1, 2, 18, 0x1B, 0xFF])[..3],
        [0x40, 0x04, 0x10]
    );
    // 250 kbit/s: a 1.44M disk has no marks READ ID can find at that rate.
    r.out(0x3F7, 0x02);
    assert_eq!(r.command(&[0x4A, 0x00])[..3], [0x40, 0x01, 0x00]);
    r.out(0x3F7, 0x00);
    assert_eq!(r.command(&[0x4A, 0x00]), [0x00, 0, 0, 0, 0, 1, 2]);
    // No drive B:.
    assert_eq!(r.command(&[0x4A, 0x01])[..2], [0x41, 0x01]);
}

#[test]
fn write_data_goes_to_the_overlay_and_reads_back() {
    let mut r = rig();
    r.mem.0[0x3000..0x3400].fill(0x5A);
    r.dma(0x3000, 1024, true);
    r.command(&[0x0F, 0x00, 1]);
    r.command(&[0x08]);
    let res = r.command(&[0xC5, 0x00, 1, 0, 4, 2, 18, 0x1B, 0xFF]);
    assert_eq!(res, [0x00, 0, 0, 1, 0, 6, 2]);
    let d = r.fdc.drive(0).unwrap();
    assert_eq!(d.media().unwrap().overlay().len(), 2);
    r.dma(0x8000, 512, false);
    r.command(&[0xE6, 0x00, 1, 0, 5, 2, 18, 0x1B, 0xFF]);
    assert_eq!(r.mem.0[0x8000..0x8200], [0x5A; 512]);
    assert_eq!(std::fs::read(r._file.path()).unwrap(), pattern(512, 2880));
}

#[test]
fn write_protected_media_refuse_write_and_format() {
    let mut r = rig_with(2880, DiskMode::ReadOnly);
    assert_eq!(r.command(&[0x04, 0x00])[0] & 0x40, 0x40);
    r.dma(0x3000, 512, true);
    assert_eq!(
        r.command(&[0xC5, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF])[..2],
        [0x40, 0x02]
    );
    assert_eq!(
        r.command(&[0x4D, 0x00, 2, 18, 0x54, 0xF6])[..2],
        [0x40, 0x02]
    );
}

#[test]
fn format_track_fills_the_sectors_it_is_given_ids_for() {
    let mut r = rig_with(720, DiskMode::Overlay); // 360K
    r.out(0x3F7, 0x01);
    let ids: Vec<u8> = (1..=9).flat_map(|s| [0, 1, s, 2]).collect();
    r.mem.0[0x5000..0x5000 + ids.len()].copy_from_slice(&ids);
    r.dma(0x5000, ids.len() as u16, true);
    let res = r.command(&[0x4D, 0x04, 2, 9, 0x54, 0xE5]);
    assert_eq!(res[..3], [0x04, 0, 0]);
    let d = r.fdc.drive(0).unwrap();
    let mut buf = vec![0u8; 512];
    for lba in 9..18 {
        d.media().unwrap().read(lba, &mut buf).unwrap();
        assert_eq!(buf, vec![0xE5; 512], "lba {lba}");
    }
    d.media().unwrap().read(8, &mut buf).unwrap();
    assert_eq!(buf, image_sector(8));
}

#[test]
fn non_dma_mode_moves_the_data_through_the_fifo() {
    let mut r = rig();
    r.command(&[0x03, 0xAF, 0x03]); // ND
    for &b in &[0x66, 0x04, 0, 1, 1, 2, 1, 0x1B, 0xFF] {
        r.out(0x3F5, b);
    }
    assert!(!r.fdc.dreq());
    let mut data = Vec::new();
    while r.msr() == 0xF0 {
        data.push(r.fdc.read_byte(0x3F5));
    }
    assert_eq!(data, image_sector(18));
    assert_eq!(r.msr(), 0xD0);
    assert_eq!(r.command(&[])[..], [0x04, 0, 0, 1, 1, 1, 2]);
}

#[test]
fn a_transfer_waits_for_the_dma_channel_and_reset_drops_it() {
    let mut r = rig();
    r.command(&[0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF]);
    assert_eq!(r.msr(), 0x10, "busy in the execution phase");
    assert!(r.fdc.dreq());
    r.dma(0x1000, 512, false);
    r.dma.serve(2, &mut r.fdc, &mut r.mem);
    assert_eq!(r.msr(), 0xD0);
    assert_eq!(r.command(&[]), [0, 0, 0, 0, 0, 2, 2]);
    r.command(&[0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF]);
    r.reset();
    assert!(!r.fdc.dreq());
    assert_eq!(r.msr(), 0x80);
}

#[test]
fn image_sizes_pick_formats_and_bad_sizes_are_refused_naming_the_file() {
    for (sectors, spt) in [
        (320, 8),
        (720, 9),
        (1440, 9),
        (2400, 15),
        (3360, 21),
        (5760, 36),
    ] {
        let r = rig_with(sectors, DiskMode::Overlay);
        assert_eq!(r.fdc.drive(0).unwrap().geometry().sectors, spt);
    }
    let grub = rig_with(2532, DiskMode::Overlay);
    let d = grub.fdc.drive(0).unwrap();
    assert_eq!(
        (d.geometry().sectors, d.media().unwrap().sectors()),
        (18, 2880)
    );
    let big = TestFile::new(&pattern(512, 5761));
    let disk = Disk::open(
        big.path(),
        crate::storage::MediaKind::Disk,
        DiskMode::Overlay,
    )
    .unwrap();
    let e = FloppyDrive::new(disk).unwrap_err().to_string();
    assert!(e.contains(&big.path().display().to_string()), "{e}");
    assert!(e.contains("1.44M (1474560 bytes)"), "{e}");
}

#[test]
fn the_controller_survives_a_snapshot_with_its_media_file() {
    let mut r = rig();
    r.command(&[0x0F, 0x00, 7]);
    let saved: Fdc = postcard::from_bytes(&postcard::to_allocvec(&r.fdc).unwrap()).unwrap();
    r.command(&[0x08]);
    r.command(&[0x0F, 0x00, 9]);
    r.fdc.restore(saved);
    assert_eq!(r.fdc.drive(0).unwrap().cylinder(), 7);
    assert!(r.fdc.irq_level());
    let mut buf = vec![0u8; 512];
    let media = r.fdc.drive(0).unwrap().media().unwrap();
    media.read(3, &mut buf).unwrap();
    assert_eq!(buf, image_sector(3));
}

#[test]
fn ejecting_and_inserting_a_diskette_raise_the_change_line_and_reads_follow() {
    let mut r = rig();
    let dir = |r: &mut Rig| r.fdc.read_byte(0x3F7) & 0x80;
    r.command(&[0x07, 0x00]);
    r.command(&[0x08]);
    assert_eq!(dir(&mut r), 0, "a step cleared the change line");
    r.fdc.slot_mut(0).unwrap().eject();
    assert_eq!(dir(&mut r), 0x80, "the diskette went out");
    r.command(&[0x07, 0x00]);
    r.command(&[0x08]);
    assert_eq!(dir(&mut r), 0x80, "no diskette: a step leaves the line set");
    r.dma(0x1000, 512, false);
    assert_eq!(
        r.command(&[0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF])[..2],
        [0x40, 0x01],
        "no diskette: no address mark"
    );
    assert_eq!(r.command(&[0x4A, 0x00])[..2], [0x40, 0x01]);

    // A 720K diskette goes in: the new format and contents are read.
    let other = TestFile::new(&vec![0xC3; 1440 * 512]);
    let disk = Disk::open(
        other.path(),
        crate::storage::MediaKind::Disk,
        DiskMode::Overlay,
    )
    .unwrap();
    r.fdc.slot_mut(0).unwrap().insert(disk).unwrap();
    assert_eq!(dir(&mut r), 0x80);
    assert_eq!(r.fdc.drive(0).unwrap().geometry().sectors, 9);
    r.command(&[0x07, 0x00]);
    r.command(&[0x08]);
    assert_eq!(dir(&mut r), 0);
    r.out(0x3F7, 0x02); // 250 kbit/s, a 720K diskette's rate
    r.dma(0x2000, 512, false);
    assert_eq!(
        r.command(&[0xE6, 0x00, 0, 0, 1, 2, 9, 0x1B, 0xFF])[..3],
        [0x00, 0, 0]
    );
    assert_eq!(r.mem.0[0x2000..0x2200], [0xC3; 512]);

    // A size no format has is refused and the diskette stays.
    let odd = TestFile::new(&pattern(512, 5761));
    let disk = Disk::open(
        odd.path(),
        crate::storage::MediaKind::Disk,
        DiskMode::Overlay,
    )
    .unwrap();
    assert!(r.fdc.slot_mut(0).unwrap().insert(disk).is_err());
    assert_eq!(r.fdc.drive(0).unwrap().geometry().sectors, 9);
}
