//! The monitor as a user meets it: `moon86 monitor ... < transcript` runs
//! the lines in order and prints a session, so every command, the Lua
//! lines, the errors and the run-while-the-prompt-answers behaviour are
//! checked on the bundled guests. Completion is checked on the completer
//! function, and Ctrl-C at a real prompt through a pseudo-terminal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn guest(name: &str) -> String {
    root().join("guests").join(name).display().to_string()
}

/// Runs the monitor with `args` and `input` on stdin; returns stdout, stderr
/// and the exit status.
fn monitor(args: &[&str], input: impl AsRef<[u8]>) -> (String, String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the moon86 binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_ref())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains("panicked") && !stderr.contains("panicked"),
        "a panic:\n{stdout}\n{stderr}"
    );
    (stdout, stderr, out.status.code())
}

fn hello(input: &str) -> (String, Option<i32>) {
    let (out, _, status) = monitor(
        &["monitor", "--boot-sector", &guest("hello/boot.bin")],
        input,
    );
    (out, status)
}

fn ticker(input: &str) -> (String, Option<i32>) {
    let (out, _, status) = monitor(
        &[
            "monitor",
            "--boot-sector",
            &guest("snap/ticker.bin"),
            "--serial",
            "none",
            "--debugcon",
            "none",
        ],
        input,
    );
    (out, status)
}

/// Asserts that each of `wanted` appears in `out`, in order.
fn in_order(out: &str, wanted: &[&str]) {
    let mut at = 0;
    for w in wanted {
        match out[at..].find(w) {
            Some(i) => at += i + w.len(),
            None => panic!("expected {w:?} (in this order) in:\n{out}"),
        }
    }
}

