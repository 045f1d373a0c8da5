//! The 80-bit extended-precision value as the x87 stores it ([`F80`]): a
//! sign bit, a 15-bit biased exponent and a 64-bit significand with an
//! explicit integer bit. This file owns the encoding only: classification
//! (including the formats the 387 and later reject as "unsupported"),
//! unpacking to a normalised (sign, exponent, significand) triple, the
//! special constants and conversion to bytes. Arithmetic lives elsewhere.

use serde::{Deserialize, Serialize};

/// Exponent bias of the extended format.
pub const BIAS: i32 = 16383;

/// An 80-bit x87 register value, bit for bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct F80 {
    /// Sign (bit 15) and biased exponent (bits 0-14).
    pub se: u16,
    /// Significand, bit 63 being the explicit integer bit.
    pub sig: u64,
}

/// What kind of value an [`F80`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Zero,
    /// Exponent field 0 with a non-zero significand (pseudo-denormals,
    /// with the integer bit set, are included: they are treated alike).
    Denormal,
    Normal,
    Inf,
    QNaN,
    SNaN,
    /// Unnormals, pseudo-NaNs and pseudo-infinities: an invalid operand.
    Unsupported,
}

/// A finite non-zero value unpacked: `sig * 2^(exp - 63)` with bit 63 of
/// `sig` set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unpacked {
    pub sign: bool,
    pub exp: i32,
    pub sig: u64,
}

const INT_BIT: u64 = 1 << 63;
const QUIET_BIT: u64 = 1 << 62;

impl F80 {
    pub const ZERO: F80 = F80 { se: 0, sig: 0 };
    pub const ONE: F80 = F80 {
        se: 0x3FFF,
        sig: INT_BIT,
    };
    /// The "real indefinite" QNaN the FPU produces for invalid operations.
    pub const INDEFINITE: F80 = F80 {
        se: 0xFFFF,
        sig: 0xC000_0000_0000_0000,
    };
    pub const INF: F80 = F80 {
        se: 0x7FFF,
        sig: INT_BIT,
    };

    /// Builds a value from its sign, biased exponent and significand.
    pub fn new(sign: bool, exp: u16, sig: u64) -> F80 {
        F80 {
            se: (u16::from(sign) << 15) | (exp & 0x7FFF),
            sig,
        }
    }
    /// A signed zero.
    pub fn zero(sign: bool) -> F80 {
        F80::new(sign, 0, 0)
    }
    /// A signed infinity.
    pub fn inf(sign: bool) -> F80 {
        F80::new(sign, 0x7FFF, INT_BIT)
    }
    pub fn sign(self) -> bool {
        self.se & 0x8000 != 0
    }
    /// The biased exponent field.
    pub fn exp(self) -> u16 {
        self.se & 0x7FFF
    }
    #[allow(clippy::should_implement_trait)]
    pub fn neg(self) -> F80 {
        F80 {
            se: self.se ^ 0x8000,
            sig: self.sig,
        }
    }
    pub fn abs(self) -> F80 {
        F80 {
            se: self.se & 0x7FFF,
            sig: self.sig,
        }
    }
    pub fn with_sign(self, sign: bool) -> F80 {
        F80::new(sign, self.exp(), self.sig)
    }

    pub fn class(self) -> Class {
        let e = self.exp();
        let int = self.sig & INT_BIT != 0;
        match e {
            0 if self.sig == 0 => Class::Zero,
            0 => Class::Denormal,
            0x7FFF if !int => Class::Unsupported,
            0x7FFF if self.sig << 1 == 0 => Class::Inf,
            0x7FFF if self.sig & QUIET_BIT != 0 => Class::QNaN,
            0x7FFF => Class::SNaN,
            _ if !int => Class::Unsupported,
            _ => Class::Normal,
        }
    }
    pub fn is_nan(self) -> bool {
        matches!(self.class(), Class::QNaN | Class::SNaN)
    }
    /// The same NaN with its quiet bit set.
    pub fn quiet(self) -> F80 {
        F80 {
            se: self.se,
            sig: self.sig | QUIET_BIT,
        }
    }

    /// Unpacks a finite non-zero value (normal or denormal); `None` for
    /// zeros, infinities, NaNs and unsupported encodings.
    pub fn unpack(self) -> Option<Unpacked> {
        match self.class() {
            Class::Normal => Some(Unpacked {
                sign: self.sign(),
                exp: i32::from(self.exp()) - BIAS,
                sig: self.sig,
            }),
            Class::Denormal => {
                let lz = self.sig.leading_zeros();
                Some(Unpacked {
                    sign: self.sign(),
                    exp: 1 - BIAS - lz as i32,
                    sig: self.sig << lz,
                })
            }
            _ => None,
        }
    }

    /// The ten bytes as stored in memory (little-endian).
    pub fn to_bytes(self) -> [u8; 10] {
        let mut b = [0u8; 10];
        b[..8].copy_from_slice(&self.sig.to_le_bytes());
        b[8..].copy_from_slice(&self.se.to_le_bytes());
        b
    }
    pub fn from_bytes(b: [u8; 10]) -> F80 {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        F80 {
            sig: u64::from_le_bytes(s),
            se: u16::from_le_bytes([b[8], b[9]]),
        }
    }

    /// The nearest `f64` (round to nearest even; NaNs stay NaNs), for
    /// display and for the control API. Computed in software.
    pub fn to_f64(self) -> f64 {
        let mut ctx = super::round::Ctx::new(0x037F);
        f64::from_bits(super::convert::to_float(&mut ctx, self, &super::round::F64))
    }
    /// The exact extended value of an `f64`.
    pub fn from_f64(v: f64) -> F80 {
        let mut ctx = super::round::Ctx::new(0x037F);
        super::convert::from_float(&mut ctx, v.to_bits(), &super::round::F64)
            .unwrap_or(F80::INDEFINITE)
    }
}
