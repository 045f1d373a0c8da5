//! The controller driven through its ports, as a guest driver would.

use super::regs::*;
use super::*;
use crate::devices::{IoSize, PortDevice};
use crate::storage::testfile::{pattern, TestFile};
use crate::storage::{Disk, DiskMode, MediaKind};

const BASE: u16 = ATA_PRIMARY;
const CTL: u16 = ATA_PRIMARY_CTL;

fn disk_channel(f: &TestFile) -> AtaChannel {
    let mut c = AtaChannel::new();
    let disk = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    c.attach(0, Some(Drive::hard_disk(disk, 0)));
    c
}

fn cd_channel(f: Option<&TestFile>) -> AtaChannel {
    let mut c = AtaChannel::new();
    let disc = f.map(|f| Disk::open(f.path(), MediaKind::Cdrom, DiskMode::ReadOnly).unwrap());
    c.attach(1, Some(Drive::cdrom(disc, 3)));
    c
}

fn out(c: &mut AtaChannel, reg: u16, v: u8) {
    c.write(BASE + reg, IoSize::Byte, u32::from(v));
}
fn inb(c: &mut AtaChannel, reg: u16) -> u8 {
    c.read(BASE + reg, IoSize::Byte) as u8
}
fn status(c: &mut AtaChannel) -> u8 {
    inb(c, 7)
}
fn read_words(c: &mut AtaChannel, bytes: usize) -> Vec<u8> {
    (0..bytes / 2)
        .flat_map(|_| (c.read(BASE, IoSize::Word) as u16).to_le_bytes())
        .collect()
}
fn read_dwords(c: &mut AtaChannel, bytes: usize) -> Vec<u8> {
    (0..bytes / 4)
        .flat_map(|_| c.read(BASE, IoSize::Dword).to_le_bytes())
        .collect()
}
fn write_words(c: &mut AtaChannel, data: &[u8]) {
    for w in data.chunks_exact(2) {
        c.write(
            BASE,
            IoSize::Word,
            u32::from(u16::from_le_bytes([w[0], w[1]])),
        );
    }
}
fn lba28(c: &mut AtaChannel, dev: u8, lba: u32, count: u8) {
    out(c, 6, 0xE0 | dev | (lba >> 24) as u8 & 0x0F);
    out(c, 2, count);
    out(c, 3, lba as u8);
    out(c, 4, (lba >> 8) as u8);
    out(c, 5, (lba >> 16) as u8);
}
fn lba48(c: &mut AtaChannel, lba: u64, count: u16) {
    out(c, 6, 0x40);
    out(c, 2, (count >> 8) as u8);
    out(c, 3, (lba >> 24) as u8);
    out(c, 4, (lba >> 32) as u8);
    out(c, 5, (lba >> 40) as u8);
    out(c, 2, count as u8);
    out(c, 3, lba as u8);
    out(c, 4, (lba >> 8) as u8);
    out(c, 5, (lba >> 16) as u8);
}
fn word(id: &[u8], w: usize) -> u16 {
    u16::from_le_bytes([id[2 * w], id[2 * w + 1]])
}
fn string(id: &[u8], first: usize, words: usize) -> String {
    (first..first + words)
        .flat_map(|w| word(id, w).to_be_bytes())
        .map(char::from)
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[test]
fn identify_describes_the_disk() {
    let f = TestFile::disk(20160 + 5); // 20 cylinders of 16x63, plus a few
    let mut c = disk_channel(&f);
    out(&mut c, 6, 0xA0);
    out(&mut c, 7, 0xEC);
    assert!(c.irq_level());
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC | ST_DRQ);
    assert!(!c.irq_level(), "reading status acknowledges the interrupt");
    let id = read_words(&mut c, 512);
    assert_eq!(status(&mut c) & ST_DRQ, 0);
    assert_eq!(word(&id, 0), 0x0040);
    assert_eq!((word(&id, 1), word(&id, 3), word(&id, 6)), (20, 16, 63));
    assert_eq!(string(&id, 27, 20), "MOON86 HARDDISK");
    assert_eq!(string(&id, 10, 10), "MN86-0000");
    assert_ne!(word(&id, 49) & 1 << 9, 0, "LBA");
    assert_eq!(word(&id, 47) & 0xFF, 16);
    assert_eq!(
        u32::from(word(&id, 60)) | u32::from(word(&id, 61)) << 16,
        20165
    );
    assert_ne!(word(&id, 83) & 1 << 10, 0, "LBA48");
    assert_eq!(word(&id, 100), 20165);
    assert_eq!(word(&id, 255) & 0xFF, 0xA5);
    assert_eq!(id.iter().fold(0u8, |a, b| a.wrapping_add(*b)), 0);
}

