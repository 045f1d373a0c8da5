//! The command line as a user meets it: help, exit statuses, and bad input
//! (truncated images, images larger than RAM, bad sizes, bad register values,
//! syntax errors) ending in a clear message, a non-zero status and nothing
//! written to disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn moon86(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the moon86 binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scratch directory with the given files; removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, files: &[(&str, &[u8])]) -> Scratch {
        let dir = std::env::temp_dir().join(format!("moon86-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (f, data) in files {
            std::fs::write(dir.join(f), data).unwrap();
        }
        Scratch(dir)
    }
    fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `script` in a scratch dir holding `files`, expects failure with
/// `message` on stderr and no new file left behind.
fn fails_cleanly(name: &str, script: &str, files: &[(&str, &[u8])], message: &str) {
    let mut all: Vec<(&str, &[u8])> = files.to_vec();
    all.push(("t.lua", script.as_bytes()));
    let dir = Scratch::new(name, &all);
    let before = dir.listing();
    let out = moon86(&["run", "t.lua"], &dir.0);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: status; stderr: {stderr}"
    );
    assert!(
        stderr.contains(message),
        "{name}: expected {message:?} in stderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name}: a panic:\n{stderr}");
    assert_eq!(dir.listing(), before, "{name}: files were written");
}

#[test]
fn help_explains_itself() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = moon86(&["--help"], here);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("run") && help.contains("Lua"), "{help}");
    let out = moon86(&["run", "--help"], here);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("SCRIPT") && help.contains("arg"), "{help}");
}

#[test]
fn exit_status_and_arguments_reach_the_script() {
    let dir = Scratch::new(
        "args",
        &[(
            "t.lua",
            b"print(arg[0], arg[1], arg[2]) os.exit(tonumber(arg[1]))",
        )],
    );
    let out = moon86(&["run", "t.lua", "7", "--flag"], &dir.0);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(text(&out.stdout), "t.lua\t7\t--flag\n");
    let dir = Scratch::new("plain", &[("t.lua", b"print('fine')")]);
    let out = moon86(&["run", "t.lua"], &dir.0);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn uncaught_error_prints_a_traceback() {
    fails_cleanly(
        "traceback",
        "local function inner() error('boom') end\nlocal function outer() inner() end\nouter()\n",
        &[],
        "t.lua:1: boom\nstack traceback:",
    );
}

#[test]
fn syntax_error() {
    fails_cleanly("syntax", "local x = = 1\n", &[], "t.lua:1:");
}

#[test]
fn missing_script() {
    let dir = Scratch::new("missing", &[]);
    let out = moon86(&["run", "nope.lua"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read script 'nope.lua'"));
}

#[test]
fn truncated_boot_sector() {
    fails_cleanly(
        "truncated",
        "local vm = moon86.new{} vm:load_boot_sector('boot.bin')",
        &[("boot.bin", &[0xF4; 100])],
        "'boot.bin' is 100 bytes: a boot sector is exactly 512 bytes",
    );
}

#[test]
fn image_larger_than_ram() {
    let big = vec![0u8; 128 * 1024];
    fails_cleanly(
        "toolarge",
        "local vm = moon86.new{ ram = '64K' } vm:load_raw{ path = 'big.bin', addr = 0 }",
        &[("big.bin", &big)],
        "'big.bin' (131072 bytes) loaded at 0x0 does not fit in RAM",
    );
}

#[test]
fn bad_size_string() {
    fails_cleanly(
        "badsize",
        "local vm = moon86.new{ ram = '16Q' }",
        &[],
        "bad size '16Q': expected a number of bytes with an optional K, M or G suffix",
    );
}

#[test]
fn non_numeric_register_value() {
    fails_cleanly(
        "badreg",
        "local vm = moon86.new{} vm.cpu.eax = 'lots'",
        &[],
        "t.lua:1: bad value for cpu.eax: 'lots' is not a number",
    );
}

#[test]
fn failed_dump_writes_nothing() {
    fails_cleanly(
        "baddump",
        "local vm = moon86.new{ ram = '64K' } vm.mem:dump(0, 0x20000, 'out.bin')",
        &[],
        "is outside guest memory",
    );
}

#[test]
fn doc_prints_the_reference() {
    let out = moon86(&["doc"], Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("# moon86 Lua API reference"));
}

#[test]
fn boot_runs_a_boot_sector_to_its_exit_status() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = moon86(
        &[
            "boot",
            "--boot-sector",
            "guests/hello/boot.bin",
            "--serial",
            "none",
        ],
        here,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the guest's exit status (0 << 1) | 1"
    );
    assert_eq!(text(&out.stdout), "Hello from moon86!\r\n");
    assert!(text(&out.stderr).contains("exit port written, exit status 1"));
}

#[test]
fn boot_writes_serial_to_a_file_and_stops_on_an_instruction_limit() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Scratch::new("bootfile", &[]);
    let log = dir.0.join("serial.log");
    let serial = format!("file:{}", log.display());
    let out = moon86(
        &[
            "boot",
            "--boot-sector",
            "guests/board/pcat.bin",
            "--serial",
            &serial,
            "--instructions",
            "5000",
        ],
        here,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("stopped after 5000 instructions"));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.starts_with("ok timer: 10 interrupts\n"), "{logged}");
}

