//! The opcode table: every one-byte and `0F` two-byte opcode of the 80386
//! that the decoder knows, written once in Intel-manual operand notation
//! (`Eb`, `Gv`, `Ib`, ...), with ModRM-reg groups as separate rows. This file
//! is pure data plus a compile-time index over it; it knows nothing about
//! decoding state or execution.

/// Operand kinds, in the notation of the Intel manual's opcode map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opnd {
    /// ModRM r/m, byte / word / operand-size.
    Eb,
    Ew,
    Ev,
    /// ModRM r/m for an x87 escape: decoded, never accessed.
    Ex,
    /// ModRM reg, byte / word / operand-size.
    Gb,
    Gw,
    Gv,
    /// ModRM reg as a segment register.
    Sw,
    /// Memory-only ModRM operand without a size (LEA).
    M,
    /// Memory-only far pointer (offset then selector).
    Mp,
    /// Memory-only pair of bounds (BOUND).
    Ma,
    /// Memory-only pseudo-descriptor (LGDT/LIDT/SGDT/SIDT).
    Ms,
    /// Memory-only quadword (CMPXCHG8B).
    Mq,
    /// ModRM r/m as a 32-bit register, mod ignored (MOV CR/DR).
    Rd,
    /// ModRM reg as a control / debug register.
    Cd,
    Dd,
    /// Immediates: byte, word, operand-size, byte sign-extended to operand size.
    Ib,
    Iw,
    Iv,
    Ibs,
    /// Relative branch targets.
    Jb,
    Jv,
    /// Far pointer immediate (offset, selector).
    Ap,
    /// Memory offset without ModRM (MOV AL, [moffs]).
    Ob,
    Ov,
    /// String source DS:eSI and destination ES:eDI.
    Xb,
    Xv,
    Yb,
    Yv,
    /// General register from the opcode's low three bits.
    Zb,
    Zv,
    /// Fixed registers.
    AL,
    CL,
    DX,
    EAX,
    /// The constant 1 (shift by one).
    One,
    /// Fixed segment registers.
    SEs,
    SCs,
    SSs,
    SDs,
    SFs,
    SGs,
}

impl Opnd {
    /// True when the operand needs a ModRM byte.
    pub const fn uses_modrm(self) -> bool {
        matches!(
            self,
            Opnd::Eb
                | Opnd::Ew
                | Opnd::Ev
                | Opnd::Ex
                | Opnd::Gb
                | Opnd::Gw
                | Opnd::Gv
                | Opnd::Sw
                | Opnd::M
                | Opnd::Mp
                | Opnd::Ma
                | Opnd::Ms
                | Opnd::Mq
                | Opnd::Rd
                | Opnd::Cd
                | Opnd::Dd
        )
    }
}

macro_rules! mnemonics {
    ($($v:ident = $s:literal,)*) => {
        /// Instruction mnemonics (operation kinds).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Mn { $($v,)* }
        impl Mn {
            /// Lower-case Intel mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(Mn::$v => $s,)* }
            }
        }
    };
}

