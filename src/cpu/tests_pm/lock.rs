//! The LOCK prefix, on every one-byte and 0F opcode, with a memory and a
//! register ModRM operand, on every model. The SDM (LOCK, Vol. 2A) allows
//! it only on the memory-destination forms of ADD, ADC, AND, BTC, BTR,
//! BTS, CMPXCHG, CMPXCHG8B, DEC, INC, NEG, NOT, OR, SBB, SUB, XOR, XADD
//! and XCHG; on anything else (a register destination, a memory source,
//! CMP, TEST, BT, MOV, ...) it is #UD, on the 386, the 486 and the P6
//! alike, but that the Intel386 manual's list (LOCK, chapter 17) also has
//! BT with a memory operand. The 80286 never raises #UD for LOCK. A
//! lockable form raises whatever it raises without the prefix (#UD where
//! the model lacks it).

use super::*;

/// True when `op` (0x0Fxx for the two-byte map) with ModRM reg field
/// `reg` is a form LOCK may prefix on `model`, given a memory destination.
fn lockable(model: Model, op: u16, reg: u8) -> bool {
    let i386 = model == Model::I386;
    match op {
        // ADD, OR, ADC, SBB, AND, SUB, XOR with a memory destination
        // (the r/m, reg forms; not CMP).
        0x00 | 0x01 | 0x08 | 0x09 | 0x10 | 0x11 | 0x18 | 0x19 | 0x20 | 0x21 | 0x28 | 0x29
        | 0x30 | 0x31 => true,
        // Group 1 with an immediate: all but /7 (CMP).
        0x80..=0x83 => reg != 7,
        0x86 | 0x87 => true,
        // NOT, NEG (not TEST, MUL, IMUL, DIV, IDIV).
        0xF6 | 0xF7 => reg == 2 || reg == 3,
        // INC, DEC.
        0xFE | 0xFF => reg <= 1,
        // BTS, BTR, BTC (not BT); CMPXCHG; XADD.
        0x0FAB | 0x0FB3 | 0x0FBB | 0x0FB0 | 0x0FB1 | 0x0FC0 | 0x0FC1 => true,
        0x0FBA => reg >= 5 || i386 && reg == 4,
        // BT, on the 386 only.
        0x0FA3 => i386,
        // CMPXCHG8B.
        0x0FC7 => reg == 1,
        _ => false,
    }
}

const PREFIXES: [u8; 11] = [
    0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3,
];

/// The vector `bytes` raises as the first instruction (None: none).
fn raised(model: Model, bytes: &[u8]) -> Option<u8> {
    let mut pm = Pm::new(model, bytes);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    pm.vector()
}

#[test]
fn lock_is_ud_except_on_the_lockable_memory_destination_forms() {
    let one_byte = (0..=0xFFu16).filter(|&b| b != 0x0F && !PREFIXES.contains(&(b as u8)));
    let opcodes: Vec<u16> = one_byte.chain(0x0F00..=0x0FFF).collect();
    let mut wrong = Vec::new();
    for model in [Model::I286, Model::I386, Model::I486, Model::I686] {
        for &op in &opcodes {
            for reg in 0..8u8 {
                // [ebx] and ebx with ModRM reg `reg`, zero immediates after.
                for (modrm, memory) in [(0x03 | reg << 3, true), (0xC3 | reg << 3, false)] {
                    let mut insn = if op > 0xFF {
                        vec![0x0F, op as u8]
                    } else {
                        vec![op as u8]
                    };
                    insn.extend_from_slice(&[modrm, 0, 0, 0, 0, 0, 0]);
                    let plain = raised(model, &insn);
                    let locked = raised(model, &[&[0xF0u8][..], &insn].concat());
                    let allowed = model == Model::I286 || memory && lockable(model, op, reg);
                    let want = if allowed { plain } else { Some(6) };
                    if locked != want {
                        wrong.push(format!(
                            "{model:?} lock {insn:02x?}: {locked:?}, want {want:?}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(40)].join("\n")
    );
}
