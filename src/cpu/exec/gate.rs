//! The checks every instruction passes before it runs, driven by its
//! opcode row's facts (`x86/facts.rs`) and operands, in the order the
//! processor makes them: an instruction the model lacks, a LOCK it does
//! not take, a register where only memory will do, or a protected-mode
//! instruction outside protected mode is #UD; then an instruction that
//! needs CPL 0 is #GP(0) at any other level. The instruction families
//! under `exec/` then check only what is theirs alone.

use super::super::fault::Fault;
use super::super::{Cpu, Model};
use crate::x86::facts::Lock;
use crate::x86::{Insn, Opnd};

/// Whether `insn`'s LOCK prefix is allowed on `model`: a lockable
/// instruction whose destination (its first operand) is memory.
fn lock_allowed(insn: &Insn, model: Model) -> bool {
    let lockable = match insn.facts.lock() {
        Lock::Never => false,
        Lock::Memory => true,
        Lock::Memory386 => model == Model::I386,
    };
    lockable
        && insn.mem.is_some()
        && matches!(insn.ops.first(), Some(Opnd::Eb | Opnd::Ev | Opnd::Mq))
}

/// Whether `insn` has an operand that must be memory.
fn needs_memory(insn: &Insn) -> bool {
    insn.ops
        .iter()
        .any(|o| matches!(o, Opnd::M | Opnd::Mp | Opnd::Ma | Opnd::Ms | Opnd::Mq))
}

/// Whether the gate passes `insn` on `model` in every mode and at every
/// privilege level: no LOCK prefix, an instruction the model has, memory
/// where memory is required, and neither a protected-mode nor a CPL 0
/// requirement (the interpreter's fast forms, `fast.rs`, are given only to
/// such instructions).
pub(super) fn always_passes(insn: &Insn, model: Model) -> bool {
    let f = insn.facts;
    !insn.lock
        && model.has(f.since())
        && (insn.mem.is_some() || !needs_memory(insn))
        && !f.protected_only()
        && !f.cpl0()
}

impl Cpu {
    pub(super) fn gate(&self, insn: &Insn) -> Result<(), Fault> {
        let f = insn.facts;
        // The 286 model never raises #UD for LOCK.
        let bad_lock = insn.lock && self.model != Model::I286 && !lock_allowed(insn, self.model);
        if !self.model.has(f.since())
            || bad_lock
            || (needs_memory(insn) && insn.mem.is_none())
            || (f.protected_only() && !self.protected())
        {
            return Err(Fault::Ud);
        }
        if f.cpl0() && self.cpl() != 0 {
            return Err(Fault::Gp(0));
        }
        Ok(())
    }
}
