//! The VM lifecycle: its states and how they are named.
//!
//! ```text
//!   off --power_on--> paused <--pause/resume--> running
//!    ^                  |  ^                       |
//!    +---power_off------+  +--------reset----------+
//!                   guest stops itself --> halted --reset--> paused
//!   any --destroy--> destroyed
//! ```

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VmState {
    /// Created or powered off: configurable, nothing executes.
    Off,
    /// Powered on and stopped at an instruction boundary.
    Paused,
    /// Powered on and allowed to execute (`run` drives it).
    Running,
    /// The guest stopped itself; `halt_reason` says how.
    Halted,
    /// Destroyed: every call fails.
    Destroyed,
}

impl VmState {
    pub const ALL: [VmState; 5] = [
        VmState::Off,
        VmState::Paused,
        VmState::Running,
        VmState::Halted,
        VmState::Destroyed,
    ];
    /// Every state but `destroyed`.
    pub const ALIVE: &'static [VmState] = &[
        VmState::Off,
        VmState::Paused,
        VmState::Running,
        VmState::Halted,
    ];
    /// Every state in which the machine is powered.
    pub const POWERED: &'static [VmState] = &[VmState::Paused, VmState::Running, VmState::Halted];

    pub fn name(self) -> &'static str {
        match self {
            VmState::Off => "off",
            VmState::Paused => "paused",
            VmState::Running => "running",
            VmState::Halted => "halted",
            VmState::Destroyed => "destroyed",
        }
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Formats a set of states as "off, paused".
pub fn state_list(states: &[VmState]) -> String {
    states
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}
