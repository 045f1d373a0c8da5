//! The transcendental instructions: F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN,
//! FSIN, FCOS, FSINCOS, and the constants FLDPI, FLDL2T, FLDL2E, FLDLG2 and
//! FLDLN2 (128-bit values rounded to 64 bits under the rounding mode).
//!
//! Method: each function is evaluated in the 128-bit working format of
//! `wide.rs` and rounded once, so results are within one ulp of the exact
//! value (almost always correctly rounded). Series: `e^t - 1` (Taylor) for
//! F2XM1; `ln m = 2 atanh((m-1)/(m+1))` with `m` in [sqrt(1/2), sqrt(2)] for
//! the logarithms; Taylor sine/cosine after reduction by multiples of
//! pi/2; `atan` by three argument halvings and Taylor. Like Intel's x87,
//! the trigonometric reduction uses a 66-bit pi, so results near multiples
//! of pi follow the hardware rather than the exact sine. Arguments of
//! FSIN/FCOS/FSINCOS/FPTAN of magnitude 2^63 or more set C2 and leave the
//! operand unchanged; `wide.rs` keeps about 128 bits, so very large
//! arguments lose accuracy in the reduction.

use super::arith::{check1, check2, denormal_stop};
use super::float80::{Class, F80};
use super::round::{round_pack, Ctx, Rc, EXT, IE, ZE};
use super::wide::W;

pub const PI: W = W::konst(1, 0xc90f_daa2_2168_c234_c4c6_628b_80dc_1cd1);
pub const LN2: W = W::konst(-1, 0xb172_17f7_d1cf_79ab_c9e3_b398_03f2_f6af);
pub const LOG2E: W = W::konst(0, 0xb8aa_3b29_5c17_f0bb_be87_fed0_691d_3e88);
pub const LOG2_10: W = W::konst(1, 0xd49a_784b_cd1b_8afe_492b_f6ff_4daf_db4c);
pub const LOG10_2: W = W::konst(-2, 0x9a20_9a84_fbcf_f798_8f89_59ac_0b7c_9178);
/// The 66-bit pi of the x87's argument reduction.
const PI66: W = W::konst(1, 0x000C_90FD_AA22_168C_234C_u128 << 60);
/// sqrt(2) (truncated), to pick the logarithm's reduction.
const SQRT2: W = W::konst(0, 0xb504_f333_f9de_6484_597d_89b3_754a_be9f);

/// Rounds a working value to an extended result.
fn finish(ctx: &mut Ctx, w: W) -> F80 {
    round_pack(ctx, w.neg, w.exp, w.sig, &EXT).f80()
}

/// A constant for FLDPI etc., rounded under the rounding mode (no flags).
pub fn constant(rc: Rc, k: W) -> F80 {
    let mut ctx = Ctx::new(0x037F);
    ctx.rc = rc;
    finish(&mut ctx, k)
}

fn one() -> W {
    W::from_u64(1)
}

/// Sums a series until its terms stop mattering.
fn small(term: W, sum: W) -> bool {
    term.is_zero() || (!sum.is_zero() && term.exp < sum.exp - 130)
}

/// e^t - 1 for |t| below one or so.
fn expm1(t: W) -> W {
    let mut term = t;
    let mut sum = t;
    for k in 2..200u64 {
        term = term.mul(t).div(W::from_u64(k));
        sum = sum.add(term);
        if small(term, sum) {
            break;
        }
    }
    sum
}

/// 2^x - 1.
fn exp2m1(x: W) -> W {
    if !one().mag_ge(x) {
        let n = x.round_i64().clamp(-40000, 40000);
        let f = x.sub(W::from_i64(n));
        return expm1(f.mul(LN2)).add(one()).ldexp(n as i32).sub(one());
    }
    expm1(x.mul(LN2))
}

/// 2 atanh(s) = ln((1+s)/(1-s)).
fn atanh2(s: W) -> W {
    let s2 = s.mul(s);
    let mut pow = s;
    let mut sum = s;
    for k in 1..400u64 {
        pow = pow.mul(s2);
        let term = pow.div(W::from_u64(2 * k + 1));
        sum = sum.add(term);
        if small(term, sum) {
            break;
        }
    }
    sum.ldexp(1)
}

/// log2 of a positive value.
fn log2(x: W) -> W {
    let mut e = x.exp;
    let mut m = W { exp: 0, ..x };
    if m.mag_ge(SQRT2) {
        m.exp = -1;
        e += 1;
    }
    let s = m.sub(one()).div(m.add(one()));
    W::from_i64(i64::from(e)).add(atanh2(s).mul(LOG2E))
}

