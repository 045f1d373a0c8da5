//! Debian's i386 Linux finds drives on moon86's IDE controller and reads
//! files from them: `moon86 boot --kernel ... --initrd initramfs-disk.cpio.gz`
//! with the disk initramfs of `scripts/fetch-guests.py`, whose /init loads
//! the kernel's own modules for the legacy ISA IDE ports (pata_legacy over
//! libata: the board has no PCI, so the driver probes 0x1F0/IRQ 14 and
//! 0x170/IRQ 15 itself; PIO only, interrupt-driven), sd_mod, sr_mod, vfat
//! and isofs, mounts every disk and CD read-only, prints the first line of
//! moon86.txt from each (`MOON86-DISK NAME SECTORS FSTYPE: TEXT`) and the
//! MD5 of moon86.bin, 1 MiB of pseudo-random bytes read in multi-sector PIO
//! transfers, and powers off. The images (a partitionless FAT file system made with mtools, an ISO
//! 9660 image made with xorriso: scripts/test.sh installs both) are built
//! here, and are unchanged afterwards.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Scratch;

fn run_tool(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} (scripts/test.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 1 MiB of pseudo-random bytes, different for each `seed`.
fn big_file(seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// The MD5 of `path` as md5sum prints it.
fn md5(path: &Path) -> String {
    let out = Command::new("md5sum")
        .arg(path)
        .output()
        .expect("md5sum (coreutils) runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)[..32].to_string()
}

/// A 4 MiB raw disk image holding a FAT file system on the whole disk (no
/// partition table of its own; mformat writes one entry covering the disk,
/// which Linux lists as sda1) with moon86.txt saying `text` and moon86.bin.
fn fat_disk(dir: &Path, text: &str, seed: u32) -> PathBuf {
    let img = dir.join("data.img");
    let file = dir.join("moon86.txt");
    std::fs::write(&file, format!("{text}\n")).unwrap();
    let bin = dir.join("moon86.bin");
    std::fs::write(&bin, big_file(seed)).unwrap();
    std::fs::File::create(&img)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    let i = img.to_str().unwrap();
    run_tool(
        Command::new("mformat")
            .env("MTOOLS_SKIP_CHECK", "1")
            .args(["-i", i, "-T", "8192", "-h", "16", "-s", "32", "::"]),
        "mformat (mtools)",
    );
    run_tool(
        Command::new("mcopy")
            .env("MTOOLS_SKIP_CHECK", "1")
            .args(["-i", i])
            .arg(&file)
            .arg(&bin)
            .arg("::"),
        "mcopy (mtools)",
    );
    img
}

/// An ISO 9660 image with moon86.txt saying `text` and moon86.bin.
fn iso(dir: &Path, text: &str, seed: u32) -> PathBuf {
    let tree = dir.join("iso");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("moon86.txt"), format!("{text}\n")).unwrap();
    std::fs::write(tree.join("moon86.bin"), big_file(seed)).unwrap();
    let out = dir.join("cd.iso");
    run_tool(
        Command::new("xorriso")
            .args(["-as", "mkisofs", "-quiet", "-o"])
            .arg(&out)
            .arg(&tree),
        "xorriso",
    );
    out
}

/// Boots the kernel with the disk initramfs and `drives` (moon86 boot
/// options), COM1 to a file; returns the serial output once the guest has
/// powered off (within `limit` of wall time).
fn boot_linux(dir: &Path, drives: &[&str], limit: Duration) -> String {
    let serial = dir.join("serial.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .arg("boot")
        .args(["--ram", "256M", "--cpu", "i686", "--kernel"])
        .arg(common::guest("kernel"))
        .arg("--initrd")
        .arg(common::guest("initramfs_disk"))
        .args([
            "--append",
            "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests",
            "--debugcon",
            "none",
            "--serial",
        ])
        .arg(format!("file:{}", serial.display()))
        .args(drives)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the moon86 binary runs");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Linux did not power off within {limit:?}; serial:\n{}",
                std::fs::read_to_string(&serial).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let text = std::fs::read_to_string(&serial).unwrap_or_default();
    println!(
        "{text}\n(moon86 exited {status} after {:.1} s)",
        start.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "moon86 boot failed ({status}):\n{}\n{}\nserial:\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn assert_has(serial: &str, line: &str) {
    assert!(
        serial.contains(line),
        "the serial output lacks {line:?}:\n{serial}"
    );
}

/// What the guest's /init reports, checked line by line; libata saw no
/// error (a lost interrupt or a failed command would show as an exception
/// or a timeout); it powered off.
fn assert_common(serial: &str) {
    let marker = &common::guests()["disk_marker"];
    assert_has(serial, &common::guests()["marker"]);
    assert!(
        !serial.contains(&format!("{marker}-INSMOD-FAILED")),
        "a module did not load:\n{serial}"
    );
    for bad in ["exception Emask", "timeout", "failed command", "I/O error"] {
        assert!(
            !serial.contains(bad),
            "the kernel logged {bad:?}:\n{serial}"
        );
    }
    assert_has(serial, "reboot: System halted");
}

/// The guest read moon86.bin on `dev` whole and right.
fn assert_md5(serial: &str, dev: &str, file: &Path) {
    let marker = &common::guests()["disk_marker"];
    assert_has(serial, &format!("{marker}-MD5 {dev} {}", md5(file)));
}

#[test]
fn linux_reads_a_fat_disk_on_the_primary_slave_and_an_iso_on_the_secondary_master() {
    let s = Scratch::new("linux-disk");
    let disk = fat_disk(&s.0, "hello from the primary slave", 1);
    let cd = iso(&s.0, "hello from the secondary master CD", 2);
    let disk_before = std::fs::read(&disk).unwrap();
    let cd_before = std::fs::read(&cd).unwrap();
    let serial = boot_linux(
        &s.0,
        &[
            "--hdb",
            disk.to_str().unwrap(),
            "--cdrom",
            cd.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    assert_common(&serial);
    let marker = &common::guests()["disk_marker"];
    // libata's probe on both channels: IRQ 14 and IRQ 15
    assert_has(&serial, "ata1: PATA max PIO4 cmd 0x1f0 ctl 0x3f6 irq 14");
    assert_has(&serial, "ata2: PATA max PIO4 cmd 0x170 ctl 0x376 irq 15");
    assert_has(&serial, "ata1.01: ATA-6: MOON86 HARDDISK");
    assert_has(&serial, "ata1.01: 8192 sectors");
    assert_has(&serial, "ata2.00: ATAPI: MOON86 CD-ROM");
    assert_has(&serial, "[sda] 8192 512-byte logical blocks");
    assert_has(&serial, "sr 1:0:0:0: [sr0]");
    assert_has(
        &serial,
        &format!("{marker} sda 8192 vfat: hello from the primary slave"),
    );
    let cd_sectors = cd_before.len() / 512;
    assert_has(
        &serial,
        &format!("{marker} sr0 {cd_sectors} iso9660: hello from the secondary master CD"),
    );
    assert_md5(&serial, "sda", &s.0.join("moon86.bin"));
    assert_md5(&serial, "sr0", &s.0.join("iso/moon86.bin"));
    assert_has(&serial, &format!("{marker}-DONE 2"));
    assert!(
        std::fs::read(&disk).unwrap() == disk_before,
        "the disk image changed"
    );
    assert!(
        std::fs::read(&cd).unwrap() == cd_before,
        "the CD image changed"
    );
}

#[test]
fn linux_reads_a_disk_on_the_secondary_slave_with_the_primary_channel_empty() {
    let s = Scratch::new("linux-disk-hdd");
    let disk = fat_disk(&s.0, "hello from the secondary slave", 3);
    let before = std::fs::read(&disk).unwrap();
    let serial = boot_linux(
        &s.0,
        &["--hdd", disk.to_str().unwrap()],
        Duration::from_secs(120),
    );
    assert_common(&serial);
    let marker = &common::guests()["disk_marker"];
    // nothing answers on the primary channel: libata drops that port
    assert!(!serial.contains("ata1.0"), "a drive on ata1?\n{serial}");
    assert_has(&serial, "ata2.01: ATA-6: MOON86 HARDDISK");
    assert_has(
        &serial,
        &format!("{marker} sda 8192 vfat: hello from the secondary slave"),
    );
    assert_md5(&serial, "sda", &s.0.join("moon86.bin"));
    assert_has(&serial, &format!("{marker}-DONE 1"));
    assert!(
        std::fs::read(&disk).unwrap() == before,
        "the disk image changed"
    );
}
