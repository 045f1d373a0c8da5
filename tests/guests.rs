//! Real third-party guests, fetched from Debian's archive by
//! `scripts/fetch-guests.py` (cached in `.cache/guests`): the i386 Linux
//! kernels (686 and 686-pae) with a busybox initramfs, memtest86+, GNU Mach, SeaBIOS and Bochs's BIOS, each booted by a
//! Lua script in `tests/guests/` through the `moon86` binary.

mod common;

use common::guests;
use std::path::Path;
use std::process::Command;

fn run_guest_script(script: &str, keys: &[&str]) {
    let g = guests();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<&str> = keys.iter().map(|k| g[*k].as_str()).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .arg("run")
        .arg(root.join("tests/guests").join(script))
        .args(&args)
        .output()
        .expect("the moon86 binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn linux_boots_to_a_busybox_shell_and_powers_off() {
    run_guest_script("linux.lua", &["kernel", "initramfs", "marker"]);
}

#[test]
fn linux_686_pae_boots_with_pae_and_nx() {
    run_guest_script("linux_pae.lua", &["kernel_pae", "initramfs", "marker"]);
}

#[test]
fn memtest86_runs_a_test() {
    run_guest_script("memtest.lua", &["memtest"]);
}

#[test]
fn seabios_posts_runs_its_vga_bios_and_resets_through_0xcf9() {
    run_guest_script("seabios.lua", &["seabios", "vgabios"]);
}

#[test]
fn bochs_bios_posts_with_the_lgpl_vga_bios_as_an_option_rom() {
    run_guest_script("bochsbios.lua", &["bochsbios", "lgplvgabios"]);
}

#[test]
fn gnu_mach_boots_by_multiboot() {
    run_guest_script("gnumach.lua", &["gnumach"]);
}

use common::Scratch;

fn run_example(args: &[&str], env: &[(&str, &str)], dir: &Path) -> String {
    let g = guests();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moon86"));
    for a in args {
        match a.strip_prefix('@') {
            Some(key) => cmd.arg(&g[key]),
            None if a.starts_with("examples/") => cmd.arg(root.join(a)),
            None => cmd.arg(a),
        };
    }
    for (k, v) in env {
        cmd.env(k, &g[*v]);
    }
    let out = cmd
        .current_dir(dir)
        .output()
        .expect("the moon86 binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn example_linux_break_dumps_ram_and_the_screen_at_a_kernel_function() {
    let s = Scratch::new("linux-break");
    let out = s.0.join("out");
    let out_str = out.display().to_string();
    let stdout = run_example(
        &[
            "run",
            "examples/linux_break.lua",
            "@kernel",
            "@initramfs",
            &out_str,
        ],
        &[],
        &s.0,
    );
    assert!(stdout.contains("reached kernel_halt"), "{stdout}");
    assert_eq!(
        std::fs::metadata(out.join("ram-0-1M.bin")).unwrap().len(),
        1 << 20
    );
    assert_eq!(
        std::fs::metadata(out.join("stack.bin")).unwrap().len(),
        4096
    );
    assert!(std::fs::read(out.join("screen.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));
}

#[test]
fn example_linux_boot_test_passes_under_the_test_runner() {
    let s = Scratch::new("linux-boot-test");
    let stdout = run_example(
        &["test", "examples/linux_boot_test.lua"],
        &[
            ("MOON86_KERNEL", "kernel"),
            ("MOON86_INITRD", "initramfs"),
            ("MOON86_MARKER", "marker"),
        ],
        &s.0,
    );
    assert!(stdout.contains("3 tests: 3 passed, 0 failed"), "{stdout}");
}

/// `--bios` with `--kernel`, as QEMU's `-bios ... -kernel`: SeaBIOS POSTs,
/// boots moon86's Linux loader ROM first (fw_cfg's bootorder), which copies
/// the kernel, command line and initrd from fw_cfg and enters the setup
/// code in real mode; Linux reaches its init. A hard disk attached too does
/// not take the boot from it.
#[test]
fn seabios_boots_a_kernel_given_with_bios_through_the_linux_loader_rom() {
    use moon86::control::Vm;
    use moon86::machine::MachineConfig;
    let g = guests();
    let disk = std::env::temp_dir().join(format!("moon86-linuxboot-{}.img", std::process::id()));
    std::fs::write(&disk, vec![0u8; 64 * 512]).unwrap();
    let mut vm = Vm::new(MachineConfig {
        ram_size: 256 << 20,
        ..Default::default()
    })
    .unwrap();
    vm.load_bios(Path::new(&g["seabios"]), Some(Path::new(&g["vgabios"])))
        .unwrap();
    vm.load_linux(
        Path::new(&g["kernel"]),
        Some(Path::new(&g["initramfs"])),
        "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests",
    )
    .unwrap();
    vm.attach_drive(common::primary_disk(&disk)).unwrap();
    vm.power_on().unwrap();
    let marker = g["marker"].as_bytes();
    let mut ran = 0u64;
    while !vm
        .serial_text()
        .unwrap()
        .windows(marker.len())
        .any(|w| w == marker)
    {
        assert!(
            ran < 4_000_000_000,
            "no init marker after {ran} instructions:\n{}",
            String::from_utf8_lossy(&vm.serial_text().unwrap())
        );
        vm.run(Some(100_000_000)).unwrap();
        ran += 100_000_000;
    }
    let log = vm.biosdebug_text().unwrap();
    assert!(log.contains("Booting from ROM"), "{log}");
    let serial = String::from_utf8_lossy(&vm.serial_text().unwrap()).into_owned();
    assert!(
        serial.contains("Kernel command line: console=ttyS0 i8042.noaux"),
        "{serial}"
    );
    std::fs::remove_file(&disk).unwrap();
}

/// A kernel built for a newer CPU than the model says so itself, as on
/// QEMU: through SeaBIOS, Linux's real-mode setup code checks the CPU and
/// prints its refusal on the screen; and a kernel entered directly (no
/// setup code runs) that dies in an early exception stops in a HLT that
/// the stop reason locates, never silently.
#[test]
fn a_kernel_for_a_newer_cpu_says_so_on_an_i486() {
    use moon86::control::{Value, Vm};
    use moon86::machine::MachineConfig;
    let g = guests();
    let mut vm = Vm::new(MachineConfig {
        ram_size: 128 << 20,
        ..Default::default()
    })
    .unwrap();
    vm.set("cpu_model", Value::Str("i486".into())).unwrap();
    vm.load_bios(Path::new(&g["seabios"]), Some(Path::new(&g["vgabios"])))
        .unwrap();
    vm.load_linux(Path::new(&g["kernel"]), None, "console=ttyS0")
        .unwrap();
    vm.power_on().unwrap();
    vm.run(Some(300_000_000)).unwrap();
    let screen = vm.screen_text().unwrap().join("\n");
    assert!(
        screen.contains("This kernel requires an i586 CPU, but only detected an i486 CPU."),
        "{screen}"
    );

    let mut vm = Vm::new(MachineConfig {
        ram_size: 128 << 20,
        ..Default::default()
    })
    .unwrap();
    vm.set("cpu_model", Value::Str("i486".into())).unwrap();
    vm.load_linux(Path::new(&g["kernel"]), None, "console=ttyS0")
        .unwrap();
    vm.power_on().unwrap();
    let stop = vm.run(Some(6_000_000_000)).unwrap();
    let why = vm.stop_description().unwrap_or_default();
    assert_eq!(stop.name(), "halted", "{why}");
    assert!(
        why.starts_with("HLT with interrupts disabled, at 0060:c"),
        "{why}"
    );
}
