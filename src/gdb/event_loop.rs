//! The gdb session's event loop: while gdb has the VM running, execute it
//! in slices through the control API, look at the connection between
//! slices (so Ctrl-C from gdb interrupts within a slice's time), and turn
//! how each slice ended into gdb's stop reply.
//!
//! A guest that halts with interrupts off (or idles with nothing to wake
//! it) looks to gdb like a target still running: gdb waits until Ctrl-C,
//! as with QEMU. A guest that leaves through the exit port is reported as
//! exited with the low byte of its exit status, a triple fault as killed by
//! SIGSEGV and a reset request as terminated by SIGHUP; all three end the
//! session, since the machine cannot go on.

use super::target::{GdbTarget, Resume};
use crate::control::{StopReason, Vm, VmState};
use crate::machine::HaltReason;
use gdbstub::common::Signal;
use gdbstub::conn::{Connection, ConnectionExt};
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::SingleThreadStopReason;
use gdbstub::target::Target;
use std::marker::PhantomData;
use std::net::TcpStream;
use std::time::Duration;

/// Instructions per slice between looks at the connection.
const SLICE: u64 = 100_000;
/// How long to sleep while the guest cannot run (halted, idle).
const NAP: Duration = Duration::from_millis(10);

type Stop = SingleThreadStopReason<u32>;

/// The event loop for a session over one VM borrowed for `'a`.
pub struct GdbEventLoop<'a>(PhantomData<&'a mut Vm>);

/// The stop reply for a guest that stopped itself, or `None` when gdb
/// should keep waiting (HLT with interrupts off).
fn halt_stop(reason: HaltReason) -> Option<Stop> {
    match reason {
        HaltReason::Hlt => None,
        HaltReason::Exit(code) => Some(SingleThreadStopReason::Exited((code & 0xFF) as u8)),
        HaltReason::Shutdown => Some(SingleThreadStopReason::Terminated(Signal::SIGSEGV)),
        HaltReason::Reset => Some(SingleThreadStopReason::Terminated(Signal::SIGHUP)),
    }
}

/// Runs or steps once; `Some` when the VM stopped in a way gdb must hear.
fn advance(t: &mut GdbTarget<'_>) -> Result<Option<Stop>, String> {
    if t.vm.state() == VmState::Halted {
        if let Some(stop) = t.vm.halt_reason().and_then(halt_stop) {
            return Ok(Some(stop));
        }
        std::thread::sleep(NAP);
        return Ok(None);
    }
    let step = t.resume == Resume::Step;
    let why = if step {
        t.vm.step(1)
    } else {
        t.vm.run(Some(SLICE))
    }
    .map_err(|e| e.to_string())?;
    Ok(match why {
        StopReason::Hook => {
            let fires = t.vm.take_fires();
            match t.stop_for(&fires) {
                Some(stop) => Some(stop),
                None if step => Some(SingleThreadStopReason::DoneStep),
                None => None,
            }
        }
        StopReason::Halted(reason) => match halt_stop(reason) {
            Some(stop) => Some(stop),
            None if step => Some(SingleThreadStopReason::DoneStep),
            None => None,
        },
        StopReason::Idle if !step => {
            std::thread::sleep(NAP);
            None
        }
        _ if step => Some(SingleThreadStopReason::DoneStep),
        _ => None,
    })
}

impl<'a> BlockingEventLoop for GdbEventLoop<'a> {
    type Target = GdbTarget<'a>;
    type Connection = TcpStream;
    type StopReason = Stop;

    #[allow(clippy::type_complexity)]
    fn wait_for_stop_reason(
        target: &mut GdbTarget<'a>,
        conn: &mut TcpStream,
    ) -> Result<
        Event<Stop>,
        WaitForStopReasonError<<Self::Target as Target>::Error, <TcpStream as Connection>::Error>,
    > {
        loop {
            if conn
                .peek()
                .map_err(WaitForStopReasonError::Connection)?
                .is_some()
            {
                let byte = conn.read().map_err(WaitForStopReasonError::Connection)?;
                return Ok(Event::IncomingData(byte));
            }
            if let Some(stop) = advance(target).map_err(WaitForStopReasonError::Target)? {
                return Ok(Event::TargetStopped(stop));
            }
        }
    }

    fn on_interrupt(_target: &mut GdbTarget<'a>) -> Result<Option<Stop>, String> {
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}