#[test]
fn boot_refuses_bad_options_clearly() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (args, message) in [
        (vec!["boot", "--serial", "none"], "nothing to boot"),
        (
            vec!["boot", "--kernel", "guests/hello/boot.bin"],
            "neither a Linux bzImage nor a Multiboot kernel",
        ),
        (
            vec![
                "boot",
                "-m",
                "16Q",
                "--boot-sector",
                "guests/hello/boot.bin",
            ],
            "bad size '16Q'",
        ),
        (
            vec![
                "boot",
                "--set",
                "cpu.eaz=1",
                "--boot-sector",
                "guests/hello/boot.bin",
            ],
            "did you mean 'cpu.eax'",
        ),
        (
            vec![
                "boot",
                "--set",
                "novalue",
                "--boot-sector",
                "guests/hello/boot.bin",
            ],
            "expected PROPERTY=VALUE",
        ),
        (
            vec!["boot", "--kernel", "/no/such/kernel"],
            "cannot read '/no/such/kernel'",
        ),
        (
            vec!["boot", "--serial", "tty9", "--boot-sector", "x"],
            "is not stdio, none or file:PATH",
        ),
    ] {
        let out = moon86(&args, here);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(message),
            "{args:?}: expected {message:?} in:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn example_watch_variable_captures_each_change() {
    let dir = std::env::temp_dir().join(format!("moon86-watch-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_moon86"))
        .arg("run")
        .arg(root.join("examples/watch_variable.lua"))
        .arg(&dir)
        .output()
        .expect("the moon86 binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bundles: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    bundles.sort();
    assert_eq!(
        bundles,
        [
            "capture-000000000045",
            "capture-000000000050",
            "capture-000000000055",
            "capture-000000000060",
            "capture-000000000065"
        ]
    );
    let ram = std::fs::read(dir.join(&bundles[2]).join("ram-00000000-00001000.bin")).unwrap();
    assert_eq!(
        &ram[0x600..0x602],
        &[3, 0],
        "the bundle holds the value just written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(not(feature = "sdl"))]
#[test]
fn display_sdl_without_the_feature_says_how_to_build_it() {
    let out = moon86(
        &[
            "boot",
            "--kernel",
            "guests/debug/target.bin",
            "--display",
            "sdl",
        ],
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--features sdl") && err.contains("libsdl2-dev"),
        "{err}"
    );
}

#[test]
fn a_dump_to_a_full_device_fails_and_leaves_the_device() {
    use std::os::unix::fs::FileTypeExt;
    let dir = Scratch::new(
        "full-device",
        &[(
            "t.lua",
            b"local vm = moon86.new{ ram = '1M' }\nvm:power_on()\nvm.mem:dump(0, 4096, 'full')\nprint('not reached')\n",
        )],
    );
    let full = dir.0.join("full");
    let c = std::ffi::CString::new(full.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 7)) } != 0 {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let out = moon86(&["run", "t.lua"], &dir.0);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("cannot write 'full': No space left on device"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("not reached"));
    let kind = std::fs::symlink_metadata(&full).unwrap().file_type();
    assert!(kind.is_char_device(), "the device was replaced: {kind:?}");
}

/// A 6 GiB sparse file as `--boot-sector`, `--rom` and `--initrd` is refused
/// from its size at once, naming the file, its size and the limit.
#[test]
fn boot_refuses_huge_inputs_without_reading_them() {
    let dir = Scratch::new("huge-inputs", &[]);
    let huge = dir.0.join("huge.img");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(6 << 30))
        .unwrap();
    // Just enough of a bzImage for the kernel to be taken as Linux.
    let mut kernel = vec![0u8; 8192];
    kernel[0x202..0x206].copy_from_slice(b"HdrS");
    std::fs::write(dir.0.join("bzImage"), &kernel).unwrap();
    let huge_kernel = dir.0.join("huge-bzImage");
    std::fs::write(&huge_kernel, &kernel).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&huge_kernel)
        .and_then(|f| f.set_len(6 << 30))
        .unwrap();
    for (args, message) in [
        (
            vec!["boot", "--boot-sector", "huge.img"],
            "'huge.img' is 6442450944 bytes: a boot sector is exactly 512 bytes",
        ),
        (
            vec!["boot", "--rom", "huge.img"],
            "'huge.img' is 6442450944 bytes: a ROM image must be a multiple of 2 KiB and at most 16 MiB",
        ),
        (
            vec!["boot", "-m", "16M", "--kernel", "bzImage", "--initrd", "huge.img"],
            "'huge.img' is 6442450944 bytes, more than the 16777216 bytes of this VM's RAM",
        ),
        (
            vec!["boot", "-m", "16M", "--kernel", "huge-bzImage"],
            "'huge-bzImage' is 6442450944 bytes, more than the 16777216 bytes of this VM's RAM",
        ),
    ] {
        let t = std::time::Instant::now();
        let out = moon86(&args, &dir.0);
        let err = text(&out.stderr);
        assert!(t.elapsed().as_millis() < 2000, "{args:?} took {:?}", t.elapsed());
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(err.contains(message), "{args:?}: expected {message:?} in:\n{err}");
    }
}

