//! Guest exceptions as values ([`Fault`]), their error codes and classes,
//! and [`Cpu::raise`], the one place that turns a fault into a control
//! transfer: it delivers through the IVT (real mode) or the IDT (protected
//! and virtual-8086 mode, `interrupt.rs`), combining a fault raised while
//! delivering another into a double fault, and a fault while delivering a
//! double fault into shutdown, by the benign / contributory / page-fault
//! classes of the SDM. Instruction semantics only *return* faults.

use super::bus::Bus;
use super::interrupt::Source;
use super::shutdown::{Raised, ShutdownCause};
use super::{Cpu, StepOutcome};

/// A guest exception raised by an instruction (a value, never a panic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// #DE, divide error (vector 0).
    De,
    /// #DB, debug (vector 1).
    Db,
    /// #BR, BOUND range exceeded (vector 5).
    Br,
    /// #UD, invalid opcode (vector 6).
    Ud,
    /// #NM, device not available (vector 7).
    Nm,
    /// #DF, double fault (vector 8, error code 0).
    Df,
    /// #TS, invalid TSS with its error code (vector 10).
    Ts(u16),
    /// #NP, segment not present with its error code (vector 11).
    Np(u16),
    /// #SS, stack-segment fault with its error code (vector 12).
    Ss(u16),
    /// #GP, general protection with its error code (vector 13).
    Gp(u16),
    /// #PF, page fault (vector 14): the linear address (for CR2) and the
    /// error code (bit 0 protection violation, bit 1 write, bit 2 user).
    Pf { addr: u32, code: u16 },
    /// #MF, x87 floating-point error (vector 16).
    Mf,
    /// #AC, alignment check (vector 17): a misaligned data access at CPL 3
    /// with CR0.AM and EFLAGS.AC set (486 and later); error code 0.
    Ac,
}

/// How an exception combines with one raised while delivering it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Benign,
    Contributory,
    PageFault,
    DoubleFault,
}

impl Fault {
    /// The interrupt vector of this exception.
    pub fn vector(self) -> u8 {
        match self {
            Fault::De => 0,
            Fault::Db => 1,
            Fault::Br => 5,
            Fault::Ud => 6,
            Fault::Nm => 7,
            Fault::Df => 8,
            Fault::Ts(_) => 10,
            Fault::Np(_) => 11,
            Fault::Ss(_) => 12,
            Fault::Gp(_) => 13,
            Fault::Pf { .. } => 14,
            Fault::Mf => 16,
            Fault::Ac => 17,
        }
    }

    /// The error code protected mode pushes with this exception, if any.
    pub fn error_code(self) -> Option<u16> {
        match self {
            Fault::Df | Fault::Ac => Some(0),
            Fault::Ts(c) | Fault::Np(c) | Fault::Ss(c) | Fault::Gp(c) => Some(c),
            Fault::Pf { code, .. } => Some(code),
            _ => None,
        }
    }

    fn class(self) -> Class {
        match self {
            Fault::De | Fault::Ts(_) | Fault::Np(_) | Fault::Ss(_) | Fault::Gp(_) => {
                Class::Contributory
            }
            Fault::Pf { .. } => Class::PageFault,
            Fault::Df => Class::DoubleFault,
            _ => Class::Benign,
        }
    }

    /// What to deliver when `second` is raised while delivering `self`:
    /// `None` means shutdown.
    fn combine(self, second: Fault) -> Option<Fault> {
        use Class::*;
        match (self.class(), second.class()) {
            (DoubleFault, _) => None,
            (Contributory, Contributory) | (PageFault, Contributory | PageFault) => Some(Fault::Df),
            _ => Some(second),
        }
    }
}

impl Cpu {
    /// Delivers an exception raised by the instruction at `self.eip` (for
    /// faults) or after it (for traps), escalating to a double fault and
    /// to shutdown.
    pub(crate) fn raise<B: Bus + ?Sized>(&mut self, bus: &mut B, first: Fault) -> StepOutcome {
        let mut current = first;
        let mut chain = vec![Raised {
            vector: first.vector(),
            error_code: first.error_code(),
            delivering: None,
        }];
        // Benign -> contributory -> #DF -> shutdown: at most a few rounds.
        for _ in 0..4 {
            if let Fault::Pf { addr, .. } = current {
                self.cr2 = addr;
            }
            let ret = self.eip;
            let code = current.error_code();
            match self.deliver(bus, current.vector(), Source::Exception, code, ret) {
                Ok(()) => return StepOutcome::Executed,
                Err(second) => {
                    chain.push(Raised {
                        vector: second.vector(),
                        error_code: second.error_code(),
                        delivering: Some(current.vector()),
                    });
                    match current.combine(second) {
                        Some(next) => current = next,
                        None => break,
                    }
                }
            }
        }
        self.halted = true;
        self.shutdown = true;
        self.shutdown_cause = Some(ShutdownCause {
            cs: self.segs[super::SegReg::Cs as usize].selector,
            eip: self.eip,
            interrupt: None,
            faults: chain,
        });
        StepOutcome::Shutdown
    }
}
