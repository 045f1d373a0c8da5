//! Decimal and ASCII adjust instructions (DAA, DAS, AAA, AAS, AAM, AAD)
//! and SALC, which all work on AL/AH and the flags only.

use super::super::fault::Fault;
use super::super::flags::{szp, AF, CF, PF, SF, ZF};
use super::super::Cpu;
use crate::x86::{Insn, Mn};

impl Cpu {
    pub(super) fn exec_bcd(&mut self, insn: &Insn) -> Result<(), Fault> {
        let al = self.reg(0, 1);
        let cf = self.flag(CF);
        let af = self.flag(AF);
        match insn.mn {
            Mn::Daa | Mn::Das => {
                let mut v = al;
                let mut ncf = false;
                let naf = (al & 0x0F) > 9 || af;
                if naf {
                    if insn.mn == Mn::Daa {
                        v = v.wrapping_add(6);
                        ncf = cf || v > 0xFF;
                    } else {
                        ncf = cf || al < 6;
                        v = v.wrapping_sub(6);
                    }
                    v &= 0xFF;
                }
                if al > 0x99 || cf {
                    v = if insn.mn == Mn::Daa {
                        v.wrapping_add(0x60)
                    } else {
                        v.wrapping_sub(0x60)
                    } & 0xFF;
                    ncf = true;
                }
                self.set_reg(0, 1, v);
                self.put_flags(SF | ZF | PF, szp(v, 1));
                self.set_flag(CF, ncf);
                self.set_flag(AF, naf);
            }
            Mn::Aaa | Mn::Aas => {
                let adjust = (al & 0x0F) > 9 || af;
                let mut ax = self.reg(0, 2);
                if adjust {
                    ax = if insn.mn == Mn::Aaa {
                        ax.wrapping_add(0x106)
                    } else {
                        ax.wrapping_sub(6).wrapping_sub(0x100)
                    };
                }
                let ax = ax & 0xFF0F;
                self.set_reg(0, 2, ax);
                self.put_flags(SF | ZF | PF, szp(ax, 1));
                self.set_flag(CF, adjust);
                self.set_flag(AF, adjust);
            }
            Mn::Aam => {
                let base = insn.imm & 0xFF;
                if base == 0 {
                    return Err(Fault::De);
                }
                let v = ((al / base) << 8) | (al % base);
                self.set_reg(0, 2, v);
                self.set_status(v & 0xFF, 1, false, false, false);
            }
            Mn::Aad => {
                let base = insn.imm & 0xFF;
                let ah = self.reg(4, 1);
                let v = (al + ah * base) & 0xFF;
                self.set_reg(0, 2, v);
                self.set_status(v, 1, false, false, false);
            }
            _ => self.set_reg(0, 1, if cf { 0xFF } else { 0 }),
        }
        Ok(())
    }
}
