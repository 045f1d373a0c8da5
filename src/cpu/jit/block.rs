//! Block formation: which decoded instructions the JIT translates, and the
//! small intermediate form (`Op`) the emitter works from. A block is a run
//! of instructions on one physical page, ending after its first control
//! transfer, before the first instruction its opcode row leaves to the
//! interpreter ([`Jit::Interpret`]), at the page's end, or at
//! [`MAX_INSNS`]. An instruction runs inline when its row says the JIT has
//! code of its own ([`Jit::Inline`]) and [`translate`] knows the form;
//! every other one becomes a call of the interpreter's handler
//! ([`Op::Interp`]). Everything the interpreter would decide from the
//! instruction bytes alone is decided here, once; everything that depends
//! on run-time state (segment checks, paging, the CS limit of a computed
//! target) is left to the generated code and its helpers.

use crate::cpu::flags::mask;
use crate::cpu::{Cpu, Model, SegReg};
use crate::x86::facts::Jit;
use crate::x86::{self, Insn, Mn, Opnd};

/// The longest block, in instructions.
pub(super) const MAX_INSNS: usize = 48;

/// Where an operand lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Loc {
    /// General register `n` (AH..BH as 4-7 when `bytes` is 1).
    Reg(u8),
    /// The instruction's memory operand.
    Mem,
    /// An immediate, already masked to the operand size.
    Imm(u32),
}

/// Operations computed by a Rust helper that reuses the interpreter's own
/// arithmetic (the flags of shifts and multiplies are subtle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Calc {
    Shift(Mn),
    Imul,
}

/// One translated instruction, in the emitter's terms.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    /// ADD..CMP and TEST (`dst` is only read for CMP and TEST).
    Alu {
        mn: Mn,
        dst: Loc,
        src: Loc,
    },
    /// INC, DEC, NOT, NEG.
    Unary {
        mn: Mn,
        dst: Loc,
    },
    Mov {
        dst: Loc,
        src: Loc,
    },
    /// MOVZX/MOVSX into register `dst` from a `src_bytes`-wide source.
    Extend {
        signed: bool,
        dst: u8,
        src: Loc,
        src_bytes: u8,
    },
    Lea {
        dst: u8,
    },
    Push {
        src: Loc,
    },
    Pop {
        dst: u8,
    },
    Xchg {
        a: Loc,
        b: Loc,
    },
    Setcc {
        cc: u8,
        dst: Loc,
    },
    /// CLC, STC, CMC, CLD, STD.
    Flags(Mn),
    /// CBW/CWDE (`true`) or CWD/CDQ.
    Convert {
        widen: bool,
    },
    /// One-operand MUL or IMUL (16 or 32 bits): (E)DX:(E)AX = (E)AX *
    /// `src`.
    MulWide {
        signed: bool,
        src: Loc,
    },
    /// 32-bit DIV or IDIV: EAX, EDX = EDX:EAX / `src`, remainder (the
    /// flags as they were, as the interpreter leaves them); a divisor of
    /// zero or a quotient too large bails, for the interpreter's #DE.
    Div {
        signed: bool,
        src: Loc,
    },
    /// `dst = calc(a, b)` with the flags the interpreter computes.
    Calc {
        calc: Calc,
        dst: Loc,
        a: Loc,
        b: Loc,
    },
    Nop,
    /// CMOVcc into register `dst` (P6).
    Cmov {
        cc: u8,
        dst: u8,
        src: Loc,
    },
    /// BSWAP of register `reg` (486+; a 16-bit form clears the low word).
    Bswap {
        reg: u8,
    },
    /// LEAVE: (E)SP = (E)BP, then pop (E)BP.
    Leave,
    /// RDTSC (Pentium+): EDX:EAX = the TSC as the interpreter would read it
    /// at this instruction (bails when CR4.TSD is set).
    Rdtsc,
    /// One MOVS, CMPS, STOS, LODS or SCAS (no REP prefix), the source in
    /// `src_seg` and the destination in ES.
    Str {
        mn: Mn,
        src_seg: SegReg,
    },
    // Control transfers: each ends the block.
    Jmp {
        target: u32,
    },
    Jcc {
        cc: u8,
        target: u32,
    },
    Call {
        target: u32,
    },
    /// JMP or CALL through a register or memory.
    JmpInd {
        src: Loc,
        call: bool,
    },
    /// Near RET, releasing `extra` more bytes.
    Ret {
        extra: u32,
    },
    /// A call of the interpreter's handler for the instruction, whose
    /// decode is at `insn` (an address the JIT keeps alive as long as the
    /// block's code: `Jit::handler_insns`; 0 until `Cpu::compile` boxes
    /// it). With `cross`, the instruction runs into the next page and
    /// `insn` is a `helpers::Cross`, which checks those bytes first.
    Interp {
        insn: usize,
        cross: bool,
    },
}

