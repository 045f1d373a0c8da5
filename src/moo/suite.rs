//! Running a whole directory of MOO files: discovery, parallel execution,
//! the per-file table, the skip summary and the pass bar.
//!
//! This file owns what the `singlestep` example and the `tests/singlestep.rs`
//! integration test share, so both stay thin: finding `*.MOO`/`*.MOO.gz`
//! files (plus each folder's `metadata.json` and `revocation_list.txt`),
//! running their tests over the worker threads with one reused
//! [`TestBus`] each, and reporting. How a single test runs is `runner.rs`'s
//! business; which tests are skipped is `skips.rs`'s.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::format::{read_file, MooError};
use super::metadata::{FlagMasks, MetadataError, OpcodeKey};
use super::runner::{run_test_with, Diff, FileContext, Outcome, Stepper, TestBus};
use super::skips::{self, RevocationError, Revocations, SkipInput, SKIPS};
use super::test::{hex, CpuId};

/// Share of the non-skipped tests that must pass, in tenths of a percent.
pub const PASS_BAR_PERMILLE: u64 = 995;
/// Share of all tests the skip list may cover, in tenths of a percent (strictly less).
pub const SKIP_BAR_PERMILLE: u64 = 10;

/// Why a directory could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("test directory {path} does not exist")]
    NotFound { path: PathBuf },
    #[error("{path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("cannot read directory {path}: {source}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no *.MOO or *.MOO.gz files under {path}{}", filter_note(.filter))]
    NoMooFiles {
        path: PathBuf,
        filter: Option<String>,
    },
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Revocation(#[from] RevocationError),
}

fn filter_note(filter: &Option<String>) -> String {
    match filter {
        Some(f) => format!(" matching {f:?}"),
        None => String::new(),
    }
}

/// How to run a directory.
#[derive(Clone, Debug)]
pub struct SuiteOptions {
    /// Only files whose path (relative to the root) contains this.
    pub filter: Option<String>,
    /// Keep the first this-many failures of each file, with their diffs.
    pub verbose: usize,
    /// Worker threads (at least one).
    pub threads: usize,
    /// Only decode the files and count their tests; run nothing.
    pub parse_only: bool,
    /// Give the test bus content stamps (`TestBus::with_code_tracking`),
    /// so the decoded-instruction cache and the JIT can work (a stepper
    /// such as `runner::jit_step` then uses the JIT).
    pub code_tracking: bool,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        SuiteOptions {
            filter: None,
            verbose: 0,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            parse_only: false,
            code_tracking: false,
        }
    }
}

/// One failing test, kept for the verbose listing.
#[derive(Clone, Debug)]
pub struct FailureDetail {
    pub index: u32,
    pub name: String,
    pub bytes: Vec<u8>,
    pub hash: String,
    pub diffs: Vec<Diff>,
}

/// The outcome of one file.
#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    /// Path relative to the suite root, with `/` separators.
    pub rel: String,
    pub mnemonic: String,
    pub tests: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Skips by skip-entry id.
    pub skips: BTreeMap<&'static str, usize>,
    pub failures: Vec<FailureDetail>,
    /// The file could not be decoded; its tests are not counted.
    pub error: Option<MooError>,
    /// Something the reader should know (a missing metadata.json, ...).
    pub warning: Option<String>,
}

/// The outcome of a directory.
#[derive(Debug)]
pub struct SuiteReport {
    pub root: PathBuf,
    pub files: Vec<FileReport>,
    pub revoked_hashes: usize,
    pub parse_only: bool,
}

/// Everything discovered under a root.
#[derive(Debug, Default)]
struct Discovery {
    moo: Vec<PathBuf>,
    metadata: Vec<PathBuf>,
    revocations: Vec<PathBuf>,
}

fn is_moo_name(name: &str) -> bool {
    let u = name.to_ascii_uppercase();
    u.ends_with(".MOO") || u.ends_with(".MOO.GZ")
}

