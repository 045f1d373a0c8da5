//! The register cache: which guest general registers a block keeps in
//! host registers while it runs. A block loads them on entry, works on
//! them in place, and stores the ones it changed wherever it leaves
//! (exits, chained jumps, bails) and before it calls anything that reads
//! the registers in the `Cpu` struct or clobbers the host's caller-saved
//! registers (the memory helpers, `helpers::calc`, the interpreter's
//! handlers), reloading them after such a call. The choice here is only
//! about speed: the emitter handles any guest register, cached or not,
//! and a high-byte access (AH..BH) to a cached register goes through the
//! `Cpu` struct.

use super::block::{Item, Loc, Op};

/// The host registers that hold cached guest registers: caller-saved ones
/// the emitter does not otherwise use between helper calls (rsi, rdi,
/// r8-r10; r11 holds the instruction budget).
pub(super) const HOSTS: [u8; 5] = [6, 7, 8, 9, 10];

/// Guest register numbers (0 = EAX .. 7 = EDI).
const EAX: u8 = 0;
const EDX: u8 = 2;
const ESP: u8 = 4;
const EBP: u8 = 5;
const ESI: u8 = 6;
const EDI: u8 = 7;

/// The host register for each guest register the block caches.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Cache {
    pub host: [Option<u8>; 8],
}

/// Chooses the registers for `items`: the most used ones, up to one per
/// host register, leaving out any the block reads or writes as a high
/// byte (those accesses are cheaper through memory).
pub(super) fn choose(items: &[Item]) -> Cache {
    let mut uses = [0u32; 8];
    let mut high = 0u8;
    for it in items {
        count(it, &mut uses, &mut high);
    }
    let mut order: Vec<usize> = (0..8)
        .filter(|&n| uses[n] > 0 && high & 1 << n == 0)
        .collect();
    order.sort_by_key(|&n| std::cmp::Reverse(uses[n]));
    let mut cache = Cache::default();
    for (&n, &h) in order.iter().zip(HOSTS.iter()) {
        cache.host[n] = Some(h);
    }
    cache
}

/// Counts the register uses of one instruction: its operands, its
/// address's base and index, and the registers it uses implicitly.
fn count(it: &Item, uses: &mut [u32; 8], high: &mut u8) {
    let mut reg = |n: u8, bytes: u8| {
        if bytes == 1 && n >= 4 {
            *high |= 1 << (n - 4);
        } else {
            uses[usize::from(n & 7)] += 1;
        }
    };
    let b = it.bytes;
    let loc = |l: Loc, bytes: u8, reg: &mut dyn FnMut(u8, u8)| {
        if let Loc::Reg(n) = l {
            reg(n, bytes);
        }
    };
    if let Some(m) = it.insn.mem {
        for r in [m.base, m.index].into_iter().flatten() {
            reg(r as u8, 4);
        }
    }
    match it.op {
        Op::Alu { dst, src, .. } | Op::Mov { dst, src } => {
            loc(dst, b, &mut reg);
            loc(src, b, &mut reg);
        }
        Op::Unary { dst, .. } => loc(dst, b, &mut reg),
        Op::Extend {
            dst,
            src,
            src_bytes,
            ..
        } => {
            reg(dst, b);
            loc(src, src_bytes, &mut reg);
        }
        Op::Lea { dst } | Op::Bswap { reg: dst } => reg(dst, b),
        Op::Push { src } => {
            loc(src, b, &mut reg);
            reg(ESP, 4);
        }
        Op::Pop { dst } => {
            reg(dst, b);
            reg(ESP, 4);
        }
        Op::Xchg { a, b: other } => {
            loc(a, b, &mut reg);
            loc(other, b, &mut reg);
        }
        Op::Setcc { dst, .. } => loc(dst, 1, &mut reg),
        Op::Convert { .. } | Op::Rdtsc => {
            reg(EAX, 4);
            reg(EDX, 4);
        }
        Op::MulWide { src, .. } | Op::Div { src, .. } => {
            loc(src, b, &mut reg);
            reg(EAX, 4);
            reg(EDX, 4);
        }
        Op::Calc {
            dst, a, b: second, ..
        } => {
            loc(dst, b, &mut reg);
            loc(a, b, &mut reg);
            loc(second, b, &mut reg);
        }
        Op::Cmov { dst, src, .. } => {
            reg(dst, b);
            loc(src, b, &mut reg);
        }
        Op::Leave => {
            reg(ESP, 4);
            reg(EBP, 4);
        }
        Op::Str { .. } => {
            reg(ESI, 4);
            reg(EDI, 4);
            reg(EAX, 4);
        }
        Op::Call { .. } | Op::Ret { .. } => reg(ESP, 4),
        Op::JmpInd { src, call } => {
            loc(src, b, &mut reg);
            if call {
                reg(ESP, 4);
            }
        }
        Op::Flags(_) | Op::Nop | Op::Jmp { .. } | Op::Jcc { .. } | Op::Interp { .. } => {}
    }
}
