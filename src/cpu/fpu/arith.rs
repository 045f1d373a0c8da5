//! The basic arithmetic of the x87 on [`F80`] values, computed exactly in
//! integers and rounded once by `round.rs`: add, subtract, multiply, divide,
//! square root, round to integer, FSCALE, FXTRACT and the partial
//! remainders FPREM/FPREM1. Also the operand checks every arithmetic
//! instruction makes first (unsupported encodings, SNaN/QNaN propagation,
//! denormal operands) and the invalid combinations (inf-inf, 0*inf, 0/0,
//! inf/inf). Each routine returns `None` when an unmasked exception stops
//! the operation before a result exists; the destination is then untouched.

use super::float80::{Class, F80};
use super::round::{round_int, round_pack, Ctx, Rc, DE, EXT, IE, ZE};

/// The four basic operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// NaN propagation for two operands, at least one a NaN (SDM table
/// "Rules for generating QNaNs"): an SNaN raises IE; a QNaN operand wins
/// over an SNaN; of two NaNs of one kind the larger significand wins (the
/// positive one on a tie).
pub fn propagate2(ctx: &mut Ctx, a: F80, b: F80) -> Option<F80> {
    let (ca, cb) = (a.class(), b.class());
    if (ca == Class::SNaN || cb == Class::SNaN) && !ctx.raise(IE) {
        return None;
    }
    let pick = match (a.is_nan(), b.is_nan()) {
        (true, false) => a,
        (false, _) => b,
        (true, true) => {
            if ca == Class::SNaN && cb == Class::QNaN {
                b
            } else if ca == Class::QNaN && cb == Class::SNaN {
                a
            } else {
                let (ma, mb) = (a.sig & !(1 << 62), b.sig & !(1 << 62));
                if ma > mb || (ma == mb && a.se <= b.se) {
                    a
                } else {
                    b
                }
            }
        }
    };
    Some(pick.quiet())
}

/// NaN propagation for one operand.
pub fn propagate1(ctx: &mut Ctx, a: F80) -> Option<F80> {
    if a.class() == Class::SNaN && !ctx.raise(IE) {
        return None;
    }
    Some(a.quiet())
}

/// The checks before a two-operand operation: `Err(result)` when the
/// operation is decided (unsupported, NaN or an unmasked denormal).
pub fn check2(ctx: &mut Ctx, a: F80, b: F80) -> Result<(), Option<F80>> {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return Err(ctx.invalid());
    }
    if a.is_nan() || b.is_nan() {
        return Err(propagate2(ctx, a, b));
    }
    Ok(())
}

/// The denormal-operand check, made once the operation is known to
/// compute (after the invalid and divide-by-zero cases): true when it
/// must stop (DE unmasked).
pub fn denormal_stop(ctx: &mut Ctx, a: F80, b: F80) -> bool {
    let d = ctx.denormal_in || a.class() == Class::Denormal || b.class() == Class::Denormal;
    d && !ctx.raise(DE)
}

/// The checks before a one-operand operation.
pub fn check1(ctx: &mut Ctx, a: F80) -> Result<(), Option<F80>> {
    match a.class() {
        Class::Unsupported => Err(ctx.invalid()),
        Class::QNaN | Class::SNaN => Err(propagate1(ctx, a)),
        _ => Ok(()),
    }
}

/// `a op b` rounded to the precision-control width (`ctx.pc`).
pub fn arith(ctx: &mut Ctx, op: Op, a: F80, b: F80) -> Option<F80> {
    if let Err(r) = check2(ctx, a, b) {
        return r;
    }
    let fmt = EXT.with_p(ctx.pc);
    match op {
        Op::Add => add(ctx, a, b, &fmt),
        Op::Sub => add(ctx, a, b.neg(), &fmt),
        Op::Mul => mul(ctx, a, b, &fmt),
        Op::Div => div(ctx, a, b, &fmt),
    }
}

