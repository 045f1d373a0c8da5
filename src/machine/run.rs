//! The run loop: execute instructions straight up to the next device event,
//! poll the devices after any port access and at each event, deliver the
//! PIC's interrupts at instruction boundaries, let a halted CPU sleep until
//! the next event, and say why it stopped.

use super::Machine;
use crate::cpu::StepOutcome;
use serde::{Deserialize, Serialize};
use std::fmt;

const IF: u32 = 1 << 9;

/// Why the guest stopped itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HaltReason {
    /// HLT with interrupts disabled: nothing can wake the CPU.
    Hlt,
    /// The CPU shut down (a fault while delivering a double fault).
    Shutdown,
    /// The guest wrote the exit port; the value is the exit status `(v << 1) | 1`.
    Exit(u32),
    /// The guest asked for a reset (keyboard controller command 0xFE or port 0x92).
    Reset,
}

impl HaltReason {
    /// A short machine-readable name: "hlt", "shutdown", "exit" or "reset".
    pub fn name(self) -> &'static str {
        match self {
            HaltReason::Hlt => "hlt",
            HaltReason::Shutdown => "shutdown",
            HaltReason::Exit(_) => "exit",
            HaltReason::Reset => "reset",
        }
    }
}

impl fmt::Display for HaltReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HaltReason::Hlt => f.write_str("HLT with interrupts disabled"),
            HaltReason::Shutdown => f.write_str("CPU shutdown (triple fault)"),
            HaltReason::Exit(code) => write!(f, "exit port written, exit status {code}"),
            HaltReason::Reset => f.write_str("the guest asked for a reset"),
        }
    }
}

/// Why [`Machine::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunExit {
    /// The instruction budget was spent.
    Budget,
    /// The guest stopped itself.
    Halted(HaltReason),
    /// HLT with interrupts enabled, and no device will ever raise one.
    Idle,
}

impl Machine {
    fn takes_interrupt(&self) -> bool {
        self.intr && self.cpu.eflags() & IF != 0 && !self.cpu.interrupt_shadow()
    }

    /// Executes at most `budget` instructions.
    pub fn run(&mut self, budget: u64) -> RunExit {
        let mut done = 0u64;
        loop {
            if self.takes_interrupt() {
                let vector = self.board.io.pic.acknowledge();
                self.intr = self.board.io.pic.intr();
                if self.cpu.interrupt(&mut self.board, vector) == StepOutcome::Shutdown {
                    return RunExit::Halted(HaltReason::Shutdown);
                }
            }
            if done >= budget {
                return RunExit::Budget;
            }
            let now = self.board.clock.ticks();
            if self.next_event_tick.is_some_and(|t| t <= now) {
                if let Some(h) = self.sync() {
                    return RunExit::Halted(h);
                }
                continue;
            }
            if self.cpu.is_halted() {
                if self.cpu.eflags() & IF == 0 {
                    return RunExit::Halted(HaltReason::Hlt);
                }
                // Sleep until the next device event; none means none ever comes.
                match self.next_event_tick {
                    Some(t) => {
                        self.board.clock.advance_to(t);
                        if let Some(h) = self.sync() {
                            return RunExit::Halted(h);
                        }
                        continue;
                    }
                    None => return RunExit::Idle,
                }
            }
            let until_event = self.next_event_tick.map_or(u64::MAX, |t| t - now);
            let chunk = (budget - done).min(until_event);
            for _ in 0..chunk {
                let outcome = self.cpu.step(&mut self.board);
                self.board.clock.advance(1);
                self.icount += 1;
                done += 1;
                let touched = std::mem::take(&mut self.board.io_touched);
                if touched {
                    // The access may have moved the next event earlier.
                    if let Some(h) = self.sync() {
                        return RunExit::Halted(h);
                    }
                }
                match outcome {
                    StepOutcome::Executed => {}
                    StepOutcome::Shutdown => return RunExit::Halted(HaltReason::Shutdown),
                    StepOutcome::Halted => {
                        // HLT, or an FPU instruction frozen on an unmasked
                        // exception (FERR# must reach the PIC first).
                        if let Some(h) = self.sync() {
                            return RunExit::Halted(h);
                        }
                        if self.cpu.eflags() & IF == 0 {
                            return RunExit::Halted(HaltReason::Hlt);
                        }
                        break;
                    }
                }
                if touched || (self.intr && self.takes_interrupt()) {
                    break;
                }
            }
        }
    }
}
