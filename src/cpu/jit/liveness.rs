//! Which status flags each instruction of a block must compute: a backward
//! pass over the block from what each translated instruction reads, writes
//! and whether it may leave the block. Generated code skips computing the
//! flags of an instruction when every flag it writes is written again by a
//! later instruction of the block before anything can see it.
//!
//! "Seeing" the flags is reading them (a conditional jump, SETcc, ADC, a
//! helper that works on EFLAGS) or leaving the block at all: the block's end,
//! a control transfer, and every instruction that may bail to the
//! interpreter (any memory access), since the interpreter, or the
//! exception it raises, sees EFLAGS exactly as the previous instruction
//! left it. An instruction that writes memory may also leave right after
//! itself (the write changed the running block's code), so everything is
//! seen after it. The pass knows nothing of host code; `emit.rs` acts on
//! it.

use super::block::{Calc, Item, Loc, Op};
use crate::x86::Mn;

/// The six status flags (CF, PF, AF, ZF, SF, OF).
pub(super) const STATUS: i32 = 0x8D5;
pub(super) const CF: i32 = 0x01;
pub(super) const OF: i32 = 0x800;

/// What one instruction does with the status flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Effects {
    /// Flags it needs as the previous instruction left them.
    pub reads: i32,
    /// Flags the generated code computes for it from the host's (kept
    /// pending in a host register until something sees them).
    pub writes: i32,
    /// It may leave the block (a memory access that may bail, a control
    /// transfer).
    pub exits: bool,
}

/// True when `op` writes guest memory, so the block may end right after it
/// on self-modifying code (`emit.rs` `smc_check`).
pub(super) fn writes_guest_memory(op: &Op) -> bool {
    match *op {
        Op::Alu { mn, dst, .. } => dst == Loc::Mem && !matches!(mn, Mn::Cmp | Mn::Test),
        Op::Unary { dst, .. }
        | Op::Calc { dst, .. }
        | Op::Mov { dst, .. }
        | Op::Setcc { dst, .. } => dst == Loc::Mem,
        Op::Xchg { a, b } => a == Loc::Mem || b == Loc::Mem,
        Op::Push { .. } | Op::Call { .. } | Op::JmpInd { call: true, .. } => true,
        Op::Str { mn, .. } => matches!(mn, Mn::Movs | Mn::Stos),
        _ => false,
    }
}

/// True when a shift or rotate by the constant `count` runs as one host
/// instruction: not through carry, and a count (masked as the CPU masks
/// it) from 1 to one less than the width, where the host's result, CF and
/// SF/ZF/PF are the guest's.
pub(super) fn native_shift(mn: Mn, count: u32, bytes: u8) -> bool {
    let count = count & 31;
    matches!(
        mn,
        Mn::Rol | Mn::Ror | Mn::Shl | Mn::Sal | Mn::Shr | Mn::Sar
    ) && (1..u32::from(bytes) * 8).contains(&count)
}

/// True when an IMUL runs as the host's instruction (a register
/// destination, 16 or 32 bits wide).
pub(super) fn native_imul(dst: Loc, bytes: u8) -> bool {
    matches!(dst, Loc::Reg(_)) && bytes != 1
}

