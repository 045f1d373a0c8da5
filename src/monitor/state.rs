//! The monitor's state and how it runs the guest: the Lua session that
//! owns the VM (global `vm`), the breakpoints and watchpoints the monitor
//! added to the VM's hook table, where output goes, and the execution
//! control behind `cont`, `step`, `next` and `stop`. The guest runs in
//! slices; after each one the loop may read a line, so the prompt answers
//! while the guest runs. Fires of the monitor's own hooks stop the guest
//! and are printed; the others go to their Lua callbacks.

use super::disasm;
use super::error::MonitorError;
use super::format;
use super::parse::{Bound, Format};
use crate::control::hooks::{Fire, FireEvent, HookId, HookKind};
use crate::control::{Pacer, StopReason, Value, Vm, VmState};
use crate::script::Session;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Instructions per slice of a run between looks at the input.
pub const SLICE: u64 = 500_000;

/// What one of the monitor's hooks is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owned {
    Breakpoint,
    Watchpoint,
    /// `next`'s stop after a call; removed when the step ends.
    Temporary,
}

/// Where output goes: stdout, or rustyline's printer while a prompt is up.
pub type Printer = Arc<Mutex<dyn FnMut(String) + Send>>;

/// How a run of the guest ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Still running (a slice ended, nothing stopped it).
    No,
    /// It stopped; the report has been printed.
    Yes,
}

pub struct Monitor {
    pub session: Session,
    /// The guest runs between lines (after `cont`).
    pub running: bool,
    /// Where a bounded `cont` stops: (icount, virtual ns).
    pub limit: (Option<u64>, Option<u64>),
    pub own: BTreeMap<u64, Owned>,
    pub last_format: Format,
    pub interactive: bool,
    /// Any line failed (the exit status of a transcript).
    pub failed: bool,
    pub quit: bool,
    /// Lua lines of an unfinished chunk.
    pub pending: String,
    printer: Option<Printer>,
    /// Forward COM1 and the debug console to the output.
    forward_serial: bool,
    forward_debugcon: bool,
    /// Forward the firmware's debug port 0x402 too (`--biosdebug stdio`).
    forward_biosdebug: bool,
    serial_seen: usize,
    debugcon_seen: usize,
    biosdebug_seen: usize,
    /// The last guest output forwarded did not end a line.
    mid_line: bool,
    /// At a terminal, ties the guest's virtual time to the wall clock from
    /// each `cont` on.
    pacer: Option<Pacer>,
}

/// Set by Ctrl-C (SIGINT) while a command runs the guest.
pub static INTERRUPT: AtomicBool = AtomicBool::new(false);

impl Monitor {
    pub fn new(
        session: Session,
        interactive: bool,
        forward_serial: bool,
        forward_debugcon: bool,
    ) -> Monitor {
        Monitor {
            session,
            running: false,
            limit: (None, None),
            own: BTreeMap::new(),
            last_format: Format {
                count: 1,
                letter: 'x',
                unit: 4,
            },
            interactive,
            failed: false,
            quit: false,
            pending: String::new(),
            printer: None,
            forward_serial,
            forward_debugcon,
            forward_biosdebug: false,
            serial_seen: 0,
            debugcon_seen: 0,
            biosdebug_seen: 0,
            mid_line: false,
            pacer: None,
        }
    }

    /// Forwards what the firmware writes to port 0x402 as well.
    pub fn forward_biosdebug(&mut self, on: bool) {
        self.forward_biosdebug = on;
    }

    /// Sends all output, Lua's `print` too, through `p`.
    pub fn set_printer(&mut self, p: Printer) -> Result<(), MonitorError> {
        let lua_side = p.clone();
        self.session.print_to(move |line| {
            if let Ok(mut f) = lua_side.lock() {
                f(String::from_utf8_lossy(line).into_owned());
            }
        })?;
        self.printer = Some(p);
        Ok(())
    }

