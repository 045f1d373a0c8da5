//! moon86: a PC emulator whose every part is scriptable from embedded Lua.
//!
//! The crate is layered bottom to top (see `docs/architecture.md`): `x86`
//! (the ISA as data), `cpu` (state and interpreter), `mem` (guest physical
//! memory), `devices`, `machine` (the board and loaders), `control` (the one
//! control API), and the front ends `script` (Lua), `cli`, `monitor` (the
//! interactive prompt), `gdb` (the gdb remote stub) and `display` (the SDL
//! window). Arrows point down only.

pub mod cli;
pub mod control;
pub mod cpu;
pub mod devices;
pub mod display;
pub mod gdb;
pub mod host_file;
pub mod machine;
pub mod mem;
pub mod monitor;
pub mod moo;
pub mod script;
pub mod storage;
pub mod x86;
