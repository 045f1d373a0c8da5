//! The `Vm`: one machine under the control API. It owns the machine, the
//! configuration fixed while it is off, the images to put back on reset, and
//! the lifecycle state; its methods are the actions of the action table, each
//! guarded by that table.

use super::action::Action;
use super::hooks::{Filter, Fire, HookId, HookInfo, HookKind, HookTable};
use super::output_file::write_whole;
use super::state::VmState;
use super::ControlError;
use crate::machine::loader::{Entry, Image};
use crate::machine::{HaltReason, Machine, MachineConfig, RunExit};
use std::fmt;
use std::path::{Path, PathBuf};

/// Largest single memory read or dump, so a typo cannot exhaust the host.
pub const MAX_TRANSFER: u64 = 1 << 32;
/// `run` executes in slices of this many instructions between checks of the
/// VM state (a pause requested by a front end takes effect between slices).
const RUN_SLICE: u64 = 1 << 20;

/// Why `run` or `step` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The instruction budget was spent.
    Budget,
    /// The guest stopped itself.
    Halted(HaltReason),
    /// HLT with interrupts enabled and nothing on the board to raise one.
    Idle,
    /// Something paused the VM.
    Paused,
    /// Hooks fired: [`Vm::take_fires`] says which.
    Hook,
    /// Virtual time reached the deadline given to [`Vm::run_until`].
    Timeout,
}

impl StopReason {
    /// The name scripts see: budget, halted, shutdown, exit, idle, paused.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Budget => "budget",
            StopReason::Halted(HaltReason::Hlt) => "halted",
            StopReason::Halted(HaltReason::Shutdown) => "shutdown",
            StopReason::Halted(HaltReason::Exit(_)) => "exit",
            StopReason::Halted(HaltReason::Reset) => "reset",
            StopReason::Idle => "idle",
            StopReason::Paused => "paused",
            StopReason::Hook => "hook",
            StopReason::Timeout => "timeout",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug)]
pub struct Vm {
    state: VmState,
    config: MachineConfig,
    machine: Option<Machine>,
    images: Vec<Image>,
    halt: Option<HaltReason>,
    hooks: HookTable,
    /// Why the machine stopped, held back while the hooks that fired on
    /// the way there are handled.
    pending_exit: Option<RunExit>,
    /// Instructions executed by `run` and `step` since the VM was made; a
    /// reset or a restore, which move `icount` back, leave it alone, so a
    /// budget counts what a call executed.
    retired: u64,
}

impl Vm {
    /// A VM in state `off`, built from `config`.
    pub fn new(config: MachineConfig) -> Result<Vm, ControlError> {
        let machine = Machine::new(&config)?;
        Ok(Vm {
            state: VmState::Off,
            config,
            machine: Some(machine),
            images: Vec::new(),
            halt: None,
            hooks: HookTable::default(),
            pending_exit: None,
            retired: 0,
        })
    }

    /// Instructions executed by `run` and `step` since the VM was made, on
    /// a count that resets and restores do not move (unlike `icount`).
    pub fn retired(&self) -> u64 {
        self.retired
    }

    pub fn state(&self) -> VmState {
        self.state
    }
    pub fn config(&self) -> &MachineConfig {
        &self.config
    }
    pub(super) fn config_mut(&mut self) -> &mut MachineConfig {
        &mut self.config
    }
    /// Why the guest stopped itself, while the state is `halted`.
    pub fn halt_reason(&self) -> Option<HaltReason> {
        self.halt
    }
    /// The exit status the guest asked for through the exit port.
    pub fn exit_code(&self) -> Option<u32> {
        match self.halt {
            Some(HaltReason::Exit(code)) => Some(code),
            _ => None,
        }
    }
    /// The images loaded so far, in load order.
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    pub fn machine(&self) -> Result<&Machine, ControlError> {
        self.machine.as_ref().ok_or(ControlError::Destroyed)
    }
    pub fn machine_mut(&mut self) -> Result<&mut Machine, ControlError> {
        self.machine.as_mut().ok_or(ControlError::Destroyed)
    }

