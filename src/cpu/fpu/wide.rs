//! A private working format for the transcendental functions: a sign, an
//! exponent and a 128-bit significand (`sig * 2^(exp - 127)`, bit 127 set),
//! with truncating add, multiply, divide and square root. Series evaluated
//! in it carry about 120 good bits, so the single final rounding to 64 bits
//! (by `round.rs`) is almost always the correctly rounded one. Nothing
//! here touches the host FPU.

use super::float80::F80;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct W {
    pub neg: bool,
    pub exp: i32,
    pub sig: u128,
}

impl W {
    pub const ZERO: W = W {
        neg: false,
        exp: 0,
        sig: 0,
    };

    /// A normalised value from parts.
    pub fn new(neg: bool, exp: i32, sig: u128) -> W {
        if sig == 0 {
            return W::ZERO;
        }
        let lz = sig.leading_zeros() as i32;
        W {
            neg,
            exp: exp - lz,
            sig: sig << lz,
        }
    }
    /// A 128-bit constant: `sig * 2^(exp - 127)`.
    pub const fn konst(exp: i32, sig: u128) -> W {
        W {
            neg: false,
            exp,
            sig,
        }
    }
    pub fn from_u64(v: u64) -> W {
        W::new(false, 127, u128::from(v))
    }
    pub fn from_i64(v: i64) -> W {
        W::new(v < 0, 127, u128::from(v.unsigned_abs()))
    }
    /// The exact value of a finite extended operand.
    pub fn from_f80(a: F80) -> W {
        match a.unpack() {
            Some(u) => W::new(u.sign, u.exp, u128::from(u.sig) << 64),
            None => W::ZERO,
        }
    }
    pub fn is_zero(self) -> bool {
        self.sig == 0
    }
    pub fn neg(self) -> W {
        if self.is_zero() {
            return self;
        }
        W {
            neg: !self.neg,
            ..self
        }
    }
    pub fn abs(self) -> W {
        W { neg: false, ..self }
    }
    /// Multiplies by 2^n.
    pub fn ldexp(self, n: i32) -> W {
        if self.is_zero() {
            return self;
        }
        W {
            exp: self.exp + n,
            ..self
        }
    }
    /// Magnitude comparison.
    pub fn mag_ge(self, o: W) -> bool {
        if o.is_zero() {
            return true;
        }
        if self.is_zero() {
            return false;
        }
        (self.exp, self.sig) >= (o.exp, o.sig)
    }

    pub fn add(self, o: W) -> W {
        if self.is_zero() {
            return o;
        }
        if o.is_zero() {
            return self;
        }
        let (big, small) = if self.mag_ge(o) { (self, o) } else { (o, self) };
        let d = (big.exp - small.exp) as u32;
        let x = (big.sig >> 1) | (big.sig & 1);
        // Bits shifted out leave a sticky bit, so inexactness survives.
        let y0 = (small.sig >> 1) | (small.sig & 1);
        let y = if d >= 127 {
            1
        } else {
            (y0 >> d) | u128::from(d > 0 && y0 & ((1u128 << d) - 1) != 0)
        };
        let r = if big.neg == small.neg { x + y } else { x - y };
        W::new(big.neg, big.exp + 1, r)
    }
    pub fn sub(self, o: W) -> W {
        self.add(o.neg())
    }
    pub fn mul(self, o: W) -> W {
        if self.is_zero() || o.is_zero() {
            return W::ZERO;
        }
        let (ah, al) = (self.sig >> 64, self.sig & u128::from(u64::MAX));
        let (bh, bl) = (o.sig >> 64, o.sig & u128::from(u64::MAX));
        let hh = ah * bh;
        let hl = ah * bl;
        let lh = al * bh;
        let ll = al * bl;
        let mid = (hl & u128::from(u64::MAX)) + (lh & u128::from(u64::MAX)) + (ll >> 64);
        let hi = hh + (hl >> 64) + (lh >> 64) + (mid >> 64);
        // product = hi * 2^128 + ...: value = hi * 2^(ea + eb - 254 + 128)
        W::new(self.neg != o.neg, self.exp + o.exp + 1, hi)
    }
    pub fn div(self, o: W) -> W {
        if self.is_zero() || o.is_zero() {
            return W::ZERO;
        }
        let (mut r, b) = (self.sig, o.sig);
        let mut q: u128 = 0;
        let mut carry = false;
        for _ in 0..128 {
            let ge = carry || r >= b;
            q = (q << 1) | u128::from(ge);
            if ge {
                r = r.wrapping_sub(b);
            }
            carry = r >> 127 != 0;
            r <<= 1;
        }
        // A sticky last bit keeps inexact quotients inexact.
        W::new(self.neg != o.neg, self.exp - o.exp, q | u128::from(r != 0))
    }
    /// Square root of a non-negative value (Newton from a 64-bit start).
    pub fn sqrt(self) -> W {
        if self.is_zero() {
            return self;
        }
        // sig * 2^(exp-127) with an even power of two: n * 2^(2*half).
        let (n, half) = if (self.exp - 127).rem_euclid(2) == 0 {
            (self.sig, (self.exp - 127) / 2)
        } else {
            (self.sig >> 1, (self.exp - 126) / 2)
        };
        let (r, _) = super::arith::isqrt(n);
        let mut x = W::new(false, 127 + half, u128::from(r));
        for _ in 0..2 {
            x = x.add(self.div(x)).ldexp(-1);
        }
        x
    }
    /// Truncates toward zero to an integer (saturating).
    pub fn trunc_i64(self) -> i64 {
        if self.is_zero() || self.exp < 0 {
            return 0;
        }
        if self.exp > 62 {
            return if self.neg { i64::MIN } else { i64::MAX };
        }
        let m = (self.sig >> (127 - self.exp)) as i64;
        if self.neg {
            -m
        } else {
            m
        }
    }
    /// Rounds to the nearest integer (ties away), saturating.
    pub fn round_i64(self) -> i64 {
        let half = W::konst(-1, 1 << 127);
        let h = if self.neg { half.neg() } else { half };
        self.add(h).trunc_i64()
    }
}
