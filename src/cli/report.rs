//! What `moon86 test` prints at the end: a human summary (counts, then each
//! failure as file:line and message), TAP version 13, and JUnit XML. All three
//! render the same list of [`FileResult`]s, in file order.

use super::test_runner::FileResult;
use std::fmt::Write;

/// Where a failed test failed: `file:line`, or the test file's path.
fn location(r: &FileResult, t: &crate::script::TestOutcome) -> String {
    match (&t.file, t.line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => f.clone(),
        _ => r.path.display().to_string(),
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// Counts, then every failure.
pub fn summary(results: &[FileResult]) -> String {
    let tests: usize = results.iter().map(|r| r.tests.len()).sum();
    let failed: usize = results.iter().map(FileResult::failed_tests).sum();
    let failed_files = results.iter().filter(|r| !r.passed()).count();
    let mut s = String::new();
    let mut first = true;
    for r in results.iter().filter(|r| !r.passed()) {
        if first {
            s.push_str("\nFailures:\n");
            first = false;
        }
        for t in r.tests.iter().filter(|t| !t.passed) {
            let message = t.message.as_deref().unwrap_or("failed");
            let _ = writeln!(s, "  {}: {}: {message}", location(r, t), t.name);
        }
        if let Some(crash) = &r.crash {
            let _ = writeln!(s, "  {}: {crash}", r.path.display());
            s.push_str(&indent(r.stderr.trim_end(), "    "));
        }
    }
    let _ = writeln!(
        s,
        "\n{} files ({failed_files} failed), {tests} tests: {} passed, {failed} failed",
        results.len(),
        tests - failed
    );
    s
}

/// TAP descriptions must not contain `#` (it starts a directive) or newlines.
fn tap_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('#', "\\#")
        .replace(['\n', '\r'], " ")
}

/// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
fn yaml_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// TAP version 13: one test point per test, plus one per file that did not
/// finish.
pub fn tap(results: &[FileResult]) -> String {
    let points: usize = results
        .iter()
        .map(|r| r.tests.len() + usize::from(r.crash.is_some()))
        .sum();
    let mut s = format!("TAP version 13\n1..{points}\n");
    let mut n = 0;
    for r in results {
        let file = tap_text(&r.path.display().to_string());
        for t in &r.tests {
            n += 1;
            let word = if t.passed { "ok" } else { "not ok" };
            let _ = writeln!(s, "{word} {n} - {file}: {}", tap_text(&t.name));
            if !t.passed {
                let message = t.message.as_deref().unwrap_or("failed");
                let _ = writeln!(s, "  ---\n  message: {}", yaml_string(message));
                let _ = writeln!(s, "  at: {}\n  ...", yaml_string(&location(r, t)));
            }
        }
        if let Some(crash) = &r.crash {
            n += 1;
            let _ = writeln!(s, "not ok {n} - {file}");
            let _ = writeln!(s, "  ---\n  message: {}", yaml_string(crash));
            let _ = writeln!(s, "  stderr: {}\n  ...", yaml_string(&r.stderr));
        }
    }
    s
}

/// Text for an XML attribute or element: the five special characters
/// escaped, and characters XML 1.0 forbids replaced by U+FFFD.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a `<testsuite>` per file, a `<testcase>` per test, and an
/// `<error>` test case for a file that did not finish.
pub fn junit(results: &[FileResult]) -> String {
    let tests: usize = results.iter().map(|r| r.tests.len()).sum();
    let failures: usize = results.iter().map(FileResult::failed_tests).sum();
    let errors = results.iter().filter(|r| r.crash.is_some()).count();
    let time: f64 = results.iter().map(|r| r.duration).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"moon86\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">",
        tests + errors
    );
    for r in results {
        let file = xml(&r.path.display().to_string());
        let _ = writeln!(
            s,
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
            r.tests.len() + usize::from(r.crash.is_some()),
            r.failed_tests(),
            usize::from(r.crash.is_some()),
            r.duration
        );
        for t in &r.tests {
            let _ = write!(
                s,
                "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\" time=\"{:.3}\"",
                xml(&t.name),
                t.duration
            );
            if t.passed {
                s.push_str("/>\n");
            } else {
                let message = t.message.as_deref().unwrap_or("failed");
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\">{}: {}</failure>\n    </testcase>",
                    xml(message),
                    xml(&location(r, t)),
                    xml(message)
                );
            }
        }
        if let Some(crash) = &r.crash {
            let _ = writeln!(
                s,
                "    <testcase name=\"(file)\" classname=\"{file}\" file=\"{file}\" time=\"{:.3}\">\n      <error message=\"{}\">{}</error>\n    </testcase>",
                r.duration,
                xml(crash),
                xml(&r.stderr)
            );
        }
        if !r.passed() {
            let _ = writeln!(
                s,
                "    <system-out>{}</system-out>\n    <system-err>{}</system-err>",
                xml(&r.stdout),
                xml(&r.stderr)
            );
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_specials_and_forbidden_characters() {
        assert_eq!(xml("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}");
    }
}