mnemonics! {
    Add = "add", Or = "or", Adc = "adc", Sbb = "sbb", And = "and", Sub = "sub",
    Xor = "xor", Cmp = "cmp", Push = "push", Pop = "pop", Daa = "daa", Das = "das",
    Aaa = "aaa", Aas = "aas", Inc = "inc", Dec = "dec", Pusha = "pusha", Popa = "popa",
    Bound = "bound", Arpl = "arpl", Imul = "imul", Ins = "ins", Outs = "outs",
    Jcc = "j", Test = "test", Xchg = "xchg", Mov = "mov", Lea = "lea", Nop = "nop",
    Cbw = "cbw", Cwd = "cwd", Callf = "call far", Wait = "wait", Pushf = "pushf",
    Popf = "popf", Sahf = "sahf", Lahf = "lahf", Movs = "movs", Cmps = "cmps",
    Stos = "stos", Lods = "lods", Scas = "scas", Ret = "ret", Les = "les", Lds = "lds",
    Enter = "enter", Leave = "leave", Retf = "retf", Int3 = "int3", Int = "int",
    Into = "into", Iret = "iret", Rol = "rol", Ror = "ror", Rcl = "rcl", Rcr = "rcr",
    Shl = "shl", Shr = "shr", Sal = "sal", Sar = "sar", Aam = "aam", Aad = "aad",
    Salc = "salc", Xlat = "xlat", Esc = "esc", Loopne = "loopne", Loope = "loope",
    Loop = "loop", Jcxz = "jcxz", In = "in", Out = "out", Call = "call", Jmp = "jmp",
    Jmpf = "jmp far", Int1 = "int1", Hlt = "hlt", Cmc = "cmc", Not = "not", Neg = "neg",
    Mul = "mul", Div = "div", Idiv = "idiv", Clc = "clc", Stc = "stc", Cli = "cli",
    Sti = "sti", Cld = "cld", Std = "std", Sldt = "sldt", Str = "str", Lldt = "lldt",
    Ltr = "ltr", Verr = "verr", Verw = "verw", Sgdt = "sgdt", Sidt = "sidt",
    Lgdt = "lgdt", Lidt = "lidt", Smsw = "smsw", Lmsw = "lmsw", Lar = "lar", Lsl = "lsl",
    Clts = "clts", Setcc = "set", Bt = "bt", Bts = "bts", Btr = "btr", Btc = "btc",
    Shld = "shld", Shrd = "shrd", Lss = "lss", Lfs = "lfs", Lgs = "lgs",
    Movzx = "movzx", Movsx = "movsx", Bsf = "bsf", Bsr = "bsr", Ud = "(bad)",
    Invlpg = "invlpg", Invd = "invd", Wbinvd = "wbinvd", Ud2 = "ud2", Wrmsr = "wrmsr",
    Rdtsc = "rdtsc", Rdmsr = "rdmsr", Cpuid = "cpuid", Cmovcc = "cmov",
    Cmpxchg = "cmpxchg", Xadd = "xadd", Cmpxchg8b = "cmpxchg8b", Bswap = "bswap",
    Rdpmc = "rdpmc", Sysenter = "sysenter", Sysexit = "sysexit",
}

/// One row of the opcode table: opcodes `lo..=hi` (0x0Fxx for the two-byte
/// map), optionally restricted to one ModRM reg value (a group member).
#[derive(Clone, Copy, Debug)]
pub struct OpDef {
    pub lo: u16,
    pub hi: u16,
    /// ModRM reg field for group members, 8 for "not a group".
    pub reg: u8,
    pub mn: Mn,
    pub ops: &'static [Opnd],
    /// Lockability, first model, privilege (`facts.rs`).
    pub facts: Facts,
}

const fn e(code: u16, mn: Mn, ops: &'static [Opnd]) -> OpDef {
    r(code, code, mn, ops)
}
const fn r(lo: u16, hi: u16, mn: Mn, ops: &'static [Opnd]) -> OpDef {
    OpDef {
        lo,
        hi,
        reg: 8,
        mn,
        ops,
        facts: mn.facts(),
    }
}
const fn g(code: u16, reg: u8, mn: Mn, ops: &'static [Opnd]) -> OpDef {
    OpDef {
        reg,
        ..r(code, code, mn, ops)
    }
}

impl OpDef {
    /// This row with `facts` instead of its mnemonic's.
    const fn with(self, facts: Facts) -> OpDef {
        OpDef { facts, ..self }
    }
}

use super::facts::{Facts, Since};
use Mn::*;
use Opnd::*;

