//! The host CPU as an oracle: ALU, shift, rotate, multiply and bit-scan
//! instructions at 8, 16 and 32 bits run with the same inputs on the host
//! (inline assembly) and in moon86's interpreter (real mode, one `step`), and
//! the results and every flag the 80386 defines for that instruction must
//! agree. Flags an instruction leaves undefined are masked; inputs whose
//! result is undefined (SHLD/SHRD 16-bit counts over 16) are not generated.
#![cfg(target_arch = "x86_64")]

use moon86::cpu::{Cpu, Gpr, SegReg, StepOutcome};
use std::arch::asm;

const CF: u32 = 1;
const PF: u32 = 1 << 2;
const AF: u32 = 1 << 4;
const ZF: u32 = 1 << 6;
const SF: u32 = 1 << 7;
const OF: u32 = 1 << 11;
const ARITH: u32 = CF | PF | AF | ZF | SF | OF;

#[derive(Clone, Copy, Debug, PartialEq)]
enum W {
    B,
    H,
    D,
}

impl W {
    fn mask(self) -> u32 {
        match self {
            W::B => 0xFF,
            W::H => 0xFFFF,
            W::D => 0xFFFF_FFFF,
        }
    }
    fn bits(self) -> u32 {
        match self {
            W::B => 8,
            W::H => 16,
            W::D => 32,
        }
    }
}

// ---- the host side ---------------------------------------------------------

/// Runs `$insn a, b` at 16 or 32 bits on the host with the arithmetic flags
/// set to `f` first; returns (a, flags). BSF, BSR, BT and IMUL r,r/m have no
/// 8-bit form, so they use this directly.
macro_rules! host2w {
    ($insn:literal, $w:expr, $a:expr, $b:expr, $f:expr) => {{
        let mut a = $a as u64;
        let b = $b as u64;
        let mut f = ($f & ARITH) as u64 | 2;
        // SAFETY: the block only touches the named registers and its own
        // push/pop pair (no `nostack`), and loads RFLAGS from a value with only
        // arithmetic flags and bit 1 set.
        unsafe {
            match $w {
                W::H => asm!("push {f}", "popfq", concat!($insn, " {a:x}, {b:x}"), "pushfq", "pop {f}",
                    a = inout(reg) a, b = in(reg) b, f = inout(reg) f),
                _ => asm!("push {f}", "popfq", concat!($insn, " {a:e}, {b:e}"), "pushfq", "pop {f}",
                    a = inout(reg) a, b = in(reg) b, f = inout(reg) f),
            }
        }
        (a as u32 & $w.mask(), f as u32)
    }};
}

/// `host2w!` plus the 8-bit form.
macro_rules! host2 {
    ($insn:literal, $w:expr, $a:expr, $b:expr, $f:expr) => {{
        if $w == W::B {
            let mut a = $a as u64;
            let b = $b as u64;
            let mut f = ($f & ARITH) as u64 | 2;
            // SAFETY: as in host2w!.
            unsafe {
                asm!("push {f}", "popfq", concat!($insn, " {a:l}, {b:l}"), "pushfq", "pop {f}",
                    a = inout(reg_abcd) a, b = in(reg_abcd) b, f = inout(reg) f)
            }
            (a as u32 & 0xFF, f as u32)
        } else {
            host2w!($insn, $w, $a, $b, $f)
        }
    }};
}

/// Runs `$insn a, cl` (shifts and rotates) on the host.
macro_rules! host_shift {
    ($insn:literal, $w:expr, $a:expr, $count:expr, $f:expr) => {{
        let mut a = $a as u64;
        let c = $count as u8;
        let mut f = ($f & ARITH) as u64 | 2;
        // SAFETY: as in host2w!; CL is an input only.
        unsafe {
            match $w {
                W::B => asm!("push {f}", "popfq", concat!($insn, " {a:l}, cl"), "pushfq", "pop {f}",
                    a = inout(reg_abcd) a, in("cl") c, f = inout(reg) f),
                W::H => asm!("push {f}", "popfq", concat!($insn, " {a:x}, cl"), "pushfq", "pop {f}",
                    a = inout(reg) a, in("cl") c, f = inout(reg) f),
                W::D => asm!("push {f}", "popfq", concat!($insn, " {a:e}, cl"), "pushfq", "pop {f}",
                    a = inout(reg) a, in("cl") c, f = inout(reg) f),
            }
        }
        (a as u32 & $w.mask(), f as u32)
    }};
}