#[test]
fn identify_gives_a_disk_smaller_than_a_cylinder_two_cylinders() {
    // As QEMU does: a BIOS's INT 13h AH=08h reports the cylinders less two
    // as the maximum, which must not wrap around.
    for (sectors, cylinders) in [(64, 2), (1008, 2), (2015, 2), (2016, 2), (3024, 3)] {
        let f = TestFile::disk(sectors);
        let mut c = disk_channel(&f);
        out(&mut c, 6, 0xA0);
        out(&mut c, 7, 0xEC);
        let id = read_words(&mut c, 512);
        assert_eq!(
            (word(&id, 1), word(&id, 3), word(&id, 6)),
            (cylinders, 16, 63),
            "{sectors} sectors"
        );
        assert_eq!(word(&id, 54), cylinders, "{sectors} sectors");
        assert_eq!(word(&id, 60), sectors as u16, "{sectors} sectors");
    }
    // CHS still reaches no sector past the image: cylinder 1 of a
    // 64-sector disk is aborted.
    let f = TestFile::disk(64);
    let mut c = disk_channel(&f);
    out(&mut c, 6, 0xA0);
    out(&mut c, 2, 1);
    out(&mut c, 3, 1);
    out(&mut c, 4, 1);
    out(&mut c, 5, 0);
    out(&mut c, 7, 0x20);
    assert_eq!(status(&mut c) & (ST_DRQ | ST_ERR), ST_ERR);
}

#[test]
fn reads_in_lba28_lba48_and_chs_return_the_files_bytes() {
    let f = TestFile::disk(2100);
    let file = pattern(512, 2100);
    let mut c = disk_channel(&f);

    lba28(&mut c, 0, 5, 2);
    out(&mut c, 7, 0x20);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC | ST_DRQ);
    let first = read_words(&mut c, 512);
    assert!(c.irq_level(), "an interrupt per sector");
    assert_eq!(status(&mut c) & ST_DRQ, ST_DRQ);
    let second = read_dwords(&mut c, 512);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
    assert_eq!([first, second].concat(), file[5 * 512..7 * 512]);

    lba48(&mut c, 2099, 1);
    out(&mut c, 7, 0x24);
    assert_eq!(read_words(&mut c, 512), file[2099 * 512..]);

    // CHS: cylinder 1, head 2, sector 3 in 16x63 = (1*16+2)*63+2.
    out(&mut c, 6, 0xA2);
    out(&mut c, 2, 1);
    out(&mut c, 3, 3);
    out(&mut c, 4, 1);
    out(&mut c, 5, 0);
    out(&mut c, 7, 0x20);
    let lba = (16 + 2) * 63 + 2;
    assert_eq!(read_words(&mut c, 512), file[lba * 512..(lba + 1) * 512]);

    // After INITIALIZE DEVICE PARAMETERS: 4 heads of 17 sectors.
    out(&mut c, 6, 0xA3);
    out(&mut c, 2, 17);
    out(&mut c, 7, 0x91);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
    out(&mut c, 6, 0xA1);
    out(&mut c, 2, 1);
    out(&mut c, 3, 1);
    out(&mut c, 4, 2);
    out(&mut c, 7, 0x20);
    let lba = (2 * 4 + 1) * 17;
    assert_eq!(read_words(&mut c, 512), file[lba * 512..(lba + 1) * 512]);
}

#[test]
fn read_multiple_moves_a_block_per_interrupt() {
    let f = TestFile::disk(64);
    let file = pattern(512, 64);
    let mut c = disk_channel(&f);
    lba28(&mut c, 0, 0, 6);
    out(&mut c, 7, 0xC4);
    assert_eq!(status(&mut c) & ST_ERR, ST_ERR, "no multiple mode set yet");
    out(&mut c, 2, 4);
    out(&mut c, 7, 0xC6);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
    lba28(&mut c, 0, 10, 6);
    out(&mut c, 7, 0xC4);
    let a = read_words(&mut c, 4 * 512);
    assert!(c.irq_level());
    let b = read_words(&mut c, 2 * 512);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
    assert_eq!([a, b].concat(), file[10 * 512..16 * 512]);
}

