//! The x87 instructions as the CPU executes them: the dispatcher for the
//! escape opcodes D8-DF and WAIT, the #NM and pending-exception (#MF or
//! FERR#) checks, the last-instruction/data pointers, memory operands
//! through the CPU's segmented access, loads, stores, the control
//! instructions and the environment. Arithmetic, comparison and
//! transcendental groups are in `exec_arith.rs`.

use super::arith::from_i64;
use super::convert;
use super::env;
use super::float80::F80;
use super::round::{Ctx, F32, F64, IE};
use super::state::{SW_B, SW_ES, SW_SF};
use super::transcendental as tr;
use crate::cpu::bus::Bus;
use crate::cpu::exec::Flow;
use crate::cpu::fault::Fault;
use crate::cpu::flags::VM;
use crate::cpu::{Cpu, SegReg};
use crate::x86::{Insn, Mn};

const CR0_MP: u32 = 1 << 1;
const CR0_EM: u32 = 1 << 2;
const CR0_TS: u32 = 1 << 3;
const CR0_NE: u32 = 1 << 5;

/// A decoded escape: opcode byte (D8-DF), ModRM fields, memory form.
#[derive(Clone, Copy)]
pub(super) struct Esc {
    pub op: u8,
    pub reg: u8,
    pub rm: u8,
    pub mem: bool,
}

impl Cpu {
    /// WAIT/FWAIT and the escape opcodes D8-DF.
    pub(crate) fn exec_fpu<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<Flow, Fault> {
        if insn.mn == Mn::Wait {
            if self.cr0 & (CR0_MP | CR0_TS) == (CR0_MP | CR0_TS) {
                return Err(Fault::Nm);
            }
            return self.fpu_pending(insn).map(|f| f.unwrap_or(Flow::Next));
        }
        if self.cr0 & (CR0_EM | CR0_TS) != 0 {
            return Err(Fault::Nm);
        }
        let m = insn.modrm.unwrap_or(crate::x86::ModRm {
            md: 3,
            reg: 0,
            rm: 0,
        });
        let e = Esc {
            op: insn.opcode as u8,
            reg: m.reg,
            rm: m.rm,
            mem: insn.mem.is_some(),
        };
        let nonwaiting = match (e.op, e.mem) {
            (0xD9, true) => e.reg == 6 || e.reg == 7,
            (0xDD, true) => e.reg == 6 || e.reg == 7,
            (0xDB, false) => e.reg == 4 && matches!(e.rm, 0..=4),
            (0xDF, false) => e.reg == 4 && e.rm == 0,
            _ => false,
        };
        if !nonwaiting {
            if let Some(flow) = self.fpu_pending(insn)? {
                return Ok(flow);
            }
        }
        let control = nonwaiting || (e.mem && matches!((e.op, e.reg), (0xD9, 4 | 5) | (0xDD, 4)));
        if !control {
            let start = self.eip.wrapping_sub(u32::from(insn.len));
            let start = if self.code32() { start } else { start & 0xFFFF };
            self.fpu.fcs = self.segs[SegReg::Cs as usize].selector;
            self.fpu.fip = start;
            self.fpu.fop = (u16::from(e.op & 7) << 8)
                | (u16::from(m.md) << 6)
                | (u16::from(m.reg) << 3)
                | u16::from(m.rm);
            if e.mem {
                let (s, off) = self.ea(insn);
                self.fpu.fds = self.segs[s as usize].selector;
                self.fpu.fdp = off;
            }
        }
        if e.mem {
            self.fpu_mem(bus, insn, e)?;
        } else {
            self.fpu_reg(e)?;
        }
        Ok(Flow::Next)
    }

    /// The check a waiting instruction makes: with an unmasked exception
    /// pending, #MF (CR0.NE = 1), or, the PC way (CR0.NE = 0), the CPU
    /// freezes before the instruction until an interrupt (IRQ13 from
    /// FERR#) unless IGNNE# is asserted. A freeze is reported as a halt
    /// with EIP at the instruction, so the interrupt returns to it.
    fn fpu_pending(&mut self, insn: &Insn) -> Result<Option<Flow>, Fault> {
        if !self.fpu.error_pending() {
            return Ok(None);
        }
        if self.cr0 & CR0_NE != 0 {
            return Err(Fault::Mf);
        }
        if self.fpu.ignne {
            return Ok(None);
        }
        let start = self.eip.wrapping_sub(u32::from(insn.len));
        self.eip = if self.code32() { start } else { start & 0xFFFF };
        Ok(Some(Flow::Halt))
    }

