//! The interactive monitor (`moon86 monitor`, `moon86 boot --monitor`): a
//! prompt where a line is either a short command in the words QEMU and gdb
//! users know (`info registers`, `x/8xb 0x7c00`, `break`, `cont`...) or Lua
//! with `vm` bound, both thin translations onto the control API. It sits
//! beside `cli/`: it drives the machine only through `control::Vm` and
//! Lua only through `script::Session`, never `cpu/` or `machine/`.
//! One idea per file: the command table (`commands`), argument parsing
//! (`parse`), text for people (`format`), disassembly (`disasm`),
//! completion (`complete`), lines (`line`), running the guest (`state`),
//! the loop (`repl`) and the generated reference (`docs`).

mod block;
mod commands;
mod complete;
mod disasm;
pub mod docs;
mod error;
mod format;
mod line;
mod parse;
mod repl;
mod state;

pub use complete::complete;
pub use error::MonitorError;
pub use repl::{history_path, run, MonitorOptions};
