//! Segmented memory access: segment:offset -> linear (the limit check of
//! the segment's descriptor cache, and in protected mode the null-selector
//! and type checks) -> paging (`paging.rs`) -> [`Bus`]. Also the stack
//! (push/pop through SS with the stack-pointer width from SS.B). Every
//! instruction reaches memory through here. Loading a segment register
//! lives in `descriptor.rs`.

use super::bus::Bus;
use super::fault::Fault;
use super::flags::{mask, VM};
use super::{Cpu, SegReg, Segment};

/// Access-rights bit of a segment's D/B flag (flags nibble bit 2).
pub(crate) const ACCESS_DB: u16 = 1 << 14;
/// Access-rights present bit; a null selector's cache has it clear.
pub(crate) const ACCESS_P: u16 = 1 << 7;

/// How an instruction uses a segment's bytes (for the type checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    /// Only the limit (and null selector) is checked: LEA-like probes,
    /// jump targets.
    Probe,
    Read,
    Write,
}

/// True for an expand-down data segment (type bit 2 of a data segment).
pub(crate) fn expand_down(s: &Segment) -> bool {
    s.access & 0x1C == 0x14
}

/// True when `size` bytes at `off` lie within the segment's limit (with the
/// expand-down rule for data segments whose type has bit 2 set).
pub(crate) fn within_limit(s: &Segment, off: u32, size: u32) -> bool {
    let last = u64::from(off) + u64::from(size.max(1)) - 1;
    if expand_down(s) {
        let top = if s.access & ACCESS_DB != 0 {
            0xFFFF_FFFF
        } else {
            0xFFFF
        };
        u64::from(off) > u64::from(s.limit) && last <= top
    } else {
        last <= u64::from(s.limit)
    }
}

impl Cpu {
    /// True when descriptor checks apply: protected mode outside V86.
    pub(crate) fn protected(&self) -> bool {
        self.cr0 & 1 != 0 && self.eflags & VM == 0
    }

    /// Checks `size` bytes at `seg:off` against the segment limit and
    /// returns the linear address.
    pub(crate) fn linear(&self, seg: SegReg, off: u32, size: u32) -> Result<u32, Fault> {
        self.linear_for(seg, off, size, Use::Probe)
    }

    /// The fault a failed check on `seg` raises: #SS(0) for the stack
    /// segment (#GP(0) on the 286 in real mode), #GP(0) otherwise.
    fn seg_fault(&self, seg: SegReg) -> Fault {
        if seg == SegReg::Ss && self.model != super::Model::I286 {
            Fault::Ss(0)
        } else {
            Fault::Gp(0)
        }
    }

    /// Checks `size` bytes at `seg:off` for use `how` (limit; in protected
    /// mode also a null selector and the segment type) and returns the
    /// linear address.
    pub(crate) fn linear_for(
        &self,
        seg: SegReg,
        off: u32,
        size: u32,
        how: Use,
    ) -> Result<u32, Fault> {
        let s = &self.segs[seg as usize];
        if !self.segment_allows(seg, how) || !within_limit(s, off, size) {
            return Err(self.seg_fault(seg));
        }
        Ok(s.base.wrapping_add(off))
    }

    /// True when `seg` may be used `how` as far as its presence and type
    /// go (always outside protected mode); the limit is another check.
    pub(crate) fn segment_allows(&self, seg: SegReg, how: Use) -> bool {
        if !self.protected() {
            return true;
        }
        let a = self.segs[seg as usize].access;
        let code = a & 0x08 != 0;
        let bad_type = match how {
            Use::Probe => false,
            // Execute-only code cannot be read.
            Use::Read => code && a & 0x02 == 0,
            // Code and read-only data cannot be written.
            Use::Write => code || a & 0x02 == 0,
        };
        a & ACCESS_P != 0 && !bad_type
    }

    /// True when memory accesses are made at user privilege (CPL 3).
    pub(crate) fn user(&self) -> bool {
        self.cpl() == 3
    }

