//! Guest exceptions as values ([`Fault`]) and their delivery through the
//! real-mode interrupt vector table, including the double-fault and
//! shutdown rules. Instruction semantics only *return* faults; this module
//! is the one place that turns them into control transfers.

use super::bus::Bus;
use super::flags::{AC, IF, RF, TF};
use super::{Cpu, SegReg, StepOutcome};

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
    /// #DF, double fault (vector 8).
    Df,
    /// #SS, stack-segment fault with its error code (vector 12).
    Ss(u16),
    /// #GP, general protection with its error code (vector 13).
    Gp(u16),
    /// #MF, x87 floating-point error (vector 16).
    Mf,
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
            Fault::Ss(_) => 12,
            Fault::Gp(_) => 13,
            Fault::Mf => 16,
        }
    }

    /// Contributory exceptions combine into a double fault.
    fn contributory(self) -> bool {
        matches!(self, Fault::De | Fault::Ss(_) | Fault::Gp(_))
    }
}

impl Cpu {
    /// Transfers control through IVT entry `vector` as INT does: pushes
    /// FLAGS, CS and `ret_ip`, clears IF and TF, loads CS:IP from the IVT.
    /// On failure ESP is left as it was.
    pub(crate) fn deliver_real<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        vector: u8,
        ret_ip: u32,
    ) -> Result<(), Fault> {
        let off = u32::from(vector) * 4;
        if off + 3 > self.idtr_limit {
            return Err(Fault::Gp(u16::from(vector) * 8 + 2));
        }
        let entry = self.idtr_base.wrapping_add(off);
        let new_ip = bus.read_u16(entry);
        let new_cs = bus.read_u16(entry.wrapping_add(2));
        let esp = self.gpr[4];
        let flags = self.eflags();
        let cs = self.segs[SegReg::Cs as usize].selector;
        let pushed = self
            .push(bus, 2, flags & 0xFFFF)
            .and_then(|_| self.push(bus, 2, u32::from(cs)))
            .and_then(|_| self.push(bus, 2, ret_ip & 0xFFFF));
        if let Err(f) = pushed {
            self.gpr[4] = esp;
            return Err(f);
        }
        self.eflags &= !(IF | TF | AC | RF);
        self.load_segment_real(SegReg::Cs, new_cs);
        self.eip = u32::from(new_ip);
        Ok(())
    }

    /// Delivers an exception raised by the instruction at `self.eip` (for
    /// faults) or after it (for traps), escalating to a double fault and
    /// to shutdown as the 386 does.
    pub(crate) fn raise<B: Bus + ?Sized>(&mut self, bus: &mut B, first: Fault) -> StepOutcome {
        let mut current = first;
        // Benign -> contributory -> #DF -> shutdown: at most a few rounds.
        for _ in 0..4 {
            let ret = self.eip;
            match self.deliver_real(bus, current.vector(), ret) {
                Ok(()) => return StepOutcome::Executed,
                Err(second) => {
                    if current == Fault::Df {
                        break;
                    }
                    current = if current.contributory() && second.contributory() {
                        Fault::Df
                    } else {
                        second
                    };
                }
            }
        }
        self.halted = true;
        self.shutdown = true;
        StepOutcome::Shutdown
    }
}
