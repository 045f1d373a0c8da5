//! String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with the
//! REP/REPE/REPNE prefixes. A whole REP instruction runs in one step; a
//! fault part-way leaves the index and count registers at the iteration
//! that faulted, so the instruction restarts where it stopped.

use super::super::bus::{Bus, IoSize};
use super::super::fault::Fault;
use super::super::flags::{DF, ZF};
use super::super::operand::seg_of;
use super::super::{Cpu, SegReg};
use crate::x86::{Insn, Mn, Opnd, Rep};

pub(crate) fn io_size(bytes: u8) -> IoSize {
    match bytes {
        1 => IoSize::Byte,
        2 => IoSize::Word,
        _ => IoSize::Dword,
    }
}

impl Cpu {
    fn index_reg(&self, insn: &Insn, n: usize) -> u32 {
        if insn.addr32 {
            self.gpr[n]
        } else {
            self.gpr[n] & 0xFFFF
        }
    }

    fn advance_index(&mut self, insn: &Insn, n: usize, bytes: u8) {
        let step = if self.flag(DF) {
            (u32::from(bytes)).wrapping_neg()
        } else {
            u32::from(bytes)
        };
        let v = self.gpr[n].wrapping_add(step);
        self.gpr[n] = if insn.addr32 {
            v
        } else {
            (self.gpr[n] & 0xFFFF_0000) | (v & 0xFFFF)
        };
    }

    fn string_once<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        bytes: u8,
    ) -> Result<(), Fault> {
        let src = seg_of(insn.data_seg());
        let si = self.index_reg(insn, 6);
        let di = self.index_reg(insn, 7);
        match insn.mn {
            Mn::Movs => {
                let v = self.read_mem(bus, src, si, bytes)?;
                self.write_mem(bus, SegReg::Es, di, bytes, v)?;
                self.advance_index(insn, 6, bytes);
                self.advance_index(insn, 7, bytes);
            }
            Mn::Cmps => {
                let a = self.read_mem(bus, src, si, bytes)?;
                let b = self.read_mem(bus, SegReg::Es, di, bytes)?;
                self.alu(Mn::Cmp, a, b, bytes);
                self.advance_index(insn, 6, bytes);
                self.advance_index(insn, 7, bytes);
            }
            Mn::Stos => {
                let v = self.reg(0, bytes);
                self.write_mem(bus, SegReg::Es, di, bytes, v)?;
                self.advance_index(insn, 7, bytes);
            }
            Mn::Lods => {
                let v = self.read_mem(bus, src, si, bytes)?;
                self.set_reg(0, bytes, v);
                self.advance_index(insn, 6, bytes);
            }
            Mn::Scas => {
                let b = self.read_mem(bus, SegReg::Es, di, bytes)?;
                let a = self.reg(0, bytes);
                self.alu(Mn::Cmp, a, b, bytes);
                self.advance_index(insn, 7, bytes);
            }
            Mn::Ins => {
                // Check the destination before touching the port.
                self.linear(SegReg::Es, di, u32::from(bytes))?;
                let v = bus.io_read(self.reg(2, 2) as u16, io_size(bytes));
                self.write_mem(bus, SegReg::Es, di, bytes, v)?;
                self.advance_index(insn, 7, bytes);
            }
            _ => {
                let v = self.read_mem(bus, src, si, bytes)?;
                bus.io_write(self.reg(2, 2) as u16, io_size(bytes), v);
                self.advance_index(insn, 6, bytes);
            }
        }
        Ok(())
    }

    pub(super) fn exec_string<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let wide = insn.ops.iter().any(|o| matches!(o, Opnd::Xv | Opnd::Yv));
        let bytes = if wide { Self::vsize(insn) } else { 1 };
        if insn.rep == Rep::None {
            return self.string_once(bus, insn, bytes);
        }
        let compares = matches!(insn.mn, Mn::Cmps | Mn::Scas);
        loop {
            let count = self.index_reg(insn, 1);
            if count == 0 {
                return Ok(());
            }
            self.string_once(bus, insn, bytes)?;
            let c = count.wrapping_sub(1);
            if insn.addr32 {
                self.gpr[1] = c;
            } else {
                self.gpr[1] = (self.gpr[1] & 0xFFFF_0000) | (c & 0xFFFF);
            }
            if compares && (self.flag(ZF) != (insn.rep == Rep::Rep)) {
                return Ok(());
            }
        }
    }
}
