//! The interpreter's fast path. Most of what compiled code runs is a few
//! forms: ALU operations, MOV, LEA, INC/DEC/NOT/NEG, MOVZX/MOVSX, PUSH and
//! POP of a register, near branches, shifts, SETcc and CMOVcc of
//! registers, and IMUL into a register. When an instruction enters the
//! decoded-instruction cache, [`Form::of`] resolves its operands (which
//! register, memory, or the immediate) and width once; each later run goes
//! straight to the few lines below, without the general dispatcher, the
//! operand-table walk, or the gate checks. A form is given only to an
//! instruction the gate always passes on the CPU's model (no LOCK, no
//! privilege or mode requirement, memory where memory is required), and
//! every form computes through the same helpers as the general path
//! (`alu`, `unary`, `jump_near`, ...; memory through `read_mem` and
//! `write_mem`, or inside a run of cached forms, `cpu/cached_run.rs`, the
//! same segment, alignment and paging checks with the TLB's host entries
//! as a shortcut to RAM), so the two cannot disagree on flags or faults.
//! Everything else runs `execute`.

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{mask, sext};
use super::super::paging::Access;
use super::super::Cpu;
use super::super::SegReg;
use super::Flow;
use crate::x86::{Insn, Mn, Opnd};

/// Declares [`Kind`] and [`Kind::ALL`] from one list.
macro_rules! kinds {
    ($($(#[$doc:meta])* $v:ident,)*) => {
        /// What the fast path does with an instruction.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Kind {
            $($(#[$doc])* $v,)*
        }

        impl Kind {
            /// Every kind, in declaration order (`ALL[k as usize] == k`).
            pub(crate) const ALL: &[Kind] = &[$(Kind::$v),*];
        }
    };
}

kinds! {
    /// Not a fast form: the general path runs it.
    General,
    /// An ALU operation (`mn`), destination and source registers.
    AluRR,
    /// An ALU operation, a register and the immediate.
    AluRI,
    /// An ALU operation, a register and memory.
    AluRM,
    /// An ALU operation, memory and a register.
    AluMR,
    /// An ALU operation, memory and the immediate.
    AluMI,
    MovRR,
    MovRI,
    MovRM,
    MovMR,
    MovMI,
    Lea,
    /// INC, DEC, NOT or NEG (`mn`) of a register.
    UnaryR,
    /// INC, DEC, NOT or NEG of memory.
    UnaryM,
    /// MOVZX or MOVSX (`mn`) from a register of `src_bytes`.
    ExtendR,
    /// MOVZX or MOVSX from memory of `src_bytes`.
    ExtendM,
    PushR,
    PushI,
    PopR,
    Jcc,
    Jmp,
    Call,
    Ret,
    // The families below run their general code (`exec/*.rs`) without
    // the dispatcher and the gate; each holds only instructions that do
    // no port I/O and change neither CS, the paging registers, IF nor TF
    // (see `cpu/cached_run.rs`).
    /// Shifts and rotates of memory.
    Shift,
    /// SHLD/SHRD, BT/BTS/BTR/BTC, BSF/BSR.
    Bits,
    /// One-operand MUL, DIV, IDIV.
    MulDiv,
    /// One-operand IMUL.
    Imul,
    Xchg,
    /// CBW/CWDE, CWD/CDQ.
    Convert,
    /// SETcc to memory.
    Setcc,
    /// BSWAP, XADD, CMPXCHG.
    Newer,
    /// Near indirect JMP and CALL, LOOP/LOOPE/LOOPNE, JCXZ.
    NearBranch,
    /// MOVS, CMPS, STOS, LODS, SCAS, with or without REP.
    String,
    /// CLC, STC, CMC, CLD, STD.
    FlagOp,
    /// A shift or rotate (`mn`) of a register, by the immediate (source
    /// 0), by one (1) or by CL (2).
    ShiftR,
    /// SETcc of a byte register.
    SetccR,
    /// CMOVcc between registers.
    CmovR,
    /// CMOVcc from memory (read whatever the condition).
    CmovM,
    /// Two-operand IMUL of registers.
    ImulR,
    /// Two-operand IMUL of a register by memory.
    ImulM,
    /// Three-operand IMUL: a register by the immediate into a register.
    ImulRI,
    /// Three-operand IMUL: memory by the immediate into a register.
    ImulMI,
}

/// An instruction's fast form: three bytes, kept beside the decoded
/// instruction in its cache slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Form {
    kind: Kind,
    mn: Mn,
    /// Bits 0-2: the destination register; 3-5: the source register; 6-7:
    /// the width (0: byte, 1: word, 2: dword) of the destination.
    bits: u8,
}

/// Where an operand is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Loc {
    Reg(u8),
    Mem,
    Imm,
}

/// Where operand `o` of `insn` is, when it is a general register, the
/// memory operand, or the first immediate.
fn loc(insn: &Insn, o: Opnd) -> Option<Loc> {
    use Opnd::*;
    Some(match o {
        Eb | Ew | Ev if insn.mem.is_some() => Loc::Mem,
        Eb | Ew | Ev => Loc::Reg(insn.modrm?.rm),
        Ob | Ov if insn.mem.is_some() => Loc::Mem,
        Gb | Gw | Gv => Loc::Reg(insn.modrm?.reg),
        Zb | Zv => Loc::Reg((insn.opcode & 7) as u8),
        AL | EAX => Loc::Reg(0),
        Ib | Iw | Iv | Ibs => Loc::Imm,
        _ => return None,
    })
}

impl Form {
    /// The form of an instruction that has none.
    pub const GENERAL: Form = Form {
        kind: Kind::General,
        mn: Mn::Nop,
        bits: 0,
    };

    fn new(kind: Kind, mn: Mn, bytes: u8, dst: u8, src: u8) -> Form {
        let width = match bytes {
            1 => 0,
            2 => 1,
            _ => 2,
        };
        Form {
            kind,
            mn,
            bits: (dst & 7) | (src & 7) << 3 | width << 6,
        }
    }

    fn dst(self) -> u8 {
        self.bits & 7
    }
    fn src(self) -> u8 {
        (self.bits >> 3) & 7
    }
    fn bytes(self) -> u8 {
        1 << (self.bits >> 6)
    }
    /// The source width of MOVZX/MOVSX: Eb or Ew.
    fn src_bytes(self, insn: &Insn) -> u8 {
        if matches!(insn.ops.get(1), Some(Opnd::Eb)) {
            1
        } else {
            2
        }
    }

    pub(super) fn kind(self) -> Kind {
        self.kind
    }
    pub(super) fn mn(self) -> Mn {
        self.mn
    }
    /// The width as 0 (byte), 1 (word) or 2 (dword).
    pub(super) fn width_index(self) -> u8 {
        self.bits >> 6
    }

    /// The same form with kind `kind` (a constant where a handler sets it,
    /// so that the kind's match folds away).
    #[inline(always)]
    pub(super) fn with_kind(self, kind: Kind) -> Form {
        Form { kind, ..self }
    }

    /// The same form with operation `mn` (a constant where a handler sets
    /// it).
    #[inline(always)]
    pub(super) fn with_mn(self, mn: Mn) -> Form {
        Form { mn, ..self }
    }

    /// True for a real fast form (not [`Form::GENERAL`]).
    pub(crate) fn is_fast(self) -> bool {
        self.kind != Kind::General
    }

    /// True for an unconditional transfer of control, after which a
    /// trace (`cpu/traces.rs`) ends.
    pub(crate) fn ends_trace(self) -> bool {
        matches!(
            self.kind,
            Kind::Jmp | Kind::Call | Kind::Ret | Kind::NearBranch
        )
    }

    /// True when the form may write memory.
    pub(crate) fn writes_memory(self) -> bool {
        match self.kind {
            Kind::AluMR | Kind::AluMI => !matches!(self.mn, Mn::Cmp | Mn::Test),
            Kind::MovMR
            | Kind::MovMI
            | Kind::UnaryM
            | Kind::PushR
            | Kind::PushI
            | Kind::Call
            | Kind::Shift
            | Kind::Bits
            | Kind::Xchg
            | Kind::Setcc
            | Kind::Newer
            | Kind::NearBranch
            | Kind::String => true,
            _ => false,
        }
    }

    /// The fast form of `insn`, run by `cpu` (whose model it must have),
    /// or [`Form::GENERAL`].
    pub(crate) fn of(cpu: &Cpu, insn: &Insn) -> Form {
        if !super::gate::always_passes(insn, cpu.model()) {
            return Form::GENERAL;
        }
        Self::classify(insn).unwrap_or(Form::GENERAL)
    }

    fn classify(insn: &Insn) -> Option<Form> {
        use Loc::{Imm, Mem, Reg};
        use Mn::*;
        let ops = insn.ops;
        let bytes = ops.first().map_or(4, |&o| Cpu::size_of(insn, o));
        let form = |kind, dst, src| Some(Form::new(kind, insn.mn, bytes, dst, src));
        let family = |kind| Some(Form::new(kind, insn.mn, 4, 0, 0));
        match insn.mn {
            Add | Or | Adc | Sbb | And | Sub | Xor | Cmp | Test | Mov => {
                let [a, b] = ops else { return None };
                let alu = insn.mn != Mov;
                let pick = |alu_kind, mov_kind| if alu { alu_kind } else { mov_kind };
                match (loc(insn, *a)?, loc(insn, *b)?) {
                    (Reg(d), Reg(s)) => form(pick(Kind::AluRR, Kind::MovRR), d, s),
                    (Reg(d), Imm) => form(pick(Kind::AluRI, Kind::MovRI), d, 0),
                    (Reg(d), Mem) => form(pick(Kind::AluRM, Kind::MovRM), d, 0),
                    (Mem, Reg(s)) => form(pick(Kind::AluMR, Kind::MovMR), 0, s),
                    (Mem, Imm) => form(pick(Kind::AluMI, Kind::MovMI), 0, 0),
                    _ => None,
                }
            }
            Lea => match (loc(insn, *ops.first()?)?, insn.mem) {
                (Reg(d), Some(_)) => form(Kind::Lea, d, 0),
                _ => None,
            },
            Inc | Dec | Not | Neg => match (ops.len(), loc(insn, *ops.first()?)?) {
                (1, Reg(d)) => form(Kind::UnaryR, d, 0),
                (1, Mem) => form(Kind::UnaryM, 0, 0),
                _ => None,
            },
            Movzx | Movsx => match ops {
                [a, b @ (Opnd::Eb | Opnd::Ew)] => match (loc(insn, *a)?, loc(insn, *b)?) {
                    (Reg(d), Reg(s)) => form(Kind::ExtendR, d, s),
                    (Reg(d), Mem) => form(Kind::ExtendM, d, 0),
                    _ => None,
                },
                _ => None,
            },
            Push => match ops {
                [Opnd::Zv] => form(Kind::PushR, 0, (insn.opcode & 7) as u8),
                [Opnd::Iv | Opnd::Ibs] => form(Kind::PushI, 0, 0),
                _ => None,
            },
            Pop => match ops {
                [Opnd::Zv] => form(Kind::PopR, (insn.opcode & 7) as u8, 0),
                _ => None,
            },
            Jmp | Call if matches!(ops, [Opnd::Ev]) => family(Kind::NearBranch),
            Jcc => matches!(ops, [Opnd::Jb | Opnd::Jv]).then(|| Form::new(Kind::Jcc, Jcc, 4, 0, 0)),
            Jmp => matches!(ops, [Opnd::Jb | Opnd::Jv]).then(|| Form::new(Kind::Jmp, Jmp, 4, 0, 0)),
            Call => matches!(ops, [Opnd::Jv])
                .then(|| Form::new(Kind::Call, Call, Cpu::vsize(insn), 0, 0)),
            Ret => matches!(ops, [] | [Opnd::Iw])
                .then(|| Form::new(Kind::Ret, Ret, Cpu::vsize(insn), 0, 0)),
            Loop | Loope | Loopne | Jcxz => family(Kind::NearBranch),
            Rol | Ror | Rcl | Rcr | Shl | Shr | Sal | Sar => match ops {
                [a @ (Opnd::Eb | Opnd::Ev), count] if insn.mem.is_none() => {
                    let Reg(d) = loc(insn, *a)? else { return None };
                    match count {
                        Opnd::Ib => form(Kind::ShiftR, d, 0),
                        Opnd::One => form(Kind::ShiftR, d, 1),
                        Opnd::CL => form(Kind::ShiftR, d, 2),
                        _ => family(Kind::Shift),
                    }
                }
                _ => family(Kind::Shift),
            },
            Shld | Shrd | Bt | Bts | Btr | Btc | Bsf | Bsr => family(Kind::Bits),
            Mul | Div | Idiv => family(Kind::MulDiv),
            Imul => match ops {
                [d, s] => match (loc(insn, *d)?, loc(insn, *s)?) {
                    (Reg(d), Reg(s)) => form(Kind::ImulR, d, s),
                    (Reg(d), Mem) => form(Kind::ImulM, d, 0),
                    _ => None,
                },
                [d, s, Opnd::Iv | Opnd::Ibs] => match (loc(insn, *d)?, loc(insn, *s)?) {
                    (Reg(d), Reg(s)) => form(Kind::ImulRI, d, s),
                    (Reg(d), Mem) => form(Kind::ImulMI, d, 0),
                    _ => None,
                },
                _ => family(Kind::Imul),
            },
            Xchg => family(Kind::Xchg),
            Cbw | Cwd => family(Kind::Convert),
            Setcc => match (ops, insn.mem) {
                ([Opnd::Eb], None) => form(Kind::SetccR, insn.modrm?.rm, 0),
                _ => family(Kind::Setcc),
            },
            Cmovcc => match ops {
                [d, s] => match (loc(insn, *d)?, loc(insn, *s)?) {
                    (Reg(d), Reg(s)) => form(Kind::CmovR, d, s),
                    (Reg(d), Mem) => form(Kind::CmovM, d, 0),
                    _ => None,
                },
                _ => None,
            },
            Bswap | Xadd | Cmpxchg => family(Kind::Newer),
            Movs | Cmps | Stos | Lods | Scas => family(Kind::String),
            Clc | Stc | Cmc | Cld | Std => family(Kind::FlagOp),
            _ => None,
        }
    }
}

impl Cpu {
    /// Runs `insn` through its fast form `f` (given by [`Form::of`]),
    /// outside a run; `self.eip` already points past it. The same as
    /// `execute`. (Inside a run, `handlers.rs` calls the form directly.)
    #[inline(always)]
    pub(crate) fn execute_form<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        f: Form,
    ) -> Result<Flow, Fault> {
        // One copy of the forms per width, so that the width-dependent
        // masks and register accesses fold away.
        match f.bytes() {
            4 => self.execute_sized::<4, false, B>(bus, insn, f),
            2 => self.execute_sized::<2, false, B>(bus, insn, f),
            _ => self.execute_sized::<1, false, B>(bus, insn, f),
        }
    }

    /// [`Cpu::execute_form`] for a form `N` bytes wide; `RUN` inside a
    /// run of cached fast forms (`cpu/cached_run.rs`), only there.
    #[inline(always)]
    pub(super) fn execute_sized<const N: u8, const RUN: bool, B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
        f: Form,
    ) -> Result<Flow, Fault> {
        let n = N;
        let writes = !matches!(f.mn, Mn::Cmp | Mn::Test);
        match f.kind {
            Kind::General => return self.execute(bus, insn),
            Kind::AluRR => {
                let r = self.alu(f.mn, self.reg(f.dst(), n), self.reg(f.src(), n), n);
                if writes {
                    self.set_reg(f.dst(), n, r);
                }
            }
            Kind::AluRI => {
                let r = self.alu(f.mn, self.reg(f.dst(), n), insn.imm & mask(n), n);
                if writes {
                    self.set_reg(f.dst(), n, r);
                }
            }
            Kind::AluRM => {
                let (seg, off) = self.ea(insn);
                let b = self.load::<N, RUN, B>(bus, seg, off)?;
                let r = self.alu(f.mn, self.reg(f.dst(), n), b, n);
                if writes {
                    self.set_reg(f.dst(), n, r);
                }
            }
            Kind::AluMR | Kind::AluMI => {
                let (seg, off) = self.ea(insn);
                let a = self.load::<N, RUN, B>(bus, seg, off)?;
                let b = if f.kind == Kind::AluMR {
                    self.reg(f.src(), n)
                } else {
                    insn.imm & mask(n)
                };
                let r = self.alu(f.mn, a, b, n);
                if writes {
                    self.store::<N, RUN, B>(bus, seg, off, r)?;
                }
            }
            Kind::MovRR => self.set_reg(f.dst(), n, self.reg(f.src(), n)),
            Kind::MovRI => self.set_reg(f.dst(), n, insn.imm & mask(n)),
            Kind::MovRM => {
                let (seg, off) = self.ea(insn);
                let v = self.load::<N, RUN, B>(bus, seg, off)?;
                self.set_reg(f.dst(), n, v);
            }
            Kind::MovMR | Kind::MovMI => {
                let v = if f.kind == Kind::MovMR {
                    self.reg(f.src(), n)
                } else {
                    insn.imm & mask(n)
                };
                let (seg, off) = self.ea(insn);
                self.store::<N, RUN, B>(bus, seg, off, v)?;
            }
            Kind::Lea => {
                let (_, off) = self.ea(insn);
                self.set_reg(f.dst(), n, off);
            }
            Kind::UnaryR => {
                let r = self.unary(f.mn, self.reg(f.dst(), n), n);
                self.set_reg(f.dst(), n, r);
            }
            Kind::UnaryM => {
                let (seg, off) = self.ea(insn);
                let a = self.load::<N, RUN, B>(bus, seg, off)?;
                let r = self.unary(f.mn, a, n);
                self.store::<N, RUN, B>(bus, seg, off, r)?;
            }
            Kind::ExtendR | Kind::ExtendM => {
                let from = f.src_bytes(insn);
                let v = if f.kind == Kind::ExtendR {
                    self.reg(f.src(), from)
                } else {
                    let (seg, off) = self.ea(insn);
                    self.read_mem(bus, seg, off, from)?
                };
                let v = if f.mn == Mn::Movsx { sext(v, from) } else { v };
                self.set_reg(f.dst(), n, v);
            }
            Kind::PushR => self.push_n::<N, RUN, B>(bus, self.reg(f.src(), n))?,
            Kind::PushI => self.push_n::<N, RUN, B>(bus, insn.imm & mask(n))?,
            Kind::PopR => {
                let v = self.pop_n::<N, RUN, B>(bus)?;
                self.set_reg(f.dst(), n, v);
            }
            Kind::Jcc => {
                if self.cond((insn.opcode & 15) as u8) {
                    self.jump_near(insn, self.eip.wrapping_add(insn.imm))?;
                }
            }
            Kind::Jmp => self.jump_near(insn, self.eip.wrapping_add(insn.imm))?,
            Kind::Call => {
                let next = self.eip;
                self.push_n::<N, RUN, B>(bus, next)?;
                self.jump_near(insn, next.wrapping_add(insn.imm))?;
            }
            Kind::Ret => {
                let t = self.pop_n::<N, RUN, B>(bus)?;
                if !insn.ops.is_empty() {
                    self.set_sp(self.gpr[4].wrapping_add(insn.imm & 0xFFFF));
                }
                self.jump_near(insn, t)?;
            }
            Kind::Shift => self.exec_shift(bus, insn)?,
            Kind::Bits => match insn.mn {
                Mn::Shld | Mn::Shrd => self.exec_shld(bus, insn)?,
                Mn::Bsf | Mn::Bsr => self.exec_bsf(bus, insn)?,
                _ => self.exec_bt(bus, insn)?,
            },
            Kind::MulDiv => self.exec_muldiv(bus, insn)?,
            Kind::Imul => self.exec_imul(bus, insn)?,
            Kind::Xchg => self.exec_xchg(bus, insn)?,
            Kind::Convert => self.exec_convert(insn),
            Kind::Setcc => self.exec_setcc(bus, insn)?,
            Kind::Newer => self.exec_newer(bus, insn)?,
            Kind::NearBranch => self.exec_branch(bus, insn)?,
            Kind::String => self.exec_string(bus, insn)?,
            Kind::FlagOp => self.exec_flagop(insn)?,
            Kind::SetccR => {
                let c = self.cond((insn.opcode & 15) as u8);
                self.set_reg(f.dst(), 1, u32::from(c));
            }
            Kind::CmovR => {
                if self.cond((insn.opcode & 15) as u8) {
                    self.set_reg(f.dst(), n, self.reg(f.src(), n));
                }
            }
            Kind::CmovM => {
                let (seg, off) = self.ea(insn);
                let v = self.load::<N, RUN, B>(bus, seg, off)?;
                if self.cond((insn.opcode & 15) as u8) {
                    self.set_reg(f.dst(), n, v);
                }
            }
            Kind::ImulR | Kind::ImulM | Kind::ImulRI | Kind::ImulMI => {
                let (x, y) = match f.kind {
                    Kind::ImulR => (self.reg(f.dst(), n), self.reg(f.src(), n)),
                    Kind::ImulRI => (self.reg(f.src(), n), insn.imm),
                    _ => {
                        let (seg, off) = self.ea(insn);
                        let m = self.load::<N, RUN, B>(bus, seg, off)?;
                        match f.kind {
                            Kind::ImulM => (self.reg(f.dst(), n), m),
                            _ => (m, insn.imm),
                        }
                    }
                };
                let lo = self.imul2(x, y, n);
                self.set_reg(f.dst(), n, lo);
            }
            Kind::ShiftR => {
                let count = match f.src() {
                    0 => insn.imm,
                    1 => 1,
                    _ => self.gpr[1] & 0xFF,
                };
                let r = self.shift(f.mn, self.reg(f.dst(), n), count, n);
                self.set_reg(f.dst(), n, r);
            }
        }
        Ok(Flow::Next)
    }

    /// Reads `N` bytes at `seg:off` as `read_mem` does; inside a run
    /// (`RUN`, after `sync_host_entries` and with the run's `RunFacts`),
    /// through the page's host entry once the segment and alignment
    /// checks have passed (`Cpu::run_linear`), and an access
    /// that went the long way leaves an entry for the next.
    #[inline(always)]
    fn load<const N: u8, const RUN: bool, B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
    ) -> Result<u32, Fault> {
        if !RUN {
            return self.read_mem(bus, seg, off, N);
        }
        let lin = self.run_linear::<N>(seg, off, false)?;
        if let Some(p) = self
            .tlb
            .host_addr(lin, false, self.jit_near.host_key, u32::from(N))
        {
            // SAFETY: a host entry holds a pointer `Bus::host_page` gave
            // for this linear page's frame under the current key, valid
            // while the bus's host epoch is the one `sync_host_entries`
            // saw at the run's start (a run does nothing that changes it:
            // no port I/O, no newly cached code) and while the TLB keeps
            // the translation (dropping it drops the entry); `host_addr`
            // checked that all `N` bytes lie on that page.
            return Ok(unsafe { read_le::<N>(p) });
        }
        let v = self.read_lin(bus, lin, N, self.user())?;
        self.host_entry_for(bus, lin, N, false);
        Ok(v)
    }

    /// Writes the low `N` bytes of `v` at `seg:off` as `write_mem` does;
    /// inside a run, through the page's host entry as [`Cpu::load`] reads.
    /// A host entry for writing is never given for a page that holds
    /// cached code, so the page stamps stay exact.
    #[inline(always)]
    fn store<const N: u8, const RUN: bool, B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
        v: u32,
    ) -> Result<(), Fault> {
        if !RUN {
            return self.write_mem(bus, seg, off, N, v);
        }
        let lin = self.run_linear::<N>(seg, off, true)?;
        if let Some(p) = self
            .tlb
            .host_addr(lin, true, self.jit_near.host_key, u32::from(N))
        {
            // SAFETY: as in `load`, for an entry made for writing.
            unsafe { write_le::<N>(p, v) };
            return Ok(());
        }
        self.write_lin(bus, lin, N, v, self.user())?;
        self.host_entry_for(bus, lin, N, true);
        Ok(())
    }

    /// After an access of `n` bytes at linear `lin` succeeded the long way:
    /// a host entry for its page, where the TLB holds the translation with
    /// the access allowed and the bus lets the page be used directly.
    #[inline(never)]
    fn host_entry_for<B: Bus + ?Sized>(&mut self, bus: &mut B, lin: u32, n: u8, write: bool) {
        if (lin & 0xFFF) + u32::from(n) > 0x1000 {
            return;
        }
        let phys = if self.paging_on() {
            let access = if write { Access::Write } else { Access::Read };
            match self.translate_hit(lin, access, self.user()) {
                Some(p) => p,
                None => return,
            }
        } else {
            lin
        };
        if let Some(page) = bus.host_page(phys, write) {
            self.tlb.host_fill(lin, write, self.jit_near.host_key, page);
        }
    }

    /// PUSH of `N` bytes, as `push` does it.
    #[inline(always)]
    fn push_n<const N: u8, const RUN: bool, B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        v: u32,
    ) -> Result<(), Fault> {
        let sp = self.gpr[4].wrapping_sub(u32::from(N)) & self.sp_mask();
        self.store::<N, RUN, B>(bus, SegReg::Ss, sp, v & mask(N))?;
        self.set_sp(sp);
        Ok(())
    }

    /// POP of `N` bytes, as `pop` does it.
    #[inline(always)]
    fn pop_n<const N: u8, const RUN: bool, B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
    ) -> Result<u32, Fault> {
        let v = self.load::<N, RUN, B>(bus, SegReg::Ss, self.gpr[4] & self.sp_mask())?;
        self.set_sp(self.gpr[4].wrapping_add(u32::from(N)));
        Ok(v)
    }
}

