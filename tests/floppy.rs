//! The floppy controller end to end. SeaBIOS (Debian's, fetched by
//! `tests/common`) boots our own floppy (guests/floppy/boot.S on a 1.44M
//! image), which reads sectors by INT 13h (so by the controller and DMA
//! channel 2), runs code DMA loaded over code it had run, writes a sector
//! and reads it back, and reports on the debug console; the image file is
//! left as it was; Bochs's BIOS boots it too. SeaBIOS boots GRUB's rescue floppy (Debian's
//! grub-rescue-pc, an image of 1,296,384 bytes taken as a 1.44M disk) to
//! GRUB's prompt on the screen. Bad images are refused at start, naming
//! the file and the sizes accepted, and left untouched.

mod common;

use moon86::control::{Value, Vm};
use moon86::machine::{DriveConfig, DriveInterface, MachineConfig};
use moon86::storage::{DiskMode, MediaKind};
use std::path::Path;

use common::{moon86, s, Scratch};

/// A 1.44M image: guests/floppy/boot.bin in its first two sectors, and
/// "LBA nnnn" at the start of every other sector.
fn test_floppy() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let boot = std::fs::read(root.join("guests/floppy/boot.bin")).unwrap();
    let mut image = vec![0xF6u8; 1_474_560];
    image[..boot.len()].copy_from_slice(&boot);
    for lba in 2..2880 {
        image[lba * 512..lba * 512 + 8].copy_from_slice(format!("LBA {lba:04}").as_bytes());
    }
    image
}

const EXPECTED: &str = "MOON86 FLOPPY drive 00
geometry 4F 01 12
LBA 0002
LBA 0003
LBA 0004
LBA 0054
LBA 2879
old stub
old stub
stage2 by dma
write ok
";

fn floppy(path: &Path, index: u8) -> DriveConfig {
    DriveConfig {
        interface: DriveInterface::Floppy,
        index,
        media: MediaKind::Disk,
        path: Some(path.to_path_buf()),
        mode: DiskMode::Overlay,
    }
}

/// A VM with SeaBIOS (and its VGA BIOS), `drive` attached, booting from
/// the floppy first (`boot_order` "a"), powered on.
fn seabios_with(drive: DriveConfig) -> Vm {
    let mut vm = Vm::new(MachineConfig {
        ram_size: 32 << 20,
        ..Default::default()
    })
    .unwrap();
    vm.load_bios(common::guest("seabios"), Some(common::guest("vgabios")))
        .unwrap();
    vm.attach_drive(drive).unwrap();
    vm.set("boot_order", Value::Str("a".into())).unwrap();
    vm.power_on().unwrap();
    vm
}