fn add(ctx: &mut Ctx, a: F80, b: F80, fmt: &super::round::Fmt) -> Option<F80> {
    let (ca, cb) = (a.class(), b.class());
    match (ca, cb) {
        (Class::Inf, Class::Inf) if a.sign() != b.sign() => return ctx.invalid(),
        _ if denormal_stop(ctx, a, b) => return None,
        (Class::Inf, _) => return Some(a),
        (_, Class::Inf) => return Some(b),
        (Class::Zero, Class::Zero) => {
            let sign = if a.sign() == b.sign() {
                a.sign()
            } else {
                ctx.rc == Rc::Down
            };
            return Some(F80::zero(sign));
        }
        _ => {}
    }
    let (Some(ua), Some(ub)) = (a.unpack(), b.unpack()) else {
        // One operand is zero: the other, rounded to precision.
        let x = if ca == Class::Zero { b } else { a };
        let u = x.unpack()?;
        return Some(round_pack(ctx, u.sign, u.exp, u128::from(u.sig) << 64, fmt).f80());
    };
    let (big, small) = if (ua.exp, ua.sig) >= (ub.exp, ub.sig) {
        (ua, ub)
    } else {
        (ub, ua)
    };
    // value = X * 2^(big.exp - 126), leaving bit 127 for a carry.
    let x = u128::from(big.sig) << 63;
    let d = (big.exp - small.exp) as u32;
    let y0 = u128::from(small.sig) << 63;
    let y = if d >= 127 {
        1
    } else {
        let lost = y0 & ((1u128 << d) - 1) != 0;
        (y0 >> d) | u128::from(lost)
    };
    let r = if big.sign == small.sign { x + y } else { x - y };
    if r == 0 {
        return Some(F80::zero(ctx.rc == Rc::Down));
    }
    Some(round_pack(ctx, big.sign, big.exp + 1, r, fmt).f80())
}

fn mul(ctx: &mut Ctx, a: F80, b: F80, fmt: &super::round::Fmt) -> Option<F80> {
    let sign = a.sign() != b.sign();
    let (ca, cb) = (a.class(), b.class());
    match (ca, cb) {
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => return ctx.invalid(),
        _ if denormal_stop(ctx, a, b) => return None,
        (Class::Inf, _) | (_, Class::Inf) => return Some(F80::inf(sign)),
        (Class::Zero, _) | (_, Class::Zero) => return Some(F80::zero(sign)),
        _ => {}
    }
    let (ua, ub) = (a.unpack()?, b.unpack()?);
    let prod = u128::from(ua.sig) * u128::from(ub.sig);
    Some(round_pack(ctx, sign, ua.exp + ub.exp + 1, prod, fmt).f80())
}

fn div(ctx: &mut Ctx, a: F80, b: F80, fmt: &super::round::Fmt) -> Option<F80> {
    let sign = a.sign() != b.sign();
    let (ca, cb) = (a.class(), b.class());
    match (ca, cb) {
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => return ctx.invalid(),
        (Class::Inf, Class::Zero) => return Some(F80::inf(sign)),
        (_, Class::Zero) => return ctx.raise(ZE).then_some(F80::inf(sign)),
        _ if denormal_stop(ctx, a, b) => return None,
        (Class::Inf, _) => return Some(F80::inf(sign)),
        (_, Class::Inf) => return Some(F80::zero(sign)),
        (Class::Zero, _) => return Some(F80::zero(sign)),
        _ => {}
    }
    let (ua, ub) = (a.unpack()?, b.unpack()?);
    Some(round_pack(ctx, sign, ua.exp - ub.exp, div_sig(ua.sig, ub.sig), fmt).f80())
}

/// `a / b * 2^127` truncated, with a sticky bit, for normalised `a`, `b`.
pub fn div_sig(a: u64, b: u64) -> u128 {
    let b = u128::from(b);
    let n1 = u128::from(a) << 64;
    let (q1, r1) = (n1 / b, n1 % b);
    let n2 = r1 << 64;
    let (q2, r2) = (n2 / b, n2 % b);
    (q1 << 63) | (q2 >> 1) | u128::from(q2 & 1 != 0 || r2 != 0)
}

/// Integer square root of a 128-bit value: (root, remainder).
pub fn isqrt(n: u128) -> (u64, u128) {
    let mut rem: u128 = 0;
    let mut root: u128 = 0;
    for i in (0..64).rev() {
        rem = (rem << 2) | ((n >> (2 * i)) & 3);
        root <<= 1;
        let t = (root << 1) | 1;
        if rem >= t {
            rem -= t;
            root |= 1;
        }
    }
    (root as u64, rem)
}