    /// True in real and virtual-8086 mode (real-mode environment layout).
    fn fpu_real_layout(&self) -> bool {
        self.cr0 & 1 == 0 || self.eflags & VM != 0
    }

    pub(super) fn fpu_ctx(&self) -> Ctx {
        Ctx::new(self.fpu.cw)
    }

    /// Merges an operation's exceptions into the status word.
    pub(super) fn fpu_commit(&mut self, ctx: &Ctx) {
        self.fpu.sw |= u16::from(ctx.flags);
        if ctx.flags & !ctx.masks & 0x3F != 0 {
            self.fpu.sw |= SW_ES | SW_B;
        }
    }

    /// Stack overflow or underflow: IE with SF, C1 = `overflow`. True when
    /// masked (the masked response follows).
    pub(super) fn fpu_stack_fault(&mut self, overflow: bool) -> bool {
        let mut ctx = self.fpu_ctx();
        ctx.raise(IE);
        self.fpu.sw |= SW_SF;
        self.fpu_commit(&ctx);
        self.fpu.set_c1(overflow);
        ctx.masks & IE != 0
    }

    /// ST(i), or `None` when empty.
    pub(super) fn fpu_opnd(&self, i: u8) -> Option<F80> {
        (!self.fpu.is_empty(i)).then(|| self.fpu.st(i))
    }

    /// Stack underflow with a destination: the masked response writes the
    /// indefinite to ST(`dst`) and pops if asked.
    pub(super) fn fpu_underflow(&mut self, dst: Option<u8>, pop: bool) {
        if self.fpu_stack_fault(false) {
            if let Some(d) = dst {
                self.fpu.set_st(d, F80::INDEFINITE);
            }
            if pop {
                self.fpu.pop();
            }
        }
    }

    /// Pushes a value produced with `ctx` (None: unmasked exception).
    pub(super) fn fpu_push(&mut self, ctx: &Ctx, v: Option<F80>) {
        if !self.fpu.is_empty(7) {
            if self.fpu_stack_fault(true) {
                self.fpu.push(F80::INDEFINITE);
            }
            return;
        }
        self.fpu_commit(ctx);
        self.fpu.set_c1(false);
        if let Some(v) = v {
            self.fpu.push(v);
        }
    }

    fn mem_read<B: Bus + ?Sized, const N: usize>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<[u8; N], Fault> {
        let (s, off) = self.ea(insn);
        self.linear(s, off, N as u32)?;
        let mut out = [0u8; N];
        for i in (0..N).step_by(2) {
            let v = self.read_mem(bus, s, Self::ea_add(insn, off, i as u32), 2)?;
            out[i] = v as u8;
            out[i + 1] = (v >> 8) as u8;
        }
        Ok(out)
    }