/// One instruction of a block: its decode, its translation, and where it
/// sits (EIP before and after it).
#[derive(Clone, Copy, Debug)]
pub(super) struct Item {
    pub insn: Insn,
    pub op: Op,
    pub eip: u32,
    pub next: u32,
    /// Operand size in bytes of the instruction's main operands.
    pub bytes: u8,
}

impl Item {
    /// True when the block ends after this instruction (its row says so:
    /// `Mn::ends_block`).
    pub fn ends_block(&self) -> bool {
        self.insn.mn.ends_block()
    }
}

/// Where operand `i` lives, for the operand kinds the JIT handles.
fn loc(insn: &Insn, i: usize) -> Option<Loc> {
    use Opnd::*;
    let o = *insn.ops.get(i)?;
    let m = insn.modrm;
    Some(match o {
        Eb | Ew | Ev if insn.mem.is_some() => Loc::Mem,
        Eb | Ew | Ev => Loc::Reg(m?.rm),
        Ob | Ov if insn.mem.is_some() => Loc::Mem,
        Gb | Gw | Gv => Loc::Reg(m?.reg),
        Ib | Iw | Iv | Ibs => Loc::Imm(Cpu::imm_for(insn, i) & mask(Cpu::size_of(insn, o))),
        Zb | Zv => Loc::Reg((insn.opcode & 7) as u8),
        AL | EAX => Loc::Reg(0),
        CL => Loc::Reg(1),
        One => Loc::Imm(1),
        _ => return None,
    })
}

/// The translation of `insn`, or `None` when the block must end before
/// it and the interpreter run it. `next` is EIP after it, `model` the CPU
/// model it will run on; `inline` false makes every instruction a call of
/// its handler (the differential tests compare the two).
pub(super) fn translate(insn: &Insn, next: u32, model: Model, inline: bool) -> Option<Op> {
    // An instruction the model lacks is the interpreter's to refuse, as is
    // one longer than the 286 takes. (A REP string instruction runs by its
    // handler, which bails unless no iteration can fault:
    // `helpers::run_handler`.)
    // (A load of SS opens an interrupt shadow, which only the run loop
    // keeps.)
    if insn.facts.jit() == Jit::Interpret
        || insn.loads_segment() == Some(SegReg::Ss)
        || !model.has(insn.facts.since())
        || (model == Model::I286 && insn.len > 10)
    {
        return None;
    }
    Some(
        inline
            .then(|| inline_op(insn, next, model))
            .flatten()
            .unwrap_or(Op::Interp {
                insn: 0,
                cross: false,
            }),
    )
}

