//! The run loop: execute instructions straight up to the next device event,
//! poll the devices after any port access and at each event, deliver the
//! PIC's interrupts at instruction boundaries, let a halted CPU sleep until
//! the next event, and say why it stopped. While anything is watched (see
//! `watch.rs`) the loop takes its checked path, which looks for execute
//! watches before each instruction and collects what the other watches saw
//! after it. `Machine::run_unit` makes one pass of the same loop, so a
//! lockstep test can compare two machines at every block boundary.

use super::watch::{Event, EventRecord};
use super::Machine;
use crate::cpu::{BlockRun, SegReg, StepOutcome};
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
    /// A watch saw something: [`Machine::take_events`] says what.
    Events,
    /// The clock reached [`Machine::deadline_tick`].
    Deadline,
}

impl Machine {
    fn takes_interrupt(&self) -> bool {
        self.intr && self.cpu.eflags() & IF != 0 && !self.cpu.interrupt_shadow()
    }

    fn record(&mut self, event: Event) {
        let cs = self.cpu.segment(SegReg::Cs).selector;
        self.watches.events.push(EventRecord {
            event,
            icount: self.icount,
            cs,
            eip: self.cpu.eip(),
        });
    }

    /// Records the deliveries the CPU made and a mode change since `before`
    /// (`None` when mode changes are not watched); true when it recorded
    /// anything.
    #[inline(never)]
    fn record_cpu_events(&mut self, before: Option<super::ModeBits>) -> bool {
        let mut recorded = false;
        if self.cpu.has_deliveries() {
            self.record_deliveries();
            recorded = true;
        }
        if let Some(before) = before {
            let now = self.mode_bits();
            if now != before {
                self.record(Event::ModeChange {
                    from: before,
                    to: now,
                });
                recorded = true;
            }
        }
        recorded
    }

    #[inline(never)]
    fn record_deliveries(&mut self) {
        let deliveries: Vec<_> = self.cpu.take_deliveries().collect();
        for d in deliveries {
            self.record(Event::Interrupt {
                vector: d.vector,
                error: d.error,
                source: d.source,
            });
        }
    }

    /// Executes at most `budget` instructions; returns why it stopped and
    /// how many instructions it retired.
    pub fn run(&mut self, budget: u64) -> (RunExit, u64) {
        // Anything may have changed since the last run.
        self.cpu.forget_jit_host_state();
        self.run_on(budget)
    }

    /// Runs like [`Machine::run`], for a caller that has changed nothing
    /// in the machine since the last run returned (the control API's next
    /// slice of one run): what the JIT knows of the CPU and the board
    /// (segments, host pointers, its jump cache) still holds.
    pub fn run_on(&mut self, budget: u64) -> (RunExit, u64) {
        let mut done = 0u64;
        let exit = self.run_counted::<false>(budget, &mut done);
        (exit, done)
    }

    /// Runs like [`Machine::run`] with a budget of `budget`, but returns
    /// as soon as anything retired: one pass of the run loop, that is one
    /// translated block (with the blocks chained into it) and, when the
    /// block bailed or there was none, the one interpreted instruction
    /// after it, once the interrupt due at the boundary after them (if any)
    /// is delivered. Sleeping in HLT until a device event retires nothing
    /// and does not end the call. It returns [`RunExit::Budget`] and the
    /// count retired, or why the machine stopped, exactly as `run` would
    /// at that point; so `run(n)` on a twin machine in the same state
    /// retires the same `n` instructions and delivers the same interrupts.
    ///
    /// For lockstep testing (`tests/jit_lockstep.rs`): the caller sees the
    /// machine at every block boundary. Unlike `run` it keeps the JIT's
    /// host-side state across calls, so the blocks run as in one long
    /// `run`; the caller must change nothing in the machine between calls
    /// (call `run` after any change). With something watched, one pass of
    /// the checked loop runs a whole chunk up to the next device event.
    pub fn run_unit(&mut self, budget: u64) -> (RunExit, u64) {
        let mut done = 0u64;
        let exit = self.run_counted::<true>(budget, &mut done);
        (exit, done)
    }

