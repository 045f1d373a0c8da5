//! Interrupt and exception delivery: through the real-mode IVT, and in
//! protected and virtual-8086 mode through the IDT's interrupt, trap and
//! task gates, with the privilege checks, the stack switch through the TSS
//! on entry to an inner level (and the V86 frame with the data segment
//! registers), and error codes pushed where the hardware pushes them. The
//! EXT bit of the error codes raised here is set unless a software INT is
//! being delivered. On failure nothing of the CPU state has changed.

use super::bus::Bus;
use super::descriptor::{null_segment, Desc, TASK_GATE};
use super::fault::Fault;
use super::flags::{AC, IF, NT, RF, TF, VM};
use super::segment::{within_limit, ACCESS_DB};
use super::task::Switch;
use super::{Cpu, SegReg, Segment};

/// What is being delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// INT n, INT3, INTO: the gate's DPL is checked against CPL.
    Software,
    /// A hardware interrupt.
    External,
    /// An exception raised by the processor (and INT1).
    Exception,
}

/// One interrupt or exception the CPU delivered (see
/// [`Cpu::set_record_deliveries`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub vector: u8,
    /// The error code pushed, if any.
    pub error: Option<u16>,
    pub source: Source,
}

/// The most values one transfer pushes: a call gate through an inner
/// stack pushes SS, ESP, up to 31 parameters, CS and EIP (an interrupt
/// from virtual-8086 mode pushes at most 10).
const MAX_PUSHES: usize = 2 + 31 + 2;

/// The values pushed by one delivery, call-gate transfer or ENTER (at
/// most 32), in push order, kept on the host stack so none allocates.
pub(crate) struct Frame {
    vals: [u32; MAX_PUSHES],
    n: usize,
}

impl Frame {
    pub(crate) fn new() -> Frame {
        Frame {
            vals: [0; MAX_PUSHES],
            n: 0,
        }
    }
    /// Appends `v`; more than [`MAX_PUSHES`] values is a bug in the caller.
    pub(crate) fn push(&mut self, v: u32) {
        self.vals[self.n] = v;
        self.n += 1;
    }
    /// The values pushed so far, in push order.
    pub(crate) fn values(&self) -> &[u32] {
        &self.vals[..self.n]
    }
}

