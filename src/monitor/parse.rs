//! The small languages of monitor arguments: addresses (numbers, `$eax`
//! style registers, `+`/`-` between terms, and `SEG:OFF`), gdb's `/NFU`
//! (count, format, unit) after `x` and `xp`, and counts and bounds.

use super::error::MonitorError;
use crate::control::{parse_duration, parse_int, Registers};

/// How `x` shows memory: gdb's count, format letter and unit size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub count: u64,
    /// x d u o t a c i s
    pub letter: char,
    /// Bytes per item: 1 (b), 2 (h), 4 (w) or 8 (g).
    pub unit: u8,
}

/// The format letters `x` knows.
pub const LETTERS: &str = "xduotacis";
/// Items one `x` may show.
pub const MAX_ITEMS: u64 = 4096;

/// Parses what follows the `/` of `x/NFU`: an optional count, then format
/// and unit letters in either order. What is not given comes from `last`.
pub fn format(spec: &str, last: Format) -> Result<Format, MonitorError> {
    let bad = |reason: String| MonitorError::BadFormat {
        text: spec.to_string(),
        reason,
    };
    let digits: String = spec.chars().take_while(|c| c.is_ascii_digit()).collect();
    let count = if digits.is_empty() {
        1
    } else {
        digits
            .parse::<u64>()
            .map_err(|_| bad(format!("the count {digits} is too large")))?
    };
    if count == 0 || count > MAX_ITEMS {
        return Err(bad(format!("the count must be 1..{MAX_ITEMS}")));
    }
    let mut f = Format { count, ..last };
    let (mut letter, mut unit) = (None, None);
    for c in spec[digits.len()..].chars() {
        match c {
            'b' | 'h' | 'w' | 'g' if unit.is_none() => {
                unit = Some(match c {
                    'b' => 1,
                    'h' => 2,
                    'w' => 4,
                    _ => 8,
                })
            }
            c if LETTERS.contains(c) && letter.is_none() => letter = Some(c),
            c if c.is_ascii_digit() => {
                return Err(bad("the count comes first, as in x/4xw".into()))
            }
            c => {
                return Err(bad(format!(
                    "'{c}' is not a format (x d u o t a c i s) or a unit (b h w g), or it is given twice"
                )))
            }
        }
    }
    if let Some(l) = letter {
        f.letter = l;
        // As in gdb: `a` is address-sized, `c` a byte, unless a unit is given.
        match l {
            'a' => f.unit = 4,
            'c' => f.unit = 1,
            _ => {}
        }
    }
    if let Some(u) = unit {
        f.unit = u;
    }
    Ok(f)
}

/// The value of register `name` (without the `$`): 32-bit registers, their
/// 16-bit halves, `eip`/`pc` (`pc` is the linear CS base + EIP), `eflags`,
/// the selectors and the control registers.
pub fn register(regs: &Registers, name: &str) -> Option<u64> {
    const GPR: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
    const SEGS: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];
    let n = name.to_ascii_lowercase();
    if let Some(i) = GPR.iter().position(|r| *r == n) {
        return Some(u64::from(regs.gpr[i]));
    }
    if let Some(i) = GPR.iter().position(|r| r[1..] == n) {
        return Some(u64::from(regs.gpr[i] & 0xFFFF));
    }
    if let Some(i) = SEGS.iter().position(|r| *r == n) {
        return Some(u64::from(regs.segs[i].selector));
    }
    Some(u64::from(match n.as_str() {
        "eip" | "ip" => regs.eip,
        "pc" => regs.segs[1].base.wrapping_add(regs.eip),
        "eflags" | "flags" => regs.eflags,
        "cr0" => regs.cr0,
        "cr2" => regs.cr2,
        "cr3" => regs.cr3,
        "cr4" => regs.cr4,
        _ => return None,
    }))
}

/// The base of segment register `name` (`cs`, `$ds`...).
fn segment_base(regs: &Registers, name: &str) -> Option<u64> {
    const SEGS: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];
    let n = name.trim_start_matches('$').to_ascii_lowercase();
    SEGS.iter()
        .position(|r| *r == n)
        .map(|i| u64::from(regs.segs[i].base))
}

fn term(text: &str, regs: &Registers) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("a term is missing".into());
    }
    if let Some(name) = t.strip_prefix('$') {
        return register(regs, name).ok_or_else(|| format!("there is no register ${name}"));
    }
    match parse_int(t) {
        Ok(n) if n >= 0 => Ok(n as u64),
        Ok(_) => Err(format!("{t} is negative")),
        Err(_) if t.chars().all(|c| c.is_ascii_alphabetic()) && register(regs, t).is_some() => {
            Err(format!("registers are written ${t}"))
        }
        Err(e) => Err(format!(
            "{e} (numbers are decimal or 0x hex; registers are $eax)"
        )),
    }
}

fn sum(text: &str, regs: &Registers) -> Result<u64, String> {
    let mut total: i128 = 0;
    let mut sign = 1i128;
    let mut start = 0;
    let bytes = text.as_bytes();
    for i in 0..=bytes.len() {
        if i == bytes.len() || (i > start && (bytes[i] == b'+' || bytes[i] == b'-')) {
            total += sign * i128::from(term(&text[start..i], regs)?);
            if i < bytes.len() {
                sign = if bytes[i] == b'+' { 1 } else { -1 };
            }
            start = i + 1;
        }
    }
    if !(0..1 << 32).contains(&total) {
        return Err(format!("0x{total:x} is outside the 4 GiB address space"));
    }
    Ok(total as u64)
}

