//! Bit instructions of the 386: BT/BTS/BTR/BTC (register, immediate and the
//! memory forms whose bit offset reaches outside the addressed word) and
//! BSF/BSR.

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{sext, CF, ZF};
use super::super::Cpu;
use crate::x86::{Insn, Mn, Opnd};

impl Cpu {
    pub(super) fn exec_bt<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::vsize(insn);
        let bits = u32::from(bytes) * 8;
        let offset = self.read_op(bus, insn, 1)?;
        let bit = offset & (bits - 1);
        // Memory with a register offset: the signed offset selects the word.
        let loc = if insn.mem.is_some() && insn.ops[1] == Opnd::Gv {
            let (seg, off) = self.ea(insn);
            let signed = sext(offset, bytes) as i32;
            let delta = (signed >> (bits.trailing_zeros())).wrapping_mul(i32::from(bytes));
            Some((seg, Self::ea_add(insn, off, delta as u32)))
        } else if insn.mem.is_some() {
            Some(self.ea(insn))
        } else {
            None
        };
        let v = match loc {
            Some((seg, off)) => self.read_mem(bus, seg, off, bytes)?,
            None => self.read_op(bus, insn, 0)?,
        };
        self.set_flag(CF, (v >> bit) & 1 != 0);
        let r = match insn.mn {
            Mn::Bts => v | 1 << bit,
            Mn::Btr => v & !(1 << bit),
            Mn::Btc => v ^ 1 << bit,
            _ => return Ok(()),
        };
        match loc {
            Some((seg, off)) => self.write_mem(bus, seg, off, bytes, r),
            None => self.write_op(bus, insn, 0, r),
        }
    }

    pub(super) fn exec_bsf<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::vsize(insn);
        let src = self.read_op(bus, insn, 1)? & super::super::flags::mask(bytes);
        if src == 0 {
            self.set_flag(ZF, true);
            return Ok(());
        }
        self.set_flag(ZF, false);
        let idx = if insn.mn == Mn::Bsf {
            src.trailing_zeros()
        } else {
            31 - src.leading_zeros()
        };
        self.write_op(bus, insn, 0, idx)
    }
}