    /// A fresh machine built from `config` with the loaded images put back
    /// and the host-side output settings (debug console and serial echo) of
    /// the current machine kept.
    fn fresh_machine(&self, config: &MachineConfig) -> Result<Machine, ControlError> {
        let mut fresh = Machine::new(config)?;
        for image in &self.images {
            image.apply(&mut fresh)?;
        }
        let old = self.machine()?;
        // The drives and their overlays stay, as disks do over a power cycle.
        fresh.board.io.ata = old.board.io.ata.clone();
        for ch in &mut fresh.board.io.ata {
            crate::devices::PortDevice::reset(ch);
        }
        fresh.board.io.fdc = old.board.io.fdc.clone();
        crate::devices::PortDevice::reset(&mut fresh.board.io.fdc);
        fresh.write_firmware_cmos(config);
        fresh.board.io.debugcon.echo = old.board.io.debugcon.echo;
        fresh.board.io.seabios_debug.echo = old.board.io.seabios_debug.echo;
        fresh.cpu.set_jit_enabled(old.cpu.jit_enabled());
        for (new_log, old_log) in fresh.serial.iter_mut().zip(&old.serial) {
            new_log.echo = old_log.echo;
        }
        fresh.set_watches(&self.hooks.watch_set());
        Ok(fresh)
    }

    /// Replaces RAM with a fresh one of `size` bytes and puts the images back.
    /// On error (bad size, an image that no longer fits) nothing changes.
    pub(super) fn set_ram_size(&mut self, size: u64) -> Result<(), ControlError> {
        let config = MachineConfig {
            ram_size: size,
            ..self.config.clone()
        };
        let mut fresh = self.fresh_machine(&config)?;
        // The CPU keeps what was set while off; only the RAM is new.
        fresh.cpu = self.machine()?.cpu.clone();
        self.machine = Some(fresh);
        self.config = config;
        Ok(())
    }

    /// Changes the clock rate and/or the RTC's start time (only while off:
    /// the machine's clock has not started).
    pub(super) fn set_clock_config(
        &mut self,
        ips: Option<u64>,
        rtc_start: Option<i64>,
    ) -> Result<(), ControlError> {
        if let Some(ips) = ips {
            self.config.ips = ips;
        }
        if let Some(start) = rtc_start {
            self.config.rtc_start = start;
        }
        let config = self.config.clone();
        let m = self.machine_mut()?;
        m.board.clock = crate::machine::VirtualClock::new(config.ips);
        m.board.io.rtc = crate::devices::Rtc::new(config.rtc_start);
        m.write_firmware_cmos(&config);
        Ok(())
    }

    /// Puts a changed boot order or menu switch into CMOS and fw_cfg.
    pub(super) fn apply_boot_config(&mut self) -> Result<(), ControlError> {
        let config = self.config.clone();
        self.machine_mut()?.set_boot_config(&config);
        Ok(())
    }

    /// After a snapshot was put back: halted with `halt` when the snapshot
    /// had stopped, paused otherwise.
    pub(super) fn stop_restored(&mut self, halt: Option<HaltReason>) {
        self.halt = halt;
        self.state = if halt.is_some() {
            VmState::Halted
        } else {
            VmState::Paused
        };
    }

    pub(super) fn set_exit_port(&mut self, port: u16) -> Result<(), ControlError> {
        self.machine_mut()?.set_exit_port(port);
        self.config.exit_port = port;
        Ok(())
    }

    // ---- lifecycle -------------------------------------------------------

    pub fn power_on(&mut self) -> Result<(), ControlError> {
        self.guard(Action::PowerOn)?;
        self.state = VmState::Paused;
        Ok(())
    }

    pub fn power_off(&mut self) -> Result<(), ControlError> {
        self.guard(Action::PowerOff)?;
        self.machine = Some(self.fresh_machine(&self.config)?);
        self.halt = None;
        self.pending_exit = None;
        self.state = VmState::Off;
        Ok(())
    }

