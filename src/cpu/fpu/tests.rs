//! Unit tests of the arithmetic core (rounding in each mode and precision,
//! special values, exception flags and masked/unmasked responses) and
//! instruction-level tests through `Cpu::step` (memory forms, FSTENV and
//! FSAVE layouts in real mode, #MF versus FERR#/IGNNE#, #NM).

use super::arith::*;
use super::convert;
use super::float80::F80;
use super::round::*;
use crate::cpu::{Cpu, Model, SegReg, StepOutcome};

fn f(v: f64) -> F80 {
    F80::from_f64(v)
}

/// A control word: all masked, precision `pc` (0, 2, 3), rounding `rc`.
fn cw(pc: u16, rc: u16) -> u16 {
    0x007F | pc << 8 | rc << 10
}

#[test]
fn add_rounds_in_every_mode_and_precision() {
    // 1 + 2^-30 + 2^-60: exact at 64 bits, inexact at 53 and 24.
    let x = F80::new(false, 0x3FFF, (1 << 63) | (1 << 33) | (1 << 3));
    let one = F80::ONE;
    let cases = [
        // (pc, rc, expected significand, PE, C1)
        (3, 0, (1u64 << 63) | (1 << 33) | (1 << 3), false, false),
        (2, 0, (1u64 << 63) | (1 << 33), true, false),
        (2, 2, (1u64 << 63) | (1 << 33) | (1 << 11), true, true),
        (2, 3, (1u64 << 63) | (1 << 33), true, false),
        (0, 0, 1u64 << 63, true, false),
        (0, 2, (1u64 << 63) | (1 << 40), true, true),
        (0, 1, 1u64 << 63, true, false),
    ];
    for (pc, rc, sig, pe, c1) in cases {
        let mut c = Ctx::new(cw(pc, rc));
        let r = arith(&mut c, Op::Add, x, F80::ZERO).unwrap();
        assert_eq!(r, F80::new(false, 0x3FFF, sig), "pc={pc} rc={rc}");
        assert_eq!(c.flags & PE != 0, pe, "pc={pc} rc={rc}");
        assert_eq!(c.c1, c1, "pc={pc} rc={rc}");
    }
    // Negative values: "up" rounds toward zero in magnitude.
    let mut c = Ctx::new(cw(0, 2));
    let r = arith(&mut c, Op::Sub, F80::ZERO, x).unwrap();
    assert_eq!(r, F80::new(true, 0x3FFF, 1 << 63));
    assert!(!c.c1);
    // Ties go to even at 24 bits.
    let tie = F80::new(false, 0x3FFF, (1 << 63) | (1 << 39));
    let mut c = Ctx::new(cw(0, 0));
    assert_eq!(arith(&mut c, Op::Mul, tie, one), Some(F80::ONE));
}

#[test]
fn basic_operations_on_ordinary_values() {
    let mut c = Ctx::new(0x037F);
    assert_eq!(arith(&mut c, Op::Add, f(1.5), f(2.25)), Some(f(3.75)));
    assert_eq!(arith(&mut c, Op::Sub, f(1.5), f(2.25)), Some(f(-0.75)));
    assert_eq!(arith(&mut c, Op::Mul, f(1.5), f(-2.0)), Some(f(-3.0)));
    assert_eq!(arith(&mut c, Op::Div, f(3.0), f(2.0)), Some(f(1.5)));
    assert_eq!(sqrt(&mut c, f(2.25)), Some(f(1.5)));
    assert_eq!(c.flags, 0);
    assert_eq!(rndint(&mut c, f(2.5)), Some(f(2.0)));
    assert_eq!(c.flags, PE);
    assert_eq!(scale(&mut c, f(3.0), f(-2.7)), Some(f(0.75)));
    assert_eq!(xtract(&mut c, f(12.0)), Some((f(3.0), f(1.5))));
    let r = prem(&mut c, f(7.0), f(2.0), false).unwrap();
    assert_eq!((r.value, r.q, r.incomplete), (f(1.0), 3, false));
    let r = prem(&mut c, f(7.0), f(2.0), true).unwrap();
    assert_eq!((r.value, r.q), (f(-1.0), 4));
    assert_eq!(compare(&mut c, f(1.0), f(2.0), false), Cmp::Less);
    assert_eq!(compare(&mut c, f(0.0), f(-0.0), false), Cmp::Equal);
}

