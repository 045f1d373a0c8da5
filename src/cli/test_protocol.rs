//! How a `moon86 test` child reports to its parent: the hidden subcommand
//! runs one test file and writes one line per test to stdout, a marker then
//! a JSON object, and a final end marker once the file has finished. Lines
//! without the marker are the tests' own output; a missing end marker means
//! the file did not finish (a crash, `os.exit`, a syntax error).

use crate::script::{run_test_file, TestOutcome};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

const RESULT: &str = "@moon86-test ";
const END: &str = "@moon86-test-end";

fn encode(t: &TestOutcome) -> String {
    let v = json!({
        "name": t.name,
        "passed": t.passed,
        "message": t.message,
        "file": t.file,
        "line": t.line,
        "duration": t.duration,
    });
    format!("{RESULT}{v}")
}

fn decode(line: &str) -> Option<TestOutcome> {
    let v: Value = serde_json::from_str(line.strip_prefix(RESULT)?).ok()?;
    Some(TestOutcome {
        name: v.get("name")?.as_str()?.to_owned(),
        passed: v.get("passed")?.as_bool()?,
        message: v.get("message").and_then(Value::as_str).map(str::to_owned),
        file: v.get("file").and_then(Value::as_str).map(str::to_owned),
        line: v
            .get("line")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok()),
        duration: v.get("duration").and_then(Value::as_f64).unwrap_or(0.0),
    })
}

/// The child's side: runs the file at `path` and reports its tests. Returns
/// the exit status: 0 when every test passed, 1 otherwise.
pub fn run_test_child(path: &Path) -> i32 {
    match run_test_file(path) {
        Ok(outcomes) => {
            let mut out = std::io::stdout().lock();
            for t in &outcomes {
                let _ = writeln!(out, "{}", encode(t));
            }
            let _ = writeln!(out, "{END}");
            let _ = out.flush();
            i32::from(!outcomes.iter().all(|t| t.passed))
        }
        Err(e) => {
            eprintln!("moon86: {e}");
            1
        }
    }
}

/// What the parent reads from a child's stdout.
#[derive(Debug, PartialEq)]
pub(super) struct ChildOutput {
    pub tests: Vec<TestOutcome>,
    /// The file reached its end.
    pub finished: bool,
    /// The tests' own output: stdout without the protocol's lines, which
    /// are the runner's business and never shown to people.
    pub output: String,
}

/// Splits a child's stdout into the tests, whether the file reached its
/// end, and the tests' own output.
pub(super) fn parse_child_output(stdout: &str) -> ChildOutput {
    let mut tests = Vec::new();
    let mut finished = false;
    let mut output = String::with_capacity(stdout.len());
    for line in stdout.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if bare == END {
            finished = true;
        } else if let Some(t) = decode(bare) {
            tests.push(t);
        } else {
            output.push_str(line);
        }
    }
    ChildOutput {
        tests,
        finished,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_survives_the_round_trip() {
        let t = TestOutcome {
            name: "quotes \" and\nnewlines".into(),
            passed: false,
            message: Some("expected 2, got 1".into()),
            file: Some("a_test.lua".into()),
            line: Some(7),
            duration: 0.25,
        };
        let text = format!("noise\n{}\nmore noise\n{END}\n", encode(&t));
        assert_eq!(
            parse_child_output(&text),
            ChildOutput {
                tests: vec![t],
                finished: true,
                output: "noise\nmore noise\n".into()
            }
        );
    }
}
