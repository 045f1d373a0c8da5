//! The ATA controller end to end: our own boot sector (guests/ata/pio.S)
//! drives the primary master of `moon86 boot --hda FILE` by PIO (IDENTIFY,
//! an LBA28 read, an LBA28 write and an LBA48 read back) and reports on the
//! debug console; the image file is left as it was. Bad images are refused
//! at start with the file named. SeaBIOS and Bochs's BIOS (fetched from
//! Debian's archive, `tests/common`) each find the disk and boot it, and boot
//! an El Torito CD from the ATAPI drive.

mod common;

use std::path::Path;
use std::process::Command;

use common::{moon86, s, Scratch};

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

/// Each command and each byte moved takes a defined virtual time
/// (`devices/disk_time.rs`), charged as a stall: the clock runs ahead of
/// the instruction count by exactly that much, on every run.
#[test]
fn disk_operations_take_a_defined_virtual_time() {
    use moon86::control::{Value, Vm};
    use moon86::devices::disk_time::{transfer_ns, COMMAND_NS};
    use moon86::machine::loader::Entry;
    use moon86::machine::MachineConfig;

    let dir = Scratch::new("disk-time");
    let disk = dir.file("disk.img", &vec![0x5Au8; 64 * 512]);
    let stall = || {
        let mut vm = Vm::new(MachineConfig::default()).unwrap();
        vm.attach_drive(common::primary_disk(&disk)).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        vm.load_raw(
            &root.join("guests/ata/pio.bin"),
            0x7C00,
            Some(Entry { cs: 0, ip: 0x7C00 }),
        )
        .unwrap();
        vm.power_on().unwrap();
        vm.run(Some(10_000_000)).unwrap();
        assert!(vm.debugcon_text().unwrap().contains("write ok"));
        let (Value::Int(clock), Value::Int(icount)) =
            (vm.get("clock").unwrap(), vm.get("icount").unwrap())
        else {
            panic!("clock and icount are integers")
        };
        // 100 M instructions per virtual second: 10 ns each.
        (clock - icount * 10) as u64
    };
    // IDENTIFY, READ SECTORS, WRITE SECTORS and READ SECTORS EXT, a sector each.
    let want = 4 * COMMAND_NS + 4 * transfer_ns(512);
    assert_eq!(stall(), want);
    assert_eq!(stall(), want, "the same on every run");
}

