//! Operand access: reading and writing the operands an [`Insn`] names
//! (registers by width, ModRM memory through its effective address,
//! immediates, fixed registers), so that instruction semantics can be
//! written once, independent of the encoding form.

use super::bus::Bus;
use super::fault::Fault;
use super::flags::mask;
use super::{Cpu, SegReg};
use crate::x86::{Insn, Opnd};

/// Converts the decoder's segment name to the CPU's.
impl Cpu {
    /// Reads general register `n` at width `bytes` (AH..BH for bytes 4-7).
    #[inline(always)]
    pub(crate) fn reg(&self, n: u8, bytes: u8) -> u32 {
        let n = usize::from(n & 7);
        match bytes {
            1 if n < 4 => self.gpr[n] & 0xFF,
            1 => (self.gpr[n - 4] >> 8) & 0xFF,
            2 => self.gpr[n] & 0xFFFF,
            _ => self.gpr[n],
        }
    }

    /// Writes general register `n` at width `bytes`, keeping the other bits.
    #[inline(always)]
    pub(crate) fn set_reg(&mut self, n: u8, bytes: u8, v: u32) {
        let n = usize::from(n & 7);
        match bytes {
            1 if n < 4 => self.gpr[n] = (self.gpr[n] & !0xFF) | (v & 0xFF),
            1 => self.gpr[n - 4] = (self.gpr[n - 4] & !0xFF00) | ((v & 0xFF) << 8),
            2 => self.gpr[n] = (self.gpr[n] & !0xFFFF) | (v & 0xFFFF),
            _ => self.gpr[n] = v,
        }
    }

    /// Operand-size width in bytes (2 or 4).
    pub(crate) fn vsize(insn: &Insn) -> u8 {
        if insn.op32 {
            4
        } else {
            2
        }
    }

    /// Width in bytes of operand kind `o`.
    pub(crate) fn size_of(insn: &Insn, o: Opnd) -> u8 {
        use Opnd::*;
        match o {
            Eb | Gb | Ib | Zb | AL | CL | Xb | Yb | Ob | Jb | One => 1,
            Ew | Gw | Iw | Sw | DX | SEs | SCs | SSs | SDs | SFs | SGs => 2,
            Rd | Cd | Dd => 4,
            _ => Self::vsize(insn),
        }
    }

    /// Segment and offset of the instruction's memory operand.
    pub(crate) fn ea(&self, insn: &Insn) -> (SegReg, u32) {
        let Some(m) = insn.mem else {
            return (SegReg::Ds, 0);
        };
        let mut off = m.disp;
        if let Some(b) = m.base {
            off = off.wrapping_add(self.gpr[usize::from(b.num() & 7)]);
        }
        if let Some(i) = m.index {
            off = off.wrapping_add(self.gpr[usize::from(i.num() & 7)] << m.scale);
        }
        if !insn.addr32 {
            off &= 0xFFFF;
        }
        (m.seg, off)
    }

    /// The offset part of the effective address, wrapped to the address size.
    pub(crate) fn ea_add(insn: &Insn, off: u32, delta: u32) -> u32 {
        let r = off.wrapping_add(delta);
        if insn.addr32 {
            r
        } else {
            r & 0xFFFF
        }
    }

    /// The immediate operand `i` reads (the first or the second immediate).
    pub(crate) fn imm_for(insn: &Insn, i: usize) -> u32 {
        let before = insn
            .ops
            .iter()
            .take(i)
            .filter(|o| matches!(o, Opnd::Ib | Opnd::Iw | Opnd::Iv | Opnd::Ibs))
            .count();
        if before == 0 {
            insn.imm
        } else {
            insn.imm2
        }
    }

    /// Reads operand `i` of `insn`.
    pub(crate) fn read_op<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        i: usize,
    ) -> Result<u32, Fault> {
        use Opnd::*;
        let Some(&o) = insn.ops.get(i) else {
            return Ok(0);
        };
        let bytes = Self::size_of(insn, o);
        let m = insn.modrm.unwrap_or(crate::x86::ModRm {
            md: 0,
            reg: 0,
            rm: 0,
        });
        Ok(match o {
            Eb | Ew | Ev | Ob | Ov | M | Mp | Ma | Ms | Mq | Ex => {
                if insn.mem.is_some() {
                    let (s, off) = self.ea(insn);
                    return self.read_mem(bus, s, off, bytes);
                }
                self.reg(m.rm, bytes)
            }
            Gb | Gw | Gv => self.reg(m.reg, bytes),
            Sw => match SegReg::ALL.get(usize::from(m.reg)) {
                // The 286 has no FS/GS.
                Some(SegReg::Fs | SegReg::Gs) if self.model == super::Model::I286 => {
                    return Err(Fault::Ud)
                }
                Some(&s) => u32::from(self.segs[s as usize].selector),
                None => return Err(Fault::Ud),
            },
            Ib | Iw | Iv => Self::imm_for(insn, i) & mask(bytes),
            Ibs => Self::imm_for(insn, i) & mask(bytes),
            Zb | Zv => self.reg((insn.opcode & 7) as u8, bytes),
            AL | EAX => self.reg(0, bytes),
            CL => self.reg(1, 1),
            DX => self.reg(2, 2),
            One => 1,
            SEs => u32::from(self.segs[0].selector),
            SCs => u32::from(self.segs[1].selector),
            SSs => u32::from(self.segs[2].selector),
            SDs => u32::from(self.segs[3].selector),
            SFs => u32::from(self.segs[4].selector),
            SGs => u32::from(self.segs[5].selector),
            Rd => self.gpr[usize::from(m.rm)],
            Cd => self.read_cr(m.reg)?,
            Dd => self.read_dr(m.reg)?,
            Jb | Jv | Ap | Xb | Xv | Yb | Yv => insn.imm,
        })
    }

    /// Writes operand `i` of `insn` (registers, memory, or a segment register).
    pub(crate) fn write_op<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        i: usize,
        v: u32,
    ) -> Result<(), Fault> {
        use Opnd::*;
        let Some(&o) = insn.ops.get(i) else {
            return Ok(());
        };
        let bytes = Self::size_of(insn, o);
        let m = insn.modrm.unwrap_or(crate::x86::ModRm {
            md: 0,
            reg: 0,
            rm: 0,
        });
        match o {
            Eb | Ew | Ev | Ob | Ov => {
                if insn.mem.is_some() {
                    let (s, off) = self.ea(insn);
                    return self.write_mem(bus, s, off, bytes, v);
                }
                self.set_reg(m.rm, bytes, v);
            }
            Gb | Gw | Gv => self.set_reg(m.reg, bytes, v),
            Zb | Zv => self.set_reg((insn.opcode & 7) as u8, bytes, v),
            AL | EAX => self.set_reg(0, bytes, v),
            Rd => self.gpr[usize::from(m.rm)] = v,
            Cd => self.write_cr(bus, m.reg, v)?,
            Dd => self.write_dr(m.reg, v)?,
            _ => return Err(Fault::Ud),
        }
        Ok(())
    }
}