/// Square root rounded to the precision-control width.
pub fn sqrt(ctx: &mut Ctx, a: F80) -> Option<F80> {
    if let Err(r) = check1(ctx, a) {
        return r;
    }
    match a.class() {
        Class::Zero => return Some(a),
        Class::Inf if !a.sign() => return Some(a),
        _ if a.sign() => return ctx.invalid(),
        _ if denormal_stop(ctx, a, a) => return None,
        _ => {}
    }
    let u = a.unpack()?;
    // sqrt(sig * 2^(exp-63)) with sig << k, (exp - 63 - k) even.
    let k = if (u.exp - 63 - 64) % 2 == 0 { 64 } else { 63 };
    let (r, rem) = isqrt(u128::from(u.sig) << k);
    let half = (u.exp - 63 - k) / 2;
    let round_bit = rem > u128::from(r);
    let sig = (u128::from(r) << 64) | (u128::from(round_bit) << 63) | u128::from(rem != 0);
    // value = r * 2^half = sig * 2^(half - 64) = sig * 2^((half + 63) - 127)
    Some(round_pack(ctx, false, half + 63, sig, &EXT.with_p(ctx.pc)).f80())
}

/// FRNDINT: round to an integer under the rounding mode.
pub fn rndint(ctx: &mut Ctx, a: F80) -> Option<F80> {
    if let Err(r) = check1(ctx, a) {
        return r;
    }
    if denormal_stop(ctx, a, a) {
        return None;
    }
    let Some(u) = a.unpack() else {
        return Some(a); // zero or infinity
    };
    if u.exp >= 63 {
        return Some(a);
    }
    let k = round_int(ctx, u.sign, u.exp, u.sig);
    Some(round_pack(ctx, u.sign, 127, k, &EXT).f80())
}

/// FSCALE: `a * 2^trunc(b)`.
pub fn scale(ctx: &mut Ctx, a: F80, b: F80) -> Option<F80> {
    if let Err(r) = check2(ctx, a, b) {
        return r;
    }
    let (ca, cb) = (a.class(), b.class());
    let invalid_inf =
        cb == Class::Inf && matches!((ca, b.sign()), (Class::Zero, false) | (Class::Inf, true));
    if !invalid_inf && denormal_stop(ctx, a, b) {
        return None;
    }
    if cb == Class::Inf {
        return match (ca, b.sign()) {
            (Class::Zero, false) | (Class::Inf, true) => ctx.invalid(),
            (_, false) if ca != Class::Zero => Some(F80::inf(a.sign())),
            _ => Some(F80::zero(a.sign())),
        };
    }
    let Some(ua) = a.unpack() else {
        return Some(a); // zero or infinity
    };
    let n: i32 = match b.unpack() {
        None => 0,
        Some(ub) if ub.exp < 0 => 0,
        Some(ub) if ub.exp > 30 => {
            if ub.sign {
                -(1 << 20)
            } else {
                1 << 20
            }
        }
        Some(ub) => {
            let m = (ub.sig >> (63 - ub.exp)) as i32;
            let m = m.min(1 << 20);
            if ub.sign {
                -m
            } else {
                m
            }
        }
    };
    Some(round_pack(ctx, ua.sign, ua.exp + n, u128::from(ua.sig) << 64, &EXT).f80())
}

/// FXTRACT: (exponent, significand).
pub fn xtract(ctx: &mut Ctx, a: F80) -> Option<(F80, F80)> {
    match a.class() {
        Class::Unsupported => return ctx.invalid().map(|x| (x, x)),
        Class::QNaN | Class::SNaN => return propagate1(ctx, a).map(|x| (x, x)),
        Class::Zero => {
            return ctx
                .raise(ZE)
                .then_some((F80::inf(true), F80::zero(a.sign())))
        }
        Class::Inf => return Some((F80::inf(false), a)),
        Class::Denormal if !ctx.raise(DE) => return None,
        _ => {}
    }
    let u = a.unpack()?;
    let e = from_i64(i64::from(u.exp));
    Some((e, F80::new(u.sign, 0x3FFF, u.sig)))
}

/// The exact extended value of an integer.
pub fn from_i64(v: i64) -> F80 {
    if v == 0 {
        return F80::ZERO;
    }
    let m = v.unsigned_abs();
    let lz = m.leading_zeros();
    F80::new(v < 0, (16383 + 63 - lz) as u16, m << lz)
}

/// A pseudo-denormal in its normal encoding (exponent 1); others as-is.
pub fn canonical(a: F80) -> F80 {
    if a.exp() == 0 && a.sig >> 63 == 1 {
        F80::new(a.sign(), 1, a.sig)
    } else {
        a
    }
}

