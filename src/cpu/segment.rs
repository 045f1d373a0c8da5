//! Segmented memory access: segment:offset -> linear (with the limit check
//! of the segment's descriptor cache) -> physical -> [`Bus`]. Also the stack
//! (push/pop through SS with the stack-pointer width from SS.B). Every
//! instruction reaches memory through here, so protected mode and paging
//! can be added in this one place.

use super::bus::Bus;
use super::fault::Fault;
use super::flags::mask;
use super::{Cpu, SegReg};

/// Access-rights bit of a segment's D/B flag (flags nibble bit 2).
const ACCESS_DB: u16 = 1 << 14;

impl Cpu {
    /// Checks `size` bytes at `seg:off` against the segment limit and
    /// returns the linear address.
    pub(crate) fn linear(&self, seg: SegReg, off: u32, size: u32) -> Result<u32, Fault> {
        let s = &self.segs[seg as usize];
        let last = u64::from(off) + u64::from(size) - 1;
        // Expand-down data segments (type bit 2 of a data segment).
        let expand_down = s.access & 0x1C == 0x14;
        let ok = if expand_down {
            let top = if s.access & ACCESS_DB != 0 {
                0xFFFF_FFFF
            } else {
                0xFFFF
            };
            u64::from(off) > u64::from(s.limit) && last <= top
        } else {
            last <= u64::from(s.limit)
        };
        if !ok {
            // The 286 reports a real-mode stack overrun as #GP, the 386 as #SS.
            return Err(if seg == SegReg::Ss && self.model == super::Model::I386 {
                Fault::Ss(0)
            } else {
                Fault::Gp(0)
            });
        }
        Ok(s.base.wrapping_add(off))
    }

    /// Linear -> physical. Paging is not implemented yet.
    fn physical(&self, lin: u32) -> u32 {
        lin
    }

    /// Reads `bytes` (1, 2 or 4) at `seg:off`.
    pub(crate) fn read_mem<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
        bytes: u8,
    ) -> Result<u32, Fault> {
        let p = self.physical(self.linear(seg, off, u32::from(bytes))?);
        Ok(match bytes {
            1 => u32::from(bus.read_u8(p)),
            2 => u32::from(bus.read_u16(p)),
            _ => bus.read_u32(p),
        })
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
        let p = self.physical(self.linear(seg, off, u32::from(bytes))?);
        match bytes {
            1 => bus.write_u8(p, value as u8),
            2 => bus.write_u16(p, value as u16),
            _ => bus.write_u32(p, value),
        }
        Ok(())
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

    /// Loads a segment register in real mode (base = selector << 4).
    pub(crate) fn load_seg(&mut self, s: SegReg, selector: u16) {
        self.load_segment_real(s, selector);
        if s == SegReg::Ss {
            self.shadow_ss = true;
        }
    }

    /// True when code fetches default to 32-bit operands and addresses.
    pub(crate) fn code32(&self) -> bool {
        self.segs[SegReg::Cs as usize].access & ACCESS_DB != 0
    }
}
