//! The benchmark kernel `guests/bench/workload.S` (a Multiboot image with
//! load addresses, about 212 million instructions) booted with
//! `moon86 boot --kernel`: it must print the four checksum lines and leave
//! through the exit port. The expected lines come from the independent model
//! `guests/bench/workload_model.py`; qemu-system-i386 (TCG) printed the same
//! four lines for the same binary. Several seconds in release mode.

use std::path::Path;
use std::process::Command;

const EXPECTED: &str = "\
phase 1 int    checksum 198a4817
phase 2 mem    checksum b94b6356
phase 3 call   checksum e8c28b31
phase 4 interp checksum bf036391
";

#[test]
fn workload_prints_the_modelled_checksums() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = std::env::temp_dir().join(format!("moon86-workload-{}.log", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args(["boot", "--kernel", "guests/bench/workload.bin", "--serial"])
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
        "exit status (0 << 1) | 1 from the exit port; stderr:\n{stderr}\nserial:\n{serial}"
    );
    assert_eq!(serial, EXPECTED);
}
