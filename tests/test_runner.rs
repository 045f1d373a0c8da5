//! `moon86 test` driven as a user would, on the sample files in
//! `tests/runner/` (a passing file, a failing one, one with several tests of
//! which one fails, a syntax error): exit statuses, the summary, TAP, JUnit
//! XML, sharding, `-j 1` against `-j 2`, and clear errors for bad input.
//! Each run happens in a scratch copy of `tests/runner/`, so saved failure
//! output never lands in the source tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory holding a copy of `tests/runner/` as `runner/`.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("moon86-runner-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("runner")).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runner");
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join("runner").join(e.file_name())).unwrap();
        }
        Scratch(dir)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_moon86"))
            .arg("test")
            .args(args)
            .current_dir(&self.0)
            .output()
            .expect("the moon86 binary runs")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_passing_file_exits_zero() {
    let s = Scratch::new("pass");
    let out = s.run(&["runner/pass_test.lua"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 files (0 failed), 2 tests: 2 passed, 0 failed"));
    assert!(text(&out.stderr).contains("ok   runner/pass_test.lua (2 tests"));
    assert!(!s.0.join("moon86-test-failures").exists());
}

#[test]
fn failures_are_summarised_with_file_and_line() {
    let s = Scratch::new("summary");
    let out = s.run(&["runner"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for want in [
        "runner/fail_test.lua:4: wrong sum: the sum: expected 3, got 2",
        "runner/mixed_test.lua:7: second <&>: deliberately",
        "runner/syntax_test.lua: the file did not finish",
        "')' expected",
        "4 files (3 failed), 7 tests: 5 passed, 2 failed",
    ] {
        assert!(stdout.contains(want), "no {want:?} in:\n{stdout}");
    }
    // The failing assertion stopped its test, not the file.
    assert!(!stdout.contains("never reached"));
    // Progress: a line per file on stderr.
    for want in [
        "FAIL runner/fail_test.lua (1 of 1 tests failed",
        "FAIL runner/mixed_test.lua (1 of 4 tests failed",
        "FAIL runner/syntax_test.lua (the file did not finish",
        "ok   runner/pass_test.lua (2 tests",
        "saved in moon86-test-failures",
    ] {
        assert!(stderr.contains(want), "no {want:?} in:\n{stderr}");
    }
    let saved =
        s.0.join("moon86-test-failures/runner_fail_test.lua.stdout.txt");
    let saved = std::fs::read_to_string(saved).expect("the failing file's stdout is saved");
    assert!(saved.contains("output of the failing test"));
}

#[test]
fn tap_output() {
    let s = Scratch::new("tap");
    let out = s.run(&["runner", "--tap"]);
    assert_eq!(out.status.code(), Some(1));
    let tap = text(&out.stdout);
    assert!(tap.starts_with("TAP version 13\n1..8\n"), "{tap}");
    for want in [
        "not ok 1 - runner/fail_test.lua: wrong sum\n",
        "  message: \"the sum: expected 3, got 2\"\n  at: \"runner/fail_test.lua:4\"\n",
        "ok 2 - runner/mixed_test.lua: first\n",
        "not ok 3 - runner/mixed_test.lua: second <&>\n",
        "ok 7 - runner/pass_test.lua: strings and a VM\n",
        "not ok 8 - runner/syntax_test.lua\n",
    ] {
        assert!(tap.contains(want), "no {want:?} in:\n{tap}");
    }
    // The summary moves to stderr, so stdout is pure TAP.
    assert!(!tap.contains("files ("));
    assert!(text(&out.stderr).contains("4 files (3 failed)"));
}

#[test]
fn junit_xml() {
    let s = Scratch::new("junit");
    std::fs::create_dir(s.0.join("reports")).unwrap();
    let out = s.run(&["runner", "--junit", "reports/junit.xml"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(s.0.join("reports/junit.xml")).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    assert!(
        xml.contains("tests=\"8\" failures=\"2\" errors=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase name=\"second &lt;&amp;&gt;\""),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"the sum: expected 3, got 2\">runner/fail_test.lua:4: ")
    );
    assert!(xml.contains("<error message=\"the file did not finish"));
    // Balanced: every element opened is closed (or self-closed).
    assert_eq!(xml.matches("<testsuite ").count(), 4);
    assert_eq!(xml.matches("</testsuite>").count(), 4);
    assert_eq!(xml.matches("<testcase ").count(), 8);
    assert_eq!(
        xml.matches("</testcase>").count() + xml.matches("/>\n").count(),
        8
    );
    assert_eq!(
        xml.matches("<failure ").count(),
        xml.matches("</failure>").count()
    );
    assert!(xml.trim_end().ends_with("</testsuites>"));
    // No raw '<' or '&' inside text: every '&' starts an entity.
    for (i, _) in xml.match_indices('&') {
        let rest = &xml[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| rest.starts_with(e)),
            "a bare & at {i}"
        );
    }
    // The failing files' output is saved beside the report.
    assert!(s
        .0
        .join("reports/moon86-test-failures/runner_mixed_test.lua.stdout.txt")
        .exists());
    assert!(text(&out.stderr).contains("reports/moon86-test-failures"));
}

#[test]
fn shards_split_the_files() {
    let s = Scratch::new("shard");
    // Sorted: fail, mixed, pass, syntax. Shard 1/2 takes indexes 0 and 2.
    let one = text(&s.run(&["runner", "--shard", "1/2"]).stderr);
    let two = text(&s.run(&["runner", "--shard", "2/2"]).stderr);
    assert!(one.contains("fail_test.lua") && one.contains("pass_test.lua"));
    assert!(!one.contains("mixed_test.lua") && !one.contains("syntax_test.lua"));
    assert!(two.contains("mixed_test.lua") && two.contains("syntax_test.lua"));
    assert!(!two.contains("fail_test.lua") && !two.contains("pass_test.lua"));
    let out = s.run(&["runner", "--shard", "1/4"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("1 files (1 failed)"));
}

#[test]
fn bad_shards_are_clear_errors() {
    let s = Scratch::new("badshard");
    for bad in ["0/2", "3/2", "1/0", "two", "1-2"] {
        let out = s.run(&["runner", "--shard", bad]);
        assert_ne!(out.status.code(), Some(0), "{bad}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("is not a shard"), "{bad}: {stderr}");
    }
}

#[test]
fn one_job_and_two_give_the_same_results() {
    let s = Scratch::new("jobs");
    let one = s.run(&["runner", "-j", "1", "--tap"]);
    let two = s.run(&["runner", "-j", "2", "--tap"]);
    assert_eq!(one.status.code(), two.status.code());
    assert_eq!(text(&one.stdout), text(&two.stdout));
    let one = s.run(&["runner", "-j", "1"]);
    let two = s.run(&["runner", "--jobs", "2"]);
    assert_eq!(text(&one.stdout), text(&two.stdout));
}

#[test]
fn bad_input_is_a_clear_error() {
    let s = Scratch::new("bad");
    let cases: &[(&[&str], &str)] = &[
        (&["no/such/dir"], "cannot read 'no/such/dir'"),
        (
            &["runner", "--junit", "missing/dir/r.xml"],
            "cannot write 'missing/dir/r.xml'",
        ),
        (&["runner", "-j", "0"], "-j"),
    ];
    for (args, want) in cases {
        let out = s.run(args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    std::fs::create_dir(s.0.join("empty")).unwrap();
    let out = s.run(&["empty"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no test files found"));
}

#[test]
fn an_assertion_in_a_helper_names_the_helpers_line() {
    let s = Scratch::new("helper");
    std::fs::write(
        s.0.join("helper_test.lua"),
        "local function check(t, v)\n  t:truthy(v, \"checked\")\nend\n\ntest(\"h\", function(t)\n  check(t, false)\nend)\n\ntest(\"err\", function(t)\n  local x = nil\n  return x.field\nend)\n",
    )
    .unwrap();
    let out = s.run(&["helper_test.lua"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("helper_test.lua:2: h: checked: expected a true value, got false"),
        "{stdout}"
    );
    // A plain Lua error in a test fails that test with its own location.
    assert!(
        stdout.contains("helper_test.lua:11: err: attempt to index"),
        "{stdout}"
    );
}

#[test]
fn a_hanging_file_is_stopped_at_the_timeout() {
    let s = Scratch::new("timeout");
    std::fs::create_dir_all(s.0.join("hang")).unwrap();
    std::fs::write(
        s.0.join("hang/hang_test.lua"),
        "test(\"spins\", function() while true do end end)\n",
    )
    .unwrap();
    let start = std::time::Instant::now();
    let out = s.run(&["--timeout", "1s", "hang", "runner/pass_test.lua"]);
    assert!(
        start.elapsed().as_secs() < 20,
        "the run did not wait for the hang"
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("FAIL hang/hang_test.lua (stopped after 1s (--timeout)"),
        "{err}"
    );
    assert!(err.contains("ok   runner/pass_test.lua"), "{err}");
    let bad = s.run(&["--timeout", "soon", "runner"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("bad duration 'soon'"));
}

#[test]
fn a_failing_test_leaves_a_capture_of_each_vm() {
    let s = Scratch::new("captures");
    std::fs::create_dir_all(s.0.join("cap")).unwrap();
    let guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/hooks/events.bin");
    std::fs::write(
        s.0.join("cap/cap_test.lua"),
        format!(
            "test(\"sees keys\", function(t)\n\
             local vm = moon86.new{{ ram = \"4M\" }}\n\
             vm:load_raw{{ path = {:?}, addr = 0x7c00, cs = 0, ip = 0x7c00 }}\n\
             vm:power_on()\n\
             vm.serial:expect(\"keys%?\")\n\
             t:fail(\"deliberately\")\n\
             end)\n",
            guest.display().to_string()
        ),
    )
    .unwrap();
    let out = s.run(&["cap"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let vm_dir =
        s.0.join("moon86-test-failures/cap_cap_test.lua/sees_keys/vm1");
    let bundles: Vec<_> = std::fs::read_dir(&vm_dir)
        .unwrap_or_else(|e| panic!("no captures in {}: {e}", vm_dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    let b = &bundles[0];
    let serial = std::fs::read_to_string(b.join("serial.log")).unwrap();
    // The expect stopped right after the last byte of its match.
    assert_eq!(serial, "boot\nkeys?");
    assert!(b.join("screen.png").exists());
    let regs = std::fs::read_to_string(b.join("regs.json")).unwrap();
    assert!(regs.contains("\"eip\""), "{regs}");
}

#[test]
fn the_runner_protocol_stays_out_of_what_people_read() {
    let s = Scratch::new("protocol");
    std::fs::create_dir_all(s.0.join("talk")).unwrap();
    std::fs::write(
        s.0.join("talk/talk_test.lua"),
        "test(\"talks\", function(t)\n  print(\"hello from the test\")\n  t:eq(1, 2)\nend)\n\
         test(\"quiet\", function() end)\n",
    )
    .unwrap();
    let out = s.run(&["talk", "--tap", "--junit", "junit.xml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let xml = std::fs::read_to_string(s.0.join("junit.xml")).unwrap();
    assert!(
        xml.contains("<system-out>hello from the test\n</system-out>"),
        "{xml}"
    );
    let saved =
        std::fs::read_to_string(s.0.join("moon86-test-failures/talk_talk_test.lua.stdout.txt"))
            .unwrap();
    assert_eq!(saved, "hello from the test\n");
    for (what, t) in [
        ("junit", xml),
        ("tap", text(&out.stdout)),
        ("stderr", text(&out.stderr)),
    ] {
        assert!(
            !t.contains("@moon86-test"),
            "{what} shows the protocol:\n{t}"
        );
    }
}

#[test]
fn a_failing_test_captures_only_the_vms_it_created_or_used() {
    let s = Scratch::new("touched");
    std::fs::create_dir_all(s.0.join("cap")).unwrap();
    std::fs::write(
        s.0.join("cap/touch_test.lua"),
        "local kept\n\
         test(\"makes a vm\", function() kept = moon86.new{ ram = \"1M\" } end)\n\
         test(\"no vm\", function(t) t:fail(\"without a vm\") end)\n\
         test(\"uses the old vm\", function(t) t:eq(kept.icount, 1) end)\n\
         test(\"new vm\", function(t)\n  local other = moon86.new{ ram = \"2M\" }\n  t:eq(other.ram_size, 1)\nend)\n",
    )
    .unwrap();
    let out = s.run(&["cap"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let base = s.0.join("moon86-test-failures/cap_touch_test.lua");
    let listing = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(base.join(dir))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    // A test that made and used no VM leaves no capture of another test's.
    assert!(!base.join("no_vm").exists(), "{:?}", listing("no_vm"));
    assert_eq!(listing("uses_the_old_vm"), ["vm1"]);
    assert_eq!(listing("new_vm"), ["vm1"]);
    let bundle = std::fs::read_dir(base.join("new_vm/vm1"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let regs = std::fs::read_to_string(bundle.join("regs.json")).unwrap();
    assert!(regs.contains("\"eip\""), "{regs}");
}