/// Parses an address: `0x7c00`, `31744`, `$esp+8`, `$pc`, `0000:7c00`
/// (real-mode SEG:OFF, both in hex) or `ds:0x10` (a segment register's base
/// plus an offset, the offset in hex unless it says otherwise).
pub fn address(text: &str, regs: &Registers) -> Result<u64, MonitorError> {
    let bad = |reason: String| MonitorError::BadAddress {
        text: text.to_string(),
        reason,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("no address given".into()));
    }
    let hex = |s: &str| -> Result<u64, String> {
        let s = s.trim();
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()) {
            u64::from_str_radix(s, 16).map_err(|e| e.to_string())
        } else {
            sum(s, regs)
        }
    };
    if let Some((seg, off)) = t.split_once(':') {
        let base = match segment_base(regs, seg) {
            Some(b) => b,
            None => hex(seg).map_err(bad)? << 4,
        };
        let off = hex(off).map_err(bad)?;
        let lin = base + off;
        if lin >= 1 << 32 {
            return Err(bad("outside the 4 GiB address space".into()));
        }
        return Ok(lin);
    }
    sum(t, regs).map_err(bad)
}

/// A count argument (`step 10`, `disas ... 20`), 1..=max.
pub fn count(
    command: &'static str,
    text: &str,
    max: u64,
    usage: &str,
) -> Result<u64, MonitorError> {
    match parse_int(text) {
        Ok(n) if n >= 1 && n as u64 <= max => Ok(n as u64),
        _ => Err(MonitorError::Usage {
            command,
            reason: format!("'{text}' is not a count from 1 to {max}"),
            usage: usage.into(),
        }),
    }
}

/// How long `cont` may run: instructions or virtual time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Instructions(u64),
    /// Virtual nanoseconds.
    Time(u64),
}

/// `100000` (instructions) or `5s`, `20ms`... (virtual time).
pub fn bound(text: &str) -> Result<Bound, String> {
    if text.chars().all(|c| c.is_ascii_digit() || c == '_') || text.starts_with("0x") {
        return match parse_int(text) {
            Ok(n) if n > 0 => Ok(Bound::Instructions(n as u64)),
            _ => Err(format!("'{text}' is not a positive instruction count")),
        };
    }
    match parse_duration(text) {
        Ok(0) => Err("a time bound must be longer than zero".into()),
        Ok(ns) => Ok(Bound::Time(ns)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: Format = Format {
        count: 1,
        letter: 'x',
        unit: 4,
    };

    #[test]
    fn formats() {
        let f = format("4xb", DEFAULT).unwrap();
        assert_eq!((f.count, f.letter, f.unit), (4, 'x', 1));
        let f = format("2wd", DEFAULT).unwrap();
        assert_eq!((f.count, f.letter, f.unit), (2, 'd', 4));
        let f = format("i", DEFAULT).unwrap();
        assert_eq!((f.count, f.letter), (1, 'i'));
        assert!(format("4q", DEFAULT).is_err());
        assert!(format("0x", DEFAULT).is_err());
        assert!(format("x4", DEFAULT).is_err());
        assert!(format("xx", DEFAULT).is_err());
    }

    fn regs() -> Registers {
        let mut r = Registers {
            gpr: [0; 8],
            eip: 0x7c00,
            eflags: 2,
            segs: Default::default(),
            ldtr: Default::default(),
            tr: Default::default(),
            cr0: 0,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            gdtr: crate::control::TableRegister { base: 0, limit: 0 },
            idtr: crate::control::TableRegister { base: 0, limit: 0 },
            cpl: 0,
            mode: crate::control::hooks::CpuMode::Real,
            paging: false,
            halted: false,
            icount: 0,
        };
        r.gpr[4] = 0x1000;
        r.segs[3].base = 0x10000;
        r
    }

    #[test]
    fn addresses() {
        let r = regs();
        assert_eq!(address("0x7c00", &r).unwrap(), 0x7c00);
        assert_eq!(address("100", &r).unwrap(), 100);
        assert_eq!(address("$esp+8", &r).unwrap(), 0x1008);
        assert_eq!(address("$esp-0x10", &r).unwrap(), 0xff0);
        assert_eq!(address("$pc", &r).unwrap(), 0x7c00);
        assert_eq!(address("07c0:0010", &r).unwrap(), 0x7c10);
        assert_eq!(address("ds:10", &r).unwrap(), 0x10010);
        assert!(address("0x1_0000_0000", &r).is_err());
        assert!(address("$foo", &r).is_err());
        assert!(address("zork", &r).is_err());
        assert!(address("eax", &r).unwrap_err().to_string().contains("$eax"));
        assert!(address("", &r).is_err());
        assert!(address("-5", &r).is_err());
    }

    #[test]
    fn bounds() {
        assert_eq!(bound("1000"), Ok(Bound::Instructions(1000)));
        assert_eq!(bound("5s"), Ok(Bound::Time(5_000_000_000)));
        assert!(bound("5 parsecs").is_err());
    }
}