/// atan of a non-negative value.
fn atan(t: W) -> W {
    if !one().mag_ge(t) {
        return PI.ldexp(-1).sub(atan(one().div(t)));
    }
    let mut t = t;
    for _ in 0..3 {
        t = t.div(one().add(one().add(t.mul(t)).sqrt()));
    }
    let t2 = t.mul(t);
    let mut pow = t;
    let mut sum = t;
    for k in 1..200u64 {
        pow = pow.mul(t2).neg();
        let term = pow.div(W::from_u64(2 * k + 1));
        sum = sum.add(term);
        if small(term, sum) {
            break;
        }
    }
    sum.ldexp(3)
}

/// (sin r, cos r) for |r| <= pi/4 or so.
fn sin_cos_series(r: W) -> (W, W) {
    let r2 = r.mul(r);
    let (mut ts, mut s) = (r, r);
    let (mut tc, mut c) = (one(), one());
    for n in 1..100u64 {
        ts = ts.mul(r2).div(W::from_u64((2 * n) * (2 * n + 1))).neg();
        tc = tc.mul(r2).div(W::from_u64((2 * n - 1) * (2 * n))).neg();
        s = s.add(ts);
        c = c.add(tc);
        if small(ts, s) && small(tc, c) {
            break;
        }
    }
    (s, c)
}

/// Result of a trigonometric instruction.
pub enum Trig {
    /// |x| >= 2^63: C2 set, nothing else changes.
    OutOfRange,
    /// An unmasked exception: nothing changes.
    Unmasked,
    /// (sin, cos) or (tan, 1) as the instruction needs.
    Done(F80, F80),
}

/// What FSIN/FCOS/FSINCOS/FPTAN compute (the flags follow the results
/// the instruction keeps).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrigOp {
    Sin,
    Cos,
    SinCos,
    Tan,
}

pub fn trig(ctx: &mut Ctx, a: F80, op: TrigOp) -> Trig {
    let one80 = F80::ONE;
    if let Err(r) = check1(ctx, a) {
        return match r {
            Some(v) => Trig::Done(v, v),
            None => Trig::Unmasked,
        };
    }
    match a.class() {
        Class::Inf => {
            return match ctx.invalid() {
                Some(v) => Trig::Done(v, v),
                None => Trig::Unmasked,
            }
        }
        Class::Zero => return Trig::Done(a, one80),
        _ => {}
    }
    if denormal_stop(ctx, a, a) {
        return Trig::Unmasked;
    }
    if a.exp() >= 0x3FFF + 63 {
        return Trig::OutOfRange;
    }
    let x = W::from_f80(a);
    let half_pi = PI66.ldexp(-1);
    let (r, k) = if half_pi.ldexp(-1).mag_ge(x) {
        (x, 0)
    } else {
        let k = x.div(half_pi).round_i64();
        (x.sub(half_pi.mul(W::from_i64(k))), k)
    };
    let (s, c) = sin_cos_series(r);
    let (sin, cos) = match k.rem_euclid(4) {
        0 => (s, c),
        1 => (c, s.neg()),
        2 => (s.neg(), c.neg()),
        _ => (c.neg(), s),
    };
    match op {
        TrigOp::Sin => Trig::Done(finish(ctx, sin), one80),
        TrigOp::Cos => Trig::Done(one80, finish(ctx, cos)),
        TrigOp::SinCos => {
            let mut c2 = *ctx;
            let cv = finish(&mut c2, cos);
            let sv = finish(ctx, sin);
            ctx.flags |= c2.flags;
            Trig::Done(sv, cv)
        }
        // Tiny arguments: x + x^3/3, so that the rounding sees tan x > x
        // (the quotient's sticky bits could cancel).
        TrigOp::Tan if x.exp < -40 => {
            let t = x.add(x.mul(x).mul(x).div(W::from_u64(3)));
            Trig::Done(finish(ctx, t), one80)
        }
        TrigOp::Tan => Trig::Done(finish(ctx, sin.div(cos)), one80),
    }
}

/// F2XM1: 2^x - 1 (defined for -1 <= x <= 1).
pub fn f2xm1(ctx: &mut Ctx, a: F80) -> Option<F80> {
    if let Err(r) = check1(ctx, a) {
        return r;
    }
    if denormal_stop(ctx, a, a) {
        return None;
    }
    match a.class() {
        Class::Zero => Some(a),
        Class::Inf if a.sign() => Some(F80::ONE.neg()),
        Class::Inf => Some(a),
        _ => Some(finish(ctx, exp2m1(W::from_f80(a)))),
    }
}

