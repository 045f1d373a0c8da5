//! Status flags left as a recipe: generated code that computes an ALU
//! operation or an INC/DEC whose flags nothing in the block reads, only
//! the exits, stores its operands and a code naming the operation here
//! instead of capturing the host's flags (PUSHF, about four cycles on the
//! hosts measured, was the largest single cost of hot loops). Every
//! recipe also keeps its CF, so that an INC or DEC after it (which keeps
//! CF) can make its own recipe without settling the one before. The flags are computed from the recipe only when something
//! needs them in EFLAGS: an instruction of a later block that reads them
//! (its code checks `kind` and calls [`settle`]), or `Cpu::run_block` when
//! generated code returns, so nothing outside generated code ever sees a
//! recipe. The computation is the interpreter's own (`Cpu::alu`,
//! `Cpu::unary`), so the flags are exactly the interpreter's.

use super::super::flags::CF;
use super::super::Cpu;
use crate::x86::Mn;

/// A recipe (read and written by generated code, hence `repr(C)`). `kind`
/// 0 means none: EFLAGS holds the status flags.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(crate) struct LazyFlags {
    /// [`kind`]'s code: the operation and its width.
    pub kind: u32,
    /// The operands as they were before the operation.
    pub a: u32,
    pub b: u32,
    /// CF after the operation, 0 or 1 (stored with SETC; for an INC or
    /// DEC, the CF it keeps, which its settling takes). A byte, so that
    /// reading it never waits on a wider store's forwarding.
    pub cf: u8,
    /// For an ADC or SBB, the CF it took (0 or 1).
    pub carry_in: u8,
}

/// The operations a recipe can name, by their code (1-based; 0 is none).
/// `Mn::Mul` stands for the flags of every multiply (MUL and IMUL): `a`
/// is the low half of the product, `cf` whether the high half was needed.
/// The shifts by a constant from 1 to one less than the width (the host
/// runs those exactly) store their operand and count. ADC and SBB store
/// the CF they took in `carry_in`.
const OPS: [Mn; 15] = [
    Mn::Add,
    Mn::Sub,
    Mn::Cmp,
    Mn::And,
    Mn::Or,
    Mn::Xor,
    Mn::Test,
    Mn::Inc,
    Mn::Dec,
    Mn::Mul,
    Mn::Shl,
    Mn::Shr,
    Mn::Sar,
    Mn::Adc,
    Mn::Sbb,
];

/// The recipe code for `mn` on `bytes`-wide operands, if a recipe can
/// name it.
pub(super) fn kind(mn: Mn, bytes: u8) -> Option<u32> {
    let mn = if mn == Mn::Sal { Mn::Shl } else { mn };
    let op = OPS.iter().position(|&m| m == mn)? as u32 + 1;
    Some(op | u32::from(bytes) << 8)
}

/// The operation and width a recipe code names ([`kind`]'s inverse).
pub(super) fn op_of(kind: u32) -> Option<(Mn, u8)> {
    let mn = (kind & 0xFF)
        .checked_sub(1)
        .and_then(|op| OPS.get(op as usize))?;
    Some((*mn, (kind >> 8) as u8))
}

impl Cpu {
    /// Puts the status flags of a pending recipe into EFLAGS.
    #[inline]
    pub(super) fn settle_flags(&mut self) {
        if self.jit_near.lazy.kind == 0 {
            return;
        }
        let r = std::mem::take(&mut self.jit_near.lazy);
        let Some((mn, bytes)) = op_of(r.kind) else {
            return;
        };
        match mn {
            Mn::Inc | Mn::Dec => {
                self.set_flag(CF, r.cf != 0);
                self.unary(mn, r.a, bytes);
            }
            // As `exec/arith.rs` sets them: SF, ZF and PF from the low
            // half, CF = OF, AF clear.
            Mn::Mul => self.set_status(r.a, bytes, r.cf != 0, r.cf != 0, false),
            Mn::Shl | Mn::Shr | Mn::Sar => {
                self.shift(mn, r.a, r.b, bytes);
            }
            Mn::Adc | Mn::Sbb => {
                self.set_flag(CF, r.carry_in != 0);
                self.alu(mn, r.a, r.b, bytes);
            }
            _ => {
                self.alu(mn, r.a, r.b, bytes);
            }
        }
    }
}

/// Called by generated code before an instruction that reads EFLAGS when
/// a recipe may be pending.
pub(super) extern "sysv64" fn settle(cpu: *mut Cpu) {
    // SAFETY: generated code passes the CPU pointer `Cpu::run_block` gave
    // it, valid and not otherwise borrowed while the block runs.
    let cpu = unsafe { &mut *cpu };
    cpu.settle_flags();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::flags::STATUS;

    /// Settling a recipe gives the flags the interpreter computes.
    #[test]
    fn a_recipe_settles_to_the_interpreters_flags() {
        let cases = [
            0u32,
            1,
            0x7F,
            0x80,
            0xFF,
            0x7FFF,
            0x8000,
            0xFFFF,
            0x7FFF_FFFF,
            0x8000_0000,
            0xFFFF_FFFF,
            0x1234_5678,
        ];
        for &mn in OPS.iter().filter(|&&m| m != Mn::Mul) {
            for bytes in [1u8, 2, 4] {
                for &a in &cases {
                    for &b in &cases {
                        for cf in [false, true] {
                            let mut want = Cpu::new();
                            want.set_flag(CF, cf);
                            let mut got = want.clone();
                            // (Shifts by 1 to one less than the width.)
                            let b = match mn {
                                Mn::Shl | Mn::Shr | Mn::Sar => b % (u32::from(bytes) * 8 - 1) + 1,
                                _ => b,
                            };
                            match mn {
                                Mn::Inc | Mn::Dec => {
                                    want.unary(mn, a, bytes);
                                }
                                Mn::Shl | Mn::Shr | Mn::Sar => {
                                    want.shift(mn, a, b, bytes);
                                }
                                _ => {
                                    want.alu(mn, a, b, bytes);
                                }
                            }
                            // Garbage status flags that the recipe replaces.
                            got.eflags ^= STATUS;
                            // An INC/DEC takes CF from the recipe, not
                            // from EFLAGS.
                            got.set_flag(CF, !cf);
                            got.jit_near.lazy = LazyFlags {
                                kind: kind(mn, bytes).unwrap(),
                                a,
                                b,
                                cf: u8::from(cf),
                                carry_in: u8::from(cf),
                            };
                            got.settle_flags();
                            assert_eq!(got.eflags, want.eflags, "{mn:?} {a:#x} {b:#x} {bytes}");
                            assert_eq!(got.jit_near.lazy.kind, 0);
                        }
                    }
                }
            }
        }
    }
}
