//! What hooks cost, on the bench guest (`guests/bench/loop.S`, about two
//! million instructions to its exit port). Two questions from the hooks
//! issue: how much 100 execute hooks on addresses the guest never reaches
//! plus one write watch on a page it never touches slow the guest down
//! (the promise is at most 5%), and how many Lua callbacks per second an
//! execute hook on the guest's hot loop can deliver (through the whole
//! stack: run loop, hook table, the Lua run loop in `lua/moon86/hooks.lua`).
//!
//! The bench first prints one summary line per question from its own
//! timings: runs of the two machines interleaved in pairs (so a noisy
//! neighbour slows both alike), the median speed of each and the median of
//! the pairs' time ratios as the overhead. Then criterion reports the same
//! three runs (`hooks/no_hooks`, `hooks/exec100_write1`,
//! `hooks/lua_exec_callback`) one after the other, which is fine for
//! tracking each over time but too coarse for a 5% comparison on a shared
//! machine. Everywhere only the guest's run is timed, not building the
//! machine, and with the thread's CPU clock: on a shared machine, wall
//! time also counts the time other processes had the core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use moon86::control::hooks::{Filter, HookKind};
use moon86::control::Vm;
use moon86::machine::MachineConfig;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The first instruction of the guest's loop (`movl %ecx, %eax` at 1:),
/// run once per iteration.
const HOT_LOOP: u64 = 0x7c16;
/// Execute hooks: this many, on linear addresses far above the guest's code.
const EXEC_HOOKS: u64 = 100;
const EXEC_BASE: u64 = 0x00F0_0000;
const EXEC_STRIDE: u64 = 0x1234;
/// The write watch: one page the guest never writes (it writes 0x1000,
/// 0x2000 and its stack below 0x7C00).
const WRITE_PAGE: u64 = 0x0005_0000;
/// Pairs of runs (one of each machine, back to back) for the overhead summary.
const RUNS: usize = 31;
/// Guest instructions per callback-throughput run (the hook fires once per
/// 20-instruction iteration).
const CALLBACK_INSNS: u64 = 400_000;
const CALLBACK_RUNS: usize = 5;

fn guest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/bench/loop.bin")
}

fn boot(hooked: bool) -> Vm {
    let mut vm = Vm::new(MachineConfig::default()).expect("a default machine");
    vm.load_boot_sector(&guest_path())
        .expect("the bench guest loads");
    vm.power_on().expect("power on");
    if hooked {
        for i in 0..EXEC_HOOKS {
            let start = EXEC_BASE + i * EXEC_STRIDE;
            let kind = HookKind::Exec {
                start,
                end: start + 1,
                physical: false,
            };
            vm.hook_add(kind, Filter::default()).expect("exec hook");
        }
        let kind = HookKind::Write {
            start: WRITE_PAGE,
            end: WRITE_PAGE + 0x1000,
            pre: false,
        };
        vm.hook_add(kind, Filter::default()).expect("write watch");
    }
    vm
}

