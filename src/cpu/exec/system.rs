//! System and miscellaneous instructions: IN/OUT (with the I/O permission
//! check), the flag instructions (CLC..STD, CMC, SAHF/LAHF, CLI/STI with
//! their IOPL rules, or on VIF under CR4.VME/PVI), control and debug
//! registers (with what a write to CR0, CR3 or CR4 does to paging and the
//! TLB), SMSW/LMSW/CLTS,
//! LGDT/LIDT/SGDT/SIDT, and the x87 escapes and WAIT (which only check
//! CR0.EM/TS/MP, there being no FPU).

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{AF, CF, DF, IF, PF, SF, VM, ZF};
use super::super::paging::{CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE};
use super::super::{Cpu, Model};
use super::string::io_size;
use super::vme::{CR4_PVI, CR4_VME};
use crate::x86::{Insn, Mn};

const CR0_MP: u32 = 1 << 1;
const CR0_EM: u32 = 1 << 2;
const CR0_TS: u32 = 1 << 3;
const CR0_NW: u32 = 1 << 29;
const CR0_CD: u32 = 1 << 30;
/// CR0 bits of the 486 and later: NE, WP, AM, NW, CD.
const CR0_486: u32 = (1 << 5) | CR0_WP | (1 << 18) | CR0_NW | CR0_CD;
/// CR4.DE: DR4/DR5 no longer alias DR6/DR7.
const CR4_DE: u32 = 1 << 3;
/// CR4.PCE: RDPMC allowed at every privilege level.
pub(crate) const CR4_PCE: u32 = 1 << 8;
/// CR4 bits the P6 models implement: VME, PVI, TSD, DE, PSE, PAE, PGE, PCE.
const CR4_I686: u32 = CR4_VME | CR4_PVI | (1 << 2) | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE;
/// CR0 bits whose change reloads the PDPTEs under PAE paging (§4.4.1).
const CR0_PDPTE_RELOAD: u32 = CR0_PG | CR0_CD | CR0_NW;
/// CR4 bits whose change reloads the PDPTEs under PAE paging.
const CR4_PDPTE_RELOAD: u32 = CR4_PAE | CR4_PGE | CR4_PSE;

impl Cpu {
    /// CR4 exists from the 486 on (with no bits on the I486 model).
    fn cr4_mask(&self) -> Option<u32> {
        match self.model {
            Model::I686 | Model::PentiumM => Some(CR4_I686),
            Model::I486 => Some(0),
            _ => None,
        }
    }

    pub(crate) fn read_cr(&self, n: u8) -> Result<u32, Fault> {
        Ok(match n {
            0 => self.cr0,
            2 => self.cr2,
            3 => self.cr3,
            4 if self.cr4_mask().is_some() => self.cr4,
            _ => return Err(Fault::Ud),
        })
    }