/// The JIT's own code for `insn`, when its row says it has some and it
/// knows the form.
fn inline_op(insn: &Insn, next: u32, model: Model) -> Option<Op> {
    use Mn::*;
    // PAUSE (REP NOP) is a NOP.
    let pause = insn.mn == Nop && insn.opcode == 0x90 && insn.rep == x86::Rep::Rep;
    if insn.facts.jit() != Jit::Inline || insn.lock || (insn.rep != x86::Rep::None && !pause) {
        return None;
    }
    let rel = next.wrapping_add(insn.imm);
    let target = if insn.op32 { rel } else { rel & 0xFFFF };
    let two = |mk: fn(Loc, Loc) -> Op| -> Option<Op> {
        let (a, b) = (loc(insn, 0)?, loc(insn, 1)?);
        (a != Loc::Mem || b != Loc::Mem).then(|| mk(a, b))
    };
    Some(match insn.mn {
        Add | Or | Adc | Sbb | And | Sub | Xor | Cmp | Test => {
            let (dst, src) = (loc(insn, 0)?, loc(insn, 1)?);
            if matches!(dst, Loc::Imm(_)) {
                return None;
            }
            Op::Alu {
                mn: insn.mn,
                dst,
                src,
            }
        }
        Inc | Dec | Not | Neg => match loc(insn, 0)? {
            Loc::Imm(_) => return None,
            dst => Op::Unary { mn: insn.mn, dst },
        },
        Mov => two(|dst, src| Op::Mov { dst, src }).filter(|op| {
            matches!(
                op,
                Op::Mov {
                    dst: Loc::Reg(_) | Loc::Mem,
                    ..
                }
            )
        })?,
        Movzx | Movsx => match (loc(insn, 0)?, loc(insn, 1)?) {
            (Loc::Reg(dst), src @ (Loc::Reg(_) | Loc::Mem)) => Op::Extend {
                signed: insn.mn == Movsx,
                dst,
                src,
                src_bytes: Cpu::size_of(insn, insn.ops[1]),
            },
            _ => return None,
        },
        Lea if insn.mem.is_some() => match loc(insn, 0)? {
            Loc::Reg(dst) => Op::Lea { dst },
            _ => return None,
        },
        Push => match insn.ops.first()? {
            Opnd::Zv | Opnd::Ev | Opnd::Iv | Opnd::Ibs => Op::Push { src: loc(insn, 0)? },
            _ => return None,
        },
        Pop => match (insn.ops.first()?, loc(insn, 0)?) {
            (Opnd::Zv | Opnd::Ev, Loc::Reg(dst)) => Op::Pop { dst },
            _ => return None,
        },
        Xchg => match (loc(insn, 0)?, loc(insn, 1)?) {
            (Loc::Imm(_), _) | (_, Loc::Imm(_)) | (Loc::Mem, Loc::Mem) => return None,
            (a, b) => Op::Xchg { a, b },
        },
        Setcc => match loc(insn, 0)? {
            Loc::Imm(_) => return None,
            dst => Op::Setcc {
                cc: (insn.opcode & 15) as u8,
                dst,
            },
        },
        Clc | Stc | Cmc | Cld | Std => Op::Flags(insn.mn),
        Cbw => Op::Convert { widen: true },
        Cwd => Op::Convert { widen: false },
        Rol | Ror | Rcl | Rcr | Shl | Shr | Sal | Sar => {
            let (dst, count) = (loc(insn, 0)?, loc(insn, 1)?);
            if matches!(dst, Loc::Imm(_)) {
                return None;
            }
            Op::Calc {
                calc: Calc::Shift(insn.mn),
                dst,
                a: dst,
                b: count,
            }
        }
        Mul | Imul if insn.ops.len() == 1 => match loc(insn, 0)? {
            src @ (Loc::Reg(_) | Loc::Mem) if Cpu::size_of(insn, insn.ops[0]) != 1 => Op::MulWide {
                signed: insn.mn == Imul,
                src,
            },
            _ => return None,
        },
        Div | Idiv => match loc(insn, 0)? {
            src @ (Loc::Reg(_) | Loc::Mem) if Cpu::size_of(insn, insn.ops[0]) == 4 => Op::Div {
                signed: insn.mn == Idiv,
                src,
            },
            _ => return None,
        },
        Imul if insn.ops.len() >= 2 => {
            let (a, b) = if insn.ops.len() == 3 {
                (loc(insn, 1)?, loc(insn, 2)?)
            } else {
                (loc(insn, 0)?, loc(insn, 1)?)
            };
            match loc(insn, 0)? {
                dst @ Loc::Reg(_) => Op::Calc {
                    calc: Calc::Imul,
                    dst,
                    a,
                    b,
                },
                _ => return None,
            }
        }
        Nop if insn.ops.is_empty() => Op::Nop,
        Cmovcc => match (loc(insn, 0)?, loc(insn, 1)?) {
            (Loc::Reg(dst), src @ (Loc::Reg(_) | Loc::Mem)) => Op::Cmov {
                cc: (insn.opcode & 15) as u8,
                dst,
                src,
            },
            _ => return None,
        },
        Bswap => Op::Bswap {
            reg: (insn.opcode & 7) as u8,
        },
        Leave => Op::Leave,
        Rdtsc => Op::Rdtsc,
        Movs | Cmps | Stos | Lods | Scas if model != Model::I286 => Op::Str {
            mn: insn.mn,
            src_seg: insn.data_seg(),
        },
        Jmp if matches!(insn.ops.first(), Some(Opnd::Jb | Opnd::Jv)) => Op::Jmp { target },
        Jmp => match loc(insn, 0)? {
            Loc::Imm(_) => return None,
            src => Op::JmpInd { src, call: false },
        },
        Jcc => Op::Jcc {
            cc: (insn.opcode & 15) as u8,
            target,
        },
        Call if insn.ops.first() == Some(&Opnd::Jv) => Op::Call { target },
        Call => match loc(insn, 0)? {
            Loc::Imm(_) => return None,
            src => Op::JmpInd { src, call: true },
        },
        Ret => Op::Ret {
            extra: if insn.ops.is_empty() {
                0
            } else {
                insn.imm & 0xFFFF
            },
        },
        _ => return None,
    })
}

/// The operand size the emitter uses for `op` of `insn`.
pub(super) fn op_bytes(insn: &Insn, op: &Op) -> u8 {
    match op {
        Op::Alu { .. }
        | Op::Unary { .. }
        | Op::Mov { .. }
        | Op::Xchg { .. }
        | Op::Calc { .. }
        | Op::MulWide { .. }
        | Op::Div { .. } => Cpu::size_of(insn, insn.ops[0]),
        Op::Setcc { .. } => 1,
        Op::Cmov { .. } => Cpu::size_of(insn, insn.ops[0]),
        Op::Str { .. } if !insn.ops.iter().any(|o| matches!(o, Opnd::Xv | Opnd::Yv)) => 1,
        _ if insn.op32 => 4,
        _ => 2,
    }
}