fn walk(dir: &Path, depth: usize, found: &mut Discovery) -> Result<(), SuiteError> {
    let read_err = |source| SuiteError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir).map_err(read_err)? {
        entries.push(e.map_err(read_err)?.path());
    }
    entries.sort();
    for path in entries {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // a dangling symlink
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if meta.is_dir() {
            if depth < 32 {
                walk(&path, depth + 1, found)?;
            }
        } else if is_moo_name(name) {
            found.moo.push(path);
        } else if name == "metadata.json" {
            found.metadata.push(path);
        } else if name == "revocation_list.txt" {
            found.revocations.push(path);
        }
    }
    Ok(())
}

/// Every `*.MOO`/`*.MOO.gz` file under `root`, sorted by path.
pub fn find_moo_files(root: &Path) -> Result<Vec<PathBuf>, SuiteError> {
    Ok(discover(root)?.moo)
}

fn discover(root: &Path) -> Result<Discovery, SuiteError> {
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SuiteError::NotFound {
            path: root.to_path_buf(),
        },
        _ => SuiteError::ReadDir {
            path: root.to_path_buf(),
            source: e,
        },
    })?;
    if !meta.is_dir() {
        return Err(SuiteError::NotADirectory {
            path: root.to_path_buf(),
        });
    }
    let mut found = Discovery::default();
    walk(root, 0, &mut found)?;
    found.moo.sort();
    Ok(found)
}

fn rel_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs (or, with `parse_only`, decodes) every MOO file under `root`.
pub fn run_dir(root: &Path, opts: &SuiteOptions) -> Result<SuiteReport, SuiteError> {
    run_dir_with(root, opts, &|_, cpu, bus| cpu.step(bus))
}

/// [`run_dir`] with `step` in place of `Cpu::step` (see [`Stepper`]).
pub fn run_dir_with(
    root: &Path,
    opts: &SuiteOptions,
    step: &Stepper,
) -> Result<SuiteReport, SuiteError> {
    let found = discover(root)?;
    let files: Vec<PathBuf> = found
        .moo
        .into_iter()
        .filter(|p| {
            opts.filter
                .as_deref()
                .is_none_or(|f| rel_name(root, p).contains(f))
        })
        .collect();
    if files.is_empty() {
        return Err(SuiteError::NoMooFiles {
            path: root.to_path_buf(),
            filter: opts.filter.clone(),
        });
    }
    let mut flag_masks: HashMap<PathBuf, FlagMasks> = HashMap::new();
    for m in &found.metadata {
        let dir = m.parent().unwrap_or(Path::new("")).to_path_buf();
        flag_masks.insert(dir, FlagMasks::load(m)?);
    }
    let mut revoked = Revocations::default();
    for r in &found.revocations {
        revoked.load(r)?;
    }

    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, files.len());
    let mut reports: Vec<(usize, FileReport)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut bus = (!opts.parse_only).then(|| {
                        if opts.code_tracking {
                            TestBus::with_code_tracking()
                        } else {
                            TestBus::new()
                        }
                    });
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        let masks = path.parent().and_then(|d| flag_masks.get(d));
                        let rep = run_file(root, path, masks, &revoked, bus.as_mut(), opts, step);
                        out.push((i, rep));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    reports.sort_by_key(|(i, _)| *i);
    // A worker that panicked loses its files; report them rather than drop them.
    let mut by_index: Vec<Option<FileReport>> = (0..files.len()).map(|_| None).collect();
    for (i, r) in reports {
        by_index[i] = Some(r);
    }
    let files = by_index
        .into_iter()
        .zip(&files)
        .map(|(r, path)| {
            r.unwrap_or_else(|| {
                let mut r = empty_report(root, path);
                r.warning = Some("worker thread panicked while running this file".into());
                r.error = Some(MooError::Io {
                    path: path.clone(),
                    source: io::Error::other("worker thread panicked"),
                });
                r
            })
        })
        .collect();
    Ok(SuiteReport {
        root: root.to_path_buf(),
        files,
        revoked_hashes: revoked.len(),
        parse_only: opts.parse_only,
    })
}

fn empty_report(root: &Path, path: &Path) -> FileReport {
    FileReport {
        path: path.to_path_buf(),
        rel: rel_name(root, path),
        mnemonic: String::new(),
        tests: 0,
        passed: 0,
        failed: 0,
        skipped: 0,
        skips: BTreeMap::new(),
        failures: Vec::new(),
        error: None,
        warning: None,
    }
}