/// Runs the guest to its exit; returns the instructions it retired.
fn run_to_exit(vm: &mut Vm) -> u64 {
    let stop = vm.run(None).expect("runs");
    assert_eq!(stop.name(), "exit", "the bench guest ends at the exit port");
    vm.machine().unwrap().icount
}

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "the thread CPU clock is readable");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn timed_run(hooked: bool) -> (Duration, u64) {
    let mut vm = boot(hooked);
    let t = thread_cpu();
    let n = run_to_exit(&mut vm);
    let spent = thread_cpu() - t;
    assert!(
        vm.hooks().iter().all(|h| h.hits == 0),
        "no hook may fire: the addresses must stay unreached"
    );
    (spent, n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The summary line for the overhead question.
fn overhead_summary() {
    let (mut plain, mut hooked, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    // One warm-up run of each, not counted.
    timed_run(false);
    timed_run(true);
    for i in 0..RUNS {
        // Alternate which machine goes first, so neither always runs right
        // after the other's setup.
        let ((tp, np), (th, nh)) = if i % 2 == 0 {
            (timed_run(false), timed_run(true))
        } else {
            let h = timed_run(true);
            (timed_run(false), h)
        };
        assert_eq!(np, nh, "both machines run the same instructions");
        plain.push(np as f64 / tp.as_secs_f64() / 1e6);
        hooked.push(nh as f64 / th.as_secs_f64() / 1e6);
        ratios.push(th.as_secs_f64() / tp.as_secs_f64());
    }
    let (p, h) = (median(plain), median(hooked));
    println!(
        "hooks overhead: {EXEC_HOOKS} exec hooks + 1 write watch: {h:.1} M instr/s vs {p:.1} M instr/s without ({:.1}% slower; medians of {RUNS} interleaved pairs of runs, the overhead from each pair's time ratio; thread CPU time)",
        (median(ratios) - 1.0) * 100.0
    );
}

/// The Lua side of the callback benchmark: builds the VM, registers an
/// execute hook with a trivial callback on the hot loop, and returns a
/// function that runs `n` instructions and says how many callbacks ran.
const CALLBACK_LUA: &str = r#"
local path, hot = ...
local vm = moon86.new{ ram = "16M" }
vm:load_boot_sector(path)
vm:power_on()
local calls = 0
vm:on_exec(hot, function() calls = calls + 1 end)
return function(n)
  calls = 0
  local why = vm:run{ instructions = n }
  assert(why == "budget", "the run must spend its budget, not " .. tostring(why))
  return calls
end
"#;

fn callback_runner(lua: &mlua::Lua) -> mlua::Function {
    lua.load(CALLBACK_LUA)
        .set_name("=hooks-bench")
        .call((guest_path().display().to_string(), HOT_LOOP))
        .expect("the callback script sets up")
}

/// The summary line for the callback question.
fn callback_summary() {
    let lua = moon86::script::new_lua().expect("a Lua state");
    let mut rates = Vec::new();
    let mut per_call = Vec::new();
    for _ in 0..CALLBACK_RUNS {
        // A fresh VM each time, so every run covers the same iterations.
        let go = callback_runner(&lua);
        let t = thread_cpu();
        let calls: u64 = go.call(CALLBACK_INSNS).expect("the callback run");
        let spent = (thread_cpu() - t).as_secs_f64();
        assert!(calls > 0, "the hot-loop hook must fire");
        rates.push(calls as f64 / spent);
        per_call.push(spent / calls as f64 * 1e6);
    }
    println!(
        "hooks callbacks: exec hook on the hot loop, trivial Lua callback: {:.0} callbacks/s ({:.2} us per callback, guest time between them included; median of {CALLBACK_RUNS} runs of {CALLBACK_INSNS} instructions, thread CPU time)",
        median(rates),
        median(per_call)
    );
}

/// Criterion's timing of `iters` runs: thread CPU time of the runs alone
/// (`setup` is not counted).
fn cpu_timed<S, R>(
    iters: u64,
    mut setup: impl FnMut() -> S,
    mut run: impl FnMut(S) -> R,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let input = setup();
        let t = thread_cpu();
        std::hint::black_box(run(input));
        total += thread_cpu() - t;
    }
    total
}

fn hooks(c: &mut Criterion) {
    overhead_summary();
    callback_summary();

    let icount = run_to_exit(&mut boot(false));
    let mut group = c.benchmark_group("hooks");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(icount));
    for (name, hooked) in [("no_hooks", false), ("exec100_write1", true)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| cpu_timed(iters, || boot(hooked), |mut vm| run_to_exit(&mut vm)))
        });
    }
    group.throughput(Throughput::Elements(CALLBACK_INSNS / 20));
    let lua = moon86::script::new_lua().expect("a Lua state");
    group.bench_function("lua_exec_callback", |b| {
        b.iter_custom(|iters| {
            cpu_timed(
                iters,
                || callback_runner(&lua),
                |go| go.call::<u64>(CALLBACK_INSNS).expect("the callback run"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, hooks);
criterion_main!(benches);
