//! Segment descriptors: reading them from the GDT or LDT (supervisor
//! accesses through paging), decoding their fields, setting the accessed
//! bit, and loading a data or stack segment register with every check the
//! hardware makes (null selectors, table limits, types, privilege, present).
//! In real mode a load only sets the base; in virtual-8086 mode it also
//! sets a 64 KiB, DPL-3 data segment. Code-segment loads belong to the far
//! transfers (`exec/far.rs`), gates to `interrupt.rs` and `exec/far.rs`.

use super::bus::Bus;
use super::fault::Fault;
use super::flags::VM;
use super::{Cpu, SegReg, Segment};

/// System descriptor types.
pub(crate) const TSS16: u8 = 0x1;
pub(crate) const LDT: u8 = 0x2;
pub(crate) const TSS16_BUSY: u8 = 0x3;
pub(crate) const CALL_GATE16: u8 = 0x4;
pub(crate) const TASK_GATE: u8 = 0x5;
pub(crate) const TSS32: u8 = 0x9;
pub(crate) const TSS32_BUSY: u8 = 0xB;
pub(crate) const CALL_GATE32: u8 = 0xC;

/// One 8-byte descriptor, as its two little-endian dwords.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Desc {
    pub lo: u32,
    pub hi: u32,
}

impl Desc {
    pub fn base(&self) -> u32 {
        (self.lo >> 16) | ((self.hi & 0xFF) << 16) | (self.hi & 0xFF00_0000)
    }
    /// The byte-granular limit (scaled when G is set).
    pub fn limit(&self) -> u32 {
        let l = (self.lo & 0xFFFF) | (self.hi & 0xF_0000);
        if self.hi & (1 << 23) != 0 {
            (l << 12) | 0xFFF
        } else {
            l
        }
    }
    /// Access rights in the layout of [`Segment::access`].
    pub fn access(&self) -> u16 {
        ((self.hi >> 8) & 0xF0FF) as u16
    }
    pub fn dpl(&self) -> u8 {
        ((self.hi >> 13) & 3) as u8
    }
    pub fn present(&self) -> bool {
        self.hi & (1 << 15) != 0
    }
    /// A system descriptor (S clear): TSS, LDT or gate.
    pub fn system(&self) -> bool {
        self.hi & (1 << 12) == 0
    }
    /// The four type bits.
    pub fn typ(&self) -> u8 {
        ((self.hi >> 8) & 0xF) as u8
    }
    pub fn is_code(&self) -> bool {
        !self.system() && self.typ() & 8 != 0
    }
    pub fn is_data(&self) -> bool {
        !self.system() && self.typ() & 8 == 0
    }
    pub fn conforming(&self) -> bool {
        self.is_code() && self.typ() & 4 != 0
    }
    /// Code that may be read, or any data segment.
    pub fn readable(&self) -> bool {
        self.is_data() || self.typ() & 2 != 0
    }
    pub fn writable(&self) -> bool {
        self.is_data() && self.typ() & 2 != 0
    }
    /// A gate's target selector.
    pub fn gate_selector(&self) -> u16 {
        (self.lo >> 16) as u16
    }
    /// A gate's target offset (32 bits; 16-bit gates use the low half).
    pub fn gate_offset(&self) -> u32 {
        (self.lo & 0xFFFF) | (self.hi & 0xFFFF_0000)
    }
    /// A call gate's parameter count.
    pub fn param_count(&self) -> u32 {
        self.hi & 0x1F
    }
    /// The descriptor cache a segment register gets for it.
    pub fn segment(&self, selector: u16) -> Segment {
        Segment {
            selector,
            base: self.base(),
            limit: self.limit(),
            access: self.access(),
        }
    }
}

/// The cache of a segment register holding a null selector: unusable.
pub(crate) fn null_segment(selector: u16) -> Segment {
    Segment {
        selector,
        base: 0,
        limit: 0,
        access: 0,
    }
}

/// The cache of a segment register in virtual-8086 mode.
pub(crate) fn v86_segment(selector: u16) -> Segment {
    Segment {
        selector,
        base: u32::from(selector) << 4,
        limit: 0xFFFF,
        access: 0xF3,
    }
}

