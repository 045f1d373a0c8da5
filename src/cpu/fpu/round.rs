//! Rounding: the one place where an exact intermediate result (a sign, an
//! exponent and a 128-bit significand) becomes a value of a destination
//! format, under the control word's rounding mode and precision, raising
//! the post-computation exceptions as the x87 does: precision (PE, with C1
//! telling whether the significand was rounded up), overflow (OE) and
//! underflow (UE, tininess detected after rounding). Masked, they give the
//! IEEE default results; unmasked, a register destination gets the result
//! with its exponent biased by 24576 into range. [`Ctx`] carries the mode
//! in and the raised flags out of every arithmetic routine.

use super::float80::F80;

/// Exception flag bits, as in the status and control words.
pub const IE: u8 = 1;
pub const DE: u8 = 2;
pub const ZE: u8 = 4;
pub const OE: u8 = 8;
pub const UE: u8 = 16;
pub const PE: u8 = 32;

/// The four rounding modes (control word bits 10-11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    Nearest,
    Down,
    Up,
    Chop,
}

/// Mode in, flags out: the context of one arithmetic operation.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub rc: Rc,
    /// Significand bits of register results under precision control.
    pub pc: u32,
    /// Exception masks (control word bits 0-5).
    pub masks: u8,
    /// Exceptions raised so far.
    pub flags: u8,
    /// Condition code C1 as the operation leaves it (rounded up).
    pub c1: bool,
    /// An operand was a denormal before conversion (a float32/float64
    /// memory operand): DE is raised if the operation gets that far.
    pub denormal_in: bool,
}

impl Ctx {
    /// A context for control word `cw`.
    pub fn new(cw: u16) -> Ctx {
        Ctx {
            rc: match (cw >> 10) & 3 {
                0 => Rc::Nearest,
                1 => Rc::Down,
                2 => Rc::Up,
                _ => Rc::Chop,
            },
            // 01 is reserved; it behaves as single precision here.
            pc: match (cw >> 8) & 3 {
                2 => 53,
                3 => 64,
                _ => 24,
            },
            masks: (cw & 0x3F) as u8,
            flags: 0,
            c1: false,
            denormal_in: false,
        }
    }
    /// Raises `flag`; true when it is masked (the operation continues with
    /// the masked response).
    pub fn raise(&mut self, flag: u8) -> bool {
        self.flags |= flag;
        self.masks & flag != 0
    }
    /// True when an unmasked exception in `which` has been raised.
    pub fn unmasked(&self, which: u8) -> bool {
        self.flags & which & !self.masks != 0
    }
    /// Masked invalid operation: the indefinite QNaN, or `None` when IE is
    /// unmasked (the destination is left alone).
    pub fn invalid(&mut self) -> Option<F80> {
        self.raise(IE).then_some(F80::INDEFINITE)
    }
}

/// A binary floating-point destination format.
#[derive(Clone, Copy, Debug)]
pub struct Fmt {
    /// Significand bits (including the integer bit).
    pub p: u32,
    /// Exponent of the smallest normal, and of the largest finite value.
    pub emin: i32,
    pub emax: i32,
    pub bias: i32,
    /// Exponent adjustment for unmasked overflow/underflow (register
    /// destinations only; 0 means a memory format, where nothing is stored).
    pub adjust: i32,
}

impl Fmt {
    /// The same format rounded to `p` bits (precision control).
    pub fn with_p(self, p: u32) -> Fmt {
        Fmt { p, ..self }
    }
    /// Weight of the last significand bit of a denormal (relative to the
    /// rounding precision: under precision control a tiny register result
    /// keeps `p` bits below the smallest normal's exponent).
    fn lsb_min(&self) -> i32 {
        self.emin - (self.p as i32 - 1)
    }
}

pub const EXT: Fmt = Fmt {
    p: 64,
    emin: -16382,
    emax: 16383,
    bias: 16383,
    adjust: 24576,
};
pub const F64: Fmt = Fmt {
    p: 53,
    emin: -1022,
    emax: 1023,
    bias: 1023,
    adjust: 0,
};
pub const F32: Fmt = Fmt {
    p: 24,
    emin: -126,
    emax: 127,
    bias: 127,
    adjust: 0,
};

/// A rounded value in format-neutral form: biased exponent (0 for zeros
/// and denormals, `2*bias+1` for infinity) and a significand aligned like
/// the extended format's (bit 63 = integer bit; for denormals
/// `value = sig * 2^(emin - 63)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packed {
    pub sign: bool,
    pub e: i32,
    pub sig: u64,
}

impl Packed {
    /// As an extended value (only meaningful for [`EXT`]).
    pub fn f80(self) -> F80 {
        F80::new(self.sign, self.e.clamp(0, 0x7FFF) as u16, self.sig)
    }
}

