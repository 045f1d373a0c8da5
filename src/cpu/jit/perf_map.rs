//! Names generated code for host profilers: with `MOON86_PERF_MAP=1` in
//! the environment, every block the JIT compiles gets a line in
//! `/tmp/perf-PID.map` (the format Linux `perf` reads for JIT code:
//! `START SIZE NAME`, in hex), naming its guest physical address, CS
//! offset, instruction count and offset in the code arena, so `perf
//! report` attributes samples in generated code to guest blocks. (The
//! arena is a memfd mapping, which `perf` names by file offset instead:
//! the `at_OFFSET` part of each name matches those.) Each line is written
//! as its block is made, so a run that ends early still names them all.
//! The code itself goes to `/tmp/moon86-jit-PID.bin`, an image of the arena (each
//! block at its `at_OFFSET`, a later block overwriting an earlier one
//! after a flush), for `objdump -D -b binary -m i386:x86-64
//! --start-address=OFFSET`.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::{Mutex, OnceLock};

/// The map and the arena image.
struct Files {
    map: File,
    code: File,
}

fn files() -> &'static Mutex<Option<Files>> {
    static FILES: OnceLock<Mutex<Option<Files>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let on = std::env::var_os("MOON86_PERF_MAP").is_some_and(|v| v != "0" && !v.is_empty());
        let pid = std::process::id();
        let open = || {
            Some(Files {
                map: File::create(format!("/tmp/perf-{pid}.map")).ok()?,
                code: File::create(format!("/tmp/moon86-jit-{pid}.bin")).ok()?,
            })
        };
        Mutex::new(if on { open() } else { None })
    })
}

/// Records a block of `len` bytes of code at `addr` for guest code at
/// physical `phys`, CS offset `eip`, `insns` instructions long, `at`
/// bytes into the arena.
pub(super) fn record(code: &[u8], addr: usize, at: usize, phys: u32, eip: u32, insns: usize) {
    let Ok(mut f) = files().lock() else { return };
    if let Some(f) = f.as_mut() {
        // A profiler's aid: a failed write only loses names or code.
        let len = code.len();
        let line = format!("{addr:x} {len:x} guest_{phys:08x}_eip_{eip:08x}_{insns}_at_{at:x}\n");
        let _ = f.map.write_all(line.as_bytes());
        let _ = f.code.write_all_at(code, at as u64);
    }
}