    fn mem_write<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        bytes: &[u8],
    ) -> Result<(), Fault> {
        let (s, off) = self.ea(insn);
        self.linear(s, off, bytes.len() as u32)?;
        for (i, pair) in bytes.chunks(2).enumerate() {
            let v = u32::from(pair[0]) | (u32::from(*pair.get(1).unwrap_or(&0)) << 8);
            self.write_mem(bus, s, Self::ea_add(insn, off, 2 * i as u32), 2, v)?;
        }
        Ok(())
    }

    /// Reads the memory operand of an arithmetic group (D8/DC: m32fp/m64fp,
    /// DA/DE: m32int/m16int) as an extended value.
    pub(super) fn fpu_mem_operand<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        op: u8,
        ctx: &mut Ctx,
    ) -> Result<Option<F80>, Fault> {
        // A denormal float operand raises DE only if the operation gets
        // that far (a NaN in ST(0) wins): convert with DE masked.
        let masks = ctx.masks;
        ctx.masks |= super::round::DE;
        let v = self.fpu_mem_operand_raw(bus, insn, op, ctx)?;
        ctx.masks = masks;
        if ctx.flags & super::round::DE != 0 {
            ctx.flags &= !super::round::DE;
            ctx.denormal_in = true;
        }
        Ok(v)
    }

    fn fpu_mem_operand_raw<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        op: u8,
        ctx: &mut Ctx,
    ) -> Result<Option<F80>, Fault> {
        Ok(match op {
            0xD8 => convert::from_float(
                ctx,
                u64::from(u32::from_le_bytes(self.mem_read::<B, 4>(bus, insn)?)),
                &F32,
            ),
            0xDC => convert::from_float(
                ctx,
                u64::from_le_bytes(self.mem_read::<B, 8>(bus, insn)?),
                &F64,
            ),
            0xDA => Some(from_i64(i64::from(i32::from_le_bytes(
                self.mem_read::<B, 4>(bus, insn)?,
            )))),
            _ => Some(from_i64(i64::from(i16::from_le_bytes(
                self.mem_read::<B, 2>(bus, insn)?,
            )))),
        })
    }

    fn fpu_mem<B: Bus + ?Sized>(&mut self, bus: &mut B, insn: &Insn, e: Esc) -> Result<(), Fault> {
        let real = self.fpu_real_layout();
        match (e.op, e.reg) {
            (0xD8 | 0xDA | 0xDC | 0xDE, _) => self.fpu_arith_mem(bus, insn, e)?,
            // Loads.
            (0xD9 | 0xDD | 0xDB | 0xDF, 0) | (0xDB, 5) | (0xDF, 4 | 5) => {
                let mut ctx = self.fpu_ctx();
                let v = match (e.op, e.reg) {
                    (0xD9, _) => convert::from_float(
                        &mut ctx,
                        u64::from(u32::from_le_bytes(self.mem_read::<B, 4>(bus, insn)?)),
                        &F32,
                    ),
                    (0xDD, _) => convert::from_float(
                        &mut ctx,
                        u64::from_le_bytes(self.mem_read::<B, 8>(bus, insn)?),
                        &F64,
                    ),
                    (0xDB, 0) => Some(from_i64(i64::from(i32::from_le_bytes(
                        self.mem_read::<B, 4>(bus, insn)?,
                    )))),
                    (0xDB, _) => Some(F80::from_bytes(self.mem_read::<B, 10>(bus, insn)?)),
                    (_, 0) => Some(from_i64(i64::from(i16::from_le_bytes(
                        self.mem_read::<B, 2>(bus, insn)?,
                    )))),
                    (_, 4) => Some(convert::from_bcd(self.mem_read::<B, 10>(bus, insn)?)),
                    _ => Some(from_i64(i64::from_le_bytes(
                        self.mem_read::<B, 8>(bus, insn)?,
                    ))),
                };
                self.fpu_push(&ctx, v);
            }
            // Stores.
            (0xD9 | 0xDD | 0xDB | 0xDF, 2 | 3) | (0xDB | 0xDF, 7) | (0xDF, 6) => {
                self.fpu_store(bus, insn, e)?
            }
            (0xD9, 4) => {
                let n = if insn.op32 { 28 } else { 14 };
                let (s, off) = self.ea(insn);
                let b = self.read_bytes(bus, insn, s, off, n)?;
                env::load_env(&mut self.fpu, &b, insn.op32, real);
            }
            (0xD9, 5) => {
                let cw = u16::from_le_bytes(self.mem_read::<B, 2>(bus, insn)?);
                self.fpu.set_control_word(cw);
                env::sync_es(&mut self.fpu);
            }
            (0xD9, 6) => {
                let img = env::store_env(&self.fpu, insn.op32, real);
                self.mem_write(bus, insn, &img)?;
                self.fpu.cw |= 0x3F;
            }
            (0xD9, 7) => self.mem_write(bus, insn, &self.fpu.cw.to_le_bytes())?,
            (0xDD, 4) => {
                let n = if insn.op32 { 108 } else { 94 };
                let (s, off) = self.ea(insn);
                let b = self.read_bytes(bus, insn, s, off, n)?;
                env::restore(&mut self.fpu, &b, insn.op32, real);
            }
            (0xDD, 6) => {
                let img = env::save(&self.fpu, insn.op32, real);
                self.mem_write(bus, insn, &img)?;
                let p6 = self.fpu.p6;
                self.fpu.init();
                self.fpu.p6 = p6;
            }
            (0xDD, 7) => {
                let sw = self.fpu.status_word();
                self.mem_write(bus, insn, &sw.to_le_bytes())?
            }
            // D9 /1, DB /1 /4 /6, DD /1 /5, DF /1 (FISTTP is SSE3).
            _ => return Err(Fault::Ud),
        }
        Ok(())
    }

    fn read_bytes<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        s: SegReg,
        off: u32,
        n: usize,
    ) -> Result<Vec<u8>, Fault> {
        self.linear(s, off, n as u32)?;
        let mut out = Vec::with_capacity(n);
        for i in (0..n).step_by(2) {
            let v = self.read_mem(bus, s, Self::ea_add(insn, off, i as u32), 2)?;
            out.push(v as u8);
            out.push((v >> 8) as u8);
        }
        Ok(out)
    }

    /// FST/FSTP m32/m64/m80, FIST/FISTP m16/m32/m64, FBSTP.
    fn fpu_store<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        e: Esc,
    ) -> Result<(), Fault> {
        let pop = e.reg != 2;
        let mut ctx = self.fpu_ctx();
        let src = self.fpu_opnd(0);
        let bytes: Option<Vec<u8>> = match (e.op, e.reg) {
            (0xD9, _) => {
                let v = match src {
                    Some(a) => convert::to_float_checked(&mut ctx, a, &F32),
                    None => Some(0xFFC0_0000),
                };
                v.map(|v| (v as u32).to_le_bytes().to_vec())
            }
            (0xDD, _) => {
                let v = match src {
                    Some(a) => convert::to_float_checked(&mut ctx, a, &F64),
                    None => Some(0xFFF8_0000_0000_0000),
                };
                v.map(|v| v.to_le_bytes().to_vec())
            }
            (0xDB, 7) => Some(src.unwrap_or(F80::INDEFINITE).to_bytes().to_vec()),
            (0xDF, 6) => match src {
                Some(a) => convert::to_bcd(&mut ctx, a).map(|b| b.to_vec()),
                None => Some(convert::BCD_INDEFINITE.to_vec()),
            },
            (op, reg) => {
                let bits = match (op, reg) {
                    (0xDB, _) => 32,
                    (0xDF, 7) => 64,
                    _ => 16,
                };
                let v = match src {
                    Some(a) => convert::to_int(&mut ctx, a, bits),
                    None => Some(1u64 << (bits - 1)),
                };
                v.map(|v| v.to_le_bytes()[..(bits / 8) as usize].to_vec())
            }
        };
        if src.is_none() {
            // Stack underflow: the masked response stores the indefinite.
            let masked = self.fpu_ctx().masks & IE != 0;
            if masked {
                if let Some(b) = &bytes {
                    self.mem_write(bus, insn, b)?;
                }
            }
            self.fpu_underflow(None, pop);
            return Ok(());
        }
        if let Some(b) = &bytes {
            self.mem_write(bus, insn, b)?;
        }
        self.fpu_commit(&ctx);
        self.fpu.set_c1(ctx.c1);
        if bytes.is_some() && pop {
            self.fpu.pop();
        }
        Ok(())
    }

    fn fpu_reg(&mut self, e: Esc) -> Result<(), Fault> {
        let i = e.rm;
        match (e.op, e.reg) {
            (0xD8 | 0xDC | 0xDE, _) => self.fpu_arith_reg(e)?,
            (0xD9, 0) => {
                let ctx = self.fpu_ctx();
                match self.fpu_opnd(i) {
                    Some(v) => self.fpu_push(&ctx, Some(v)),
                    None => {
                        if !self.fpu.is_empty(7) {
                            self.fpu_push(&ctx, None);
                        } else if self.fpu_stack_fault(false) {
                            self.fpu.push(F80::INDEFINITE);
                        }
                    }
                }
            }
            (0xD9 | 0xDD | 0xDF, 1) => {
                let (a, b) = (self.fpu_opnd(0), self.fpu_opnd(i));
                if a.is_none() || b.is_none() {
                    if !self.fpu_stack_fault(false) {
                        return Ok(());
                    }
                } else {
                    self.fpu.set_c1(false);
                }
                let (a, b) = (a.unwrap_or(F80::INDEFINITE), b.unwrap_or(F80::INDEFINITE));
                self.fpu.set_st(0, b);
                self.fpu.set_st(i, a);
            }
            (0xD9, 2) if i == 0 => {} // FNOP
            (0xD9 | 0xDD | 0xDF, 2 | 3) => {
                // FST/FSTP ST(i) (D9 /3 and DF /2 /3 are aliases of FSTP).
                let pop = !(e.op == 0xDD && e.reg == 2);
                match self.fpu_opnd(0) {
                    Some(v) => {
                        self.fpu.set_st(i, v);
                        self.fpu.set_c1(false);
                        if pop {
                            self.fpu.pop();
                        }
                    }
                    None => self.fpu_underflow(Some(i), pop),
                }
            }
            (0xD9, 4) => match i {
                0 | 1 => match self.fpu_opnd(0) {
                    Some(v) => {
                        let r = if i == 0 { v.neg() } else { v.abs() };
                        self.fpu.set_st(0, r);
                        self.fpu.set_c1(false);
                    }
                    None => self.fpu_underflow(Some(0), false),
                },
                4 => self.fpu_compare(self.fpu_opnd(0), Some(F80::ZERO), false, 0, false),
                5 => self.fpu_fxam(),
                _ => return Err(Fault::Ud),
            },
            (0xD9, 5) => {
                let rc = self.fpu_ctx().rc;
                let k = match i {
                    0 => F80::ONE,
                    1 => tr::constant(rc, tr::LOG2_10),
                    2 => tr::constant(rc, tr::LOG2E),
                    3 => tr::constant(rc, tr::PI),
                    4 => tr::constant(rc, tr::LOG10_2),
                    5 => tr::constant(rc, tr::LN2),
                    6 => F80::ZERO,
                    _ => return Err(Fault::Ud),
                };
                let ctx = self.fpu_ctx();
                self.fpu_push(&ctx, Some(k));
            }
            (0xD9, 6) if i == 6 || i == 7 => {
                let t = self.fpu.top();
                self.fpu.set_top(if i == 6 { t + 7 } else { t + 1 });
                self.fpu.set_c1(false);
            }
            (0xD9, 6 | 7) => self.fpu_special(e.reg * 8 + i),
            (0xDA | 0xDB, 0..=3) => {
                if !self.fpu.p6 {
                    return Err(Fault::Ud);
                }
                let cc = [2u8, 4, 6, 0xA][usize::from(e.reg)] | u8::from(e.op == 0xDB);
                let take = self.cond(cc);
                match (self.fpu_opnd(0), self.fpu_opnd(i)) {
                    (Some(_), Some(v)) => {
                        if take {
                            self.fpu.set_st(0, v);
                        }
                        self.fpu.set_c1(false);
                    }
                    _ => self.fpu_underflow(Some(0), false),
                }
            }
            (0xDA, 5) if i == 1 => {
                self.fpu_compare(self.fpu_opnd(0), self.fpu_opnd(1), true, 2, false)
            }
            (0xDB, 4) => match i {
                0 | 1 | 4 => {} // FENI, FDISI, FSETPM: no-ops on a 387
                2 => {
                    self.fpu.sw &= !(0x3F | SW_SF | SW_ES | SW_B);
                    self.fpu.ignne = false;
                }
                3 => {
                    let p6 = self.fpu.p6;
                    self.fpu.init();
                    self.fpu.p6 = p6;
                }
                _ => return Err(Fault::Ud),
            },
            (0xDB | 0xDF, 5 | 6) => {
                if !self.fpu.p6 {
                    return Err(Fault::Ud);
                }
                let pops = u8::from(e.op == 0xDF);
                self.fpu_compare(self.fpu_opnd(0), self.fpu_opnd(i), e.reg == 5, pops, true);
            }
            (0xDD, 0) => self.fpu.free(i),
            (0xDF, 0) => {
                self.fpu.free(i);
                self.fpu.pop();
            }
            (0xDD, 4 | 5) => {
                let pops = u8::from(e.reg == 5);
                self.fpu_compare(self.fpu_opnd(0), self.fpu_opnd(i), true, pops, false);
            }
            (0xDF, 4) if i == 0 => {
                let sw = self.fpu.status_word();
                self.set_reg(0, 2, u32::from(sw));
            }
            _ => return Err(Fault::Ud),
        }
        Ok(())
    }
}
