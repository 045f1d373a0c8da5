//! Values that cross the control API: what a property holds and what an action
//! takes or returns, with the types that check and convert them. Parsing of
//! human-written numbers ("0x7c00", "16M") lives here, so the CLI, Lua and the
//! monitor accept exactly the same spellings.

use std::fmt;

/// A property value or an action argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<i64>),
}

impl Value {
    /// A short description of the value for error messages (`string "abc"`).
    pub fn describe(&self) -> String {
        match self {
            Value::Nil => "nil".into(),
            Value::Bool(b) => format!("boolean {b}"),
            Value::Int(i) => format!("integer {i}"),
            Value::Str(s) => format!("string \"{s}\""),
            Value::List(l) => format!("a list of {} integers", l.len()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
            Value::List(l) => {
                let items: Vec<String> = l.iter().map(|v| format!("0x{v:x}")).collect();
                write!(f, "{{{}}}", items.join(", "))
            }
        }
    }
}

/// The type of a property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// An unsigned integer from 0 to `max`.
    Integer {
        max: u64,
    },
    /// An unsigned integer from `min` to `max` (a property where 0 makes no
    /// sense, such as `ips`).
    Bounded {
        min: u64,
        max: u64,
    },
    Boolean,
    String,
    /// A string, or nil for none (an empty string is nil too, so that
    /// `--set drive.ide2.file=` empties a drive).
    OptionalString,
    /// A byte count; accepts an integer or a string such as "16M".
    Size,
    /// A list of integers (read-only properties only).
    IntegerList,
}

impl ValueType {
    /// The name used in documentation and error messages.
    pub fn name(self) -> String {
        match self {
            ValueType::Integer { max } => format!("integer (0 to 0x{max:x})"),
            ValueType::Bounded { min, max } => format!("integer ({min} to 0x{max:x})"),
            ValueType::Boolean => "boolean".into(),
            ValueType::String => "string".into(),
            ValueType::OptionalString => "string or nil".into(),
            ValueType::Size => "size (bytes, or a string like \"16M\")".into(),
            ValueType::IntegerList => "list of integers".into(),
        }
    }

    /// Converts `v` to this type, or says what was expected.
    pub fn coerce(self, v: Value) -> Result<Value, String> {
        let expected = || format!("expected {}, got {}", self.name(), v.describe());
        match self {
            ValueType::Integer { max } | ValueType::Bounded { max, .. } => {
                let min = match self {
                    ValueType::Bounded { min, .. } => min,
                    _ => 0,
                };
                let n = match &v {
                    Value::Int(i) => *i,
                    Value::Str(s) => parse_int(s).map_err(|e| format!("{e}; {}", expected()))?,
                    _ => return Err(expected()),
                };
                if n < 0 || (n as u64) < min || n as u64 > max {
                    return Err(format!("{n} is out of range; {}", expected()));
                }
                Ok(Value::Int(n))
            }
            ValueType::Boolean => match &v {
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::Str(s) => match s.to_ascii_lowercase().as_str() {
                    "true" | "on" | "yes" | "1" => Ok(Value::Bool(true)),
                    "false" | "off" | "no" | "0" => Ok(Value::Bool(false)),
                    _ => Err(expected()),
                },
                _ => Err(expected()),
            },
            ValueType::String => match v {
                Value::Str(s) => Ok(Value::Str(s)),
                _ => Err(expected()),
            },
            ValueType::OptionalString => match v {
                Value::Nil => Ok(Value::Nil),
                Value::Str(s) if s.is_empty() => Ok(Value::Nil),
                Value::Str(s) => Ok(Value::Str(s)),
                _ => Err(expected()),
            },
            ValueType::Size => match &v {
                Value::Int(i) if *i >= 0 => Ok(Value::Int(*i)),
                Value::Str(s) => parse_size(s).map(|n| Value::Int(n as i64)),
                _ => Err(expected()),
            },
            ValueType::IntegerList => Err("list properties cannot be set".into()),
        }
    }
}

