//! Pacing to the wall clock, for the front ends a person watches (`moon86
//! boot` at a terminal, the monitor, the SDL window): virtual time may not
//! run ahead of the wall clock by more than [`LEAD`], whether the guest is
//! busy or asleep in HLT (where a run would otherwise jump from timer to
//! timer as fast as the host allows, so an interactive `sleep 10` would end
//! at once). The guest's own clock stays exact either way: pacing only
//! decides when the host runs it. Scripts do not pace; they run as fast as
//! the host allows.

use super::{ControlError, StopReason, Vm, VmState};
use std::time::{Duration, Instant};

/// How far virtual time may run ahead of the wall clock.
pub const LEAD: Duration = Duration::from_millis(10);
/// A guest that falls further behind the wall clock than this (the host
/// could not keep up, or the VM was stopped) is forgiven the lag, so it
/// never races through idle time to catch up.
pub const MAX_LAG: Duration = Duration::from_millis(100);

/// Ties virtual time to the wall clock from the moment it is made.
#[derive(Clone, Copy, Debug)]
pub struct Pacer {
    wall_start: Instant,
    virtual_start: u64,
}

impl Pacer {
    /// A pacer whose wall clock starts now, at virtual time `now_ns`.
    pub fn new(now_ns: u64) -> Pacer {
        Pacer {
            wall_start: Instant::now(),
            virtual_start: now_ns,
        }
    }

    /// Starts again from virtual time `now_ns` (after the VM was paused).
    pub fn restart(&mut self, now_ns: u64) {
        *self = Pacer::new(now_ns);
    }

    /// The virtual time the guest may run to now, seen at virtual time
    /// `now_ns`: the wall clock's time since the start plus [`LEAD`].
    pub fn limit_ns(&mut self, now_ns: u64) -> u64 {
        let wall = self.wall_ns();
        if now_ns.saturating_add(nanos(MAX_LAG)) < wall {
            self.restart(now_ns);
        }
        self.wall_ns().saturating_add(nanos(LEAD))
    }

    /// Sleeps until the wall clock reaches virtual time `now_ns`.
    pub fn wait(&self, now_ns: u64) {
        let ahead = now_ns.saturating_sub(self.wall_ns());
        if ahead > 0 {
            std::thread::sleep(Duration::from_nanos(ahead).min(LEAD * 2));
        }
    }

