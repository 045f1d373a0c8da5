//! The ATA controller end to end: our own boot sector (guests/ata/pio.S)
//! drives the primary master of `moon86 boot --hda FILE` by PIO (IDENTIFY,
//! an LBA28 read, an LBA28 write and an LBA48 read back) and reports on the
//! debug console; the image file is left as it was. Bad images are refused
//! at start with the file named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn moon86(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the moon86 binary runs")
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("moon86-ata-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_boot_sector_reads_and_writes_the_hda_image_by_pio() {
    let dir = Scratch::new("pio");
    let image: Vec<u8> = (0..64 * 512).map(|i| (i * 13 + i / 512) as u8).collect();
    let disk = dir.file("disk.img", &image);
    let mtime = std::fs::metadata(&disk).unwrap().modified().unwrap();
    let out = moon86(&[
        "boot",
        "--boot-sector",
        "guests/ata/pio.bin",
        "--hda",
        s(&disk),
        "--serial",
        "none",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0].trim_end(), "MOON86 HARDDISK");
    let hex: String = image[..512].iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(lines[1], hex);
    assert_eq!(lines[2], "write ok");
    assert_eq!(
        std::fs::read(&disk).unwrap(),
        image,
        "the image file is unchanged"
    );
    assert_eq!(std::fs::metadata(&disk).unwrap().modified().unwrap(), mtime);
}

#[test]
fn bad_images_and_drive_options_are_refused_at_start() {
    let dir = Scratch::new("bad");
    let empty = dir.file("empty.img", &[]);
    let odd = dir.file("odd.img", &[0; 1000]);
    let not_iso = dir.file("not.iso", &[0; 64 * 2048]);
    let good = dir.file("good.img", &[0; 4096]);
    let missing = dir.0.join("missing.img");
    let floppy = format!("file={},if=floppy", s(&good));
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--hda", s(&empty)],
            format!("'{}' is empty", s(&empty)),
        ),
        (
            vec!["--hdb", s(&odd)],
            "not a whole number of 512-byte sectors".into(),
        ),
        (
            vec!["--cdrom", s(&not_iso)],
            "is not an ISO 9660 CD image".into(),
        ),
        (vec!["--hda", s(&dir.0)], "is a directory".into()),
        (
            vec!["--hda", s(&missing)],
            format!("cannot open disk image '{}'", s(&missing)),
        ),
        (
            vec!["--hdc", s(&good), "--cdrom", s(&good)],
            "both want IDE index 2".into(),
        ),
        (
            vec!["--drive", &floppy],
            "if=floppy is not supported yet".into(),
        ),
        (
            vec!["--drive", "file=x,index=7"],
            "index=7: expected 0-3".into(),
        ),
    ];
    for (args, message) in cases {
        let mut all = vec![
            "boot",
            "--boot-sector",
            "guests/ata/pio.bin",
            "--serial",
            "none",
        ];
        all.extend(&args);
        let out = moon86(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(stderr.contains(&message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert_eq!(std::fs::read(&good).unwrap(), [0; 4096]);
    assert!(std::fs::read(&empty).unwrap().is_empty());
}
