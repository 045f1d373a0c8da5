//! The x87's computing instruction groups as the CPU executes them: the
//! arithmetic groups (D8/DC/DA/DE: ADD, MUL, COM, COMP, SUB, SUBR, DIV,
//! DIVR with memory and register operands, and the popping forms), the
//! comparisons that set C0/C2/C3 or EFLAGS (FCOM*, FUCOM*, FICOM*, FTST,
//! FCOMI*, FUCOMI*), FXAM, and the D9 F0-FF group (transcendentals, FPREM,
//! FSQRT, FRNDINT, FSCALE, FXTRACT). Stack faults and the write-back of
//! results and flags go through the helpers in `exec.rs`.

use super::arith::{self, Cmp, Op};
use super::exec::Esc;
use super::float80::{Class, F80};
use super::round::{Ctx, IE};
use super::transcendental::{self as tr, Trig, TrigOp};
use crate::cpu::bus::Bus;
use crate::cpu::fault::Fault;
use crate::cpu::flags::{AF, CF, OF, PF, SF, ZF};
use crate::cpu::Cpu;
use crate::x86::Insn;

fn op_of(reg: u8) -> Op {
    match reg {
        0 => Op::Add,
        1 => Op::Mul,
        4 | 5 => Op::Sub,
        _ => Op::Div,
    }
}