/// Runs `$insn a` (one operand: inc, dec, neg, not) on the host.
macro_rules! host1 {
    ($insn:literal, $w:expr, $a:expr, $f:expr) => {{
        let mut a = $a as u64;
        let mut f = ($f & ARITH) as u64 | 2;
        // SAFETY: as in host2w!.
        unsafe {
            match $w {
                W::B => asm!("push {f}", "popfq", concat!($insn, " {a:l}"), "pushfq", "pop {f}",
                    a = inout(reg_abcd) a, f = inout(reg) f),
                W::H => asm!("push {f}", "popfq", concat!($insn, " {a:x}"), "pushfq", "pop {f}",
                    a = inout(reg) a, f = inout(reg) f),
                W::D => asm!("push {f}", "popfq", concat!($insn, " {a:e}"), "pushfq", "pop {f}",
                    a = inout(reg) a, f = inout(reg) f),
            }
        }
        (a as u32 & $w.mask(), f as u32)
    }};
}

/// SHLD/SHRD `a, b, cl` on the host (16 and 32 bits).
macro_rules! host_double {
    ($insn:literal, $w:expr, $a:expr, $b:expr, $count:expr, $f:expr) => {{
        let mut a = $a as u64;
        let b = $b as u64;
        let c = $count as u8;
        let mut f = ($f & ARITH) as u64 | 2;
        // SAFETY: as in host2w!.
        unsafe {
            match $w {
                W::H => asm!("push {f}", "popfq", concat!($insn, " {a:x}, {b:x}, cl"), "pushfq", "pop {f}",
                    a = inout(reg) a, b = in(reg) b, in("cl") c, f = inout(reg) f),
                _ => asm!("push {f}", "popfq", concat!($insn, " {a:e}, {b:e}, cl"), "pushfq", "pop {f}",
                    a = inout(reg) a, b = in(reg) b, in("cl") c, f = inout(reg) f),
            }
        }
        (a as u32 & $w.mask(), f as u32)
    }};
}

// ---- moon86's side ---------------------------------------------------------

use moon86::cpu::FlatRam as Ram;

/// Executes `code` once in real mode with EAX = a, ECX = b, EDX = d and the
/// arithmetic flags `f`; returns (EAX, ECX, EDX, EFLAGS).
fn emulate(code: &[u8], a: u32, b: u32, d: u32, f: u32) -> (u32, u32, u32, u32) {
    let mut ram = Ram(vec![0; 0x2_0000]);
    ram.0[0x1000..0x1000 + code.len()].copy_from_slice(code);
    let mut cpu = Cpu::new();
    cpu.load_segment_real(SegReg::Cs, 0x100);
    cpu.set_eip(0);
    cpu.set_gpr(Gpr::Eax, a);
    cpu.set_gpr(Gpr::Ecx, b);
    cpu.set_gpr(Gpr::Edx, d);
    cpu.set_gpr(Gpr::Esp, 0x8000);
    cpu.set_eflags((f & ARITH) | 2);
    let out = cpu.step(&mut ram);
    assert_eq!(out, StepOutcome::Executed, "{code:02x?} did not execute");
    assert_eq!(
        cpu.eip() as usize,
        code.len(),
        "{code:02x?}: EIP after one instruction"
    );
    (
        cpu.gpr(Gpr::Eax),
        cpu.gpr(Gpr::Ecx),
        cpu.gpr(Gpr::Edx),
        cpu.eflags(),
    )
}

/// Encodes an instruction for width `w`: the 8-bit opcode or the 16/32 one,
/// with a 66 prefix for 32 bits (real mode defaults to 16).
fn enc(w: W, op8: &[u8], op: &[u8]) -> Vec<u8> {
    match w {
        W::B => op8.to_vec(),
        W::H => op.to_vec(),
        W::D => [&[0x66], op].concat(),
    }
}

// ---- inputs ------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
}

const EDGES: [u32; 12] = [
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
];

/// (a, b, flags-in) triples: every pair of edge values, then random ones.
fn inputs(w: W, n: usize) -> Vec<(u32, u32, u32)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut v = Vec::new();
    for &a in &EDGES {
        for &b in &EDGES {
            v.push((a & w.mask(), b & w.mask(), 0));
            v.push((a & w.mask(), b & w.mask(), ARITH));
        }
    }
    for _ in 0..n {
        let f = rng.next() & ARITH;
        v.push((rng.next() & w.mask(), rng.next() & w.mask(), f));
    }
    v
}

fn check(what: &str, w: W, input: (u32, u32, u32), host: (u32, u32), emu: (u32, u32), mask: u32) {
    let (a, b, f) = input;
    assert!(
        host.0 == emu.0 && host.1 & mask == emu.1 & mask,
        "{what} {w:?} a={a:#x} b={b:#x} flags-in={f:#x}: host result {:#x} flags {:#x}, moon86 result {:#x} flags {:#x} (compared flags {mask:#x})",
        host.0,
        host.1 & mask,
        emu.0,
        emu.1 & mask
    );
}

