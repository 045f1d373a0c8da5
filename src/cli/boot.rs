//! `moon86 boot`: run a machine without a script. The loop runs the VM in
//! short slices; between slices it forwards the terminal's input to COM1,
//! streams serial and debug-console output to files when asked, and, when a
//! person is at the terminal, paces execution so virtual time does not run
//! ahead of the wall clock (the guest's clock stays exact either way).

use super::boot_options::{BootError, BootOptions, Output};
use super::console::{Console, ConsoleEvent};
use crate::control::{Pacer, Vm};
use crate::display::{self, Display, DisplayError, Tick};
use crate::gdb::{self, GdbAddr, SessionEnd};
use std::io::Write;
use std::time::Duration;

/// Instructions per slice between looks at the terminal.
const SLICE: u64 = 200_000;

fn append(file: &mut Option<std::fs::File>, data: &[u8]) {
    if let Some(f) = file {
        // A full disk must not kill the guest; the data stays in the VM's log.
        let _ = f.write_all(data);
    }
}

/// Appends to `file` what `text` holds beyond the `seen` bytes already
/// written (a debug console's text grows between slices).
fn append_new(file: &mut Option<std::fs::File>, seen: &mut usize, text: &str) {
    append(file, &text.as_bytes()[(*seen).min(text.len())..]);
    *seen = text.len();
}

fn open_output(target: &Output) -> Result<Option<std::fs::File>, BootError> {
    match target {
        Output::File(path) => crate::host_file::create_stream(path)
            .map(Some)
            .map_err(|source| BootError::Create {
                path: path.clone(),
                source,
            }),
        _ => Ok(None),
    }
}

/// Boots the machine `opts` describes and runs it until the guest stops, the
/// person quits, or `limit` instructions have run. Returns the process exit
/// status: the guest's exit-port status, 1 after a triple fault, else 0.
pub fn boot(opts: &BootOptions, limit: Option<u64>) -> Result<i32, BootError> {
    if opts.display == Display::Sdl && !display::SDL_BUILT {
        return Err(DisplayError::NotBuilt.into());
    }
    let mut vm: Vm = opts.build()?;
    if let Some(addr) = &opts.gdb {
        if let Some(status) = debug(&mut vm, addr)? {
            return Ok(status);
        }
    }
    if opts.display == Display::Sdl {
        return windowed(&mut vm, opts, limit);
    }
    let mut serial_file = open_output(&opts.serial)?;
    let mut debugcon_file = open_output(&opts.debugcon)?;
    let mut debugcon_seen = 0usize;
    let mut bios_file = open_output(&opts.biosdebug)?;
    let mut bios_seen = 0usize;
    let mut console = (opts.serial == Output::Stdio).then(Console::open);
    let mut input_open = console.is_some();
    let mut pacer = Pacer::new(vm.now_ns()?);
    let status = loop {
        let left = limit.map(|l| l.saturating_sub(executed(&vm)));
        if left == Some(0) {
            eprint!(
                "\r\nmoon86: stopped after {} instructions (--instructions)\r\n",
                executed(&vm)
            );
            break 0;
        }
        let interactive = console.as_ref().is_some_and(|c| c.interactive());
        let budget = Some(left.unwrap_or(SLICE).min(SLICE));
        let why = if interactive {
            vm.run_paced(budget, None, &mut pacer)?
        } else {
            vm.run(budget)?
        };
        if serial_file.is_some() {
            append(&mut serial_file, &vm.serial_read()?);
        }
        if debugcon_file.is_some() {
            let text = vm.debugcon_text()?;
            append(
                &mut debugcon_file,
                &text.as_bytes()[debugcon_seen.min(text.len())..],
            );
            debugcon_seen = text.len();
        }
        if bios_file.is_some() {
            append_new(&mut bios_file, &mut bios_seen, &vm.biosdebug_text()?);
        }
        if let Some(c) = console.as_mut() {
            match c.poll() {
                Some(ConsoleEvent::Input(bytes)) => vm.serial_write(&bytes)?,
                Some(ConsoleEvent::Quit) => {
                    eprint!("\r\nmoon86: quit\r\n");
                    break 0;
                }
                Some(ConsoleEvent::Closed) => input_open = false,
                None => {}
            }
        }
        match why.name() {
            "budget" => {}
            "idle" if input_open => std::thread::sleep(Duration::from_millis(10)),
            "idle" => {
                eprint!("\r\nmoon86: the guest is idle (HLT with interrupts enabled) and nothing can wake it\r\n");
                break 0;
            }
            "reset" if !opts.no_reboot => {
                // As a PC does: the machine restarts, the images put back.
                vm.reset()?;
            }
            _ => {
                let reason = vm.stop_description().unwrap_or_default();
                eprint!("\r\nmoon86: the guest stopped: {reason}\r\n");
                break match vm.exit_code() {
                    Some(code) => (code & 0xFF) as i32,
                    None if why.name() == "shutdown" => 1,
                    None => 0,
                };
            }
        }
    };
    let _ = std::io::stdout().flush();
    Ok(status)
}