    /// Prints `text` (a newline is added).
    pub fn say(&mut self, text: impl AsRef<str>) {
        let mut t = String::new();
        if std::mem::take(&mut self.mid_line) {
            t.push('\n');
        }
        t.push_str(text.as_ref());
        t.push('\n');
        self.put(t);
    }

    fn put(&mut self, t: String) {
        match self.printer.as_ref().and_then(|p| p.lock().ok()) {
            Some(mut p) => p(t),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(t.as_bytes());
                let _ = out.flush();
            }
        }
    }

    /// Runs `f` on the VM.
    pub fn vm<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> Result<R, MonitorError> {
        self.session.with_vm(f).map_err(MonitorError::Lua)
    }

    fn int(&self, path: &str) -> u64 {
        match self.vm(|vm| vm.get(path)) {
            Ok(Ok(Value::Int(n))) => n as u64,
            _ => 0,
        }
    }

    pub fn state(&self) -> VmState {
        self.vm(|vm| vm.state()).unwrap_or(VmState::Destroyed)
    }

    /// Prints what the guest wrote to COM1 and the debug console since the
    /// previous look.
    pub fn forward_output(&mut self) {
        let mut text = Vec::new();
        if self.forward_serial {
            if let Ok(Ok(all)) = self.vm(|vm| vm.serial_text()) {
                if all.len() > self.serial_seen {
                    text.extend_from_slice(&all[self.serial_seen..]);
                }
                self.serial_seen = all.len();
            }
        }
        if self.forward_debugcon {
            if let Ok(Ok(all)) = self.vm(|vm| vm.debugcon_text()) {
                if all.len() > self.debugcon_seen {
                    text.extend_from_slice(&all.as_bytes()[self.debugcon_seen.min(all.len())..]);
                }
                self.debugcon_seen = all.len();
            }
        }
        if self.forward_biosdebug {
            if let Ok(Ok(all)) = self.vm(|vm| vm.biosdebug_text()) {
                text.extend_from_slice(&all.as_bytes()[self.biosdebug_seen.min(all.len())..]);
                self.biosdebug_seen = all.len();
            }
        }
        if !text.is_empty() {
            self.mid_line = !text.ends_with(b"\n");
            self.put(String::from_utf8_lossy(&text).into_owned());
        }
    }

    /// Forgets what was forwarded (after a reset or a restore the logs
    /// start again).
    pub fn rewind_output(&mut self) {
        let serial = self.vm(|vm| vm.serial_text().map(|t| t.len()));
        let debugcon = self.vm(|vm| vm.debugcon_text().map(|t| t.len()));
        self.serial_seen = serial.ok().and_then(|r| r.ok()).unwrap_or(0);
        self.debugcon_seen = debugcon.ok().and_then(|r| r.ok()).unwrap_or(0);
        let bios = self.vm(|vm| vm.biosdebug_text().map(|t| t.len()));
        self.biosdebug_seen = bios.ok().and_then(|r| r.ok()).unwrap_or(0);
    }

    /// `CS:IP  bytes  instruction` for the instruction about to run.
    pub fn location(&self) -> String {
        let Ok(Ok(regs)) = self.vm(|vm| vm.registers()) else {
            return "(no CPU)".into();
        };
        let code32 = format::code32(&regs);
        let lin = u64::from(regs.segs[1].base.wrapping_add(regs.eip));
        let bytes = self.read_code(lin, 15);
        let line = disasm::decode(&bytes, u64::from(regs.eip), code32, 1);
        let (hex, text) = match line.first() {
            Some(l) => (format::hex_bytes(&l.bytes), l.text.clone()),
            None => (String::new(), "(not mapped)".into()),
        };
        format!(
            "{:04x}:{}  {hex:<20} {text}",
            regs.segs[1].selector,
            format::offset(regs.eip, code32)
        )
    }

    /// Up to `len` bytes of code at linear `lin` (fewer where the mapping ends).
    pub fn read_code(&self, lin: u64, len: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..len {
            match self.vm(|vm| vm.read_linear(lin + i, 1)) {
                Ok(Ok(b)) => out.extend(b),
                _ => break,
            }
        }
        out
    }

    // ---- running ---------------------------------------------------------

    /// Starts the guest (`cont`); `bound` limits how far it goes.
    pub fn start(&mut self, bound: Option<Bound>) -> Result<(), MonitorError> {
        if self.running {
            return Err(MonitorError::Running("cont"));
        }
        self.vm(|vm| vm.resume())??;
        let (icount, now) = (self.int("icount"), self.int("clock"));
        self.limit = match bound {
            Some(Bound::Instructions(n)) => (Some(icount.saturating_add(n)), None),
            Some(Bound::Time(ns)) => (None, Some(now.saturating_add(ns))),
            None => (None, None),
        };
        INTERRUPT.store(false, Ordering::SeqCst);
        self.running = true;
        self.pacer = self.interactive.then(|| Pacer::new(now));
        Ok(())
    }

    /// Stops the guest (`stop`, Ctrl-C) and says where it is.
    pub fn stop(&mut self, why: &str) -> Result<(), MonitorError> {
        if self.running {
            self.running = false;
            if self.state() == VmState::Running {
                self.vm(|vm| vm.pause())??;
            }
            self.forward_output();
            let loc = self.location();
            self.say(format!("{why} at {loc}"));
        }
        Ok(())
    }

    /// Runs one slice of a `cont`; returns whether the run ended.
    pub fn run_slice(&mut self) -> Ended {
        if INTERRUPT.swap(false, Ordering::SeqCst) {
            let _ = self.stop("interrupted");
            return Ended::Yes;
        }
        // A Lua line paused, reset, restored or destroyed the VM meanwhile.
        let state = self.state();
        if state != VmState::Running {
            self.running = false;
            let loc = self.location();
            self.say(format!("the guest is {state}; {loc}"));
            return Ended::Yes;
        }
        let icount = self.int("icount");
        let mut budget = SLICE;
        if let Some(end) = self.limit.0 {
            budget = budget.min(end.saturating_sub(icount));
        }
        let deadline = self.limit.1;
        if budget == 0 {
            let _ = self.stop("stopped (instruction bound reached)");
            return Ended::Yes;
        }
        let mut pacer = self.pacer;
        let why = match self.vm(|vm| match pacer.as_mut() {
            Some(p) => vm.run_paced(Some(budget), deadline, p),
            None => vm.run_until(Some(budget), deadline),
        }) {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => return self.end_with(format!("error: {e}")),
            Err(e) => return self.end_with(format!("error: {e}")),
        };
        self.pacer = pacer;
        self.forward_output();
        match why {
            StopReason::Budget => {
                if self.limit.0.is_some_and(|end| self.int("icount") >= end) {
                    let _ = self.stop("stopped (instruction bound reached)");
                    return Ended::Yes;
                }
                Ended::No
            }
            StopReason::Timeout => {
                let _ = self.stop("stopped (time bound reached)");
                Ended::Yes
            }
            StopReason::Hook => {
                if self.handle_fires() {
                    self.running = false;
                    let loc = self.location();
                    self.say(loc);
                    Ended::Yes
                } else {
                    match self.vm(|vm| vm.resume()) {
                        Ok(Ok(())) => Ended::No,
                        _ => self.end_with(String::new()),
                    }
                }
            }
            StopReason::Paused => {
                self.running = false;
                Ended::Yes
            }
            other => self.end_with(self.stop_text(other)),
        }
    }

    fn end_with(&mut self, text: String) -> Ended {
        self.running = false;
        if !text.is_empty() {
            self.say(text);
        }
        Ended::Yes
    }

    /// Why the guest stopped by itself, in words.
    pub fn stop_text(&self, why: StopReason) -> String {
        match why {
            StopReason::Idle => {
                "the guest is idle (HLT with interrupts enabled, and nothing will raise one)".into()
            }
            StopReason::Halted(_) => {
                let reason = self
                    .vm(|vm| vm.halt_reason().map(|r| r.to_string()))
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                format!("the guest stopped: {reason}")
            }
            other => format!("stopped: {other}"),
        }
    }

    /// Prints the fires of the monitor's hooks, hands the others to Lua, and
    /// removes `next`'s temporary hook. True when the guest should stay
    /// stopped.
    pub fn handle_fires(&mut self) -> bool {
        let fires = self.vm(|vm| vm.pending_fires()).unwrap_or_default();
        let mut stop = false;
        for fire in &fires {
            if let Some(&owned) = self.own.get(&fire.hook.0) {
                stop = true;
                if owned != Owned::Temporary {
                    let text = self.describe_fire(fire, owned);
                    self.say(text);
                }
            }
        }
        match self.session.dispatch_fires() {
            Ok(true) => {}
            Ok(false) => {
                self.say("a Lua hook returned false");
                stop = true;
            }
            Err(e) => {
                self.say(format!("error: {e}"));
                stop = true;
            }
        }
        stop
    }

    fn describe_fire(&self, fire: &Fire, owned: Owned) -> String {
        let what = match owned {
            Owned::Breakpoint => "breakpoint",
            _ => "watchpoint",
        };
        let id = fire.hook.0;
        match &fire.event {
            FireEvent::Machine(rec) => {
                let detail = format::event(&rec.event);
                format!(
                    "{what} {id}: {detail} (icount {}, by {:04x}:{:x})",
                    rec.icount, rec.cs, rec.eip
                )
            }
            other => format!("{what} {id}: {other:?}"),
        }
    }

    /// Removes `next`'s temporary hooks.
    pub fn drop_temporary(&mut self) {
        let temp: Vec<u64> = self
            .own
            .iter()
            .filter(|(_, o)| **o == Owned::Temporary)
            .map(|(id, _)| *id)
            .collect();
        for id in temp {
            self.own.remove(&id);
            let _ = self.vm(|vm| vm.hook_remove(HookId(id)));
        }
    }

    /// Executes up to `n` instructions while paused (`step`), in slices so
    /// Ctrl-C can stop a long one; hooks stop it as in `cont`.
    pub fn step(&mut self, n: u64) -> Result<(), MonitorError> {
        if self.running {
            return Err(MonitorError::Running("step"));
        }
        INTERRUPT.store(false, Ordering::SeqCst);
        let mut left = n;
        while left > 0 {
            let chunk = left.min(SLICE);
            let before = self.int("icount");
            let why = self.vm(|vm| vm.step(chunk))??;
            self.forward_output();
            let done = self.int("icount").saturating_sub(before);
            left = left.saturating_sub(done.max(1));
            match why {
                StopReason::Budget => {}
                StopReason::Hook => {
                    if self.handle_fires() {
                        break;
                    }
                }
                other => {
                    let text = self.stop_text(other);
                    self.say(text);
                    return Ok(());
                }
            }
            if INTERRUPT.swap(false, Ordering::SeqCst) {
                self.say("interrupted");
                break;
            }
        }
        let loc = self.location();
        self.say(loc);
        Ok(())
    }

    /// Runs a started `cont` to its end (transcripts, `next`).
    pub fn run_to_end(&mut self) {
        while self.running {
            if self.run_slice() == Ended::Yes {
                break;
            }
        }
    }

    /// Adds one of the monitor's hooks.
    pub fn add_hook(&mut self, kind: HookKind, owned: Owned) -> Result<u64, MonitorError> {
        let id = self.vm(|vm| vm.hook_add(kind, Default::default()))??;
        self.own.insert(id.0, owned);
        Ok(id.0)
    }
}