#[test]
fn a_write_lands_in_the_overlay_and_the_file_is_unchanged() {
    let f = TestFile::disk(16);
    let before = std::fs::read(f.path()).unwrap();
    let mtime = std::fs::metadata(f.path()).unwrap().modified().unwrap();
    let mut c = disk_channel(&f);
    lba28(&mut c, 0, 3, 2);
    out(&mut c, 7, 0x30);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC | ST_DRQ);
    assert!(!c.irq_level(), "no interrupt before the first block");
    let data: Vec<u8> = (0..1024).map(|i| (i * 3) as u8).collect();
    write_words(&mut c, &data[..512]);
    assert!(c.irq_level());
    write_words(&mut c, &data[512..]);
    assert!(c.irq_level());
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
    out(&mut c, 7, 0xE7);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);

    lba28(&mut c, 0, 2, 4);
    out(&mut c, 7, 0x20);
    let back = read_words(&mut c, 4 * 512);
    assert_eq!(back[..512], before[1024..1536]);
    assert_eq!(back[512..1536], data[..]);
    assert_eq!(back[1536..], before[2560..3072]);
    assert_eq!(c.drive(0).unwrap().media().unwrap().overlay().len(), 2);
    assert_eq!(std::fs::read(f.path()).unwrap(), before);
    assert_eq!(
        std::fs::metadata(f.path()).unwrap().modified().unwrap(),
        mtime
    );
}

#[test]
fn bad_addresses_and_commands_end_in_errors() {
    let f = TestFile::disk(16);
    let mut c = disk_channel(&f);
    lba28(&mut c, 0, 15, 2);
    out(&mut c, 7, 0x20);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC | ST_ERR);
    assert_eq!(inb(&mut c, 1), ERR_IDNF);
    lba48(&mut c, u64::MAX >> 16, 0);
    out(&mut c, 7, 0x34);
    assert_eq!(inb(&mut c, 1), ERR_IDNF);
    out(&mut c, 6, 0xA0);
    out(&mut c, 2, 1);
    out(&mut c, 3, 0); // CHS sector 0 does not exist
    out(&mut c, 7, 0x20);
    assert_eq!(inb(&mut c, 1), ERR_IDNF);
    for cmd in [0x00, 0xA0, 0xA1, 0xC8, 0xB0, 0xFF] {
        out(&mut c, 7, cmd);
        assert_eq!(status(&mut c) & ST_ERR, ST_ERR, "command {cmd:#x}");
        assert_eq!(inb(&mut c, 1), ERR_ABRT, "command {cmd:#x}");
    }
    // The data port with nothing to transfer, and every port in every size.
    for port in (BASE..BASE + 8).chain([CTL]) {
        for size in [IoSize::Byte, IoSize::Word, IoSize::Dword] {
            c.read(port, size);
            c.write(port, size, 0xFFFF_FFFF);
        }
    }
}

#[test]
fn soft_reset_gives_the_signatures() {
    let fd = TestFile::disk(16);
    let mut c = disk_channel(&fd);
    c.attach(1, Some(Drive::cdrom(None, 1)));
    c.write(CTL, IoSize::Byte, 0x06);
    assert_eq!(status(&mut c) & ST_BSY, ST_BSY);
    c.write(CTL, IoSize::Byte, 0x02);
    out(&mut c, 6, 0xA0);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
    assert_eq!([inb(&mut c, 2), inb(&mut c, 3)], [1, 1]);
    assert_eq!([inb(&mut c, 4), inb(&mut c, 5)], [0x00, 0x00]);
    assert_eq!(inb(&mut c, 1), 0x01);
    out(&mut c, 6, 0xB0);
    assert_eq!([inb(&mut c, 4), inb(&mut c, 5)], [0x14, 0xEB]);
    assert_eq!(status(&mut c), 0);
    // IDENTIFY DEVICE to the CD-ROM aborts with its signature.
    out(&mut c, 4, 0);
    out(&mut c, 7, 0xEC);
    assert_eq!(inb(&mut c, 1) & ERR_ABRT, ERR_ABRT);
    assert_eq!([inb(&mut c, 4), inb(&mut c, 5)], [0x14, 0xEB]);
}

