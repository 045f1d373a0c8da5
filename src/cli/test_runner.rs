//! `moon86 test`: runs each test file in its own child process (this
//! executable again, with the hidden `__test-file` subcommand), `-j N` at a
//! time, prints a line per finished file on stderr, then the summary, TAP or
//! JUnit XML from [`super::report`]. A file that runs longer than
//! `--timeout` is stopped and fails. A failing file's stdout and stderr are
//! saved for later reading, beside the captures the test library makes of
//! each VM when a test fails (`MOON86_ARTIFACTS` tells it where).

use super::report;
use super::test_files::find_test_files;
use super::test_protocol::parse_child_output;
use crate::script::TestOutcome;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// `--shard I/N`: run only the files whose index modulo N is I-1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}' is not a shard: expected I/N with 1 <= I <= N, like 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// What `moon86 test` was asked to do.
#[derive(Debug, Clone)]
pub struct TestOptions {
    pub paths: Vec<PathBuf>,
    /// Files run at once; `None` means one per CPU.
    pub jobs: Option<usize>,
    pub tap: bool,
    pub junit: Option<PathBuf>,
    pub shard: Option<Shard>,
    /// A file still running after this long is stopped and fails.
    pub timeout: Duration,
}

/// One test file's run.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub path: PathBuf,
    pub tests: Vec<TestOutcome>,
    /// Why the file did not finish (a crash, a syntax error, `os.exit`).
    pub crash: Option<String>,
    /// The tests' own output (without the runner's protocol lines).
    pub stdout: String,
    pub stderr: String,
    /// Seconds.
    pub duration: f64,
}

impl FileResult {
    pub fn passed(&self) -> bool {
        self.crash.is_none() && self.tests.iter().all(|t| t.passed)
    }
    pub fn failed_tests(&self) -> usize {
        self.tests.iter().filter(|t| !t.passed).count()
    }
}

/// What a child process left: its status (`None` when it was stopped for
/// taking too long), stdout and stderr.
type ChildOutput = (Option<ExitStatus>, Vec<u8>, Vec<u8>);

/// Runs `cmd`, stopping it after `timeout`.
fn output_within(mut cmd: Command, timeout: Duration) -> std::io::Result<ChildOutput> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    Ok((status, out, err))
}

fn run_child(exe: &Path, path: &Path, artifacts: &Path, timeout: Duration) -> FileResult {
    let start = Instant::now();
    let mut cmd = Command::new(exe);
    cmd.arg("__test-file")
        .arg(path)
        .env("MOON86_ARTIFACTS", artifacts.join(flat_name(path)))
        .stdin(Stdio::null());
    let output = output_within(cmd, timeout);
    let duration = start.elapsed().as_secs_f64();
    let mut result = FileResult {
        path: path.to_owned(),
        tests: Vec::new(),
        crash: None,
        stdout: String::new(),
        stderr: String::new(),
        duration,
    };
    match output {
        Err(e) => result.crash = Some(format!("cannot start {}: {e}", exe.display())),
        Ok((status, stdout, stderr)) => {
            let parsed = parse_child_output(&String::from_utf8_lossy(&stdout));
            let finished = parsed.finished;
            result.stdout = parsed.output;
            result.stderr = String::from_utf8_lossy(&stderr).into_owned();
            result.tests = parsed.tests;
            match status {
                None => {
                    result.crash = Some(format!(
                        "stopped after {:.0}s (--timeout)",
                        timeout.as_secs_f64()
                    ))
                }
                Some(s) if !finished => {
                    result.crash = Some(format!("the file did not finish ({s})"))
                }
                Some(_) => {}
            }
        }
    }
    result
}

fn progress_line(r: &FileResult) -> String {
    let what = if let Some(crash) = &r.crash {
        crash.clone()
    } else if r.passed() {
        format!("{} tests", r.tests.len())
    } else {
        format!("{} of {} tests failed", r.failed_tests(), r.tests.len())
    };
    let word = if r.passed() { "ok  " } else { "FAIL" };
    format!("{word} {} ({what}, {:.2}s)", r.path.display(), r.duration)
}

