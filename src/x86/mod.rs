//! The x86 instruction set as data: the opcode table, the decoder that turns
//! bytes into an [`Insn`], and a small disassembler. No machine state lives
//! here; `cpu/` (and later the JIT) consume what this module produces.

mod decode;
mod display;
pub mod facts;
pub mod opcodes;
mod registers;

pub use decode::{decode, DecodeError, Insn, MemRef, ModRm, Rep, MAX_INSN_LEN};
pub use display::CC;
pub use opcodes::{Mn, Opnd};
pub use registers::{Gpr, SegReg};

/// Disassembles the instruction at the start of `bytes`, returning its
/// Intel-syntax text and its length (the slice's length, at most 15, when
/// the bytes end early or run past the length limit).
pub fn disassemble(bytes: &[u8], code32: bool) -> (String, usize) {
    match decode(bytes, code32) {
        Ok(insn) => (insn.to_string(), usize::from(insn.len)),
        Err(DecodeError::Truncated) => ("(truncated)".to_string(), bytes.len()),
        Err(DecodeError::TooLong) => ("(too long)".to_string(), MAX_INSN_LEN),
    }
}

#[cfg(test)]
mod tests {
    use super::disassemble;

    #[test]
    fn samples() {
        assert_eq!(
            disassemble(&[0x00, 0x40, 0x10], false),
            ("add byte [bx+si+0x10], al".into(), 3)
        );
        assert_eq!(
            disassemble(&[0x66, 0x05, 1, 0, 0, 0], false),
            ("add eax, 0x1".into(), 6)
        );
        assert_eq!(
            disassemble(&[0x26, 0x8b, 0x46, 0xfe], false),
            ("mov ax, word [es:bp-0x2]".into(), 4)
        );
        assert_eq!(
            disassemble(&[0x67, 0x8b, 0x04, 0x88], false),
            ("mov ax, word [eax+ecx*4]".into(), 4)
        );
        assert_eq!(disassemble(&[0xeb, 0xfe], false), ("jmp $+0x0".into(), 2));
        assert_eq!(
            disassemble(&[0x0f, 0xb6, 0xc3], false),
            ("movzx ax, bl".into(), 3)
        );
        assert_eq!(disassemble(&[0xf3, 0xa4], false), ("rep movsb".into(), 2));
        assert_eq!(
            disassemble(&[0xc8, 0x10, 0x00, 0x02], false),
            ("enter 0x10, 0x2".into(), 4)
        );
        assert_eq!(
            disassemble(&[0x0f, 0x20, 0xc0], false),
            ("mov eax, cr0".into(), 3)
        );
        assert_eq!(disassemble(&[0x26; 16], false).1, 15);
    }
}
