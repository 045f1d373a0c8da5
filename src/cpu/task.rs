//! The task state segment: hardware task switches (JMP, CALL, INT and
//! exceptions through TSS descriptors and task gates, IRET with NT set
//! back through the back-link) with the 16- and 32-bit TSS layouts, busy
//! bits, NT and back-links, CR3 and LDTR loads, CR0.TS, and #TS for a bad
//! TSS or a bad segment in the new task; LTR's and LLDT's loads; and the
//! I/O permission bitmap that IN/OUT consult at CPL > IOPL and in V86 mode.

use super::bus::Bus;
use super::descriptor::{
    null_segment, v86_segment, Desc, LDT, TSS16, TSS16_BUSY, TSS32, TSS32_BUSY,
};
use super::fault::Fault;
use super::flags::{NT, VM};
use super::{Cpu, SegReg};

/// Why a task switch happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Switch {
    /// JMP: the old task is left, no back-link.
    Jmp,
    /// CALL, INT n, an exception or interrupt: back-link and NT.
    Call,
    /// IRET with NT set: back to the task in the back-link.
    Iret,
}

const CR0_TS: u32 = 1 << 3;

/// Offsets of the register images in a 32-bit and a 16-bit TSS.
struct Layout {
    eip: u32,
    eflags: u32,
    gprs: u32,
    segs: u32,
    ldt: u32,
    width: u8,
    /// Segment selectors kept, from ES: ES, CS, SS, DS (and FS, GS in a
    /// 32-bit TSS; a 16-bit TSS has none, its LDT field follows DS).
    nsegs: u32,
}

const TSS32_LAYOUT: Layout = Layout {
    eip: 0x20,
    eflags: 0x24,
    gprs: 0x28,
    segs: 0x48,
    ldt: 0x60,
    width: 4,
    nsegs: 6,
};
const TSS16_LAYOUT: Layout = Layout {
    eip: 0x0E,
    eflags: 0x10,
    gprs: 0x12,
    segs: 0x22,
    ldt: 0x2A,
    width: 2,
    nsegs: 4,
};

