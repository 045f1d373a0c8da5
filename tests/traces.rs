//! The interpreter's traces (`cpu/traces.rs`, run by `Cpu::run_cached`)
//! where a copy of straight-line code could go wrong: code written over by
//! an instruction of the same trace, and 16-bit code whose IP wraps while
//! the bytes that follow in memory are cached code too, and alignment
//! checking at CPL 3, which the random programs never turn on. The random
//! differential tests (`jit_diff.rs`, `traces_*`) check traces against
//! single steps everywhere else.

use moon86::cpu::{Gpr, SegReg, Segment};
use moon86::machine::{Machine, MachineConfig};

/// A real-mode machine without the JIT, every segment at 0.
fn machine() -> Machine {
    let mut m = Machine::new(&MachineConfig {
        ram_size: 1 << 20,
        ..MachineConfig::default()
    })
    .expect("a machine");
    m.cpu.set_jit_enabled(false);
    for s in SegReg::ALL {
        m.cpu.load_segment_real(s, 0);
    }
    m.cpu.set_gpr(Gpr::Esp, 0x7000);
    m
}

/// Runs until HLT, the `ahead` instructions ahead of CS:IP put in the
/// decoded-instruction cache before every run of traces, so that code
/// written over is always in a trace when the write happens; returns how
/// many instructions ran inside traces.
fn run_primed(m: &mut Machine, ahead: usize) -> u64 {
    let mut traced = 0;
    for _ in 0..1000 {
        if m.cpu.is_halted() || m.cpu.is_shutdown() {
            return traced;
        }
        m.cpu.prime_icache_ahead(&mut m.board, ahead);
        let (n, _) = m.cpu.run_cached(&mut m.board, 64);
        traced += n;
        if n == 0 {
            m.cpu.step(&mut m.board);
        }
    }
    panic!("no HLT after 1000 runs");
}

#[test]
fn an_instruction_written_over_by_its_own_trace_runs_as_written() {
    let mut m = machine();
    // At 0x1000:
    //   mov cx, 3
    // again:
    //   mov [patch + 1], cl   ; the immediate of the next instruction
    // patch:
    //   mov al, 0
    //   add bl, al
    //   dec cx
    //   jnz again
    //   hlt
    let code = [
        0xB9, 0x03, 0x00, // mov cx, 3
        0x88, 0x0E, 0x08, 0x10, // mov [0x1008], cl
        0xB0, 0x00, // mov al, 0 (at 0x1007)
        0x00, 0xC3, // add bl, al
        0x49, // dec cx
        0x75, 0xF5, // jnz 0x1003
        0xF4, // hlt
    ];
    m.board.mem.write_bytes(0x1000, &code).unwrap();
    m.cpu.set_eip(0x1000);
    m.cpu.set_gpr(Gpr::Ebx, 0);
    let traced = run_primed(&mut m, 32);
    assert!(traced > 5, "only {traced} instructions ran in traces");
    // 3 + 2 + 1: each pass adds the value its own write put in.
    assert_eq!(m.cpu.gpr(Gpr::Ebx) & 0xFF, 6);
}

#[test]
fn sixteen_bit_ip_wraps_inside_a_page_that_goes_on() {
    let mut m = machine();
    // CS 0x1080 (base 0x10800, not page-aligned), so IP 0xFFFF is
    // physical 0x207FF and the byte after it in memory, 0x20800, lies on
    // the same page; IP wraps to 0 (physical 0x10800) instead.
    m.board
        .mem
        .write_bytes(0x207FC, &[0x40, 0x40, 0x40, 0x40])
        .unwrap(); // inc ax x4
    m.board.mem.write_bytes(0x20800, &[0x43, 0xF4]).unwrap(); // inc bx; hlt
    m.board.mem.write_bytes(0x10800, &[0x41, 0xF4]).unwrap(); // inc cx; hlt
                                                              // First run the code at 0x20800 as CS 0x2080, IP 0, so that it is
                                                              // cached and a trace from 0x207FC could run on into it.
    m.cpu.load_segment_real(SegReg::Cs, 0x2080);
    m.cpu.set_eip(0);
    run_primed(&mut m, 2);
    assert_eq!(m.cpu.gpr(Gpr::Ebx) & 0xFFFF, 1);
    m.cpu.load_segment_real(SegReg::Cs, 0x1080);
    m.cpu.set_eip(0xFFFC);
    m.cpu.set_halted(false);
    // Four ahead: the four INCs, not IP 0's code, whose physical address
    // shares its cache slot with 0x20800 (0x10000 apart).
    run_primed(&mut m, 4);
    assert_eq!(m.cpu.gpr(Gpr::Eax) & 0xFFFF, 4);
    assert_eq!(m.cpu.gpr(Gpr::Ebx) & 0xFFFF, 1, "ran on past IP 0xFFFF");
    assert_eq!(m.cpu.gpr(Gpr::Ecx) & 0xFFFF, 1, "did not wrap to IP 0");
}

#[test]
fn a_misaligned_load_at_cpl_3_with_alignment_checks_on_faults_inside_a_trace() {
    let mut m = machine();
    // Protected mode with CR0.AM and EFLAGS.AC, flat ring-3 segments, no
    // IDT: the #AC cannot be delivered and ends in a shutdown, before the
    // instruction after the load.
    m.cpu.set_cr0(1 | 1 << 18);
    m.cpu.set_segment(SegReg::Cs, Segment::flat(0x1B, 0xFA));
    for s in [SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs] {
        m.cpu.set_segment(s, Segment::flat(0x23, 0xF2));
    }
    m.cpu.set_eflags(1 << 18);
    let code = [
        0xB8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1
        0x8B, 0x03, // mov eax, [ebx]
        0xB9, 0x02, 0x00, 0x00, 0x00, // mov ecx, 2
        0xF4, // hlt
    ];
    m.board.mem.write_bytes(0x1000, &code).unwrap();
    m.cpu.set_eip(0x1000);
    m.cpu.set_gpr(Gpr::Ebx, 0x2001);
    m.cpu.set_gpr(Gpr::Ecx, 0);
    let traced = run_primed(&mut m, 8);
    assert!(traced >= 1, "the load did not run in a trace");
    assert!(m.cpu.is_shutdown());
    assert_eq!(m.cpu.gpr(Gpr::Eax), 1, "the misaligned load completed");
    assert_eq!(m.cpu.gpr(Gpr::Ecx), 0, "ran past the misaligned load");
}