#[test]
fn the_interrupt_follows_nien_and_missing_drives_read_as_such() {
    let f = TestFile::disk(16);
    let mut c = disk_channel(&f);
    c.write(CTL, IoSize::Byte, CTL_NIEN.into());
    out(&mut c, 6, 0xA0);
    out(&mut c, 7, 0xE7);
    assert!(!c.irq_level());
    c.write(CTL, IoSize::Byte, 0);
    assert!(c.irq_level());
    assert_eq!(c.read(CTL, IoSize::Byte), u32::from(ST_DRDY | ST_DSC));
    assert!(c.irq_level(), "alternate status does not acknowledge");
    out(&mut c, 6, 0xB0);
    assert_eq!(status(&mut c), 0, "an absent slave");
    c.write(CTL, IoSize::Byte, 0x04);
    c.write(CTL, IoSize::Byte, 0x00);
    out(&mut c, 6, 0xB0);
    assert_eq!(
        [inb(&mut c, 4), inb(&mut c, 5)],
        [0xFF, 0xFF],
        "no signature"
    );
    let mut empty = AtaChannel::new();
    assert_eq!(empty.read(BASE + 7, IoSize::Byte), 0xFF);
}

fn packet(c: &mut AtaChannel, cdb: &[u8], limit: u16) {
    out(c, 6, 0xB0);
    out(c, 1, 0);
    out(c, 4, limit as u8);
    out(c, 5, (limit >> 8) as u8);
    out(c, 7, 0xA0);
    assert_eq!(status(c), ST_DRDY | ST_DSC | ST_DRQ);
    assert_eq!(inb(c, 2), IR_COD);
    let mut block = [0u8; 12];
    block[..cdb.len()].copy_from_slice(cdb);
    write_words(c, &block);
}

/// Reads a whole reply, checking each DRQ block's byte count.
fn reply(c: &mut AtaChannel) -> Vec<u8> {
    let mut all = Vec::new();
    while status(c) & ST_DRQ != 0 {
        assert_eq!(inb(c, 2), IR_IO);
        let n = usize::from(inb(c, 4)) | usize::from(inb(c, 5)) << 8;
        all.extend(read_words(c, n.next_multiple_of(2)).into_iter().take(n));
    }
    assert_eq!(inb(c, 2), IR_IO | IR_COD);
    all
}

#[test]
fn atapi_identify_inquiry_and_capacity() {
    let f = TestFile::cd(40);
    let mut c = cd_channel(Some(&f));
    out(&mut c, 6, 0xB0);
    out(&mut c, 7, 0xA1);
    let id = read_words(&mut c, 512);
    assert_eq!(word(&id, 0) >> 14, 2, "ATAPI");
    assert_eq!(word(&id, 0) >> 8 & 0x1F, 5, "CD-ROM");
    assert_eq!(string(&id, 27, 20), "MOON86 CD-ROM");

    packet(&mut c, &[0x12, 0, 0, 0, 36], 0xFFFE);
    let inq = reply(&mut c);
    assert_eq!(inq.len(), 36);
    assert_eq!((inq[0], inq[1]), (0x05, 0x80));
    assert_eq!(&inq[8..16], b"MOON86  ");
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);

    packet(&mut c, &[0x25], 0xFFFE);
    assert_eq!(reply(&mut c), [0, 0, 0, 39, 0, 0, 8, 0]);
}

#[test]
fn atapi_read10_and_read12_return_the_discs_sectors() {
    let f = TestFile::cd(40);
    let file = pattern(2048, 40);
    let mut c = cd_channel(Some(&f));
    packet(&mut c, &[0x28, 0, 0, 0, 0, 17, 0, 0, 1], 2048);
    assert!(c.irq_level());
    assert_eq!(reply(&mut c), file[17 * 2048..18 * 2048]);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);

    // Three sectors in blocks of at most 1000 bytes.
    packet(&mut c, &[0xA8, 0, 0, 0, 0, 30, 0, 0, 0, 3], 1000);
    assert_eq!(reply(&mut c), file[30 * 2048..33 * 2048]);

    packet(&mut c, &[0x28, 0, 0, 0, 0, 39, 0, 0, 2], 0xFFFE);
    assert_eq!(status(&mut c) & ST_ERR, ST_ERR, "beyond the end");
    assert_eq!(inb(&mut c, 1) >> 4, 0x05);
}