struct Scratch(PathBuf);
impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("moon86-monitor-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
    fn path(&self, f: &str) -> String {
        self.0.join(f).display().to_string()
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn inspecting_a_paused_guest() {
    let (out, status) = hello(
        "info registers\n\
         x/8xb 0x7c00\n\
         x/2xw 0x7c00\n\
         x/3dh 0x7c00\n\
         x/2ub 0x7c00\n\
         x/1ob 0x7c00\n\
         x/1tb 0x7c00\n\
         x/2c 0x7c28\n\
         x/1a 0x7c00\n\
         x/1xg 0x7c00\n\
         x/s 0x7c28\n\
         x/3i $pc\n\
         x 0x7c00\n\
         xp/4xb 0x7c00\n\
         x/2xb 0000:7c00\n\
         disas\n\
         disas 0x7c0f 2\n\
         info mem\n\
         info reg\n\
         info status\n\
         get cpu.eip\n\
         set cpu.eax 0x1234\n\
         quit\n\
         info status\n",
    );
    assert_eq!(status, Some(0), "{out}");
    in_order(
        &out,
        &[
            "0000:7c00  fa                   cli",
            "(moon86) info registers",
            "EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000080",
            "EIP=00007c00 EFL=00000002",
            "CS =0000 00000000 0000ffff 009b",
            "icount=0",
            "00007c00: 0xfa 0x31 0xc0 0x8e 0xd8 0x8e 0xd0 0xbc",
            "00007c00: 0x8ec031fa 0xbcd08ed8",
            "00007c00: 12794 -28992 -28968",
            "00007c00: 250 49",
            "00007c00: 0372",
            "00007c00: 11111010",
            "00007c28:  72 'H' 101 'e'",
            "00007c00: 0x8ec031fa",
            "00007c00: 0xbcd08ed88ec031fa",
            "00007c28: \"Hello from moon86!\\r\\n\"",
            "=> 00007c00: fa                   cli",
            "   00007c01: 31 c0                xor ax, ax",
            "   00007c03: 8e d8                mov ds, ax",
            // `x` without /NFU: one item in the previous format (x/3i).
            "(moon86) x 0x7c00\n=> 00007c00: fa",
            "00007c00: 0xfa 0x31 0xc0 0x8e",
            "00007c00: 0xfa 0x31",
            "=> 00007c00: fa",
            "   00007c05: 8e d0                mov ss, ax",
            "00007c0f: be 28 7c             mov si, 0x7c28",
            "00007c12: ba e9 00             mov dx, 0xe9",
            "paging is off: linear addresses are physical addresses",
            "(moon86) info reg\nEAX=",
            "VM status: paused (icount 0)",
            "cpu.eip = 0x7c00",
            "cpu.eax = 0x1234",
        ],
    );
    // quit ends the session: the line after it never runs.
    assert_eq!(out.matches("VM status").count(), 1, "{out}");
}

#[test]
fn breakpoints_steps_and_lua() {
    let (out, status) = hello(
        "break 0x7c15\n\
         info hooks\n\
         cont\n\
         vm.cpu.esi\n\
         vm.mem:read(0x7c00, 4)\n\
         ({ 1, 2, regs = { eip = vm.cpu.eip } })\n\
         step 2\n\
         next\n\
         s\n\
         function twice(a)\n\
           return a * 2\n\
         end\n\
         twice(21)\n\
         n = 5\n\
         (n)\n\
         delete 1\n\
         info hooks\n\
         c\n\
         info status\n",
    );
    assert_eq!(status, Some(0), "{out}");
    in_order(
        &out,
        &[
            "breakpoint 1 at 0x7c15",
            "  1  breakpoint yes            0  exec 0x7c15",
            "(moon86) cont\nbreakpoint 1: exec at 0x7c15 (icount 10, by 0000:7c15)\n0000:7c15  ac                   lodsb",
            "(moon86) vm.cpu.esi\n0x7c28 (31784)",
            "<4 bytes: fa 31 c0 8e>",
            "{ 1, 2, regs = { eip = 0x7c15 (31765) } }",
            "(moon86) step 2\n0000:7c18  74 03                je short 0x7c1d",
            "(moon86) next\n0000:7c1a  ee                   out dx, al",
            "(moon86) s\nH\n0000:7c1b",
            "(moon86) function twice(a)\n... return a * 2\n... end\n(moon86) twice(21)\n42",
            "(moon86) (n)\n5",
            "deleted 1",
            "no hooks",
            "(moon86) c\n",
            "ello from moon86!",
            "the guest stopped: exit port written, exit status 1",
            "VM status: halted",
        ],
    );
}

#[test]
fn next_steps_over_a_call() {
    // A call to a subroutine that returns: `next` stops after it.
    let dir = Scratch::new("call");
    let mut sector = vec![0u8; 512];
    // 7c00: call 7c08; 7c03: hlt...; 7c08: inc ax; inc ax; ret
    sector[..3].copy_from_slice(&[0xe8, 0x05, 0x00]);
    sector[3] = 0xf4;
    sector[8..11].copy_from_slice(&[0x40, 0x40, 0xc3]);
    sector[510] = 0x55;
    sector[511] = 0xaa;
    let path = dir.path("call.bin");
    std::fs::write(&path, &sector).unwrap();
    let (out, _, status) = monitor(
        &["monitor", "--boot-sector", &path],
        "disas 0x7c00 2\nnext\nvm.cpu.eax\ninfo hooks\n",
    );
    assert_eq!(status, Some(0), "{out}");
    in_order(
        &out,
        &[
            "=> 00007c00: e8 05 00             call 0x7c08",
            "(moon86) next\n0000:7c03  f4                   hlt",
            "(moon86) vm.cpu.eax\n2",
            "no hooks",
        ],
    );
}

#[test]
fn files_reset_keys_and_snapshots() {
    let dir = Scratch::new("files");
    let (png, mem, pmem, state) = (
        dir.path("screen.png"),
        dir.path("mem.bin"),
        dir.path("pmem.bin"),
        dir.path("vm.state"),
    );
    let (out, status) = hello(&format!(
        "step 3\n\
         savevm {state}\n\
         step 5\n\
         loadvm {state}\n\
         screendump {png}\n\
         memsave 0x7c00 512 {mem}\n\
         pmemsave 0x7c00 16 {pmem}\n\
         sendkey ctrl-alt-delete\n\
         system_reset\n\
         help\n\
         help cont\n"
    ));
    assert_eq!(status, Some(0), "{out}");
    in_order(
        &out,
        &[
            "(moon86) step 3\n0000:7c05",
            &format!("saved to {state}"),
            "(moon86) step 5\n",
            &format!("restored from {state} (paused); 0000:7c05"),
            &format!("wrote {png}"),
            &format!("wrote 512 bytes to {mem}"),
            &format!("wrote 16 bytes to {pmem}"),
            "(moon86) sendkey ctrl-alt-delete\n(moon86) system_reset\nreset; 0000:7c00",
            "Commands (a line that is not a command is Lua",
            "x/NFU ADDR",
            "cont [LIMIT] [&]: run the guest",
            "aliases: c, continue",
            "example: cont 20ms",
        ],
    );
    let sector = std::fs::read(guest("hello/boot.bin")).unwrap();
    assert_eq!(std::fs::read(&mem).unwrap(), sector);
    assert_eq!(std::fs::read(&pmem).unwrap(), &sector[..16]);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn mistakes_get_clear_errors_and_nothing_breaks() {
    let (out, status) = hello(
        "inf registers\n\
         contt\n\
         info regs\n\
         info\n\
         x/4q 0x7c00\n\
         x/0xb 0x7c00\n\
         x/4xb zork\n\
         x/4xb eax\n\
         x/4xb 0x1_0000_0000\n\
         x/4xb 0x7fffffff\n\
         x/4xb\n\
         disas 0x7c00 0\n\
         step -1\n\
         break\n\
         watch 0x600 5 q\n\
         delete 99\n\
         cont 5 parsecs\n\
         get cpu.eaxx\n\
         set ram_size 1M\n\
         sendkey ctrl-alt-delet\n\
         loadvm /nonexistent/vm.state\n\
         screendump /nonexistent/dir/s.png\n\
         error(\"boom\")\n\
         vm.cpu.nope\n\
         1 +\n\
         end\n\
         info status\n",
    );
    assert_eq!(status, Some(1), "a failed line sets the status:\n{out}");
    in_order(
        &out,
        &[
            "error: unknown command 'inf' (did you mean 'info'?)",
            "error: unknown command 'contt' (did you mean 'cont'?)",
            "error: info: no topic 'regs'; topics: registers, mem, hooks, status",
            "error: info: which topic?",
            "error: bad format '/4q': 'q' is not a format",
            "error: bad format '/0xb': the count must be",
            "error: bad address 'zork': 'zork' is not a number",
            "error: bad address 'eax': registers are written $eax",
            "error: bad address '0x1_0000_0000'",
            "error: range 0x7fffffff..0x80000000 (1 bytes) is outside guest memory",
            "error: x: an address is needed (usage: x/NFU ADDR)",
            "error: disas: '0' is not a count",
            "error: step: '-1' is not a count",
            "error: break: one address is needed (usage: break ADDR)",
            "error: watch: 'q' is neither a length nor r, w or rw",
            "error: bad value for hook: there is no hook 99",
            "error: cont:",
            "error: unknown property 'cpu.eaxx'",
            "error: cannot set ram_size while the VM is paused",
            "did you mean 'delete'?",
            "error: ",
            "error: ",
            "error: stdin:1: boom",
            "error: stdin:1: unknown property or method 'cpu.nope'",
            "(moon86) 1 +\n... end\nerror: ",
            "VM status: paused (icount 0)",
        ],
    );
}

#[test]
fn watchpoints_and_the_guest_running_while_the_prompt_answers() {
    // ticker counts loop passes in the doubleword at 0x7d1e and never stops.
    let (out, status) = ticker(
        "watch 0x7d1e 4 w\n\
         cont\n\
         info hooks\n\
         delete\n\
         cont &\n\
         info status\n\
         info registers\n\
         vm.state\n\
         x/1xw 0x7d1e\n\
         cont\n\
         step\n\
         stop\n\
         info status\n\
         stop\n\
         cont 1000\n\
         cont 1ms\n",
    );
    assert_eq!(status, Some(1), "{out}");
    in_order(
        &out,
        &[
            "watchpoint 1 on writes to physical 0x7d1e..0x7d22",
            "(moon86) cont\nwatchpoint 1: write of 4 byte(s) at 0x7d1e: 0x0 -> 0x1",
            "0000:7c71",
            "  1  watchpoint yes            1  write 0x7d1e..0x7d22",
            "deleted 1",
            "(moon86) cont &\n(moon86) info status\nVM status: running",
            "(moon86) info registers\nEAX=",
            "(moon86) vm.state\n\"running\"",
            "(moon86) x/1xw 0x7d1e\n00007d1e: 0x",
            "error: cont: the guest is running; type `stop` (or Ctrl-C) first",
            "error: step: the guest is running",
            "(moon86) stop\nstopped at 0000:",
            "VM status: paused",
            "(moon86) stop\nthe guest is not running",
            "(moon86) cont 1000\nstopped (instruction bound reached) at",
            "(moon86) cont 1ms\nstopped (time bound reached) at",
        ],
    );
    // The guest ran between the lines: the counter moved past 1.
    let status_line = out
        .lines()
        .find(|l| l.starts_with("VM status: paused (icount "))
        .unwrap();
    let icount: u64 = status_line
        .trim_start_matches("VM status: paused (icount ")
        .trim_end_matches(')')
        .parse()
        .unwrap();
    assert!(icount > 100_000, "{out}");
}

#[test]
fn lua_hooks_share_the_table_and_run_their_callbacks() {
    let (out, status) = hello(
        "h = vm:on_exec(0x7c1a, function(ev) print(string.format(\"lua saw %x\", ev.eip)) end, { limit = 1 })\n\
         break 0x7c1d\n\
         info hooks\n\
         cont\n\
         delete 1\n\
         info hooks\n",
    );
    assert_eq!(status, Some(0), "{out}");
    in_order(
        &out,
        &[
            "  1  lua        yes            0  exec 0x7c1a",
            "  2  breakpoint yes            0  exec 0x7c1d",
            "(moon86) cont\nlua saw 7c1a\nHello from moon86!\r\nbreakpoint 2: exec at 0x7c1d",
            "deleted 1",
            "  2  breakpoint",
        ],
    );
}

#[test]
fn boot_with_monitor_and_doc() {
    let (out, _, status) = monitor(
        &[
            "boot",
            "--boot-sector",
            &guest("hello/boot.bin"),
            "--monitor",
        ],
        "info status\n",
    );
    assert_eq!(status, Some(0));
    in_order(&out, &["0000:7c00", "VM status: paused (icount 0)"]);
    let (_, err, status) = monitor(&["monitor"], "");
    assert_eq!(status, Some(1));
    assert!(err.contains("nothing to boot"), "{err}");
}

#[test]
fn completion() {
    use moon86::monitor::complete;
    let names = |line: &str| complete(line, line.len()).1;
    assert_eq!(names("inf"), ["info"]);
    assert_eq!(names("sys"), ["system_reset"]);
    assert!(names("s").contains(&"step".to_string()));
    assert!(names("s").contains(&"screendump".to_string()));
    assert_eq!(names("info re"), ["registers"]);
    assert_eq!(
        names("info "),
        ["block", "hooks", "mem", "registers", "status"]
    );
    assert_eq!(names("help disa"), ["disas"]);
    assert_eq!(names("vm.cpu.ea"), ["vm.cpu.eax"]);
    assert_eq!(names("vm.cp"), ["vm.cpu.", "vm.cpu:", "vm.cpu_model"]);
    assert_eq!(names("vm:ste"), ["vm:step("]);
    assert_eq!(names("vm:power_o"), ["vm:power_off(", "vm:power_on("]);
    assert_eq!(
        names("vm.mem:re"),
        [
            "vm.mem:read(",
            "vm.mem:read_u16(",
            "vm.mem:read_u32(",
            "vm.mem:read_u8("
        ]
    );
    assert_eq!(names("print(vm.cpu.ei"), ["vm.cpu.eip"]);
    assert_eq!(names("get cpu.ei"), ["cpu.eip"]);
    assert_eq!(names("set ram_s"), ["ram_size"]);
    assert_eq!(
        complete("x = vm.ram_s", 12),
        (4, vec!["vm.ram_size".to_string()])
    );
    // The cursor in the middle of the line completes the word before it.
    assert_eq!(complete("inf registers", 3), (0, vec!["info".to_string()]));
    assert_eq!(names("x/4xw $es"), ["$es", "$esi", "$esp"]);
    assert_eq!(names("break $p"), ["$pc"]);
    assert!(names("zzz").is_empty());
}

/// A pseudo-terminal: the monitor gets the slave as its terminal, the test
/// types on the master and reads what the monitor shows.
struct Pty {
    master: std::fs::File,
    out: String,
}

impl Pty {
    fn open() -> (Pty, std::os::fd::OwnedFd) {
        use std::os::fd::FromRawFd;
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty writes two new descriptors into the two ints; the
        // name, termios and window-size pointers may be null.
        let r = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "openpty");
        // SAFETY: both descriptors were just opened and are owned by nothing else.
        let (master, slave) = unsafe {
            (
                std::fs::File::from_raw_fd(master),
                std::os::fd::OwnedFd::from_raw_fd(slave),
            )
        };
        (
            Pty {
                master,
                out: String::new(),
            },
            slave,
        )
    }

    /// Reads until `wanted` appears after `from`, for at most 20 s.
    fn wait_for(&mut self, from: usize, wanted: &str) -> usize {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(i) = self.out[from.min(self.out.len())..].find(wanted) {
                return from + i + wanted.len();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "expected {wanted:?} on the terminal; it shows:\n{}",
                self.out
            );
            let mut p = libc::pollfd {
                fd: self.master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, count 1.
            if unsafe { libc::poll(&mut p, 1, 100) } > 0 {
                let mut buf = [0u8; 4096];
                match self.master.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                        if text.contains("\x1b[6n") {
                            // A cursor position query: answer "row 1, column 1".
                            self.master.write_all(b"\x1b[1;1R").unwrap();
                        }
                        self.out.push_str(&text);
                    }
                    _ => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            }
        }
    }

    fn type_(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }
}

#[test]
fn at_a_terminal_the_guest_runs_while_the_prompt_answers_and_ctrl_c_stops_it() {
    let dir = Scratch::new("pty");
    let history = dir.path("history");
    let (mut pty, slave) = Pty::open();
    let mut child = Command::new(env!("CARGO_BIN_EXE_moon86"));
    child
        .args([
            "monitor",
            "--boot-sector",
            &guest("snap/ticker.bin"),
            "--serial",
            "none",
            "--debugcon",
            "none",
            "--history",
            &history,
        ])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // The pseudo-terminal becomes the child's controlling terminal, so
    // Ctrl-C typed while no prompt is up is a SIGINT, as at a real one.
    // SAFETY: only async-signal-safe calls (setsid, ioctl) run between
    // fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        child.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY as _, 0);
            Ok(())
        });
    }
    let mut child = child.spawn().expect("the moon86 binary runs");
    // Each step waits for the prompt, as a person would: rustyline reads
    // keys (Ctrl-C among them) while its prompt is up.
    let mut at = pty.wait_for(0, "0000:7c00");
    let steps: &[(&str, &[&str])] = &[
        // cont comes back to the prompt at once; the guest keeps running.
        ("cont\r", &[]),
        ("info status\r", &["VM status: running"]),
        ("x/1xw 0x7d1e\r", &["00007d1e: 0x"]),
        // Ctrl-C stops the guest, not the monitor.
        ("\x03", &["stopped at 0000:"]),
        ("info status\r", &["VM status: paused"]),
        ("\x03", &["the guest is not running"]),
        // A breakpoint fires while the prompt is up, prints, and pauses the guest.
        ("break 0x7c6b\r", &["breakpoint 1 at 0x7c6b"]),
        (
            "cont\r",
            &["breakpoint 1: exec at 0x7c6b", "add dword ptr [0x7d1e], 1"],
        ),
        ("info status\r", &["VM status: paused"]),
        // Tab completes a word.
        ("info sta\t\r", &["VM status: paused"]),
        // Lua's print goes through the prompt's printer, a hook's too.
        (
            "h = vm:every(\"1ms\", function() print(\"tick from lua\") end)\r",
            &[],
        ),
        ("delete 1\r", &["deleted 1"]),
        ("cont\r", &["tick from lua"]),
        ("stop\r", &["stopped at"]),
        ("h:remove()\r", &[]),
    ];
    for (keys, wanted) in steps {
        at = pty.wait_for(at, "(moon86) ");
        pty.type_(keys);
        // Past the echo of what was typed, so the next prompt is a new one.
        let line = keys.trim_end_matches('\r');
        if !line.contains(['\x03', '\t']) {
            at = pty.wait_for(at, line);
        }
        for w in *wanted {
            at = pty.wait_for(at, w);
        }
    }
    // Ctrl-C ends a runaway Lua loop (a SIGINT: no prompt is up then).
    at = pty.wait_for(at, "(moon86) ");
    pty.type_("while true do end\r");
    at = pty.wait_for(at, "while true do end");
    std::thread::sleep(std::time::Duration::from_millis(300));
    pty.type_("\x03");
    at = pty.wait_for(at, "interrupted");
    pty.wait_for(at, "(moon86) ");
    pty.type_("quit\r");
    let status = child.wait().unwrap();
    assert!(status.success(), "{}", pty.out);
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(
        saved.contains("info status") && saved.contains("break 0x7c6b"),
        "{saved}"
    );
}