fn run_file(
    root: &Path,
    path: &Path,
    masks: Option<&FlagMasks>,
    revoked: &Revocations,
    bus: Option<&mut TestBus>,
    opts: &SuiteOptions,
    step: &Stepper,
) -> FileReport {
    let mut rep = empty_report(root, path);
    let file = match read_file(path) {
        Ok(f) => f,
        Err(e) => {
            rep.error = Some(e);
            return rep;
        }
    };
    rep.mnemonic = file
        .meta
        .as_ref()
        .map(|m| m.mnemonic.clone())
        .unwrap_or_default();
    rep.tests = file.tests.len();
    let Some(bus) = bus else { return rep };

    let key = OpcodeKey::from_file_name(path);
    let cpu = file.header.cpu;
    let mut ctx = FileContext::new(cpu);
    ctx.masks = file.masks.clone();
    if cpu == CpuId::I286 {
        match (masks, &key) {
            (Some(m), Some(k)) => ctx.flags_mask_286 = m.mask(k),
            (None, _) => {
                rep.warning =
                    Some("no metadata.json beside this 286 file: every flag compared".into())
            }
            (_, None) => {
                rep.warning = Some("file name names no opcode: every flag compared".into())
            }
        }
    }
    for test in &file.tests {
        let skip = skips::find(&SkipInput {
            key: key.as_ref(),
            cpu,
            test,
            revoked,
        });
        let outcome = match skip {
            Some(e) => Outcome::Skipped(e.id),
            None => run_test_with(test, &ctx, bus, step),
        };
        match outcome {
            Outcome::Pass => rep.passed += 1,
            Outcome::Skipped(id) => {
                rep.skipped += 1;
                *rep.skips.entry(id).or_default() += 1;
            }
            Outcome::Fail(diffs) => {
                rep.failed += 1;
                if rep.failures.len() < opts.verbose {
                    rep.failures.push(FailureDetail {
                        index: test.index,
                        name: test.name.clone(),
                        bytes: test.bytes.clone(),
                        hash: test.hash_hex(),
                        diffs,
                    });
                }
            }
        }
    }
    rep
}

impl SuiteReport {
    /// Tests found in every decodable file.
    pub fn total(&self) -> usize {
        self.files.iter().map(|f| f.tests).sum()
    }
    pub fn passed(&self) -> usize {
        self.files.iter().map(|f| f.passed).sum()
    }
    pub fn failed(&self) -> usize {
        self.files.iter().map(|f| f.failed).sum()
    }
    pub fn skipped(&self) -> usize {
        self.files.iter().map(|f| f.skipped).sum()
    }
    /// Files that could not be decoded.
    pub fn errors(&self) -> impl Iterator<Item = (&FileReport, &MooError)> {
        self.files
            .iter()
            .filter_map(|f| f.error.as_ref().map(|e| (f, e)))
    }
    /// Skip counts by skip-entry id, in skip-list order (zero counts included).
    pub fn skip_counts(&self) -> Vec<(&'static str, &'static str, usize)> {
        SKIPS
            .iter()
            .map(|e| {
                let n = self
                    .files
                    .iter()
                    .map(|f| f.skips.get(e.id).copied().unwrap_or(0))
                    .sum();
                (e.id, e.reason, n)
            })
            .collect()
    }

    /// The final line: `passed N of M (skipped K)`.
    pub fn final_line(&self) -> String {
        format!(
            "passed {} of {} (skipped {})",
            self.passed(),
            self.total(),
            self.skipped()
        )
    }