    /// The wall clock as virtual time: the virtual start plus the wall time
    /// since.
    fn wall_ns(&self) -> u64 {
        self.virtual_start
            .saturating_add(nanos(self.wall_start.elapsed()))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Vm {
    /// Virtual nanoseconds since power-on.
    pub fn now_ns(&self) -> Result<u64, ControlError> {
        Ok(self.machine()?.now_ns())
    }

    /// Runs like [`Vm::run_until`], but never past the wall clock that
    /// `pacer` keeps: when virtual time reaches it (the guest busy or asleep
    /// in HLT), this sleeps until the wall clock catches up and returns
    /// [`StopReason::Budget`], with the VM in the state it was in. A
    /// `Timeout` means the caller's own `deadline_ns` was reached.
    pub fn run_paced(
        &mut self,
        budget: Option<u64>,
        deadline_ns: Option<u64>,
        pacer: &mut Pacer,
    ) -> Result<StopReason, ControlError> {
        let before = self.state();
        let limit = pacer.limit_ns(self.now_ns()?);
        let why = self.run_until(budget, Some(deadline_ns.map_or(limit, |d| d.min(limit))))?;
        let now = self.now_ns()?;
        if why != StopReason::Timeout || deadline_ns.is_some_and(|d| now >= d) {
            return Ok(why);
        }
        // The wall clock's limit, not the caller's deadline: the run paused
        // the VM there.
        if before == VmState::Running && self.state() == VmState::Paused {
            self.resume()?;
        }
        pacer.wait(now);
        Ok(StopReason::Budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_follows_the_wall_clock_and_forgives_lag() {
        let mut p = Pacer::new(5_000_000_000);
        let l = p.limit_ns(5_000_000_000);
        assert!(l >= 5_000_000_000 + nanos(LEAD));
        assert!(l < 5_000_000_000 + nanos(LEAD) + 50_000_000);
        // A virtual clock far behind is forgiven: the limit is LEAD ahead
        // of it, not of where the wall clock says it should be.
        let mut q = Pacer::new(0);
        q.wall_start -= Duration::from_secs(3);
        let l = q.limit_ns(1_000_000_000);
        assert!(l < 1_000_000_000 + nanos(LEAD) + 50_000_000, "{l}");
    }

    /// A boot sector that arms the PIT for 100 Hz and sleeps in HLT
    /// between the interrupts, forever.
    const IDLE_GUEST: [u8; 65] = [
        0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, // cli; ds = ss = 0; sp
        0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x08, 0xe6, 0x21, // ICW1, ICW2: IRQ 0 at vector 8
        0xb0, 0x04, 0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21, // ICW3, ICW4
        0xb0, 0xfe, 0xe6, 0x21, // unmask IRQ 0
        0xc7, 0x06, 0x20, 0x00, 0x3a, 0x7c, // mov word [0x20], handler
        0xc7, 0x06, 0x22, 0x00, 0x00, 0x00, // mov word [0x22], 0
        0xb0, 0x34, 0xe6, 0x43, // PIT channel 0, mode 2
        0xb0, 0x9c, 0xe6, 0x40, 0xb0, 0x2e, 0xe6, 0x40, // count 11932: 100 Hz
        0xfb, 0xf4, 0xeb, 0xfd, // sti; hlt; jmp back to the hlt
        0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf, // handler: EOI, iret
    ];

    #[test]
    fn a_paced_idle_guest_keeps_to_the_wall_clock() {
        let mut sector = vec![0u8; 512];
        sector[..IDLE_GUEST.len()].copy_from_slice(&IDLE_GUEST);
        sector[510..].copy_from_slice(&[0x55, 0xAA]);
        let path = std::env::temp_dir().join(format!("moon86-pacing-{}.bin", std::process::id()));
        std::fs::write(&path, &sector).unwrap();
        let mut vm = Vm::new(crate::machine::MachineConfig::default()).unwrap();
        vm.load_boot_sector(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        vm.power_on().unwrap();
        // Unpaced, the sleeping guest races through virtual time.
        vm.run(Some(200_000)).unwrap();
        let raced = vm.now_ns().unwrap();
        assert!(raced > 2_000_000_000, "{raced} ns");
        let mut pacer = Pacer::new(raced);
        vm.resume().unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(300) {
            let why = vm.run_paced(Some(200_000), None, &mut pacer).unwrap();
            assert_eq!(why, StopReason::Budget);
            assert_eq!(vm.state(), VmState::Running);
            let ran = vm.now_ns().unwrap() - raced;
            // Never ahead of the wall clock by more than the lead (plus a
            // timer period the run may finish).
            assert!(
                ran <= nanos(start.elapsed() + LEAD) + 10_000_000,
                "{ran} ns"
            );
        }
        let ran = vm.now_ns().unwrap() - raced;
        // And it kept up (allowing for a loaded host).
        assert!(
            ran >= 150_000_000,
            "only {ran} ns of virtual time in 300 ms"
        );
        // A deadline of the caller's own still ends the run with Timeout.
        let now = vm.now_ns().unwrap();
        let why = vm
            .run_paced(None, Some(now + 1_000_000), &mut pacer)
            .unwrap();
        assert_eq!(why, StopReason::Timeout);
    }

    #[test]
    fn wait_sleeps_only_while_virtual_time_is_ahead() {
        let p = Pacer::new(0);
        let t = Instant::now();
        p.wait(0);
        assert!(t.elapsed() < Duration::from_millis(5));
        p.wait(nanos(Duration::from_millis(15)));
        assert!(t.elapsed() >= Duration::from_millis(15));
    }
}