impl Cpu {
    /// Delivers interrupt `vector` with `error` (pushed only in protected
    /// mode); `ret` is the EIP to return to.
    pub(crate) fn deliver<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        vector: u8,
        source: Source,
        error: Option<u16>,
        ret: u32,
    ) -> Result<(), Fault> {
        let delivered = if self.cr0 & 1 == 0 {
            self.deliver_real(bus, vector, ret)
        } else {
            self.deliver_protected(bus, vector, source, error, ret)
        };
        if delivered.is_ok() && self.record_deliveries {
            self.deliveries.push(Delivery {
                vector,
                error: if self.cr0 & 1 == 0 { None } else { error },
                source,
            });
        }
        delivered
    }

    /// Transfers control through IVT entry `vector` as INT does: pushes
    /// FLAGS, CS and `ret_ip`, clears IF and TF, loads CS:IP from the IVT.
    /// On failure ESP is left as it was.
    pub(crate) fn deliver_real<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        vector: u8,
        ret_ip: u32,
    ) -> Result<(), Fault> {
        let off = u32::from(vector) * 4;
        if off + 3 > self.idtr_limit {
            return Err(Fault::Gp(u16::from(vector) * 8 + 2));
        }
        let entry = self.idtr_base.wrapping_add(off);
        let new_ip = bus.read_u16(entry);
        let new_cs = bus.read_u16(entry.wrapping_add(2));
        let esp = self.gpr[4];
        let flags = self.eflags();
        let cs = self.segs[SegReg::Cs as usize].selector;
        let pushed = self
            .push(bus, 2, flags & 0xFFFF)
            .and_then(|_| self.push(bus, 2, u32::from(cs)))
            .and_then(|_| self.push(bus, 2, ret_ip & 0xFFFF));
        if let Err(f) = pushed {
            self.gpr[4] = esp;
            return Err(f);
        }
        self.eflags &= !(IF | TF | AC | RF);
        self.load_segment_real(SegReg::Cs, new_cs);
        self.eip = u32::from(new_ip);
        Ok(())
    }

    fn deliver_protected<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        vector: u8,
        source: Source,
        error: Option<u16>,
        ret: u32,
    ) -> Result<(), Fault> {
        let ext = u16::from(source != Source::Software);
        let idt_code = u16::from(vector) * 8 + 2 + ext;
        let off = u32::from(vector) * 8;
        if off + 7 > self.idtr_limit {
            return Err(Fault::Gp(idt_code));
        }
        let addr = self.idtr_base.wrapping_add(off);
        let gate = Desc {
            lo: self.read_lin(bus, addr, 4, false)?,
            hi: self.read_lin(bus, addr.wrapping_add(4), 4, false)?,
        };
        let typ = gate.typ();
        if !gate.system() || !matches!(typ, 0x5 | 0x6 | 0x7 | 0xE | 0xF) {
            return Err(Fault::Gp(idt_code));
        }
        if source == Source::Software && gate.dpl() < self.cpl() {
            return Err(Fault::Gp(idt_code));
        }
        if !gate.present() {
            return Err(Fault::Np(idt_code));
        }
        if typ == TASK_GATE {
            let tss = gate.gate_selector();
            self.task_switch_gate(bus, tss, Switch::Call, ext, ret)?;
            if let Some(code) = error {
                let bytes = if self.tr.access & 0x08 != 0 { 4 } else { 2 };
                self.push(bus, bytes, u32::from(code))?;
            }
            return Ok(());
        }
        let gate32 = typ & 0x8 != 0;
        let trap = typ & 1 != 0;
        let bytes: u8 = if gate32 { 4 } else { 2 };
        let sel = gate.gate_selector();
        let target = if gate32 {
            gate.gate_offset()
        } else {
            gate.gate_offset() & 0xFFFF
        };
        if sel & 0xFFFC == 0 {
            return Err(Fault::Gp(ext));
        }
        let sel_code = (sel & 0xFFFC) | ext;
        let cs = self.read_desc(bus, sel, Fault::Gp(sel_code))?;
        let cpl = self.cpl();
        if !cs.is_code() || cs.dpl() > cpl {
            return Err(Fault::Gp(sel_code));
        }
        if !cs.present() {
            return Err(Fault::Np(sel_code));
        }
        let v86 = self.eflags & VM != 0;
        let old_flags = self.eflags();
        let old_cs = u32::from(self.segs[SegReg::Cs as usize].selector);
        let mut frame = Frame::new();
        let new_cpl;
        let (new_ss, new_esp);
        if !cs.conforming() && cs.dpl() < cpl {
            // Inner privilege: the new stack comes from the TSS.
            new_cpl = cs.dpl();
            if v86 && new_cpl != 0 {
                return Err(Fault::Gp(sel_code));
            }
            let (ss_sel, esp) = self.tss_stack(bus, new_cpl, ext)?;
            let ss = self.check_tss_ss(bus, ss_sel, new_cpl, ext)?;
            if v86 {
                for s in [SegReg::Gs, SegReg::Fs, SegReg::Ds, SegReg::Es] {
                    frame.push(u32::from(self.segs[s as usize].selector));
                }
            }
            frame.push(u32::from(self.segs[SegReg::Ss as usize].selector));
            frame.push(self.gpr[4]);
            new_ss = ss;
            new_esp = esp;
        } else if cs.conforming() || cs.dpl() == cpl {
            if v86 {
                return Err(Fault::Gp(sel_code));
            }
            new_cpl = cpl;
            new_ss = self.segs[SegReg::Ss as usize];
            new_esp = self.gpr[4];
        } else {
            return Err(Fault::Gp(sel_code));
        }
        frame.push(old_flags);
        frame.push(old_cs);
        frame.push(ret);
        if let Some(code) = error {
            frame.push(u32::from(code));
        }
        let new_cs = cs.segment((sel & 0xFFFC) | u16::from(new_cpl));
        if !within_limit(&new_cs, target, 1) {
            return Err(Fault::Gp(0));
        }
        let ss_code = if new_cpl == cpl {
            ext
        } else {
            (new_ss.selector & 0xFFFC) | ext
        };
        let esp = self.write_frame(bus, &new_ss, new_esp, bytes, &frame, new_cpl, ss_code)?;
        self.set_accessed(bus, sel, &cs)?;
        // Commit.
        if new_cpl != cpl {
            self.segs[SegReg::Ss as usize] = new_ss;
        }
        self.gpr[4] = esp_merge(&new_ss, new_esp, esp);
        if v86 {
            for s in [SegReg::Es, SegReg::Ds, SegReg::Fs, SegReg::Gs] {
                self.segs[s as usize] = null_segment(0);
            }
        }
        self.segs[SegReg::Cs as usize] = new_cs;
        self.cpl = new_cpl;
        self.eip = target;
        self.eflags &= !(TF | NT | VM | RF);
        if !trap {
            self.eflags &= !IF;
        }
        Ok(())
    }

    /// Writes `frame` below `esp` on the stack `ss` (as privilege `cpl`,
    /// `bytes` per value), checking the limit and paging for every byte
    /// first; returns the new stack pointer. A limit violation is #SS with
    /// `ss_code`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_frame<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        ss: &Segment,
        esp: u32,
        bytes: u8,
        frame: &Frame,
        cpl: u8,
        ss_code: u16,
    ) -> Result<u32, Fault> {
        let mask = if ss.access & ACCESS_DB != 0 {
            u32::MAX
        } else {
            0xFFFF
        };
        let total = u32::from(bytes) * frame.n as u32;
        let top = esp.wrapping_sub(total) & mask;
        let user = cpl == 3;
        // In push order: the highest address first.
        for i in (0..frame.n as u32).rev() {
            let off = top.wrapping_add(i * u32::from(bytes)) & mask;
            if !within_limit(ss, off, u32::from(bytes)) {
                return Err(Fault::Ss(ss_code));
            }
            self.check_lin_write(bus, ss.base.wrapping_add(off), bytes, user)?;
        }
        for (i, &v) in frame.values().iter().enumerate() {
            // Pushed first = highest address.
            let slot = (frame.n - 1 - i) as u32;
            let off = top.wrapping_add(slot * u32::from(bytes)) & mask;
            let lin = ss.base.wrapping_add(off);
            self.write_lin(bus, lin, bytes, v, user)?;
        }
        Ok(top)
    }

    /// SS:ESP for privilege `level` from the current TSS (#TS on a TSS too
    /// short to hold them).
    pub(crate) fn tss_stack<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        level: u8,
        ext: u16,
    ) -> Result<(u16, u32), Fault> {
        let tss32 = self.tr.access & 0x08 != 0;
        let lvl = u32::from(level);
        let (off, sp_bytes) = if tss32 {
            (4 + 8 * lvl, 4)
        } else {
            (2 + 4 * lvl, 2)
        };
        let last = off + u32::from(sp_bytes) + 1;
        if last > self.tr.limit {
            return Err(Fault::Ts((self.tr.selector & 0xFFFC) | ext));
        }
        let base = self.tr.base;
        let esp = self.read_lin(bus, base.wrapping_add(off), sp_bytes, false)?;
        let ss = self.read_lin(bus, base.wrapping_add(off + u32::from(sp_bytes)), 2, false)?;
        Ok((ss as u16, esp))
    }

    /// The checks of the inner stack segment named by the TSS (#TS, or #SS
    /// when not present).
    pub(crate) fn check_tss_ss<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        level: u8,
        ext: u16,
    ) -> Result<Segment, Fault> {
        let code = (sel & 0xFFFC) | ext;
        if sel & 0xFFFC == 0 {
            return Err(Fault::Ts(ext));
        }
        let d = self.read_desc(bus, sel, Fault::Ts(code))?;
        if (sel & 3) as u8 != level || d.dpl() != level || !d.writable() {
            return Err(Fault::Ts(code));
        }
        if !d.present() {
            return Err(Fault::Ss(code));
        }
        self.set_accessed(bus, sel, &d)?;
        Ok(d.segment(sel))
    }
}

/// The new ESP after pushing onto `ss`: a 16-bit stack keeps the upper
/// half of the ESP it started from.
pub(crate) fn esp_merge(ss: &Segment, start: u32, sp: u32) -> u32 {
    if ss.access & ACCESS_DB != 0 {
        sp
    } else {
        (start & 0xFFFF_0000) | (sp & 0xFFFF)
    }
}
