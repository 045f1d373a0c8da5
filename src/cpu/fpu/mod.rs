//! The x87 floating-point unit: its state ([`Fpu`]), a software 80-bit
//! arithmetic that gives bit-identical results on every host (the host's
//! FPU is never used), and the instruction semantics of the escape
//! opcodes D8-DF and WAIT.
//!
//! Layout: `float80.rs` (the encoding), `round.rs` (rounding, precision
//! control and the post-computation exceptions), `arith.rs` (add, sub,
//! mul, div, sqrt, rndint, fscale, fxtract, fprem, compare), `convert.rs`
//! (integers, float32/64, BCD), `wide.rs` and `transcendental.rs` (the
//! 128-bit working format and the transcendental functions), `state.rs`
//! (registers, stack, words), `env.rs` (FSTENV/FSAVE images), `exec.rs`
//! and `exec_arith.rs` (the instructions as the CPU executes them).
//!
//! Exceptions: an unmasked exception sets ES and B in the status word;
//! the next waiting FPU instruction then raises #MF (vector 16) when
//! CR0.NE = 1. With CR0.NE = 0 (the PC/AT way) the FPU's FERR# output
//! ([`crate::cpu::Cpu::ferr`], which follows ES) is wired by the board to
//! IRQ13, and the waiting instruction freezes until an interrupt arrives
//! unless IGNNE# is asserted; a PC asserts IGNNE# when software writes
//! port 0xF0 (the IRQ13 handler does), and it drops when ES is cleared.

mod arith;
mod convert;
mod env;
mod exec;
mod exec_arith;
mod float80;
mod round;
mod state;
mod transcendental;
mod wide;

#[cfg(test)]
mod tests;

pub use float80::{Class, F80};
pub use state::Fpu;
