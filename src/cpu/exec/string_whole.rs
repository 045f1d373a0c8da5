//! Whether a REP string instruction will run to its end without a fault.
//! Generated code runs such a one by its handler inside a block, and
//! leaves any other to the interpreter: one that stopped part-way on a
//! fault would have moved its registers and written memory that a bail
//! cannot take back, and the interpreter, running it again from there,
//! would fetch it anew (perhaps rewritten by its own stores) instead of
//! delivering the fault it raised.

use super::super::flags::DF;
use super::super::paging::Access;
use super::super::segment::Use;
use super::super::{Cpu, SegReg};
use crate::x86::{Insn, Mn};

/// The most bytes a side of a REP string instruction may span for
/// [`Cpu::rep_runs_whole`] to look at it (a few pages: a page copy or
/// fill; longer ones stay with the interpreter).
const WHOLE_BYTES: u32 = 4 * 4096;

impl Cpu {
    /// True when every iteration of the REP string instruction `insn` (as
    /// many as its count register says) has its memory within its
    /// segments' limits and types, aligned as alignment checking wants,
    /// and with paging on on pages the TLB already holds for that access:
    /// no iteration can fault. (A compare that stops early touches less.)
    pub(crate) fn rep_runs_whole(&self, insn: &Insn) -> bool {
        let bytes = Self::element_bytes(insn);
        let count = self.index_reg(insn, 1);
        if u64::from(count) * u64::from(bytes) > u64::from(WHOLE_BYTES) {
            return false;
        }
        let span = count * u32::from(bytes);
        let src = (insn.data_seg(), 6);
        let dst = (SegReg::Es, 7);
        let sides: &[((SegReg, usize), Use)] = match insn.mn {
            Mn::Movs => &[(src, Use::Read), (dst, Use::Write)],
            Mn::Cmps => &[(src, Use::Read), (dst, Use::Read)],
            Mn::Stos => &[(dst, Use::Write)],
            Mn::Lods => &[(src, Use::Read)],
            Mn::Scas => &[(dst, Use::Read)],
            _ => return false,
        };
        span == 0
            || sides
                .iter()
                .all(|&((seg, index), how)| self.side_whole(insn, seg, index, bytes, span, how))
    }

    /// [`Cpu::rep_runs_whole`] for the `span` bytes (nonzero) of elements
    /// of `bytes` that index register `index` walks through in `seg`.
    fn side_whole(
        &self,
        insn: &Insn,
        seg: SegReg,
        index: usize,
        bytes: u8,
        span: u32,
        how: Use,
    ) -> bool {
        let off = self.index_reg(insn, index);
        // The lowest offset, and no wrap of the index (at 64 KiB or
        // 4 GiB) on the way.
        let below = span - u32::from(bytes);
        let low = if self.flag(DF) {
            match off.checked_sub(below) {
                Some(low) => low,
                None => return false,
            }
        } else {
            off
        };
        let top = if insn.addr32 {
            u64::from(u32::MAX)
        } else {
            0xFFFF
        };
        if u64::from(low) + u64::from(span) - 1 > top {
            return false;
        }
        let Ok(lin) = self.linear_for(seg, low, span, how) else {
            return false;
        };
        // (Every element is aligned as the first, the stride being its size.)
        if self.check_alignment(lin, bytes).is_err() {
            return false;
        }
        if !self.paging_on() {
            return true;
        }
        let access = if how == Use::Write {
            Access::Write
        } else {
            Access::Read
        };
        let pages = ((lin & 0xFFF) + span - 1) / 0x1000 + 1;
        (0..pages).all(|k| {
            let page = (lin & !0xFFF).wrapping_add(k * 0x1000);
            self.translate_hit(page, access, self.user()).is_some()
        })
    }
}