#[test]
fn bad_images_and_drive_options_are_refused_at_start() {
    let dir = Scratch::new("bad");
    let empty = dir.file("empty.img", &[]);
    let odd = dir.file("odd.img", &[0; 1000]);
    let not_iso = dir.file("not.iso", &[0; 64 * 2048]);
    let good = dir.file("good.img", &[0; 4096]);
    let missing = dir.0.join("missing.img");
    let big = dir.file("big.img", &vec![0; 2_949_120 + 512]);
    let floppy = format!("file={},if=floppy", s(&big));
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
            "accepted: a floppy image of 160K".into(),
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

#[derive(Clone, Copy)]
enum Firmware {
    Bochs,
    SeaBios,
}

/// Boots `firmware` with `drive` attached and boot order `order` (QEMU's
/// letters); returns the debug console's text. SeaBIOS is
/// loaded as `--bios` loads it (shadowed in RAM below 1 MiB), Bochs's BIOS
/// as a ROM with the VGA BIOS in RAM at 0xC0000.
fn boot_bios(firmware: Firmware, drive: moon86::machine::DriveConfig, order: &str) -> String {
    use moon86::control::{Value, Vm};
    use moon86::machine::MachineConfig;
    let mut vm = Vm::new(MachineConfig {
        ram_size: 32 << 20,
        ..Default::default()
    })
    .unwrap();
    match firmware {
        Firmware::Bochs => {
            vm.load_rom(common::guest("bochsbios")).unwrap();
            vm.load_raw(common::guest("lgplvgabios"), 0xC0000, None)
                .unwrap();
        }
        Firmware::SeaBios => vm.load_bios(common::guest("seabios"), None).unwrap(),
    }
    vm.attach_drive(drive).unwrap();
    vm.set("boot_order", Value::Str(order.into())).unwrap();
    vm.power_on().unwrap();
    let why = vm.run(Some(100_000_000)).unwrap();
    let text = vm.debugcon_text().unwrap();
    assert_eq!(
        why.name(),
        "exit",
        "{text}\n{:?}",
        vm.screen_text().unwrap()
    );
    text
}

/// A minimal El Torito CD: a primary volume descriptor, the boot record,
/// the terminator, a boot catalog at sector 19 with a no-emulation entry
/// loading `boot` (four 512-byte sectors) from sector 20.
fn el_torito(boot: &[u8]) -> Vec<u8> {
    const S: usize = 2048;
    let mut iso = vec![0u8; 40 * S];
    let descriptor = |iso: &mut Vec<u8>, sector: usize, kind: u8| {
        iso[sector * S] = kind;
        iso[sector * S + 1..sector * S + 7].copy_from_slice(b"CD001\x01");
    };
    descriptor(&mut iso, 16, 1);
    descriptor(&mut iso, 17, 0);
    descriptor(&mut iso, 18, 255);
    iso[17 * S + 7..17 * S + 30].copy_from_slice(b"EL TORITO SPECIFICATION");
    iso[17 * S + 0x47..17 * S + 0x4B].copy_from_slice(&19u32.to_le_bytes());
    let cat = 19 * S;
    iso[cat] = 1; // validation entry, platform x86
    iso[cat + 0x1E] = 0x55;
    iso[cat + 0x1F] = 0xAA;
    let sum = iso[cat..cat + 32].chunks_exact(2).fold(0u16, |a, w| {
        a.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    iso[cat + 0x1C..cat + 0x1E].copy_from_slice(&sum.wrapping_neg().to_le_bytes());
    iso[cat + 32] = 0x88; // bootable, no emulation, default load segment
    iso[cat + 38..cat + 40].copy_from_slice(&4u16.to_le_bytes());
    iso[cat + 40..cat + 44].copy_from_slice(&20u32.to_le_bytes());
    iso[20 * S..20 * S + boot.len()].copy_from_slice(boot);
    iso
}

#[test]
fn bochs_bios_boots_our_disk_and_an_el_torito_cd_through_the_controller() {
    boots_disk_and_cd(Firmware::Bochs);
}

#[test]
fn seabios_boots_our_disk_and_an_el_torito_cd_through_the_controller() {
    boots_disk_and_cd(Firmware::SeaBios);
}

fn boots_disk_and_cd(firmware: Firmware) {
    use moon86::machine::{DriveConfig, DriveInterface};
    use moon86::storage::{DiskMode, MediaKind};
    let dir = Scratch::new(match firmware {
        Firmware::Bochs => "bochs",
        Firmware::SeaBios => "seabios",
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut disk = std::fs::read(root.join("guests/ata/pio.bin")).unwrap();
    disk.resize(64 * 512, 0xE5);
    let disk_path = dir.file("disk.img", &disk);
    let hda = DriveConfig {
        interface: DriveInterface::Ide,
        index: 0,
        media: MediaKind::Disk,
        path: Some(disk_path.clone()),
        mode: DiskMode::Overlay,
    };
    let text = boot_bios(firmware, hda, "c");
    assert!(text.starts_with("MOON86 HARDDISK"), "{text}");
    assert!(text.ends_with("write ok\n"), "{text}");
    assert_eq!(std::fs::read(&disk_path).unwrap(), disk);

    let hello = std::fs::read(root.join("guests/hello/boot.bin")).unwrap();
    let cd = DriveConfig {
        interface: DriveInterface::Ide,
        index: 2,
        media: MediaKind::Cdrom,
        path: Some(dir.file("cd.iso", &el_torito(&hello))),
        mode: DiskMode::ReadOnly,
    };
    let text = boot_bios(firmware, cd, "d");
    assert_eq!(text, "Hello from moon86!\r\n");
}

#[test]
fn drives_alone_boot_through_seabios_in_the_order_boot_gives() {
    common::guest("seabios"); // fetched into the cache the default is taken from
    let dir = Scratch::new("order");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut disk = std::fs::read(root.join("guests/ata/pio.bin")).unwrap();
    disk.resize(64 * 512, 0xE5);
    let disk = dir.file("disk.img", &disk);
    let hello = std::fs::read(root.join("guests/hello/boot.bin")).unwrap();
    let cd = dir.file("cd.iso", &el_torito(&hello));
    let base = [
        "boot",
        "--serial",
        "none",
        "--hda",
        s(&disk),
        "--cdrom",
        s(&cd),
    ];
    for (order, want) in [
        (None, "write ok\n"),
        (Some("d"), "Hello from moon86!\r\n"),
        (Some("order=dc,menu=off"), "Hello from moon86!\r\n"),
        (Some("cd"), "write ok\n"),
    ] {
        let mut args = base.to_vec();
        args.extend(order.map(|o| ["--boot", o]).into_iter().flatten());
        let out = moon86(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.ends_with(want), "{order:?}: {stdout}");
    }

    // No BIOS where it is looked for: the error says how to get one.
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args(base)
        .env("MOON86_FIRMWARE_DIR", &dir.0)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("scripts/fetch-guests.py"), "{stderr}");
    assert!(stderr.contains("--bios"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn boot_menu_on_makes_seabios_offer_its_menu() {
    use moon86::control::{Value, Vm};
    let screen_after_boot = |menu: bool| {
        let mut vm = Vm::new(Default::default()).unwrap();
        vm.load_bios(common::guest("seabios"), Some(common::guest("vgabios")))
            .unwrap();
        vm.set("boot_menu", Value::Bool(menu)).unwrap();
        assert_eq!(vm.get("boot_menu").unwrap(), Value::Bool(menu));
        vm.power_on().unwrap();
        vm.run(Some(30_000_000)).unwrap();
        vm.screen_text().unwrap().join("\n")
    };
    let with = screen_after_boot(true);
    assert!(with.contains("Press ESC for boot menu"), "{with}");
    let without = screen_after_boot(false);
    assert!(without.contains("SeaBIOS"), "{without}");
    assert!(!without.contains("boot menu"), "{without}");
}

#[test]
fn boot_menu_wait_is_given_to_seabios_and_it_waits_that_long() {
    use moon86::control::{Value, Vm};
    // With a 100 ms wait SeaBIOS goes on to "No bootable device" long before
    // its default 2.5 s would have passed (at 100 M instructions a second).
    let mut vm = Vm::new(Default::default()).unwrap();
    vm.load_bios(common::guest("seabios"), Some(common::guest("vgabios")))
        .unwrap();
    vm.set("boot_menu", Value::Bool(true)).unwrap();
    vm.set("boot_menu_wait", Value::Str("100".into())).unwrap();
    assert_eq!(vm.get("boot_menu_wait").unwrap(), Value::Int(100));
    vm.power_on().unwrap();
    vm.run(Some(100_000_000)).unwrap();
    let screen = vm.screen_text().unwrap().join("\n");
    assert!(screen.contains("No bootable device"), "{screen}");
}
