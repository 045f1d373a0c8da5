//! The gdb stub against Debian's gdb in batch mode: `moon86 boot --gdb
//! tcp::0` on guests/debug/target.bin (labels at fixed addresses, see its
//! source), then gdb sets breakpoints (software and hardware), continues,
//! reads and writes registers and memory, watches writes and reads, steps
//! one instruction, interrupts a running guest with Ctrl-C, detaches and
//! sees the guest exit. Each session runs with the JIT on (the default) and
//! off. gdb is required: scripts/test.sh installs it; without it these
//! tests fail, they do not skip.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GUEST: &str = "guests/debug/target.bin";
const LIMIT: Duration = Duration::from_secs(90);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn require_gdb() {
    let ok = Command::new("gdb")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "gdb is not installed: these tests need Debian's gdb (scripts/test.sh installs it with apt-get install gdb)"
    );
}

/// A moon86 waiting for gdb: the process, its port, and its stderr as it
/// comes (collected by a thread).
struct Stub {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Stub {
    fn start(jit: &str) -> Stub {
        let mut child = Command::new(env!("CARGO_BIN_EXE_moon86"))
            .current_dir(root())
            .args(["--jit", jit, "boot", "--kernel", GUEST])
            .args(["--serial", "none", "--debugcon", "none", "--gdb", "tcp::0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moon86 starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        lines.read_line(&mut first).unwrap();
        let port = first
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no port announced: {first:?}"));
        let stderr = Arc::new(Mutex::new(first));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = lines.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Stub {
            child,
            port,
            stderr,
        }
    }

    /// Waits for moon86 to end; its exit status.
    fn wait(mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > LIMIT {
                let _ = self.child.kill();
                panic!(
                    "moon86 did not end; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// gdb's command line for `commands` against the stub on `port`.
fn gdb_command(port: u16, commands: &[&str]) -> Command {
    let mut cmd = Command::new("gdb");
    cmd.args(["-batch", "-nx", "-ex", "set confirm off", "-ex"])
        .arg(format!("target remote 127.0.0.1:{port}"));
    for c in commands {
        cmd.args(["-ex", c]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for gdb, killing it after [`LIMIT`].
fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(start.elapsed() <= LIMIT, "gdb did not finish: {out:?}");
    out
}

fn gdb(port: u16, commands: &[&str]) -> String {
    let out = finish(gdb_command(port, commands).spawn().expect("gdb runs"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "gdb failed:\n{text}");
    text
}

/// `text` contains each of `wanted`, in order.
fn assert_in_order(text: &str, wanted: &[&str]) {
    let mut at = 0;
    for w in wanted {
        match text[at..].find(w) {
            Some(i) => at += i + w.len(),
            None => panic!("expected {w:?} (after byte {at}) in gdb's output:\n{text}"),
        }
    }
}

fn whole_session(jit: &str) {
    require_gdb();
    let stub = Stub::start(jit);
    let out = gdb(
        stub.port,
        &[
            "p/x $eip",
            "break *0x100100",
            "continue",
            "p/x $ecx",
            "x/4xb 0x100100",
            "set var $ebx = 0xdeadbeef",
            "p/x $ebx",
            "set {int}0x101004 = 0x11223344",
            "x/2xw 0x101000",
            "p/x $cs",
            "delete 1",
            "watch *(int*)0x101000",
            "continue",
            "delete 2",
            "stepi",
            "p/x $eip",
            "rwatch *(int*)0x101004",
            "continue",
            "p/x $eax",
            "delete 3",
            "awatch *(int*)0x101000",
            "delete 4",
            "hbreak *0x100160",
            "continue",
            "p/x $ecx",
            "p/x $ebx",
            "continue",
        ],
    );
    assert_in_order(
        &out,
        &[
            "$1 = 0x100040", // the Multiboot entry
            "Breakpoint 1, 0x00100100",
            "$2 = 0x1", // the first store is about to run
            "0x100100:\t0x89\t0x0d\t0x00\t0x10",
            "$3 = 0xdeadbeef",
            "0x101000:\t0x00000000\t0x11223344",
            "$4 = 0x10", // the Multiboot code segment
            "Hardware watchpoint 2: *(int*)0x101000",
            "Old value = 0",
            "New value = 1",
            "0x00100106 in", // just after the store, as x86 data breakpoints trap
            "$5 = 0x100107", // one instruction further (INC ECX)
            "Hardware read watchpoint 3: *(int*)0x101004",
            "Value = 287454020", // 0x11223344, written through gdb
            "0x00100125 in",
            "$6 = 0x11223344",
            "Hardware access (read/write) watchpoint 4",
            "Hardware assisted breakpoint 5 at 0x100160",
            "Breakpoint 5, 0x00100160",
            "$7 = 0x1122334a", // 6 + the value read
            "$8 = 0xdeadbeef", // the register gdb wrote stayed
            "exited with code 01",
        ],
    );
    assert_eq!(stub.wait(), 1, "the guest's exit status");
}

#[test]
fn a_whole_session_with_the_jit() {
    whole_session("on");
}

#[test]
fn a_whole_session_with_the_interpreter() {
    whole_session("off");
}

#[test]
fn ctrl_c_stops_a_running_guest_and_detach_lets_it_run_on() {
    require_gdb();
    let stub = Stub::start("on");
    // SPIN set: the guest loops until gdb clears it again.
    let child = gdb_command(
        stub.port,
        &[
            "set {int}0x101008 = 1",
            "continue",
            "p/x $eip",
            "set {int}0x101008 = 0",
            "detach",
        ],
    )
    .spawn()
    .expect("gdb runs");
    // gdb turns SIGINT into Ctrl-C on the wire, as when a person types it.
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on the pid of a child we spawned and have not waited
    // for; it only sends a signal.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = finish(child);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_in_order(&text, &["Program received signal SIGINT", "$1 = 0x10014"]);
    let stderr = stub.stderr.clone();
    assert_eq!(
        stub.wait(),
        1,
        "the guest ran on to its exit after the detach"
    );
    assert!(
        stderr
            .lock()
            .unwrap()
            .contains("gdb detached; the guest runs on"),
        "{}",
        stderr.lock().unwrap()
    );
}

#[test]
fn a_lua_script_serves_gdb_with_vm_gdbserver() {
    require_gdb();
    let dir = std::env::temp_dir().join(format!("moon86-gdb-lua-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("serve.lua");
    std::fs::write(
        &script,
        r#"
local vm = moon86.new{ ram_size = "16M" }
vm:load_multiboot{ kernel = "guests/debug/target.bin" }
vm:power_on()
local mine = vm:on_exec(0x100120, function() end)
local result = vm:gdbserver(0)
print("result " .. result .. " hooks " .. #vm:hooks() .. " eip " .. string.format("%x", vm.cpu.eip))
print("run " .. vm:run())
"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .current_dir(root())
        .arg("run")
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moon86 starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let port: u16 = first
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("no port announced: {first:?}"));
    let out = gdb(port, &["break *0x100100", "continue", "p/x $ecx", "detach"]);
    assert_in_order(&out, &["Breakpoint 1, 0x00100100", "$1 = 0x1"]);
    let out = finish(child);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // gdb's breakpoint went with the session; the Lua hook stayed.
    assert_in_order(&stdout, &["result detached hooks 1 eip 100100", "run exit"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn monitor_commands_show_control_registers_and_the_hook_table() {
    require_gdb();
    let stub = Stub::start("on");
    let out = gdb(
        stub.port,
        &[
            "monitor regs",
            "set breakpoint always-inserted on",
            "break *0x100120",
            "monitor hooks",
            "monitor get cpu.cr0",
            "monitor set cpu.esi=0x42",
            "maint flush register-cache",
            "p/x $esi",
            "detach",
        ],
    );
    // gdb prints what the stub sends for `monitor` on stderr, the rest on
    // stdout: the order between the two is not kept.
    for wanted in [
        "cr0 0x00000011",
        "cs 0010 base 0x00000000 limit 0xffffffff access 0xc09b",
        "mode protected  cpl 0  paging off",
        "1 exec 0x100120",
        "cpu.cr0 = 0x11",
        "cpu.esi = 0x42",
        "$1 = 0x42", // gdb read the register the monitor command set
    ] {
        assert!(out.contains(wanted), "expected {wanted:?} in:\n{out}");
    }
    assert_eq!(stub.wait(), 1, "the guest ran on to its exit");
}
