//! String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with the
//! REP/REPE/REPNE prefixes. A whole REP instruction runs in one step; a
//! fault part-way leaves the index and count registers at the iteration
//! that faulted, so the instruction restarts where it stopped.

use super::super::bus::{Bus, IoSize};
use super::super::fault::Fault;
use super::super::flags::{DF, ZF};
use super::super::{Cpu, Model, SegReg};
use crate::x86::{Insn, Mn, Opnd, Rep};

pub(crate) fn io_size(bytes: u8) -> IoSize {
    match bytes {
        1 => IoSize::Byte,
        2 => IoSize::Word,
        _ => IoSize::Dword,
    }
}

impl Cpu {
    pub(super) fn index_reg(&self, insn: &Insn, n: usize) -> u32 {
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

    /// One iteration. On a fault, also returns by how much the 286 has
    /// already decremented CX; on the 286 model the pointers of the operands
    /// accessed so far (the faulting one included) have already advanced,
    /// as that processor's microcode does.
    fn string_once<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        bytes: u8,
    ) -> Result<(), (Fault, u32)> {
        let src = insn.data_seg();
        let si = self.index_reg(insn, 6);
        let di = self.index_reg(insn, 7);
        let quirk = self.model == Model::I286;
        // Advances the listed pointers (on the 286) and reports the fault.
        let fail = |cpu: &mut Cpu, f: Fault, regs: &[usize], counted: u32| {
            if quirk {
                for &r in regs {
                    cpu.advance_index(insn, r, bytes);
                }
            }
            (f, counted)
        };
        match insn.mn {
            Mn::Movs => {
                let v = self
                    .read_mem(bus, src, si, bytes)
                    .map_err(|f| fail(self, f, &[6], 1))?;
                self.write_mem(bus, SegReg::Es, di, bytes, v)
                    .map_err(|f| fail(self, f, &[6, 7], 2))?;
                self.advance_index(insn, 6, bytes);
                self.advance_index(insn, 7, bytes);
            }
            Mn::Cmps => {
                let (a, b) = if quirk {
                    // The 286 fetches the destination operand first.
                    let b = self
                        .read_mem(bus, SegReg::Es, di, bytes)
                        .map_err(|f| fail(self, f, &[7], 0))?;
                    let a = self
                        .read_mem(bus, src, si, bytes)
                        .map_err(|f| fail(self, f, &[7, 6], 1))?;
                    (a, b)
                } else {
                    let a = self.read_mem(bus, src, si, bytes).map_err(|f| (f, 0))?;
                    let b = self
                        .read_mem(bus, SegReg::Es, di, bytes)
                        .map_err(|f| (f, 0))?;
                    (a, b)
                };
                self.alu(Mn::Cmp, a, b, bytes);
                self.advance_index(insn, 6, bytes);
                self.advance_index(insn, 7, bytes);
            }
            Mn::Stos => {
                let v = self.reg(0, bytes);
                self.write_mem(bus, SegReg::Es, di, bytes, v)
                    .map_err(|f| fail(self, f, &[7], 2))?;
                self.advance_index(insn, 7, bytes);
            }
            Mn::Lods => {
                let v = self
                    .read_mem(bus, src, si, bytes)
                    .map_err(|f| fail(self, f, &[6], 1))?;
                self.set_reg(0, bytes, v);
                self.advance_index(insn, 6, bytes);
            }
            Mn::Scas => {
                let b = self
                    .read_mem(bus, SegReg::Es, di, bytes)
                    .map_err(|f| fail(self, f, &[7], 1))?;
                let a = self.reg(0, bytes);
                self.alu(Mn::Cmp, a, b, bytes);
                self.advance_index(insn, 7, bytes);
            }
            Mn::Ins => {
                // Check the port and the destination before touching the port.
                self.io_allowed(bus, self.reg(2, 2) as u16, u32::from(bytes))
                    .map_err(|f| (f, 0))?;
                self.check_write(bus, SegReg::Es, di, bytes)
                    .map_err(|f| fail(self, f, &[7], 2))?;
                let v = bus.io_read(self.reg(2, 2) as u16, io_size(bytes));
                self.write_mem(bus, SegReg::Es, di, bytes, v)
                    .map_err(|f| fail(self, f, &[7], 2))?;
                self.advance_index(insn, 7, bytes);
            }
            _ => {
                self.io_allowed(bus, self.reg(2, 2) as u16, u32::from(bytes))
                    .map_err(|f| (f, 0))?;
                let v = self
                    .read_mem(bus, src, si, bytes)
                    .map_err(|f| fail(self, f, &[6], 1))?;
                bus.io_write(self.reg(2, 2) as u16, io_size(bytes), v);
                self.advance_index(insn, 6, bytes);
            }
        }
        Ok(())
    }

    /// The size of the elements string instruction `insn` moves.
    pub(super) fn element_bytes(insn: &Insn) -> u8 {
        let wide = insn.ops.iter().any(|o| matches!(o, Opnd::Xv | Opnd::Yv));
        if wide {
            Self::vsize(insn)
        } else {
            1
        }
    }

    pub(super) fn set_count(&mut self, insn: &Insn, c: u32) {
        if insn.addr32 {
            self.gpr[1] = c;
        } else {
            self.gpr[1] = (self.gpr[1] & 0xFFFF_0000) | (c & 0xFFFF);
        }
    }

    pub(super) fn exec_string<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let bytes = Self::element_bytes(insn);
        if insn.rep == Rep::None {
            return self.string_once(bus, insn, bytes).map_err(|(f, _)| f);
        }
        let compares = matches!(insn.mn, Mn::Cmps | Mn::Scas);
        // After a chunk could not go in bulk (`string_bulk.rs`), the next
        // 1, 2, 4 .. 1024 iterations run one by one before the next try.
        let bulk = matches!(insn.mn, Mn::Movs | Mn::Stos);
        let (mut slow, mut misses) = (0u32, 0u32);
        loop {
            let count = self.index_reg(insn, 1);
            if count == 0 {
                return Ok(());
            }
            if bulk && slow == 0 {
                if self.string_bulk(bus, insn, bytes) {
                    misses = 0;
                    continue;
                }
                slow = 1 << misses.min(10);
                misses += 1;
            }
            slow = slow.saturating_sub(1);
            if let Err((f, counted)) = self.string_once(bus, insn, bytes) {
                if self.model == Model::I286 {
                    // The 286 has counted this iteration (and, when a write
                    // faults, already the next one).
                    self.set_count(insn, count.saturating_sub(counted));
                }
                return Err(f);
            }
            self.set_count(insn, count.wrapping_sub(1));
            if compares && (self.flag(ZF) != (insn.rep == Rep::Rep)) {
                return Ok(());
            }
        }
    }
}