#[test]
fn atapi_sense_without_a_disc_and_after_a_change() {
    let mut c = cd_channel(None);
    packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC | ST_ERR);
    assert_eq!(inb(&mut c, 1) >> 4, 0x02, "NOT READY");
    packet(&mut c, &[0x03, 0, 0, 0, 18], 0xFFFE);
    let sense = reply(&mut c);
    assert_eq!((sense[0], sense[2], sense[12]), (0x70, 0x02, 0x3A));

    let f = TestFile::cd(20);
    let disc = Disk::open(f.path(), MediaKind::Cdrom, DiskMode::ReadOnly).unwrap();
    c.drive_mut(1).unwrap().insert(disc);
    packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!(inb(&mut c, 1) >> 4, 0x06, "UNIT ATTENTION");
    packet(&mut c, &[0x03, 0, 0, 0, 18], 0xFFFE);
    assert_eq!(
        reply(&mut c)[2..13],
        [0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x28]
    );
    packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);

    packet(&mut c, &[0xFF], 0xFFFE);
    assert_eq!(inb(&mut c, 1) >> 4, 0x05, "ILLEGAL REQUEST");
    packet(&mut c, &[0x03, 0, 0, 0, 18], 0xFFFE);
    assert_eq!(reply(&mut c)[12], 0x20, "invalid command operation code");
}

#[test]
fn atapi_toc_mode_sense_configuration_events_and_eject() {
    let f = TestFile::cd(40);
    let mut c = cd_channel(Some(&f));
    packet(&mut c, &[0x43, 0, 0, 0, 0, 0, 0, 0, 100], 0xFFFE);
    let toc = reply(&mut c);
    assert_eq!(toc.len(), 20);
    assert_eq!(toc[..4], [0, 18, 1, 1]);
    assert_eq!(toc[14], 0xAA);
    assert_eq!(toc[16..20], [0, 0, 0, 40]);
    packet(&mut c, &[0x43, 2, 0, 0, 0, 0, 0, 0, 100], 0xFFFE);
    let toc = reply(&mut c);
    assert_eq!(toc[8..12], [0, 0, 2, 0], "track 1 at 00:02:00");

    packet(&mut c, &[0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 64], 0xFFFE);
    let mode = reply(&mut c);
    assert_eq!(mode[8], 0x2A);
    assert_eq!(mode.len(), 28);

    packet(&mut c, &[0x46, 0, 0, 0, 0, 0, 0, 0, 64], 0xFFFE);
    let conf = reply(&mut c);
    assert_eq!(conf[6..8], [0, 8], "current profile CD-ROM");

    packet(&mut c, &[0x1E, 0, 0, 0, 1], 0xFFFE);
    packet(&mut c, &[0x1B, 0, 0, 0, 2], 0xFFFE);
    assert_eq!(status(&mut c) & ST_ERR, ST_ERR, "locked");
    packet(&mut c, &[0x1E, 0, 0, 0, 0], 0xFFFE);
    packet(&mut c, &[0x1B, 0, 0, 0, 2], 0xFFFE);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
    packet(&mut c, &[0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8], 0xFFFE);
    assert_eq!(reply(&mut c)[4..6], [3, 1], "removed, tray open");
    packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!(inb(&mut c, 1) >> 4, 0x02);
    packet(&mut c, &[0x1B, 0, 0, 0, 3], 0xFFFE);
    packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!(status(&mut c), ST_DRDY | ST_DSC);
}

#[test]
fn the_overlay_is_part_of_a_machine_snapshot() {
    use crate::machine::{Machine, MachineConfig};
    let f = TestFile::disk(8);
    let mut m = Machine::new(&MachineConfig::default()).unwrap();
    let disk = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    m.board.io.ata[0].attach(0, Some(Drive::hard_disk(disk, 0)));
    let write = |m: &mut Machine, byte: u8| {
        let io = &mut m.board.io;
        for (port, v) in [
            (0x1F6, 0xE0),
            (0x1F2, 1),
            (0x1F3, 4),
            (0x1F4, 0),
            (0x1F5, 0),
            (0x1F7, 0x30),
        ] {
            io.write(port, IoSize::Byte, v, 0);
        }
        for _ in 0..256 {
            io.write(0x1F0, IoSize::Word, u32::from(byte) * 0x101, 0);
        }
    };
    let read = |m: &mut Machine| {
        let io = &mut m.board.io;
        for (port, v) in [
            (0x1F6, 0xE0),
            (0x1F2, 1),
            (0x1F3, 4),
            (0x1F4, 0),
            (0x1F5, 0),
            (0x1F7, 0x20),
        ] {
            io.write(port, IoSize::Byte, v, 0);
        }
        io.read(0x1F0, IoSize::Word, 0)
    };
    write(&mut m, 0x11);
    let state = m.save_state();
    let bytes = postcard::to_allocvec(&state).unwrap();
    let state: crate::machine::MachineState = postcard::from_bytes(&bytes).unwrap();
    write(&mut m, 0x22);
    assert_eq!(read(&mut m), 0x2222);
    m.restore_state(&state).unwrap();
    assert_eq!(read(&mut m), 0x1111);
    // Unwritten sectors still come from the host file after the restore.
    let io = &mut m.board.io;
    for (port, v) in [(0x1F6, 0xE0), (0x1F2, 1), (0x1F3, 5), (0x1F7, 0x20)] {
        io.write(port, IoSize::Byte, v, 0);
    }
    assert_eq!(io.read(0x1F0, IoSize::Word, 0), 5);
    assert_eq!(std::fs::read(f.path()).unwrap(), pattern(512, 8));
}