#[test]
fn special_values_and_invalid_operations() {
    let mut c = Ctx::new(0x037F);
    let inf = F80::INF;
    assert_eq!(arith(&mut c, Op::Sub, inf, inf), Some(F80::INDEFINITE));
    assert_eq!(c.flags, IE);
    let mut c = Ctx::new(0x037F);
    assert_eq!(
        arith(&mut c, Op::Mul, inf, F80::ZERO),
        Some(F80::INDEFINITE)
    );
    assert_eq!(sqrt(&mut c, f(-1.0)), Some(F80::INDEFINITE));
    // Divide by zero: ZE and a signed infinity.
    let mut c = Ctx::new(0x037F);
    assert_eq!(arith(&mut c, Op::Div, f(-1.0), F80::ZERO), Some(inf.neg()));
    assert_eq!(c.flags, ZE);
    // Unmasked ZE: no result.
    let mut c = Ctx::new(0x037F & !(ZE as u16));
    assert_eq!(arith(&mut c, Op::Div, f(1.0), F80::ZERO), None);
    // SNaN + QNaN: IE, and the QNaN wins.
    let snan = F80::new(false, 0x7FFF, (1 << 63) | 5);
    let qnan = F80::new(true, 0x7FFF, (3 << 62) | 7);
    let mut c = Ctx::new(0x037F);
    assert_eq!(arith(&mut c, Op::Add, snan, qnan), Some(qnan));
    assert_eq!(c.flags, IE);
    // SNaN alone comes back quiet.
    let mut c = Ctx::new(0x037F);
    assert_eq!(arith(&mut c, Op::Add, snan, f(1.0)), Some(snan.quiet()));
    // Unnormals are unsupported: IE.
    let unnormal = F80::new(false, 0x3FFF, 1 << 62);
    let mut c = Ctx::new(0x037F);
    assert_eq!(
        arith(&mut c, Op::Add, unnormal, f(1.0)),
        Some(F80::INDEFINITE)
    );
    assert_eq!(c.flags, IE);
    // x - x is -0 only when rounding down.
    let mut c = Ctx::new(cw(3, 1));
    assert_eq!(
        arith(&mut c, Op::Sub, f(2.0), f(2.0)),
        Some(F80::zero(true))
    );
}

#[test]
fn overflow_and_underflow_masked_and_unmasked() {
    let max = F80::new(false, 0x7FFE, u64::MAX);
    let two = f(2.0);
    for (rc, want) in [(0, F80::INF), (3, max), (2, F80::INF), (1, max)] {
        let mut c = Ctx::new(cw(3, rc));
        assert_eq!(arith(&mut c, Op::Mul, max, two), Some(want), "rc={rc}");
        assert_eq!(c.flags, OE | PE);
    }
    // Unmasked overflow: the exponent wraps by 24576.
    let mut c = Ctx::new(0x037F & !(OE as u16));
    let r = arith(&mut c, Op::Mul, max, two).unwrap();
    assert_eq!(r, F80::new(false, (0x7FFF - 24576) as u16, u64::MAX));
    assert_eq!(c.flags, OE);
    // Masked underflow: a denormal, UE + PE when inexact.
    let tiny = F80::new(false, 1, (1 << 63) | 3);
    let mut c = Ctx::new(0x037F);
    let r = arith(&mut c, Op::Div, tiny, two).unwrap();
    assert_eq!(r, F80::new(false, 0, (1 << 62) | 2), "a tie, to even");
    assert_eq!(c.flags, UE | PE);
    // Exact tiny results raise nothing when masked...
    let mut c = Ctx::new(0x037F);
    let r = arith(&mut c, Op::Div, F80::new(false, 1, 1 << 63), two).unwrap();
    assert_eq!(r, F80::new(false, 0, 1 << 62));
    assert_eq!(c.flags, 0);
    // ...but UE when unmasked, with the exponent biased up.
    let mut c = Ctx::new(0x037F & !(UE as u16));
    let r = arith(&mut c, Op::Div, F80::new(false, 1, 1 << 63), two).unwrap();
    assert_eq!(r, F80::new(false, 24576, 1 << 63));
    assert_eq!(c.flags, UE);
}

#[test]
fn conversions() {
    let mut c = Ctx::new(0x037F);
    assert_eq!(convert::to_int(&mut c, f(-2.5), 16), Some(0xFFFE));
    assert_eq!(c.flags, PE);
    let mut c = Ctx::new(0x037F);
    assert_eq!(convert::to_int(&mut c, f(40000.0), 16), Some(0x8000));
    assert_eq!(c.flags, IE);
    let mut c = Ctx::new(0x037F);
    assert_eq!(convert::to_int(&mut c, f(-32768.0), 16), Some(0x8000));
    assert_eq!(c.flags, 0);
    let mut c = Ctx::new(0x037F);
    let b = convert::to_bcd(&mut c, f(-1234567.0)).unwrap();
    assert_eq!(b, [0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0, 0x80]);
    assert_eq!(convert::from_bcd(b), f(-1234567.0));
    assert_eq!(
        convert::to_bcd(&mut c, f(1e18)),
        Some(convert::BCD_INDEFINITE)
    );
    let mut c = Ctx::new(0x037F);
    let x = convert::to_float_checked(&mut c, f(1.0 / 3.0), &F32).unwrap();
    assert_eq!(x as u32, (1.0f32 / 3.0).to_bits());
    assert_eq!(f(0.1).to_f64(), 0.1);
    assert_eq!(F80::new(false, 0, 1).to_f64(), 0.0);
}

