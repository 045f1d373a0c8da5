//! Conversions between [`F80`] and the memory formats the x87 loads and
//! stores: 16/32/64-bit integers (FILD/FIST), single and double precision
//! (FLD/FST m32/m64) and 18-digit packed BCD (FBLD/FBSTP), with the
//! exceptions each raises and the masked "indefinite" results (integer
//! indefinite 0x8000..., the format's QNaN indefinite, BCD indefinite).

use super::arith::from_i64;
use super::float80::{Class, F80};
use super::round::{round_int, round_pack, Ctx, Fmt, DE, F64, IE, OE, UE};

/// FIST: rounds to an integer of `bits` (16, 32, 64) bits under the
/// rounding mode. Out of range, NaN or infinity: IE and the integer
/// indefinite (`None` when IE is unmasked).
pub fn to_int(ctx: &mut Ctx, a: F80, bits: u32) -> Option<u64> {
    let indefinite = 1u64 << (bits - 1);
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let Some(u) = a.unpack() else {
        return match a.class() {
            Class::Zero => Some(0),
            _ => ctx.raise(IE).then_some(indefinite),
        };
    };
    let mut c = *ctx;
    let k = round_int(&mut c, u.sign, u.exp, u.sig);
    let limit = u128::from(indefinite);
    if (u.sign && k > limit) || (!u.sign && k >= limit) {
        return ctx.raise(IE).then_some(indefinite);
    }
    *ctx = c;
    let v = if u.sign {
        (k as u64).wrapping_neg()
    } else {
        k as u64
    };
    Some(v & mask)
}

/// FLD m32/m64: the exact extended value of a single or double (`bits`
/// as stored). SNaN: IE and the QNaN; denormal: DE.
pub fn from_float(ctx: &mut Ctx, bits: u64, fmt: &Fmt) -> Option<F80> {
    let (ebits, fbits) = if fmt.bias == 127 { (8, 23) } else { (11, 52) };
    let sign = bits >> (ebits + fbits) & 1 != 0;
    let e = ((bits >> fbits) & ((1 << ebits) - 1)) as i32;
    let f = bits & ((1u64 << fbits) - 1);
    let emax_field = (1 << ebits) - 1;
    if e == emax_field {
        if f == 0 {
            return Some(F80::inf(sign));
        }
        let nan = F80::new(sign, 0x7FFF, (1 << 63) | (f << (63 - fbits)));
        if f >> (fbits - 1) == 0 && !ctx.raise(IE) {
            return None;
        }
        return Some(nan.quiet());
    }
    if e == 0 {
        if f == 0 {
            return Some(F80::zero(sign));
        }
        if !ctx.raise(DE) {
            return None;
        }
        // value = f * 2^(emin - fbits)
        let lz = f.leading_zeros() as i32;
        let exp = fmt.emin - fbits + 63 - lz;
        return Some(F80::new(sign, (exp + 16383) as u16, f << lz));
    }
    let exp = e - fmt.bias + 16383;
    Some(F80::new(sign, exp as u16, (1 << 63) | (f << (63 - fbits))))
}

/// FST m32/m64: `a` rounded to a single or double under the rounding mode
/// (precision control does not apply). `None` when an unmasked invalid,
/// overflow or underflow exception prevents the store.
pub fn to_float_checked(ctx: &mut Ctx, a: F80, fmt: &Fmt) -> Option<u64> {
    let (ebits, fbits) = if fmt.bias == 127 {
        (8u32, 23u32)
    } else {
        (11, 52)
    };
    let emax_field = (1u64 << ebits) - 1;
    let enc = |sign: bool, e: u64, f: u64| -> u64 {
        (u64::from(sign) << (ebits + fbits)) | (e << fbits) | (f & ((1u64 << fbits) - 1))
    };
    match a.class() {
        Class::Unsupported => {
            return ctx
                .raise(IE)
                .then_some(enc(true, emax_field, 1 << (fbits - 1)))
        }
        Class::SNaN | Class::QNaN => {
            if a.class() == Class::SNaN && !ctx.raise(IE) {
                return None;
            }
            let f = (a.sig >> (63 - fbits)) | (1 << (fbits - 1));
            return Some(enc(a.sign(), emax_field, f));
        }
        Class::Inf => return Some(enc(a.sign(), emax_field, 0)),
        Class::Zero => return Some(enc(a.sign(), 0, 0)),
        _ => {}
    }
    let u = a.unpack()?;
    let p = round_pack(ctx, u.sign, u.exp, u128::from(u.sig) << 64, fmt);
    if ctx.unmasked(OE | UE) {
        return None;
    }
    Some(enc(p.sign, p.e as u64, p.sig >> (63 - fbits)))
}

/// [`to_float_checked`] with masked responses only (for display).
pub fn to_float(ctx: &mut Ctx, a: F80, fmt: &Fmt) -> u64 {
    ctx.masks = 0x3F;
    to_float_checked(ctx, a, fmt).unwrap_or(if fmt.bias == F64.bias {
        0xFFF8_0000_0000_0000
    } else {
        0xFFC0_0000
    })
}

/// FBLD: 18 packed BCD digits and a sign byte, exactly. Nibbles above 9
/// are not checked (the result is undefined on hardware).
pub fn from_bcd(b: [u8; 10]) -> F80 {
    let mut v: u64 = 0;
    for &byte in b[..9].iter().rev() {
        v = v
            .wrapping_mul(100)
            .wrapping_add(u64::from(byte >> 4) * 10 + u64::from(byte & 15));
    }
    let sign = b[9] & 0x80 != 0;
    if v == 0 {
        return F80::zero(sign);
    }
    let f = from_i64(v as i64);
    f.with_sign(sign)
}

/// The packed BCD indefinite.
pub const BCD_INDEFINITE: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF];

/// FBSTP: rounds to an integer under the rounding mode and packs 18 BCD
/// digits. Beyond 18 digits, NaN or infinity: IE and the BCD indefinite.
pub fn to_bcd(ctx: &mut Ctx, a: F80) -> Option<[u8; 10]> {
    let (sign, mut k) = match a.unpack() {
        Some(u) => {
            let mut c = *ctx;
            let k = round_int(&mut c, u.sign, u.exp, u.sig);
            if k >= 1_000_000_000_000_000_000 {
                return ctx.raise(IE).then_some(BCD_INDEFINITE);
            }
            *ctx = c;
            (u.sign, k as u64)
        }
        None if a.class() == Class::Zero => (a.sign(), 0),
        None => return ctx.raise(IE).then_some(BCD_INDEFINITE),
    };
    let mut out = [0u8; 10];
    for byte in out.iter_mut().take(9) {
        let lo = (k % 10) as u8;
        k /= 10;
        let hi = (k % 10) as u8;
        k /= 10;
        *byte = (hi << 4) | lo;
    }
    out[9] = if sign { 0x80 } else { 0 };
    Some(out)
}