    /// Reads `bytes` (1, 2 or 4) at `seg:off`.
    pub(crate) fn read_mem<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
        bytes: u8,
    ) -> Result<u32, Fault> {
        let lin = self.linear_for(seg, off, u32::from(bytes), Use::Read)?;
        self.check_alignment(lin, bytes)?;
        self.read_lin(bus, lin, bytes, self.user())
    }

    /// Writes `bytes` (1, 2 or 4) at `seg:off`.
    pub(crate) fn write_mem<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
        bytes: u8,
        value: u32,
    ) -> Result<(), Fault> {
        let lin = self.linear_for(seg, off, u32::from(bytes), Use::Write)?;
        self.check_alignment(lin, bytes)?;
        self.write_lin(bus, lin, bytes, value, self.user())
    }

    /// #AC for a misaligned data access at CPL 3 when CR0.AM and EFLAGS.AC
    /// are both set (486 and later). Only misaligned accesses pay for the
    /// mode checks.
    #[inline]
    pub(crate) fn check_alignment(&self, lin: u32, bytes: u8) -> Result<(), Fault> {
        if lin & (u32::from(bytes).max(1) - 1) != 0 && self.alignment_checked() {
            return Err(Fault::Ac);
        }
        Ok(())
    }

    /// True when misaligned data accesses raise #AC: a 486 or later with
    /// CR0.AM and EFLAGS.AC set, at CPL 3.
    pub(crate) fn alignment_checked(&self) -> bool {
        const AM: u32 = 1 << 18;
        const AC: u32 = 1 << 18;
        self.model.is_486_plus()
            && self.cr0() & AM != 0
            && self.eflags() & AC != 0
            && self.cpl() == 3
    }

    /// Checks that `bytes` at `seg:off` could be written (segment and
    /// paging), without writing.
    pub(crate) fn check_write<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
        bytes: u8,
    ) -> Result<(), Fault> {
        let lin = self.linear_for(seg, off, u32::from(bytes), Use::Write)?;
        self.check_lin_write(bus, lin, bytes, self.user())
    }

    /// Stack-pointer mask: 16 bits unless SS is a 32-bit (B) segment.
    pub(crate) fn sp_mask(&self) -> u32 {
        if self.segs[SegReg::Ss as usize].access & ACCESS_DB != 0 {
            u32::MAX
        } else {
            0xFFFF
        }
    }

    /// Writes the stack pointer, keeping ESP's upper half on a 16-bit stack.
    pub(crate) fn set_sp(&mut self, sp: u32) {
        let m = self.sp_mask();
        self.gpr[4] = (self.gpr[4] & !m) | (sp & m);
    }

    /// Pushes `bytes` (2 or 4) of `value`.
    pub(crate) fn push<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        bytes: u8,
        value: u32,
    ) -> Result<(), Fault> {
        let sp = self.gpr[4].wrapping_sub(u32::from(bytes)) & self.sp_mask();
        self.write_mem(bus, SegReg::Ss, sp, bytes, value & mask(bytes))?;
        self.set_sp(sp);
        Ok(())
    }

    /// Reads the stack top (`bytes` wide) `skip` bytes above SP, without popping.
    pub(crate) fn peek_stack<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        skip: u32,
        bytes: u8,
    ) -> Result<u32, Fault> {
        let sp = self.gpr[4].wrapping_add(skip) & self.sp_mask();
        self.read_mem(bus, SegReg::Ss, sp, bytes)
    }

    /// Pops `bytes` (2 or 4).
    pub(crate) fn pop<B: Bus + ?Sized>(&mut self, bus: &mut B, bytes: u8) -> Result<u32, Fault> {
        let v = self.peek_stack(bus, 0, bytes)?;
        self.set_sp(self.gpr[4].wrapping_add(u32::from(bytes)));
        Ok(v)
    }

    /// True when code fetches default to 32-bit operands and addresses.
    pub(crate) fn code32(&self) -> bool {
        self.segs[SegReg::Cs as usize].access & ACCESS_DB != 0
    }
}