/// Runs a two-operand function whose special cases raise IE or ZE
/// first; otherwise a denormal operand raises DE (stopping the operation
/// when unmasked).
fn guarded(
    ctx: &mut Ctx,
    x: F80,
    y: F80,
    f: impl FnOnce(&mut Ctx, F80, F80) -> Option<F80>,
) -> Option<F80> {
    if let Err(r) = check2(ctx, x, y) {
        return r;
    }
    let mut c = *ctx;
    let r = f(&mut c, x, y);
    if c.flags & (IE | ZE) == 0 && denormal_stop(ctx, x, y) {
        return None;
    }
    let de = ctx.flags;
    *ctx = c;
    ctx.flags |= de;
    r
}

/// FYL2X: y * log2(x), x = ST(0), y = ST(1).
pub fn fyl2x(ctx: &mut Ctx, x: F80, y: F80) -> Option<F80> {
    guarded(ctx, x, y, fyl2x_inner)
}

fn fyl2x_inner(ctx: &mut Ctx, x: F80, y: F80) -> Option<F80> {
    let (cx, cy) = (x.class(), y.class());
    if x.sign() && cx != Class::Zero {
        return ctx.invalid();
    }
    let sy = y.sign();
    if cx == Class::Zero {
        return match cy {
            Class::Zero => ctx.invalid(),
            Class::Inf => Some(F80::inf(!sy)),
            _ => ctx.raise(ZE).then_some(F80::inf(!sy)),
        };
    }
    if cx == Class::Inf {
        return match cy {
            Class::Zero => ctx.invalid(),
            _ => Some(F80::inf(sy)),
        };
    }
    let l = log2(W::from_f80(x));
    let is_one = x == F80::ONE;
    match cy {
        Class::Inf if is_one => ctx.invalid(),
        Class::Inf => Some(F80::inf(sy != l.neg)),
        Class::Zero if is_one => Some(F80::zero(sy)),
        Class::Zero => Some(F80::zero(sy != l.neg)),
        _ if is_one => Some(F80::zero(sy)),
        _ => Some(finish(ctx, l.mul(W::from_f80(y)))),
    }
}

/// FYL2XP1: y * log2(x + 1), x = ST(0), y = ST(1).
pub fn fyl2xp1(ctx: &mut Ctx, x: F80, y: F80) -> Option<F80> {
    guarded(ctx, x, y, fyl2xp1_inner)
}

fn fyl2xp1_inner(ctx: &mut Ctx, x: F80, y: F80) -> Option<F80> {
    let (cx, cy) = (x.class(), y.class());
    let sign = x.sign() != y.sign();
    let wx = W::from_f80(x);
    if cx == Class::Inf || (x.sign() && wx.mag_ge(one())) {
        return if x.sign() || cy == Class::Zero {
            ctx.invalid()
        } else {
            Some(F80::inf(y.sign()))
        };
    }
    match (cx, cy) {
        (Class::Zero, Class::Inf) => ctx.invalid(),
        (Class::Zero, _) | (_, Class::Zero) => Some(F80::zero(sign)),
        (_, Class::Inf) => Some(F80::inf(sign)),
        _ => {
            let s = wx.div(wx.add(W::from_u64(2)));
            Some(finish(ctx, atanh2(s).mul(LOG2E).mul(W::from_f80(y))))
        }
    }
}

/// FPATAN: atan2(y, x), x = ST(0), y = ST(1).
pub fn fpatan(ctx: &mut Ctx, x: F80, y: F80) -> Option<F80> {
    guarded(ctx, x, y, fpatan_inner)
}

fn fpatan_inner(ctx: &mut Ctx, x: F80, y: F80) -> Option<F80> {
    let (cx, cy) = (x.class(), y.class());
    let (sx, sy) = (x.sign(), y.sign());
    let pi = PI;
    let angle = match (cx, cy) {
        (_, Class::Zero) => {
            if sx {
                pi
            } else {
                return Some(F80::zero(sy));
            }
        }
        (Class::Inf, Class::Inf) => {
            if sx {
                pi.mul(W::from_u64(3)).ldexp(-2)
            } else {
                pi.ldexp(-2)
            }
        }
        (Class::Inf, _) => {
            if sx {
                pi
            } else {
                return Some(F80::zero(sy));
            }
        }
        (Class::Zero, _) | (_, Class::Inf) => pi.ldexp(-1),
        _ => {
            let (ax, ay) = (W::from_f80(x).abs(), W::from_f80(y).abs());
            let t = if ax.mag_ge(ay) {
                atan(ay.div(ax))
            } else {
                pi.ldexp(-1).sub(atan(ax.div(ay)))
            };
            if sx {
                pi.sub(t)
            } else {
                t
            }
        }
    };
    Some(finish(ctx, if sy { angle.neg() } else { angle }))
}
