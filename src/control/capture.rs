//! Capture bundles: everything a script wants to keep about one instant,
//! written synchronously (at the instruction boundary where the VM
//! stands) into a directory of its own, `DIR/capture-<icount, 12 digits>`,
//! with `-2`, `-3`... appended when that name is taken, so captures never
//! overwrite each other. A bundle holds, as asked: `screen.png`,
//! `regs.json` ([`Registers::to_json`]), `serial.log` (all COM1 output
//! since power-on) and `ram-<start>-<end>.bin` for each physical range
//! (8 hex digits each, the end exclusive).
//!
//! Every range is checked before anything is written. The bundle is built
//! in a hidden temporary directory beside its final place and renamed into
//! place when complete; on any failure the temporary directory is removed,
//! so a bundle is there whole or not at all.

use super::action::Action;
use super::registers::Registers;
use super::screenshot::encode_png;
use super::vm::{Vm, MAX_TRANSFER};
use super::ControlError;
use crate::machine::Machine;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What one capture writes, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureSpec {
    /// The directory that receives the bundle; created when missing.
    pub dir: PathBuf,
    /// Physical ranges `(start, end)`, the end exclusive.
    pub ram: Vec<(u64, u64)>,
    pub screen: bool,
    pub regs: bool,
    pub serial: bool,
}

impl CaptureSpec {
    /// The default bundle: screen, registers and serial log, no RAM.
    pub fn new(dir: impl Into<PathBuf>) -> CaptureSpec {
        CaptureSpec {
            dir: dir.into(),
            ram: Vec::new(),
            screen: true,
            regs: true,
            serial: true,
        }
    }
}

/// RAM is copied to the bundle in pieces of this size.
const CHUNK: u64 = 1 << 20;
/// How many `-N` suffixes to try before giving up on a name.
const MAX_SUFFIX: u32 = 100_000;

/// Distinguishes the temporary directories of one process.
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// The file name of a RAM range in a bundle.
pub fn ram_file_name(start: u64, end: u64) -> String {
    format!("ram-{start:08x}-{end:08x}.bin")
}

fn check_ranges(m: &Machine, ranges: &[(u64, u64)]) -> Result<(), ControlError> {
    let mut total: u64 = 0;
    for &(start, end) in ranges {
        let bad = |reason: String| ControlError::BadRange { start, end, reason };
        if end <= start {
            return Err(bad(
                "the end must be greater than the start (ranges are {start, end}, end exclusive)"
                    .into(),
            ));
        }
        let len = end - start;
        m.board
            .mem
            .check_readable(start, len)
            .map_err(|e| bad(e.to_string()))?;
        total = total.saturating_add(len);
        if total > MAX_TRANSFER {
            return Err(bad(format!(
                "the ranges add up to more than the {MAX_TRANSFER} bytes one capture may hold"
            )));
        }
    }
    Ok(())
}

/// Builds one bundle in `tmp`; the caller removes `tmp` on error.
fn fill(m: &Machine, spec: &CaptureSpec, tmp: &Path) -> Result<(), ControlError> {
    let failed = |step: String| {
        let dir = spec.dir.clone();
        move |source| ControlError::Capture { dir, step, source }
    };
    let put = |name: &str, data: &[u8]| {
        File::create(tmp.join(name))
            .and_then(|mut f| f.write_all(data).and_then(|_| f.sync_all()))
            .map_err(failed(format!("writing {name}")))
    };
    if spec.screen {
        put("screen.png", &encode_png(&m.screen_frame())?)?;
    }
    if spec.regs {
        let mut json = serde_json::to_vec_pretty(&Registers::of(m).to_json())
            .map_err(|e| failed("writing regs.json".into())(e.into()))?;
        json.push(b'\n');
        put("regs.json", &json)?;
    }
    if spec.serial {
        put("serial.log", m.serial[0].all())?;
    }
    for &(start, end) in &spec.ram {
        let name = ram_file_name(start, end);
        let write_range = || -> Result<(), ControlError> {
            let mut f = File::create(tmp.join(&name)).map_err(failed(format!("writing {name}")))?;
            let mut buf = vec![0u8; CHUNK.min(end - start) as usize];
            let mut at = start;
            while at < end {
                let n = (end - at).min(CHUNK) as usize;
                m.board.mem.read_bytes(at, &mut buf[..n])?;
                f.write_all(&buf[..n])
                    .map_err(failed(format!("writing {name}")))?;
                at += n as u64;
            }
            f.sync_all().map_err(failed(format!("writing {name}")))
        };
        write_range()?;
    }
    Ok(())
}

/// Creates a fresh hidden directory in `dir` for a bundle being built.
fn temp_dir(dir: &Path, base: &str) -> io::Result<PathBuf> {
    loop {
        let seq = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{base}.{}-{seq}.moon86-tmp", std::process::id()));
        match fs::create_dir(&tmp) {
            Ok(()) => return Ok(tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Renames `tmp` to `dir/base`, or `dir/base-2`, `-3`... when taken.
fn publish(tmp: &Path, dir: &Path, base: &str) -> io::Result<PathBuf> {
    for n in 1..=MAX_SUFFIX {
        let name = if n == 1 {
            base.to_owned()
        } else {
            format!("{base}-{n}")
        };
        let target = dir.join(name);
        if target.symlink_metadata().is_ok() {
            continue;
        }
        match fs::rename(tmp, &target) {
            Ok(()) => return Ok(target),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{base} and {MAX_SUFFIX} numbered variants all exist"),
    ))
}

impl Vm {
    /// Writes one capture bundle as `spec` asks and returns its path.
    pub fn capture(&self, spec: &CaptureSpec) -> Result<PathBuf, ControlError> {
        self.guard(Action::Capture)?;
        let m = self.machine()?;
        check_ranges(m, &spec.ram)?;
        let dir = &spec.dir;
        let failed = |step: &str| {
            let step = step.to_owned();
            move |source| ControlError::Capture {
                dir: dir.clone(),
                step,
                source,
            }
        };
        fs::create_dir_all(dir).map_err(failed("creating the directory"))?;
        let base = format!("capture-{:012}", m.icount);
        let tmp = temp_dir(dir, &base).map_err(failed("creating a temporary directory"))?;
        let done = fill(m, spec, &tmp).and_then(|_| {
            publish(&tmp, dir, &base).map_err(failed("moving the bundle into place"))
        });
        if done.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        done
    }
}
