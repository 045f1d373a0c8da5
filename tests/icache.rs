//! The decoded-instruction cache must be invisible: guests run with it on
//! and off end in exactly the same state. Self-modifying code (a write to
//! the very next instruction, REP MOVS over code, page-crossing writes,
//! writes through an alias page, PTE changes with INVLPG or a CR3 reload)
//! comes from `guests/cputest/smc.S`; writes by the control API over code
//! that already ran are checked here directly. A differential run over the
//! first instructions of a Linux boot takes Debian's kernel and initramfs
//! from `scripts/fetch-guests.py`, or MOON86_LINUX_KERNEL (and optionally
//! MOON86_LINUX_INITRD) when set.

mod common;

use moon86::control::{StopReason, Vm};
use moon86::cpu::{Gpr, Model, SegReg};
use moon86::machine::loader::Entry;
use moon86::machine::{HaltReason, MachineConfig};
use std::path::{Path, PathBuf};

fn guest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("guests")
        .join(name)
}

/// Everything a guest can leave behind: registers, segment caches, system
/// registers, counters and all of RAM.
#[derive(Debug, PartialEq, Eq)]
struct State {
    regs: String,
    ram: Vec<u8>,
}

fn state(vm: &Vm) -> State {
    let m = vm.machine().unwrap();
    let c = &m.cpu;
    let mut regs = String::new();
    for r in Gpr::ALL {
        regs += &format!("{}={:08x} ", r.name(), c.gpr(r));
    }
    regs += &format!("eip={:08x} eflags={:08x}\n", c.eip(), c.eflags());
    for s in SegReg::ALL {
        regs += &format!("{}={:?}\n", s.name(), c.segment(s));
    }
    regs += &format!(
        "cr0={:08x} cr2={:08x} cr3={:08x} cr4={:08x} dr={:x?}\n",
        c.cr0(),
        c.cr2(),
        c.cr3(),
        c.cr4(),
        c.dr
    );
    regs += &format!(
        "gdtr={:x?} idtr={:x?} ldtr={:?} tr={:?} cpl={} mode={:?}\n",
        c.gdtr(),
        c.idtr(),
        c.ldtr(),
        c.tr(),
        c.cpl(),
        c.mode()
    );
    regs += &format!(
        "tsc={} halted={} shutdown={} icount={} serial={:?}",
        c.tsc(),
        c.is_halted(),
        c.is_shutdown(),
        m.icount,
        m.serial
    );
    let mut ram = vec![0u8; m.board.mem.ram_size() as usize];
    m.board.mem.read_bytes(0, &mut ram).unwrap();
    State { regs, ram }
}

/// Asserts the two states are equal, naming the first differing byte of
/// RAM rather than printing megabytes.
fn assert_same(with: &State, without: &State, what: &str) {
    assert_eq!(with.regs, without.regs, "registers differ ({what})");
    if let Some(i) = (0..with.ram.len()).find(|&i| with.ram[i] != without.ram[i]) {
        panic!(
            "RAM differs at {i:#x} ({what}): {:#04x}, then {:#04x}",
            with.ram[i], without.ram[i]
        );
    }
}

/// Builds a VM with `setup`, turns the cache on or off and the JIT on or
/// off, and runs `budget`.
fn run(cache: bool, jit: bool, budget: u64, setup: &dyn Fn(&mut Vm)) -> (Vm, StopReason) {
    let mut vm = Vm::new(MachineConfig::default()).unwrap();
    setup(&mut vm);
    let cpu = &mut vm.machine_mut().unwrap().cpu;
    cpu.set_icache_enabled(cache);
    cpu.set_jit_enabled(jit);
    let stop = vm.run(Some(budget)).unwrap();
    (vm, stop)
}

