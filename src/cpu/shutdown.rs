//! Why the CPU shut down: the exceptions that ended in a triple fault, in
//! the order they were raised, and where. A kernel that dies before it
//! has an IDT (a CPU feature it needs and the model lacks, a bad early
//! page table) leaves nothing else to go on, so the stop reason names the
//! instruction and each exception (`Cpu::shutdown_cause`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The exceptions a shutdown came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownCause {
    /// CS:EIP of the instruction that raised the first exception (the
    /// next instruction's for a trap or an external interrupt).
    pub cs: u16,
    pub eip: u32,
    /// The hardware interrupt whose delivery raised the first exception,
    /// if it was one.
    pub interrupt: Option<u8>,
    /// Each exception raised, first raised first.
    pub faults: Vec<Raised>,
}

/// One exception on the way to a shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Raised {
    pub vector: u8,
    pub error_code: Option<u16>,
    /// The exception being delivered when this one was raised (for all
    /// but the first): the one before, or the #DF they combined into.
    pub delivering: Option<u8>,
}

/// The mnemonic of exception `vector` (#GP, #PF, ...).
pub fn exception_name(vector: u8) -> String {
    const NAMES: [&str; 20] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS",
        "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
    ];
    NAMES
        .get(usize::from(vector))
        .map_or_else(|| format!("vector {vector}"), |n| (*n).to_string())
}

impl fmt::Display for ShutdownCause {
    /// `#GP(0x0) at 0010:00100234, then #GP(0x6a) delivering #GP, then
    /// #GP(0x42) delivering #DF`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.faults.iter().enumerate() {
            if i > 0 {
                f.write_str(", then ")?;
            }
            f.write_str(&exception_name(r.vector))?;
            if let Some(c) = r.error_code {
                write!(f, "(0x{c:x})")?;
            }
            match r.delivering {
                Some(v) => write!(f, " delivering {}", exception_name(v))?,
                None => {
                    if let Some(v) = self.interrupt {
                        write!(f, " delivering interrupt 0x{v:02x}")?;
                    }
                    write!(f, " at {:04x}:{:08x}", self.cs, self.eip)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raised(vector: u8, error_code: Option<u16>, delivering: Option<u8>) -> Raised {
        Raised {
            vector,
            error_code,
            delivering,
        }
    }

    #[test]
    fn a_cause_reads_as_the_chain_of_exceptions() {
        let c = ShutdownCause {
            cs: 0x10,
            eip: 0x10_0234,
            interrupt: None,
            faults: vec![
                raised(13, Some(0), None),
                raised(13, Some(0x6A), Some(13)),
                raised(13, Some(0x42), Some(8)),
            ],
        };
        assert_eq!(
            c.to_string(),
            "#GP(0x0) at 0010:00100234, then #GP(0x6a) delivering #GP, then #GP(0x42) delivering #DF"
        );
        let c = ShutdownCause {
            interrupt: Some(0x20),
            faults: vec![raised(11, Some(0x102), None)],
            ..c
        };
        assert_eq!(
            c.to_string(),
            "#NP(0x102) delivering interrupt 0x20 at 0010:00100234"
        );
        assert_eq!(exception_name(99), "vector 99");
    }
}
