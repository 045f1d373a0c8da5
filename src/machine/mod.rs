//! The PC board: the CPU wired to guest memory and the I/O port bus, the run
//! loop that executes instructions and reports why it stopped, and the image
//! loaders. `machine/` knows nothing of lifecycle states, properties or Lua;
//! those belong to `control/`.

mod board;
mod config;
pub mod loader;
mod run;

pub use board::Board;
pub use config::{CpuModel, MachineConfig};
pub use run::{HaltReason, RunExit};

use crate::cpu::Cpu;
use crate::devices::DeviceId;
use crate::mem::{GuestMemory, MemError};

/// A CPU on a board, with the count of instructions it has retired.
#[derive(Debug)]
pub struct Machine {
    pub cpu: Cpu,
    pub board: Board,
    /// Instructions retired since power-on (a REP string instruction counts once).
    pub icount: u64,
}

impl Machine {
    /// Builds the board described by `config`, in its power-on state.
    pub fn new(config: &MachineConfig) -> Result<Machine, MemError> {
        let mut board = Board {
            mem: GuestMemory::new(config.ram_size)?,
            io: Default::default(),
        };
        board.io.map(0xE9..=0xE9, DeviceId::DebugCon);
        for port in crate::devices::post_code_ports() {
            board.io.map(port..=port, DeviceId::PostCode);
        }
        board
            .io
            .map(config.exit_port..=config.exit_port, DeviceId::ExitPort);
        Ok(Machine {
            cpu: Cpu::new(),
            board,
            icount: 0,
        })
    }

    /// Moves the exit port to `port`.
    pub fn set_exit_port(&mut self, port: u16) {
        self.board.io.unmap(DeviceId::ExitPort);
        self.board.io.map(port..=port, DeviceId::ExitPort);
    }

    /// The RESET line: CPU and devices to their power-on state, RAM kept.
    pub fn reset(&mut self) {
        self.cpu.reset();
        self.board.io.reset();
        self.icount = 0;
    }
}