    /// Ok when the bar holds: every file decoded, at least 99.5% of the
    /// non-skipped tests pass, and skips cover under 1% of all tests.
    /// Otherwise a message naming the bar that failed.
    pub fn check_bar(&self) -> Result<(), String> {
        let errors = self.errors().count();
        if errors > 0 {
            return Err(format!("{errors} file(s) could not be read"));
        }
        let total = self.total() as u64;
        if total == 0 {
            return Err("no tests found".into());
        }
        let skipped = self.skipped() as u64;
        let passed = self.passed() as u64;
        let ran = total - skipped;
        let mut problems = Vec::new();
        if passed * 1000 < PASS_BAR_PERMILLE * ran {
            problems.push(format!(
                "pass bar failed: {passed} of {ran} non-skipped tests passed ({:.3}%), need at least 99.5%",
                percent(passed, ran)
            ));
        }
        if skipped * 1000 >= SKIP_BAR_PERMILLE * total {
            problems.push(format!(
                "skip bar failed: {skipped} of {total} tests skipped ({:.3}%), must be under 1%",
                percent(skipped, total)
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Writes the per-file table, the verbose failures, read errors, the
    /// skip summary and the final line.
    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        let width = self
            .files
            .iter()
            .map(|f| f.rel.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            w,
            "{:<width$}  {:<8} {:>6} {:>6} {:>6} {:>7}",
            "file", "mnemonic", "tests", "passed", "failed", "skipped"
        )?;
        for f in &self.files {
            if let Some(e) = &f.error {
                writeln!(w, "{:<width$}  ERROR: {e}", f.rel)?;
                continue;
            }
            writeln!(
                w,
                "{:<width$}  {:<8} {:>6} {:>6} {:>6} {:>7}",
                f.rel, f.mnemonic, f.tests, f.passed, f.failed, f.skipped
            )?;
        }
        for f in &self.files {
            if let Some(warn) = &f.warning {
                writeln!(w, "warning: {}: {warn}", f.rel)?;
            }
        }
        for f in self.files.iter().filter(|f| !f.failures.is_empty()) {
            writeln!(w)?;
            writeln!(
                w,
                "{}: first {} of {} failure(s)",
                f.rel,
                f.failures.len(),
                f.failed
            )?;
            for d in &f.failures {
                writeln!(
                    w,
                    "  test {} `{}` bytes {} hash {}",
                    d.index,
                    d.name,
                    hex(&d.bytes),
                    d.hash
                )?;
                for diff in &d.diffs {
                    writeln!(w, "      {diff}")?;
                }
            }
        }
        writeln!(w)?;
        if self.parse_only {
            writeln!(w, "parse only: no test was run")?;
        }
        writeln!(
            w,
            "skip list ({} revoked hash(es) loaded):",
            self.revoked_hashes
        )?;
        for (id, reason, n) in self.skip_counts() {
            writeln!(w, "  {n:>6}  {id}: {reason}")?;
        }
        let errors = self.errors().count();
        if errors > 0 {
            writeln!(w, "{errors} file(s) could not be read (see ERROR rows)")?;
        }
        writeln!(w, "{}", self.final_line())
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(tests: usize, passed: usize, skipped: usize) -> SuiteReport {
        let mut f = empty_report(Path::new("/"), Path::new("/00.MOO"));
        f.tests = tests;
        f.passed = passed;
        f.skipped = skipped;
        f.failed = tests - passed - skipped;
        SuiteReport {
            root: PathBuf::from("/"),
            files: vec![f],
            revoked_hashes: 0,
            parse_only: false,
        }
    }

    #[test]
    fn bar_edges() {
        assert!(report(1000, 991, 5).check_bar().is_ok());
        let e = report(1000, 989, 5)
            .check_bar()
            .expect_err("989/995 < 99.5%");
        assert!(e.contains("pass bar"), "{e}");
        let e = report(1000, 990, 10).check_bar().expect_err("1% skipped");
        assert!(
            report(1000, 990, 9).check_bar().is_ok(),
            "99.9% of 991, 0.9% skipped"
        );
        assert!(e.contains("skip bar"), "{e}");
        assert!(report(0, 0, 0).check_bar().is_err());
        assert_eq!(report(10, 3, 1).final_line(), "passed 3 of 10 (skipped 1)");
    }

    #[test]
    fn missing_and_empty_directories_are_errors() {
        let missing = Path::new("/nonexistent/moon86/singlestep");
        assert!(matches!(
            run_dir(missing, &SuiteOptions::default()),
            Err(SuiteError::NotFound { .. })
        ));
        let empty = std::env::temp_dir().join(format!("moon86-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).expect("temp dir");
        let r = run_dir(&empty, &SuiteOptions::default());
        let _ = std::fs::remove_dir(&empty);
        assert!(matches!(r, Err(SuiteError::NoMooFiles { .. })));
    }
}