/// Runs the files in parallel; the results come back in file order.
fn run_all(
    exe: &Path,
    files: &[PathBuf],
    jobs: usize,
    artifacts: &Path,
    timeout: Duration,
) -> Vec<FileResult> {
    let files: Arc<Vec<PathBuf>> = Arc::new(files.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let mut workers = Vec::new();
    for _ in 0..jobs.min(files.len()).max(1) {
        let (files, next, tx, exe) = (files.clone(), next.clone(), tx.clone(), exe.to_owned());
        let artifacts = artifacts.to_owned();
        workers.push(std::thread::spawn(move || loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(path) = files.get(i) else { break };
            if tx
                .send((i, run_child(&exe, path, &artifacts, timeout)))
                .is_err()
            {
                break;
            }
        }));
    }
    drop(tx);
    let mut results: Vec<Option<FileResult>> = vec![None; files.len()];
    for (i, r) in rx {
        eprintln!("{}", progress_line(&r));
        results[i] = Some(r);
    }
    for w in workers {
        let _ = w.join();
    }
    results.into_iter().flatten().collect()
}

/// A file name for a test file's saved output: its path, flattened.
fn flat_name(path: &Path) -> String {
    path.display()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Saves each failing file's stdout and stderr in `dir`; returns `dir`.
fn save_failures(dir: &Path, results: &[FileResult]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for r in results.iter().filter(|r| !r.passed()) {
        let name = flat_name(&r.path);
        std::fs::write(dir.join(format!("{name}.stdout.txt")), &r.stdout)?;
        std::fs::write(dir.join(format!("{name}.stderr.txt")), &r.stderr)?;
    }
    Ok(())
}

/// Runs `moon86 test`. Returns whether every test passed; an error for bad
/// input (no files, an unwritable JUnit path).
pub fn run_tests(opts: &TestOptions) -> Result<bool, String> {
    let mut files = find_test_files(&opts.paths)?;
    if let Some(shard) = opts.shard {
        files = files
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % shard.count == shard.index - 1)
            .map(|(_, f)| f)
            .collect();
    }
    // Open the report first: an unwritable path is an error before any run.
    let mut junit = match &opts.junit {
        Some(p) => {
            Some(File::create(p).map_err(|e| format!("cannot write '{}': {e}", p.display()))?)
        }
        None => None,
    };
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the moon86 executable: {e}"))?;
    let jobs = opts.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // Failing files leave their output, and the test library its captures
    // (screen, serial log, registers of each VM), here.
    let dir = match &opts.junit {
        Some(p) => p
            .parent()
            .unwrap_or(Path::new(""))
            .join("moon86-test-failures"),
        None => PathBuf::from("moon86-test-failures"),
    };
    let absolute = std::path::absolute(&dir).unwrap_or_else(|_| dir.clone());
    let results = run_all(&exe, &files, jobs.max(1), &absolute, opts.timeout);

    if let (Some(file), Some(path)) = (junit.as_mut(), &opts.junit) {
        file.write_all(report::junit(&results).as_bytes())
            .map_err(|e| format!("cannot write '{}': {e}", path.display()))?;
    }
    let summary = report::summary(&results);
    if opts.tap {
        print!("{}", report::tap(&results));
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    let all_passed = results.iter().all(FileResult::passed);
    if !all_passed {
        match save_failures(&dir, &results) {
            Ok(()) => eprintln!(
                "the output of the failing files is saved in {}",
                dir.display()
            ),
            Err(e) => eprintln!(
                "moon86: cannot save the failing files' output in {}: {e}",
                dir.display()
            ),
        }
    }
    Ok(all_passed)
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_reject_nonsense() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x", "1/", "/2", "-1/2", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