/// Rounds `sig * 2^(exp - 127)` (normalised so that bit 127 is set) to a
/// multiple of `2^lsb`: returns the kept integer, whether bits were lost,
/// and whether it was incremented.
fn round_at(sign: bool, exp: i32, sig: u128, lsb: i32, rc: Rc) -> (u128, bool, bool) {
    let s = i64::from(lsb) - i64::from(exp) + 127;
    if s <= 0 {
        return (sig, false, false); // not reached for p <= 64
    }
    let (kept, cmp_half, lost) = if s > 128 {
        (0, std::cmp::Ordering::Less, true)
    } else if s == 128 {
        (0, sig.cmp(&(1u128 << 127)), true)
    } else {
        let rem = sig & ((1u128 << s) - 1);
        (sig >> s, rem.cmp(&(1u128 << (s - 1))), rem != 0)
    };
    let inc = match rc {
        Rc::Nearest => {
            cmp_half == std::cmp::Ordering::Greater
                || (cmp_half == std::cmp::Ordering::Equal && kept & 1 == 1)
        }
        Rc::Up => lost && !sign,
        Rc::Down => lost && sign,
        Rc::Chop => false,
    };
    (kept + u128::from(inc), lost, inc)
}

/// Packs `kept * 2^lsb` (exactly representable) into `fmt`, with the
/// exponent shifted by `adjust`.
fn pack(sign: bool, kept: u128, lsb: i32, fmt: &Fmt, adjust: i32) -> Packed {
    if kept == 0 {
        return Packed { sign, e: 0, sig: 0 };
    }
    let m = 127 - kept.leading_zeros() as i32;
    let e_true = lsb + m;
    let sig = if m >= 63 {
        (kept >> (m - 63)) as u64
    } else {
        (kept << (63 - m)) as u64
    };
    if e_true + adjust >= fmt.emin || adjust != 0 {
        let e = e_true + adjust + fmt.bias;
        return Packed { sign, e, sig };
    }
    // Denormal: value = sig' * 2^(emin - 63).
    let sh = lsb - fmt.emin + 63;
    let sig = if (0..128).contains(&sh) {
        (kept << sh) as u64
    } else {
        0
    };
    Packed { sign, e: 0, sig }
}

/// Rounds the exact value `(-1)^sign * sig * 2^(exp - 127)` to `fmt`,
/// raising PE/OE/UE and setting C1 in `ctx`. A zero `sig` gives a zero of
/// the given sign.
pub fn round_pack(ctx: &mut Ctx, sign: bool, exp: i32, sig: u128, fmt: &Fmt) -> Packed {
    if sig == 0 {
        return Packed { sign, e: 0, sig: 0 };
    }
    let lz = sig.leading_zeros() as i32;
    let sig = sig << lz;
    let exp = exp - lz;
    let p = fmt.p as i32;
    // Rounded with an unbounded exponent range.
    let (k1, inexact1, up1) = round_at(sign, exp, sig, exp - p + 1, ctx.rc);
    let l1 = exp - p + 1;
    let e1 = l1 + 127 - k1.leading_zeros() as i32;
    if e1 > fmt.emax {
        if ctx.masks & OE == 0 {
            ctx.flags |= OE;
            if inexact1 {
                ctx.flags |= PE;
                ctx.c1 = up1;
            }
            return pack(sign, k1, l1, fmt, -fmt.adjust);
        }
        ctx.flags |= OE | PE;
        let to_inf = match ctx.rc {
            Rc::Nearest => true,
            Rc::Chop => false,
            Rc::Up => !sign,
            Rc::Down => sign,
        };
        ctx.c1 = to_inf;
        if to_inf {
            return Packed {
                sign,
                e: 2 * fmt.bias + 1,
                sig: 1 << 63,
            };
        }
        return Packed {
            sign,
            e: fmt.emax + fmt.bias,
            sig: !0u64 << (64 - p),
        };
    }
    let tiny = e1 < fmt.emin;
    if tiny && ctx.masks & UE == 0 {
        ctx.flags |= UE;
        if inexact1 {
            ctx.flags |= PE;
            ctx.c1 = up1;
        }
        return pack(sign, k1, l1, fmt, fmt.adjust);
    }
    if exp < fmt.emin {
        let lsb = (exp - p + 1).max(fmt.lsb_min());
        let (k2, inexact2, up2) = round_at(sign, exp, sig, lsb, ctx.rc);
        if inexact2 {
            ctx.flags |= PE;
            ctx.c1 = up2;
            if tiny {
                ctx.flags |= UE;
            }
        }
        return pack(sign, k2, lsb, fmt, 0);
    }
    if inexact1 {
        ctx.flags |= PE;
        ctx.c1 = up1;
    }
    pack(sign, k1, l1, fmt, 0)
}

/// Rounds to an integer under the rounding mode (FRNDINT, FIST, FBSTP):
/// returns the magnitude and raises PE/C1 when inexact. `exp`/`sig` are an
/// unpacked value (`sig * 2^(exp - 63)`).
pub fn round_int(ctx: &mut Ctx, sign: bool, exp: i32, sig: u64) -> u128 {
    if exp >= 63 {
        // Already an integer; the caller checks the range.
        return if exp <= 64 {
            u128::from(sig) << (exp - 63)
        } else {
            u128::MAX
        };
    }
    let (k, inexact, up) = round_at(sign, exp, u128::from(sig) << 64, 0, ctx.rc);
    if inexact {
        ctx.flags |= PE;
        ctx.c1 = up;
    }
    k
}
