//! Runs the hardware-captured single-step CPU tests (MOO files) in a
//! directory and checks the pass bar.
//!
//! ```text
//! cargo run --release --example singlestep -- DIR [--filter SUBSTR] [--verbose N] [--threads N]
//! ```
//!
//! Prints a table per opcode file, the first N failures per file with
//! `--verbose N`, the skip summary, and ends with `passed N of M (skipped K)`.
//! Exits 0 only when at least 99.5% of the non-skipped tests pass and the
//! skip list covers under 1% of the tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use moon86::moo::suite::{run_dir, SuiteOptions};

const USAGE: &str =
    "usage: singlestep DIR [--filter SUBSTR] [--verbose N] [--threads N] [--parse-only]";

fn parse_args() -> Result<(PathBuf, SuiteOptions), String> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut opts = SuiteOptions::default();
    let number = |flag: &str, v: Option<String>| -> Result<usize, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{flag} needs a number, got {v:?}"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--filter" => {
                opts.filter = Some(args.next().ok_or("--filter needs a value")?);
            }
            "--verbose" => opts.verbose = number("--verbose", args.next())?,
            "--threads" => opts.threads = number("--threads", args.next())?.max(1),
            "--parse-only" => opts.parse_only = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ if dir.is_some() => return Err(format!("unexpected argument {a:?}")),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.ok_or("missing DIR")?;
    Ok((dir, opts))
}

fn main() -> ExitCode {
    let (dir, opts) = match parse_args() {
        Ok(x) => x,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("singlestep: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // A panicking interpreter is reported per test (as a diff); keep stderr
    // from repeating the message for each of thousands of tests.
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let report = match run_dir(&dir, &opts) {
        Ok(r) => r,
        Err(e) => {
            drop(std::panic::take_hook());
            eprintln!("singlestep: {e}");
            return ExitCode::FAILURE;
        }
    };
    let elapsed = start.elapsed();
    drop(std::panic::take_hook()); // back to the default hook
    let mut out = std::io::stdout().lock();
    if let Err(e) = report.write(&mut out) {
        eprintln!("singlestep: cannot write the report: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "singlestep: {} file(s) in {:.2} s",
        report.files.len(),
        elapsed.as_secs_f64()
    );
    if opts.parse_only {
        return match report.errors().count() {
            0 => ExitCode::SUCCESS,
            n => {
                eprintln!("singlestep: {n} file(s) could not be read");
                ExitCode::FAILURE
            }
        };
    }
    match report.check_bar() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("singlestep: FAILED: {msg}");
            ExitCode::FAILURE
        }
    }
}
