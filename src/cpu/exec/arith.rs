//! Integer arithmetic and logic: the eight ALU operations and TEST,
//! INC/DEC/NOT/NEG, MUL/IMUL/DIV/IDIV, XCHG, MOV (incl. segment registers),
//! and CBW/CWD. Flags are computed here, exactly, for every defined bit.

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{mask, msb, sext, CF};
use super::super::{Cpu, SegReg};
use crate::x86::{Insn, Mn};

impl Cpu {
    /// ADD..CMP and TEST on `a` and `b`; sets the status flags, returns the result.
    #[inline(always)]
    pub(crate) fn alu(&mut self, mn: Mn, a: u32, b: u32, bytes: u8) -> u32 {
        let m = mask(bytes);
        let (a, b) = (a & m, b & m);
        let carry = u32::from(self.flag(CF));
        let (r, cf, of) = match mn {
            Mn::Add | Mn::Adc => {
                let c = if mn == Mn::Adc { carry } else { 0 };
                let wide = u64::from(a) + u64::from(b) + u64::from(c);
                let r = wide as u32 & m;
                (r, wide > u64::from(m), (a ^ r) & (b ^ r) & msb(bytes) != 0)
            }
            Mn::Sub | Mn::Sbb | Mn::Cmp => {
                let c = if mn == Mn::Sbb { carry } else { 0 };
                let r = a.wrapping_sub(b).wrapping_sub(c) & m;
                let cf = u64::from(a) < u64::from(b) + u64::from(c);
                (r, cf, (a ^ b) & (a ^ r) & msb(bytes) != 0)
            }
            Mn::Or => (a | b, false, false),
            Mn::Xor => (a ^ b, false, false),
            _ => (a & b, false, false),
        };
        let arith = matches!(mn, Mn::Add | Mn::Adc | Mn::Sub | Mn::Sbb | Mn::Cmp);
        self.set_status(r, bytes, cf, of, arith && (a ^ b ^ r) & 0x10 != 0);
        r
    }

