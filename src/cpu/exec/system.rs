//! System and miscellaneous instructions: IN/OUT, the flag instructions
//! (CLC..STD, CMC, SAHF/LAHF, CLI/STI), control and debug registers,
//! SMSW/LMSW/CLTS, LGDT/LIDT/SGDT/SIDT, and the x87 escapes and WAIT
//! (which only check CR0.EM/TS/MP, there being no FPU).

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{AF, CF, DF, IF, PF, SF, ZF};
use super::super::Cpu;
use super::string::io_size;
use crate::x86::{Insn, Mn, Opnd};

const CR0_MP: u32 = 1 << 1;
const CR0_EM: u32 = 1 << 2;
const CR0_TS: u32 = 1 << 3;

impl Cpu {
    pub(crate) fn read_cr(&self, n: u8) -> Result<u32, Fault> {
        Ok(match n {
            0 => self.cr0,
            2 => self.cr2,
            3 => self.cr3,
            4 => self.cr4,
            _ => return Err(Fault::Ud),
        })
    }

    pub(crate) fn write_cr(&mut self, n: u8, v: u32) -> Result<(), Fault> {
        match n {
            0 => self.cr0 = v | 0x10,
            2 => self.cr2 = v,
            3 => self.cr3 = v,
            4 => self.cr4 = v,
            _ => return Err(Fault::Ud),
        }
        Ok(())
    }

    pub(crate) fn read_dr(&self, n: u8) -> u32 {
        // DR4/DR5 alias DR6/DR7 on the 386.
        let n = usize::from(if n == 4 || n == 5 { n + 2 } else { n } & 7);
        self.dr[n]
    }

    pub(crate) fn write_dr(&mut self, n: u8, v: u32) {
        let n = usize::from(if n == 4 || n == 5 { n + 2 } else { n } & 7);
        self.dr[n] = v;
    }

    pub(super) fn exec_io<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let (port_op, data_op) = if insn.mn == Mn::In { (1, 0) } else { (0, 1) };
        let port = self.read_op(bus, insn, port_op)? as u16;
        let bytes = Self::size_of(insn, insn.ops[data_op]);
        if insn.mn == Mn::In {
            let v = bus.io_read(port, io_size(bytes));
            self.set_reg(0, bytes, v);
        } else {
            let v = self.reg(0, bytes);
            bus.io_write(port, io_size(bytes), v);
        }
        Ok(())
    }

    pub(super) fn exec_flagop(&mut self, insn: &Insn) {
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
            Mn::Clts => self.cr0 &= !CR0_TS,
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
                if insn.mem.is_none() || insn.ops.first() != Some(&Opnd::Ms) {
                    return Err(Fault::Ud);
                }
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
