//! Disassembly for `disas`, `x/i` and stop reports, with iced-x86 in the
//! CPU's current code size (16-bit in real and V86 mode and for 16-bit
//! code segments, 32-bit for 32-bit ones), in Intel syntax with `0x` hex.

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, Mnemonic};

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Offset of its first byte in the buffer given to [`decode`].
    pub offset: usize,
    pub bytes: Vec<u8>,
    pub text: String,
    /// A CALL (near or far, direct or indirect): what `next` steps over.
    pub is_call: bool,
}

/// Decodes up to `max` instructions from `code`, which starts at offset
/// (IP/EIP) `ip`. Bytes that do not decode show as `(bad)`; an instruction
/// cut off by the end of `code` ends the list.
pub fn decode(code: &[u8], ip: u64, code32: bool, max: usize) -> Vec<Line> {
    let bits = if code32 { 32 } else { 16 };
    let mut decoder = Decoder::with_ip(bits, code, ip, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    let o = formatter.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_first_operand_char_index(0);
    o.set_space_after_operand_separator(true);
    let mut out = Vec::new();
    let mut insn = Instruction::default();
    let mut pos = 0usize;
    while out.len() < max && decoder.can_decode() {
        decoder.decode_out(&mut insn);
        let len = insn.len();
        if insn.is_invalid()
            && pos + len >= code.len()
            && decoder.last_error() == iced_x86::DecoderError::NoMoreBytes
        {
            break;
        }
        let mut text = String::new();
        if insn.is_invalid() {
            text.push_str("(bad)");
        } else {
            formatter.format(&insn, &mut text);
        }
        out.push(Line {
            offset: pos,
            bytes: code[pos..pos + len].to_vec(),
            text,
            is_call: insn.mnemonic() == Mnemonic::Call,
        });
        pos += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_in_both_sizes() {
        let code = [0xfa, 0x31, 0xc0, 0xbe, 0x28, 0x7c, 0xe8, 0x00, 0x00];
        let lines = decode(&code, 0x7c00, false, 10);
        let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(text, ["cli", "xor ax, ax", "mov si, 0x7c28", "call 0x7c09"]);
        assert!(lines[3].is_call && !lines[2].is_call);
        let lines = decode(&[0xb8, 1, 0, 0, 0], 0, true, 1);
        assert_eq!(lines[0].text, "mov eax, 1");
        // Cut off: nothing rather than a wrong instruction.
        assert!(decode(&[0xb8, 1], 0, true, 1).is_empty());
    }
}