    pub fn reset(&mut self) -> Result<(), ControlError> {
        self.guard(Action::Reset)?;
        let m = self.machine.as_mut().ok_or(ControlError::Destroyed)?;
        m.reset();
        m.board.mem.unmap_roms();
        for image in &self.images {
            image.apply(m)?;
        }
        self.halt = None;
        self.pending_exit = None;
        self.state = VmState::Paused;
        Ok(())
    }

    pub fn pause(&mut self) -> Result<(), ControlError> {
        self.guard(Action::Pause)?;
        self.state = VmState::Paused;
        Ok(())
    }

    pub fn resume(&mut self) -> Result<(), ControlError> {
        self.guard(Action::Resume)?;
        self.state = VmState::Running;
        Ok(())
    }

    pub fn destroy(&mut self) -> Result<(), ControlError> {
        self.guard(Action::Destroy)?;
        self.machine = None;
        self.images.clear();
        self.state = VmState::Destroyed;
        Ok(())
    }

    // ---- execution -------------------------------------------------------

    /// Executes `count` instructions; the VM stays paused unless the guest
    /// halts. Hooks fire as in `run`.
    pub fn step(&mut self, count: u64) -> Result<StopReason, ControlError> {
        self.guard(Action::Step)?;
        self.state = VmState::Running;
        let r = self.execute(count, None, VmState::Paused);
        if r.is_err() {
            self.state = VmState::Paused;
        }
        r
    }

    /// Executes until `budget` instructions are spent (no limit when `None`)
    /// or the guest stops itself. A budget stop returns the VM to the state it
    /// was in (paused or running); a halt leaves it halted.
    pub fn run(&mut self, budget: Option<u64>) -> Result<StopReason, ControlError> {
        self.run_until(budget, None)
    }

    /// As [`Vm::run`], and stops with [`StopReason::Timeout`] when virtual
    /// time reaches `deadline_ns` (nanoseconds since power-on), and with
    /// [`StopReason::Hook`] when hooks fired (the budget left is the
    /// caller's to carry on with).
    pub fn run_until(
        &mut self,
        budget: Option<u64>,
        deadline_ns: Option<u64>,
    ) -> Result<StopReason, ControlError> {
        self.guard(Action::Run)?;
        let resume_state = self.state;
        self.state = VmState::Running;
        let r = self.execute(budget.unwrap_or(u64::MAX), deadline_ns, resume_state);
        if r.is_err() {
            self.state = resume_state;
        }
        r
    }

    fn execute(
        &mut self,
        budget: u64,
        deadline_ns: Option<u64>,
        resume_state: VmState,
    ) -> Result<StopReason, ControlError> {
        // While the front end handles fires or polls, the VM is paused at
        // that instruction boundary (its callbacks may change registers).
        if self.hooks.has_fires() {
            self.state = VmState::Paused;
            return Ok(StopReason::Hook);
        }
        if let Some(exit) = self.pending_exit.take() {
            return Ok(self.settle(exit, resume_state));
        }
        let mut left = budget;
        let mut first = true;
        loop {
            let m = self.machine.as_mut().ok_or(ControlError::Destroyed)?;
            let now = m.now_ns();
            let next = match (self.hooks.next_deadline_ns(now), deadline_ns) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            m.deadline_tick = next.map(|ns| m.board.clock.tick_at_ns(ns));
            // (Between slices only the hooks' own bookkeeping runs: the
            // machine is as the last slice left it.)
            let slice = left.min(RUN_SLICE);
            let (exit, done) = if first { m.run(slice) } else { m.run_on(slice) };
            first = false;
            self.retired += done;
            left -= done.min(left);
            match exit {
                RunExit::Events => {
                    let events = m.take_events();
                    self.hooks.dispatch(events);
                }
                RunExit::Deadline => {
                    self.hooks.on_deadline(m);
                    if !self.hooks.has_fires() && deadline_ns.is_some_and(|d| m.now_ns() >= d) {
                        self.state = VmState::Paused;
                        return Ok(StopReason::Timeout);
                    }
                }
                RunExit::Budget if left > 0 => {
                    // A front end paused the VM between slices.
                    if self.state != VmState::Running {
                        return Ok(StopReason::Paused);
                    }
                }
                other => {
                    // What the watches saw on the way to the stop (the
                    // last serial bytes, the final screen) fires first.
                    let events = m.take_events();
                    self.hooks.dispatch(events);
                    self.hooks.look_at_screen(m);
                    if !self.hooks.has_fires() {
                        return Ok(self.settle(other, resume_state));
                    }
                    self.pending_exit = Some(other);
                }
            }
            if self.hooks.has_fires() {
                self.state = VmState::Paused;
                return Ok(StopReason::Hook);
            }
            if left == 0 {
                return Ok(self.settle(RunExit::Budget, resume_state));
            }
        }
    }

