//! Virtual time. The clock advances one tick per retired instruction, and a
//! virtual second is `ips` ticks (instructions per virtual second, a property
//! of the VM, 100 million by default). Timers, the RTC, the serial port and
//! script timeouts all read this clock, so a guest sees the same interrupts on
//! the same instructions on every run and every host. While the CPU is halted
//! waiting for an interrupt, time jumps straight to the next device event,
//! and the CPU's time-stamp counter counts the ticks it slept: the TSC runs
//! at `ips` Hz, so a guest that takes the TSC as its clocksource (Linux
//! does) sees the same time as its timers.

use serde::{Deserialize, Serialize};

/// Instructions per virtual second unless a script sets `ips`.
pub const DEFAULT_IPS: u64 = 100_000_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VirtualClock {
    ips: u64,
    ticks: u64,
}

impl VirtualClock {
    /// A clock at time zero running at `ips` ticks per virtual second (at least 1).
    pub fn new(ips: u64) -> VirtualClock {
        VirtualClock {
            ips: ips.max(1),
            ticks: 0,
        }
    }

    pub fn ips(&self) -> u64 {
        self.ips
    }

    /// Ticks since power-on.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Advances by `n` ticks (retired instructions).
    pub fn advance(&mut self, n: u64) {
        self.ticks = self.ticks.saturating_add(n);
    }

    /// Jumps forward to `tick` (never backwards).
    pub fn advance_to(&mut self, tick: u64) {
        self.ticks = self.ticks.max(tick);
    }

    /// Virtual nanoseconds since power-on.
    pub fn now_ns(&self) -> u64 {
        (u128::from(self.ticks) * 1_000_000_000 / u128::from(self.ips)) as u64
    }

    /// The first tick at which `now_ns()` is at least `ns`.
    pub fn tick_at_ns(&self, ns: u64) -> u64 {
        let t = (u128::from(ns) * u128::from(self.ips)).div_ceil(1_000_000_000);
        u64::try_from(t).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_nanoseconds_agree() {
        let mut c = VirtualClock::new(3);
        c.advance(2);
        assert_eq!(c.now_ns(), 666_666_666);
        let t = c.tick_at_ns(1_000_000_001);
        assert_eq!(t, 4);
        c.advance_to(t);
        assert!(c.now_ns() >= 1_000_000_001);
        c.advance_to(1);
        assert_eq!(c.ticks(), 4, "time never runs backwards");
        let d = VirtualClock::new(DEFAULT_IPS);
        assert_eq!(d.tick_at_ns(10), 1);
        assert_eq!(d.tick_at_ns(1_000_000_000), DEFAULT_IPS);
    }
}
