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
use crate::x86::facts;
use crate::x86::Mn;

/// The six status flags (CF, PF, AF, ZF, SF, OF).
pub(super) const STATUS: i32 = facts::STATUS as i32;
pub(super) const CF: i32 = 0x01;

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

/// True when the instruction writes guest memory (its row says so), so the
/// block may end right after it on self-modifying code (`emit.rs`
/// `smc_check`).
pub(super) fn writes_guest_memory(it: &Item) -> bool {
    it.insn.writes_memory()
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

/// True when the emitter works on EFLAGS in memory for `it` (a helper or
/// the interpreter's handler computes its flags there, or it changes
/// single bits in place) rather than computing them from the host's.
fn flags_in_memory(it: &Item) -> bool {
    match it.op {
        Op::Interp { .. } => true,
        Op::Calc {
            calc: Calc::Shift(mn),
            b: Loc::Imm(count),
            ..
        } => !native_shift(mn, count, it.bytes),
        Op::Calc {
            calc: Calc::Imul,
            dst,
            ..
        } => !native_imul(dst, it.bytes),
        Op::Calc { .. } => true,
        Op::Flags(_) => it.insn.mn.flags().written != 0,
        _ => false,
    }
}

/// True when the generated code for `it` may leave the block: a control
/// transfer, a memory access that may bail, a handler call, RDTSC (which
/// bails when CR4.TSD is set).
fn may_leave(it: &Item) -> bool {
    let mem = |locs: &[Loc]| locs.contains(&Loc::Mem);
    it.ends_block()
        || match it.op {
            Op::Alu { dst, src, .. } | Op::Mov { dst, src } => mem(&[dst, src]),
            Op::Unary { dst, .. } | Op::Setcc { dst, .. } => dst == Loc::Mem,
            Op::Calc { dst, a, b, .. } => mem(&[dst, a, b]),
            Op::Cmov { src, .. } | Op::Extend { src, .. } | Op::MulWide { src, .. } => {
                src == Loc::Mem
            }
            // (It bails on a zero divisor or a quotient too large.)
            Op::Div { .. } => true,
            Op::Xchg { a, b } => mem(&[a, b]),
            Op::Str { .. }
            | Op::Leave
            | Op::Rdtsc
            | Op::Push { .. }
            | Op::Pop { .. }
            | Op::Interp { .. }
            | Op::Jmp { .. }
            | Op::Jcc { .. }
            | Op::Call { .. }
            | Op::JmpInd { .. }
            | Op::Ret { .. } => true,
            Op::Bswap { .. } | Op::Flags(_) | Op::Convert { .. } | Op::Lea { .. } | Op::Nop => {
                false
            }
        }
}

/// True when `it` is a shift or rotate (not through carry) of a 32-bit
/// register by CL whose flags are dead after it (`live`): the host's
/// instruction runs it, computing no flags (a count of 0 leaves them as
/// they were, which nothing sees either).
pub(super) fn quiet_cl_shift(it: &Item, live: i32) -> bool {
    matches!(it.op, Op::Calc {
        calc: Calc::Shift(mn),
        dst: Loc::Reg(_),
        b: Loc::Reg(1),
        ..
    } if it.bytes == 4
        && matches!(mn, Mn::Rol | Mn::Ror | Mn::Shl | Mn::Sal | Mn::Shr | Mn::Sar)
        && live & i32::from(mn.flags().written) == 0)
}

/// The flag effects of `it`, with `live` the flags something may see after
/// it: the flags its row says it reads and writes, or, where the emitter
/// works on EFLAGS in memory, all of them read (so that pending ones are
/// there first) and none computed.
pub(super) fn effects(it: &Item, live: i32) -> Effects {
    if quiet_cl_shift(it, live) {
        return Effects {
            reads: 0,
            writes: 0,
            exits: false,
        };
    }
    let exits = may_leave(it);
    if let Op::Div { .. } = it.op {
        // The SDM leaves the flags undefined; the interpreter keeps them.
        return Effects {
            reads: 0,
            writes: 0,
            exits,
        };
    }
    if flags_in_memory(it) {
        return Effects {
            reads: STATUS,
            writes: 0,
            exits,
        };
    }
    let row = it.insn.mn.flags();
    Effects {
        reads: i32::from(row.read),
        writes: i32::from(row.written),
        exits,
    }
}

/// For each instruction of `items`, the status flags that something may
/// see after it (everything after the last one: the block's exit); and
/// those something may see before the first is done with them (the flags
/// a jump back to the block's start must have put into EFLAGS).
pub(super) fn live_after(items: &[Item]) -> (Vec<i32>, i32) {
    let mut live = vec![0; items.len()];
    let mut after = STATUS;
    for (i, it) in items.iter().enumerate().rev() {
        live[i] = if writes_guest_memory(it) {
            STATUS
        } else {
            after
        };
        let fx = effects(it, live[i]);
        after = (after & !fx.writes) | fx.reads | if fx.exits { STATUS } else { 0 };
    }
    (live, after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Model;
    use crate::x86;

    /// The items of a block of 32-bit code.
    fn block(code: &[&[u8]]) -> Vec<Item> {
        let mut eip = 0;
        code.iter()
            .map(|bytes| {
                let insn = x86::decode(bytes, true).unwrap();
                let next = eip + u32::from(insn.len);
                let op = super::super::block::translate(&insn, next, Model::I686, true).unwrap();
                let item = Item {
                    insn,
                    op,
                    eip,
                    next,
                    bytes: super::super::block::op_bytes(&insn, &op),
                };
                eip = next;
                item
            })
            .collect()
    }

    const ADD_EAX_ECX: &[u8] = &[0x01, 0xC8];
    const INC_EAX: &[u8] = &[0x40];

    #[test]
    fn overwritten_flags_are_dead_and_exits_see_everything() {
        let (live, _) = live_after(&block(&[
            ADD_EAX_ECX,
            INC_EAX,
            &[0x83, 0xE8, 0x03], // sub eax, 3
            &[0x8B, 0x13],       // mov edx, [ebx]
            &[0x39, 0xD0],       // cmp eax, edx
            &[0x74, 0x00],       // jz
        ]));
        // ADD's CF survives INC, and SUB overwrites everything.
        assert_eq!(live[0], 0);
        assert_eq!(live[1], 0);
        // The load may bail: SUB's flags must be in EFLAGS by then.
        assert_eq!(live[2], STATUS);
        assert_eq!(live[3], 0);
        assert_eq!(live[4], STATUS);
        assert_eq!(live[5], STATUS);
        // INC keeps CF, so CF from before it is still needed.
        assert_eq!(live_after(&block(&[ADD_EAX_ECX, INC_EAX])).0[0], CF);
        // A store may end the block on self-modifying code: its flags are
        // seen even when the next instruction overwrites them.
        let add_store = &[0x01, 0x03]; // add [ebx], eax
        let add_one = &[0x83, 0xC0, 0x01]; // add eax, 1
        assert_eq!(live_after(&block(&[add_store, add_one])).0[0], STATUS);
        // ADC reads CF.
        let adc = &[0x11, 0xDA]; // adc edx, ebx
        assert_eq!(live_after(&block(&[ADD_EAX_ECX, adc])).0[0], CF);
        // A handler call (BT) sees every flag: they must be in EFLAGS.
        let bt = &[0x0F, 0xA3, 0xC8]; // bt eax, ecx
        let items = block(&[ADD_EAX_ECX, bt, add_one]);
        assert!(matches!(items[1].op, Op::Interp { .. }));
        assert_eq!(live_after(&items).0[0], STATUS);
        // DIV runs inline and keeps the flags, but may bail (#DE): the
        // flags before it are seen, and it writes none.
        let div = &[0xF7, 0xF1]; // div ecx
        let items = block(&[ADD_EAX_ECX, div, adc]);
        assert!(matches!(items[1].op, Op::Div { .. }));
        assert_eq!(live_after(&items).0, vec![STATUS, CF, STATUS]);
    }

    #[test]
    fn a_loop_back_to_the_start_needs_only_the_flags_read_before_written() {
        let dec_edx = &[0x4A];
        let jnz_back = &[0x75, 0xF9];
        // and eax, 1 / xor eax, ecx / dec edx / jnz: AND writes every flag
        // before anything sees one.
        let and_eax_1 = &[0x83, 0xE0, 0x01];
        let (_, live_in) = live_after(&block(&[and_eax_1, &[0x31, 0xC8], dec_edx, jnz_back]));
        assert_eq!(live_in, 0);
        // INC first keeps CF; ADC reads it; a load may bail first.
        assert_eq!(live_after(&block(&[INC_EAX, dec_edx, jnz_back])).1, CF);
        assert_eq!(
            live_after(&block(&[&[0x11, 0xDA], dec_edx, jnz_back])).1,
            CF
        );
        assert_eq!(
            live_after(&block(&[&[0x8B, 0x13], and_eax_1, jnz_back])).1,
            STATUS
        );
    }
}
