//! The fast forms (`fast.rs`) as functions, one per kind and width, in a
//! table a trace (`cpu/traces.rs`) indexes by [`Form::handler_index`].
//! Each is the fast path's own code with the kind and width fixed, so its
//! match and masks fold away, and the run loop (`cpu/cached_run.rs`) calls
//! it through a pointer instead of dispatching twice inline; small
//! functions also keep the loop's registers its own.

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::Cpu;
use super::fast::{Form, Kind};
use super::Flow;
use crate::x86::Insn;
use std::marker::PhantomData;

/// A fast form's handler: runs `insn` (its form given) inside a run.
pub(crate) type Handler<B> = fn(&mut Cpu, &mut B, &Insn, Form) -> Result<Flow, Fault>;

/// The fast form of kind `Kind::ALL[K]`, `N` bytes wide.
fn handler<const K: usize, const N: u8, B: Bus + ?Sized>(
    cpu: &mut Cpu,
    bus: &mut B,
    insn: &Insn,
    f: Form,
) -> Result<Flow, Fault> {
    cpu.execute_sized::<N, true, B>(bus, insn, f.with_kind(Kind::ALL[K]))
}

/// The handlers for a bus type.
pub(crate) struct Handlers<B: ?Sized>(PhantomData<B>);

macro_rules! rows {
    ($($k:literal)*) => {
        [$([handler::<$k, 1, B>, handler::<$k, 2, B>, handler::<$k, 4, B>]),*]
    };
}

impl<B: Bus + ?Sized> Handlers<B> {
    /// By kind, then width (0: byte, 1: word, 2: dword).
    pub const TABLE: [[Handler<B>; 3]; Kind::ALL.len()] = rows!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33);
}
