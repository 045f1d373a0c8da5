//! What an opcode row says about its instruction besides its operands:
//! whether LOCK may prefix it, the first processor that has it, whether it
//! needs CPL 0, whether it exists only in protected mode, and how the JIT
//! runs it ([`Jit`]). Each row of `opcodes.rs` carries its [`Facts`] (from
//! its mnemonic, [`Mn::facts`], with the row's own exceptions: the long NOP
//! is P6, MOV to and from control and debug registers needs CPL 0, loads
//! of segment and control registers are left to the interpreter), and the
//! decoder copies them into the [`Insn`](super::Insn), where the
//! interpreter's one gate (`cpu/exec/gate.rs`) and the JIT read them.
//!
//! The facts every row of a mnemonic shares and that nothing needs per
//! decoded instruction are here too, as functions of the mnemonic: the
//! status flags it reads and writes ([`Mn::flags`]), whether it writes
//! memory ([`Mn::memory_writes`]), whether it transfers control
//! ([`Mn::branches`]), and whether a block ends after it
//! ([`Mn::ends_block`]). The JIT's block builder, liveness pass and emitter
//! take them from here; nothing else keeps a list of these facts.

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

/// How the JIT runs an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Jit {
    /// Generated code of its own for the common forms (`cpu/jit/block.rs`
    /// says which); the other forms call the interpreter's handler.
    Inline,
    /// Generated code calls the interpreter's handler, and the block goes
    /// on after it (the handler commits nothing when it faults, and the
    /// block then leaves the instruction to the interpreter). A segment
    /// load (MOV or POP to DS, ES, FS or GS) is one: the block leaves after
    /// it when it changed what the block was compiled for.
    Call,
    /// The block ends before it and the interpreter runs it: it changes
    /// what blocks are compiled for (segments, mode, privilege, paging,
    /// the FPU's state), transfers control far or through the IDT, talks
    /// to devices, or halts.
    Interpret,
}

/// The row facts of one instruction, packed in a byte (an [`Insn`] fits
/// a cache line with them): bits 0-1 the [`Lock`] rule, 2-3 [`Since`],
/// bit 4 CPL 0 needed, bit 5 protected mode only, bits 6-7 [`Jit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts(u8);

const CPL0: u8 = 1 << 4;
const PROTECTED_ONLY: u8 = 1 << 5;

