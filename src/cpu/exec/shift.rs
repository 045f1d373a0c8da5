//! Shifts and rotates: ROL/ROR/RCL/RCR/SHL/SAL/SHR/SAR with counts masked
//! to five bits, and the double shifts SHLD/SHRD. The flags follow the
//! iterative definition (the last one-bit step decides CF and OF).

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{mask, msb, sext, szp, AF, CF, OF, PF, SF, ZF};
use super::super::Cpu;
use crate::x86::{Insn, Mn};

impl Cpu {
    /// Applies a shift or rotate; returns the result (flags set in place).
    #[inline]
    pub(crate) fn shift(&mut self, mn: Mn, a: u32, count: u32, bytes: u8) -> u32 {
        let count = count & 31;
        let m = mask(bytes);
        let a = a & m;
        if count == 0 {
            return a;
        }
        let bits = u32::from(bytes) * 8;
        let top = |v: u32| v & msb(bytes) != 0;
        match mn {
            Mn::Rol | Mn::Ror => {
                let c = count % bits;
                let r = if c == 0 {
                    a
                } else if mn == Mn::Rol {
                    ((a << c) | (a >> (bits - c))) & m
                } else {
                    ((a >> c) | (a << (bits - c))) & m
                };
                let (cf, of) = if mn == Mn::Rol {
                    let cf = r & 1 != 0;
                    (cf, top(r) != cf)
                } else {
                    (top(r), top(r) != (r & (msb(bytes) >> 1) != 0))
                };
                self.set_flag(CF, cf);
                self.set_flag(OF, of);
                r
            }
            Mn::Rcl | Mn::Rcr => {
                let width = bits + 1;
                let c = count % width;
                let wm = (1u64 << width) - 1;
                let v = u64::from(a) | u64::from(self.flag(CF)) << bits;
                let rv = if c == 0 {
                    v
                } else if mn == Mn::Rcl {
                    ((v << c) | (v >> (width - c))) & wm
                } else {
                    ((v >> c) | (v << (width - c))) & wm
                };
                let r = rv as u32 & m;
                let cf = (rv >> bits) & 1 != 0;
                let of = if mn == Mn::Rcl {
                    top(r) != cf
                } else {
                    top(r) != (r & (msb(bytes) >> 1) != 0)
                };
                self.set_flag(CF, cf);
                self.set_flag(OF, of);
                r
            }
            Mn::Shl | Mn::Sal => {
                let wide = u64::from(a) << count;
                let r = wide as u32 & m;
                let cf = (wide >> bits) & 1 != 0;
                self.shift_flags(r, bytes, cf, top(r) != cf);
                r
            }
            Mn::Shr => {
                let last = u64::from(a) >> (count - 1);
                let r = (last >> 1) as u32 & m;
                self.shift_flags(r, bytes, last & 1 != 0, top(last as u32 & m));
                r
            }
            _ => {
                let sa = i64::from(sext(a, bytes) as i32);
                let last = sa >> (count - 1);
                let r = (last >> 1) as u32 & m;
                self.shift_flags(r, bytes, last & 1 != 0, false);
                r
            }
        }
    }

    fn shift_flags(&mut self, r: u32, bytes: u8, cf: bool, of: bool) {
        let mut f = szp(r, bytes);
        if cf {
            f |= CF;
        }
        if of {
            f |= OF;
        }
        self.put_flags(CF | PF | AF | ZF | SF | OF, f);
    }

    pub(super) fn exec_shift<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::size_of(insn, insn.ops[0]);
        let a = self.read_op(bus, insn, 0)?;
        let count = self.read_op(bus, insn, 1)?;
        let r = self.shift(insn.mn, a, count, bytes);
        self.write_op(bus, insn, 0, r)
    }

    /// SHLD / SHRD.
    pub(super) fn exec_shld<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::vsize(insn);
        let bits = u32::from(bytes) * 8;
        let a = self.read_op(bus, insn, 0)?;
        let b = self.read_op(bus, insn, 1)?;
        let count = self.read_op(bus, insn, 2)? & 31;
        if count == 0 {
            return Ok(());
        }
        let m = u64::from(mask(bytes));
        let (a64, b64) = (u64::from(a), u64::from(b));
        let c = u64::from(count) as u32;
        let (r, cf) = if insn.mn == Mn::Shld {
            // a:b (and a again for 16-bit counts above 16), shifted left.
            let (w, total) = if bits == 16 {
                (a64 << 32 | b64 << 16 | a64, 48)
            } else {
                (a64 << 32 | b64, 64)
            };
            (
                ((w << c) >> (total - bits)) & m,
                (w >> (total - c)) & 1 != 0,
            )
        } else {
            let w = if bits == 16 {
                a64 << 32 | b64 << 16 | a64
            } else {
                b64 << 32 | a64
            };
            ((w >> c) & m, (w >> (c - 1)) & 1 != 0)
        };
        let r = r as u32;
        let of = (r ^ a) & msb(bytes) != 0;
        self.shift_flags(r, bytes, cf, of);
        self.write_op(bus, insn, 0, r)
    }
}
