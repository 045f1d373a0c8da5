//! REP MOVS and REP STOS over plain RAM in bulk: the iterations that stay
//! on one page of the destination (and of the source) run as one host
//! copy or fill instead of one bus access each, when nothing could tell
//! the difference. That is when every one of them would succeed (the
//! segment range checked as a whole, the pages already in the TLB with the
//! access allowed, no alignment check to raise), the pages are plain RAM
//! with nothing watched and no cached code on the destination (the bus's
//! `host_page`), and the result equals the iterations run one by one (an
//! overlapping forward copy is done element by element). Anything else
//! runs the ordinary way (`string.rs`), whose single iteration also walks
//! the page tables and fills the TLB for the next chunk. Direction-flag
//! set copies and the 286's variant always run the ordinary way.

use super::super::bus::Bus;
use super::super::flags::DF;
use super::super::paging::Access;
use super::super::segment::Use;
use super::super::{Cpu, Model, SegReg};
use crate::x86::{Insn, Mn};

/// One side of a chunk: where its iterations go in the host.
struct Side {
    host: *mut u8,
    /// How many whole elements fit before the page (or a 16-bit index)
    /// ends.
    room: u32,
}

impl Cpu {
    /// Runs a chunk of the REP MOVS or REP STOS `insn` (element size
    /// `bytes`, count register nonzero) in bulk and returns true, or does
    /// nothing and returns false.
    pub(super) fn string_bulk<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        bytes: u8,
    ) -> bool {
        if self.model == Model::I286 || self.flag(DF) {
            return false;
        }
        let count = self.index_reg(insn, 1);
        let Some(dst) = self.bulk_side(bus, insn, SegReg::Es, 7, bytes, Use::Write) else {
            return false;
        };
        let mut n = count.min(dst.room);
        let b = usize::from(bytes);
        match insn.mn {
            Mn::Stos => {
                let Some(dst) = self.bulk_range(bus, insn, SegReg::Es, 7, bytes, n, Use::Write)
                else {
                    return false;
                };
                let v = self.reg(0, bytes);
                // SAFETY: `bulk_range` checked that the `n` elements at
                // `dst` lie within one host page of plain RAM that the bus
                // allows writing directly.
                unsafe { fill(dst, v, b, n as usize) };
            }
            Mn::Movs => {
                let seg = insn.data_seg();
                let Some(src) = self.bulk_side(bus, insn, seg, 6, bytes, Use::Read) else {
                    return false;
                };
                n = n.min(src.room);
                let (Some(dst), Some(src)) = (
                    self.bulk_range(bus, insn, SegReg::Es, 7, bytes, n, Use::Write),
                    self.bulk_range(bus, insn, seg, 6, bytes, n, Use::Read),
                ) else {
                    return false;
                };
                // SAFETY: as for STOS, both ranges checked by `bulk_range`.
                unsafe { copy(dst, src, b, n as usize) };
                self.bulk_advance(insn, 6, bytes, n);
            }
            _ => return false,
        }
        self.bulk_advance(insn, 7, bytes, n);
        self.set_count(insn, count - n);
        true
    }

    /// Runs the whole REP MOVS or REP STOS `insn` (at CS:`start`) at once
    /// and sets EIP past it when it needs nothing the general way checks
    /// element by element: 32-bit addressing, DF clear, and every element
    /// of each side within its segment, aligned as alignment checking
    /// wants, and on one page that the TLB's host entries already reach
    /// for that access (so plain RAM, nothing watched, no cached code on
    /// the destination, the translation allowed and marked). Generated
    /// code calls this before the interpreter's handler: the result is the
    /// same, without the handler's dispatch and its page-by-page checks.
    /// Returns false, having changed nothing, otherwise.
    pub(crate) fn rep_on_host_pages(&mut self, insn: &Insn, start: u32) -> bool {
        if self.model == Model::I286 || self.flag(DF) || !insn.addr32 {
            return false;
        }
        let bytes = Self::element_bytes(insn);
        let count = self.gpr[1];
        let span = u64::from(count) * u64::from(bytes);
        if count == 0 || span > 0x1000 {
            return false;
        }
        let span = span as u32;
        let Some(dst) = self.host_span(SegReg::Es, self.gpr[7], bytes, span, Use::Write) else {
            return false;
        };
        let b = usize::from(bytes);
        match insn.mn {
            Mn::Stos => {
                let v = self.reg(0, bytes);
                // SAFETY: `host_span` found the whole range on one host
                // page of plain RAM that may be written directly.
                unsafe { fill(dst, v, b, count as usize) };
            }
            Mn::Movs => {
                let seg = insn.data_seg();
                let Some(src) = self.host_span(seg, self.gpr[6], bytes, span, Use::Read) else {
                    return false;
                };
                // SAFETY: as for STOS, both ranges found by `host_span`.
                unsafe { copy(dst, src, b, count as usize) };
                self.gpr[6] = self.gpr[6].wrapping_add(span);
            }
            _ => return false,
        }
        self.gpr[7] = self.gpr[7].wrapping_add(span);
        self.gpr[1] = 0;
        self.advance(insn.len, start);
        true
    }

    /// The host address of the `span` bytes at offset `off` of `seg`, for
    /// elements of `bytes` accessed as `how`, when the segment allows
    /// them all, alignment checking has nothing to say and a host entry
    /// of the TLB holds them (all on one page).
    fn host_span(&self, seg: SegReg, off: u32, bytes: u8, span: u32, how: Use) -> Option<*mut u8> {
        let lin = self.linear_for(seg, off, span, how).ok()?;
        self.check_alignment(lin, bytes).ok()?;
        self.tlb
            .host_addr(lin, how == Use::Write, self.jit_near.host_key, span)
    }

    /// The host page and the room left on it for elements at the offset in
    /// index register `index` of `seg`, or `None` when the first element
    /// cannot go in bulk.
    fn bulk_side<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        seg: SegReg,
        index: usize,
        bytes: u8,
        how: Use,
    ) -> Option<Side> {
        let off = self.index_reg(insn, index);
        let lin = self.linear_for(seg, off, u32::from(bytes), how).ok()?;
        self.check_alignment(lin, bytes).ok()?;
        let page_room = 0x1000 - (lin & 0xFFF);
        let index_room = if insn.addr32 {
            u32::try_from((1u64 << 32) - u64::from(off)).unwrap_or(u32::MAX)
        } else {
            0x1_0000 - off
        };
        let room = page_room.min(index_room) / u32::from(bytes);
        if room == 0 {
            return None;
        }
        let phys = self.bulk_physical(lin, how)?;
        let host = bus.host_page(phys, how == Use::Write)?;
        // SAFETY: `host_page` points at a whole 4 KiB page.
        Some(Side {
            host: unsafe { host.add((phys & 0xFFF) as usize) },
            room,
        })
    }

    /// [`Cpu::bulk_side`] for exactly `n` elements: the whole range
    /// checked against the segment, and the host address of its start.
    #[allow(clippy::too_many_arguments)]
    fn bulk_range<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        seg: SegReg,
        index: usize,
        bytes: u8,
        n: u32,
        how: Use,
    ) -> Option<*mut u8> {
        let side = self.bulk_side(bus, insn, seg, index, bytes, how)?;
        let off = self.index_reg(insn, index);
        self.linear_for(seg, off, n * u32::from(bytes), how).ok()?;
        (n <= side.room).then_some(side.host)
    }

    /// The physical address of `lin` when the TLB already allows `how`
    /// there (no walk, no accessed or dirty bit to set), or paging is off.
    fn bulk_physical(&self, lin: u32, how: Use) -> Option<u32> {
        if !self.paging_on() {
            return Some(lin);
        }
        let access = if how == Use::Write {
            Access::Write
        } else {
            Access::Read
        };
        self.translate_hit(lin, access, self.user())
    }

    /// Steps index register `index` past `n` elements (DF clear).
    fn bulk_advance(&mut self, insn: &Insn, index: usize, bytes: u8, n: u32) {
        let v = self.gpr[index].wrapping_add(n * u32::from(bytes));
        self.gpr[index] = if insn.addr32 {
            v
        } else {
            (self.gpr[index] & 0xFFFF_0000) | (v & 0xFFFF)
        };
    }
}

