//! moon86: a PC emulator whose every part is scriptable from embedded Lua.
//!
//! The crate is layered bottom to top (see `docs/architecture.md`): `x86`
//! (the ISA as data), `cpu` (state and interpreter), `mem` (guest physical
//! memory), `devices`, `machine` (the board and loaders), `control` (the one
//! control API), and the front ends `script` (Lua). Arrows point down only.

pub mod cpu;
pub mod moo;
pub mod x86;
