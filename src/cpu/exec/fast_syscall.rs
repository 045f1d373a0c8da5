//! SYSENTER and SYSEXIT (P6): the fast system call. They load flat
//! segments without reading any descriptor: CS and SS come from
//! IA32_SYSENTER_CS (0x174) and the selectors after it, ESP and EIP from
//! IA32_SYSENTER_ESP/EIP (0x175, 0x176) on the way in, and from ECX and
//! EDX on the way out (SDM Vol. 2B, SYSENTER and SYSEXIT).

use super::super::fault::Fault;
use super::super::flags::{IF, RF, VM};
use super::super::{Cpu, SegReg, Segment};
use crate::x86::{Insn, Mn};

/// The access byte of a flat segment at privilege `dpl` of `kind` (0xB
/// execute/read accessed code, 0x3 read/write accessed data): present, a
/// code or data descriptor.
fn flat(selector: u16, dpl: u8, kind: u8) -> Segment {
    Segment::flat(selector, 0x80 | dpl << 5 | 0x10 | kind)
}

const CODE: u8 = 0xB;
const DATA: u8 = 0x3;

impl Cpu {
    pub(super) fn exec_fast_syscall(&mut self, insn: &Insn) -> Result<(), Fault> {
        let cs = self.msr.sysenter_cs as u16;
        // Not in protected mode, or no kernel code selector set up.
        if self.cr0 & 1 == 0 || cs & 0xFFFC == 0 {
            return Err(Fault::Gp(0));
        }
        if insn.mn == Mn::Sysenter {
            self.eflags &= !(VM | IF | RF);
            let cs = cs & 0xFFFC;
            self.segs[SegReg::Cs as usize] = flat(cs, 0, CODE);
            self.segs[SegReg::Ss as usize] = flat(cs.wrapping_add(8), 0, DATA);
            self.cpl = 0;
            self.gpr[4] = self.msr.sysenter_esp;
            self.eip = self.msr.sysenter_eip;
        } else {
            if self.cpl() != 0 {
                return Err(Fault::Gp(0));
            }
            self.segs[SegReg::Cs as usize] = flat(cs.wrapping_add(16) | 3, 3, CODE);
            self.segs[SegReg::Ss as usize] = flat(cs.wrapping_add(24) | 3, 3, DATA);
            self.cpl = 3;
            self.gpr[4] = self.gpr[1];
            self.eip = self.gpr[2];
        }
        Ok(())
    }
}
