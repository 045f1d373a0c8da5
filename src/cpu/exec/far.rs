//! Protected-mode far control transfers: JMP and CALL to a code segment,
//! through a call gate (with the inner-stack switch from the TSS and the
//! parameter copy), to a TSS or through a task gate (a task switch); RETF
//! (with an immediate) within a level and to an outer one; IRET within a
//! level, to an outer level (nulling the data segment registers the new
//! level may not use), back to virtual-8086 mode, within it (on the
//! virtual flags image under CR4.VME, see `vme.rs`), and through NT to the
//! previous task. Every check comes before any register changes.

use super::super::bus::Bus;
use super::super::descriptor::{
    v86_segment, Desc, CALL_GATE16, CALL_GATE32, TASK_GATE, TSS16, TSS32,
};
use super::super::fault::Fault;
use super::super::flags::{IF, IOPL, NT, VM};
use super::super::interrupt::{esp_merge, Frame};
use super::super::segment::{within_limit, ACCESS_DB};
use super::super::task::Switch;
use super::super::{Cpu, SegReg, Segment};
use crate::x86::Insn;

impl Cpu {
    /// Far JMP (`call` false) or CALL to `sel:off` in protected mode.
    pub(super) fn far_transfer_pm<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        sel: u16,
        off: u32,
        call: bool,
    ) -> Result<(), Fault> {
        let next = self.eip;
        let code = sel & 0xFFFC;
        if code == 0 {
            return Err(Fault::Gp(0));
        }
        let d = self.read_desc(bus, sel, Fault::Gp(code))?;
        let cpl = self.cpl();
        let rpl = (sel & 3) as u8;
        let kind = if call { Switch::Call } else { Switch::Jmp };
        if d.is_code() {
            let bad = if d.conforming() {
                d.dpl() > cpl
            } else {
                rpl > cpl || d.dpl() != cpl
            };
            if bad {
                return Err(Fault::Gp(code));
            }
            if !d.present() {
                return Err(Fault::Np(code));
            }
            let t = if insn.op32 { off } else { off & 0xFFFF };
            let new_cs = d.segment(code | u16::from(cpl));
            if !within_limit(&new_cs, t, 1) {
                return Err(Fault::Gp(0));
            }
            if call {
                let v = Self::vsize(insn);
                let cs = u32::from(self.segs[SegReg::Cs as usize].selector);
                self.push(bus, v, cs)?;
                self.push(bus, v, next)?;
            }
            self.set_accessed(bus, sel, &d)?;
            self.segs[SegReg::Cs as usize] = new_cs;
            self.eip = t;
            return Ok(());
        }
        if !d.system() {
            return Err(Fault::Gp(code));
        }
        match d.typ() {
            CALL_GATE16 | CALL_GATE32 => self.call_gate(bus, code, rpl, &d, call),
            TASK_GATE | TSS16 | TSS32 => {
                if d.dpl() < cpl || d.dpl() < rpl {
                    return Err(Fault::Gp(code));
                }
                if !d.present() {
                    return Err(Fault::Np(code));
                }
                if d.typ() == TASK_GATE {
                    self.task_switch_gate(bus, d.gate_selector(), kind, 0, next)
                } else {
                    if sel & 4 != 0 {
                        return Err(Fault::Gp(code));
                    }
                    self.task_switch(bus, sel, d, kind, next)
                }
            }
            // Busy TSSs, LDTs, interrupt and trap gates.
            _ => Err(Fault::Gp(code)),
        }
    }

    /// JMP or CALL through call gate `gate` (selector `code`, RPL `rpl`).
    fn call_gate<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        code: u16,
        rpl: u8,
        gate: &Desc,
        call: bool,
    ) -> Result<(), Fault> {
        let cpl = self.cpl();
        if gate.dpl() < cpl || gate.dpl() < rpl {
            return Err(Fault::Gp(code));
        }
        if !gate.present() {
            return Err(Fault::Np(code));
        }
        let tsel = gate.gate_selector();
        let tcode = tsel & 0xFFFC;
        if tcode == 0 {
            return Err(Fault::Gp(0));
        }
        let cs = self.read_desc(bus, tsel, Fault::Gp(tcode))?;
        if !cs.is_code() || cs.dpl() > cpl || (!call && !cs.conforming() && cs.dpl() != cpl) {
            return Err(Fault::Gp(tcode));
        }
        if !cs.present() {
            return Err(Fault::Np(tcode));
        }
        let gate32 = gate.typ() == CALL_GATE32;
        let bytes: u8 = if gate32 { 4 } else { 2 };
        let target = if gate32 {
            gate.gate_offset()
        } else {
            gate.gate_offset() & 0xFFFF
        };
        let next = self.eip;
        let old_cs = u32::from(self.segs[SegReg::Cs as usize].selector);
        if call && !cs.conforming() && cs.dpl() < cpl {
            // A call to an inner level: switch to the TSS's stack and copy
            // the parameters.
            let new_cpl = cs.dpl();
            let (ss_sel, esp) = self.tss_stack(bus, new_cpl, 0)?;
            let ss = self.check_tss_ss(bus, ss_sel, new_cpl, 0)?;
            let mut frame = Frame::new();
            frame.push(u32::from(self.segs[SegReg::Ss as usize].selector));
            frame.push(self.gpr[4]);
            let m = self.sp_mask();
            for i in (0..gate.param_count()).rev() {
                let off = self.gpr[4].wrapping_add(i * u32::from(bytes)) & m;
                frame.push(self.read_mem(bus, SegReg::Ss, off, bytes)?);
            }
            frame.push(old_cs);
            frame.push(next);
            let new_cs = cs.segment(tcode | u16::from(new_cpl));
            if !within_limit(&new_cs, target, 1) {
                return Err(Fault::Gp(0));
            }
            let sp = self.write_frame(bus, &ss, esp, bytes, &frame, new_cpl, ss_sel & 0xFFFC)?;
            self.set_accessed(bus, tsel, &cs)?;
            self.segs[SegReg::Ss as usize] = ss;
            self.gpr[4] = esp_merge(&ss, esp, sp);
            self.segs[SegReg::Cs as usize] = new_cs;
            self.cpl = new_cpl;
            self.eip = target;
            return Ok(());
        }
        let new_cs = cs.segment(tcode | u16::from(cpl));
        if !within_limit(&new_cs, target, 1) {
            return Err(Fault::Gp(0));
        }
        if call {
            self.push(bus, bytes, old_cs)?;
            self.push(bus, bytes, next)?;
        }
        self.set_accessed(bus, tsel, &cs)?;
        self.segs[SegReg::Cs as usize] = new_cs;
        self.eip = target;
        Ok(())
    }

    /// The checks on the code segment a RETF or IRET returns to; returns
    /// its descriptor.
    fn return_cs<B: Bus + ?Sized>(&mut self, bus: &mut B, sel: u16) -> Result<Desc, Fault> {
        let code = sel & 0xFFFC;
        let rpl = (sel & 3) as u8;
        if code == 0 {
            return Err(Fault::Gp(0));
        }
        let d = self.read_desc(bus, sel, Fault::Gp(code))?;
        if !d.is_code() || rpl < self.cpl() {
            return Err(Fault::Gp(code));
        }
        if (d.conforming() && d.dpl() > rpl) || (!d.conforming() && d.dpl() != rpl) {
            return Err(Fault::Gp(code));
        }
        if !d.present() {
            return Err(Fault::Np(code));
        }
        Ok(d)
    }

    /// The checks on the stack segment of a return to outer level `rpl`.
    fn return_ss<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        rpl: u8,
    ) -> Result<Segment, Fault> {
        let code = sel & 0xFFFC;
        if code == 0 {
            return Err(Fault::Gp(0));
        }
        let d = self.read_desc(bus, sel, Fault::Gp(code))?;
        if (sel & 3) as u8 != rpl || d.dpl() != rpl || !d.writable() {
            return Err(Fault::Gp(code));
        }
        if !d.present() {
            return Err(Fault::Ss(code));
        }
        self.set_accessed(bus, sel, &d)?;
        Ok(d.segment(sel))
    }

    /// RETF [imm] in protected mode.
    pub(super) fn far_return_pm<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let v = Self::vsize(insn);
        let vb = u32::from(v);
        let imm = if insn.ops.is_empty() {
            0
        } else {
            insn.imm & 0xFFFF
        };
        let off = self.peek_stack(bus, 0, v)?;
        let sel = self.peek_stack(bus, vb, v)? as u16;
        let d = self.return_cs(bus, sel)?;
        let rpl = (sel & 3) as u8;
        let t = if insn.op32 { off } else { off & 0xFFFF };
        let new_cs = d.segment(sel);
        if rpl == self.cpl() {
            if !within_limit(&new_cs, t, 1) {
                return Err(Fault::Gp(0));
            }
            self.set_accessed(bus, sel, &d)?;
            self.segs[SegReg::Cs as usize] = new_cs;
            self.eip = t;
            self.set_sp(self.gpr[4].wrapping_add(2 * vb + imm));
            return Ok(());
        }
        let new_esp = self.peek_stack(bus, 2 * vb + imm, v)?;
        let ss_sel = self.peek_stack(bus, 3 * vb + imm, v)? as u16;
        let ss = self.return_ss(bus, ss_sel, rpl)?;
        if !within_limit(&new_cs, t, 1) {
            return Err(Fault::Gp(0));
        }
        self.set_accessed(bus, sel, &d)?;
        self.segs[SegReg::Cs as usize] = new_cs;
        self.cpl = rpl;
        self.eip = t;
        self.segs[SegReg::Ss as usize] = ss;
        self.gpr[4] = outer_esp(self.gpr[4], v, &ss, new_esp);
        self.set_sp(self.gpr[4].wrapping_add(imm));
        self.null_inaccessible_segments();
        Ok(())
    }

    /// IRET in protected or virtual-8086 mode.
    pub(super) fn iret_pm<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let v = Self::vsize(insn);
        let vb = u32::from(v);
        if self.eflags & VM != 0 {
            let virtual_flags = self.v86_flags_are_virtual(v)?;
            let off = self.peek_stack(bus, 0, v)?;
            let sel = self.peek_stack(bus, vb, v)? as u16;
            let fl = self.peek_stack(bus, 2 * vb, v)?;
            let t = if v == 4 { off } else { off & 0xFFFF };
            if t > 0xFFFF {
                return Err(Fault::Gp(0));
            }
            if virtual_flags {
                // Checked (and loaded) first: it may still raise #GP(0).
                self.load_virtual_flags(fl)?;
            } else {
                self.load_flags(fl, v);
            }
            self.set_sp(self.gpr[4].wrapping_add(3 * vb));
            self.segs[SegReg::Cs as usize] = v86_segment(sel);
            self.eip = t;
            return Ok(());
        }
        if self.eflags & NT != 0 {
            let next = self.eip;
            return self.task_return(bus, next);
        }
        let off = self.peek_stack(bus, 0, v)?;
        let sel = self.peek_stack(bus, vb, v)? as u16;
        let fl = self.peek_stack(bus, 2 * vb, v)?;
        if v == 4 && fl & VM != 0 && self.cpl() == 0 {
            return self.iret_to_v86(bus, off, sel, fl);
        }
        let d = self.return_cs(bus, sel)?;
        let rpl = (sel & 3) as u8;
        let t = if v == 4 { off } else { off & 0xFFFF };
        let new_cs = d.segment(sel);
        if !within_limit(&new_cs, t, 1) {
            return Err(Fault::Gp(0));
        }
        if rpl == self.cpl() {
            self.set_accessed(bus, sel, &d)?;
            self.segs[SegReg::Cs as usize] = new_cs;
            self.eip = t;
            self.set_sp(self.gpr[4].wrapping_add(3 * vb));
            self.load_flags(fl, v);
            self.iret_restores_virtual_flags(fl, v, self.cpl());
            return Ok(());
        }
        let new_esp = self.peek_stack(bus, 3 * vb, v)?;
        let ss_sel = self.peek_stack(bus, 4 * vb, v)? as u16;
        let ss = self.return_ss(bus, ss_sel, rpl)?;
        self.set_accessed(bus, sel, &d)?;
        // The flags are loaded with the privileges of the old level.
        self.load_flags(fl, v);
        self.iret_restores_virtual_flags(fl, v, self.cpl());
        self.segs[SegReg::Cs as usize] = new_cs;
        self.cpl = rpl;
        self.eip = t;
        self.segs[SegReg::Ss as usize] = ss;
        self.gpr[4] = outer_esp(self.gpr[4], v, &ss, new_esp);
        self.null_inaccessible_segments();
        Ok(())
    }

    /// IRET from CPL 0 to a virtual-8086 task: pops EIP, CS, EFLAGS, ESP,
    /// SS, ES, DS, FS, GS (32 bits each).
    fn iret_to_v86<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        off: u32,
        cs: u16,
        fl: u32,
    ) -> Result<(), Fault> {
        let mut vals = [0u32; 6];
        for (i, val) in vals.iter_mut().enumerate() {
            *val = self.peek_stack(bus, 12 + 4 * i as u32, 4)?;
        }
        let [esp, ss, es, ds, fs, gs] = vals;
        if off & 0xFFFF_0000 != 0 {
            return Err(Fault::Gp(0));
        }
        self.eflags = (fl & self.writable_flags()) | 2 | VM;
        for (s, sel) in [
            (SegReg::Cs, cs),
            (SegReg::Ss, ss as u16),
            (SegReg::Es, es as u16),
            (SegReg::Ds, ds as u16),
            (SegReg::Fs, fs as u16),
            (SegReg::Gs, gs as u16),
        ] {
            self.segs[s as usize] = v86_segment(sel);
        }
        self.gpr[4] = esp;
        self.eip = off;
        self.cpl = 3;
        Ok(())
    }

    /// The EFLAGS bits POPF and IRET may not change at the current
    /// privilege: IOPL unless CPL 0 (always in V86 mode), IF unless
    /// CPL <= IOPL.
    pub(crate) fn protected_flags(&self) -> u32 {
        if self.cr0 & 1 == 0 {
            return 0;
        }
        if self.eflags & VM != 0 {
            return IOPL;
        }
        let cpl = u32::from(self.cpl());
        let mut keep = 0;
        if cpl > 0 {
            keep |= IOPL;
        }
        if cpl > self.iopl() {
            keep |= IF;
        }
        keep
    }
}

/// ESP after a return to an outer level (RETF, IRET) popped `new_esp` with
/// operand size `v` onto stack segment `ss`, from ESP `esp`: the SDM's
/// `ESP <- Pop()`, all of it onto a 32-bit stack (a 16-bit pop zero-
/// extended), only SP onto a 16-bit one.
fn outer_esp(esp: u32, v: u8, ss: &Segment, new_esp: u32) -> u32 {
    if v == 4 || ss.access & ACCESS_DB != 0 {
        new_esp
    } else {
        (esp & 0xFFFF_0000) | (new_esp & 0xFFFF)
    }
}
