//! The fast forms (`fast.rs`) as functions, one per kind, operation and
//! width, in one table a trace (`cpu/traces.rs`) indexes. Each is the fast
//! path's own code with its kind, width and (for ALU operations,
//! INC/DEC/NOT/NEG, MOVZX/MOVSX and shifts) operation fixed, so its matches and
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

/// The operations a handler is made for: the ALU operations,
/// INC/DEC/NOT/NEG, MOVZX/MOVSX and the shifts and rotates. A handler made
/// for none (index `usize::MAX`) takes the operation from the form.
const OPS: [Mn; 23] = [
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
    Mn::Rol,
    Mn::Ror,
    Mn::Rcl,
    Mn::Rcr,
    Mn::Shl,
    Mn::Shr,
    Mn::Sal,
    Mn::Sar,
];

/// `mn`'s index in [`OPS`] (a compile-time error if it is not there).
const fn op_index(mn: Mn) -> usize {
    let mut i = 0;
    while i < OPS.len() {
        if OPS[i] as u16 == mn as u16 {
            return i;
        }
        i += 1;
    }
    panic!("not an operation with handlers of its own")
}

/// The fast form of kind `Kind::ALL[K]` and operation `OPS[M]` (any, for
/// `usize::MAX`), `N` bytes wide.
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

/// The operation index of a pair: `Any` or an [`Mn`] of [`OPS`].
macro_rules! op {
    (Any) => {
        usize::MAX
    };
    ($m:ident) => {
        op_index(Mn::$m)
    };
}

/// Lists the (kind, operation) pairs with handlers of their own once: as
/// [`PAIRS`], and as the table of handlers, three widths (1, 2, 4 bytes) a
/// pair.
macro_rules! handlers {
    ($($k:ident: $($m:ident)+;)*) => {
        /// The (kind, operation) of each row of [`Handlers::TABLE`].
        const PAIRS: &[(usize, usize)] = &[$($((Kind::$k as usize, op!($m)),)+)*];

        impl<B: Bus + ?Sized> Handlers<B> {
            /// Three entries a pair of [`PAIRS`]: byte, word, dword.
            pub const TABLE: [Handler<B>; 3 * PAIRS.len()] = [$($(
                handler::<{ Kind::$k as usize }, { op!($m) }, 1, B>,
                handler::<{ Kind::$k as usize }, { op!($m) }, 2, B>,
                handler::<{ Kind::$k as usize }, { op!($m) }, 4, B>,
            )+)*];
        }
    };
}

handlers! {
    General: Any;
    AluRR: Add Or Adc Sbb And Sub Xor Cmp Test;
    AluRI: Add Or Adc Sbb And Sub Xor Cmp Test;
    AluRM: Add Or Adc Sbb And Sub Xor Cmp Test;
    AluMR: Add Or Adc Sbb And Sub Xor Cmp Test;
    AluMI: Add Or Adc Sbb And Sub Xor Cmp Test;
    MovRR: Any;
    MovRI: Any;
    MovRM: Any;
    MovMR: Any;
    MovMI: Any;
    Lea: Any;
    UnaryR: Inc Dec Not Neg;
    UnaryM: Inc Dec Not Neg;
    ExtendR: Movzx Movsx;
    ExtendM: Movzx Movsx;
    PushR: Any;
    PushI: Any;
    PopR: Any;
    Jcc: Any;
    Jmp: Any;
    Call: Any;
    Ret: Any;
    Shift: Any;
    Bits: Any;
    MulDiv: Any;
    Imul: Any;
    Xchg: Any;
    Convert: Any;
    Setcc: Any;
    Newer: Any;
    NearBranch: Any;
    String: Any;
    FlagOp: Any;
    ShiftR: Rol Ror Rcl Rcr Shl Shr Sal Sar;
    SetccR: Any;
    CmovR: Any;
    CmovM: Any;
    ImulR: Any;
    ImulM: Any;
    ImulRI: Any;
    ImulMI: Any;
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
            assert!(p.1 < OPS.len() || p.1 == usize::MAX, "{p:?}");
        }
    }
}