// ---- instruction level --------------------------------------------------

use crate::cpu::FlatRam as Mem;

/// A real-mode machine with `code` at 0000:0500, vector 16 -> 0000:0700,
/// vector 7 -> 0000:0800, stack at 0000:0F00.
fn machine(code: &[u8]) -> (Cpu, Mem) {
    let mut m = Mem(vec![0; 0x3000]);
    m.0[0x500..0x500 + code.len()].copy_from_slice(code);
    m.0[16 * 4..16 * 4 + 4].copy_from_slice(&[0x00, 0x07, 0, 0]);
    m.0[7 * 4..7 * 4 + 4].copy_from_slice(&[0x00, 0x08, 0, 0]);
    let mut cpu = Cpu::new();
    for s in [SegReg::Cs, SegReg::Ds, SegReg::Ss, SegReg::Es] {
        cpu.load_segment_real(s, 0);
    }
    cpu.set_eip(0x500);
    cpu.set_gpr(crate::cpu::Gpr::Esp, 0xF00);
    (cpu, m)
}

fn steps(cpu: &mut Cpu, m: &mut Mem, n: usize) {
    for _ in 0..n {
        assert_eq!(cpu.step(m), StepOutcome::Executed, "at {:x}", cpu.eip());
    }
}

#[test]
fn memory_forms_load_compute_and_store() {
    #[rustfmt::skip]
    let code = [
        0xDB, 0xE3,                   // fninit
        0xD9, 0x06, 0x00, 0x10,       // fld dword [0x1000]   (1.5f)
        0xDC, 0x06, 0x08, 0x10,       // fadd qword [0x1008]  (2.25)
        0xDE, 0x0E, 0x10, 0x10,       // fimul word [0x1010]  (-4)
        0xDD, 0x16, 0x20, 0x10,       // fst qword [0x1020]
        0xDB, 0x3E, 0x30, 0x10,       // fstp tbyte [0x1030]
        0xDF, 0x2E, 0x40, 0x10,       // fild qword [0x1040]
        0xDF, 0x36, 0x50, 0x10,       // fbstp [0x1050]
        0xDF, 0x26, 0x50, 0x10,       // fbld [0x1050]
        0xDB, 0x1E, 0x60, 0x10,       // fistp dword [0x1060]
        0xDF, 0xE0,                   // fnstsw ax
    ];
    let (mut cpu, mut m) = machine(&code);
    m.0[0x1000..0x1004].copy_from_slice(&1.5f32.to_bits().to_le_bytes());
    m.0[0x1008..0x1010].copy_from_slice(&2.25f64.to_bits().to_le_bytes());
    m.0[0x1010..0x1012].copy_from_slice(&(-4i16).to_le_bytes());
    m.0[0x1040..0x1048].copy_from_slice(&(-987_654_321_012i64).to_le_bytes());
    steps(&mut cpu, &mut m, 11);
    assert_eq!(&m.0[0x1020..0x1028], &(-15.0f64).to_bits().to_le_bytes());
    assert_eq!(&m.0[0x1030..0x103A], &f(-15.0).to_bytes());
    assert_eq!(
        &m.0[0x1050..0x105A],
        &[0x12, 0x10, 0x32, 0x54, 0x76, 0x98, 0, 0, 0, 0x80]
    );
    // -987654321012 does not fit in 32 bits: integer indefinite, IE.
    assert_eq!(&m.0[0x1060..0x1064], &[0, 0, 0, 0x80]);
    assert_eq!(cpu.gpr(crate::cpu::Gpr::Eax) & 0xFFFF, 0x0001);
    assert!(cpu.fpu().is_empty(0));
    assert_eq!(cpu.fpu().tag_word(), 0xFFFF);
}

