//! Whole-guest lockstep test of the JIT against the interpreter: Debian's
//! i386 Linux kernel with the busybox initramfs (fetched by
//! `scripts/fetch-guests.py`, as `tests/guests.rs` boots it) runs on two
//! machines, one with the JIT and one without. The JIT machine makes one
//! pass of the run loop at a time (`Machine::run_unit`: one block, with
//! what chained into it, or one interpreted instruction); the interpreter
//! machine then runs the same number of instructions (`Machine::run`), so
//! both see the same device events and interrupts at the same instruction
//! counts. Registers, segment caches, control registers and counters are
//! compared after every pass, RAM every few million instructions and at the
//! end. The first divergence stops the test with the icount, CS:EIP where
//! the pass started, the register and both values.
//!
//! A pass of chained blocks is compared where it returns to the run loop.
//!
//! The boot decompresses the kernel with paging off for its first 2.3 G
//! instructions, longer than a lockstep run can take in a test (the
//! interpreter's machine runs at about 35 M instructions a second). So by
//! default the test runs the first `DECOMPRESSOR_BUDGET` instructions in
//! lockstep, lets the JIT's machine run alone up to the last
//! `FAST_FORWARD_STEP` before CR0.PG goes on, puts both machines in that
//! state (`Machine::save_state`), and runs `KERNEL_BUDGET` more in
//! lockstep: the decompressor's end, paging going on, the kernel's
//! start-up and the initramfs's /init, whose marker must appear. Setting
//! `MOON86_LOCKSTEP_BUDGET` (instructions, `_` and a `K`/`M`/`G` suffix
//! allowed) instead runs that many in lockstep from power-on, with no
//! fast-forward (3G: the whole boot to the shell prompt, some minutes);
//! `MOON86_LOCKSTEP_RAM_EVERY` compares RAM more often. Without the guests
//! (no network) the test is skipped with a message, unless
//! `MOON86_REQUIRE_GUESTS` is set.
//!
//! `MOON86_LOCKSTEP_GUEST=installer` boots Debian's netboot installer
//! instead (text mode, `console=ttyS0`, 512 MiB; fetched by
//! `scripts/fetch-guests.py --installer`, about 100 MB) the same way, with
//! `INSTALLER_BUDGET` instructions in lockstep after the fast-forward: to
//! its first screen, "Select a language" (10.7 G instructions in
//! lockstep, about 15 minutes, so not in the suite: docs/performance.md
//! has the last run).

mod common;

use moon86::control::Vm;
use moon86::cpu::{Gpr, SegReg};
use moon86::machine::{CpuModel, Machine, MachineConfig, RunExit};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// Instructions run in lockstep from power-on by default: a slice of the
/// kernel decompressor, which runs with paging off for the first 2.3 G
/// instructions of the boot.
const DECOMPRESSOR_BUDGET: u64 = 200_000_000;
/// The JIT's machine then runs alone in steps of this many instructions
/// until paging is on, at most to `FAST_FORWARD_LIMIT`, and both machines
/// start again from the state before the last step.
const FAST_FORWARD_STEP: u64 = 50_000_000;
const FAST_FORWARD_LIMIT: u64 = 6_000_000_000;
/// Instructions then run in lockstep by default: the end of the
/// decompressor, paging going on, the kernel's start-up and the
/// initramfs's /init (for Debian's 6.1.0-50 kernel, paging goes on at
/// icount 2.322 G and the init marker comes at 2.698 G).
const KERNEL_BUDGET: u64 = 480_000_000;
/// The same for the installer (from paging on, at icount 2.4 G, to
/// "Select a language" at 12.3 G).
const INSTALLER_BUDGET: u64 = 10_500_000_000;
/// RAM is compared this often (instructions) by default.
const DEFAULT_RAM_EVERY: u64 = 25_000_000;
const RAM: u64 = 256 << 20;
/// The command line `tests/guests/linux.lua` boots with.
const CMDLINE: &str = "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests";

