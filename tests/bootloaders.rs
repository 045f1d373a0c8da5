//! Real third-party bootloaders booted by SeaBIOS through the IDE
//! controller: SYSLINUX from a hard disk and ISOLINUX from an El Torito CD
//! (images built by `scripts/build-bootmedia.py` from Debian's packages)
//! each start Debian's i386 kernel, whose busybox initramfs prints its
//! marker on COM1; GRUB's rescue image, as a CD and as a hard disk, shows
//! its menu on the VGA text screen; media that cannot boot make SeaBIOS say
//! so on the screen. The disk image file is never changed by a boot. Most
//! tests drive the control API directly; the ISOLINUX one runs `moon86 boot
//! --cdrom ... --boot d` with the default firmware, and the example
//! `examples/bootloader_menu.lua` runs here too (it needs the media).

mod common;

use moon86::control::{Value, Vm};
use moon86::machine::{DriveConfig, DriveInterface, MachineConfig};
use moon86::storage::{DiskMode, MediaKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The boot media (`syslinux_disk`, `isolinux_cd`, `marker`), built once
/// per test binary.
fn media(key: &str) -> &'static str {
    static MEDIA: OnceLock<HashMap<String, String>> = OnceLock::new();
    let m = MEDIA.get_or_init(|| {
        common::guests(); // fetched once, by the shared helper
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("python3")
            .arg(root.join("scripts/build-bootmedia.py"))
            .arg("--quiet")
            .output()
            .expect("python3 runs scripts/build-bootmedia.py");
        assert!(
            out.status.success(),
            "scripts/build-bootmedia.py failed (scripts/test.sh installs mtools, syslinux and xorriso):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    m.get(key)
        .unwrap_or_else(|| panic!("scripts/build-bootmedia.py named no {key}"))
}

fn drive(path: &Path, media: MediaKind) -> DriveConfig {
    DriveConfig {
        interface: DriveInterface::Ide,
        index: if media == MediaKind::Cdrom { 2 } else { 0 },
        media,
        path: Some(path.to_path_buf()),
        mode: if media == MediaKind::Cdrom {
            DiskMode::ReadOnly
        } else {
            DiskMode::Overlay
        },
    }
}

/// A powered-on PC with SeaBIOS and its VGA BIOS, `drive` attached, booting
/// in the order `order`.
fn pc(drive: DriveConfig, order: &str) -> Vm {
    pc_with(&[drive], order)
}

fn pc_with(drives: &[DriveConfig], order: &str) -> Vm {
    let mut vm = Vm::new(MachineConfig {
        ram_size: 256 << 20,
        ..Default::default()
    })
    .unwrap();
    vm.load_bios(common::guest("seabios"), Some(common::guest("vgabios")))
        .unwrap();
    for d in drives {
        vm.attach_drive(d.clone()).unwrap();
    }
    vm.set("boot_order", Value::Str(order.into())).unwrap();
    vm.power_on().unwrap();
    vm
}

fn screen(vm: &Vm) -> String {
    vm.screen_text().unwrap().join("\n")
}

fn icount(vm: &Vm) -> u64 {
    match vm.get("icount").unwrap() {
        Value::Int(n) => n as u64,
        v => panic!("icount is {v:?}"),
    }
}

fn serial(vm: &Vm) -> String {
    String::from_utf8_lossy(&vm.serial_text().unwrap()).into_owned()
}

/// Runs `vm` in slices until `done` holds, within `budget` instructions;
/// fails with the screen and the serial output when it does not.
fn run_until(vm: &mut Vm, budget: u64, what: &str, done: impl Fn(&Vm) -> bool) -> u64 {
    const SLICE: u64 = 2_000_000;
    while icount(vm) < budget {
        let why = vm.run(Some(SLICE)).unwrap();
        if done(vm) {
            return icount(vm);
        }
        assert!(
            matches!(why.name(), "budget" | "idle"),
            "the guest stopped ({}) before {what}; screen:\n{}\nserial:\n{}",
            why.name(),
            screen(vm),
            serial(vm)
        );
    }
    panic!(
        "no {what} within {budget} instructions; screen:\n{}\nserial:\n{}",
        screen(vm),
        serial(vm)
    )
}

fn boots_to_the_linux_marker(vm: &mut Vm) -> u64 {
    let marker = media("marker").to_string();
    let n = run_until(vm, 6_000_000_000, "Linux's initramfs marker", |vm| {
        serial(vm).contains(&marker)
    });
    let out = serial(vm);
    assert!(out.contains("Linux version 6."), "{out}");
    assert!(
        out.contains("Kernel command line: BOOT_IMAGE=/vmlinuz console=ttyS0 i8042.noaux"),
        "the bootloader passed the menu entry's APPEND line:\n{out}"
    );
    n
}

fn file_digest(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let bytes = std::fs::read(path).unwrap();
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    (
        h.finish().to_le_bytes().to_vec(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

#[test]
fn syslinux_boots_linux_from_a_hard_disk_and_leaves_the_image_unchanged() {
    let disk = PathBuf::from(media("syslinux_disk"));
    let before = file_digest(&disk);
    let mut vm = pc(drive(&disk, MediaKind::Disk), "c");
    let menu = run_until(&mut vm, 200_000_000, "the SYSLINUX menu", |vm| {
        screen(vm).contains("moon86 boot menu")
    });
    let s = screen(&vm);
    assert!(s.contains("Debian Linux on the serial console"), "{s}");
    assert!(s.contains("Debian Linux, quiet"), "{s}");
    let n = boots_to_the_linux_marker(&mut vm);
    println!("SYSLINUX menu at {menu} instructions, the Linux marker at {n}");
    assert_eq!(
        file_digest(&disk),
        before,
        "the boot changed the disk image file"
    );
}

/// The same SYSLINUX disk through Bochs's BIOS (`BIOS-bochs-legacy`, the
/// LGPL VGA BIOS as an option ROM at 0xC0000), which drives the IDE
/// controller and reads the boot order from CMOS itself.
#[test]
fn syslinux_boots_linux_through_bochs_bios_too() {
    let disk = PathBuf::from(media("syslinux_disk"));
    let mut vm = Vm::new(MachineConfig {
        ram_size: 256 << 20,
        ..Default::default()
    })
    .unwrap();
    vm.load_rom(common::guest("bochsbios")).unwrap();
    vm.load_option_rom(common::guest("lgplvgabios"), None)
        .unwrap();
    vm.attach_drive(drive(&disk, MediaKind::Disk)).unwrap();
    vm.set("boot_order", Value::Str("c".into())).unwrap();
    vm.power_on().unwrap();
    run_until(&mut vm, 400_000_000, "the SYSLINUX menu", |vm| {
        screen(vm).contains("moon86 boot menu")
    });
    let n = boots_to_the_linux_marker(&mut vm);
    println!("Bochs's BIOS: the Linux marker at {n} instructions");
}

/// `moon86 boot --cdrom CD --hda DISK --boot d`, the default firmware
/// (SeaBIOS from the guest cache): ISOLINUX boots Linux from the CD.
#[test]
fn isolinux_boots_linux_from_an_el_torito_cd() {
    let cd = media("isolinux_cd");
    let disk = media("syslinux_disk");
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args([
            "boot", "-m", "256M", "--cdrom", cd, "--hda", disk, "--boot", "d",
        ])
        .args(["--serial", "stdio", "--biosdebug", "stdio"])
        // The marker comes at about 2.74 G instructions.
        .args(["--instructions", "3100000000"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the moon86 binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for want in [
        "Booting from DVD/CD",
        "Kernel command line: BOOT_IMAGE=/vmlinuz console=ttyS0 i8042.noaux",
        media("marker"),
    ] {
        assert!(stdout.contains(want), "no {want:?} in:\n{stdout}\n{stderr}");
    }
}

/// Boots GRUB's rescue image from `drives` to its menu, opens its command
/// line with `c`, and types each command, waiting for its answer on the
/// screen: GRUB reads the file systems through SeaBIOS's INT 13h.
fn grub_menu(drives: &[DriveConfig], order: &str, commands: &[(&str, &str)]) {
    let mut vm = pc_with(drives, order);
    let n = run_until(&mut vm, 1_000_000_000, "GRUB's menu", |vm| {
        let s = screen(vm);
        s.contains("GNU GRUB  version 2.") && s.contains("executed automatically")
    });
    let s = screen(&vm);
    assert!(s.contains("*GNU/Linux"), "{s}");
    assert!(s.contains("Memtest86+"), "{s}");
    // The menu answers the keyboard: `c` opens GRUB's command line.
    vm.keyboard_type("c").unwrap();
    let mut at = run_until(&mut vm, n + 300_000_000, "GRUB's grub> prompt", |vm| {
        screen(vm).contains("grub>")
    });
    println!("GRUB's menu at {n} instructions, its prompt at {at}");
    for (command, answer) in commands {
        vm.keyboard_type(&format!("{command}\n")).unwrap();
        at = run_until(&mut vm, at + 300_000_000, answer, |vm| {
            screen(vm).contains(answer)
        });
        println!("`{command}` answered by {at} instructions");
    }
}

#[test]
fn grub_rescue_cd_shows_its_menu_and_reads_the_cd_and_a_fat_disk() {
    let cd = common::guest("grub_cdrom");
    let disk = PathBuf::from(media("syslinux_disk"));
    grub_menu(
        &[drive(&disk, MediaKind::Disk), drive(cd, MediaKind::Cdrom)],
        "d",
        &[
            ("ls /boot/grub", "grub.cfg"),
            ("ls (hd0,msdos1)/", "vmlinuz"),
        ],
    );
}

#[test]
fn grub_rescue_usb_image_boots_as_a_hard_disk() {
    let usb = common::guest("grub_usb");
    grub_menu(
        &[drive(usb, MediaKind::Disk)],
        "c",
        &[("ls /boot/grub", "grub.cfg")],
    );
}

/// A scratch file, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, bytes: &[u8]) -> Scratch {
        let p = std::env::temp_dir().join(format!("moon86-boot-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn media_that_cannot_boot_make_seabios_say_so() {
    // 1 MiB of xorshift bytes: no 55 AA at the end of sector 0.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut noise: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    noise[510] = 0;
    let disk = Scratch::new("noise.img", &noise);
    let mut vm = pc(drive(&disk.0, MediaKind::Disk), "c");
    run_until(
        &mut vm,
        300_000_000,
        "SeaBIOS's verdict on the disk",
        |vm| screen(vm).contains("No bootable device"),
    );
    let s = screen(&vm);
    assert!(s.contains("Booting from Hard Disk"), "{s}");
    assert!(s.contains("not a bootable disk"), "{s}");

    // An ISO 9660 volume (primary descriptor, terminator) with no boot record.
    let mut iso = vec![0u8; 64 * 2048];
    for (sector, kind) in [(16, 1u8), (17, 255)] {
        iso[sector * 2048] = kind;
        iso[sector * 2048 + 1..sector * 2048 + 7].copy_from_slice(b"CD001\x01");
    }
    let cd = Scratch::new("plain.iso", &iso);
    let mut vm = pc(drive(&cd.0, MediaKind::Cdrom), "d");
    run_until(&mut vm, 300_000_000, "SeaBIOS's verdict on the CD", |vm| {
        screen(vm).contains("No bootable device")
    });
    let s = screen(&vm);
    assert!(s.contains("Booting from DVD/CD"), "{s}");
    assert!(s.contains("Boot failed"), "{s}");
}

#[test]
fn example_bootloader_menu_picks_the_second_entry_with_the_keyboard() {
    let png = std::env::temp_dir().join(format!("moon86-boot-{}-menu.png", std::process::id()));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .arg("run")
        .arg(root.join("examples/bootloader_menu.lua"))
        .arg(media("syslinux_disk"))
        .arg(common::guest("seabios"))
        .arg(common::guest("vgabios"))
        .arg(&png)
        .output()
        .expect("the moon86 binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("moon86.entry=quiet"), "{stdout}");
    let image = std::fs::read(&png).unwrap();
    let _ = std::fs::remove_file(&png);
    assert!(image.starts_with(b"\x89PNG"));
}
