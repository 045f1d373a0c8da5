//! The gdb remote stub: gdb (`target remote :1234`) drives one VM through
//! the control API, as any other front end does. `moon86 boot --gdb
//! tcp::1234` and `vm:gdbserver(1234)` both end up in [`serve`], which
//! listens, accepts one connection and serves it until gdb detaches, kills
//! the target or the guest stops for good; it blocks meanwhile.
//!
//! The session: [`target`] is the VM as a gdbstub target (registers,
//! memory, breakpoints and watchpoints as hooks in the VM's hook table),
//! [`event_loop`] runs the guest while gdb waits and notices Ctrl-C, and
//! [`regs`] maps moon86's registers to gdb's i386 register file, and
//! [`commands`] answers gdb's `monitor` commands.

mod commands;
mod event_loop;
mod regs;
mod target;

use crate::control::action::Action;
use crate::control::{Vm, VmState};
use event_loop::GdbEventLoop;
use gdbstub::stub::{DisconnectReason, GdbStub};
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::str::FromStr;
use target::GdbTarget;
use thiserror::Error;

/// Where the stub listens: `tcp::PORT` (127.0.0.1), `tcp:HOST:PORT`,
/// `HOST:PORT`, `:PORT` or `PORT`. Port 0 picks a free port (announced
/// when listening).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GdbAddr {
    pub host: String,
    pub port: u16,
}

impl FromStr for GdbAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("tcp:").unwrap_or(s);
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => ("", rest),
        };
        let port: u16 = port.parse().map_err(|_| {
            format!("'{s}' is not tcp::PORT, tcp:HOST:PORT or PORT (a port is 0-65535)")
        })?;
        let host = if host.is_empty() { "127.0.0.1" } else { host };
        Ok(GdbAddr {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for GdbAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp:{}:{}", self.host, self.port)
    }
}

/// How a gdb session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// gdb detached (`detach`, or `quit` after asking); the VM is paused
    /// where gdb left it and may run on.
    Detached,
    /// gdb killed the target (`kill`).
    Killed,
    /// The guest left through the exit port with this exit status.
    Exited(u8),
    /// The guest stopped for good: a triple fault or a reset request.
    Terminated,
    /// The connection dropped without a detach.
    Disconnected,
}

impl SessionEnd {
    /// The name scripts see: detached, killed, exited, terminated or
    /// disconnected.
    pub fn name(self) -> &'static str {
        match self {
            SessionEnd::Detached => "detached",
            SessionEnd::Killed => "killed",
            SessionEnd::Exited(_) => "exited",
            SessionEnd::Terminated => "terminated",
            SessionEnd::Disconnected => "disconnected",
        }
    }
}

#[derive(Debug, Error)]
pub enum GdbError {
    #[error("gdb stub: cannot listen on {addr}: {source}")]
    Listen {
        addr: GdbAddr,
        source: std::io::Error,
    },
    #[error("gdb stub: waiting for gdb on {addr}: {source}")]
    Accept {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gdb stub: {0}")]
    Session(String),
}

/// Listens on `addr`, calls `announce` with the address it listens on,
/// accepts one gdb connection and serves it until the session ends. The VM
/// must be powered on; it is paused while gdb looks at it and runs when
/// gdb continues. Every breakpoint and watchpoint the session added is
/// removed from the hook table when it ends.
pub fn serve(
    vm: &mut Vm,
    addr: &GdbAddr,
    announce: impl FnOnce(SocketAddr),
) -> Result<SessionEnd, GdbError> {
    vm.guard(Action::GdbServer)
        .map_err(|e| GdbError::Session(e.to_string()))?;
    if vm.state() == VmState::Running {
        vm.pause().map_err(|e| GdbError::Session(e.to_string()))?;
    }
    let listener =
        TcpListener::bind((addr.host.as_str(), addr.port)).map_err(|source| GdbError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| GdbError::Listen {
        addr: addr.clone(),
        source,
    })?;
    announce(local);
    let (stream, _) = listener.accept().map_err(|source| GdbError::Accept {
        addr: local,
        source,
    })?;
    drop(listener);
    let _ = stream.set_nodelay(true);
    let mut target = GdbTarget::new(vm);
    let result = GdbStub::new(stream).run_blocking::<GdbEventLoop<'_>>(&mut target);
    target.remove_all();
    match result {
        Ok(DisconnectReason::Disconnect) => Ok(SessionEnd::Detached),
        Ok(DisconnectReason::Kill) => Ok(SessionEnd::Killed),
        Ok(DisconnectReason::TargetExited(code)) => Ok(SessionEnd::Exited(code)),
        Ok(DisconnectReason::TargetTerminated(_)) => Ok(SessionEnd::Terminated),
        Err(e) if e.is_connection_error() => Ok(SessionEnd::Disconnected),
        Err(e) => Err(GdbError::Session(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_qemu_spelling() {
        let a: GdbAddr = "tcp::1234".parse().unwrap();
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 1234));
        let a: GdbAddr = "tcp:0.0.0.0:9000".parse().unwrap();
        assert_eq!((a.host.as_str(), a.port), ("0.0.0.0", 9000));
        let a: GdbAddr = "1234".parse().unwrap();
        assert_eq!(a.port, 1234);
        let a: GdbAddr = ":0".parse().unwrap();
        assert_eq!(a.port, 0);
        assert!("tcp::x".parse::<GdbAddr>().is_err());
        assert!("tcp::70000".parse::<GdbAddr>().is_err());
    }
}