#[test]
fn fstenv_and_fsave_real_mode_layouts() {
    #[rustfmt::skip]
    let code = [
        0xDB, 0xE3,                   // 0500 fninit
        0xD9, 0xE8,                   // 0502 fld1
        0xD9, 0xEE,                   // 0504 fldz
        0xD9, 0x06, 0x00, 0x10,       // 0506 fld dword [0x1000]
        0xD9, 0x36, 0x00, 0x12,       // 050a fnstenv [0x1200] (16-bit)
        0x66, 0xDD, 0x36, 0x00, 0x13, // 050e fnsave [0x1300] (32-bit)
        0x66, 0xDD, 0x26, 0x00, 0x13, // 0513 frstor [0x1300]
    ];
    let (mut cpu, mut m) = machine(&code);
    m.0[0x1000..0x1004].copy_from_slice(&0x7F80_0001u32.to_le_bytes()); // SNaN
    cpu.load_segment_real(SegReg::Cs, 0x0010);
    cpu.set_eip(0x400); // linear 0x500
    steps(&mut cpu, &mut m, 5);
    let w = |m: &Mem, a: usize| u16::from_le_bytes([m.0[a], m.0[a + 1]]);
    assert_eq!(w(&m, 0x1200), 0x037F, "CW");
    assert_eq!(w(&m, 0x1202), 0x2801, "SW: TOP=5, IE (the SNaN)");
    // R5 = QNaN (special), R6 = 0 (zero), R7 = 1 (valid), the rest empty.
    assert_eq!(w(&m, 0x1204), 0x1BFF, "TW");
    assert_eq!(w(&m, 0x1206), 0x0506, "FIP 15-0 (linear)");
    assert_eq!(
        w(&m, 0x1208),
        0x0106,
        "FIP 19-16 and opcode D9 /0 mod 0 rm 6"
    );
    assert_eq!(w(&m, 0x120A), 0x1000, "FDP 15-0 (linear)");
    assert_eq!(w(&m, 0x120C), 0x0000, "FDP 19-16");
    // FNSAVE: 28-byte environment then ST(0)..ST(7); then FNINIT state.
    steps(&mut cpu, &mut m, 1);
    assert_eq!(w(&m, 0x1300), 0x037F);
    assert_eq!(w(&m, 0x1302), 0xFFFF, "reserved half of the CW dword");
    let st0 = F80::from_bytes(m.0[0x131C..0x1326].try_into().unwrap());
    let st2 = F80::from_bytes(m.0[0x1330..0x133A].try_into().unwrap());
    assert!(st0.is_nan());
    assert_eq!(st2, F80::ONE);
    assert_eq!(cpu.fpu().control_word(), 0x037F);
    assert_eq!(cpu.fpu().tag_word(), 0xFFFF);
    // FRSTOR brings it all back.
    steps(&mut cpu, &mut m, 1);
    assert_eq!(cpu.fpu().status_word(), 0x2801);
    assert_eq!(cpu.fpu().st(2), F80::ONE);
    assert_eq!(cpu.fpu().st(1), F80::ZERO);
    assert!(!cpu.fpu().is_empty(0) && cpu.fpu().is_empty(3));
}

/// Unmask ZE, divide by zero, then run a waiting instruction.
const ZE_CODE: [u8; 14] = [
    0xDB, 0xE3, // fninit
    0xD9, 0x2E, 0x00, 0x10, // fldcw [0x1000] (ZE unmasked)
    0xD9, 0xE8, // fld1
    0xD9, 0xEE, // fldz
    0xDE, 0xF9, // fdivp (1/0: unmasked ZE, nothing stored)
    0xD9, 0xE8, // fld1 (waiting: the error is reported here)
];

fn ze_machine() -> (Cpu, Mem) {
    let (cpu, mut m) = machine(&ZE_CODE);
    m.0[0x1000..0x1002].copy_from_slice(&0x037Bu16.to_le_bytes());
    (cpu, m)
}

#[test]
fn unmasked_exception_raises_mf_when_cr0_ne_is_set() {
    let (mut cpu, mut m) = ze_machine();
    cpu.set_cr0(cpu.cr0() | 0x20);
    steps(&mut cpu, &mut m, 5);
    assert!(cpu.ferr());
    assert_eq!(cpu.fpu().status_word() & 0x8087, 0x8084, "B, ES, ZE");
    assert_eq!(cpu.fpu().st(0), F80::ZERO, "stack untouched");
    steps(&mut cpu, &mut m, 1); // the FLD1 faults: #MF through vector 16
    assert_eq!(cpu.eip(), 0x700);
    assert_eq!(
        &m.0[0xEFA..0xEFC],
        &0x050Cu16.to_le_bytes(),
        "return to the FLD1"
    );
    assert_eq!(cpu.fpu().last_ip(), (0, 0x50A), "pointer to the FDIVP");
}