    fn settle(&mut self, exit: RunExit, otherwise: VmState) -> StopReason {
        match exit {
            RunExit::Halted(reason) => {
                self.halt = Some(reason);
                self.state = VmState::Halted;
                StopReason::Halted(reason)
            }
            RunExit::Idle => {
                self.state = VmState::Paused;
                StopReason::Idle
            }
            _ => {
                self.state = otherwise;
                StopReason::Budget
            }
        }
    }

    // ---- hooks -------------------------------------------------------------

    /// Adds a hook; it takes effect at the next instruction.
    pub fn hook_add(&mut self, kind: HookKind, filter: Filter) -> Result<HookId, ControlError> {
        self.guard(super::hook_check::action_for(&kind))?;
        super::hook_check::check(&kind, &filter)?;
        let id = self.hooks.add(kind, filter);
        self.sync_watches()?;
        Ok(id)
    }

    /// Adds a serial text hook whose window starts with COM`port+1`'s output
    /// from byte `from` on (so a match may span old and new output).
    pub fn hook_add_serial_since(
        &mut self,
        kind: HookKind,
        filter: Filter,
        from: usize,
    ) -> Result<HookId, ControlError> {
        let port = match &kind {
            HookKind::SerialText { port, .. } => *port,
            _ => 0,
        };
        let id = self.hook_add(kind, filter)?;
        let log = self.machine()?.serial[port.min(1)].all();
        let seed = log[from.min(log.len())..].to_vec();
        self.hooks.seed_window(id, &seed);
        Ok(id)
    }

    fn no_hook(&self, id: HookId) -> ControlError {
        let why = if self.hooks.was_issued(id) {
            "it was removed"
        } else {
            "no hook ever had that id"
        };
        ControlError::BadValue {
            name: "hook".into(),
            reason: format!("there is no hook {} ({why})", id.0),
        }
    }

    /// Removes a hook; it no longer fires from the next instruction on.
    pub fn hook_remove(&mut self, id: HookId) -> Result<(), ControlError> {
        self.guard(Action::HookControl)?;
        if !self.hooks.remove(id) {
            return Err(self.no_hook(id));
        }
        self.sync_watches()
    }

    pub fn hook_set_enabled(&mut self, id: HookId, enabled: bool) -> Result<(), ControlError> {
        self.guard(Action::HookControl)?;
        if !self.hooks.set_enabled(id, enabled) {
            return Err(self.no_hook(id));
        }
        self.sync_watches()
    }

    pub fn hook_info(&self, id: HookId) -> Result<HookInfo, ControlError> {
        self.hooks.info(id).cloned().ok_or_else(|| self.no_hook(id))
    }

    /// Every hook, in registration order.
    pub fn hooks(&self) -> Vec<HookInfo> {
        self.hooks.list().cloned().collect()
    }

    /// The hooks that fired at the last [`StopReason::Hook`], in order.
    pub fn take_fires(&mut self) -> Vec<Fire> {
        let fires = self.hooks.take_fires();
        // A hook that fired its last time (limit) stops watching now.
        if self.sync_watches().is_err() {
            return Vec::new();
        }
        fires
    }

    /// Adds the time a hook's callback took.
    pub fn hook_account(&mut self, id: HookId, spent: std::time::Duration) {
        self.hooks.account(id, spent);
    }