impl Cpu {
    /// A task switch through a task gate or a TSS selector from a gate:
    /// the selector must name an available TSS in the GDT.
    pub(crate) fn task_switch_gate<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        kind: Switch,
        ext: u16,
        ret: u32,
    ) -> Result<(), Fault> {
        let code = (sel & 0xFFFC) | ext;
        if sel & 4 != 0 {
            return Err(Fault::Gp(code));
        }
        let d = self.read_desc(bus, sel, Fault::Gp(code))?;
        if !d.system() || !matches!(d.typ(), TSS16 | TSS32) {
            return Err(Fault::Gp(code));
        }
        if !d.present() {
            return Err(Fault::Np(code));
        }
        self.task_switch(bus, sel, d, kind, ret)
    }

    /// IRET with NT set: returns to the task named by the back-link.
    pub(crate) fn task_return<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        ret: u32,
    ) -> Result<(), Fault> {
        let link = self.read_lin(bus, self.tr.base, 2, false)? as u16;
        let code = link & 0xFFFC;
        if link & 4 != 0 {
            return Err(Fault::Ts(code));
        }
        let d = self.read_desc(bus, link, Fault::Ts(code))?;
        if !d.system() || !matches!(d.typ(), TSS16_BUSY | TSS32_BUSY) {
            return Err(Fault::Ts(code));
        }
        if !d.present() {
            return Err(Fault::Np(code));
        }
        self.task_switch(bus, link, d, Switch::Iret, ret)
    }

    /// Switches from the current task to the TSS `sel` (descriptor `d`,
    /// already checked by the caller). `ret` is the EIP saved for the old
    /// task. Faults after the new task's state is loaded are raised in the
    /// new task's context.
    pub(crate) fn task_switch<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        d: Desc,
        kind: Switch,
        ret: u32,
    ) -> Result<(), Fault> {
        let code = sel & 0xFFFC;
        let new32 = d.typ() & 0x8 != 0;
        let min = if new32 { 0x67 } else { 0x2B };
        if d.limit() < min {
            return Err(Fault::Ts(code));
        }
        let new_base = d.base();
        // Read the new task's image before anything is written.
        let lay = if new32 { &TSS32_LAYOUT } else { &TSS16_LAYOUT };
        let w = lay.width;
        let rd = |cpu: &mut Cpu, bus: &mut B, off: u32, bytes: u8| {
            cpu.read_lin(bus, new_base.wrapping_add(off), bytes, false)
        };
        let new_eip = rd(self, bus, lay.eip, w)?;
        let new_flags = rd(self, bus, lay.eflags, w)?;
        let mut gprs = [0u32; 8];
        for (i, g) in gprs.iter_mut().enumerate() {
            *g = rd(self, bus, lay.gprs + i as u32 * u32::from(w), w)?;
        }
        // FS and GS of a 16-bit task are null.
        let mut sels = [0u16; 6];
        for (i, s) in (0..lay.nsegs).zip(sels.iter_mut()) {
            *s = rd(self, bus, lay.segs + i * u32::from(w), 2)? as u16;
        }
        let ldt = rd(self, bus, lay.ldt, 2)? as u16;
        let cr3 = if new32 {
            Some(rd(self, bus, 0x1C, 4)?)
        } else {
            None
        };

        // Save the old task.
        let old32 = self.tr.access & 0x08 != 0;
        let olay = if old32 { &TSS32_LAYOUT } else { &TSS16_LAYOUT };
        let ob = self.tr.base;
        let ow = olay.width;
        let mut flags = self.eflags();
        if kind == Switch::Iret {
            flags &= !NT;
        }
        let wr = |cpu: &mut Cpu, bus: &mut B, off: u32, bytes: u8, v: u32| {
            cpu.write_lin(bus, ob.wrapping_add(off), bytes, v, false)
        };
        wr(self, bus, olay.eip, ow, ret)?;
        wr(self, bus, olay.eflags, ow, flags)?;
        for i in 0..8u32 {
            let v = self.gpr[i as usize];
            wr(self, bus, olay.gprs + i * u32::from(ow), ow, v)?;
        }
        for i in 0..olay.nsegs {
            let v = u32::from(self.segs[i as usize].selector);
            wr(self, bus, olay.segs + i * u32::from(ow), 2, v)?;
        }
        let old_sel = self.tr.selector;
        if kind != Switch::Call {
            // The old task is no longer busy.
            if let Ok(od) = self.read_desc(bus, old_sel, Fault::Ts(old_sel & 0xFFFC)) {
                self.write_desc_hi(bus, old_sel, od.hi & !0x200)?;
            }
        }
        let mut new_hi = d.hi;
        if kind != Switch::Iret {
            new_hi |= 0x200;
            self.write_desc_hi(bus, sel, new_hi)?;
        }
        if kind == Switch::Call {
            self.write_lin(bus, new_base, 2, u32::from(old_sel), false)?;
        }

        // Load the new task: from here on faults belong to it.
        self.task_switched = true;
        let nd = Desc {
            lo: d.lo,
            hi: new_hi,
        };
        self.tr = nd.segment(sel);
        if let Some(cr3) = cr3 {
            if self.paging_on() {
                self.load_cr3(bus, cr3)?;
            }
        }
        // A 16-bit TSS holds the low halves only: the SDM says the upper
        // halves of the registers are "modified and not maintained"; as
        // Bochs does, those of the general registers become 0xFFFF and
        // that of EFLAGS zero.
        let mut nflags = new_flags;
        if !new32 {
            nflags &= 0xFFFF;
        }
        if kind == Switch::Call {
            nflags |= NT;
        }
        // A 32-bit TSS may enter virtual-8086 mode.
        self.eflags = (nflags & (self.writable_flags() | VM)) | 2;
        self.eip = new_eip;
        for (i, &g) in gprs.iter().enumerate() {
            if new32 {
                self.gpr[i] = g;
            } else {
                self.gpr[i] = 0xFFFF_0000 | (g & 0xFFFF);
            }
        }
        self.cr0 |= CR0_TS;
        for (i, &s) in sels.iter().enumerate() {
            self.segs[i] = null_segment(s);
        }
        self.ldtr = null_segment(ldt);
        self.load_task_segments(bus, &sels, ldt)
    }

    /// Loads LDTR and the segment registers of a new task (#TS on a bad
    /// selector, #NP/#SS when not present).
    fn load_task_segments<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sels: &[u16; 6],
        ldt: u16,
    ) -> Result<(), Fault> {
        self.load_ldtr(bus, ldt, Fault::Ts)?;
        if self.eflags & VM != 0 {
            for (i, &s) in sels.iter().enumerate() {
                self.segs[i] = v86_segment(s);
            }
            self.cpl = 3;
            return Ok(());
        }
        let cs_sel = sels[SegReg::Cs as usize];
        let cpl = (cs_sel & 3) as u8;
        let code = cs_sel & 0xFFFC;
        if code == 0 {
            return Err(Fault::Ts(0));
        }
        let cs = self.read_desc(bus, cs_sel, Fault::Ts(code))?;
        let bad = !cs.is_code()
            || (!cs.conforming() && cs.dpl() != cpl)
            || (cs.conforming() && cs.dpl() > cpl);
        if bad {
            return Err(Fault::Ts(code));
        }
        if !cs.present() {
            return Err(Fault::Np(code));
        }
        self.set_accessed(bus, cs_sel, &cs)?;
        self.segs[SegReg::Cs as usize] = cs.segment(cs_sel);
        self.cpl = cpl;
        for s in [SegReg::Ss, SegReg::Es, SegReg::Ds, SegReg::Fs, SegReg::Gs] {
            let seg = self.check_data_seg(bus, s, sels[s as usize], cpl, Fault::Ts)?;
            self.segs[s as usize] = seg;
        }
        Ok(())
    }

    /// Loads LDTR with `sel` (a null selector leaves it unusable); `err`
    /// builds the fault for a bad selector (#GP for LLDT, #TS in a task
    /// switch).
    pub(crate) fn load_ldtr<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        err: fn(u16) -> Fault,
    ) -> Result<(), Fault> {
        let code = sel & 0xFFFC;
        if code == 0 {
            self.ldtr = null_segment(sel);
            return Ok(());
        }
        if sel & 4 != 0 {
            return Err(err(code));
        }
        let d = self.read_desc(bus, sel, err(code))?;
        if !d.system() || d.typ() != LDT {
            return Err(err(code));
        }
        if !d.present() {
            return Err(Fault::Np(code));
        }
        self.ldtr = d.segment(sel);
        Ok(())
    }

    /// LTR: loads TR with an available TSS and marks it busy.
    pub(crate) fn load_tr<B: Bus + ?Sized>(&mut self, bus: &mut B, sel: u16) -> Result<(), Fault> {
        let code = sel & 0xFFFC;
        if code == 0 || sel & 4 != 0 {
            return Err(Fault::Gp(code));
        }
        let d = self.read_desc(bus, sel, Fault::Gp(code))?;
        if !d.system() || !matches!(d.typ(), TSS16 | TSS32) {
            return Err(Fault::Gp(code));
        }
        if !d.present() {
            return Err(Fault::Np(code));
        }
        let hi = d.hi | 0x200;
        self.write_desc_hi(bus, sel, hi)?;
        self.tr = Desc { lo: d.lo, hi }.segment(sel);
        Ok(())
    }

    /// True when I/O to `bytes` ports at `port` is allowed: always at
    /// CPL <= IOPL in protected mode, otherwise (and always in V86 mode)
    /// only when the 32-bit TSS's I/O permission bitmap clears every bit.
    pub(crate) fn io_allowed<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        port: u16,
        bytes: u32,
    ) -> Result<(), Fault> {
        if self.cr0 & 1 == 0 {
            return Ok(());
        }
        let v86 = self.eflags & VM != 0;
        if !v86 && u32::from(self.cpl()) <= self.iopl() {
            return Ok(());
        }
        // Only a 32-bit TSS has a bitmap.
        if self.tr.access & 0x0F != u16::from(TSS32_BUSY) || self.tr.limit < 0x67 {
            return Err(Fault::Gp(0));
        }
        let map = self.read_lin(bus, self.tr.base.wrapping_add(0x66), 2, false)?;
        let first = map + u32::from(port) / 8;
        if first + 1 > self.tr.limit {
            return Err(Fault::Gp(0));
        }
        let bits = self.read_lin(bus, self.tr.base.wrapping_add(first), 2, false)?;
        let mask = ((1u32 << bytes) - 1) << (port % 8);
        if bits & mask != 0 {
            return Err(Fault::Gp(0));
        }
        Ok(())
    }
}
