//! The protected-mode system instructions on selectors: SLDT, STR, LLDT,
//! LTR, VERR, VERW, LAR, LSL and ARPL. All raise #UD in real and
//! virtual-8086 mode, and LLDT and LTR need CPL 0 (their opcode rows say
//! so; `gate.rs` checks). VERR/VERW/LAR/LSL report through ZF and never
//! fault on a bad selector.

use super::super::bus::Bus;
use super::super::descriptor::{Desc, LDT, TSS16, TSS16_BUSY, TSS32, TSS32_BUSY};
use super::super::fault::Fault;
use super::super::flags::ZF;
use super::super::Cpu;
use crate::x86::{Insn, Mn};

impl Cpu {
    pub(super) fn exec_selector_op<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        match insn.mn {
            Mn::Sldt | Mn::Str => {
                let sel = if insn.mn == Mn::Sldt {
                    self.ldtr.selector
                } else {
                    self.tr.selector
                };
                self.store_selector(bus, insn, sel)
            }
            Mn::Lldt | Mn::Ltr => {
                let sel = self.read_op(bus, insn, 0)? as u16;
                if insn.mn == Mn::Lldt {
                    self.load_ldtr(bus, sel, Fault::Gp)
                } else {
                    self.load_tr(bus, sel)
                }
            }
            Mn::Verr | Mn::Verw => {
                let sel = self.read_op(bus, insn, 0)? as u16;
                let ok = match self.probe_desc(bus, sel)? {
                    Some(d) if insn.mn == Mn::Verr => {
                        d.readable() && !d.system() && (d.conforming() || self.visible(sel, &d))
                    }
                    Some(d) => d.writable() && self.visible(sel, &d),
                    None => false,
                };
                self.set_flag(ZF, ok);
                Ok(())
            }
            Mn::Lar | Mn::Lsl => {
                let sel = self.read_op(bus, insn, 1)? as u16;
                let lar = insn.mn == Mn::Lar;
                let found = self.probe_desc(bus, sel)?.filter(|d| {
                    let type_ok = if d.system() {
                        let t = d.typ();
                        matches!(t, TSS16 | LDT | TSS16_BUSY | TSS32 | TSS32_BUSY)
                            || (lar && matches!(t, 0x4 | 0x5 | 0xC))
                    } else {
                        true
                    };
                    type_ok && (d.conforming() || self.visible(sel, d))
                });
                self.set_flag(ZF, found.is_some());
                if let Some(d) = found {
                    let v = if lar { d.hi & 0x00FF_FF00 } else { d.limit() };
                    self.write_op(bus, insn, 0, v)?;
                }
                Ok(())
            }
            _ => {
                // ARPL: raise the destination's RPL to the source's.
                let dst = self.read_op(bus, insn, 0)?;
                let src = self.read_op(bus, insn, 1)?;
                let raise = dst & 3 < src & 3;
                if raise {
                    self.write_op(bus, insn, 0, (dst & !3) | (src & 3))?;
                }
                self.set_flag(ZF, raise);
                Ok(())
            }
        }
    }

    /// SLDT/STR: a register gets the selector zero-extended to the
    /// operand size, memory always 16 bits.
    fn store_selector<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        sel: u16,
    ) -> Result<(), Fault> {
        if insn.mem.is_some() {
            let (s, off) = self.ea(insn);
            return self.write_mem(bus, s, off, 2, u32::from(sel));
        }
        let rm = insn.modrm.map_or(0, |m| m.rm);
        self.set_reg(rm, Self::vsize(insn), u32::from(sel));
        Ok(())
    }

    /// The descriptor `sel` names, or `None` for a null selector or one
    /// outside its table (paging faults still fault).
    fn probe_desc<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
    ) -> Result<Option<Desc>, Fault> {
        if sel & 0xFFFC == 0 || self.desc_addr(sel).is_none() {
            return Ok(None);
        }
        self.read_desc(bus, sel, Fault::Gp(0)).map(Some)
    }

    /// DPL >= CPL and DPL >= RPL: the descriptor is visible at this level.
    fn visible(&self, sel: u16, d: &Desc) -> bool {
        d.dpl() >= self.cpl() && d.dpl() >= (sel & 3) as u8
    }
}