/// The flag effects of `it`.
pub(super) fn effects(it: &Item) -> Effects {
    let mem = |locs: &[Loc]| locs.contains(&Loc::Mem);
    let none = |exits| Effects {
        reads: 0,
        writes: 0,
        exits,
    };
    match it.op {
        Op::Alu { mn, dst, src } => Effects {
            reads: if matches!(mn, Mn::Adc | Mn::Sbb) {
                CF
            } else {
                0
            },
            writes: STATUS,
            exits: mem(&[dst, src]),
        },
        Op::Unary { mn, dst } => Effects {
            reads: 0,
            writes: match mn {
                Mn::Inc | Mn::Dec => STATUS & !CF,
                Mn::Neg => STATUS,
                _ => 0,
            },
            exits: dst == Loc::Mem,
        },
        Op::Calc {
            calc: Calc::Shift(mn),
            dst,
            b: Loc::Imm(count),
            ..
        } if native_shift(mn, count, it.bytes) => Effects {
            reads: 0,
            writes: if matches!(mn, Mn::Rol | Mn::Ror) {
                CF | OF
            } else {
                STATUS
            },
            exits: dst == Loc::Mem,
        },
        Op::Calc {
            calc: Calc::Imul,
            dst,
            a,
            b,
        } if native_imul(dst, it.bytes) => Effects {
            reads: 0,
            writes: STATUS,
            exits: mem(&[a, b]),
        },
        // The helper reads and writes EFLAGS in memory.
        Op::Calc { dst, a, b, .. } => Effects {
            reads: STATUS,
            writes: 0,
            exits: mem(&[dst, a, b]),
        },
        Op::Setcc { dst, .. } => Effects {
            reads: STATUS,
            writes: 0,
            exits: dst == Loc::Mem,
        },
        // CLC, STC and CMC change EFLAGS in memory.
        Op::Flags(Mn::Clc | Mn::Stc | Mn::Cmc) => Effects {
            reads: STATUS,
            writes: 0,
            exits: false,
        },
        Op::Cmov { src, .. } => Effects {
            reads: STATUS,
            writes: 0,
            exits: src == Loc::Mem,
        },
        Op::Str {
            mn: Mn::Cmps | Mn::Scas,
            ..
        } => Effects {
            reads: 0,
            writes: STATUS,
            exits: true,
        },
        Op::Str { .. } | Op::Leave | Op::Rdtsc => none(true),
        Op::Bswap { .. } => none(false),
        Op::Jcc { .. } => Effects {
            reads: STATUS,
            writes: 0,
            exits: true,
        },
        Op::Mov { dst, src } => none(mem(&[dst, src])),
        Op::Extend { src, .. } => none(src == Loc::Mem),
        Op::Xchg { a, b } => none(mem(&[a, b])),
        Op::Push { .. } | Op::Pop { .. } => none(true),
        Op::Flags(_) | Op::Convert { .. } | Op::Lea { .. } | Op::Nop => none(false),
        Op::Jmp { .. } | Op::Call { .. } | Op::JmpInd { .. } | Op::Ret { .. } => none(true),
    }
}

/// For each instruction of `items`, the status flags that something may
/// see after it (everything after the last one: the block's exit).
pub(super) fn live_after(items: &[Item]) -> Vec<i32> {
    let mut live = vec![0; items.len()];
    let mut after = STATUS;
    for (i, it) in items.iter().enumerate().rev() {
        live[i] = if writes_guest_memory(&it.op) {
            STATUS
        } else {
            after
        };
        let fx = effects(it);
        after = (after & !fx.writes) | fx.reads | if fx.exits { STATUS } else { 0 };
    }
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x86;

    fn item(op: Op) -> Item {
        Item {
            insn: x86::decode(&[0x90], true).unwrap(),
            op,
            eip: 0,
            next: 1,
            bytes: 4,
        }
    }

    fn alu(mn: Mn, dst: Loc, src: Loc) -> Item {
        item(Op::Alu { mn, dst, src })
    }

    #[test]
    fn overwritten_flags_are_dead_and_exits_see_everything() {
        let items = [
            alu(Mn::Add, Loc::Reg(0), Loc::Reg(1)),
            item(Op::Unary {
                mn: Mn::Inc,
                dst: Loc::Reg(0),
            }),
            alu(Mn::Sub, Loc::Reg(0), Loc::Imm(3)),
            item(Op::Mov {
                dst: Loc::Reg(2),
                src: Loc::Mem,
            }),
            alu(Mn::Cmp, Loc::Reg(0), Loc::Reg(2)),
            item(Op::Jcc { cc: 4, target: 0 }),
        ];
        let live = live_after(&items);
        // ADD's CF survives INC, and SUB overwrites everything.
        assert_eq!(live[0], 0);
        assert_eq!(live[1], 0);
        // The load may bail: SUB's flags must be in EFLAGS by then.
        assert_eq!(live[2], STATUS);
        assert_eq!(live[3], 0);
        assert_eq!(live[4], STATUS);
        assert_eq!(live[5], STATUS);
        // INC keeps CF, so CF from before it is still needed.
        let items = [
            alu(Mn::Add, Loc::Reg(0), Loc::Reg(1)),
            item(Op::Unary {
                mn: Mn::Inc,
                dst: Loc::Reg(0),
            }),
        ];
        assert_eq!(live_after(&items)[0], CF);
        // A store may end the block on self-modifying code: its flags are
        // seen even when the next instruction overwrites them.
        let items = [
            alu(Mn::Add, Loc::Mem, Loc::Reg(0)),
            alu(Mn::Add, Loc::Reg(0), Loc::Imm(1)),
        ];
        assert_eq!(live_after(&items)[0], STATUS);
        // ADC reads CF.
        let items = [
            alu(Mn::Add, Loc::Reg(0), Loc::Reg(1)),
            alu(Mn::Adc, Loc::Reg(2), Loc::Reg(3)),
        ];
        assert_eq!(live_after(&items)[0], CF);
    }
}
