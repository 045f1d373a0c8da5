//! The 486, Pentium and P6 additions to the integer instruction set:
//! BSWAP, XADD, CMPXCHG, INVD, WBINVD, INVLPG (486); CMPXCHG8B, RDTSC,
//! RDMSR, WRMSR, CPUID (Pentium); CMOVcc, RDPMC and the long NOP (P6). The
//! opcode rows say which model has each and which need CPL 0 (`gate.rs`
//! checks before these run).

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::ZF;
use super::super::Cpu;
use crate::x86::{Insn, Mn};

const CR4_TSD: u32 = 1 << 2;

impl Cpu {
    pub(super) fn exec_newer<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let v = Self::vsize(insn);
        match insn.mn {
            Mn::Bswap => {
                let r = (insn.opcode & 7) as u8;
                // With a 16-bit operand the result is undefined; P6
                // processors clear the register's low word.
                let val = if v == 4 {
                    self.reg(r, 4).swap_bytes()
                } else {
                    0
                };
                self.set_reg(r, v, val);
            }
            Mn::Xadd => {
                let bytes = Self::size_of(insn, insn.ops[0]);
                let d = self.read_op(bus, insn, 0)?;
                let s = self.read_op(bus, insn, 1)?;
                if insn.mem.is_some() {
                    self.check_write_op(bus, insn, bytes)?;
                }
                let sum = self.alu(Mn::Add, d, s, bytes);
                if insn.mem.is_some() {
                    // Memory first: its address may use the source
                    // register (`xadd [bx+si], bx`), computed before the
                    // instruction changes it.
                    self.write_op(bus, insn, 0, sum)?;
                    self.write_op(bus, insn, 1, d)?;
                } else {
                    // `xadd eax, eax` leaves the sum.
                    self.write_op(bus, insn, 1, d)?;
                    self.write_op(bus, insn, 0, sum)?;
                }
            }
            Mn::Cmpxchg => {
                let bytes = Self::size_of(insn, insn.ops[0]);
                let d = self.read_op(bus, insn, 0)?;
                let acc = self.reg(0, bytes);
                self.alu(Mn::Cmp, acc, d, bytes);
                if self.flag(ZF) {
                    let s = self.read_op(bus, insn, 1)?;
                    self.write_op(bus, insn, 0, s)?;
                } else {
                    // The destination is written back with its own value.
                    self.write_op(bus, insn, 0, d)?;
                    self.set_reg(0, bytes, d);
                }
            }
            Mn::Cmpxchg8b => {
                let (seg, off) = self.ea(insn);
                let hi_off = Self::ea_add(insn, off, 4);
                let lo = self.read_mem(bus, seg, off, 4)?;
                let hi = self.read_mem(bus, seg, hi_off, 4)?;
                self.check_write(bus, seg, off, 4)?;
                self.check_write(bus, seg, hi_off, 4)?;
                let equal = lo == self.gpr[0] && hi == self.gpr[2];
                let (nlo, nhi) = if equal {
                    (self.gpr[3], self.gpr[1])
                } else {
                    (lo, hi)
                };
                self.write_mem(bus, seg, off, 4, nlo)?;
                self.write_mem(bus, seg, hi_off, 4, nhi)?;
                if !equal {
                    self.gpr[0] = lo;
                    self.gpr[2] = hi;
                }
                self.set_flag(ZF, equal);
            }
            Mn::Cmovcc => {
                let s = self.read_op(bus, insn, 1)?;
                if self.cond((insn.opcode & 15) as u8) {
                    self.write_op(bus, insn, 0, s)?;
                }
            }
            Mn::Nop => {}
            Mn::Rdtsc => {
                if self.cr4 & CR4_TSD != 0 && self.cpl() != 0 {
                    return Err(Fault::Gp(0));
                }
                let t = self.tsc();
                self.gpr[0] = t as u32;
                self.gpr[2] = (t >> 32) as u32;
            }
            Mn::Rdpmc => {
                if self.cr4 & super::system::CR4_PCE == 0 && self.cpl() != 0 {
                    return Err(Fault::Gp(0));
                }
                let v = self.read_pmc(self.gpr[1])?;
                self.gpr[0] = v as u32;
                self.gpr[2] = (v >> 32) as u32;
            }
            Mn::Cpuid => {
                let [a, b, c, d] = self.cpuid(self.gpr[0], self.gpr[1]);
                self.gpr[0] = a;
                self.gpr[3] = b;
                self.gpr[1] = c;
                self.gpr[2] = d;
            }
            _ => {
                // INVD, WBINVD, INVLPG, RDMSR, WRMSR (CPL 0 only: `gate.rs`).
                match insn.mn {
                    Mn::Invlpg => {
                        let (seg, off) = self.ea(insn);
                        let base = self.segs[seg as usize].base;
                        self.invalidate_page(base.wrapping_add(off));
                    }
                    Mn::Rdmsr => {
                        let val = self.read_msr(self.gpr[1])?;
                        self.gpr[0] = val as u32;
                        self.gpr[2] = (val >> 32) as u32;
                    }
                    Mn::Wrmsr => {
                        let val = u64::from(self.gpr[0]) | (u64::from(self.gpr[2]) << 32);
                        self.write_msr(self.gpr[1], val)?;
                    }
                    // No caches are modelled.
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Checks that the memory operand could be written (before a
    /// two-destination instruction changes anything).
    fn check_write_op<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        bytes: u8,
    ) -> Result<(), Fault> {
        let (seg, off) = self.ea(insn);
        self.check_write(bus, seg, off, bytes)
    }
}