/// Parses an integer: decimal, `0x` hex, `0o` octal or `0b` binary, with
/// optional `_` separators.
pub fn parse_int(text: &str) -> Result<i64, String> {
    let t: String = text.trim().chars().filter(|&c| c != '_').collect();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    let parsed = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8)
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2)
    } else {
        lower.parse::<i64>()
    };
    match parsed {
        Ok(n) if neg => Ok(-n),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a number")),
    }
}

/// Parses a size: a number (as [`parse_int`]) with an optional suffix K, M or
/// G (powers of 1024; `KiB`/`KB`-style spellings are accepted too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = || {
        format!("bad size '{text}': expected a number of bytes with an optional K, M or G suffix, like \"16M\"")
    };
    let digits_end = t
        .find(|c: char| c.is_ascii_alphabetic() && !t.starts_with("0x"))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(bad()),
    };
    let n = parse_int(num).map_err(|_| bad())?;
    if n < 0 {
        return Err(format!("bad size '{text}': a size cannot be negative"));
    }
    (n as u64)
        .checked_mul(1 << shift)
        .filter(|&v| v <= i64::MAX as u64)
        .ok_or_else(bad)
}

/// Parses a duration into nanoseconds: a number with a unit, `ns`, `us`,
/// `ms`, `s`, `m` (minutes) or `h` ("2s", "150ms", "1.5s"); a bare number
/// is seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = || {
        format!("bad duration '{text}': expected a number with a unit (ns, us, ms, s, m, h), like \"2s\" or \"150ms\"")
    };
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "" | "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return Err(bad()),
    };
    let n: f64 = num.trim().parse().map_err(|_| bad())?;
    seconds_scaled(n, scale).ok_or_else(bad)
}

/// `n * scale` nanoseconds, when that is a finite, non-negative count.
pub fn seconds_scaled(n: f64, scale: f64) -> Option<u64> {
    let ns = n * scale;
    (0.0..1.8e19).contains(&ns).then(|| ns.round() as u64)
}

/// Formats a byte count the way [`parse_size`] reads it ("16M" when exact).
pub fn format_size(n: u64) -> String {
    for (shift, s) in [(30, "G"), (20, "M"), (10, "K")] {
        if n != 0 && n.is_multiple_of(1 << shift) {
            return format!("{}{s}", n >> shift);
        }
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("0x1000"), Ok(4096));
        assert!(parse_size("16Q").unwrap_err().contains("bad size '16Q'"));
        assert_eq!(
            parse_size("-1").unwrap_err(),
            "bad size '-1': a size cannot be negative"
        );
        assert!(parse_size("").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("-1M").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert_eq!(format_size(16 << 20), "16M");
        assert_eq!(format_size(1000), "1000");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Ok(2_000_000_000));
        assert_eq!(parse_duration("150ms"), Ok(150_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("10us"), Ok(10_000));
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert_eq!(parse_duration("3"), Ok(3_000_000_000));
        assert_eq!(parse_duration("1m"), Ok(60_000_000_000));
        assert!(parse_duration("2 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int("0x7c00"), Ok(0x7c00));
        assert_eq!(parse_int("1_000"), Ok(1000));
        assert_eq!(parse_int("0b101"), Ok(5));
        assert!(parse_int("abc").is_err());
        let t = ValueType::Integer { max: 0xFFFF };
        assert_eq!(t.coerce(Value::Str("0x10".into())), Ok(Value::Int(16)));
        assert!(t.coerce(Value::Int(0x10000)).is_err());
        assert!(t.coerce(Value::Int(-1)).is_err());
        assert!(t
            .coerce(Value::Str("twelve".into()))
            .unwrap_err()
            .contains("not a number"));
    }

    #[test]
    fn bounded_integers_refuse_values_below_their_minimum() {
        let t = ValueType::Bounded { min: 1, max: 100 };
        assert_eq!(t.coerce(Value::Int(1)), Ok(Value::Int(1)));
        let e = t.coerce(Value::Int(0)).unwrap_err();
        assert!(
            e.contains("0 is out of range") && e.contains("integer (1 to 0x64)"),
            "{e}"
        );
        assert!(t.coerce(Value::Str("0".into())).is_err());
        assert!(t.coerce(Value::Int(101)).is_err());
    }
}