/// Negative numbers reach moon86's own checks (not clap's "unexpected
/// argument"), and an output file that cannot be created says so.
#[test]
fn boot_names_what_is_wrong_with_a_value() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (args, message) in [
        (
            vec!["-m", "-1"],
            "bad value for ram_size: bad size '-1': a size cannot be negative",
        ),
        (
            vec!["--gdb", "-5"],
            "invalid value '-5' for '--gdb <ADDR>': '-5' is not tcp::PORT, tcp:HOST:PORT or PORT",
        ),
        (
            vec!["--instructions", "-1"],
            "invalid value '-1' for '--instructions <N>': a count of instructions cannot be negative",
        ),
        (
            vec!["--serial", "file:/nonexistent/x"],
            "cannot create '/nonexistent/x' to write the guest's output there: No such file or directory",
        ),
    ] {
        let mut all = vec!["boot", "--boot-sector", "guests/hello/boot.bin"];
        all.extend(&args);
        let out = moon86(&all, here);
        let err = text(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(err.contains(message), "{args:?}: expected {message:?} in:\n{err}");
        assert!(!err.contains("unexpected argument") && !err.contains("cannot read"), "{err}");
    }
}

#[test]
fn append_or_initrd_without_a_kernel_and_ips_zero_are_refused() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (args, message) in [
        (
            vec![
                "--append",
                "console=ttyS0",
                "--boot-sector",
                "guests/hello/boot.bin",
            ],
            "--append needs --kernel",
        ),
        (
            vec![
                "--initrd",
                "guests/hello/boot.bin",
                "--boot-sector",
                "guests/hello/boot.bin",
            ],
            "--initrd needs --kernel",
        ),
        (
            vec!["--append", "x", "--rom", "guests/hello/boot.bin"],
            "--kernel",
        ),
        (
            vec!["--set", "ips=0", "--boot-sector", "guests/hello/boot.bin"],
            "bad value for ips: 0 is out of range; expected integer (1 to",
        ),
    ] {
        for command in ["boot", "monitor"] {
            let mut all = vec![command];
            all.extend(&args);
            all.extend(["--serial", "none"]);
            let out = moon86(&all, here);
            let err = text(&out.stderr);
            assert_ne!(out.status.code(), Some(0), "{all:?}: {err}");
            assert!(
                err.contains(message),
                "{all:?}: expected {message:?} in:\n{err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

/// A boot sector that writes `text` to port `port` byte by byte, then stops
/// (CLI; HLT).
fn port_writer(port: u16, text: &[u8]) -> Vec<u8> {
    let mut code = vec![0xBA, port as u8, (port >> 8) as u8]; // mov dx, port
    for &b in text {
        code.extend([0xB0, b, 0xEE]); // mov al, b ; out dx, al
    }
    code.extend([0xFA, 0xF4]);
    code.resize(510, 0);
    code.extend([0x55, 0xAA]);
    code
}

#[test]
fn boot_writes_the_firmware_debug_port_to_a_file_or_stdout() {
    let sector = port_writer(0x402, b"SeaBIOS (version x)\n");
    let dir = Scratch::new("biosdebug", &[("bios.bin", &sector)]);
    for flag in ["--biosdebug", "--bios-log"] {
        let out = moon86(
            &[
                "boot",
                "--boot-sector",
                "bios.bin",
                "--serial",
                "none",
                flag,
                "file:bios.log",
            ],
            &dir.0,
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let log = std::fs::read_to_string(dir.0.join("bios.log")).unwrap();
        assert_eq!(log, "SeaBIOS (version x)\n", "{flag}");
        assert!(!text(&out.stdout).contains("SeaBIOS"), "none on stdout");
    }
    let out = moon86(
        &[
            "boot",
            "--boot-sector",
            "bios.bin",
            "--serial",
            "none",
            "--biosdebug",
            "stdio",
        ],
        &dir.0,
    );
    assert!(text(&out.stdout).contains("SeaBIOS (version x)\n"));
    // Off by default: the 0xE9 console's --debugcon does not carry it.
    let out = moon86(
        &["boot", "--boot-sector", "bios.bin", "--serial", "none"],
        &dir.0,
    );
    assert!(
        !text(&out.stdout).contains("SeaBIOS"),
        "{}",
        text(&out.stdout)
    );
    let help = text(&moon86(&["boot", "--help"], &dir.0).stdout);
    assert!(
        help.contains("--biosdebug <TARGET>") && help.contains("0x402"),
        "{help}"
    );
}

/// A boot sector that prints "B" on the debug console and resets the
/// machine through port 0xCF9: by default the machine reboots (the boot
/// sector is put back and prints again), with --no-reboot the run ends.
#[test]
fn a_guest_reset_reboots_unless_no_reboot() {
    let mut sector = vec![
        0xb0, b'B', 0xe6, 0xe9, // mov al, 'B'; out 0xe9, al
        0xb0, 0x06, 0xba, 0xf9, 0x0c, 0xee, // mov al, 6; mov dx, 0xcf9; out dx, al
        0xf4, // hlt
    ];
    sector.resize(510, 0);
    sector.extend([0x55, 0xAA]);
    let dir = Scratch::new("reboot", &[("reset.bin", &sector)]);
    let base = ["boot", "--boot-sector", "reset.bin", "--serial", "none"];
    let out = moon86(&[&base[..], &["--instructions", "100"]].concat(), &dir.0);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with("BBBBBBBBBB"),
        "rebooted each time: {stdout:?}"
    );
    assert!(text(&out.stderr).contains("stopped after 100 instructions"));
    let out = moon86(&[&base[..], &["--no-reboot"]].concat(), &dir.0);
    assert_eq!(text(&out.stdout), "B");
    assert!(
        text(&out.stderr).contains("the guest stopped: the guest asked for a reset"),
        "{}",
        text(&out.stderr)
    );
}

/// A kernel that dies before it has an IDT must not end in a silent triple
/// fault: the stop reason names the instruction and every exception on the
/// way (guests/shutdown/noidt.S: UD2 in protected mode with an empty IDT),
/// and Lua reads the same chain from `shutdown_cause`.
#[test]
fn a_triple_fault_names_the_instruction_and_the_exceptions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chain = "#UD at 0008:00007c2b, then #GP(0x33) delivering #UD, \
                 then #GP(0x6b) delivering #GP, then #GP(0x43) delivering #DF";
    for jit in ["on", "off"] {
        let out = moon86(
            &[
                "boot",
                "--jit",
                jit,
                "--boot-sector",
                "guests/shutdown/noidt.bin",
            ],
            root,
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(&format!(
                "CPU shutdown (triple fault): {chain}; the instruction: 0008:00007c2b  ud2"
            )),
            "{}",
            text(&out.stderr)
        );
    }
    let script = format!(
        "local vm = moon86.new{{}}\n\
         vm:load_boot_sector('{}/guests/shutdown/noidt.bin')\n\
         assert(vm.shutdown_cause == nil)\n\
         vm:power_on()\n\
         assert(vm:run{{ instructions = 1000 }} == 'shutdown')\n\
         print(vm.shutdown_cause)\n\
         vm:reset()\n\
         assert(vm.shutdown_cause == nil, 'a reset forgets it')\n",
        root.display()
    );
    let dir = Scratch::new("shutdown", &[("t.lua", script.as_bytes())]);
    let out = moon86(&["run", "t.lua"], &dir.0);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), chain);
}
