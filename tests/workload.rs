//! The benchmark kernel `guests/bench/workload.S` (a Multiboot image with
//! load addresses, about 212 million instructions) booted with
//! `moon86 boot --kernel`, by the interpreter and by the JIT: each must print
//! the four checksum lines and leave through the exit port. The expected
//! lines come from the independent model `guests/bench/workload_model.py`;
//! qemu-system-i386 (TCG) printed the same four lines for the same binary.
//! Several seconds in release mode (the interpreter's run is the longer).

use std::path::Path;
use std::process::Command;

const EXPECTED: &str = "\
phase 1 int    checksum 198a4817
phase 2 mem    checksum b94b6356
phase 3 call   checksum e8c28b31
phase 4 interp checksum bf036391
";

/// Boots the workload with `--jit MODE` and checks its output and status.
fn boot_workload(jit: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = std::env::temp_dir().join(format!(
        "moon86-workload-jit-{jit}-{}.log",
        std::process::id()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args([
            "--jit",
            jit,
            "boot",
            "--kernel",
            "guests/bench/workload.bin",
        ])
        .arg("--serial")
        .arg(format!("file:{}", log.display()))
        .current_dir(root)
        .output()
        .expect("the moon86 binary runs");
    let serial = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "--jit {jit}: exit status (0 << 1) | 1 from the exit port; stderr:\n{stderr}\nserial:\n{serial}"
    );
    assert_eq!(serial, EXPECTED, "--jit {jit}");
}

#[test]
fn interpreter_prints_the_modelled_checksums() {
    boot_workload("off");
}

#[test]
fn jit_prints_the_modelled_checksums() {
    boot_workload("on");
}