/// Stores the low `b` bytes of `v` `n` times from `dst` up.
///
/// # Safety
/// `dst..dst + b * n` must be valid for writes.
unsafe fn fill(dst: *mut u8, v: u32, b: usize, n: usize) {
    match b {
        // SAFETY: the caller's range.
        1 => unsafe { dst.write_bytes(v as u8, n) },
        2 => {
            for k in 0..n {
                // SAFETY: element `k` is within the caller's range.
                unsafe { dst.add(2 * k).cast::<u16>().write_unaligned(v as u16) };
            }
        }
        _ => {
            for k in 0..n {
                // SAFETY: element `k` is within the caller's range.
                unsafe { dst.add(4 * k).cast::<u32>().write_unaligned(v) };
            }
        }
    }
}

/// Copies `n` elements of `b` bytes from `src` up to `dst` up, with the
/// result of copying them one at a time in that order (an element may
/// read what an earlier one wrote when `dst` lies just above `src`).
///
/// # Safety
/// Both ranges of `b * n` bytes must be valid, `src` for reads and `dst`
/// for writes.
unsafe fn copy(dst: *mut u8, src: *const u8, b: usize, n: usize) {
    let len = b * n;
    let (d, s) = (dst as usize, src as usize);
    if d <= s || d >= s + len {
        // Forward one by one reads nothing it wrote: a plain move.
        // SAFETY: the caller's ranges.
        return unsafe { std::ptr::copy(src, dst, len) };
    }
    for k in 0..n {
        // SAFETY: element `k` of each range is within the caller's.
        unsafe {
            let e = src.add(b * k);
            let t = dst.add(b * k);
            match b {
                1 => t.write(e.read()),
                2 => t
                    .cast::<u16>()
                    .write_unaligned(e.cast::<u16>().read_unaligned()),
                _ => t
                    .cast::<u32>()
                    .write_unaligned(e.cast::<u32>().read_unaligned()),
            }
        }
    }
}