/// Runs the same guest in the interpreter with the cache on (its fast
/// forms and runs of them, `cpu/exec/fast.rs` and `cpu/cached_run.rs`)
/// and off (every instruction fetched and decoded afresh), and with the
/// JIT and the cache on; returns the last VM after checking all three
/// ended alike.
fn differential(budget: u64, setup: &dyn Fn(&mut Vm)) -> (Vm, StopReason) {
    let (on, stop_on) = run(true, false, budget, setup);
    let (off, stop_off) = run(false, false, budget, setup);
    assert!(on.machine().unwrap().cpu.icache_enabled());
    assert!(!off.machine().unwrap().cpu.icache_enabled());
    assert_eq!(stop_on, stop_off, "stop reasons differ (cache on, off)");
    let reference = state(&off);
    assert_same(&state(&on), &reference, "interpreter, cache on and off");
    let (jit, stop_jit) = run(true, true, budget, setup);
    assert_eq!(stop_jit, stop_off, "stop reasons differ (JIT, interpreter)");
    assert_same(&state(&jit), &reference, "JIT and interpreter");
    (jit, stop_jit)
}

fn raw_guest(name: &'static str, model: Model) -> impl Fn(&mut Vm) {
    move |vm: &mut Vm| {
        vm.load_raw(&guest(name), 0x7C00, Some(Entry { cs: 0, ip: 0x7C00 }))
            .unwrap();
        vm.power_on().unwrap();
        vm.machine_mut().unwrap().cpu.set_model(model);
    }
}

#[test]
fn self_modifying_code_guest() {
    let (vm, stop) = differential(5_000_000, &raw_guest("cputest/smc.bin", Model::I486));
    let text = vm.debugcon_text().unwrap();
    assert_eq!(
        stop,
        StopReason::Halted(HaltReason::Exit(1)),
        "smc.bin did not reach the exit port; it printed:\n{text}"
    );
    let want = [
        "real mode: a write to the next instruction's immediate",
        "real mode: REP MOVSB over an instruction that ran",
        "real mode: a doubleword write across a page boundary",
        "paging: a write to the next instruction's immediate",
        "paging: a write through an alias page",
        "paging: a doubleword write across a page boundary",
        "paging: a PTE changed and INVLPG runs the new page",
        "paging: a PTE changed and a CR3 reload runs the old page",
        "paging: REP MOVSD over code that ran",
    ];
    let lines: Vec<&str> = text.lines().collect();
    let expected: Vec<String> = want
        .iter()
        .enumerate()
        .map(|(i, w)| format!("ok {} {w}", i + 1))
        .collect();
    assert_eq!(lines, expected, "the guest printed:\n{text}");
}

#[test]
fn protected_mode_guest_is_the_same_with_and_without_the_cache() {
    let (_, stop) = differential(5_000_000, &raw_guest("cputest/pmode.bin", Model::I486));
    assert_eq!(stop, StopReason::Halted(HaltReason::Exit(1)));
}

#[test]
fn bench_guest_is_the_same_with_and_without_the_cache() {
    let setup = |vm: &mut Vm| {
        vm.load_boot_sector(&guest("bench/loop.bin")).unwrap();
        vm.power_on().unwrap();
    };
    let (_, stop) = differential(1 << 32, &setup);
    assert_eq!(stop, StopReason::Halted(HaltReason::Exit(1)));
}

#[test]
fn a_write_over_code_in_a_run_of_cached_instructions_is_seen() {
    // A loop whose instructions are all cached after its first pass; its
    // second pass writes over the immediate of its first instruction, so
    // the third must run the new one (a run of cached fast forms must end
    // at the write). DL sums AL over the passes.
    let code = [
        0xFA, // 7C00 cli
        0xB9, 0x03, 0x00, // 7C01 mov cx, 3
        0xB2, 0x00, // 7C04 mov dl, 0
        0xBB, 0x00, 0x05, // 7C06 mov bx, 0x500 (data, first)
        0xB0, 0x41, // 7C09 loop: mov al, 'A'
        0x00, 0xC2, // 7C0B add dl, al
        0xC6, 0x07, 0x42, // 7C0D mov byte [bx], 'B'
        0xBB, 0x0A, 0x7C, // 7C10 mov bx, 0x7C0A (the immediate, from now on)
        0x49, // 7C13 dec cx
        0x75, 0xF3, // 7C14 jnz loop
        0xF4, // 7C16 hlt
    ];
    let setup = |vm: &mut Vm| {
        vm.power_on().unwrap();
        vm.mem_write(0x7C00, &code).unwrap();
        let m = vm.machine_mut().unwrap();
        m.cpu.load_segment_real(SegReg::Cs, 0);
        m.cpu.set_eip(0x7C00);
    };
    let (vm, stop) = differential(1000, &setup);
    assert_eq!(stop, StopReason::Halted(HaltReason::Hlt));
    let dl = vm.machine().unwrap().cpu.gpr(Gpr::Edx) as u8;
    assert_eq!(dl, b'A' + b'A' + b'B', "DL after the three passes");
}

