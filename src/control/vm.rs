//! The `Vm`: one machine under the control API. It owns the machine, the
//! configuration fixed while it is off, the images to put back on reset, and
//! the lifecycle state; its methods are the actions of the action table, each
//! guarded by that table.

use super::action::Action;
use super::state::VmState;
use super::ControlError;
use crate::machine::loader::{Entry, Image};
use crate::machine::{HaltReason, Machine, MachineConfig, RunExit};
use std::fmt;
use std::io::Write;
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
        })
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
        fresh.board.io.debugcon.echo = old.board.io.debugcon.echo;
        for (new_log, old_log) in fresh.serial.iter_mut().zip(&old.serial) {
            new_log.echo = old_log.echo;
        }
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
        m.board.io.rtc.set_memory_size(config.ram_size);
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

    /// Executes `count` instructions; the VM stays paused unless the guest halts.
    pub fn step(&mut self, count: u64) -> Result<StopReason, ControlError> {
        self.guard(Action::Step)?;
        let exit = self.machine_mut()?.run(count);
        Ok(self.settle(exit, VmState::Paused))
    }

    /// Executes until `budget` instructions are spent (no limit when `None`)
    /// or the guest stops itself. A budget stop returns the VM to the state it
    /// was in (paused or running); a halt leaves it halted.
    pub fn run(&mut self, budget: Option<u64>) -> Result<StopReason, ControlError> {
        self.guard(Action::Run)?;
        let resume_state = self.state;
        self.state = VmState::Running;
        let mut left = budget.unwrap_or(u64::MAX);
        loop {
            let slice = left.min(RUN_SLICE);
            let exit = self.machine_mut()?.run(slice);
            left -= slice.min(left);
            if exit != RunExit::Budget || left == 0 {
                return Ok(self.settle(exit, resume_state));
            }
            if self.state != VmState::Running {
                return Ok(StopReason::Paused);
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
            RunExit::Budget => {
                self.state = otherwise;
                StopReason::Budget
            }
            RunExit::Idle => {
                self.state = VmState::Paused;
                StopReason::Idle
            }
        }
    }

    // ---- images ----------------------------------------------------------

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
        let image = Image::raw(path, addr, entry)?;
        self.load(Action::LoadRaw, image)
    }

    pub fn load_rom(&mut self, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::LoadRom)?;
        let image = Image::rom(path)?;
        self.load(Action::LoadRom, image)
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
        let image = Image::linux(kernel, initrd, cmdline)?;
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
        let image = Image::multiboot(kernel, cmdline, modules)?;
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
}

/// Writes `data` to a temporary file beside `path`, then renames it, so a
/// failure never leaves a partial file behind.
pub fn write_whole(path: &Path, data: &[u8]) -> Result<(), ControlError> {
    let err = |source| ControlError::WriteFile {
        path: path.to_owned(),
        source,
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".moon86-tmp");
    let tmp = path.with_file_name(tmp_name);
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}