    /// The run loop; `UNIT` returns after the first pass that retired
    /// anything (see [`Machine::run_unit`]).
    fn run_counted<const UNIT: bool>(&mut self, budget: u64, done: &mut u64) -> RunExit {
        loop {
            if self.takes_interrupt() {
                let vector = self.board.io.pic.acknowledge();
                self.intr = self.board.io.pic.intr();
                let before = self.watches.mode.then(|| self.mode_bits());
                if self.cpu.interrupt(&mut self.board, vector) == StepOutcome::Shutdown {
                    return RunExit::Halted(HaltReason::Shutdown);
                }
                // The next instruction is the handler's: a resumed execute
                // event no longer applies.
                self.watches.exec_resume = None;
                if self.watches.any {
                    self.record_cpu_events(before);
                }
            }
            if !self.watches.events.is_empty() {
                return RunExit::Events;
            }
            if *done >= budget || (UNIT && *done > 0) {
                return RunExit::Budget;
            }
            let now = self.board.clock.ticks();
            if self.deadline_tick.is_some_and(|t| t <= now) {
                return RunExit::Deadline;
            }
            if self.next_event_tick.is_some_and(|t| t <= now) {
                if let Some(h) = self.sync() {
                    return RunExit::Halted(h);
                }
                continue;
            }
            let wake = match (self.next_event_tick, self.deadline_tick) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if self.cpu.is_halted() {
                if self.cpu.eflags() & IF == 0 {
                    return RunExit::Halted(HaltReason::Hlt);
                }
                // Sleep until the next device event or deadline; none means
                // none ever comes.
                match wake {
                    Some(t) => {
                        // The TSC keeps counting through the sleep, as the
                        // timers do.
                        self.cpu.sleep_ticks(t.saturating_sub(now));
                        self.board.clock.advance_to(t);
                        if self.next_event_tick.is_some_and(|e| e <= t) {
                            if let Some(h) = self.sync() {
                                return RunExit::Halted(h);
                            }
                        }
                        continue;
                    }
                    None => return RunExit::Idle,
                }
            }
            let until = wake.map_or(u64::MAX, |t| t - now);
            let chunk = (budget - *done).min(until);
            let stop = if self.watches.any {
                self.run_checked(chunk, done)
            } else {
                self.run_plain::<UNIT>(chunk, done)
            };
            if let Some(exit) = stop {
                return exit;
            }
        }
    }

    /// Runs up to `chunk` instructions with nothing watched; `None` asks the
    /// outer loop to look at interrupts and events. `UNIT` stops after one
    /// pass (a block and, if it asks for one, an interpreter step).
    #[inline(always)]
    fn run_plain<const UNIT: bool>(&mut self, chunk: u64, done: &mut u64) -> Option<RunExit> {
        let mut left = chunk;
        while left > 0 {
            if self.cpu.jit_enabled() {
                let (n, step) = self.jit_block(left, done);
                left -= n;
                if !step {
                    if UNIT || n == 0 || self.intr && self.takes_interrupt() {
                        return None;
                    }
                    continue;
                }
                if left == 0 {
                    return None;
                }
            }
            // The interpreter: a run of cached fast forms where it can,
            // else one step. Not while an interrupt is pending and IF is
            // set: the first instruction of the run may end an interrupt
            // shadow, and the interrupt is then due after it.
            let (mut n, mut outcome) = (0, StepOutcome::Executed);
            let may_interrupt = self.intr && self.cpu.eflags() & IF != 0;
            if !UNIT && !may_interrupt && !self.cpu.jit_enabled() {
                (n, outcome) = self.cpu.run_cached(&mut self.board, left);
            }
            if n == 0 {
                outcome = self.cpu.step(&mut self.board);
                n = 1;
            }
            left -= n;
            self.board.clock.advance(n);
            self.icount += n;
            *done += n;
            let touched = std::mem::take(&mut self.board.io_touched);
            if touched {
                // The access may have moved the next event earlier.
                if let Some(h) = self.sync() {
                    return Some(RunExit::Halted(h));
                }
            }
            if let Some(exit) = self.after_step(outcome) {
                return exit;
            }
            if UNIT || touched || (self.intr && self.takes_interrupt()) {
                return None;
            }
        }
        None
    }

