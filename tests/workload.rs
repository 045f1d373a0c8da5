//! The benchmark kernels booted with `moon86 boot --kernel`, by the
//! interpreter and by the JIT: each must print its checksum lines and leave
//! through the exit port.
//! - `guests/bench/workload.S` (hand-written assembly, about 212 million
//!   instructions): four lines from the independent model
//!   `guests/bench/workload_model.py`; qemu-system-i386 (TCG) printed the
//!   same four lines for the same binary.
//! - `guests/bench/compiled.c` (gcc -O2 C, about 460 million
//!   instructions): a header and nine checksum lines from
//!   `guests/bench/compiled_model.py`.
//!
//! Some seconds in release mode (the interpreter's runs are the longer).

use std::path::Path;
use std::process::Command;

const EXPECTED: &str = "\
phase 1 int    checksum 198a4817
phase 2 mem    checksum b94b6356
phase 3 call   checksum e8c28b31
phase 4 interp checksum bf036391
";

const COMPILED_EXPECTED: &str = "\
bench/compiled: 9 phases
phase 1 crc     checksum 7cc72c20
phase 2 sieve   checksum d4867a1f
phase 3 copy    checksum c3414f14
phase 4 calls   checksum ffa4066a
phase 5 interp  checksum dd9c79ce
phase 6 chase   checksum cad7c8fe
phase 7 rep     checksum fc08b4e3
phase 8 bignum  checksum fd603d6c
phase 9 inflate checksum f3bc4c77
";

/// Boots the workload with `--jit MODE` and checks its output and status.
fn boot_workload(jit: &str) {
    boot_kernel("guests/bench/workload.bin", jit, EXPECTED);
}

/// Boots `kernel` with `--jit MODE` and checks that it printed `expected`
/// and left through the exit port.
fn boot_kernel(kernel: &str, jit: &str, expected: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = std::env::temp_dir().join(format!(
        "moon86-{}-jit-{jit}-{}.log",
        Path::new(kernel).file_stem().unwrap().to_string_lossy(),
        std::process::id()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args(["--jit", jit, "boot", "--kernel", kernel, "-m", "64M"])
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
    assert_eq!(serial, expected, "{kernel} --jit {jit}");
}

#[test]
fn interpreter_prints_the_modelled_checksums() {
    boot_workload("off");
}

#[test]
fn jit_prints_the_modelled_checksums() {
    boot_workload("on");
}

#[test]
fn compiled_c_under_the_interpreter_prints_the_modelled_checksums() {
    boot_kernel("guests/bench/compiled.bin", "off", COMPILED_EXPECTED);
}

#[test]
fn compiled_c_under_the_jit_prints_the_modelled_checksums() {
    boot_kernel("guests/bench/compiled.bin", "on", COMPILED_EXPECTED);
}