/// Result of FPREM/FPREM1: the remainder and the condition codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rem {
    pub value: F80,
    /// Low three quotient bits (C0 = bit 2, C3 = bit 1, C1 = bit 0).
    pub q: u8,
    /// C2: the reduction is incomplete.
    pub incomplete: bool,
}

/// FPREM (`ieee` false: quotient chopped) and FPREM1 (`ieee` true:
/// quotient rounded to nearest even). When the exponents differ by 64 or
/// more, a partial remainder reduces the exponent by 32 to 63 bits.
pub fn prem(ctx: &mut Ctx, a: F80, b: F80, ieee: bool) -> Option<Rem> {
    let done = |v: F80| Rem {
        value: v,
        q: 0,
        incomplete: false,
    };
    if let Err(r) = check2(ctx, a, b) {
        return r.map(done);
    }
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Inf || cb == Class::Zero {
        return ctx.invalid().map(done);
    }
    if denormal_stop(ctx, a, b) {
        return None;
    }
    if cb == Class::Inf || ca == Class::Zero {
        return Some(done(canonical(a)));
    }
    let (ua, ub) = (a.unpack()?, b.unpack()?);
    let d = ua.exp - ub.exp;
    if d < -1 || (d == -1 && !ieee) {
        // |a| < |b|: a itself (a pseudo-denormal comes back normalised).
        let mut c = *ctx;
        let v = round_pack(&mut c, ua.sign, ua.exp, u128::from(ua.sig) << 64, &EXT);
        return Some(done(v.f80()));
    }
    let (d, eb, incomplete) = if d >= 64 {
        let n = 32 + d % 32;
        (n, ua.exp - n, true)
    } else {
        (d, ub.exp, false)
    };
    // In units of 2^(eb - 64): A = sa << (d + 1), B = sb << 1.
    let aa = u128::from(ua.sig) << (d + 1);
    let bb = u128::from(ub.sig) << 1;
    let mut q = aa / bb;
    let mut rem = aa % bb;
    let mut sign = ua.sign;
    if ieee && !incomplete && (rem > bb - rem || (rem == bb - rem && q & 1 == 1)) {
        q += 1;
        rem = bb - rem;
        sign = !sign;
    }
    let mut c = *ctx;
    c.rc = Rc::Nearest;
    let value = round_pack(&mut c, sign, eb - 64 + 127, rem, &EXT).f80();
    ctx.flags |= c.flags;
    let value = if rem == 0 { F80::zero(ua.sign) } else { value };
    // A partial remainder leaves the quotient bits clear.
    let q = if incomplete { 0 } else { (q & 7) as u8 };
    Some(Rem {
        value,
        q,
        incomplete,
    })
}

/// Result of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Less,
    Equal,
    Greater,
    Unordered,
}

/// Compares `a` with `b`; `quiet` (FUCOM) raises IE only for SNaNs.
pub fn compare(ctx: &mut Ctx, a: F80, b: F80, quiet: bool) -> Cmp {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        ctx.raise(IE);
        return Cmp::Unordered;
    }
    if a.is_nan() || b.is_nan() {
        if !quiet || ca == Class::SNaN || cb == Class::SNaN {
            ctx.raise(IE);
        }
        return Cmp::Unordered;
    }
    if ctx.denormal_in || ca == Class::Denormal || cb == Class::Denormal {
        ctx.raise(DE);
    }
    let key = |x: F80| -> (i8, i32, u64) {
        match x.class() {
            Class::Zero => (0, 0, 0),
            Class::Inf => (if x.sign() { -1 } else { 1 }, i32::MAX, 0),
            _ => {
                let u = x.unpack().unwrap_or(super::float80::Unpacked {
                    sign: false,
                    exp: 0,
                    sig: 0,
                });
                (if u.sign { -1 } else { 1 }, u.exp, u.sig)
            }
        }
    };
    let (ka, kb) = (key(a), key(b));
    use std::cmp::Ordering::*;
    let ord = match ka.0.cmp(&kb.0) {
        Equal if ka.0 == 0 => Equal,
        Equal => {
            let m = (ka.1, ka.2).cmp(&(kb.1, kb.2));
            if ka.0 < 0 {
                m.reverse()
            } else {
                m
            }
        }
        o => o,
    };
    match ord {
        Less => Cmp::Less,
        Equal => Cmp::Equal,
        Greater => Cmp::Greater,
    }
}