#[test]
fn page_tables_linear_and_physical() {
    // Paging on by hand: linear 0x7000 maps to itself (writable), 0x8000 to
    // physical 0x7000 (read-only); 0x9000 is not mapped.
    let (out, status) = hello(
        "info mem\n\
         vm.mem:write_u32(0x1000, 0x2003)\n\
         vm.mem:write_u32(0x2000 + 4 * 7, 0x7003)\n\
         vm.mem:write_u32(0x2000 + 4 * 8, 0x7001)\n\
         set cpu.cr3 0x1000\n\
         set cpu.cr0 0x80000011\n\
         info mem\n\
         x/4xb 0x8c00\n\
         xp/4xb 0x8c00\n\
         x/4xb 0x9000\n\
         memsave 0x9000 16 /nonexistent\n",
    );
    assert_eq!(status, Some(1), "{out}");
    in_order(
        &out,
        &[
            "paging is off: linear addresses are physical addresses",
            "linear            physical       size flags",
            "00007000-00008000 00007000       1000 srw",
            "00008000-00009000 00007000       1000 sr-",
            "(moon86) x/4xb 0x8c00\n00008c00: 0xfa 0x31 0xc0 0x8e",
            "(moon86) xp/4xb 0x8c00\n00008c00: 0x00 0x00 0x00 0x00",
            "error: bad value for addr: linear address 0x9000 is not mapped by the page tables",
            "error: bad value for addr: linear address 0x9000 is not mapped",
        ],
    );
}

