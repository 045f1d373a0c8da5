//! The run loop: execute instructions until a budget is spent or the guest
//! stops itself, and say which.

use super::Machine;
use crate::cpu::StepOutcome;
use std::fmt;

/// Why the guest stopped itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltReason {
    /// HLT with interrupts disabled: nothing can wake the CPU.
    Hlt,
    /// The CPU shut down (a fault while delivering a double fault).
    Shutdown,
    /// The guest wrote the exit port; the value is the exit status `(v << 1) | 1`.
    Exit(u32),
}

impl HaltReason {
    /// A short machine-readable name: "hlt", "shutdown" or "exit".
    pub fn name(self) -> &'static str {
        match self {
            HaltReason::Hlt => "hlt",
            HaltReason::Shutdown => "shutdown",
            HaltReason::Exit(_) => "exit",
        }
    }
}

impl fmt::Display for HaltReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HaltReason::Hlt => f.write_str("HLT with interrupts disabled"),
            HaltReason::Shutdown => f.write_str("CPU shutdown (triple fault)"),
            HaltReason::Exit(code) => write!(f, "exit port written, exit status {code}"),
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
    /// HLT with interrupts enabled, and nothing on the board can raise one.
    Idle,
}

impl Machine {
    /// Executes at most `budget` instructions.
    pub fn run(&mut self, budget: u64) -> RunExit {
        let mut done = 0;
        while done < budget {
            let was_halted = self.cpu.is_halted();
            let outcome = self.cpu.step(&mut self.board);
            if !was_halted {
                self.icount += 1;
                done += 1;
            }
            if let Some(status) = self.board.io.exit.take_request() {
                return RunExit::Halted(HaltReason::Exit(status));
            }
            match outcome {
                StepOutcome::Executed => {}
                StepOutcome::Shutdown => return RunExit::Halted(HaltReason::Shutdown),
                StepOutcome::Halted => {
                    const IF: u32 = 1 << 9;
                    return if self.cpu.eflags() & IF == 0 {
                        RunExit::Halted(HaltReason::Hlt)
                    } else {
                        RunExit::Idle
                    };
                }
            }
        }
        RunExit::Budget
    }
}