    /// The front end's verdict on a pattern hook's candidate text; true when
    /// the callback should run (see [`HookTable::text_result`]).
    pub fn hook_text_result(&mut self, id: HookId, matched: bool, consumed: usize) -> bool {
        let fire = self.hooks.text_result(id, matched, consumed);
        let _ = self.sync_watches();
        fire
    }

    /// After a restore: nothing held back from before it, and the hooks'
    /// watches put on the restored machine.
    pub(super) fn after_restore(&mut self) -> Result<(), ControlError> {
        self.pending_exit = None;
        self.hooks.take_fires();
        self.machine_mut()?.forget_events();
        self.sync_watches()
    }

    pub(super) fn hooks_table(&self) -> &HookTable {
        &self.hooks
    }

    fn sync_watches(&mut self) -> Result<(), ControlError> {
        let set = self.hooks.watch_set();
        self.machine_mut()?.set_watches(&set);
        Ok(())
    }

    /// Why the guest stopped itself, for people: the halt reason and,
    /// after a triple fault, the exceptions that led to it and the
    /// instruction that raised the first; after HLT with interrupts off,
    /// where the CPU stopped (`None` unless halted).
    pub fn stop_description(&mut self) -> Option<String> {
        let reason = self.halt_reason()?;
        let cause = self
            .machine()
            .ok()
            .and_then(|m| m.cpu.shutdown_cause().cloned());
        Some(match (reason, cause) {
            (HaltReason::Shutdown, Some(cause)) => {
                let at = self.location().unwrap_or_default();
                format!("{reason}: {cause}; the instruction: {at}")
            }
            // EIP is past the HLT: say where the CPU stopped.
            (HaltReason::Hlt, _) => {
                let at = self.location().unwrap_or_default();
                format!("{reason}, at {at}")
            }
            _ => reason.to_string(),
        })
    }

    /// Where the CPU is, for messages: `CS:EIP  instruction`.
    pub fn location(&mut self) -> Result<String, ControlError> {
        let m = self.machine_mut()?;
        let cs = m.cpu.segment(crate::cpu::SegReg::Cs).selector;
        let eip = m.cpu.eip();
        let insn = m.cpu.disassemble_current(&mut m.board);
        Ok(format!("{cs:04x}:{eip:08x}  {insn}"))
    }

    // ---- images ----------------------------------------------------------

    /// The RAM size images are read for (nothing larger is read).
    pub(super) fn ram_size(&self) -> Result<u64, ControlError> {
        Ok(self.machine()?.board.mem.ram_size())
    }

    fn load(&mut self, action: Action, image: Image) -> Result<(), ControlError> {
        self.guard(action)?;
        image.apply(self.machine_mut()?)?;
        self.images.push(image);
        Ok(())
    }

    /// Loads a raw binary at `addr`; with `entry`, execution starts there.
    pub fn load_raw(
        &mut self,
        path: &Path,
        addr: u32,
        entry: Option<Entry>,
    ) -> Result<(), ControlError> {
        self.guard(Action::LoadRaw)?;
        let image = Image::raw(path, addr, entry, self.ram_size()?)?;
        self.load(Action::LoadRaw, image)
    }