impl Facts {
    const fn of(lock: Lock, since: Since, cpl0: bool, protected_only: bool, jit: Jit) -> Facts {
        Facts(
            lock as u8
                | (since as u8) << 2
                | if cpl0 { CPL0 } else { 0 }
                | if protected_only { PROTECTED_ONLY } else { 0 }
                | (jit as u8) << 6,
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
    /// How the JIT runs the instruction.
    pub const fn jit(self) -> Jit {
        match self.0 >> 6 {
            0 => Jit::Inline,
            1 => Jit::Call,
            _ => Jit::Interpret,
        }
    }
    /// These facts, with blocks calling the interpreter's handler.
    pub const fn called(self) -> Facts {
        Facts(self.0 & 0x3F | (Jit::Call as u8) << 6)
    }
    /// These facts, with the block ending before the instruction.
    pub const fn interpreted(self) -> Facts {
        Facts(self.0 & 0x3F | (Jit::Interpret as u8) << 6)
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

/// The status flags (CF 0x01, PF 0x04, AF 0x10, ZF 0x40, SF 0x80, OF
/// 0x800, as in EFLAGS) an instruction reads and writes. `written`
/// includes the flags it leaves undefined, which `undefined` lists again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagUse {
    pub read: u16,
    pub written: u16,
    pub undefined: u16,
}

/// The six status flags.
pub const STATUS: u16 = 0x8D5;
const CF: u16 = 0x01;
const PF: u16 = 0x04;
const AF: u16 = 0x10;
const ZF: u16 = 0x40;
const SF: u16 = 0x80;
const OF: u16 = 0x800;

const fn flags(read: u16, written: u16, undefined: u16) -> FlagUse {
    FlagUse {
        read,
        written,
        undefined,
    }
}

/// Which memory an instruction writes (besides the flags and registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryWrites {
    Never,
    /// Its first operand, when that is memory.
    First,
    /// Either of its two operands that is memory (XCHG, XADD).
    Operands,
    /// Memory it names implicitly: the stack, a string destination, a
    /// descriptor table's accessed bit (and its first operand, if memory).
    Implicit,
}

impl super::Insn {
    /// True when the instruction may write memory ([`Mn::memory_writes`]
    /// applied to its operands).
    pub fn writes_memory(&self) -> bool {
        use super::Opnd::*;
        match self.mn.memory_writes() {
            MemoryWrites::Never => false,
            MemoryWrites::First => {
                self.mem.is_some() && matches!(self.ops.first(), Some(Eb | Ew | Ev | Ob | Ov | Mq))
            }
            MemoryWrites::Operands => self.mem.is_some(),
            MemoryWrites::Implicit => true,
        }
    }

    /// True when the instruction may read or write memory: a memory
    /// operand, or memory it names implicitly (the stack, string operands,
    /// XLAT's table, a descriptor table).
    pub fn touches_memory(&self) -> bool {
        use Mn::*;
        self.mem.is_some()
            || self.mn.memory_writes() == MemoryWrites::Implicit
            || matches!(
                self.mn,
                Pop | Popa
                    | Popf
                    | Ret
                    | Leave
                    | Cmps
                    | Lods
                    | Scas
                    | Outs
                    | Xlat
                    | Lar
                    | Lsl
                    | Verr
                    | Verw
            )
            || (self.mn == Mov && self.ops.contains(&super::Opnd::Sw))
    }
}

impl Mn {
    /// The facts every row of this mnemonic shares.
    pub const fn facts(self) -> Facts {
        use Lock::*;
        use Mn::*;
        use Since::*;
        let (lock, since, cpl0, protected_only) = match self {
            Add | Or | Adc | Sbb | And | Sub | Xor | Inc | Dec | Not | Neg | Xchg | Bts | Btr
            | Btc => (Memory, I386, false, false),
            Bt => (Memory386, I386, false, false),
            Xadd | Cmpxchg => (Memory, I486, false, false),
            Cmpxchg8b => (Memory, Pentium, false, false),
            Bswap => (Never, I486, false, false),
            Invd | Wbinvd | Invlpg => (Never, I486, true, false),
            Rdmsr | Wrmsr => (Never, Pentium, true, false),
            Rdtsc | Cpuid => (Never, Pentium, false, false),
            Cmovcc | Rdpmc | Sysenter | Sysexit => (Never, P6, false, false),
            Hlt | Clts | Lmsw | Lgdt | Lidt => (Never, I386, true, false),
            Lldt | Ltr => (Never, I386, true, true),
            Sldt | Str | Verr | Verw | Lar | Lsl | Arpl => (Never, I386, false, true),
            _ => (Never, I386, false, false),
        };
        Facts::of(lock, since, cpl0, protected_only, self.jit())
    }

    /// How the JIT runs this mnemonic's rows (a row may say otherwise).
    const fn jit(self) -> Jit {
        use Mn::*;
        match self {
            Add | Or | Adc | Sbb | And | Sub | Xor | Cmp | Test | Inc | Dec | Not | Neg | Mov
            | Movzx | Movsx | Lea | Push | Pop | Xchg | Setcc | Clc | Stc | Cmc | Cld | Std
            | Cbw | Cwd | Rol | Ror | Rcl | Rcr | Shl | Shr | Sal | Sar | Imul | Nop | Cmovcc
            | Bswap | Leave | Rdtsc | Movs | Cmps | Stos | Lods | Scas | Jmp | Jcc | Call | Ret
            | Mul | Div | Idiv => Jit::Inline,
            Daa | Das | Aaa | Aas | Aam | Aad | Salc | Xlat | Shld | Shrd | Bt | Bts | Btr
            | Btc | Bsf | Bsr | Sahf | Lahf | Pusha | Popa | Pushf | Bound | Xadd | Cmpxchg
            | Cmpxchg8b | Cpuid | Rdmsr | Rdpmc | Smsw | Sgdt | Sidt | Sldt | Str | Verr | Verw
            | Lar | Lsl | Arpl | Enter | Loop | Loope | Loopne | Jcxz | Cli | Sti | Popf | Wait
            | Esc => Jit::Call,
            // Segment and descriptor-table loads, mode and privilege
            // changes, MSR writes, far transfers and interrupts, port I/O,
            // HLT, the TLB and caches, and the undefined opcodes.
            Ins | Outs | In | Out | Callf | Jmpf | Retf | Iret | Int | Int3 | Into | Int1 | Les
            | Lds | Lss | Lfs | Lgs | Hlt | Lldt | Ltr | Lgdt | Lidt | Lmsw | Clts | Ud | Ud2
            | Invlpg | Invd | Wbinvd | Wrmsr | Sysenter | Sysexit => Jit::Interpret,
        }
    }

    /// The status flags the instruction reads and writes (the SDM's
    /// "Flags Affected"). Instructions that load all of EFLAGS (POPF, IRET)
    /// or save it (PUSHF, INT) read or write all six.
    pub const fn flags(self) -> FlagUse {
        use Mn::*;
        match self {
            Add | Sub | Cmp | Neg | Cmps | Scas | Cmpxchg | Xadd => flags(0, STATUS, 0),
            Adc | Sbb => flags(CF, STATUS, 0),
            And | Or | Xor | Test => flags(0, STATUS, AF),
            Inc | Dec => flags(0, STATUS & !CF, 0),
            Mul | Imul => flags(0, STATUS, SF | ZF | AF | PF),
            Div | Idiv => flags(0, STATUS, STATUS),
            // OF is undefined for counts other than 1.
            Rol | Ror => flags(0, CF | OF, OF),
            Rcl | Rcr => flags(CF, CF | OF, OF),
            Shl | Sal | Shr | Sar | Shld | Shrd => flags(0, STATUS, AF | OF),
            // ZF is left as it was.
            Bt | Bts | Btr | Btc => flags(0, STATUS & !ZF, OF | SF | AF | PF),
            Bsf | Bsr => flags(0, STATUS, CF | OF | SF | AF | PF),
            Daa | Das => flags(CF | AF, STATUS, OF),
            Aaa | Aas => flags(AF, STATUS, OF | SF | ZF | PF),
            Aam | Aad => flags(0, STATUS, OF | AF | CF),
            Salc => flags(CF, 0, 0),
            Cmpxchg8b | Lar | Lsl | Verr | Verw | Arpl => flags(0, ZF, 0),
            Jcc | Setcc | Cmovcc => flags(STATUS, 0, 0),
            Loope | Loopne => flags(ZF, 0, 0),
            Clc | Stc => flags(0, CF, 0),
            Cmc => flags(CF, CF, 0),
            Sahf => flags(0, SF | ZF | AF | PF | CF, 0),
            Lahf => flags(SF | ZF | AF | PF | CF, 0, 0),
            Pushf | Int | Int3 | Into | Int1 | Callf | Jmpf | Sysenter => flags(STATUS, 0, 0),
            // FCOMI and its kin (P6) write ZF, PF and CF and clear the others.
            Popf | Iret | Retf | Sysexit | Esc => flags(0, STATUS, 0),
            _ => flags(0, 0, 0),
        }
    }

    /// The memory the instruction writes.
    pub const fn memory_writes(self) -> MemoryWrites {
        use Mn::*;
        match self {
            Add | Or | Adc | Sbb | And | Sub | Xor | Inc | Dec | Not | Neg | Mov | Pop | Setcc
            | Rol | Ror | Rcl | Rcr | Shl | Shr | Sal | Sar | Shld | Shrd | Bts | Btr | Btc
            | Cmpxchg | Cmpxchg8b | Smsw | Sldt | Str | Arpl => MemoryWrites::First,
            Xchg | Xadd => MemoryWrites::Operands,
            Push | Pusha | Pushf | Call | Callf | Enter | Int | Int3 | Into | Int1 | Movs
            | Stos | Ins | Sgdt | Sidt | Esc | Lds | Les | Lss | Lfs | Lgs | Ltr | Lldt | Jmpf
            | Iret | Retf | Bound => MemoryWrites::Implicit,
            _ => MemoryWrites::Never,
        }
    }

    /// True when a block of translated code ends after the instruction:
    /// it branches, or it may set IF or TF (STI, POPF), which the run loop
    /// acts on only between blocks (an interrupt, a single-step trap), or
    /// AC (alignment checks, which blocks are compiled without).
    pub const fn ends_block(self) -> bool {
        self.branches() || matches!(self, Mn::Sti | Mn::Popf)
    }

    /// True for the string instructions, which a REP prefix repeats.
    pub const fn is_string(self) -> bool {
        use Mn::*;
        matches!(self, Movs | Cmps | Stos | Lods | Scas | Ins | Outs)
    }

    /// True when the instruction may go anywhere but the next instruction
    /// (jumps, calls, returns, loops, interrupts and the fast system
    /// calls).
    pub const fn branches(self) -> bool {
        use Mn::*;
        matches!(
            self,
            Jmp | Jcc
                | Call
                | Ret
                | Loop
                | Loope
                | Loopne
                | Jcxz
                | Callf
                | Jmpf
                | Retf
                | Int
                | Int3
                | Into
                | Int1
                | Iret
                | Sysenter
                | Sysexit
        )
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
                    for jit in [Jit::Inline, Jit::Call, Jit::Interpret] {
                        let f = Facts::of(lock, since, cpl0, pm, jit);
                        assert_eq!(
                            (f.lock(), f.since(), f.cpl0(), f.protected_only(), f.jit()),
                            (lock, since, cpl0, pm, jit)
                        );
                    }
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
