//! Names generated code for host profilers: with `MOON86_PERF_MAP=1` in
//! the environment, every block the JIT compiles gets a line in
//! `/tmp/perf-PID.map` (the format Linux `perf` reads for JIT code:
//! `START SIZE NAME`, in hex), naming its guest physical address, CS
//! offset, instruction count and offset in the code arena, so `perf
//! report` attributes samples in generated code to guest blocks. (The
//! arena is a memfd mapping, which `perf` names by file offset instead:
//! the `at_OFFSET` part of each name matches those.) Lines are written in
//! batches, so the last few blocks of a run may be missing.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::{Mutex, OnceLock};

fn file() -> &'static Mutex<Option<BufWriter<File>>> {
    static FILE: OnceLock<Mutex<Option<BufWriter<File>>>> = OnceLock::new();
    FILE.get_or_init(|| {
        let on = std::env::var_os("MOON86_PERF_MAP").is_some_and(|v| v != "0" && !v.is_empty());
        let path = format!("/tmp/perf-{}.map", std::process::id());
        Mutex::new(
            on.then(|| File::create(path).ok().map(BufWriter::new))
                .flatten(),
        )
    })
}

/// Records a block of `len` bytes of code at `addr` for guest code at
/// physical `phys`, CS offset `eip`, `insns` instructions long, `at`
/// bytes into the arena.
pub(super) fn record(addr: usize, len: usize, at: usize, phys: u32, eip: u32, insns: usize) {
    let Ok(mut f) = file().lock() else { return };
    if let Some(f) = f.as_mut() {
        // A profiler's aid: a failed write only loses names.
        let _ = writeln!(
            f,
            "{addr:x} {len:x} guest_{phys:08x}_eip_{eip:08x}_{insns}_at_{at:x}"
        );
        if f.buffer().len() > 4096 {
            let _ = f.flush();
        }
    }
}