    /// MOV to CR`n`. A write after which PAE paging is in effect loads
    /// the PDPTEs first (CR3 always, CR0 and CR4 when they change a bit
    /// that matters to it): a bad PDPTE raises #GP(0) and changes nothing.
    pub(crate) fn write_cr<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        n: u8,
        v: u32,
    ) -> Result<(), Fault> {
        match n {
            0 => {
                let v = if self.model.is_486_plus() {
                    if v & CR0_NW != 0 && v & CR0_CD == 0 {
                        return Err(Fault::Gp(0));
                    }
                    v & (0xF | CR0_486 | CR0_PG)
                } else {
                    v
                };
                if v & CR0_PG != 0 && v & 1 == 0 {
                    return Err(Fault::Gp(0));
                }
                let old = self.cr0;
                let new = v | 0x10;
                if Cpu::pae_paging_with(new, self.cr4) && (old ^ new) & CR0_PDPTE_RELOAD != 0 {
                    self.pdpte = self.read_pdptes(bus, self.cr3)?;
                }
                self.cr0 = new;
                if (old ^ self.cr0) & (CR0_PG | CR0_WP | 1) != 0 {
                    self.flush_tlb(false);
                }
                if self.cr0 & 1 == 0 {
                    self.cpl = 0;
                }
            }
            2 => self.cr2 = v,
            3 => self.load_cr3(bus, v)?,
            4 => {
                let mask = self.cr4_mask().ok_or(Fault::Ud)?;
                if v & !mask != 0 {
                    return Err(Fault::Gp(0));
                }
                let old = self.cr4;
                if Cpu::pae_paging_with(self.cr0, v) && (old ^ v) & CR4_PDPTE_RELOAD != 0 {
                    self.pdpte = self.read_pdptes(bus, self.cr3)?;
                }
                self.cr4 = v;
                if (old ^ v) & CR4_PDPTE_RELOAD != 0 {
                    self.flush_tlb(false);
                }
            }
            _ => return Err(Fault::Ud),
        }
        Ok(())
    }

    /// Loads CR3 (MOV or a task switch): the PDPTEs first under PAE paging
    /// (#GP(0) and nothing changed when one is bad), then the TLB drops
    /// all but global pages.
    pub(crate) fn load_cr3<B: Bus + ?Sized>(&mut self, bus: &mut B, v: u32) -> Result<(), Fault> {
        if self.pae_paging() {
            self.pdpte = self.read_pdptes(bus, v)?;
        }
        self.cr3 = v;
        self.flush_tlb(self.cr4 & CR4_PGE != 0);
        Ok(())
    }

    /// DR4/DR5 alias DR6/DR7, unless CR4.DE makes them #UD.
    fn dr_index(&self, n: u8) -> Result<usize, Fault> {
        if n == 4 || n == 5 {
            if self.cr4 & CR4_DE != 0 {
                return Err(Fault::Ud);
            }
            return Ok(usize::from(n + 2));
        }
        Ok(usize::from(n & 7))
    }

    pub(crate) fn read_dr(&self, n: u8) -> Result<u32, Fault> {
        Ok(self.dr[self.dr_index(n)?])
    }

    pub(crate) fn write_dr(&mut self, n: u8, v: u32) -> Result<(), Fault> {
        let i = self.dr_index(n)?;
        self.dr[i] = v;
        Ok(())
    }

    pub(super) fn exec_io<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let (port_op, data_op) = if insn.mn == Mn::In { (1, 0) } else { (0, 1) };
        let port = self.read_op(bus, insn, port_op)? as u16;
        let bytes = Self::size_of(insn, insn.ops[data_op]);
        self.io_allowed(bus, port, u32::from(bytes))?;
        if insn.mn == Mn::In {
            let v = bus.io_read(port, io_size(bytes));
            self.set_reg(0, bytes, v);
        } else {
            let v = self.reg(0, bytes);
            bus.io_write(port, io_size(bytes), v);
        }
        Ok(())
    }

    pub(super) fn exec_flagop(&mut self, insn: &Insn) -> Result<(), Fault> {
        if matches!(insn.mn, Mn::Cli | Mn::Sti) && self.cr0 & 1 != 0 {
            // IOPL-sensitive: CPL must not exceed IOPL (IOPL 3 in V86).
            let cpl = if self.eflags & VM != 0 { 3 } else { self.cpl() };
            if u32::from(cpl) > self.iopl() {
                if self.cli_sti_use_vif() {
                    return self.set_virtual_interrupt_flag(insn.mn == Mn::Sti);
                }
                return Err(Fault::Gp(0));
            }
        }
        match insn.mn {
            Mn::Clc => self.set_flag(CF, false),
            Mn::Stc => self.set_flag(CF, true),
            Mn::Cmc => self.set_flag(CF, !self.flag(CF)),
            Mn::Cld => self.set_flag(DF, false),
            Mn::Std => self.set_flag(DF, true),
            Mn::Cli => self.set_flag(IF, false),
            Mn::Sti => {
                if !self.flag(IF) {
                    self.shadow_sti = true;
                }
                self.set_flag(IF, true);
            }
            Mn::Sahf => {
                let ah = self.reg(4, 1);
                self.put_flags(SF | ZF | AF | PF | CF, ah);
            }
            _ => {
                let f = (self.eflags() & 0xFF) as u8;
                self.set_reg(4, 1, u32::from(f));
            }
        }
        Ok(())
    }

    pub(super) fn exec_system<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        match insn.mn {
            Mn::Wait => {
                if self.cr0 & (CR0_MP | CR0_TS) == (CR0_MP | CR0_TS) {
                    return Err(Fault::Nm);
                }
            }
            Mn::Esc => {
                if self.cr0 & (CR0_EM | CR0_TS) != 0 {
                    return Err(Fault::Nm);
                }
            }
            Mn::Clts => {
                self.cr0 &= !CR0_TS;
            }
            Mn::Smsw => {
                let bytes = if insn.mem.is_some() {
                    2
                } else {
                    Self::vsize(insn)
                };
                if insn.mem.is_some() {
                    let (s, off) = self.ea(insn);
                    self.write_mem(bus, s, off, bytes, self.cr0)?;
                } else {
                    let rm = insn.modrm.map_or(0, |m| m.rm);
                    self.set_reg(rm, bytes, self.cr0);
                }
            }
            Mn::Lmsw => {
                let v = self.read_op(bus, insn, 0)?;
                // LMSW cannot clear PE.
                self.cr0 = (self.cr0 & !0xE) | (v & 0xF) | (self.cr0 & 1);
            }
            _ => {
                let (s, off) = self.ea(insn);
                let off2 = Self::ea_add(insn, off, 2);
                match insn.mn {
                    Mn::Lgdt | Mn::Lidt => {
                        let limit = self.read_mem(bus, s, off, 2)?;
                        let mut base = self.read_mem(bus, s, off2, 4)?;
                        if !insn.op32 {
                            base &= 0x00FF_FFFF;
                        }
                        if insn.mn == Mn::Lgdt {
                            self.gdtr_base = base;
                            self.gdtr_limit = limit;
                        } else {
                            self.idtr_base = base;
                            self.idtr_limit = limit;
                        }
                    }
                    _ => {
                        let (base, limit) = if insn.mn == Mn::Sgdt {
                            (self.gdtr_base, self.gdtr_limit)
                        } else {
                            (self.idtr_base, self.idtr_limit)
                        };
                        self.linear(s, off, 6)?;
                        self.write_mem(bus, s, off, 2, limit)?;
                        self.write_mem(bus, s, off2, 4, base)?;
                    }
                }
            }
        }
        Ok(())
    }
}