/// The exit status for a guest that stopped itself: its exit-port status,
/// 1 after a triple fault, else 0.
fn stop_status(vm: &Vm) -> i32 {
    match (vm.exit_code(), vm.halt_reason().map(|r| r.name())) {
        (Some(code), _) => (code & 0xFF) as i32,
        (None, Some("shutdown")) => 1,
        _ => 0,
    }
}

/// `boot` with `--display sdl`: the window runs the guest; between slices
/// this forwards the terminal to COM1 and writes the output files. The
/// window stays open after the guest stops; closing it ends the run.
fn windowed(vm: &mut Vm, opts: &BootOptions, limit: Option<u64>) -> Result<i32, BootError> {
    let mut serial_file = open_output(&opts.serial)?;
    let mut debugcon_file = open_output(&opts.debugcon)?;
    let mut debugcon_seen = 0usize;
    let mut bios_file = open_output(&opts.biosdebug)?;
    let mut bios_seen = 0usize;
    let mut console = (opts.serial == Output::Stdio).then(Console::open);
    let mut told_stop = false;
    let no_reboot = opts.no_reboot;
    let mut between = |vm: &mut Vm| -> Result<Tick, String> {
        let e = |e: crate::control::ControlError| e.to_string();
        if serial_file.is_some() {
            append(&mut serial_file, &vm.serial_read().map_err(e)?);
        }
        if debugcon_file.is_some() {
            let text = vm.debugcon_text().map_err(e)?;
            append(
                &mut debugcon_file,
                &text.as_bytes()[debugcon_seen.min(text.len())..],
            );
            debugcon_seen = text.len();
        }
        if bios_file.is_some() {
            append_new(
                &mut bios_file,
                &mut bios_seen,
                &vm.biosdebug_text().map_err(e)?,
            );
        }
        if let Some(c) = console.as_mut() {
            match c.poll() {
                Some(ConsoleEvent::Input(bytes)) => vm.serial_write(&bytes).map_err(e)?,
                Some(ConsoleEvent::Quit) => return Ok(Tick::Quit),
                _ => {}
            }
        }
        if limit.is_some_and(|l| executed(vm) >= l) && !told_stop {
            eprint!(
                "\r\nmoon86: stopped after {} instructions (--instructions)\r\n",
                executed(vm)
            );
            if vm.state() == crate::control::VmState::Running {
                vm.pause().map_err(e)?;
            }
            told_stop = true;
        }
        if !no_reboot && vm.halt_reason() == Some(crate::machine::HaltReason::Reset) {
            vm.reset().map_err(e)?;
            vm.resume().map_err(e)?;
        }
        if let Some(reason) = vm.stop_description().filter(|_| !told_stop) {
            eprint!("\r\nmoon86: the guest stopped: {reason} (close the window to quit)\r\n");
            told_stop = true;
        }
        Ok(Tick::Continue)
    };
    display::run_window(vm, &mut between)?;
    let _ = std::io::stdout().flush();
    Ok(stop_status(vm))
}

/// Serves one gdb session before the machine runs on its own. Returns the
/// exit status when the session ended the run (gdb killed the target, the
/// guest exited or died), `None` when gdb detached and the guest runs on.
fn debug(vm: &mut Vm, addr: &GdbAddr) -> Result<Option<i32>, BootError> {
    let end = gdb::serve(vm, addr, |local| {
        eprint!("moon86: waiting for gdb on {local} (in gdb: target remote {local})\r\n");
    })?;
    Ok(match end {
        SessionEnd::Detached | SessionEnd::Disconnected => match vm.stop_description() {
            // Halted with interrupts off while gdb looked: nothing runs on.
            Some(reason) => {
                eprint!(
                    "\r\nmoon86: gdb {}; the guest stopped: {reason}\r\n",
                    end.name()
                );
                Some(0)
            }
            None => {
                eprint!("\r\nmoon86: gdb {}; the guest runs on\r\n", end.name());
                None
            }
        },
        SessionEnd::Killed => {
            eprint!("\r\nmoon86: gdb killed the guest\r\n");
            Some(0)
        }
        SessionEnd::Exited(code) => {
            eprint!("\r\nmoon86: the guest exited under gdb (status {code})\r\n");
            Some(code.into())
        }
        SessionEnd::Terminated => {
            let reason = vm.stop_description().unwrap_or_default();
            eprint!("\r\nmoon86: the guest stopped under gdb: {reason}\r\n");
            Some(1)
        }
    })
}

/// Instructions executed so far: `--instructions` counts these, which a
/// guest's reset (moving `icount` back to 0) does not undo.
fn executed(vm: &Vm) -> u64 {
    vm.retired()
}
