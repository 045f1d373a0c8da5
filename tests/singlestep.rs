//! The hardware-captured single-step suite (`../shared/testdata/singlestep`):
//! every file decodes with the expected test count, and the pass bar holds
//! (99.5% of the tests not on the skip list, a skip list under 1%).

use std::path::PathBuf;

use moon86::cpu::{Cpu, StepOutcome};
use moon86::moo::runner::{cached_step, jit_step, load_registers, TestBus};
use moon86::moo::suite::{run_dir, run_dir_with, SuiteOptions};
use moon86::moo::MooTest;
use std::sync::atomic::{AtomicU64, Ordering};

/// 80286 real mode (184,125) plus the 80386EX sample (63).
const EXPECTED_TESTS: usize = 184_125 + 63;

/// `MOON86_SINGLESTEP_DIR`, else `../shared/testdata/singlestep` beside the
/// crate, else `/work/shared/testdata/singlestep`.
fn suite_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("MOON86_SINGLESTEP_DIR") {
        return Some(PathBuf::from(d));
    }
    let candidates = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/singlestep"),
        PathBuf::from("/work/shared/testdata/singlestep"),
    ];
    candidates.into_iter().find(|p| p.is_dir())
}

#[test]
fn every_file_parses_with_the_expected_count() {
    let Some(dir) = suite_dir() else {
        eprintln!("SKIPPED: single-step test directory not found (set MOON86_SINGLESTEP_DIR)");
        return;
    };
    let opts = SuiteOptions {
        parse_only: true,
        ..SuiteOptions::default()
    };
    let report = run_dir(&dir, &opts).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let errors: Vec<String> = report
        .errors()
        .map(|(f, e)| format!("{}: {e}", f.rel))
        .collect();
    assert!(
        errors.is_empty(),
        "unreadable files:\n{}",
        errors.join("\n")
    );
    assert_eq!(report.files.len(), 326, "MOO files under {}", dir.display());
    assert_eq!(report.total(), EXPECTED_TESTS);
}

#[test]
fn pass_bar_holds() {
    let Some(dir) = suite_dir() else {
        eprintln!("SKIPPED: single-step test directory not found (set MOON86_SINGLESTEP_DIR)");
        return;
    };
    let opts = SuiteOptions {
        verbose: 3,
        ..SuiteOptions::default()
    };
    let report = run_dir(&dir, &opts).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut text = Vec::new();
    report.write(&mut text).expect("write to a Vec");
    println!("{}", String::from_utf8_lossy(&text));
    if let Err(msg) = report.check_bar() {
        panic!("{msg}\n{}", report.final_line());
    }
}

/// Runs the suite with code tracking on, each test's instruction through
/// `step`, which counts in `counted` the instructions that took the route
/// under test; the pass bar must hold and more than `least` of them must
/// have taken it (`what` names the route in the messages).
fn pass_bar_counting(
    what: &str,
    least: u64,
    counted: &'static AtomicU64,
    step: fn(&mut Cpu, &mut TestBus, &AtomicU64) -> StepOutcome,
) {
    let Some(dir) = suite_dir() else {
        eprintln!("SKIPPED: single-step test directory not found (set MOON86_SINGLESTEP_DIR)");
        return;
    };
    let opts = SuiteOptions {
        verbose: 3,
        code_tracking: true,
        ..SuiteOptions::default()
    };
    let stepper = move |_: &MooTest, cpu: &mut Cpu, bus: &mut TestBus| step(cpu, bus, counted);
    let report =
        run_dir_with(&dir, &opts, &stepper).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut text = Vec::new();
    report.write(&mut text).expect("write to a Vec");
    println!("{}", String::from_utf8_lossy(&text));
    let counted = counted.load(Ordering::Relaxed);
    println!("instructions {what}: {counted}");
    if let Err(msg) = report.check_bar() {
        panic!("{msg}\n{}", report.final_line());
    }
    assert!(counted > least, "only {counted} test instructions {what}");
}

/// The same pass bar with the JIT: each test's instruction runs as a
/// translated block where the JIT translates it (the test bus then tracks
/// code pages), else in the interpreter, and a good share must have been
/// translated for the run to mean something.
#[test]
fn pass_bar_holds_with_the_jit() {
    static JITTED: AtomicU64 = AtomicU64::new(0);
    pass_bar_counting("ran as translated blocks", 50_000, &JITTED, jit_step);
}

/// The same pass bar with each test's instruction run from the
/// decoded-instruction cache, as the interpreter runs code it has seen
/// before: through the instruction's fast form (`cpu/exec/fast.rs`) where
/// it has one, and a good share must have one.
#[test]
fn pass_bar_holds_from_the_instruction_cache() {
    static FAST: AtomicU64 = AtomicU64::new(0);
    pass_bar_counting("ran through a fast form", 40_000, &FAST, cached_step);
}

/// Checks the harness itself: a stand-in "CPU" that jumps straight to each
/// test's expected final state (FINA registers and RAM) must pass every test
/// that is not skipped. A failure here is a bug in the reader or the
/// comparison (register mapping, masks), not in the CPU.
#[test]
fn oracle_cpu_passes_every_test() {
    let Some(dir) = suite_dir() else {
        eprintln!("SKIPPED: single-step test directory not found (set MOON86_SINGLESTEP_DIR)");
        return;
    };
    let opts = SuiteOptions {
        verbose: 2,
        ..SuiteOptions::default()
    };
    let oracle = |test: &MooTest, cpu: &mut Cpu, bus: &mut TestBus| {
        load_registers(cpu, &test.fina.regs);
        for e in &test.fina.ram {
            bus.poke(e.address, e.value);
        }
        StepOutcome::Halted
    };
    let report = run_dir_with(&dir, &opts, &oracle).unwrap_or_else(|e| panic!("{e}"));
    let mut text = Vec::new();
    report.write(&mut text).expect("write to a Vec");
    assert_eq!(
        report.passed() + report.skipped(),
        report.total(),
        "{}",
        String::from_utf8_lossy(&text)
    );
}