impl Cpu {
    /// D8/DC (m32fp/m64fp) and DA/DE (m32int/m16int) memory forms.
    pub(super) fn fpu_arith_mem<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        e: Esc,
    ) -> Result<(), Fault> {
        let mut ctx = self.fpu_ctx();
        let y = self.fpu_mem_operand(bus, insn, e.op, &mut ctx)?;
        let Some(x) = self.fpu_opnd(0) else {
            match e.reg {
                2 | 3 => self.fpu_compare(None, Some(F80::ZERO), false, e.reg - 2, false),
                _ => self.fpu_underflow(Some(0), false),
            }
            return Ok(());
        };
        let Some(y) = y else {
            self.fpu_commit(&ctx);
            return Ok(());
        };
        match e.reg {
            2 | 3 => self.fpu_compare_ctx(ctx, x, y, false, e.reg - 2, false),
            r => self.fpu_binop(ctx, r, x, y, 0, false),
        }
        Ok(())
    }

    /// D8/DC/DE register forms.
    pub(super) fn fpu_arith_reg(&mut self, e: Esc) -> Result<(), Fault> {
        let i = e.rm;
        let (x, y) = (self.fpu_opnd(0), self.fpu_opnd(i));
        match (e.op, e.reg) {
            (_, 2) => {
                self.fpu_compare(x, y, false, 0, false);
                return Ok(());
            }
            (0xDE, 3) if i != 1 => return Err(Fault::Ud),
            (0xDE, 3) => {
                self.fpu_compare(x, y, false, 2, false);
                return Ok(());
            }
            (_, 3) => {
                self.fpu_compare(x, y, false, 1, false);
                return Ok(());
            }
            _ => {}
        }
        let (dst, pop) = match e.op {
            0xD8 => (0, false),
            0xDC => (i, false),
            _ => (i, true),
        };
        match (x, y) {
            (Some(x), Some(y)) => {
                let ctx = self.fpu_ctx();
                self.fpu_binop(ctx, e.reg, x, y, dst, pop);
            }
            _ => self.fpu_underflow(Some(dst), pop),
        }
        Ok(())
    }

    /// `x = ST(0)`, `y` the other operand; `reg` selects the operation and
    /// its direction (4/6: x op y, 5/7: y op x).
    fn fpu_binop(&mut self, mut ctx: Ctx, reg: u8, x: F80, y: F80, dst: u8, pop: bool) {
        let (a, b) = if reg == 5 || reg == 7 { (y, x) } else { (x, y) };
        let r = arith::arith(&mut ctx, op_of(reg), a, b);
        self.fpu_write(&ctx, dst, r, pop);
    }

    /// Writes an operation's result and flags (nothing but the flags on
    /// an unmasked exception).
    fn fpu_write(&mut self, ctx: &Ctx, dst: u8, r: Option<F80>, pop: bool) {
        self.fpu_commit(ctx);
        self.fpu.set_c1(ctx.c1);
        if let Some(r) = r {
            self.fpu.set_st(dst, r);
            if pop {
                self.fpu.pop();
            }
        }
    }

    /// FCOM-style comparisons of ST(0) with an operand; `pops` 0-2;
    /// `eflags` (FCOMI/FUCOMI) sets ZF/PF/CF instead of C3/C2/C0.
    pub(super) fn fpu_compare(
        &mut self,
        x: Option<F80>,
        y: Option<F80>,
        quiet: bool,
        pops: u8,
        eflags: bool,
    ) {
        match (x, y) {
            (Some(x), Some(y)) => {
                let ctx = self.fpu_ctx();
                self.fpu_compare_ctx(ctx, x, y, quiet, pops, eflags)
            }
            _ => {
                if self.fpu_stack_fault(false) {
                    self.fpu_set_compare(Cmp::Unordered, eflags);
                    for _ in 0..pops {
                        self.fpu.pop();
                    }
                }
            }
        }
    }

    fn fpu_compare_ctx(
        &mut self,
        mut ctx: Ctx,
        x: F80,
        y: F80,
        quiet: bool,
        pops: u8,
        eflags: bool,
    ) {
        let c = arith::compare(&mut ctx, x, y, quiet);
        self.fpu_commit(&ctx);
        if ctx.unmasked(IE | super::round::DE) {
            return;
        }
        self.fpu_set_compare(c, eflags);
        for _ in 0..pops {
            self.fpu.pop();
        }
    }

    fn fpu_set_compare(&mut self, c: Cmp, eflags: bool) {
        let (c3, c2, c0) = match c {
            Cmp::Greater => (false, false, false),
            Cmp::Less => (false, false, true),
            Cmp::Equal => (true, false, false),
            Cmp::Unordered => (true, true, true),
        };
        if eflags {
            let mut f = self.eflags & !(ZF | PF | CF | OF | SF | AF);
            f |= if c3 { ZF } else { 0 } | if c2 { PF } else { 0 } | if c0 { CF } else { 0 };
            self.eflags = f;
            self.fpu.set_c1(false);
        } else {
            self.fpu.set_cc(c0, false, c2, c3);
        }
    }

    /// FXAM: classifies ST(0) into C3/C2/C0, its sign into C1.
    pub(super) fn fpu_fxam(&mut self) {
        let v = self.fpu.st(0);
        let (c3, c2, c0) = if self.fpu.is_empty(0) {
            (true, false, true)
        } else {
            match v.class() {
                Class::Unsupported => (false, false, false),
                Class::QNaN | Class::SNaN => (false, false, true),
                Class::Normal => (false, true, false),
                Class::Inf => (false, true, true),
                Class::Zero => (true, false, false),
                Class::Denormal => (true, true, false),
            }
        };
        self.fpu.set_cc(c0, v.sign(), c2, c3);
    }

    /// D9 F0-FF, `n` = reg * 8 + rm.
    pub(super) fn fpu_special(&mut self, n: u8) {
        let mut ctx = self.fpu_ctx();
        let x = self.fpu_opnd(0);
        let two = matches!(n, 0x31 | 0x33 | 0x35 | 0x38 | 0x39 | 0x3D);
        let y = if two { self.fpu_opnd(1) } else { x };
        let (Some(x), Some(y)) = (x, y) else {
            let pop = matches!(n, 0x31 | 0x33 | 0x39);
            let dst = if pop { 1 } else { 0 };
            if matches!(n, 0x32 | 0x34 | 0x3B) && self.fpu_stack_fault(false) {
                self.fpu.set_st(0, F80::INDEFINITE);
                self.fpu.push(F80::INDEFINITE);
                return;
            }
            if !matches!(n, 0x32 | 0x34 | 0x3B) {
                self.fpu_underflow(Some(dst), pop);
            }
            return;
        };
        match n {
            0x30 => {
                let r = tr::f2xm1(&mut ctx, x);
                self.fpu_write(&ctx, 0, r, false);
            }
            0x31 => {
                let r = tr::fyl2x(&mut ctx, x, y);
                self.fpu_write(&ctx, 1, r, true);
            }
            0x33 => {
                let r = tr::fpatan(&mut ctx, x, y);
                self.fpu_write(&ctx, 1, r, true);
            }
            0x39 => {
                let r = tr::fyl2xp1(&mut ctx, x, y);
                self.fpu_write(&ctx, 1, r, true);
            }
            0x3A => {
                let r = arith::sqrt(&mut ctx, x);
                self.fpu_write(&ctx, 0, r, false);
            }
            0x3C => {
                let r = arith::rndint(&mut ctx, x);
                self.fpu_write(&ctx, 0, r, false);
            }
            0x3D => {
                let r = arith::scale(&mut ctx, x, y);
                self.fpu_write(&ctx, 0, r, false);
            }
            0x34 => {
                if !self.fpu.is_empty(7) {
                    if self.fpu_stack_fault(true) {
                        self.fpu.set_st(0, F80::INDEFINITE);
                        self.fpu.push(F80::INDEFINITE);
                    }
                    return;
                }
                let r = arith::xtract(&mut ctx, x);
                self.fpu_commit(&ctx);
                self.fpu.set_c1(false);
                if let Some((e, s)) = r {
                    self.fpu.set_st(0, e);
                    self.fpu.push(s);
                }
            }
            0x35 | 0x38 => {
                let r = arith::prem(&mut ctx, x, y, n == 0x35);
                self.fpu_commit(&ctx);
                if let Some(r) = r {
                    self.fpu.set_st(0, r.value);
                    let q = r.q;
                    self.fpu
                        .set_cc(q & 4 != 0, q & 1 != 0, r.incomplete, q & 2 != 0);
                }
            }
            _ => self.fpu_trig(ctx, n, x),
        }
    }

    /// FPTAN, FSINCOS, FSIN, FCOS.
    fn fpu_trig(&mut self, mut ctx: Ctx, n: u8, x: F80) {
        let pushes = matches!(n, 0x32 | 0x3B);
        if pushes && !self.fpu.is_empty(7) {
            if self.fpu_stack_fault(true) {
                self.fpu.set_st(0, F80::INDEFINITE);
                self.fpu.push(F80::INDEFINITE);
            }
            return;
        }
        let op = match n {
            0x32 => TrigOp::Tan,
            0x3E => TrigOp::Sin,
            0x3F => TrigOp::Cos,
            _ => TrigOp::SinCos,
        };
        match tr::trig(&mut ctx, x, op) {
            Trig::OutOfRange => {
                let sw = self.fpu.sw;
                self.fpu.sw = sw | super::state::SW_C2;
            }
            Trig::Unmasked => self.fpu_commit(&ctx),
            Trig::Done(a, b) => {
                self.fpu_commit(&ctx);
                self.fpu.set_c1(ctx.c1);
                self.fpu.sw &= !super::state::SW_C2;
                match n {
                    0x3E => self.fpu.set_st(0, a),
                    0x3F => self.fpu.set_st(0, b),
                    _ => {
                        self.fpu.set_st(0, a);
                        self.fpu.push(b);
                    }
                }
            }
        }
    }
}
