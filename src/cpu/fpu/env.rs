//! The x87 environment and state images in guest memory: FNSTENV/FLDENV
//! (14 bytes with a 16-bit operand size, 28 with 32-bit; real-mode and
//! protected-mode layouts differ in how the instruction and data pointers
//! are stored) and FNSAVE/FRSTOR (the environment followed by ST(0)-ST(7),
//! ten bytes each). Only the byte images are built here; the caller moves
//! them through the CPU's segmented memory access.

use super::state::{Fpu, SW_B, SW_ES};

/// Builds the environment image (14 or 28 bytes).
pub fn store_env(f: &Fpu, op32: bool, real: bool) -> Vec<u8> {
    let cw = u32::from(f.control_word());
    let sw = u32::from(f.status_word());
    let tw = u32::from(f.tag_word());
    let fop = u32::from(f.fop & 0x7FF);
    // Real mode stores linear (20- or 32-bit) pointers.
    let ip = if real {
        (u32::from(f.fcs) << 4).wrapping_add(f.fip)
    } else {
        f.fip
    };
    let dp = if real {
        (u32::from(f.fds) << 4).wrapping_add(f.fdp)
    } else {
        f.fdp
    };
    let mut out = Vec::with_capacity(28);
    if op32 {
        let words: [u32; 7] = if real {
            [
                cw | 0xFFFF_0000,
                sw | 0xFFFF_0000,
                tw | 0xFFFF_0000,
                (ip & 0xFFFF) | 0xFFFF_0000,
                ((ip >> 16) << 12) | fop,
                (dp & 0xFFFF) | 0xFFFF_0000,
                (dp >> 16) << 12,
            ]
        } else {
            [
                cw | 0xFFFF_0000,
                sw | 0xFFFF_0000,
                tw | 0xFFFF_0000,
                ip,
                u32::from(f.fcs) | (fop << 16),
                dp,
                u32::from(f.fds) | 0xFFFF_0000,
            ]
        };
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
    } else {
        let words: [u32; 7] = if real {
            [
                cw,
                sw,
                tw,
                ip & 0xFFFF,
                ((ip >> 16 & 0xF) << 12) | fop,
                dp & 0xFFFF,
                (dp >> 16 & 0xF) << 12,
            ]
        } else {
            [
                cw,
                sw,
                tw,
                ip & 0xFFFF,
                u32::from(f.fcs),
                dp & 0xFFFF,
                u32::from(f.fds),
            ]
        };
        for w in words {
            out.extend_from_slice(&(w as u16).to_le_bytes());
        }
    }
    out
}

/// Loads an environment image (14 or 28 bytes, as `store_env` lays out).
pub fn load_env(f: &mut Fpu, b: &[u8], op32: bool, real: bool) {
    let word = |i: usize| -> u32 {
        if op32 {
            let mut w = [0u8; 4];
            w.copy_from_slice(&b[i * 4..i * 4 + 4]);
            u32::from_le_bytes(w)
        } else {
            u32::from(u16::from_le_bytes([b[i * 2], b[i * 2 + 1]]))
        }
    };
    f.set_control_word(word(0) as u16);
    f.set_status_word(word(1) as u16);
    f.set_tag_word(word(2) as u16);
    if real {
        let hi_mask = if op32 { 0xFFFF } else { 0xF };
        f.fcs = 0;
        f.fip = (word(3) & 0xFFFF) | (((word(4) >> 12) & hi_mask) << 16);
        f.fop = (word(4) & 0x7FF) as u16;
        f.fds = 0;
        f.fdp = (word(5) & 0xFFFF) | (((word(6) >> 12) & hi_mask) << 16);
    } else {
        let off_mask = if op32 { u32::MAX } else { 0xFFFF };
        f.fip = word(3) & off_mask;
        f.fcs = word(4) as u16;
        f.fop = if op32 {
            ((word(4) >> 16) & 0x7FF) as u16
        } else {
            f.fop
        };
        f.fdp = word(5) & off_mask;
        f.fds = word(6) as u16;
    }
    sync_es(f);
}

/// Recomputes ES and B from the exception flags and masks (after FLDCW,
/// FLDENV and FRSTOR).
pub fn sync_es(f: &mut Fpu) {
    let pending = f.sw & !f.cw & 0x3F != 0;
    if pending {
        f.sw |= SW_ES | SW_B;
    } else {
        f.sw &= !(SW_ES | SW_B);
        f.ignne = false;
    }
}

/// FNSAVE's image: the environment followed by ST(0)..ST(7).
pub fn save(f: &Fpu, op32: bool, real: bool) -> Vec<u8> {
    let mut out = store_env(f, op32, real);
    for i in 0..8 {
        out.extend_from_slice(&f.st(i).to_bytes());
    }
    out
}

/// FRSTOR: loads the environment, then the registers (in ST order, so
/// after TOP is known).
pub fn restore(f: &mut Fpu, b: &[u8], op32: bool, real: bool) {
    let env_len = if op32 { 28 } else { 14 };
    load_env(f, &b[..env_len], op32, real);
    for i in 0..8u8 {
        let s = env_len + usize::from(i) * 10;
        let mut r = [0u8; 10];
        r.copy_from_slice(&b[s..s + 10]);
        let phys = usize::from((f.top() + i) & 7);
        f.set_phys(phys, super::float80::F80::from_bytes(r));
    }
}
