//! Instruction semantics: the dispatcher from a decoded [`Insn`] to the
//! per-family files below. Each family file owns one idea (arithmetic,
//! shifts, BCD, bit operations, strings, control transfer, stack, system,
//! the virtual-8086 mode extensions).
//! Nothing here fetches or decodes; `cpu/mod.rs` does that.

mod arith;
mod bcd;
mod bits;
mod control;
mod far;
mod fast;
mod fast_syscall;
mod gate;
mod handlers;
mod newer;
mod protected;
mod shift;
mod stack;
mod string;
mod string_bulk;
mod string_whole;
mod system;
mod vme;

pub(crate) use fast::Form;
pub(crate) use handlers::{index_of as handler_index, Handlers};

use super::bus::Bus;
use super::fault::Fault;
use super::Cpu;
use crate::x86::{Insn, Mn};

/// How an instruction finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Retired normally (a pending single-step trap may follow).
    Next,
    /// HLT.
    Halt,
    /// A software interrupt transferred control (no single-step trap).
    SoftInt,
}

impl Cpu {
    /// Executes `insn`; `self.eip` already points past it.
    pub(crate) fn execute<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<Flow, Fault> {
        self.gate(insn)?;
        use Mn::*;
        match insn.mn {
            Add | Or | Adc | Sbb | And | Sub | Xor | Cmp | Test => self.exec_alu(bus, insn)?,
            Inc | Dec | Not | Neg => self.exec_unary(bus, insn)?,
            Mul | Div | Idiv => self.exec_muldiv(bus, insn)?,
            Imul => self.exec_imul(bus, insn)?,
            Xchg => self.exec_xchg(bus, insn)?,
            Mov => self.exec_mov(bus, insn)?,
            Lea => {
                let (_, off) = self.ea(insn);
                self.write_op(bus, insn, 0, off)?;
            }
            Cbw | Cwd => self.exec_convert(insn),
            Daa | Das | Aaa | Aas | Aam | Aad | Salc => self.exec_bcd(insn)?,
            Xlat => {
                let bx = if insn.addr32 {
                    self.gpr[3]
                } else {
                    self.gpr[3] & 0xFFFF
                };
                let off = Self::ea_add(insn, bx, self.reg(0, 1));
                let seg = insn.data_seg();
                let v = self.read_mem(bus, seg, off, 1)?;
                self.set_reg(0, 1, v);
            }
            Rol | Ror | Rcl | Rcr | Shl | Shr | Sal | Sar => self.exec_shift(bus, insn)?,
            Shld | Shrd => self.exec_shld(bus, insn)?,
            Bt | Bts | Btr | Btc => self.exec_bt(bus, insn)?,
            Bsf | Bsr => self.exec_bsf(bus, insn)?,
            Setcc => self.exec_setcc(bus, insn)?,
            Movzx | Movsx => {
                let src = self.read_op(bus, insn, 1)?;
                let bytes = Self::size_of(insn, insn.ops[1]);
                let v = if insn.mn == Movsx {
                    super::flags::sext(src, bytes)
                } else {
                    src
                };
                self.write_op(bus, insn, 0, v)?;
            }
            Movs | Cmps | Stos | Lods | Scas | Ins | Outs => self.exec_string(bus, insn)?,
            Push | Pop | Pusha | Popa | Pushf | Popf | Enter | Leave => {
                self.exec_stack(bus, insn)?
            }
            Jcc | Jmp | Call | Ret | Retf | Callf | Jmpf | Iret | Loop | Loope | Loopne | Jcxz => {
                self.exec_branch(bus, insn)?
            }
            Int | Int3 | Into | Int1 => return self.exec_int(bus, insn),
            Bound => self.exec_bound(bus, insn)?,
            Les | Lds | Lss | Lfs | Lgs => self.exec_load_far(bus, insn)?,
            Hlt => return Ok(Flow::Halt),
            In | Out => self.exec_io(bus, insn)?,
            Clc | Stc | Cmc | Cli | Sti | Cld | Std | Sahf | Lahf => self.exec_flagop(insn)?,
            Wait | Esc if self.model != super::Model::I286 => return self.exec_fpu(bus, insn),
            Wait | Esc | Clts | Smsw | Lmsw | Sgdt | Sidt | Lgdt | Lidt => {
                self.exec_system(bus, insn)?
            }
            Nop if insn.ops.is_empty() => {}
            Sldt | Str | Lldt | Ltr | Verr | Verw | Lar | Lsl | Arpl => {
                self.exec_selector_op(bus, insn)?
            }
            Nop | Bswap | Xadd | Cmpxchg | Cmpxchg8b | Cmovcc | Invd | Wbinvd | Invlpg | Rdtsc
            | Rdmsr | Wrmsr | Cpuid | Rdpmc => self.exec_newer(bus, insn)?,
            Sysenter | Sysexit => self.exec_fast_syscall(insn)?,
            Ud | Ud2 => return Err(Fault::Ud),
        }
        Ok(Flow::Next)
    }

    /// SETcc.
    fn exec_setcc<B: Bus + ?Sized>(&mut self, bus: &mut B, insn: &Insn) -> Result<(), Fault> {
        let c = self.cond((insn.opcode & 15) as u8);
        self.write_op(bus, insn, 0, u32::from(c))
    }
}