#[test]
fn a_lua_line_may_pause_the_running_guest() {
    let (out, status) = ticker("cont &\nvm:pause()\ninfo status\nvm.state\n");
    assert_eq!(status, Some(0), "{out}");
    in_order(
        &out,
        &[
            "(moon86) vm:pause()\n",
            "the guest is paused; 0000:",
            "VM status: paused",
            "\"paused\"",
        ],
    );
}

#[test]
fn delete_tells_a_removed_hook_from_one_that_never_was() {
    let (out, _) = hello("break 0x7c15\ndelete 999\ndelete 1\ndelete 1\n");
    in_order(
        &out,
        &[
            "breakpoint 1 at 0x7c15",
            "error: bad value for hook: there is no hook 999 (no hook ever had that id)",
            "deleted 1",
            "error: bad value for hook: there is no hook 1 (it was removed)",
        ],
    );
    assert!(!out.contains("999 (it was removed)"), "{out}");
}

/// The monitor's saving commands write through a symlink (the link stays)
/// and into a FIFO (the data arrives, the FIFO stays).
#[test]
fn saving_commands_write_through_links_and_fifos() {
    use std::os::unix::fs::{symlink, FileTypeExt};
    let dir = Scratch::new("special");
    let (target, link, fifo) = (dir.path("target"), dir.path("link"), dir.path("fifo"));
    symlink(&target, &link).unwrap();
    let c = std::ffi::CString::new(fifo.as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let (out, status) = hello(&format!(
        "pmemsave 0x7c00 16 {link}\nmemsave 0x7c00 512 {fifo}\nsavevm {link}\n"
    ));
    assert_eq!(status, Some(0), "{out}");
    let sector = std::fs::read(guest("hello/boot.bin")).unwrap();
    assert_eq!(reader.join().unwrap(), sector);
    assert!(std::fs::read(&target).unwrap().starts_with(b"MOON86SS"));
    let kind = |p: &str| std::fs::symlink_metadata(p).unwrap().file_type();
    assert!(kind(&link).is_symlink() && kind(&fifo).is_fifo());
}

#[test]
fn a_transcript_line_that_is_not_utf8_is_named_and_the_rest_still_runs() {
    let mut input = b"print('first' .. 1)\n".to_vec();
    input.extend_from_slice(b"print('bad \xff\xfe')\n");
    input.extend_from_slice(b"print('third' .. 3)\r\n");
    let (out, _, status) = monitor(
        &["monitor", "--boot-sector", &guest("hello/boot.bin")],
        &input,
    );
    in_order(
        &out,
        &[
            "first1",
            "error: line 2 of the input is not UTF-8 text; it was not run",
            "third3",
        ],
    );
    assert_eq!(status, Some(1), "a failed line makes the status 1:\n{out}");
}

#[test]
fn the_firmware_debug_port_is_shown_with_biosdebug_stdio() {
    let dir = Scratch::new("biosdebug");
    // mov dx,0x402 ; "BIOS log\n" out byte by byte ; cli ; hlt
    let mut sector = vec![0xBA, 0x02, 0x04];
    for &b in b"BIOS log\n" {
        sector.extend([0xB0, b, 0xEE]);
    }
    sector.extend([0xFA, 0xF4]);
    sector.resize(510, 0);
    sector.extend([0x55, 0xAA]);
    let bin = dir.path("bios.bin");
    std::fs::write(&bin, &sector).unwrap();
    let (out, _, status) = monitor(
        &["monitor", "--boot-sector", &bin, "--biosdebug", "stdio"],
        "cont\nprint(vm.biosdebug:text() == 'BIOS log\\n')\n",
    );
    in_order(&out, &["(moon86) cont", "BIOS log", "true"]);
    assert_eq!(
        out.lines().filter(|l| *l == "BIOS log").count(),
        1,
        "printed once:\n{out}"
    );
    assert_eq!(status, Some(0), "{out}");
    let (out, _, _) = monitor(&["monitor", "--boot-sector", &bin], "cont\n");
    assert!(!out.contains("BIOS log"), "not shown by default:\n{out}");
}

#[test]
fn a_transcript_ending_inside_a_lua_chunk_fails() {
    let (out, status) = hello("print('before')\nfunction f()\n  return 1\n");
    in_order(
        &out,
        &[
            "before",
            "error: the input ended inside an unfinished Lua chunk; it was not run",
        ],
    );
    assert_eq!(status, Some(1), "{out}");
}

#[test]
fn info_block_eject_change_and_commit() {
    let dir = std::env::temp_dir().join(format!("moon86-monitor-block-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let disk = dir.join("disk.img");
    std::fs::write(&disk, vec![0x11u8; 8 * 512]).unwrap();
    let mut iso = vec![0u8; 18 * 2048];
    iso[16 * 2048..16 * 2048 + 7].copy_from_slice(b"\x01CD001\x01");
    let (a, b) = (dir.join("a.iso"), dir.join("b.iso"));
    std::fs::write(&a, &iso).unwrap();
    std::fs::write(&b, &iso).unwrap();
    let junk = dir.join("junk.iso");
    std::fs::write(&junk, vec![0u8; 40 * 2048]).unwrap();
    let (fa, fb) = (dir.join("a.img"), dir.join("b.img"));
    std::fs::write(&fa, vec![0xAAu8; 2880 * 512]).unwrap();
    std::fs::write(&fb, vec![0xBBu8; 1440 * 512]).unwrap();
    let big = dir.join("big.img");
    std::fs::write(&big, vec![0u8; 5761 * 512]).unwrap();
    let input = format!(
        "info block\n\
         eject\n\
         info block\n\
         change ide2 {junk}\n\
         change ide2 {b}\n\
         change ide2\n\
         eject ide0\n\
         eject ide3\n\
         commit ide0\n\
         eject fd0\n\
         change fd0 {big}\n\
         change fd0 {fb}\n\
         info block\n\
         quit\n",
        junk = junk.display(),
        b = b.display(),
        fb = fb.display(),
        big = big.display()
    );
    let (out, _, _) = monitor(
        &[
            "monitor",
            "--boot-sector",
            &guest("hello/boot.bin"),
            "--hda",
            disk.to_str().unwrap(),
            "--cdrom",
            a.to_str().unwrap(),
            "--fda",
            fa.to_str().unwrap(),
        ],
        input,
    );
    in_order(
        &out,
        &[
            &format!("ide0 (disk): {} (8 x 512 bytes, overlay)", disk.display()),
            &format!("ide2 (cdrom): {} (18 x 2048 bytes, read-only)", a.display()),
            "ide2: ejected",
            "ide2 (cdrom): [not inserted]",
            "not an ISO 9660",
            &format!("ide2: {} inserted", b.display()),
            "give the drive and the new image",
            "ide0 is a hard disk",
            "no drive 'ide3' (the drives are ide0, ide2, fd0)",
            "ide0: 0 sectors written to the image",
            "fd0: ejected",
            "a floppy image of",
            &format!("fd0: {} inserted", fb.display()),
            &format!("ide2 (cdrom): {} (18 x 2048 bytes, read-only)", b.display()),
            &format!("fd0 (floppy): {} (1440 x 512 bytes, overlay)", fb.display()),
        ],
    );
    assert_eq!(std::fs::read(&disk).unwrap(), vec![0x11u8; 8 * 512]);
    assert_eq!(std::fs::read(&fa).unwrap(), vec![0xAAu8; 2880 * 512]);
    std::fs::remove_dir_all(&dir).unwrap();
}