/// Reads `N` (1, 2 or 4) little-endian bytes at `p`.
///
/// # Safety
/// `p` must point to `N` readable bytes.
#[inline(always)]
unsafe fn read_le<const N: u8>(p: *const u8) -> u32 {
    // SAFETY: the caller vouches for the `N` bytes; unaligned reads.
    unsafe {
        match N {
            1 => u32::from(p.read()),
            2 => u32::from(u16::from_le(p.cast::<u16>().read_unaligned())),
            _ => u32::from_le(p.cast::<u32>().read_unaligned()),
        }
    }
}

/// Writes the low `N` (1, 2 or 4) bytes of `v` little-endian at `p`.
///
/// # Safety
/// `p` must point to `N` writable bytes.
#[inline(always)]
unsafe fn write_le<const N: u8>(p: *mut u8, v: u32) {
    // SAFETY: the caller vouches for the `N` bytes; unaligned writes.
    unsafe {
        match N {
            1 => p.write(v as u8),
            2 => p.cast::<u16>().write_unaligned((v as u16).to_le()),
            _ => p.cast::<u32>().write_unaligned(v.to_le()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::flags::VM;
    use super::super::super::{Cpu, Model};
    use super::{Form, Kind};
    use crate::x86::decode;

    /// Every encoding of one and two opcode bytes, with a register and a
    /// memory ModRM, with and without the operand-size and LOCK prefixes,
    /// in both code sizes.
    fn encodings() -> Vec<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        let opcodes = (0..=0xFFu8)
            .map(|b| vec![b])
            .chain((0..=0xFFu8).map(|b| vec![0x0F, b]));
        for op in opcodes {
            for modrm in [0xC1u8, 0xD3, 0x07, 0x44] {
                for prefix in [&[][..], &[0x66], &[0xF0], &[0xF3]] {
                    let mut bytes = prefix.to_vec();
                    bytes.extend(&op);
                    bytes.extend([modrm, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60]);
                    for code32 in [false, true] {
                        out.push((bytes.clone(), code32));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn a_form_is_given_only_where_the_gate_always_passes() {
        let models = [
            Model::I286,
            Model::I386,
            Model::I486,
            Model::I686,
            Model::PentiumM,
        ];
        let mut fast = 0;
        for model in models {
            let mut cpu = Cpu::new();
            cpu.set_model(model);
            for (bytes, code32) in encodings() {
                let Ok(insn) = decode(&bytes, code32) else {
                    continue;
                };
                let form = Form::of(&cpu, &insn);
                if form.kind == Kind::General {
                    continue;
                }
                fast += 1;
                // Real mode, protected mode at CPL 0 and 3, virtual-8086.
                for (cr0, cpl, eflags) in
                    [(0x10, 0, 2), (0x11, 0, 2), (0x11, 3, 2), (0x11, 3, 2 | VM)]
                {
                    let mut c = Cpu::new();
                    c.set_model(model);
                    c.cr0 = cr0;
                    c.cpl = cpl;
                    c.eflags = eflags;
                    assert!(
                        c.gate(&insn).is_ok(),
                        "{model:?} {bytes:02x?} (code32 {code32}) has the fast form {form:?} \
                         but the gate refuses it with CR0 {cr0:#x}, CPL {cpl}, EFLAGS {eflags:#x}"
                    );
                }
            }
        }
        assert!(fast > 10_000, "only {fast} encodings got a fast form");
    }

    #[test]
    fn a_shift_of_a_register_has_a_form_of_its_own() {
        let cpu = Cpu::new();
        for bytes in [&[0xC1, 0xE0, 0x03][..], &[0xD1, 0xE8], &[0xD2, 0xF8]] {
            let insn = decode(bytes, true).unwrap();
            assert_eq!(Form::of(&cpu, &insn).kind, Kind::ShiftR, "{bytes:02x?}");
        }
        let insn = decode(&[0xD3, 0x20], true).unwrap();
        assert_eq!(Form::of(&cpu, &insn).kind, Kind::Shift, "shl [eax], cl");
    }

    #[test]
    fn every_kind_is_listed_at_its_own_index() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
    }

    #[test]
    fn lock_and_privileged_instructions_take_the_general_path() {
        let cpu = Cpu::new();
        for (bytes, what) in [
            (&[0xF0, 0x01, 0x07][..], "lock add [bx], ax"),
            (&[0xF0, 0x01, 0xC0][..], "lock add ax, ax (#UD)"),
            (&[0x8D, 0xC0][..], "lea ax, ax (#UD)"),
            (&[0xFA][..], "cli"),
            (&[0xE6, 0x80][..], "out 0x80, al"),
            (&[0x0F, 0x01, 0x38][..], "invlpg [bx+si]"),
            (&[0xCB][..], "retf"),
        ] {
            let insn = decode(bytes, false).unwrap();
            assert_eq!(Form::of(&cpu, &insn), Form::GENERAL, "{what}");
        }
    }
}