#[test]
fn seabios_boots_our_floppy_which_reads_and_writes_it_through_int13() {
    let dir = Scratch::new("boot");
    let image = test_floppy();
    let path = dir.file("boot.img", &image);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut vm = seabios_with(floppy(&path, 0));
    let cmos = &mut vm.machine_mut().unwrap().board.io.rtc;
    assert_eq!(cmos.read_cmos(0x10), 0x40, "A: a 1.44M drive");
    assert_eq!(cmos.read_cmos(0x14) & 0xC1, 0x01, "one floppy");
    let why = vm.run(Some(200_000_000)).unwrap();
    let text = vm.debugcon_text().unwrap();
    assert_eq!(
        why.name(),
        "exit",
        "{text}\n{:?}",
        vm.screen_text().unwrap()
    );
    assert_eq!(text, EXPECTED);
    assert_eq!(vm.exit_code(), Some(1));
    // The write stayed in the overlay.
    let m = vm.machine().unwrap();
    assert_eq!(
        m.floppy_drive(0).unwrap().media().unwrap().overlay().len(),
        1
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        image,
        "the image is unchanged"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

#[test]
fn bochs_bios_boots_our_floppy_too() {
    let dir = Scratch::new("bochs");
    let image = test_floppy();
    let path = dir.file("boot.img", &image);
    let mut vm = Vm::new(MachineConfig {
        ram_size: 32 << 20,
        ..Default::default()
    })
    .unwrap();
    vm.load_rom(common::guest("bochsbios")).unwrap();
    vm.load_raw(common::guest("lgplvgabios"), 0xC0000, None)
        .unwrap();
    vm.attach_drive(floppy(&path, 0)).unwrap();
    vm.set("boot_order", Value::Str("a".into())).unwrap();
    vm.power_on().unwrap();
    let why = vm.run(Some(200_000_000)).unwrap();
    let text = vm.debugcon_text().unwrap();
    assert_eq!(
        why.name(),
        "exit",
        "{text}\n{:?}",
        vm.screen_text().unwrap()
    );
    assert_eq!(text, EXPECTED);
    assert_eq!(std::fs::read(&path).unwrap(), image);
}

#[test]
fn the_boot_command_boots_a_floppy_given_as_fda_or_as_drive_if_floppy() {
    let dir = Scratch::new("cli");
    let image = test_floppy();
    let path = dir.file("boot.img", &image);
    let bios = common::guest("seabios");
    let spec = format!("file={},if=floppy,index=0,readonly=on", s(&path));
    for drive in [vec!["--fda", s(&path)], vec!["--drive", &spec]] {
        let mut args = vec!["boot", "--bios", s(bios), "--serial", "none"];
        args.extend(&drive);
        let out = moon86(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if drive[0] == "--fda" {
            assert_eq!(stdout, EXPECTED, "{stderr}");
        } else {
            // Read-only media: SeaBIOS reports the write refused.
            assert!(
                stdout.starts_with(&EXPECTED[..EXPECTED.len() - 9]),
                "{stdout}\n{stderr}"
            );
            assert!(stdout.contains("int13 error 03"), "{stdout}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), image);
    }
}

#[test]
fn seabios_boots_the_grub_rescue_floppy_to_its_prompt() {
    let grub = common::guest("grubfloppy");
    let size = std::fs::metadata(grub).unwrap().len();
    let before = std::fs::read(grub).unwrap();
    let mut vm = seabios_with(floppy(grub, 0));
    let geometry = vm.machine().unwrap().floppy_drive(0).unwrap().geometry();
    assert_eq!(geometry.sectors, 18, "{size} bytes taken as a 1.44M disk");
    // The menu first; `c` there gives the command line, whose `ls` lists
    // the floppy (GRUB reads it through INT 13h).
    let menu = wait_screen(&mut vm, "command-line");
    assert!(menu.contains("GNU GRUB"), "{menu}");
    vm.keyboard_type("c").unwrap();
    wait_screen(&mut vm, "grub>");
    vm.keyboard_type("ls\n").unwrap();
    let listed = wait_screen(&mut vm, "(fd0)");
    assert!(listed.contains("grub> ls"), "{listed}");
    assert_eq!(std::fs::read(grub).unwrap(), before);
}

/// Runs `vm` until the screen shows `text` (at most 2 G instructions);
/// returns the screen.
fn wait_screen(vm: &mut Vm, text: &str) -> String {
    let mut screen = String::new();
    for _ in 0..40 {
        vm.run(Some(50_000_000)).unwrap();
        screen = vm.screen_text().unwrap().join("\n");
        if screen.contains(text) {
            return screen;
        }
    }
    panic!("no {text:?} on the screen:\n{screen}");
}

#[test]
fn bad_floppy_images_are_refused_at_start_and_left_untouched() {
    let dir = Scratch::new("bad");
    let empty = dir.file("empty.img", &[]);
    let odd = dir.file("odd.img", &[0x11; 1000]);
    let big = dir.file("big.img", &vec![0x22; 2_949_120 + 512]);
    let short = dir.file("short.img", &[0x33; 4096]);
    let through = format!("file={},if=floppy,snapshot=off", s(&short));
    let twice = format!("file={},if=floppy,index=0", s(&short));
    let accepted = "accepted: a floppy image of 160K (163840 bytes)";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--fda", s(&empty)],
            format!("'{}' is empty", s(&empty)),
        ),
        (
            vec!["--fdb", s(&odd)],
            "not a whole number of 512-byte sectors".into(),
        ),
        (
            vec!["--fda", s(&big)],
            format!("'{}' is 2949632 bytes; {accepted}", s(&big)),
        ),
        (vec!["--fda", s(&dir.0)], "is a directory".into()),
        (
            vec!["--drive", &through],
            format!(
                "'{}' is 4096 bytes; accepted: 163840 bytes for writing through",
                s(&short)
            ),
        ),
        (
            vec!["--fda", s(&short), "--drive", &twice],
            "both want floppy index 0".into(),
        ),
    ];
    for (args, message) in cases {
        let mut all = vec![
            "boot",
            "--boot-sector",
            "guests/hello/boot.bin",
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
    assert!(std::fs::read(&empty).unwrap().is_empty());
    assert_eq!(std::fs::read(&odd).unwrap(), [0x11; 1000]);
    assert_eq!(std::fs::read(&short).unwrap(), [0x33; 4096]);
    assert_eq!(std::fs::metadata(&big).unwrap().len(), 2_949_120 + 512);
}