/// What the test boots: the kernel, the initrd, the command line, the RAM
/// size, the text that must appear on the serial console and the lockstep
/// budget after the fast-forward.
struct Guest {
    kernel: String,
    initrd: String,
    cmdline: &'static str,
    ram: u64,
    marker: String,
    budget: u64,
}

/// The guest `MOON86_LOCKSTEP_GUEST` names (`linux`, with the busybox
/// initramfs, by default, or `installer`), or why it is missing.
fn guest() -> Result<Guest, String> {
    let which = std::env::var("MOON86_LOCKSTEP_GUEST").unwrap_or_default();
    assert!(
        ["", "linux", "installer"].contains(&which.as_str()),
        "MOON86_LOCKSTEP_GUEST={which}: the guests are linux (the default) and installer"
    );
    if which == "installer" {
        let g = common::try_guests_with_installer()?;
        let key = |k: &str| {
            g.get(k)
                .cloned()
                .ok_or(format!("scripts/fetch-guests.py named no {k}"))
        };
        return Ok(Guest {
            kernel: key("installer_linux")?,
            initrd: key("installer_initrd")?,
            cmdline: "console=ttyS0",
            ram: 512 << 20,
            marker: key("installer_marker")?,
            budget: INSTALLER_BUDGET,
        });
    }
    let g = guests()?;
    Ok(Guest {
        kernel: g["kernel"].clone(),
        initrd: g["initramfs"].clone(),
        cmdline: CMDLINE,
        ram: RAM,
        marker: g["marker"].clone(),
        budget: KERNEL_BUDGET,
    })
}

/// The fetched guests, or why the Linux guest is missing.
fn guests() -> Result<&'static HashMap<String, String>, String> {
    let g = common::try_guests()?;
    for key in ["kernel", "initramfs", "marker"] {
        if !g.contains_key(key) {
            return Err(format!("scripts/fetch-guests.py named no {key}"));
        }
    }
    Ok(g)
}

/// An instruction count from the environment: digits with optional `_`
/// separators and a `K`, `M` or `G` suffix (powers of ten).
fn env_count(name: &str, default: u64) -> u64 {
    let Ok(s) = std::env::var(name) else {
        return default;
    };
    let t = s.trim().replace('_', "");
    let (digits, scale) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000),
        Some('g' | 'G') => (&t[..t.len() - 1], 1_000_000_000),
        _ => (&t[..], 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .unwrap_or_else(|| panic!("{name}={s} is not an instruction count"))
}

/// A powered-on VM with the kernel and initramfs loaded, the JIT on or off.
fn boot(g: &Guest, jit: bool) -> Vm {
    let mut vm = Vm::new(MachineConfig {
        ram_size: g.ram,
        cpu_model: CpuModel::I686,
        ..MachineConfig::default()
    })
    .expect("a VM");
    vm.load_linux(Path::new(&g.kernel), Some(Path::new(&g.initrd)), g.cmdline)
        .expect("the kernel loads");
    vm.power_on().expect("power on");
    let m = vm.machine_mut().unwrap();
    m.cpu.set_jit_enabled(jit);
    assert_eq!(m.cpu.jit_enabled(), jit);
    // Every block copied from another's translation is checked against
    // translating it afresh.
    m.cpu.set_jit_check_copies(jit);
    vm
}

/// What is compared after every pass, by name.
const NAMES: [&str; 51] = [
    "eax",
    "ecx",
    "edx",
    "ebx",
    "esp",
    "ebp",
    "esi",
    "edi",
    "eip",
    "eflags",
    "es.sel",
    "es.base",
    "es.limit",
    "es.access",
    "cs.sel",
    "cs.base",
    "cs.limit",
    "cs.access",
    "ss.sel",
    "ss.base",
    "ss.limit",
    "ss.access",
    "ds.sel",
    "ds.base",
    "ds.limit",
    "ds.access",
    "fs.sel",
    "fs.base",
    "fs.limit",
    "fs.access",
    "gs.sel",
    "gs.base",
    "gs.limit",
    "gs.access",
    "cr0",
    "cr2",
    "cr3",
    "cr4",
    "icount",
    "tsc",
    "clock",
    "halted",
    "cpl",
    "gdtr.base",
    "gdtr.limit",
    "idtr.base",
    "idtr.limit",
    "ldtr.sel",
    "tr.sel",
    "tr.base",
    "fpu.status",
];

