//! The x87's architectural state ([`Fpu`]): eight 80-bit registers used as
//! a stack with TOP, the control, status and tag words, and the last
//! instruction and data pointers with the last opcode. This file owns the
//! register stack (push, pop, ST(i) addressing, the tag word FSTENV
//! reports) and the public read-only view the control API uses. Instruction
//! semantics live in `exec*.rs`, memory layouts in `env.rs`.

use super::float80::{Class, F80};
use serde::{Deserialize, Serialize};

/// Status word bits other than the exception flags and TOP.
pub const SW_SF: u16 = 1 << 6;
pub const SW_ES: u16 = 1 << 7;
pub const SW_C0: u16 = 1 << 8;
pub const SW_C1: u16 = 1 << 9;
pub const SW_C2: u16 = 1 << 10;
pub const SW_C3: u16 = 1 << 14;
pub const SW_B: u16 = 1 << 15;
const SW_TOP: u16 = 7 << 11;

/// The x87 floating-point unit's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fpu {
    /// Physical registers R0-R7; ST(i) is R[(TOP + i) mod 8].
    regs: [F80; 8],
    /// Bit i set: physical register i is empty.
    empty: u8,
    pub(crate) cw: u16,
    /// Status word without TOP.
    pub(crate) sw: u16,
    pub(crate) top: u8,
    /// Last instruction pointer (CS selector and offset), data pointer (DS
    /// selector and offset) and the 11-bit opcode.
    pub(crate) fcs: u16,
    pub(crate) fip: u32,
    pub(crate) fds: u16,
    pub(crate) fdp: u32,
    pub(crate) fop: u16,
    /// FCMOVcc and FCOMI/FUCOMI (P6 instructions) execute; otherwise #UD.
    pub p6: bool,
    /// The board's IGNNE# input (a PC asserts it after a write to port
    /// 0xF0): with CR0.NE = 0, a waiting instruction then ignores a
    /// pending exception instead of freezing for IRQ13.
    pub(crate) ignne: bool,
}

impl Default for Fpu {
    fn default() -> Self {
        Fpu::new()
    }
}

impl Fpu {
    /// The state after a hardware RESET (SDM: CW 0040h, SW 0, all tags
    /// "zero", registers +0).
    pub fn new() -> Fpu {
        Fpu {
            regs: [F80::ZERO; 8],
            empty: 0,
            cw: 0x0040,
            sw: 0,
            top: 0,
            fcs: 0,
            fip: 0,
            fds: 0,
            fdp: 0,
            fop: 0,
            p6: true,
            ignne: false,
        }
    }

    /// FNINIT: CW 037Fh, SW 0, all registers empty, pointers cleared.
    pub fn init(&mut self) {
        self.cw = 0x037F;
        self.sw = 0;
        self.top = 0;
        self.empty = 0xFF;
        self.fcs = 0;
        self.fip = 0;
        self.fds = 0;
        self.fdp = 0;
        self.fop = 0;
        self.ignne = false;
    }

    fn phys(&self, i: u8) -> usize {
        usize::from((self.top + i) & 7)
    }
    /// ST(i) as its 80 bits (whatever an empty register holds).
    pub fn st(&self, i: u8) -> F80 {
        self.regs[self.phys(i)]
    }
    /// ST(i) as the nearest f64.
    pub fn st_f64(&self, i: u8) -> f64 {
        self.st(i).to_f64()
    }
    /// True when ST(i)'s tag is "empty".
    pub fn is_empty(&self, i: u8) -> bool {
        self.empty & (1 << self.phys(i)) != 0
    }
    /// Physical register `r` (R0-R7), independent of TOP.
    pub fn phys_reg(&self, r: u8) -> F80 {
        self.regs[usize::from(r & 7)]
    }
    pub fn control_word(&self) -> u16 {
        self.cw
    }
    /// The status word with TOP in bits 11-13.
    pub fn status_word(&self) -> u16 {
        (self.sw & !SW_TOP) | (u16::from(self.top) << 11)
    }
    pub fn top(&self) -> u8 {
        self.top
    }
    /// The full tag word as FSTENV stores it: per physical register 00
    /// valid, 01 zero, 10 special (NaN, infinity, denormal, unsupported),
    /// 11 empty.
    pub fn tag_word(&self) -> u16 {
        let mut tw = 0u16;
        for r in 0..8 {
            let t = if self.empty & (1 << r) != 0 {
                3
            } else {
                match self.regs[r].class() {
                    Class::Normal => 0,
                    Class::Zero => 1,
                    _ => 2,
                }
            };
            tw |= t << (2 * r);
        }
        tw
    }
    /// Last instruction pointer as (CS selector, offset).
    pub fn last_ip(&self) -> (u16, u32) {
        (self.fcs, self.fip)
    }
    /// Last data pointer as (DS selector, offset).
    pub fn last_dp(&self) -> (u16, u32) {
        (self.fds, self.fdp)
    }
    /// Last opcode (11 bits).
    pub fn last_opcode(&self) -> u16 {
        self.fop
    }

    // ---- mutation, for instruction semantics and the control API ----

    /// Writes ST(i) and tags it non-empty.
    pub fn set_st(&mut self, i: u8, v: F80) {
        let p = self.phys(i);
        self.regs[p] = v;
        self.empty &= !(1 << p);
    }
    pub(crate) fn free(&mut self, i: u8) {
        let p = self.phys(i);
        self.empty |= 1 << p;
    }
    pub(crate) fn set_phys(&mut self, r: usize, v: F80) {
        self.regs[r & 7] = v;
    }
    /// Loads a tag word: only "empty" (11) is kept; the rest is derived
    /// from the contents.
    pub(crate) fn set_tag_word(&mut self, tw: u16) {
        self.empty = 0;
        for r in 0..8 {
            if (tw >> (2 * r)) & 3 == 3 {
                self.empty |= 1 << r;
            }
        }
    }
    pub(crate) fn set_status_word(&mut self, sw: u16) {
        self.top = ((sw >> 11) & 7) as u8;
        self.sw = sw & !SW_TOP;
        if self.sw & SW_ES == 0 {
            self.ignne = false;
        }
    }
    /// Sets the control word (bit 6 reads as one; bits 13-15 as zero).
    pub fn set_control_word(&mut self, cw: u16) {
        self.cw = (cw & 0x1F7F) | 0x0040;
    }
    /// Decrements TOP and writes the new ST(0).
    pub(crate) fn push(&mut self, v: F80) {
        self.top = (self.top + 7) & 7;
        self.set_st(0, v);
    }
    /// Marks ST(0) empty and increments TOP.
    pub(crate) fn pop(&mut self) {
        self.free(0);
        self.top = (self.top + 1) & 7;
    }
    pub(crate) fn set_top(&mut self, top: u8) {
        self.top = top & 7;
    }
    pub(crate) fn set_cc(&mut self, c0: bool, c1: bool, c2: bool, c3: bool) {
        self.sw &= !(SW_C0 | SW_C1 | SW_C2 | SW_C3);
        self.sw |= if c0 { SW_C0 } else { 0 }
            | if c1 { SW_C1 } else { 0 }
            | if c2 { SW_C2 } else { 0 }
            | if c3 { SW_C3 } else { 0 };
    }
    pub(crate) fn set_c1(&mut self, c1: bool) {
        self.sw = (self.sw & !SW_C1) | if c1 { SW_C1 } else { 0 };
    }
    /// True when an unmasked exception is pending (ES).
    pub fn error_pending(&self) -> bool {
        self.sw & SW_ES != 0
    }
}