#[test]
fn a_control_api_write_over_cached_code_is_seen() {
    // 7C00: mov al, 'A' / out 0xE9, al / jmp $ (two instructions a pass)
    let code = [0xB0, b'A', 0xE6, 0xE9, 0xEB, 0xFE];
    for cache in [true, false] {
        let mut vm = Vm::new(MachineConfig::default()).unwrap();
        vm.power_on().unwrap();
        let m = vm.machine_mut().unwrap();
        m.cpu.set_icache_enabled(cache);
        m.cpu.load_segment_real(SegReg::Cs, 0);
        m.cpu.set_eip(0x7C00);
        vm.mem_write(0x7C00, &code).unwrap();
        for (i, letter) in [b'B', b'C', b'D'].into_iter().enumerate() {
            let stop = vm.run(Some(2)).unwrap();
            assert_eq!(stop, StopReason::Budget, "pass {i}");
            // Change the immediate of the first instruction, which ran.
            vm.mem_write(0x7C01, &[letter]).unwrap();
            let m = vm.machine_mut().unwrap();
            m.cpu.set_eip(0x7C00);
        }
        vm.run(Some(2)).unwrap();
        assert_eq!(vm.debugcon_text().unwrap(), "ABCD", "cache {cache}");
    }
}

#[test]
fn the_a20_gate_folds_cached_code_and_writes() {
    // mov al, imm8, stepped directly on the board (no device polling, so
    // the A20 mask stays as the test sets it).
    let mut vm = Vm::new(MachineConfig::default()).unwrap();
    vm.power_on().unwrap();
    vm.mem_write(0x7C00, &[0xB0, b'A']).unwrap();
    vm.mem_write(0x10_7C00, &[0xB0, b'Z']).unwrap();
    let m = vm.machine_mut().unwrap();
    let al_at = |m: &mut moon86::machine::Machine, cs: u16, ip: u32| {
        m.cpu.load_segment_real(SegReg::Cs, cs);
        m.cpu.set_eip(ip);
        m.cpu.step(&mut m.board);
        m.cpu.gpr(Gpr::Eax) as u8
    };
    m.board.set_a20(true);
    assert_eq!(al_at(m, 0, 0x7C00), b'A');
    // A20 closed: FFFF:7C10 is 0x107C00, which folds onto 0x7C00.
    m.board.set_a20(false);
    assert_eq!(al_at(m, 0xFFFF, 0x7C10), b'A');
    // A write to 0x107C01 lands on 0x7C01 and is seen through both names.
    moon86::cpu::Bus::write_u8(&mut m.board, 0x10_7C01, b'B');
    assert_eq!(al_at(m, 0xFFFF, 0x7C10), b'B');
    assert_eq!(al_at(m, 0, 0x7C00), b'B');
    // A20 open: 0x107C00 is its own memory again.
    m.board.set_a20(true);
    assert_eq!(al_at(m, 0xFFFF, 0x7C10), b'Z');
    assert_eq!(al_at(m, 0, 0x7C00), b'B');
}

#[test]
fn linux_boot_slice_is_the_same_with_and_without_the_cache() {
    let (kernel, initrd) = match std::env::var_os("MOON86_LINUX_KERNEL") {
        Some(k) => (k, std::env::var_os("MOON86_LINUX_INITRD")),
        None => (
            common::guest("kernel").as_os_str().to_owned(),
            Some(common::guest("initramfs").as_os_str().to_owned()),
        ),
    };
    let budget = std::env::var("MOON86_LINUX_BUDGET")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000u64);
    let setup = move |vm: &mut Vm| {
        vm.set("ram_size", moon86::control::Value::Str("256M".into()))
            .unwrap();
        vm.load_linux(
            Path::new(&kernel),
            initrd.as_deref().map(Path::new),
            "console=ttyS0",
        )
        .unwrap();
        vm.power_on().unwrap();
    };
    differential(budget, &setup);
}
