//! Serde helpers for device state in snapshots: fixed-size byte tables
//! longer than serde's built-in arrays (the CMOS RAM), and field readers
//! that reject values a device can never hold itself (a zero PIT period, a
//! DAC table of the wrong size), so a crafted snapshot file is refused as
//! it is read instead of making a device divide by zero or index out of
//! bounds later. Only what a device would otherwise trust is checked; any
//! value a guest could have produced is accepted as is.

use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serializer};
use std::fmt;

/// `#[serde(with = "byte_array")]` for `[u8; N]`: stored as one byte string
/// that must have exactly `N` bytes.
pub mod byte_array {
    use super::*;

    pub fn serialize<S: Serializer, const N: usize>(a: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(a)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let v = d.deserialize_bytes(BytesVisitor)?;
        <[u8; N]>::try_from(v.as_slice())
            .map_err(|_| D::Error::custom(format!("a table of {} bytes, expected {N}", v.len())))
    }
}

/// `#[serde(with = "byte_vec")]` for a `Vec<u8>` of exactly `N` bytes
/// (`N` given by [`exactly`]), stored as one byte string.
pub fn byte_vec<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(v)
}

/// Reads a byte string that must have exactly `N` bytes.
pub fn exactly<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<Vec<u8>, D::Error> {
    let v = d.deserialize_bytes(BytesVisitor)?;
    if v.len() != N {
        return Err(D::Error::custom(format!(
            "a table of {} bytes, expected {N}",
            v.len()
        )));
    }
    Ok(v)
}

/// Reads a `u64` that must not be zero.
pub fn nonzero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match u64::deserialize(d)? {
        0 => Err(D::Error::custom("a zero count where the device needs one")),
        v => Ok(v),
    }
}

/// Reads an optional `(tick, count)` pair whose count must not be zero.
pub fn nonzero_pending<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(u64, u64)>, D::Error> {
    match Option::<(u64, u64)>::deserialize(d)? {
        Some((_, 0)) => Err(D::Error::custom("a zero count where the device needs one")),
        v => Ok(v),
    }
}

/// Reads a `u8` that must be below `N`.
pub fn below<'de, D: Deserializer<'de>, const N: u8>(d: D) -> Result<u8, D::Error> {
    let v = u8::deserialize(d)?;
    if v >= N {
        return Err(D::Error::custom(format!("{v} where below {N} is expected")));
    }
    Ok(v)
}

/// Accepts a byte string as bytes (binary formats) or as a sequence of
/// numbers (self-describing ones).
struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(with = "super::byte_array")]
        cmos: [u8; 40],
        #[serde(
            serialize_with = "super::byte_vec",
            deserialize_with = "super::exactly::<_, 3>"
        )]
        dac: Vec<u8>,
        #[serde(deserialize_with = "super::nonzero")]
        period: u64,
        #[serde(deserialize_with = "super::below::<_, 3>")]
        component: u8,
    }

    fn round_trip(t: &T) -> Result<T, postcard::Error> {
        postcard::from_bytes(&postcard::to_allocvec(t).unwrap())
    }

    #[test]
    fn good_values_round_trip_and_bad_ones_are_refused() {
        let good = T {
            cmos: [7; 40],
            dac: vec![1, 2, 3],
            period: 5,
            component: 2,
        };
        assert_eq!(round_trip(&good).unwrap(), good);
        for bad in [
            T {
                dac: vec![1],
                ..round_trip(&good).unwrap()
            },
            T {
                period: 0,
                ..round_trip(&good).unwrap()
            },
            T {
                component: 3,
                ..round_trip(&good).unwrap()
            },
        ] {
            assert!(round_trip(&bad).is_err(), "{bad:?} must be refused");
        }
    }
}