    pub(super) fn exec_alu<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::size_of(insn, insn.ops[0]);
        let a = self.read_op(bus, insn, 0)?;
        let b = self.read_op(bus, insn, 1)?;
        let r = self.alu(insn.mn, a, b, bytes);
        if !matches!(insn.mn, Mn::Cmp | Mn::Test) {
            self.write_op(bus, insn, 0, r)?;
        }
        Ok(())
    }

    pub(super) fn exec_unary<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::size_of(insn, insn.ops[0]);
        let a = self.read_op(bus, insn, 0)?;
        let r = self.unary(insn.mn, a, bytes);
        self.write_op(bus, insn, 0, r)
    }

    /// INC, DEC, NOT or NEG (`mn`) of `a`, `bytes` wide: the result, the
    /// flags set.
    #[inline(always)]
    pub(crate) fn unary(&mut self, mn: Mn, a: u32, bytes: u8) -> u32 {
        match mn {
            Mn::Inc | Mn::Dec => {
                let cf = self.flag(CF);
                let op = if mn == Mn::Inc { Mn::Add } else { Mn::Sub };
                let r = self.alu(op, a, 1, bytes);
                self.set_flag(CF, cf);
                r
            }
            Mn::Not => !a & mask(bytes),
            _ => {
                let r = self.alu(Mn::Sub, 0, a, bytes);
                self.set_flag(CF, a & mask(bytes) != 0);
                r
            }
        }
    }

    /// MUL, DIV, IDIV (the one-operand F6/F7 forms).
    pub(super) fn exec_muldiv<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::size_of(insn, insn.ops[0]);
        let src = u64::from(self.read_op(bus, insn, 0)?);
        let bits = u32::from(bytes) * 8;
        let m = u64::from(mask(bytes));
        // Dividend / product halves: AL|AH for bytes, (E)AX|(E)DX otherwise.
        let acc = if bytes == 1 {
            u64::from(self.reg(0, 2))
        } else {
            u64::from(self.reg(0, bytes)) | u64::from(self.reg(2, bytes)) << bits
        };
        let (lo, hi) = match insn.mn {
            Mn::Mul => {
                let p = (acc & m) * src;
                let hi = (p >> bits) & m;
                let lo = p & m;
                self.set_status(lo as u32, bytes, hi != 0, hi != 0, false);
                (lo, hi)
            }
            Mn::Div => {
                if src == 0 {
                    return Err(Fault::De);
                }
                let q = acc / src;
                if q > m {
                    return Err(Fault::De);
                }
                (q, acc % src)
            }
            _ => {
                let d = i128::from(sext(src as u32, bytes) as i32);
                if d == 0 {
                    return Err(Fault::De);
                }
                // Sign-extend the double-width dividend.
                let n = if bytes == 4 {
                    i128::from(acc as i64)
                } else {
                    i128::from(sext(acc as u32, bytes * 2) as i32)
                };
                let q = n / d;
                let half = 1i128 << (bits - 1);
                if q < -half || q >= half {
                    return Err(Fault::De);
                }
                (q as u64 & m, (n % d) as u64 & m)
            }
        };
        if bytes == 1 {
            self.set_reg(0, 2, (lo | hi << 8) as u32);
        } else {
            self.set_reg(0, bytes, lo as u32);
            self.set_reg(2, bytes, hi as u32);
        }
        Ok(())
    }

    /// IMUL in its one-, two- and three-operand forms.
    pub(super) fn exec_imul<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        if insn.ops.len() == 1 {
            let bytes = Self::size_of(insn, insn.ops[0]);
            let src = i64::from(sext(self.read_op(bus, insn, 0)?, bytes) as i32);
            let a = i64::from(sext(self.reg(0, bytes), bytes) as i32);
            let p = a * src;
            let bits = u32::from(bytes) * 8;
            let lo = p as u32 & mask(bytes);
            let fits = i64::from(sext(lo, bytes) as i32) == p;
            self.set_status(lo, bytes, !fits, !fits, false);
            if bytes == 1 {
                self.set_reg(0, 2, p as u32);
            } else {
                self.set_reg(0, bytes, lo);
                self.set_reg(2, bytes, (p >> bits) as u32);
            }
            return Ok(());
        }
        let bytes = Self::vsize(insn);
        let (x, y) = if insn.ops.len() == 3 {
            (self.read_op(bus, insn, 1)?, self.read_op(bus, insn, 2)?)
        } else {
            (self.read_op(bus, insn, 0)?, self.read_op(bus, insn, 1)?)
        };
        let lo = self.imul2(x, y, bytes);
        self.write_op(bus, insn, 0, lo)
    }

    /// The two- and three-operand IMUL's product of `x` and `y` at `bytes`
    /// wide, setting CF and OF when it was truncated.
    pub(crate) fn imul2(&mut self, x: u32, y: u32, bytes: u8) -> u32 {
        let p = i64::from(sext(x, bytes) as i32) * i64::from(sext(y, bytes) as i32);
        let lo = p as u32 & mask(bytes);
        let fits = i64::from(sext(lo, bytes) as i32) == p;
        self.set_status(lo, bytes, !fits, !fits, false);
        lo
    }

    pub(super) fn exec_xchg<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let a = self.read_op(bus, insn, 0)?;
        let b = self.read_op(bus, insn, 1)?;
        self.write_op(bus, insn, 0, b)?;
        self.write_op(bus, insn, 1, a)
    }

    pub(super) fn exec_mov<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        use crate::x86::Opnd;
        match (insn.ops[0], insn.ops[1]) {
            (Opnd::Sw, _) => {
                let reg = insn.modrm.map_or(0, |m| m.reg);
                let i286 = self.model() == super::super::Model::I286;
                let seg = match SegReg::ALL.get(usize::from(reg)) {
                    Some(SegReg::Fs | SegReg::Gs) if i286 => return Err(Fault::Ud),
                    Some(&s) if s != SegReg::Cs => s,
                    _ => return Err(Fault::Ud),
                };
                let v = self.read_op(bus, insn, 1)?;
                self.load_seg(bus, seg, v as u16)
            }
            (Opnd::Ev, Opnd::Sw) => {
                let v = self.read_op(bus, insn, 1)?;
                if insn.mem.is_some() {
                    let (s, off) = self.ea(insn);
                    self.write_mem(bus, s, off, 2, v)
                } else {
                    self.write_op(bus, insn, 0, v)
                }
            }
            _ => {
                let v = self.read_op(bus, insn, 1)?;
                self.write_op(bus, insn, 0, v)
            }
        }
    }

    /// CBW/CWDE and CWD/CDQ.
    pub(super) fn exec_convert(&mut self, insn: &Insn) {
        let bytes = Self::vsize(insn);
        if insn.mn == Mn::Cbw {
            let half = bytes / 2;
            let v = sext(self.reg(0, half), half);
            self.set_reg(0, bytes, v);
        } else {
            let neg = self.reg(0, bytes) & msb(bytes) != 0;
            self.set_reg(2, bytes, if neg { u32::MAX } else { 0 });
        }
    }
}