type Regs = [u64; NAMES.len()];

fn regs(m: &Machine) -> Regs {
    let c = &m.cpu;
    let mut r = [0u64; NAMES.len()];
    let mut i = 0;
    let mut put = |v: u64| {
        r[i] = v;
        i += 1;
    };
    for g in Gpr::ALL {
        put(c.gpr(g).into());
    }
    put(c.eip().into());
    put(c.eflags().into());
    for s in SegReg::ALL {
        let s = c.segment(s);
        put(s.selector.into());
        put(s.base.into());
        put(s.limit.into());
        put(s.access.into());
    }
    put(c.cr0().into());
    put(c.cr2().into());
    put(c.cr3().into());
    put(c.cr4().into());
    put(m.icount);
    put(c.tsc());
    put(m.board.clock.ticks());
    put(c.is_halted().into());
    put(c.cpl().into());
    let (gb, gl) = c.gdtr();
    put(gb.into());
    put(gl.into());
    let (ib, il) = c.idtr();
    put(ib.into());
    put(il.into());
    put(c.ldtr().selector.into());
    put(c.tr().selector.into());
    put(c.tr().base.into());
    put(c.fpu().status_word().into());
    assert_eq!(i, NAMES.len());
    r
}

fn reg(r: &Regs, name: &str) -> u64 {
    r[NAMES.iter().position(|n| *n == name).unwrap()]
}

/// The code at the start of a pass, for the message: up to 32 bytes at the
/// physical address CS:EIP maps to.
fn code_bytes(m: &mut Machine, start: &Regs) -> String {
    let lin = (reg(start, "cs.base") + reg(start, "eip")) as u32;
    let Some(phys) = m.debug_translate(lin) else {
        return format!("(linear {lin:#x} not mapped)");
    };
    let mut buf = [0u8; 32];
    match m.board.mem.read_bytes(phys.into(), &mut buf) {
        Ok(()) => format!("{buf:02x?} at physical {phys:#x}"),
        Err(_) => format!("(physical {phys:#x} not RAM)"),
    }
}

/// The first RAM byte that differs, as (address, JIT's, interpreter's).
fn ram_difference(a: &Machine, b: &Machine) -> Option<(u64, u8, u8)> {
    const CHUNK: usize = 1 << 20;
    let (mut x, mut y) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let size = a.board.mem.ram_size();
    let mut at = 0u64;
    while at < size {
        let n = CHUNK.min((size - at) as usize);
        a.board.mem.read_block(at as u32, &mut x[..n]);
        b.board.mem.read_block(at as u32, &mut y[..n]);
        if x[..n] != y[..n] {
            let i = (0..n).find(|&i| x[i] != y[i]).unwrap();
            return Some((at + i as u64, x[i], y[i]));
        }
        at += n as u64;
    }
    None
}