const WIDTHS: [W; 3] = [W::B, W::H, W::D];

#[test]
fn alu_two_operand() {
    // op r/m, reg with ModRM C8: the destination is (E)AX/AL, the source (E)CX/CL.
    for w in WIDTHS {
        for input in inputs(w, 3000) {
            let (a, b, f) = input;
            macro_rules! case {
                ($insn:literal, $op8:expr, $mask:expr) => {{
                    let host = host2!($insn, w, a, b, f);
                    let code = enc(w, &[$op8, 0xC8], &[$op8 + 1, 0xC8]);
                    let (ea, _, _, ef) = emulate(&code, a, b, 0, f);
                    check($insn, w, input, host, (ea & w.mask(), ef), $mask);
                }};
            }
            case!("add", 0x00, ARITH);
            case!("or", 0x08, ARITH & !AF);
            case!("adc", 0x10, ARITH);
            case!("sbb", 0x18, ARITH);
            case!("and", 0x20, ARITH & !AF);
            case!("sub", 0x28, ARITH);
            case!("xor", 0x30, ARITH & !AF);
            case!("cmp", 0x38, ARITH);
            case!("test", 0x84, ARITH & !AF);
        }
    }
}

#[test]
fn alu_one_operand() {
    for w in WIDTHS {
        for input in inputs(w, 3000) {
            let (a, _, f) = input;
            macro_rules! case {
                ($insn:literal, $op8:expr, $op:expr, $modrm:expr, $mask:expr) => {{
                    let host = host1!($insn, w, a, f);
                    let code = enc(w, &[$op8, $modrm], &[$op, $modrm]);
                    let (ea, _, _, ef) = emulate(&code, a, 0, 0, f);
                    check($insn, w, input, host, (ea & w.mask(), ef), $mask);
                }};
            }
            case!("inc", 0xFE, 0xFF, 0xC0, ARITH);
            case!("dec", 0xFE, 0xFF, 0xC8, ARITH);
            case!("neg", 0xF6, 0xF7, 0xD8, ARITH);
            case!("not", 0xF6, 0xF7, 0xD0, ARITH);
        }
    }
}

#[test]
fn shifts_and_rotates() {
    for w in WIDTHS {
        for input in inputs(w, 1500) {
            let (a, _, f) = input;
            for count in [0u32, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33] {
                let masked = count & 31;
                // CF is defined for a non-zero count, except for SHL/SHR by at
                // least the operand width, where 386-class and later parts differ.
                macro_rules! case {
                    ($insn:literal, $reg:expr, $result_flags:expr) => {{
                        let host = host_shift!($insn, w, a, count, f);
                        let modrm = 0xC0 | ($reg << 3);
                        let code = enc(w, &[0xD2, modrm], &[0xD3, modrm]);
                        let (ea, _, _, ef) = emulate(&code, a, count, 0, f);
                        let mut mask = if masked == 0 {
                            ARITH
                        } else {
                            CF | $result_flags
                        };
                        if masked > 1 {
                            mask &= !OF;
                        }
                        let plain_shift = $reg >= 4;
                        if plain_shift && masked >= w.bits() {
                            mask &= !(CF | OF);
                        }
                        check(
                            concat!($insn, " by cl"),
                            w,
                            (a, count, f),
                            host,
                            (ea & w.mask(), ef),
                            mask,
                        );
                    }};
                }
                case!("rol", 0u8, OF);
                case!("ror", 1u8, OF);
                case!("rcl", 2u8, OF);
                case!("rcr", 3u8, OF);
                case!("shl", 4u8, OF | SF | ZF | PF);
                case!("shr", 5u8, OF | SF | ZF | PF);
                case!("sar", 7u8, OF | SF | ZF | PF);
            }
        }
    }
}