impl Cpu {
    /// Linear address of the descriptor `sel` names, or `None` when it
    /// lies outside its table (or names the LDT while LDTR is null).
    pub(crate) fn desc_addr(&self, sel: u16) -> Option<u32> {
        let (base, limit) = if sel & 4 != 0 {
            if self.ldtr.access & 0x80 == 0 {
                return None;
            }
            (self.ldtr.base, self.ldtr.limit)
        } else {
            (self.gdtr_base, self.gdtr_limit)
        };
        let idx = u32::from(sel & 0xFFF8);
        (idx + 7 <= limit).then(|| base.wrapping_add(idx))
    }

    /// Reads the descriptor `sel` names; `range` is the fault raised when it
    /// lies outside its table. Paging faults pass through.
    pub(crate) fn read_desc<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        range: Fault,
    ) -> Result<Desc, Fault> {
        let addr = self.desc_addr(sel).ok_or(range)?;
        let lo = self.read_lin(bus, addr, 4, false)?;
        let hi = self.read_lin(bus, addr.wrapping_add(4), 4, false)?;
        Ok(Desc { lo, hi })
    }

    /// Rewrites the high dword of descriptor `sel` (accessed and busy bits).
    pub(crate) fn write_desc_hi<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        hi: u32,
    ) -> Result<(), Fault> {
        match self.desc_addr(sel) {
            Some(addr) => self.write_lin(bus, addr.wrapping_add(4), 4, hi, false),
            None => Ok(()),
        }
    }

    /// Sets the accessed bit of a code or data descriptor, as a load does.
    pub(crate) fn set_accessed<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        d: &Desc,
    ) -> Result<(), Fault> {
        if d.hi & 0x100 == 0 {
            self.write_desc_hi(bus, sel, d.hi | 0x100)?;
        }
        Ok(())
    }

    /// Loads segment register `s` (not CS) with `sel` as MOV, POP and LDS
    /// do, in the current mode. Loading SS opens the interrupt shadow.
    pub(crate) fn load_seg<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        s: SegReg,
        sel: u16,
    ) -> Result<(), Fault> {
        if self.cr0 & 1 == 0 {
            self.load_segment_real(s, sel);
        } else if self.eflags & VM != 0 {
            self.segs[s as usize] = v86_segment(sel);
        } else {
            let cpl = self.cpl();
            let seg = self.check_data_seg(bus, s, sel, cpl, Fault::Gp)?;
            self.segs[s as usize] = seg;
        }
        if s == SegReg::Ss {
            self.shadow_ss = true;
        }
        Ok(())
    }

    /// The checks of a protected-mode load of data or stack segment `s`
    /// with `sel` at privilege `cpl`; `err` builds the fault for a bad
    /// selector (#GP on MOV, #TS during a task switch). Not present is #SS
    /// for the stack and #NP otherwise. Returns the new cache and sets the
    /// descriptor's accessed bit.
    pub(crate) fn check_data_seg<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        s: SegReg,
        sel: u16,
        cpl: u8,
        err: fn(u16) -> Fault,
    ) -> Result<Segment, Fault> {
        let code = sel & 0xFFFC;
        let rpl = (sel & 3) as u8;
        if code == 0 {
            return if s == SegReg::Ss {
                Err(err(0))
            } else {
                Ok(null_segment(sel))
            };
        }
        let d = self.read_desc(bus, sel, err(code))?;
        if s == SegReg::Ss {
            if rpl != cpl || !d.writable() || d.dpl() != cpl {
                return Err(err(code));
            }
            if !d.present() {
                return Err(Fault::Ss(code));
            }
        } else {
            if !d.readable() || d.system() {
                return Err(err(code));
            }
            if (d.is_data() || !d.conforming()) && (rpl > d.dpl() || cpl > d.dpl()) {
                return Err(err(code));
            }
            if !d.present() {
                return Err(Fault::Np(code));
            }
        }
        self.set_accessed(bus, sel, &d)?;
        Ok(d.segment(sel))
    }

    /// After a return to an outer level: data segment registers the new
    /// level may not use are loaded with a null selector.
    pub(crate) fn null_inaccessible_segments(&mut self) {
        let cpl = self.cpl;
        for s in [SegReg::Es, SegReg::Ds, SegReg::Fs, SegReg::Gs] {
            let seg = self.segs[s as usize];
            let a = seg.access;
            let dpl = ((a >> 5) & 3) as u8;
            let conforming_code = a & 0x0C == 0x0C;
            let system = a & 0x10 == 0;
            if (system || !conforming_code) && dpl < cpl {
                self.segs[s as usize] = null_segment(0);
            }
        }
    }
}
