//! The x86 instruction set as data: the opcode table, the decoder that turns
//! bytes into an `Insn`, and a small disassembler. No machine state lives here.
//!
//! SKELETON: being written.