    /// Runs one translated block of at most `left` instructions (see
    /// `Cpu::run_block`), counting what it retired; returns that count and
    /// whether the interpreter must run the next instruction.
    #[inline(always)]
    fn jit_block(&mut self, left: u64, done: &mut u64) -> (u64, bool) {
        let (n, step) = match self.cpu.run_block(&mut self.board, left) {
            BlockRun::None => (0, true),
            BlockRun::Ran(n) => (u64::from(n), false),
            BlockRun::Bailed(n) => (u64::from(n), true),
        };
        if n > 0 {
            self.board.clock.advance(n);
            self.icount += n;
            *done += n;
        }
        (n, step)
    }

    /// What a step's outcome means for the loop: `Some(Some(exit))` stops,
    /// `Some(None)` ends the chunk, `None` goes on.
    #[inline(always)]
    fn after_step(&mut self, outcome: StepOutcome) -> Option<Option<RunExit>> {
        match outcome {
            StepOutcome::Executed => None,
            StepOutcome::Shutdown => Some(Some(RunExit::Halted(HaltReason::Shutdown))),
            StepOutcome::Halted => {
                // HLT, or an FPU instruction frozen on an unmasked
                // exception (FERR# must reach the PIC first).
                if let Some(h) = self.sync() {
                    return Some(Some(RunExit::Halted(h)));
                }
                if self.cpu.eflags() & IF == 0 {
                    return Some(Some(RunExit::Halted(HaltReason::Hlt)));
                }
                Some(None)
            }
        }
    }

    /// True when an execute watch covers the instruction at linear `lin`.
    #[inline]
    fn exec_watched(&mut self, lin: u32) -> Option<Option<u32>> {
        if self.board.exec_linear.contains(lin) {
            let phys = self.cpu.linear_to_physical(&mut self.board, lin);
            return Some(phys);
        }
        if !self.board.exec_physical.is_empty() {
            let phys = self.cpu.linear_to_physical(&mut self.board, lin)?;
            if self.board.exec_physical.contains(phys) {
                return Some(Some(phys));
            }
        }
        None
    }

    /// Moves what the memory and I/O watches saw during the instruction at
    /// `cs:eip` to the event list.
    #[inline(never)]
    fn collect_board_events(&mut self, cs: u16, eip: u32) {
        for event in self.board.events.drain(..) {
            self.watches.events.push(EventRecord {
                event,
                icount: self.icount,
                cs,
                eip,
            });
        }
    }

    /// The execute watches' check before the instruction at linear `lin`,
    /// on a page not known to be free of them: records the event and
    /// returns true when one covers it, else remembers the page when it is
    /// free.
    #[inline(never)]
    fn exec_check(&mut self, lin: u32) -> bool {
        if let Some(physical) = self.exec_watched(lin) {
            self.watches.exec_resume = Some(lin);
            self.record(Event::Exec {
                linear: lin,
                physical,
            });
            return true;
        }
        if self.board.exec_physical.is_empty() && !self.board.exec_linear.page_marked(lin) {
            self.watches.exec_clear_page = lin >> 12;
        }
        false
    }

    /// Runs up to `chunk` instructions with the watches checked.
    ///
    /// Beyond the plain loop, an instruction costs a compare of its linear
    /// page with the last one found free of execute watches and keeping
    /// CS:EIP for the events it may cause; everything else is out of line
    /// or behind flags that are false unless something was seen (and the
    /// mode snapshot only while mode changes or interrupts are watched, in
    /// a second copy of the loop). The watch set cannot change during a chunk, and an
    /// execute event returns at once, so a resumed execute event can only
    /// concern the chunk's first instruction. The event list is empty when a
    /// chunk starts, and only a port or watched memory access (which set
    /// `io_touched`), a delivery or a mode change add to it, so the
    /// instructions that did none of these skip looking.
    fn run_checked(&mut self, chunk: u64, done: &mut u64) -> Option<RunExit> {
        if chunk == 0 {
            return None;
        }
        if self.watches.mode || self.cpu.records_deliveries() {
            self.run_checked_as::<true>(chunk, done)
        } else {
            self.run_checked_as::<false>(chunk, done)
        }
    }

