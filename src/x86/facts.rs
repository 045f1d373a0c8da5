//! What an opcode row says about its instruction besides its operands:
//! whether LOCK may prefix it, the first processor that has it, whether it
//! needs CPL 0, and whether it exists only in protected mode. Each row of
//! `opcodes.rs` carries its [`Facts`] (from its mnemonic, [`Mn::facts`],
//! with the row's own exceptions: the long NOP is P6, MOV to and from
//! control and debug registers needs CPL 0), the decoder copies them into
//! the [`Insn`](super::Insn), and the interpreter's one gate
//! (`cpu/exec/mod.rs`) and the JIT's translator read them there; nothing
//! else keeps a list of these facts.

use super::opcodes::Mn;

/// Whether LOCK may prefix the instruction (with a memory destination;
/// anything else with LOCK is #UD from the 386 on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Lock {
    Never,
    /// The SDM's list (LOCK, Vol. 2A).
    Memory,
    /// Only on the 386: BT, which the Intel386 manual lists beside BTS,
    /// BTR and BTC and later manuals drop.
    Memory386,
}

/// The first processor generation with the instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Since {
    I386,
    I486,
    Pentium,
    P6,
}

/// The row facts of one instruction, packed in a byte (an [`Insn`] fits
/// a cache line with them): bits 0-1 the [`Lock`] rule, 2-3 [`Since`],
/// bit 4 CPL 0 needed, bit 5 protected mode only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts(u8);

const CPL0: u8 = 1 << 4;
const PROTECTED_ONLY: u8 = 1 << 5;

impl Facts {
    const fn of(lock: Lock, since: Since, cpl0: bool, protected_only: bool) -> Facts {
        Facts(
            lock as u8
                | (since as u8) << 2
                | if cpl0 { CPL0 } else { 0 }
                | if protected_only { PROTECTED_ONLY } else { 0 },
        )
    }
    /// Whether LOCK may prefix the instruction.
    pub const fn lock(self) -> Lock {
        match self.0 & 3 {
            0 => Lock::Never,
            1 => Lock::Memory,
            _ => Lock::Memory386,
        }
    }
    /// The first processor generation with the instruction.
    pub const fn since(self) -> Since {
        match (self.0 >> 2) & 3 {
            0 => Since::I386,
            1 => Since::I486,
            2 => Since::Pentium,
            _ => Since::P6,
        }
    }
    /// #GP(0) unless CPL is 0 (in real mode it always is; in virtual-8086
    /// mode it is 3).
    pub const fn cpl0(self) -> bool {
        self.0 & CPL0 != 0
    }
    /// #UD in real and virtual-8086 mode.
    pub const fn protected_only(self) -> bool {
        self.0 & PROTECTED_ONLY != 0
    }
    /// These facts, needing CPL 0.
    pub const fn with_cpl0(self) -> Facts {
        Facts(self.0 | CPL0)
    }
    /// These facts, first on `since`.
    pub const fn first_on(self, since: Since) -> Facts {
        Facts(self.0 & !(3 << 2) | (since as u8) << 2)
    }
}

impl Mn {
    /// The facts every row of this mnemonic shares.
    pub const fn facts(self) -> Facts {
        use Lock::*;
        use Mn::*;
        use Since::*;
        match self {
            Add | Or | Adc | Sbb | And | Sub | Xor | Inc | Dec | Not | Neg | Xchg | Bts | Btr
            | Btc => Facts::of(Memory, I386, false, false),
            Bt => Facts::of(Memory386, I386, false, false),
            Xadd | Cmpxchg => Facts::of(Memory, I486, false, false),
            Cmpxchg8b => Facts::of(Memory, Pentium, false, false),
            Bswap => Facts::of(Never, I486, false, false),
            Invd | Wbinvd | Invlpg => Facts::of(Never, I486, true, false),
            Rdmsr | Wrmsr => Facts::of(Never, Pentium, true, false),
            Rdtsc | Cpuid => Facts::of(Never, Pentium, false, false),
            Cmovcc | Rdpmc | Sysenter | Sysexit => Facts::of(Never, P6, false, false),
            Hlt | Clts | Lmsw | Lgdt | Lidt => Facts::of(Never, I386, true, false),
            Lldt | Ltr => Facts::of(Never, I386, true, true),
            Sldt | Str | Verr | Verw | Lar | Lsl | Arpl => Facts::of(Never, I386, false, true),
            _ => Facts::of(Never, I386, false, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_pack_and_unpack() {
        for lock in [Lock::Never, Lock::Memory, Lock::Memory386] {
            for since in [Since::I386, Since::I486, Since::Pentium, Since::P6] {
                for (cpl0, pm) in [(false, false), (true, false), (false, true), (true, true)] {
                    let f = Facts::of(lock, since, cpl0, pm);
                    assert_eq!(
                        (f.lock(), f.since(), f.cpl0(), f.protected_only()),
                        (lock, since, cpl0, pm)
                    );
                }
            }
        }
        let f = Mn::Nop.facts().first_on(Since::P6).with_cpl0();
        assert_eq!(
            (f.lock(), f.since(), f.cpl0()),
            (Lock::Never, Since::P6, true)
        );
    }
}
