//! Control transfer: near and far JMP/CALL/RET, Jcc, LOOP/JCXZ, IRET,
//! the software interrupts (INT n, INT3, INTO, INT1), BOUND, and the
//! far-pointer loads (LDS/LES/LFS/LGS/LSS).

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{OF, VM, ZF};
use super::super::interrupt::Source;
use super::super::{Cpu, SegReg};
use super::Flow;
use crate::x86::{Insn, Mn, Opnd};

impl Cpu {
    /// Near jump to `target` (wrapped to the operand size), checking CS's limit.
    pub(crate) fn jump_near(&mut self, insn: &Insn, target: u32) -> Result<(), Fault> {
        let t = if insn.op32 { target } else { target & 0xFFFF };
        self.linear(SegReg::Cs, t, 1)?;
        self.eip = t;
        Ok(())
    }

    fn jump_far(&mut self, insn: &Insn, sel: u16, off: u32) -> Result<(), Fault> {
        let t = if insn.op32 { off } else { off & 0xFFFF };
        self.load_segment_real(SegReg::Cs, sel);
        self.linear(SegReg::Cs, t, 1)?;
        self.eip = t;
        Ok(())
    }

    /// Reads the far pointer (offset, selector) of a memory operand.
    fn read_far<B: Bus + ?Sized>(&mut self, bus: &mut B, insn: &Insn) -> Result<(u32, u16), Fault> {
        let v = Self::vsize(insn);
        let (seg, off) = self.ea(insn);
        let o = self.read_mem(bus, seg, off, v)?;
        let s = self.read_mem(bus, seg, Self::ea_add(insn, off, u32::from(v)), 2)?;
        Ok((o, s as u16))
    }

    pub(super) fn exec_branch<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let v = Self::vsize(insn);
        let next = self.eip;
        let rel = next.wrapping_add(insn.imm);
        match insn.mn {
            Mn::Jcc => {
                if self.cond((insn.opcode & 15) as u8) {
                    self.jump_near(insn, rel)?;
                }
            }
            Mn::Jmp => {
                let t = if matches!(insn.ops[0], Opnd::Jb | Opnd::Jv) {
                    rel
                } else {
                    self.read_op(bus, insn, 0)?
                };
                self.jump_near(insn, t)?;
            }
            Mn::Call => {
                let t = if insn.ops[0] == Opnd::Jv {
                    rel
                } else {
                    self.read_op(bus, insn, 0)?
                };
                self.push(bus, v, next)?;
                self.jump_near(insn, t)?;
            }
            Mn::Jmpf | Mn::Callf => {
                let (off, sel) = if insn.ops[0] == Opnd::Ap {
                    (insn.imm, insn.imm2 as u16)
                } else {
                    self.read_far(bus, insn)?
                };
                if self.protected() {
                    return self.far_transfer_pm(bus, insn, sel, off, insn.mn == Mn::Callf);
                }
                if insn.mn == Mn::Callf {
                    let cs = self.segs[SegReg::Cs as usize].selector;
                    self.push(bus, v, u32::from(cs))?;
                    self.push(bus, v, next)?;
                }
                self.jump_far(insn, sel, off)?;
            }
            Mn::Ret => {
                let t = self.pop(bus, v)?;
                if !insn.ops.is_empty() {
                    self.set_sp(self.gpr[4].wrapping_add(insn.imm & 0xFFFF));
                }
                self.jump_near(insn, t)?;
            }
            Mn::Retf if self.protected() => self.far_return_pm(bus, insn)?,
            Mn::Iret if self.cr0 & 1 != 0 => self.iret_pm(bus, insn)?,
            Mn::Retf => {
                let off = self.peek_stack(bus, 0, v)?;
                let sel = self.peek_stack(bus, u32::from(v), v)?;
                let mut sp = self.gpr[4].wrapping_add(2 * u32::from(v));
                if !insn.ops.is_empty() {
                    sp = sp.wrapping_add(insn.imm & 0xFFFF);
                }
                self.set_sp(sp);
                self.jump_far(insn, sel as u16, off)?;
            }
            Mn::Iret => {
                let off = self.peek_stack(bus, 0, v)?;
                let sel = self.peek_stack(bus, u32::from(v), v)?;
                let fl = self.peek_stack(bus, 2 * u32::from(v), v)?;
                self.set_sp(self.gpr[4].wrapping_add(3 * u32::from(v)));
                self.jump_far(insn, sel as u16, off)?;
                self.load_flags(fl, v);
            }
            _ => {
                // LOOP family and JCXZ use (E)CX by the address size. A
                // target outside CS faults before the count is written
                // (a fault commits nothing; Bochs writes ECX last too).
                let cmask = if insn.addr32 { u32::MAX } else { 0xFFFF };
                let count = self.gpr[1] & cmask;
                if insn.mn == Mn::Jcxz {
                    if count == 0 {
                        self.jump_near(insn, rel)?;
                    }
                } else {
                    let count = count.wrapping_sub(1) & cmask;
                    let take = count != 0
                        && match insn.mn {
                            Mn::Loope => self.flag(ZF),
                            Mn::Loopne => !self.flag(ZF),
                            _ => true,
                        };
                    if take {
                        self.jump_near(insn, rel)?;
                    }
                    self.gpr[1] = (self.gpr[1] & !cmask) | count;
                }
            }
        }
        Ok(())
    }

    /// INT n, INT3, INTO, INT1: software interrupts through the IVT.
    pub(super) fn exec_int<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<Flow, Fault> {
        let vector = match insn.mn {
            Mn::Int => insn.imm as u8,
            Mn::Int3 => 3,
            Mn::Int1 => 1,
            _ => {
                if !self.flag(OF) {
                    return Ok(Flow::Next);
                }
                4
            }
        };
        let next = self.eip;
        if self.eflags & VM != 0 && insn.mn != Mn::Int1 {
            // CR4.VME may send INT n to the task's own vector table.
            if insn.mn == Mn::Int && self.redirect_v86_interrupt(bus, vector, next)? {
                return Ok(Flow::SoftInt);
            }
            // Otherwise INT n, INT3 and INTO are IOPL-sensitive.
            if self.iopl() < 3 {
                return Err(Fault::Gp(0));
            }
        }
        let source = if insn.mn == Mn::Int1 {
            Source::Exception
        } else {
            Source::Software
        };
        self.deliver(bus, vector, source, None, next)?;
        Ok(Flow::SoftInt)
    }

    pub(super) fn exec_bound<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let v = Self::vsize(insn);
        let sx = |x: u32| super::super::flags::sext(x, v) as i32;
        let idx = sx(self.read_op(bus, insn, 0)?);
        let (seg, off) = self.ea(insn);
        let lo = sx(self.read_mem(bus, seg, off, v)?);
        let hi = sx(self.read_mem(bus, seg, Self::ea_add(insn, off, u32::from(v)), v)?);
        if idx < lo || idx > hi {
            return Err(Fault::Br);
        }
        Ok(())
    }

    pub(super) fn exec_load_far<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let (off, sel) = self.read_far(bus, insn)?;
        let seg = match insn.mn {
            Mn::Les => SegReg::Es,
            Mn::Lds => SegReg::Ds,
            Mn::Lss => SegReg::Ss,
            Mn::Lfs => SegReg::Fs,
            _ => SegReg::Gs,
        };
        // Unlike MOV SS / POP SS, LSS opens no interrupt shadow.
        let shadow = self.shadow_ss;
        self.load_seg(bus, seg, sel)?;
        self.shadow_ss = shadow;
        self.write_op(bus, insn, 0, off)
    }
}