#[test]
fn the_channels_raise_irq_14_and_15() {
    use crate::machine::{Machine, MachineConfig};
    let f = TestFile::disk(8);
    let mut m = Machine::new(&MachineConfig::default()).unwrap();
    let disk = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    m.board.io.ata[1].attach(0, Some(Drive::hard_disk(disk, 2)));
    m.board.io.write(0x176, IoSize::Byte, 0xA0, 0);
    m.board.io.write(0x177, IoSize::Byte, 0xE7, 0);
    assert!(m.board.io.ata[1].irq_level());
    assert!(!m.board.io.ata[0].irq_level());
    assert_eq!(m.board.io.read(0x376, IoSize::Byte, 0), 0x50);
    assert_eq!(
        m.board.io.read(0x1F7, IoSize::Byte, 0),
        0xFF,
        "no drives on the primary"
    );
}

#[test]
fn random_port_traffic_never_panics() {
    let fd = TestFile::disk(64);
    let fc = TestFile::cd(20);
    let mut c = disk_channel(&fd);
    let disc = Disk::open(fc.path(), MediaKind::Cdrom, DiskMode::ReadOnly).unwrap();
    c.attach(1, Some(Drive::cdrom(Some(disc), 1)));
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let commands = [
        0x20, 0x24, 0x30, 0x34, 0xC4, 0xC5, 0xC6, 0x29, 0x39, 0xEC, 0xA1, 0xA0, 0x90, 0x91, 0x08,
        0xEF, 0x40, 0x42, 0xE7,
    ];
    for _ in 0..200_000 {
        let r = next();
        let size = [IoSize::Byte, IoSize::Word, IoSize::Dword][(r >> 8) as usize % 3];
        let value = (r >> 32) as u32;
        match r % 16 {
            0..=5 => {
                c.read(BASE, size);
            }
            6..=8 => c.write(BASE, size, value),
            9 => c.write(
                BASE + 7,
                IoSize::Byte,
                commands[(r >> 40) as usize % commands.len()],
            ),
            10 => c.write(CTL, IoSize::Byte, value & 0x06),
            11 | 12 => c.write(BASE + 1 + (r >> 20) as u16 % 6, IoSize::Byte, value),
            _ => {
                c.read(BASE + 1 + (r >> 20) as u16 % 7, IoSize::Byte);
            }
        }
    }
    assert_eq!(std::fs::read(fd.path()).unwrap(), pattern(512, 64));
}

#[test]
fn a_crafted_state_cannot_make_the_host_allocate_or_index_wildly() {
    use super::channel::Phase;
    let f = TestFile::disk(64);
    let mut c = disk_channel(&f);
    c.xfer.drive = 7;
    c.xfer.phase = Phase::Write {
        lba: 0,
        left: u64::MAX,
        block: u32::MAX,
        lba48: true,
    };
    c.xfer.buf = vec![0; 3];
    c.xfer.pos = 1000;
    c.regs[1].status = ST_DRQ;
    c.regs[0].status = ST_DRQ;
    c.write(BASE, IoSize::Dword, 0);
    c.read(BASE, IoSize::Dword);
    c.xfer.phase = Phase::Read {
        lba: u64::MAX - 1,
        left: u64::MAX,
        block: u32::MAX,
    };
    c.regs[0].status = ST_DRQ;
    c.xfer.drive = 0;
    c.xfer.buf.clear();
    c.xfer.pos = 0;
    c.read(BASE, IoSize::Dword);
    assert_eq!(status(&mut c) & ST_ERR, ST_ERR);
}
