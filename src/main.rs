//! The `moon86` command line: run Lua scripts against emulated PCs.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "moon86",
    version,
    about = "A PC emulator (i386-class CPU, PC/AT board) driven from Lua",
    long_about = "moon86 emulates an i386-class PC whose every part is scriptable from embedded Lua 5.4: \
machines are objects whose fields are properties (vm.ram_size, vm.cpu.eax) and whose methods are actions \
(vm:power_on(), vm:run{}, vm.mem:dump(...)).\n\nStart with `moon86 run examples/hello.lua`; \
`moon86 doc` prints the Lua API reference.",
    after_help = "Exit status: the script's own (os.exit), 0 when it ends normally, 1 after an error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Translate guest code to host code (on, the default) or run the
    /// interpreter alone (off); the guest behaves the same either way. Sets
    /// the default of every machine's `jit` property (and MOON86_JIT for
    /// test files run in child processes).
    #[arg(long, global = true, value_name = "on|off", value_parser = ["on", "off"])]
    jit: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Lua script; ARGS are available to it as arg[1], arg[2], ...
    #[command(
        long_about = "Run a Lua script. The script sees the `moon86` module (moon86.new{...} creates a VM) \
and its arguments in Lua's `arg` table (arg[0] is the script's path). An uncaught error is printed \
with its Lua traceback and the exit status is 1; os.exit(n) sets the status."
    )]
    Run {
        /// The Lua script to run
        script: PathBuf,
        /// Arguments passed to the script
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Boot a machine without a script, with options QEMU users know
    #[command(
        long_about = "Boot a machine without a script. With --serial stdio (the default) the terminal is the \
guest's serial console: Ctrl-A X quits. The exit status is the guest's exit-port status when it \
leaves that way, 1 after a triple fault, otherwise 0.",
        after_help = "Example: moon86 boot --kernel vmlinuz --initrd initrd.img --append console=ttyS0"
    )]
    Boot {
        #[command(flatten)]
        options: Box<moon86::cli::BootOptions>,
        /// Stop after this many instructions
        #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_count)]
        instructions: Option<u64>,
        /// Start paused at the monitor's prompt instead (as `moon86 monitor`)
        #[arg(long, conflicts_with = "instructions")]
        monitor: bool,
        /// The monitor's history file (with --monitor)
        #[arg(long, value_name = "FILE", requires = "monitor")]
        history: Option<PathBuf>,
    },
    /// Boot a machine paused at the interactive monitor (commands and Lua)
    #[command(
        long_about = "Boot a machine paused at its first instruction and give a prompt: a line is a \
command QEMU and gdb users know (info registers, x/8xb ADDR, disas, break, watch, step, next, \
cont, stop, ...; `help` lists them) or Lua with `vm` bound. At a terminal the guest runs while \
the prompt answers and Ctrl-C stops it; with standard input from a file the lines run in order \
and the monitor exits at its end (status 1 when a line failed). See docs/monitor.md.",
        after_help = "Example: moon86 monitor --boot-sector guests/hello/boot.bin < commands.txt"
    )]
    Monitor {
        #[command(flatten)]
        options: Box<moon86::cli::BootOptions>,
        /// The history file (default: $XDG_STATE_HOME/moon86/history, else ~/.moon86_history)
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
    },
    /// Run Lua test files in parallel processes and report the results
    #[command(
        long_about = "Run Lua test files, each in its own process, -j N at a time. A PATH is a .lua file \
or a directory searched recursively for *_test.lua and test_*.lua. A test file declares tests with \
test(\"name\", function(t) ... end) and asserts with t:eq, t:ne, t:truthy, t:match and t:fail; a failing \
assertion stops its test and names the file and line. A line per finished file goes to stderr, then a \
summary. The exit status is 0 only when every test passed.",
        after_help = "Example: moon86 test tests/ -j 4 --junit report.xml"
    )]
    Test {
        /// Test files or directories
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How many files run at once (default: the number of CPUs)
        #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
        /// Print TAP version 13 on stdout (the summary goes to stderr)
        #[arg(long)]
        tap: bool,
        /// Write a JUnit XML report to FILE
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Run only the files whose index modulo N is I-1 (1 <= I <= N)
        #[arg(long, value_name = "I/N", value_parser = clap::value_parser!(moon86::cli::Shard))]
        shard: Option<moon86::cli::Shard>,
        /// Stop a test file that runs longer than this (host time: "90s", "10m")
        #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_timeout)]
        timeout: std::time::Duration,
    },
    /// Run one test file and report its tests on stdout (used by `test`)
    #[command(name = "__test-file", hide = true)]
    TestFile { script: PathBuf },
    /// Print the Lua API reference (Markdown), generated from the property and action tables
    Doc {
        /// Print the monitor's reference (docs/monitor.md) instead
        #[arg(long)]
        monitor: bool,
    },
}

/// A count of instructions: a whole number, never negative.
fn parse_count(text: &str) -> Result<u64, String> {
    match moon86::control::parse_int(text) {
        Ok(n) if n < 0 => Err("a count of instructions cannot be negative".into()),
        Ok(n) => Ok(n as u64),
        Err(_) => Err("expected a whole number of instructions, like 1000000 or 0x1000".into()),
    }
}

fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    match moon86::control::parse_duration(text)? {
        0 => Err("a timeout must be longer than zero".into()),
        ns => Ok(std::time::Duration::from_nanos(ns)),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(mode) = &cli.jit {
        // Read by `machine::jit_by_default` for every machine made from
        // here on, and inherited by the test runner's child processes; set
        // before any thread starts.
        std::env::set_var("MOON86_JIT", mode);
    }
    match cli.command {
        Command::Run { script, args } => match moon86::script::run_file(&script, &args) {
            Ok(status) => ExitCode::from(status.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("moon86: {e}");
                ExitCode::from(1)
            }
        },
        Command::Boot {
            options,
            monitor: true,
            history,
            ..
        }
        | Command::Monitor { options, history } => {
            let opts = moon86::monitor::MonitorOptions { history };
            match moon86::monitor::run(&options, &opts) {
                Ok(status) => ExitCode::from(status.clamp(0, 255) as u8),
                Err(e) => {
                    eprintln!("moon86: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Boot {
            options,
            instructions,
            ..
        } => match moon86::cli::boot(&options, instructions) {
            Ok(status) => ExitCode::from(status.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("moon86: {e}");
                ExitCode::from(1)
            }
        },
        Command::Test {
            paths,
            jobs,
            tap,
            junit,
            shard,
            timeout,
        } => {
            let options = moon86::cli::TestOptions {
                paths,
                jobs: jobs.map(|j| j as usize),
                tap,
                junit,
                shard,
                timeout,
            };
            match moon86::cli::run_tests(&options) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("moon86: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::TestFile { script } => {
            ExitCode::from(moon86::cli::run_test_child(&script).clamp(0, 255) as u8)
        }
        Command::Doc { monitor: true } => {
            print!("{}", moon86::monitor::docs::monitor_markdown());
            ExitCode::SUCCESS
        }
        Command::Doc { monitor: false } => {
            print!("{}", moon86::control::docs::lua_api_markdown());
            ExitCode::SUCCESS
        }
    }
}