    pub fn load_rom(&mut self, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::LoadRom)?;
        let image = Image::rom(path)?;
        self.load(Action::LoadRom, image)
    }

    /// Loads PC firmware with shadow RAM, and a VGA BIOS for it to run.
    pub fn load_bios(&mut self, path: &Path, vga: Option<&Path>) -> Result<(), ControlError> {
        self.guard(Action::LoadBios)?;
        let image = Image::bios(path, vga)?;
        self.load(Action::LoadBios, image)
    }

    /// Loads an option ROM at `addr`, or after the option ROMs loaded so
    /// far (0xC0000 for the first).
    pub fn load_option_rom(&mut self, path: &Path, addr: Option<u32>) -> Result<(), ControlError> {
        self.guard(Action::LoadOptionRom)?;
        let next = self.images.iter().filter_map(Image::option_rom_end).max();
        let addr = addr
            .or(next)
            .unwrap_or(crate::machine::loader::OPTION_ROM_START);
        let image = Image::option_rom(path, addr)?;
        self.load(Action::LoadOptionRom, image)
    }

    pub fn load_boot_sector(&mut self, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::LoadBootSector)?;
        let image = Image::boot_sector(path)?;
        self.load(Action::LoadBootSector, image)
    }

    /// Loads a Linux bzImage with an optional initrd and a command line.
    pub fn load_linux(
        &mut self,
        kernel: &Path,
        initrd: Option<&Path>,
        cmdline: &str,
    ) -> Result<(), ControlError> {
        self.guard(Action::LoadLinux)?;
        let mut image = Image::linux(kernel, initrd, cmdline, self.ram_size()?)?;
        if self.images.iter().any(Image::takes_kernel) {
            image = image.via_firmware();
        }
        self.load(Action::LoadLinux, image)
    }

    /// Loads a Multiboot kernel with a command line and modules (path, command line).
    pub fn load_multiboot(
        &mut self,
        kernel: &Path,
        cmdline: &str,
        modules: &[(PathBuf, String)],
    ) -> Result<(), ControlError> {
        self.guard(Action::LoadMultiboot)?;
        let image = Image::multiboot(kernel, cmdline, modules, self.ram_size()?)?;
        self.load(Action::LoadMultiboot, image)
    }

    // ---- memory ----------------------------------------------------------

    fn check_transfer(len: u64) -> Result<(), ControlError> {
        if len > MAX_TRANSFER {
            return Err(ControlError::BadValue {
                name: "len".into(),
                reason: format!(
                    "{len} bytes is more than the {MAX_TRANSFER} bytes one transfer may move"
                ),
            });
        }
        Ok(())
    }

    pub fn mem_read(&self, addr: u64, len: u64) -> Result<Vec<u8>, ControlError> {
        self.guard(Action::MemRead)?;
        Self::check_transfer(len)?;
        let mut buf = vec![0; len as usize];
        self.machine()?.board.mem.read_bytes(addr, &mut buf)?;
        Ok(buf)
    }

    pub fn mem_write(&mut self, addr: u64, data: &[u8]) -> Result<(), ControlError> {
        self.guard(Action::MemWrite)?;
        self.machine_mut()?.board.mem.write_bytes(addr, data)?;
        Ok(())
    }

    /// Reads a little-endian integer of `size` bytes (1, 2 or 4).
    pub fn mem_read_int(&self, addr: u64, size: usize) -> Result<u32, ControlError> {
        self.guard(Action::MemReadInt)?;
        let mut buf = [0u8; 4];
        self.machine()?
            .board
            .mem
            .read_bytes(addr, &mut buf[..size.min(4)])?;
        Ok(u32::from_le_bytes(buf))
    }

    /// Writes the low `size` bytes (1, 2 or 4) of `value`, little-endian.
    pub fn mem_write_int(
        &mut self,
        addr: u64,
        size: usize,
        value: u64,
    ) -> Result<(), ControlError> {
        self.guard(Action::MemWriteInt)?;
        let size = size.min(4);
        if size < 8 && value >> (size * 8) != 0 {
            return Err(ControlError::BadValue {
                name: "value".into(),
                reason: format!("0x{value:x} does not fit in {size} byte(s)"),
            });
        }
        let bytes = (value as u32).to_le_bytes();
        self.machine_mut()?
            .board
            .mem
            .write_bytes(addr, &bytes[..size])?;
        Ok(())
    }

    /// Writes `len` bytes from `addr` to `path`, whole or not at all.
    pub fn mem_dump(&self, addr: u64, len: u64, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::MemDump)?;
        Self::check_transfer(len)?;
        let mut buf = vec![0; len as usize];
        self.machine()?.board.mem.read_bytes(addr, &mut buf)?;
        write_whole(path, &buf)
    }

    // ---- serial port, screen ----------------------------------------------

    /// What the guest wrote to COM1 since the previous call.
    pub fn serial_read(&mut self) -> Result<Vec<u8>, ControlError> {
        self.guard(Action::SerialRead)?;
        Ok(self.machine_mut()?.serial[0].read_new().to_vec())
    }

    /// Everything the guest wrote to COM1 since power-on.
    pub fn serial_text(&self) -> Result<Vec<u8>, ControlError> {
        self.guard(Action::SerialText)?;
        Ok(self.machine()?.serial[0].all().to_vec())
    }

    /// Queues bytes for the guest to receive on COM1.
    pub fn serial_write(&mut self, data: &[u8]) -> Result<(), ControlError> {
        self.guard(Action::SerialWrite)?;
        self.machine_mut()?.board.io.com[0].receive(data);
        Ok(())
    }

    /// Queues set-2 scancodes at the keyboard controller.
    pub fn keyboard_send(&mut self, scancodes: &[u8]) -> Result<(), ControlError> {
        self.guard(Action::KeyboardSend)?;
        self.machine_mut()?
            .board
            .io
            .keyboard
            .push_scancodes(scancodes);
        Ok(())
    }

    /// Types `text` on the keyboard (US layout), paced by the guest's reads.
    pub fn keyboard_type(&mut self, text: &str) -> Result<(), ControlError> {
        self.guard(Action::KeyboardType)?;
        let codes = crate::devices::keymap::type_text(text).map_err(|c| ControlError::BadValue {
            name: "text".into(),
            reason: format!(
                "no key types {c:?} (printable ASCII, \\n, \\t, \\b and \\27 can be typed; use keyboard:send for other scancodes)"
            ),
        })?;
        self.machine_mut()?.board.io.keyboard.push_scancodes(&codes);
        Ok(())
    }

    /// Presses a key combination such as "ctrl+alt+del".
    pub fn keyboard_press(&mut self, combo: &str) -> Result<(), ControlError> {
        self.guard(Action::KeyboardPress)?;
        use crate::devices::keymap::{key_names, press_combo, ComboError};
        let codes = press_combo(combo).map_err(|e| ControlError::BadValue {
            name: "keys".into(),
            reason: match e {
                ComboError::Empty => format!("'{combo}' names no key"),
                ComboError::EmptyKey { index } => format!(
                    "'{combo}': key {index} between the '+' signs is empty (join key names with '+', \"ctrl+alt+del\"; the plus key is \"ctrl++\")"
                ),
                ComboError::Unknown(name) => {
                    let hint = super::nearest(&name, key_names())
                        .map(|s| format!(" (did you mean '{s}'?)"))
                        .unwrap_or_default();
                    format!("no key is called '{name}'{hint}")
                }
            },
        })?;
        self.machine_mut()?.board.io.keyboard.push_scancodes(&codes);
        Ok(())
    }

    /// The VGA text screen as lines.
    pub fn screen_text(&self) -> Result<Vec<String>, ControlError> {
        self.guard(Action::ScreenText)?;
        Ok(self.machine()?.screen_text())
    }

    // ---- debug console ---------------------------------------------------

    pub fn debugcon_text(&self) -> Result<String, ControlError> {
        self.guard(Action::DebugconText)?;
        Ok(self.machine()?.board.io.debugcon.text())
    }

    pub fn debugcon_clear(&mut self) -> Result<(), ControlError> {
        self.guard(Action::DebugconClear)?;
        self.machine_mut()?.board.io.debugcon.clear();
        Ok(())
    }

    /// What the firmware wrote to its debug port 0x402 (SeaBIOS, Bochs BIOS).
    pub fn biosdebug_text(&self) -> Result<String, ControlError> {
        self.guard(Action::BiosdebugText)?;
        Ok(self.machine()?.board.io.seabios_debug.text())
    }

    pub fn biosdebug_clear(&mut self) -> Result<(), ControlError> {
        self.guard(Action::BiosdebugClear)?;
        self.machine_mut()?.board.io.seabios_debug.clear();
        Ok(())
    }
}