    /// [`Machine::run_checked`]'s loop; `CPU_WATCH` when mode changes or
    /// deliveries are watched.
    #[inline(always)]
    fn run_checked_as<const CPU_WATCH: bool>(
        &mut self,
        chunk: u64,
        done: &mut u64,
    ) -> Option<RunExit> {
        let mut resumed = self
            .watches
            .exec_resume
            .take()
            .is_some_and(|r| r == self.cpu.linear_pc());
        let mode = self.watches.mode;
        let mut left = chunk;
        let mut must_step = false;
        while left > 0 {
            let lin = self.cpu.linear_pc();
            let skip = std::mem::take(&mut resumed);
            if lin >> 12 != self.watches.exec_clear_page && !skip && self.exec_check(lin) {
                return Some(RunExit::Events);
            }
            // No block holds a watched instruction (they end before one,
            // and none starts on one: `Bus::exec_watched`), and blocks make
            // no events (the interpreter runs what touches a watched
            // address or port, changes the mode or delivers an interrupt):
            // once the check above passed, one may run.
            if self.cpu.jit_enabled() && !std::mem::take(&mut must_step) && !skip {
                let (n, step) = self.jit_block(left, done);
                left -= n;
                if !step && n > 0 && !(self.intr && self.takes_interrupt()) {
                    continue;
                }
                if !step || left == 0 {
                    return None;
                }
                must_step = true;
                continue;
            }
            left -= 1;
            let cs = self.cpu.segment(SegReg::Cs).selector;
            let eip = self.cpu.eip();
            let before = (CPU_WATCH && mode).then(|| self.mode_bits());
            let outcome = self.cpu.step(&mut self.board);
            self.board.clock.advance(1);
            self.icount += 1;
            *done += 1;
            let touched = std::mem::take(&mut self.board.io_touched);
            if touched && !self.board.events.is_empty() {
                self.collect_board_events(cs, eip);
            }
            let cpu_events = CPU_WATCH && self.record_cpu_events(before);
            if touched {
                if let Some(h) = self.sync() {
                    return Some(RunExit::Halted(h));
                }
            }
            if let Some(exit) = self.after_step(outcome) {
                return exit;
            }
            if (touched || cpu_events) && !self.watches.events.is_empty() {
                return Some(RunExit::Events);
            }
            if touched || (self.intr && self.takes_interrupt()) {
                return None;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Gpr;
    use crate::machine::MachineConfig;

    /// A real-mode loop at 0:0x1000: two instructions a block can run, two
    /// port writes the interpreter runs, and a jump back.
    fn looping_machine(jit: bool) -> Machine {
        let mut m = Machine::new(&MachineConfig::default()).unwrap();
        let code = [
            0x66, 0x40, // inc eax
            0xBA, 0xF8, 0x03, // mov dx, 0x3f8
            0xEE, // out dx, al
            0xE6, 0xE9, // out 0xe9, al
            0xEB, 0xF6, // jmp short back to the start
        ];
        m.board.mem.write_bytes(0x1000, &code).unwrap();
        m.cpu.load_segment_real(SegReg::Cs, 0);
        m.cpu.set_eip(0x1000);
        m.cpu.set_jit_enabled(jit);
        m
    }

    /// Real mode at 0:0x1000: set up the PIC and IRQ 0, arm PIT channel 0
    /// for one 10 ms count (mode 0), read the TSC to 0x3000, sleep in HLT
    /// until the timer wakes the CPU, read the TSC to 0x3008, then stop
    /// with `cli; hlt`.
    const TSC_ACROSS_HLT: [u8; 78] = [
        0xfa, // cli
        0xb0, 0x11, 0xe6, 0x20, // ICW1
        0xb0, 0x08, 0xe6, 0x21, // ICW2: IRQ 0 is vector 8
        0xb0, 0x04, 0xe6, 0x21, // ICW3
        0xb0, 0x01, 0xe6, 0x21, // ICW4
        0xb0, 0xfe, 0xe6, 0x21, // unmask IRQ 0 alone
        0xc7, 0x06, 0x20, 0x00, 0x47, 0x10, // mov word [0x20], handler
        0xc7, 0x06, 0x22, 0x00, 0x00, 0x00, // mov word [0x22], 0
        0xb0, 0x30, 0xe6, 0x43, // PIT channel 0, lobyte/hibyte, mode 0
        0xb0, 0x9c, 0xe6, 0x40, 0xb0, 0x2e, 0xe6, 0x40, // count 11932: 10 ms
        0x0f, 0x31, // rdtsc
        0x66, 0xa3, 0x00, 0x30, // mov [0x3000], eax
        0x66, 0x89, 0x16, 0x04, 0x30, // mov [0x3004], edx
        0xfb, 0xf4, // sti; hlt
        0x0f, 0x31, // rdtsc
        0x66, 0xa3, 0x08, 0x30, // mov [0x3008], eax
        0x66, 0x89, 0x16, 0x0c, 0x30, // mov [0x300c], edx
        0xfa, 0xf4, // cli; hlt
        // handler: push ax; EOI; pop ax; iret
        0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf,
    ];

    #[test]
    fn the_tsc_counts_the_time_slept_in_hlt() {
        for jit in [false, true] {
            let mut m = Machine::new(&MachineConfig::default()).unwrap();
            m.board.mem.write_bytes(0x1000, &TSC_ACROSS_HLT).unwrap();
            m.cpu.load_segment_real(SegReg::Cs, 0);
            m.cpu.set_eip(0x1000);
            m.cpu.set_jit_enabled(jit);
            let (exit, _) = m.run(1_000_000);
            assert_eq!(exit, RunExit::Halted(HaltReason::Hlt), "jit {jit}");
            let read = |a: u32| {
                u64::from(m.board.mem.read_u32(a)) | u64::from(m.board.mem.read_u32(a + 4)) << 32
            };
            let (before, after) = (read(0x3000), read(0x3008));
            // 10 ms of sleep at the default 100 M ticks per virtual second,
            // plus the few instructions around it.
            let slept = after - before;
            assert!(
                (1_000_000..1_000_100).contains(&slept),
                "jit {jit}: the TSC advanced {slept} ticks across a 10 ms HLT"
            );
            // The TSC and the virtual clock are one time base.
            assert_eq!(m.cpu.tsc(), m.board.clock.ticks(), "jit {jit}");
            assert!(m.icount < 100, "the CPU slept rather than spun");
        }
    }

    #[test]
    fn run_unit_stops_after_one_pass_and_a_twin_follows_with_run() {
        let mut a = looping_machine(true);
        let mut b = looping_machine(false);
        let mut longest = 0;
        for _ in 0..500 {
            let (exit, n) = a.run_unit(1000);
            assert_eq!(exit, RunExit::Budget);
            // The port writes are interpreted, so no pass gets round the loop.
            assert!((1..=5).contains(&n), "a pass of {n} instructions");
            longest = longest.max(n);
            assert_eq!(b.run(n), (RunExit::Budget, n));
            assert_eq!(
                (
                    a.icount,
                    a.cpu.eip(),
                    a.cpu.gpr(Gpr::Eax),
                    a.board.clock.ticks()
                ),
                (
                    b.icount,
                    b.cpu.eip(),
                    b.cpu.gpr(Gpr::Eax),
                    b.board.clock.ticks()
                )
            );
        }
        assert!(longest > 1, "no block ran");
        assert_eq!(a.serial[0].all(), b.serial[0].all());
        // Without the JIT a pass is one instruction.
        assert_eq!(b.run_unit(1000), (RunExit::Budget, 1));
    }
}