/// The table: one-byte map, then the `0F` map (the 486, Pentium and P6
/// additions are decoded on every model; the CPU raises #UD for those its
/// model lacks).
pub const TABLE: &[OpDef] = &[
    e(0x00, Add, &[Eb, Gb]),
    e(0x01, Add, &[Ev, Gv]),
    e(0x02, Add, &[Gb, Eb]),
    e(0x03, Add, &[Gv, Ev]),
    e(0x04, Add, &[AL, Ib]),
    e(0x05, Add, &[EAX, Iv]),
    e(0x06, Push, &[SEs]),
    e(0x07, Pop, &[SEs]).with(Pop.facts().called()),
    e(0x08, Or, &[Eb, Gb]),
    e(0x09, Or, &[Ev, Gv]),
    e(0x0A, Or, &[Gb, Eb]),
    e(0x0B, Or, &[Gv, Ev]),
    e(0x0C, Or, &[AL, Ib]),
    e(0x0D, Or, &[EAX, Iv]),
    e(0x0E, Push, &[SCs]),
    e(0x10, Adc, &[Eb, Gb]),
    e(0x11, Adc, &[Ev, Gv]),
    e(0x12, Adc, &[Gb, Eb]),
    e(0x13, Adc, &[Gv, Ev]),
    e(0x14, Adc, &[AL, Ib]),
    e(0x15, Adc, &[EAX, Iv]),
    e(0x16, Push, &[SSs]),
    e(0x17, Pop, &[SSs]).with(Pop.facts().interpreted()),
    e(0x18, Sbb, &[Eb, Gb]),
    e(0x19, Sbb, &[Ev, Gv]),
    e(0x1A, Sbb, &[Gb, Eb]),
    e(0x1B, Sbb, &[Gv, Ev]),
    e(0x1C, Sbb, &[AL, Ib]),
    e(0x1D, Sbb, &[EAX, Iv]),
    e(0x1E, Push, &[SDs]),
    e(0x1F, Pop, &[SDs]).with(Pop.facts().called()),
    e(0x20, And, &[Eb, Gb]),
    e(0x21, And, &[Ev, Gv]),
    e(0x22, And, &[Gb, Eb]),
    e(0x23, And, &[Gv, Ev]),
    e(0x24, And, &[AL, Ib]),
    e(0x25, And, &[EAX, Iv]),
    e(0x27, Daa, &[]),
    e(0x28, Sub, &[Eb, Gb]),
    e(0x29, Sub, &[Ev, Gv]),
    e(0x2A, Sub, &[Gb, Eb]),
    e(0x2B, Sub, &[Gv, Ev]),
    e(0x2C, Sub, &[AL, Ib]),
    e(0x2D, Sub, &[EAX, Iv]),
    e(0x2F, Das, &[]),
    e(0x30, Xor, &[Eb, Gb]),
    e(0x31, Xor, &[Ev, Gv]),
    e(0x32, Xor, &[Gb, Eb]),
    e(0x33, Xor, &[Gv, Ev]),
    e(0x34, Xor, &[AL, Ib]),
    e(0x35, Xor, &[EAX, Iv]),
    e(0x37, Aaa, &[]),
    e(0x38, Cmp, &[Eb, Gb]),
    e(0x39, Cmp, &[Ev, Gv]),
    e(0x3A, Cmp, &[Gb, Eb]),
    e(0x3B, Cmp, &[Gv, Ev]),
    e(0x3C, Cmp, &[AL, Ib]),
    e(0x3D, Cmp, &[EAX, Iv]),
    e(0x3F, Aas, &[]),
    r(0x40, 0x47, Inc, &[Zv]),
    r(0x48, 0x4F, Dec, &[Zv]),
    r(0x50, 0x57, Push, &[Zv]),
    r(0x58, 0x5F, Pop, &[Zv]),
    e(0x60, Pusha, &[]),
    e(0x61, Popa, &[]),
    e(0x62, Bound, &[Gv, Ma]),
    e(0x63, Arpl, &[Ew, Gw]),
    e(0x68, Push, &[Iv]),
    e(0x69, Imul, &[Gv, Ev, Iv]),
    e(0x6A, Push, &[Ibs]),
    e(0x6B, Imul, &[Gv, Ev, Ibs]),
    e(0x6C, Ins, &[Yb, DX]),
    e(0x6D, Ins, &[Yv, DX]),
    e(0x6E, Outs, &[DX, Xb]),
    e(0x6F, Outs, &[DX, Xv]),
    r(0x70, 0x7F, Jcc, &[Jb]),
    g(0x80, 0, Add, &[Eb, Ib]),
    g(0x80, 1, Or, &[Eb, Ib]),
    g(0x80, 2, Adc, &[Eb, Ib]),
    g(0x80, 3, Sbb, &[Eb, Ib]),
    g(0x80, 4, And, &[Eb, Ib]),
    g(0x80, 5, Sub, &[Eb, Ib]),
    g(0x80, 6, Xor, &[Eb, Ib]),
    g(0x80, 7, Cmp, &[Eb, Ib]),
    g(0x81, 0, Add, &[Ev, Iv]),
    g(0x81, 1, Or, &[Ev, Iv]),
    g(0x81, 2, Adc, &[Ev, Iv]),
    g(0x81, 3, Sbb, &[Ev, Iv]),
    g(0x81, 4, And, &[Ev, Iv]),
    g(0x81, 5, Sub, &[Ev, Iv]),
    g(0x81, 6, Xor, &[Ev, Iv]),
    g(0x81, 7, Cmp, &[Ev, Iv]),
    g(0x82, 0, Add, &[Eb, Ib]),
    g(0x82, 1, Or, &[Eb, Ib]),
    g(0x82, 2, Adc, &[Eb, Ib]),
    g(0x82, 3, Sbb, &[Eb, Ib]),
    g(0x82, 4, And, &[Eb, Ib]),
    g(0x82, 5, Sub, &[Eb, Ib]),
    g(0x82, 6, Xor, &[Eb, Ib]),
    g(0x82, 7, Cmp, &[Eb, Ib]),
    g(0x83, 0, Add, &[Ev, Ibs]),
    g(0x83, 1, Or, &[Ev, Ibs]),
    g(0x83, 2, Adc, &[Ev, Ibs]),
    g(0x83, 3, Sbb, &[Ev, Ibs]),
    g(0x83, 4, And, &[Ev, Ibs]),
    g(0x83, 5, Sub, &[Ev, Ibs]),
    g(0x83, 6, Xor, &[Ev, Ibs]),
    g(0x83, 7, Cmp, &[Ev, Ibs]),
    e(0x84, Test, &[Eb, Gb]),
    e(0x85, Test, &[Ev, Gv]),
    e(0x86, Xchg, &[Eb, Gb]),
    e(0x87, Xchg, &[Ev, Gv]),
    e(0x88, Mov, &[Eb, Gb]),
    e(0x89, Mov, &[Ev, Gv]),
    e(0x8A, Mov, &[Gb, Eb]),
    e(0x8B, Mov, &[Gv, Ev]),
    e(0x8C, Mov, &[Ev, Sw]),
    e(0x8D, Lea, &[Gv, M]),
    e(0x8E, Mov, &[Sw, Ew]).with(Mov.facts().called()),
    g(0x8F, 0, Pop, &[Ev]),
    e(0x90, Nop, &[]),
    r(0x91, 0x97, Xchg, &[Zv, EAX]),
    e(0x98, Cbw, &[]),
    e(0x99, Cwd, &[]),
    e(0x9A, Callf, &[Ap]),
    e(0x9B, Wait, &[]),
    e(0x9C, Pushf, &[]),
    e(0x9D, Popf, &[]),
    e(0x9E, Sahf, &[]),
    e(0x9F, Lahf, &[]),
    e(0xA0, Mov, &[AL, Ob]),
    e(0xA1, Mov, &[EAX, Ov]),
    e(0xA2, Mov, &[Ob, AL]),
    e(0xA3, Mov, &[Ov, EAX]),
    e(0xA4, Movs, &[Yb, Xb]),
    e(0xA5, Movs, &[Yv, Xv]),
    e(0xA6, Cmps, &[Xb, Yb]),
    e(0xA7, Cmps, &[Xv, Yv]),
    e(0xA8, Test, &[AL, Ib]),
    e(0xA9, Test, &[EAX, Iv]),
    e(0xAA, Stos, &[Yb, AL]),
    e(0xAB, Stos, &[Yv, EAX]),
    e(0xAC, Lods, &[AL, Xb]),
    e(0xAD, Lods, &[EAX, Xv]),
    e(0xAE, Scas, &[AL, Yb]),
    e(0xAF, Scas, &[EAX, Yv]),
    r(0xB0, 0xB7, Mov, &[Zb, Ib]),
    r(0xB8, 0xBF, Mov, &[Zv, Iv]),
    g(0xC0, 0, Rol, &[Eb, Ib]),
    g(0xC0, 1, Ror, &[Eb, Ib]),
    g(0xC0, 2, Rcl, &[Eb, Ib]),
    g(0xC0, 3, Rcr, &[Eb, Ib]),
    g(0xC0, 4, Shl, &[Eb, Ib]),
    g(0xC0, 5, Shr, &[Eb, Ib]),
    g(0xC0, 6, Sal, &[Eb, Ib]),
    g(0xC0, 7, Sar, &[Eb, Ib]),
    g(0xC1, 0, Rol, &[Ev, Ib]),
    g(0xC1, 1, Ror, &[Ev, Ib]),
    g(0xC1, 2, Rcl, &[Ev, Ib]),
    g(0xC1, 3, Rcr, &[Ev, Ib]),
    g(0xC1, 4, Shl, &[Ev, Ib]),
    g(0xC1, 5, Shr, &[Ev, Ib]),
    g(0xC1, 6, Sal, &[Ev, Ib]),
    g(0xC1, 7, Sar, &[Ev, Ib]),
    e(0xC2, Ret, &[Iw]),
    e(0xC3, Ret, &[]),
    e(0xC4, Les, &[Gv, Mp]),
    e(0xC5, Lds, &[Gv, Mp]),
    g(0xC6, 0, Mov, &[Eb, Ib]),
    g(0xC7, 0, Mov, &[Ev, Iv]),
    e(0xC8, Enter, &[Iw, Ib]),
    e(0xC9, Leave, &[]),
    e(0xCA, Retf, &[Iw]),
    e(0xCB, Retf, &[]),
    e(0xCC, Int3, &[]),
    e(0xCD, Int, &[Ib]),
    e(0xCE, Into, &[]),
    e(0xCF, Iret, &[]),
    g(0xD0, 0, Rol, &[Eb, One]),
    g(0xD0, 1, Ror, &[Eb, One]),
    g(0xD0, 2, Rcl, &[Eb, One]),
    g(0xD0, 3, Rcr, &[Eb, One]),
    g(0xD0, 4, Shl, &[Eb, One]),
    g(0xD0, 5, Shr, &[Eb, One]),
    g(0xD0, 6, Sal, &[Eb, One]),
    g(0xD0, 7, Sar, &[Eb, One]),
    g(0xD1, 0, Rol, &[Ev, One]),
    g(0xD1, 1, Ror, &[Ev, One]),
    g(0xD1, 2, Rcl, &[Ev, One]),
    g(0xD1, 3, Rcr, &[Ev, One]),
    g(0xD1, 4, Shl, &[Ev, One]),
    g(0xD1, 5, Shr, &[Ev, One]),
    g(0xD1, 6, Sal, &[Ev, One]),
    g(0xD1, 7, Sar, &[Ev, One]),
    g(0xD2, 0, Rol, &[Eb, CL]),
    g(0xD2, 1, Ror, &[Eb, CL]),
    g(0xD2, 2, Rcl, &[Eb, CL]),
    g(0xD2, 3, Rcr, &[Eb, CL]),
    g(0xD2, 4, Shl, &[Eb, CL]),
    g(0xD2, 5, Shr, &[Eb, CL]),
    g(0xD2, 6, Sal, &[Eb, CL]),
    g(0xD2, 7, Sar, &[Eb, CL]),
    g(0xD3, 0, Rol, &[Ev, CL]),
    g(0xD3, 1, Ror, &[Ev, CL]),
    g(0xD3, 2, Rcl, &[Ev, CL]),
    g(0xD3, 3, Rcr, &[Ev, CL]),
    g(0xD3, 4, Shl, &[Ev, CL]),
    g(0xD3, 5, Shr, &[Ev, CL]),
    g(0xD3, 6, Sal, &[Ev, CL]),
    g(0xD3, 7, Sar, &[Ev, CL]),
    e(0xD4, Aam, &[Ib]),
    e(0xD5, Aad, &[Ib]),
    e(0xD6, Salc, &[]),
    e(0xD7, Xlat, &[]),
    r(0xD8, 0xDF, Esc, &[Ex]),
    e(0xE0, Loopne, &[Jb]),
    e(0xE1, Loope, &[Jb]),
    e(0xE2, Loop, &[Jb]),
    e(0xE3, Jcxz, &[Jb]),
    e(0xE4, In, &[AL, Ib]),
    e(0xE5, In, &[EAX, Ib]),
    e(0xE6, Out, &[Ib, AL]),
    e(0xE7, Out, &[Ib, EAX]),
    e(0xE8, Call, &[Jv]),
    e(0xE9, Jmp, &[Jv]),
    e(0xEA, Jmpf, &[Ap]),
    e(0xEB, Jmp, &[Jb]),
    e(0xEC, In, &[AL, DX]),
    e(0xED, In, &[EAX, DX]),
    e(0xEE, Out, &[DX, AL]),
    e(0xEF, Out, &[DX, EAX]),
    e(0xF1, Int1, &[]),
    e(0xF4, Hlt, &[]),
    e(0xF5, Cmc, &[]),
    g(0xF6, 0, Test, &[Eb, Ib]),
    g(0xF6, 1, Test, &[Eb, Ib]),
    g(0xF6, 2, Not, &[Eb]),
    g(0xF6, 3, Neg, &[Eb]),
    g(0xF6, 4, Mul, &[Eb]),
    g(0xF6, 5, Imul, &[Eb]),
    g(0xF6, 6, Div, &[Eb]),
    g(0xF6, 7, Idiv, &[Eb]),
    g(0xF7, 0, Test, &[Ev, Iv]),
    g(0xF7, 1, Test, &[Ev, Iv]),
    g(0xF7, 2, Not, &[Ev]),
    g(0xF7, 3, Neg, &[Ev]),
    g(0xF7, 4, Mul, &[Ev]),
    g(0xF7, 5, Imul, &[Ev]),
    g(0xF7, 6, Div, &[Ev]),
    g(0xF7, 7, Idiv, &[Ev]),
    e(0xF8, Clc, &[]),
    e(0xF9, Stc, &[]),
    e(0xFA, Cli, &[]),
    e(0xFB, Sti, &[]),
    e(0xFC, Cld, &[]),
    e(0xFD, Std, &[]),
    g(0xFE, 0, Inc, &[Eb]),
    g(0xFE, 1, Dec, &[Eb]),
    g(0xFF, 0, Inc, &[Ev]),
    g(0xFF, 1, Dec, &[Ev]),
    g(0xFF, 2, Call, &[Ev]),
    g(0xFF, 3, Callf, &[Mp]),
    g(0xFF, 4, Jmp, &[Ev]),
    g(0xFF, 5, Jmpf, &[Mp]),
    g(0xFF, 6, Push, &[Ev]),
    // The 0F map.
    g(0x0F00, 0, Sldt, &[Ew]),
    g(0x0F00, 1, Str, &[Ew]),
    g(0x0F00, 2, Lldt, &[Ew]),
    g(0x0F00, 3, Ltr, &[Ew]),
    g(0x0F00, 4, Verr, &[Ew]),
    g(0x0F00, 5, Verw, &[Ew]),
    g(0x0F01, 0, Sgdt, &[Ms]),
    g(0x0F01, 1, Sidt, &[Ms]),
    g(0x0F01, 2, Lgdt, &[Ms]),
    g(0x0F01, 3, Lidt, &[Ms]),
    g(0x0F01, 4, Smsw, &[Ew]),
    g(0x0F01, 6, Lmsw, &[Ew]),
    g(0x0F01, 7, Invlpg, &[M]),
    e(0x0F02, Lar, &[Gv, Ew]),
    e(0x0F03, Lsl, &[Gv, Ew]),
    e(0x0F06, Clts, &[]),
    e(0x0F08, Invd, &[]),
    e(0x0F09, Wbinvd, &[]),
    e(0x0F0B, Ud2, &[]),
    g(0x0F1F, 0, Nop, &[Ev]).with(Nop.facts().first_on(Since::P6)),
    e(0x0F20, Mov, &[Rd, Cd]).with(Mov.facts().with_cpl0()),
    e(0x0F21, Mov, &[Rd, Dd]).with(Mov.facts().with_cpl0()),
    e(0x0F22, Mov, &[Cd, Rd]).with(Mov.facts().with_cpl0().interpreted()),
    e(0x0F23, Mov, &[Dd, Rd]).with(Mov.facts().with_cpl0().interpreted()),
    e(0x0F30, Wrmsr, &[]),
    e(0x0F31, Rdtsc, &[]),
    e(0x0F32, Rdmsr, &[]),
    e(0x0F33, Rdpmc, &[]),
    e(0x0F34, Sysenter, &[]),
    e(0x0F35, Sysexit, &[]),
    r(0x0F40, 0x0F4F, Cmovcc, &[Gv, Ev]),
    r(0x0F80, 0x0F8F, Jcc, &[Jv]),
    r(0x0F90, 0x0F9F, Setcc, &[Eb]),
    e(0x0FA0, Push, &[SFs]),
    e(0x0FA1, Pop, &[SFs]).with(Pop.facts().called()),
    e(0x0FA2, Cpuid, &[]),
    e(0x0FA3, Bt, &[Ev, Gv]),
    e(0x0FA4, Shld, &[Ev, Gv, Ib]),
    e(0x0FA5, Shld, &[Ev, Gv, CL]),
    e(0x0FA8, Push, &[SGs]),
    e(0x0FA9, Pop, &[SGs]).with(Pop.facts().called()),
    e(0x0FAB, Bts, &[Ev, Gv]),
    e(0x0FAC, Shrd, &[Ev, Gv, Ib]),
    e(0x0FAD, Shrd, &[Ev, Gv, CL]),
    e(0x0FAF, Imul, &[Gv, Ev]),
    e(0x0FB0, Cmpxchg, &[Eb, Gb]),
    e(0x0FB1, Cmpxchg, &[Ev, Gv]),
    e(0x0FB2, Lss, &[Gv, Mp]),
    e(0x0FB3, Btr, &[Ev, Gv]),
    e(0x0FB4, Lfs, &[Gv, Mp]),
    e(0x0FB5, Lgs, &[Gv, Mp]),
    e(0x0FB6, Movzx, &[Gv, Eb]),
    e(0x0FB7, Movzx, &[Gv, Ew]),
    g(0x0FBA, 4, Bt, &[Ev, Ib]),
    g(0x0FBA, 5, Bts, &[Ev, Ib]),
    g(0x0FBA, 6, Btr, &[Ev, Ib]),
    g(0x0FBA, 7, Btc, &[Ev, Ib]),
    e(0x0FBB, Btc, &[Ev, Gv]),
    e(0x0FBC, Bsf, &[Gv, Ev]),
    e(0x0FBD, Bsr, &[Gv, Ev]),
    e(0x0FBE, Movsx, &[Gv, Eb]),
    e(0x0FBF, Movsx, &[Gv, Ew]),
    e(0x0FC0, Xadd, &[Eb, Gb]),
    e(0x0FC1, Xadd, &[Ev, Gv]),
    g(0x0FC7, 1, Cmpxchg8b, &[Mq]),
    r(0x0FC8, 0x0FCF, Bswap, &[Zv]),
];

