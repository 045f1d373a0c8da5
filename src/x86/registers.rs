//! The register names of the ISA, in x86 encoding order: the general
//! registers and the segment registers. One-byte enums, so an `Option` of
//! either is one byte too and a decoded instruction stays small. The decoder
//! names registers with them and `cpu` re-exports them.

/// General-purpose registers, in x86 encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Gpr {
    Eax = 0,
    Ecx = 1,
    Edx = 2,
    Ebx = 3,
    Esp = 4,
    Ebp = 5,
    Esi = 6,
    Edi = 7,
}

impl Gpr {
    pub const ALL: [Gpr; 8] = [
        Gpr::Eax,
        Gpr::Ecx,
        Gpr::Edx,
        Gpr::Ebx,
        Gpr::Esp,
        Gpr::Ebp,
        Gpr::Esi,
        Gpr::Edi,
    ];
    /// Register `n & 7`, as a ModRM or SIB field names it.
    pub const fn from_num(n: u8) -> Gpr {
        Gpr::ALL[(n & 7) as usize]
    }
    /// The register's number, 0-7.
    pub const fn num(self) -> u8 {
        self as u8
    }
    /// Lower-case 32-bit name ("eax").
    pub fn name(self) -> &'static str {
        ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"][self as usize]
    }
}

/// Segment registers, in x86 encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SegReg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl SegReg {
    pub const ALL: [SegReg; 6] = [
        SegReg::Es,
        SegReg::Cs,
        SegReg::Ss,
        SegReg::Ds,
        SegReg::Fs,
        SegReg::Gs,
    ];
    /// Lower-case name ("cs").
    pub fn name(self) -> &'static str {
        ["es", "cs", "ss", "ds", "fs", "gs"][self as usize]
    }
}