fn hex_state(r: &Regs) -> String {
    NAMES
        .iter()
        .zip(r)
        .map(|(n, v)| format!("{n}={v:x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The two machines and what the lockstep has seen.
struct Lockstep {
    /// The JIT's machine and the interpreter's.
    a: Vm,
    b: Vm,
    ram_every: u64,
    passes: u64,
    ram_checks: u64,
    /// Instructions run in lockstep, and of those with paging on.
    instructions: u64,
    paged: u64,
    /// The icount at which CR0.PG was first seen set.
    paging_at: Option<u64>,
    /// The JIT's work in the lockstep passes (the JIT's statistics are
    /// lost when a restore drops its blocks).
    jit_instructions: u64,
    jit_entries: u64,
    jit_chained: u64,
}

impl Lockstep {
    fn new(g: &Guest) -> Lockstep {
        Lockstep {
            a: boot(g, true),
            b: boot(g, false),
            ram_every: env_count("MOON86_LOCKSTEP_RAM_EVERY", DEFAULT_RAM_EVERY).max(1),
            passes: 0,
            ram_checks: 0,
            instructions: 0,
            paged: 0,
            paging_at: None,
            jit_instructions: 0,
            jit_entries: 0,
            jit_chained: 0,
        }
    }

    /// Runs `budget` instructions in lockstep (fewer if the guest stops);
    /// panics at the first difference.
    fn run(&mut self, budget: u64) -> RunExit {
        let a = self.a.machine_mut().unwrap();
        let b = self.b.machine_mut().unwrap();
        // Both start alike; `run_unit` keeps the JIT's host state from here on.
        a.cpu.forget_jit_host_state();
        let stats0 = a.cpu.jit_stats();
        let mut ra = regs(a);
        assert_eq!(ra, regs(b), "the two machines start differently");
        assert!(a.cpu.jit_enabled() && !b.cpu.jit_enabled());
        let mut last_ram = reg(&ra, "icount");
        let mut next_ram = self.ram_every;
        let mut done = 0u64;
        let stop = loop {
            if done >= budget {
                break RunExit::Budget;
            }
            let start = ra;
            let (exit_a, n) = a.run_unit(budget - done);
            let (exit_b, nb) = b.run(n);
            self.passes += 1;
            done += n;
            ra = regs(a);
            let rb = regs(b);
            if ra != rb || (exit_a, n) != (exit_b, nb) {
                diverged(b, &start, &ra, &rb, (exit_a, n), (exit_b, nb));
            }
            if reg(&ra, "cr0") & 0x8000_0000 != 0 {
                self.paged += n;
                self.paging_at.get_or_insert(reg(&ra, "icount"));
            }
            let stopped = exit_a != RunExit::Budget;
            if done >= next_ram || stopped || done >= budget {
                let icount = reg(&ra, "icount");
                if let Some((at, x, y)) = ram_difference(a, b) {
                    panic!(
                        "JIT and interpreter diverge in RAM at {at:#x} ({x:#04x} with the \
                         JIT, {y:#04x} without), written between icount {last_ram} and \
                         {icount} (set MOON86_LOCKSTEP_RAM_EVERY lower to narrow it down)"
                    );
                }
                assert!(
                    a.serial[0].all() == b.serial[0].all(),
                    "the serial output differs by icount {icount}"
                );
                self.ram_checks += 1;
                last_ram = icount;
                next_ram = done + self.ram_every;
            }
            if stopped {
                break exit_a;
            }
        };
        self.instructions += done;
        let stats = a.cpu.jit_stats();
        self.jit_instructions += stats.instructions - stats0.instructions;
        self.jit_entries += stats.entries - stats0.entries;
        self.jit_chained += stats.chained - stats0.chained;
        stop
    }

    /// Runs the JIT's machine alone in steps of `step` until paging is on,
    /// then puts both machines in the state of the last step before it.
    fn fast_forward_to_paging(&mut self, step: u64, limit: u64) {
        let a = self.a.machine_mut().unwrap();
        let mut before = a.save_state();
        while a.cpu.cr0() & 0x8000_0000 == 0 {
            assert!(
                a.icount < limit,
                "paging is still off at icount {}",
                a.icount
            );
            before = a.save_state();
            let (exit, _) = a.run(step);
            assert_eq!(exit, RunExit::Budget, "the boot stopped early");
        }
        a.restore_state(&before).unwrap();
        let b = self.b.machine_mut().unwrap();
        b.restore_state(&before).unwrap();
    }

    fn machine(&self) -> &Machine {
        self.a.machine().unwrap()
    }
}

/// Reports the first difference after a pass that started in `start`.
fn diverged(
    b: &mut Machine,
    start: &Regs,
    ra: &Regs,
    rb: &Regs,
    (exit_a, n): (RunExit, u64),
    (exit_b, nb): (RunExit, u64),
) -> ! {
    let (cs, eip) = (reg(start, "cs.sel"), reg(start, "eip"));
    let what = match (0..NAMES.len()).find(|&i| ra[i] != rb[i]) {
        Some(i) => format!(
            "{} is {:#x} with the JIT, {:#x} without",
            NAMES[i], ra[i], rb[i]
        ),
        None => format!(
            "the run stopped with {exit_a:?} after {n} with the JIT, {exit_b:?} after {nb} \
             without"
        ),
    };
    let code = code_bytes(b, start);
    panic!(
        "JIT and interpreter diverge in the pass of {n} instructions from icount {} at CS:EIP \
         {cs:04x}:{eip:08x}: {what}.\ncode: {code}\nbefore: {}\nJIT:    {}\ninterp: {}",
        reg(start, "icount"),
        hex_state(start),
        hex_state(ra),
        hex_state(rb)
    );
}

#[test]
fn linux_boot_runs_in_lockstep_with_and_without_the_jit() {
    let g = match guest() {
        Ok(g) => g,
        Err(why) if std::env::var_os("MOON86_REQUIRE_GUESTS").is_none() => {
            println!("skipping the JIT lockstep boot: the Linux guest is missing ({why})");
            return;
        }
        Err(why) => panic!("MOON86_REQUIRE_GUESTS is set and the Linux guest is missing: {why}"),
    };
    let started = Instant::now();
    let mut l = Lockstep::new(&g);
    let by_hand = std::env::var_os("MOON86_LOCKSTEP_BUDGET").is_some();
    let stop = if by_hand {
        l.run(env_count("MOON86_LOCKSTEP_BUDGET", 0))
    } else {
        let stop = l.run(DECOMPRESSOR_BUDGET);
        assert_eq!(
            stop,
            RunExit::Budget,
            "the boot stopped in the decompressor"
        );
        assert_eq!(
            l.paging_at, None,
            "paging is on early: see DECOMPRESSOR_BUDGET"
        );
        let from = l.machine().icount;
        l.fast_forward_to_paging(FAST_FORWARD_STEP, FAST_FORWARD_LIMIT);
        println!(
            "lockstep: the JIT alone ran from icount {from} to {} ({:.1} s so far)",
            l.machine().icount,
            started.elapsed().as_secs_f64()
        );
        l.run(g.budget)
    };
    let serial = String::from_utf8_lossy(l.machine().serial[0].all()).into_owned();
    let tail: Vec<&str> = serial.lines().rev().take(2).collect();
    println!(
        "lockstep: {} instructions in {} passes ({} with paging on, from icount {:?}); ended at \
         icount {} by {stop:?} in {:.1} s; {} in JIT blocks ({} block runs, {} chained); RAM \
         compared {} times; the serial console ends {:?}",
        l.instructions,
        l.passes,
        l.paged,
        l.paging_at,
        l.machine().icount,
        started.elapsed().as_secs_f64(),
        l.jit_instructions,
        l.jit_entries,
        l.jit_chained,
        l.ram_checks,
        tail.into_iter().rev().collect::<Vec<_>>()
    );
    assert!(
        l.jit_instructions > l.instructions / 4,
        "only {} of {} instructions ran in JIT blocks",
        l.jit_instructions,
        l.instructions
    );
    if !by_hand {
        assert_eq!(stop, RunExit::Budget, "the boot stopped early");
        assert!(
            l.paged > g.budget / 2,
            "only {} instructions ran in lockstep with paging on",
            l.paged
        );
        assert!(
            serial.contains(&g.marker),
            "the kernel did not reach the initramfs's /init in lockstep (a newer kernel may need \
             a larger KERNEL_BUDGET); it printed:\n{serial}"
        );
    }
}