#[test]
fn cr0_ne_clear_freezes_for_irq13_until_ignne() {
    let (mut cpu, mut m) = ze_machine();
    steps(&mut cpu, &mut m, 5);
    assert!(cpu.ferr());
    assert_eq!(cpu.step(&mut m), StepOutcome::Halted);
    assert_eq!(cpu.eip(), 0x50C, "frozen at the FLD1");
    // The board's IRQ13 handler writes port 0xF0: IGNNE# asserted.
    cpu.set_halted(false);
    cpu.set_ignne(true);
    steps(&mut cpu, &mut m, 1);
    assert_eq!(cpu.eip(), 0x50E);
    assert_eq!(cpu.fpu().st(0), F80::ONE);
    assert!(cpu.ferr(), "FERR# stays until FNCLEX");
    // FNCLEX (non-waiting) clears ES and with it IGNNE#.
    m.0[0x50E..0x510].copy_from_slice(&[0xDB, 0xE2]);
    m.0[0x510..0x512].copy_from_slice(&[0x9B, 0x90]); // wait; nop
    steps(&mut cpu, &mut m, 2);
    assert!(!cpu.ferr());
    assert_eq!(cpu.eip(), 0x511);
}

#[test]
fn device_not_available_and_the_286() {
    let (mut cpu, mut m) = machine(&[0xD9, 0xE8, 0x9B]);
    cpu.set_cr0(cpu.cr0() | 0x4); // EM
    steps(&mut cpu, &mut m, 1);
    assert_eq!(cpu.eip(), 0x800, "#NM");
    let (mut cpu, mut m) = machine(&[0x9B]);
    cpu.set_cr0(cpu.cr0() | 0xA); // MP + TS: WAIT faults
    steps(&mut cpu, &mut m, 1);
    assert_eq!(cpu.eip(), 0x800);
    // A 286 without a coprocessor: the escape does nothing.
    let (mut cpu, mut m) = machine(&[0xD9, 0xE8]);
    cpu.set_model(Model::I286);
    steps(&mut cpu, &mut m, 1);
    assert_eq!(cpu.eip(), 0x502);
    assert!(!cpu.ferr());
}

#[test]
fn fcomi_and_fcmov_use_eflags() {
    #[rustfmt::skip]
    let code = [
        0xDB, 0xE3, // fninit
        0xD9, 0xE8, // fld1
        0xD9, 0xEE, // fldz        ST0 = 0, ST1 = 1
        0xDB, 0xF1, // fcomi st, st(1): 0 < 1 -> CF
        0xDA, 0xC1, // fcmovb st, st(1): taken
        0xDF, 0xE9, // fucomip st, st(1): equal -> ZF, pop
    ];
    let (mut cpu, mut m) = machine(&code);
    steps(&mut cpu, &mut m, 4);
    assert_eq!(cpu.eflags() & 0x8D5, 0x001);
    steps(&mut cpu, &mut m, 1);
    assert_eq!(cpu.fpu().st(0), F80::ONE);
    steps(&mut cpu, &mut m, 1);
    assert_eq!(cpu.eflags() & 0x8D5, 0x040);
    assert_eq!(cpu.fpu().top(), 7);
    // Stack underflow: IE + SF, masked response "unordered".
    cpu.fpu_mut().set_control_word(0x037F);
    let (mut cpu, mut m) = machine(&[0xDB, 0xE3, 0xD8, 0xD1, 0xDF, 0xE0]);
    steps(&mut cpu, &mut m, 3);
    assert_eq!(cpu.gpr(crate::cpu::Gpr::Eax) & 0xFFFF, 0x4541);
}

#[test]
fn no_guest_value_panics() {
    // Every escape opcode and ModRM byte, on random register contents,
    // random memory and random control words.
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..6 {
        for op in 0xD8..=0xDFu8 {
            for modrm in 0..=255u8 {
                let (mut cpu, mut m) = machine(&[op, modrm, 0x00, 0x10]);
                for b in m.0[0x1000..0x1100].iter_mut() {
                    *b = next() as u8;
                }
                cpu.set_cr0(cpu.cr0() | 0x20);
                for s in 0..8 {
                    let v = F80 {
                        se: next() as u16,
                        sig: next(),
                    };
                    cpu.fpu_mut().set_st(s, v);
                    if next() % 4 == 0 {
                        cpu.fpu_mut().free(s);
                    }
                }
                cpu.fpu_mut()
                    .set_control_word(next() as u16 | if round < 3 { 0x3F } else { 0 });
                cpu.set_eflags(next() as u32);
                cpu.step(&mut m);
            }
        }
    }
}
