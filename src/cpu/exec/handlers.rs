//! The fast forms (`fast.rs`) as functions, one per kind, operation and
//! width, in one table a trace (`cpu/traces.rs`) indexes. Each is the fast
//! path's own code with its kind, width and (for ALU operations,
//! INC/DEC/NOT/NEG and MOVZX/MOVSX) operation fixed, so its matches and
//! masks fold away and an instruction costs one indirect call from the run
//! loop (`cpu/cached_run.rs`) instead of a dispatch on its kind and
//! another on its operation; small functions also keep the loop's
//! registers its own.

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::Cpu;
use super::fast::{Form, Kind};
use super::Flow;
use crate::x86::{Insn, Mn};
use std::marker::PhantomData;

/// A fast form's handler: runs `insn` (its form given) inside a run.
pub(crate) type Handler<B> = fn(&mut Cpu, &mut B, &Insn, Form) -> Result<Flow, Fault>;

/// The operations a handler is made for, by index: the ALU operations
/// (0-8), INC/DEC/NOT/NEG (9-12), MOVZX/MOVSX (13-14). A handler whose
/// index is past the end takes the operation from the form.
const OPS: [Mn; 15] = [
    Mn::Add,
    Mn::Or,
    Mn::Adc,
    Mn::Sbb,
    Mn::And,
    Mn::Sub,
    Mn::Xor,
    Mn::Cmp,
    Mn::Test,
    Mn::Inc,
    Mn::Dec,
    Mn::Not,
    Mn::Neg,
    Mn::Movzx,
    Mn::Movsx,
];

/// The fast form of kind `Kind::ALL[K]` and operation `OPS[M]` (any, past
/// the end), `N` bytes wide.
fn handler<const K: usize, const M: usize, const N: u8, B: Bus + ?Sized>(
    cpu: &mut Cpu,
    bus: &mut B,
    insn: &Insn,
    f: Form,
) -> Result<Flow, Fault> {
    let f = f.with_kind(Kind::ALL[K]);
    let f = match OPS.get(M) {
        Some(&mn) => f.with_mn(mn),
        None => f,
    };
    cpu.execute_sized::<N, true, B>(bus, insn, f)
}

/// The handlers for a bus type.
pub(crate) struct Handlers<B: ?Sized>(PhantomData<B>);

/// Lists the handlers' (kind, operation) pairs once: as [`PAIRS`], and as
/// the table of handlers, three widths (1, 2, 4 bytes) a pair.
macro_rules! handlers {
    ($(($k:literal, $m:literal))*) => {
        /// The (kind, operation) of each row of [`Handlers::TABLE`].
        const PAIRS: &[(usize, usize)] = &[$(($k, $m)),*];

        impl<B: Bus + ?Sized> Handlers<B> {
            /// Three entries a pair of [`PAIRS`]: byte, word, dword.
            pub const TABLE: [Handler<B>; 3 * PAIRS.len()] = [
                $(handler::<$k, $m, 1, B>, handler::<$k, $m, 2, B>, handler::<$k, $m, 4, B>,)*
            ];
        }
    };
}

handlers! {
    (0, 15) (1, 0) (1, 1) (1, 2) (1, 3) (1, 4) (1, 5) (1, 6) (1, 7) (1, 8) (2, 0) (2, 1) (2, 2)
    (2, 3) (2, 4) (2, 5) (2, 6) (2, 7) (2, 8) (3, 0) (3, 1) (3, 2) (3, 3) (3, 4) (3, 5) (3, 6)
    (3, 7) (3, 8) (4, 0) (4, 1) (4, 2) (4, 3) (4, 4) (4, 5) (4, 6) (4, 7) (4, 8) (5, 0) (5, 1)
    (5, 2) (5, 3) (5, 4) (5, 5) (5, 6) (5, 7) (5, 8) (6, 15) (7, 15) (8, 15) (9, 15) (10, 15)
    (11, 15) (12, 9) (12, 10) (12, 11) (12, 12) (13, 9) (13, 10) (13, 11) (13, 12) (14, 13)
    (14, 14) (15, 13) (15, 14) (16, 15) (17, 15) (18, 15) (19, 15) (20, 15) (21, 15) (22, 15)
    (23, 15) (24, 15) (25, 15) (26, 15) (27, 15) (28, 15) (29, 15) (30, 15) (31, 15) (32, 15)
    (33, 15)
}

/// Where `form`'s handler is in [`Handlers::TABLE`].
pub(crate) fn index_of(form: Form) -> Option<u16> {
    let (kind, mn, width) = (form.kind() as usize, form.mn(), form.width_index());
    let row = PAIRS
        .iter()
        .position(|&(k, m)| k == kind && OPS.get(m).is_none_or(|&op| op == mn))?;
    u16::try_from(row * 3 + usize::from(width)).ok()
}

#[cfg(test)]
mod tests {
    use super::{Kind, OPS, PAIRS};

    #[test]
    fn every_kind_has_a_handler_and_each_pair_is_listed_once() {
        for k in 0..Kind::ALL.len() {
            assert!(
                PAIRS.iter().any(|&(kind, _)| kind == k),
                "{:?}",
                Kind::ALL[k]
            );
        }
        for (i, p) in PAIRS.iter().enumerate() {
            assert!(!PAIRS[..i].contains(p), "{p:?} twice");
            assert!(p.1 <= OPS.len(), "{p:?}");
        }
    }
}