#[test]
fn double_shifts() {
    for w in [W::H, W::D] {
        for input in inputs(w, 1500) {
            let (a, b, f) = input;
            for count in [0u32, 1, 2, 5, 8, 15, 16, 31, 32] {
                let masked = count & 31;
                if masked > w.bits() {
                    continue; // the result is undefined
                }
                let mut mask = if masked == 0 {
                    ARITH
                } else {
                    CF | OF | SF | ZF | PF
                };
                if masked > 1 {
                    mask &= !OF;
                }
                if masked == w.bits() {
                    mask &= !(CF | OF);
                }
                // CL holds the count and is also the low byte of the source
                // register (ECX): give both sides the same ECX.
                let b = (b & !0xFF) | count;
                let host = host_double!("shld", w, a, b, count, f);
                let code = enc(w, &[], &[0x0F, 0xA5, 0xC8]);
                let (ea, _, _, ef) = emulate(&code, a, b, 0, f);
                check("shld", w, (a, b, f), host, (ea & w.mask(), ef), mask);
                let host = host_double!("shrd", w, a, b, count, f);
                let code = enc(w, &[], &[0x0F, 0xAD, 0xC8]);
                let (ea, _, _, ef) = emulate(&code, a, b, 0, f);
                check("shrd", w, (a, b, f), host, (ea & w.mask(), ef), mask);
            }
        }
    }
}

#[test]
fn multiply() {
    for w in [W::H, W::D] {
        for input in inputs(w, 3000) {
            let (a, b, f) = input;
            // MUL/IMUL (E)CX: (E)DX:(E)AX = (E)AX * (E)CX; CF and OF defined.
            for (insn, reg) in [("mul", 4u8), ("imul", 5u8)] {
                let (mut ha, mut hd) = (a as u64, 0u64);
                let mut hf = (f & ARITH) as u64 | 2;
                let hb = b as u64;
                // SAFETY: uses only the named registers and its own push/pop pair.
                unsafe {
                    match (w, insn) {
                        (W::H, "mul") => {
                            asm!("push {f}", "popfq", "mul {b:x}", "pushfq", "pop {f}",
                            inout("rax") ha, out("rdx") hd, b = in(reg) hb, f = inout(reg) hf)
                        }
                        (W::H, _) => asm!("push {f}", "popfq", "imul {b:x}", "pushfq", "pop {f}",
                            inout("rax") ha, out("rdx") hd, b = in(reg) hb, f = inout(reg) hf),
                        (_, "mul") => asm!("push {f}", "popfq", "mul {b:e}", "pushfq", "pop {f}",
                            inout("rax") ha, out("rdx") hd, b = in(reg) hb, f = inout(reg) hf),
                        _ => asm!("push {f}", "popfq", "imul {b:e}", "pushfq", "pop {f}",
                            inout("rax") ha, out("rdx") hd, b = in(reg) hb, f = inout(reg) hf),
                    }
                }
                let modrm = 0xC1 | (reg << 3);
                let code = enc(w, &[], &[0xF7, modrm]);
                let (ea, _, ed, ef) = emulate(&code, a, b, 0, f);
                let host_pair =
                    ((hd as u32 & w.mask()) as u64) << 32 | (ha as u32 & w.mask()) as u64;
                let emu_pair = ((ed & w.mask()) as u64) << 32 | (ea & w.mask()) as u64;
                assert!(
                    host_pair == emu_pair && (hf as u32) & (CF | OF) == ef & (CF | OF),
                    "{insn} {w:?} a={a:#x} b={b:#x}: host dx:ax {host_pair:#x} flags {:#x}, moon86 {emu_pair:#x} flags {:#x}",
                    hf as u32 & (CF | OF),
                    ef & (CF | OF)
                );
            }
            // IMUL r, r/m (0F AF): the low half, CF and OF.
            let host = host2w!("imul", w, a, b, f);
            let code = enc(w, &[], &[0x0F, 0xAF, 0xC1]);
            let (ea, _, _, ef) = emulate(&code, a, b, 0, f);
            check("imul r,r/m", w, input, host, (ea & w.mask(), ef), CF | OF);
        }
    }
}

#[test]
fn bit_scan_and_test() {
    for w in [W::H, W::D] {
        for input in inputs(w, 3000) {
            let (a, b, f) = input;
            // BSF/BSR EAX, ECX: ZF defined; the destination is left alone for a zero source.
            for (insn, op) in [("bsf", 0xBCu8), ("bsr", 0xBD)] {
                let host = if insn == "bsf" {
                    host2w!("bsf", w, a, b, f)
                } else {
                    host2w!("bsr", w, a, b, f)
                };
                let code = enc(w, &[], &[0x0F, op, 0xC1]);
                let (ea, _, _, ef) = emulate(&code, a, b, 0, f);
                check(insn, w, input, host, (ea & w.mask(), ef), ZF);
            }
            // BT EAX, ECX: CF is the bit (the offset taken modulo the width).
            let host = host2w!("bt", w, a, b, f);
            let code = enc(w, &[], &[0x0F, 0xA3, 0xC8]);
            let (ea, _, _, ef) = emulate(&code, a, b, 0, f);
            check("bt", w, input, host, (ea & w.mask(), ef), CF);
        }
    }
}
