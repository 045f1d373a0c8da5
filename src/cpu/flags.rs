//! EFLAGS: bit names, the parity/sign/zero helpers shared by every
//! arithmetic instruction, operand-width masks, and condition-code
//! evaluation. Flags are kept eagerly in `Cpu::eflags`.

use super::Cpu;

pub const CF: u32 = 1 << 0;
pub const PF: u32 = 1 << 2;
pub const AF: u32 = 1 << 4;
pub const ZF: u32 = 1 << 6;
pub const SF: u32 = 1 << 7;
pub const TF: u32 = 1 << 8;
pub const IF: u32 = 1 << 9;
pub const DF: u32 = 1 << 10;
pub const OF: u32 = 1 << 11;
/// I/O privilege level (two bits).
pub const IOPL: u32 = 3 << 12;
pub const NT: u32 = 1 << 14;
pub const RF: u32 = 1 << 16;
pub const VM: u32 = 1 << 17;
pub const AC: u32 = 1 << 18;
/// The virtual interrupt flag (Pentium and later, with CR4.VME or PVI).
pub const VIF: u32 = 1 << 19;
/// A virtual interrupt is pending (Pentium and later).
pub const VIP: u32 = 1 << 20;
/// The CPUID-detection flag (Pentium and later).
pub const ID: u32 = 1 << 21;
/// The six arithmetic status flags.
pub const STATUS: u32 = CF | PF | AF | ZF | SF | OF;
/// Bits software can hold in EFLAGS on the newest model (bit 1 reads as
/// one; VM is set and cleared only by mode changes).
pub const WRITABLE: u32 = 0x003D_7FD5;

/// All-ones mask for an operand of `bytes` bytes.
#[inline(always)]
pub fn mask(bytes: u8) -> u32 {
    match bytes {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => u32::MAX,
    }
}

/// The sign bit of an operand of `bytes` bytes.
#[inline(always)]
pub fn msb(bytes: u8) -> u32 {
    match bytes {
        1 => 0x80,
        2 => 0x8000,
        _ => 0x8000_0000,
    }
}

/// Sign-extends the low `bytes` bytes of `v` to 32 bits.
pub fn sext(v: u32, bytes: u8) -> u32 {
    match bytes {
        1 => v as u8 as i8 as i32 as u32,
        2 => v as u16 as i16 as i32 as u32,
        _ => v,
    }
}

/// SF, ZF and PF for a result of `bytes` bytes.
#[inline(always)]
pub fn szp(r: u32, bytes: u8) -> u32 {
    let r = r & mask(bytes);
    let mut f = 0;
    if r == 0 {
        f |= ZF;
    }
    if r & msb(bytes) != 0 {
        f |= SF;
    }
    // Even parity of the low byte: fold it to a nibble, then look the
    // nibble's parity up in 0x6996's bits (one where odd).
    let x = r as u8;
    let x = x ^ (x >> 4);
    if (0x6996u16 >> (x & 0xF)) & 1 == 0 {
        f |= PF;
    }
    f
}

impl Cpu {
    /// EFLAGS bits software can change on this model: no AC before the
    /// 486, no ID, VIF or VIP before the Pentium.
    pub(crate) fn writable_flags(&self) -> u32 {
        match self.model {
            super::Model::I686 | super::Model::PentiumM => WRITABLE,
            super::Model::I486 => WRITABLE & !(ID | VIF | VIP),
            _ => WRITABLE & !(AC | ID | VIF | VIP),
        }
    }

    /// EFLAGS.IOPL.
    pub(crate) fn iopl(&self) -> u32 {
        (self.eflags & IOPL) >> 12
    }

    pub(crate) fn flag(&self, f: u32) -> bool {
        self.eflags & f != 0
    }

    pub(crate) fn set_flag(&mut self, f: u32, on: bool) {
        if on {
            self.eflags |= f;
        } else {
            self.eflags &= !f;
        }
    }

    /// Replaces the flags in `which` by those in `value`.
    pub(crate) fn put_flags(&mut self, which: u32, value: u32) {
        self.eflags = (self.eflags & !which) | (value & which);
    }

    /// Sets all six status flags from a result and its carry/overflow/adjust.
    #[inline(always)]
    pub(crate) fn set_status(&mut self, r: u32, bytes: u8, cf: bool, of: bool, af: bool) {
        let mut f = szp(r, bytes);
        if cf {
            f |= CF;
        }
        if of {
            f |= OF;
        }
        if af {
            f |= AF;
        }
        self.put_flags(STATUS, f);
    }

    /// Evaluates condition code `cc` (0-15, the Jcc/SETcc encoding).
    #[inline]
    pub(crate) fn cond(&self, cc: u8) -> bool {
        let f = |b| self.flag(b);
        let r = match cc >> 1 {
            0 => f(OF),
            1 => f(CF),
            2 => f(ZF),
            3 => f(CF) || f(ZF),
            4 => f(SF),
            5 => f(PF),
            6 => f(SF) != f(OF),
            _ => f(ZF) || (f(SF) != f(OF)),
        };
        r != (cc & 1 != 0)
    }
}