/// No table row.
pub const NONE: u16 = u16::MAX;

/// For each opcode (0..0x200, the `0F` map at 0x100), the table row for
/// each ModRM reg value (slots 0-7) and the non-group row (slot 8).
pub static INDEX: [[u16; 9]; 512] = build_index();

const fn build_index() -> [[u16; 9]; 512] {
    let mut idx = [[NONE; 9]; 512];
    let mut i = 0;
    while i < TABLE.len() {
        let d = &TABLE[i];
        let mut c = d.lo;
        while c <= d.hi {
            let slot = ((c & 0xFF) | ((c >> 8 != 0) as u16) << 8) as usize;
            idx[slot][d.reg as usize] = i as u16;
            c += 1;
        }
        i += 1;
    }
    idx
}

/// The row for `opcode` (0..0x200), given the ModRM reg field when the
/// opcode is a group. Returns `Err(true)` when a ModRM byte is needed to
/// decide, `Err(false)` when the opcode is undefined.
pub fn lookup(opcode: usize, reg: Option<u8>) -> Result<&'static OpDef, bool> {
    let slots = INDEX.get(opcode).ok_or(false)?;
    if slots[8] != NONE {
        return Ok(&TABLE[slots[8] as usize]);
    }
    if slots[..8].iter().all(|&s| s == NONE) {
        return Err(false);
    }
    match reg {
        None => Err(true),
        Some(r) => match slots[(r & 7) as usize] {
            NONE => Err(false),
            s => Ok(&TABLE[s as usize]),
        },
    }
}

/// True for opcodes that are groups keyed on the ModRM reg field.
pub fn is_group(opcode: usize) -> bool {
    INDEX
        .get(opcode)
        .is_some_and(|s| s[8] == NONE && s[..8].iter().any(|&x| x != NONE))
}
