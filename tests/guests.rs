//! Real third-party guests, fetched from Debian's archive by
//! `scripts/fetch-guests.py` (cached in `.cache/guests`): the i386 Linux
//! kernel with a busybox initramfs, memtest86+ and GNU Mach, each booted by a
//! Lua script in `tests/guests/` through the `moon86` binary.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The fetched guests (`kernel`, `initramfs`, `memtest`, `gnumach`, `marker`),
/// fetched once per test run.
fn guests() -> &'static HashMap<String, String> {
    static GUESTS: OnceLock<HashMap<String, String>> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("python3")
            .arg(root.join("scripts/fetch-guests.py"))
            .arg("--quiet")
            .output()
            .expect("python3 runs scripts/fetch-guests.py");
        assert!(
            out.status.success(),
            "scripts/fetch-guests.py failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

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
fn memtest86_runs_a_test() {
    run_guest_script("memtest.lua", &["memtest"]);
}

#[test]
fn gnu_mach_boots_by_multiboot() {
    run_guest_script("gnumach.lua", &["gnumach"]);
}
