//! Differential tests of the JIT against the interpreter: random
//! instruction sequences (every operand form of the instructions the JIT
//! translates, plus ones it leaves to the interpreter, faults, memory
//! operands that hit the code itself) run on two machines, one with the JIT
//! and one without, compared register by register and byte by byte after
//! every block the JIT ran and every instruction the interpreter ran. Modes:
//! real mode (16-bit code), 32-bit protected mode with flat segments, and
//! the same with paging (some pages read-only or not present), the same
//! with PAE paging (also a 2 MiB page, a page above 4 GiB and one with a
//! reserved bit set), a 16-bit
//! stack under 32-bit code, 16-bit protected mode (a 16-bit code segment
//! with a 16-bit or a 32-bit stack, 16-bit, 32-bit, expand-down and
//! read-only data segments), and virtual-8086 mode at IOPL 0 or 3, also on
//! the P6 model with CR4.VME (and now and then PVI), VIF and VIP at random
//! and a random interrupt redirection bitmap. The system modes have a GDT, an IDT whose every gate leads to a HLT at ring 0, and
//! (V86) a TSS with the ring-0 stack and an I/O bitmap, so a fault or an
//! IOPL-sensitive instruction ends the program in a protected-mode handler;
//! their programs also load segment registers, use the flags and interrupt
//! instructions and do port I/O, and two in five run with paging.
//! Each mode runs again with the JIT calling the interpreter's handler for
//! every instruction, even those it has code of its own for
//! (`Cpu::set_jit_handlers_only`): the twins are compared the same way.
//! `MOON86_JIT_DIFF_SCALE=N` runs N times as many programs in every mode.

use moon86::cpu::{BlockRun, CpuMode, Gpr, Model, SegReg, Segment, StepOutcome};
use moon86::machine::{Machine, MachineConfig};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Real,
    Flat32,
    Paged32,
    /// Flat 32-bit code under PAE paging.
    PaePaged32,
    Stack16,
    /// 16-bit code in protected mode (CS.D=0) on a 16-bit stack.
    Prot16,
    /// 16-bit code in protected mode on a 32-bit stack (SS.B=1).
    Prot16Stack32,
    /// Virtual-8086 mode (EFLAGS.VM=1), entered by IRET from ring 0.
    V86,
    /// V86 mode on the P6 model with CR4.VME: CLI/STI/PUSHF/POPF/IRET on
    /// VIF, INT n through the TSS's redirection bitmap.
    V86Vme,
}

impl Mode {
    /// Whether the code segment is 32-bit.
    fn code32(self) -> bool {
        matches!(
            self,
            Mode::Flat32 | Mode::Paged32 | Mode::PaePaged32 | Mode::Stack16
        )
    }
    /// The modes with descriptor tables and a protected-mode HLT handler.
    fn system(self) -> bool {
        matches!(
            self,
            Mode::Prot16 | Mode::Prot16Stack32 | Mode::V86 | Mode::V86Vme
        )
    }
    /// The virtual-8086 modes.
    fn v86(self) -> bool {
        matches!(self, Mode::V86 | Mode::V86Vme)
    }
}

const RAM: u64 = 1 << 20;
/// Where the generated code goes (physical); real mode runs it at 1000:0000.
const CODE: u32 = 0x10000;
/// The exception handlers (real mode IVT targets): HLT.
const HANDLER: u32 = 0x500;

// The system modes' tables (`Mode::system`), above the data and code the
// programs use and below the page tables' neighbours.
const GDT: u32 = 0x90000;
const IDT: u32 = 0x91000;
const TSS: u32 = 0x92000;
/// The TSS with its I/O bitmap (ports 0-0xFFFF) and the byte after it.
const TSS_LIMIT: u32 = 0x68 + 0x2000;
/// The protected-mode handlers: 256 HLTs, one for each vector.
const PM_HANDLER: u32 = 0x98000;
/// The ring-0 code that enters V86 mode (LTR, IRET).
const STUB: u32 = 0x99000;
/// The ring-0 stack (TSS.ESP0 and the stub's).
const STACK0: u32 = 0x9F000;
/// Ports a program may use; the V86 I/O bitmap allows the first two.
const PORTS: [u8; 4] = [0x80, 0xE9, 0x61, 0x21];

const CODE16_SEL: u16 = 0x08;
const DATA16_SEL: u16 = 0x10;
const FLAT_DATA_SEL: u16 = 0x18;
const FLAT_CODE_SEL: u16 = 0x20;
const TSS_SEL: u16 = 0x28;
const HANDLER16_SEL: u16 = 0x30;

/// The GDT of the system modes as the segment caches hold it: selector,
/// base, byte-granular limit, access rights (access byte and flags nibble).
const DESCRIPTORS: [(u16, u32, u32, u16); 9] = [
    (CODE16_SEL, CODE, 0xFFFF, 0x009B), // the program's 16-bit code
    (DATA16_SEL, 0, 0xFFFF, 0x0093),    // 16-bit data
    (FLAT_DATA_SEL, 0, 0xFFFF_FFFF, 0xC093), // flat 32-bit data
    (FLAT_CODE_SEL, 0, 0xFFFF_FFFF, 0xC09B), // flat 32-bit code (handler, stub)
    (TSS_SEL, TSS, TSS_LIMIT, 0x0089),  // the TSS (available)
    (HANDLER16_SEL, 0x90000, 0xFFFF, 0x009B), // 16-bit code around the handler
    (0x38, 0, 0x0FFF, 0x0097),          // expand-down: offsets 0x1000-0xFFFF
    (0x40, 0, 0xFFFF, 0x0091),          // read-only 16-bit data
    (0x48, 0x20000, 0xFFFF, 0x00F3),    // 16-bit data at DPL 3
];
/// Selectors the programs load into data segment registers: mostly good
/// ones, and now and then null, code (readable) or DPL 3.
const DATA_SELECTORS: [u16; 9] = [0x10, 0x10, 0x18, 0x38, 0x40, 0x4B, 0x00, 0x08, 0x20];
/// Good selectors for SS.
const STACK_SELECTORS: [u16; 3] = [0x10, 0x18, 0x38];
/// Selectors that fault for any segment register: past the GDT's limit,
/// RPL above DPL, not writable (for SS).
const BAD_SELECTORS: [u16; 4] = [0x50, 0x13, 0x40, 0x08];

fn pick<T: Copy>(r: &mut Rng, from: &[T]) -> T {
    from[r.below(from.len() as u64) as usize]
}

/// One system instruction for the system modes (no prefixes): segment
/// loads and stores, flags and interrupt instructions (IOPL-sensitive in
/// V86 mode), port I/O, descriptor checks and far jumps to the next
/// instruction. `cs` is the program's CS selector.
fn system_instruction(r: &mut Rng, v86: bool, cs: u16, out: &mut Vec<u8>) {
    let selector = |r: &mut Rng, sreg: u8| {
        if v86 {
            let any = r.next() as u16;
            pick(r, &[0, 0, 0x100, 0x800, 0x1000, 0x9000, 0xF000, any])
        } else if r.chance(10) {
            pick(r, &BAD_SELECTORS)
        } else if sreg == 2 {
            pick(r, &STACK_SELECTORS)
        } else {
            pick(r, &DATA_SELECTORS)
        }
    };
    match r.below(10) {
        0..=2 => {
            // MOV reg, selector / MOV sreg, reg (ES, SS, DS, FS, GS).
            let g = pick(r, &[0u8, 1, 2, 3, 5, 6, 7]);
            let sreg = pick(r, &[0u8, 2, 3, 3, 4, 5]);
            out.push(0xB8 + g);
            out.extend(selector(r, sreg).to_le_bytes());
            out.extend([0x8E, 0xC0 | sreg << 3 | g]);
        }
        3 => {
            // PUSH sreg and POP another (SS only from DS or SS), MOV r/m, sreg.
            match r.below(3) {
                0 => {
                    let (push, pop) = pick(
                        r,
                        &[
                            (0x1E, 0x07),
                            (0x06, 0x1F),
                            (0x0E, 0x1F),
                            (0x16, 0x17),
                            (0x1E, 0x17),
                        ],
                    );
                    out.extend([push, pop]);
                }
                1 => out.extend([0x0F, 0xA0, 0x0F, 0xA9, 0x0F, 0xA8, 0x0F, 0xA1]),
                _ => out.extend([0x8C, 0xC0 | (r.below(6) as u8) << 3 | r.below(8) as u8]),
            }
        }
        4 | 5 => {
            // Flags: PUSHF, POPF (after a PUSH of a value), CLI, STI.
            match r.below(4) {
                0 => out.push(0x9C),
                1 => {
                    // Arithmetic flags, IF, DF, and now and then TF.
                    let tf = if r.chance(15) { 0x100 } else { 0 };
                    out.push(0x68);
                    out.extend((r.next() as u16 & 0x0ED5 | tf).to_le_bytes());
                    out.push(0x9D);
                }
                2 => out.push(0xFA),
                _ => out.push(0xFB),
            }
        }
        6 => {
            // IRET to the next instruction (PUSHF, PUSH CS, PUSH offset),
            // now and then INT n, INT3 or INTO.
            match r.below(6) {
                0 => out.extend([0xCD, r.byte()]),
                1 => out.push(0xCC),
                2 => out.push(0xCE),
                _ => {
                    let next = out.len() as u16 + 6;
                    out.extend([0x9C, 0x0E, 0x68]);
                    out.extend(next.to_le_bytes());
                    out.push(0xCF);
                }
            }
        }
        7 => {
            // IN/OUT with an immediate port.
            out.push(0xE4 + r.below(4) as u8);
            out.push(pick(r, &PORTS));
        }
        8 => {
            // LAR, LSL, VERR, VERW on a register (#UD in V86 mode).
            let g = r.below(8) as u8;
            match r.below(3) {
                0 => out.extend([0x0F, 0x02, 0xC0 | g << 3 | r.below(8) as u8]),
                1 => out.extend([0x0F, 0x03, 0xC0 | g << 3 | r.below(8) as u8]),
                _ => out.extend([0x0F, 0x00, 0xC0 | pick(r, &[4u8, 5]) << 3 | g]),
            }
        }
        _ => {
            // JMP far to the next instruction, in the program's segment.
            let next = out.len() as u16 + 5;
            out.push(0xEA);
            out.extend(next.to_le_bytes());
            out.extend(cs.to_le_bytes());
        }
    }
}

/// One random instruction's bytes.
fn instruction(r: &mut Rng, code32: bool, out: &mut Vec<u8>) {
    let start = out.len();
    if r.chance(12) {
        out.push(0x66);
    }
    if r.chance(8) {
        out.push(0x67);
    }
    if r.chance(6) {
        out.push([0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65][r.below(6) as usize]);
    }
    // ModRM with displacement (and SIB), for the address size in effect.
    let modrm = |r: &mut Rng, out: &mut Vec<u8>, reg: Option<u8>| {
        let m = r.byte();
        let m = match reg {
            Some(g) => (m & 0xC7) | g << 3,
            None => m,
        };
        out.push(m);
        let (md, rm) = (m >> 6, m & 7);
        let addr32 = code32; // an 0x67 prefix makes the decode differ: fine, both see it
        if md == 3 {
            return;
        }
        if addr32 {
            if rm == 4 {
                out.push(r.byte());
            }
            match md {
                0 if rm == 5 => out.extend((r.below(0x8000) as u32 + 0x1000).to_le_bytes()),
                1 => out.push(r.byte()),
                2 => out.extend((r.below(0x4000) as u32).to_le_bytes()),
                _ => {}
            }
        } else {
            match md {
                0 if rm == 6 => out.extend((r.below(0x8000) as u16 + 0x1000).to_le_bytes()),
                1 => out.push(r.byte()),
                2 => out.extend((r.below(0x4000) as u16).to_le_bytes()),
                _ => {}
            }
        }
    };
    let imm = |r: &mut Rng, out: &mut Vec<u8>, n: usize| {
        for _ in 0..n {
            out.push(r.byte());
        }
    };
    let v = if code32 { 4 } else { 2 };
    match r.below(31) {
        0..=5 => {
            // ALU: op r/m,r / r,r/m (byte and full) and AL/eAX,imm.
            let op = (r.below(8) as u8) << 3;
            match r.below(3) {
                0 | 1 => {
                    out.push(op | r.below(4) as u8);
                    modrm(r, out, None);
                }
                _ => {
                    let w = r.below(2) as u8;
                    out.push(op | 4 | w);
                    imm(r, out, if w == 0 { 1 } else { v });
                }
            }
        }
        6 | 7 => {
            // Group 1 with immediates, TEST, MOV forms.
            let opc = [
                0x80, 0x81, 0x83, 0x84, 0x85, 0x88, 0x89, 0x8A, 0x8B, 0xC6, 0xC7, 0x86, 0x87,
            ][r.below(13) as usize];
            out.push(opc);
            modrm(
                r,
                out,
                if matches!(opc, 0xC6 | 0xC7) {
                    Some(0)
                } else {
                    None
                },
            );
            match opc {
                0x80 | 0x83 | 0xC6 => imm(r, out, 1),
                0x81 | 0xC7 => imm(r, out, v),
                _ => {}
            }
        }
        8 => out.push(0x40 + r.below(16) as u8), // INC/DEC reg
        9 => {
            // PUSH/POP reg (not ESP, to keep the stack in RAM), PUSH imm.
            match r.below(4) {
                0 => {
                    out.push(0x68);
                    imm(r, out, v);
                }
                1 => {
                    out.push(0x6A);
                    imm(r, out, 1);
                }
                2 => out.push(0x50 + [0, 1, 2, 3, 5, 6, 7][r.below(7) as usize]),
                _ => out.push(0x58 + [0, 1, 2, 3, 5, 6, 7][r.below(7) as usize]),
            }
        }
        10 => {
            // Shifts and rotates by 1, CL and an immediate.
            let opc = [0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3][r.below(6) as usize];
            out.push(opc);
            modrm(r, out, None);
            if opc <= 0xC1 {
                imm(r, out, 1);
            }
        }
        11 => {
            // IMUL forms.
            match r.below(3) {
                0 => {
                    out.push(0x69);
                    modrm(r, out, None);
                    imm(r, out, v);
                }
                1 => {
                    out.push(0x6B);
                    modrm(r, out, None);
                    imm(r, out, 1);
                }
                _ => {
                    out.extend([0x0F, 0xAF]);
                    modrm(r, out, None);
                }
            }
        }
        12 => {
            out.push(0x8D); // LEA
            modrm(r, out, None);
        }
        13 => {
            // Group 3 (TEST imm, NOT, NEG, MUL, IMUL, DIV, IDIV) and group 4/5 INC/DEC/PUSH.
            let opc = [0xF6, 0xF7, 0xFE, 0xFF][r.below(4) as usize];
            out.push(opc);
            let ext = match opc {
                0xF6 | 0xF7 => r.below(8) as u8,
                0xFE => r.below(2) as u8,
                _ => [0u8, 1, 6][r.below(3) as usize],
            };
            modrm(r, out, Some(ext));
            if ext <= 1 && opc == 0xF6 {
                imm(r, out, 1);
            } else if ext <= 1 && opc == 0xF7 {
                imm(r, out, v);
            }
        }
        14 => {
            // MOVZX/MOVSX, SETcc, CMOVcc.
            match r.below(3) {
                0 => out.extend([0x0F, [0xB6, 0xB7, 0xBE, 0xBF][r.below(4) as usize]]),
                1 => out.extend([0x0F, 0x90 + r.below(16) as u8]),
                _ => out.extend([0x0F, 0x40 + r.below(16) as u8]),
            }
            modrm(r, out, None);
        }
        15 => match r.below(15) {
            // LEAVE, PAUSE, BSWAP, RDTSC.
            10 => out.push(0xC9),
            11 => out.extend([0xF3, 0x90]),
            12 | 13 => out.extend([0x0F, 0xC8 + r.below(8) as u8]),
            14 => out.extend([0x0F, 0x31]),
            n => out.push([0x90, 0x98, 0x99, 0xF5, 0xF8, 0xF9, 0xFC, 0xFD, 0x9E, 0x9F][n as usize]),
        },
        16 => out.push(0x91 + r.below(7) as u8), // XCHG eAX, reg
        17 => {
            out.push(0xB0 + r.below(16) as u8); // MOV reg, imm
            let n = if out.last().copied().unwrap_or(0) < 0xB8 {
                1
            } else {
                v
            };
            imm(r, out, n);
        }
        18 | 19 => {
            // Jcc / JMP short forward (a few bytes), so blocks end and join.
            out.push(if r.chance(80) {
                0x70 + r.below(16) as u8
            } else {
                0xEB
            });
            out.push(r.below(6) as u8);
        }
        20 => {
            // CALL forward over two bytes (then RET from there is balanced enough).
            out.push(0xE8);
            imm(r, out, 0);
            out.extend(if code32 { vec![2, 0, 0, 0] } else { vec![2, 0] });
            out.extend([0x90, 0x90]);
        }
        21 => out.push(if r.chance(50) { 0xC3 } else { 0x90 }), // RET (sometimes wild)
        22 => {
            // Indirect JMP/CALL through a register holding a forward target is rare in
            // random code; use a memory/register form and let it go where it goes.
            if r.chance(20) {
                out.push(0xFF);
                let ext = if r.chance(50) { 2 } else { 4 };
                modrm(r, out, Some(ext));
            } else {
                out.push(0x90);
            }
        }
        23 => {
            // MOV moffs forms.
            out.push(0xA0 + r.below(4) as u8);
            let n = if code32 { 4 } else { 2 };
            let a = r.below(0x8000) as u32 + 0x1000;
            out.extend(&a.to_le_bytes()[..n]);
        }
        24 => {
            // String instructions (translated without REP, run by their
            // handler with it, when no iteration can fault) and BCD
            // instructions (handler calls).
            if r.chance(15) {
                // A small count in ECX first (replacing this instruction's
                // prefixes, which would change the MOV), so the REP form
                // ends within a few iterations.
                out.truncate(start);
                if !code32 {
                    out.push(0x66);
                }
                out.push(0xB9);
                out.extend((r.below(24) as u32).to_le_bytes());
                out.push([0xF3, 0xF2][r.below(2) as usize]);
            }
            out.push(
                [
                    0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF, 0x27, 0x2F, 0x37,
                    0x3F, 0xD4,
                ][r.below(15) as usize],
            );
            if out.last() == Some(&0xD4) {
                out.push(10);
            }
        }
        25 => {
            // Garbage: whatever the bytes decode to (faults included).
            for _ in 0..r.below(4) + 1 {
                out.push(r.byte());
            }
        }
        26 => {
            // Instructions blocks run by calling the interpreter's handler:
            // bit tests and scans, double shifts, XADD, CMPXCHG(8B), XLAT,
            // AAM/AAD, CPUID, PUSHF, LOCK on a read-modify-write.
            match r.below(10) {
                0 => {
                    out.extend([0x0F, [0xA3, 0xAB, 0xB3, 0xBB][r.below(4) as usize]]);
                    modrm(r, out, None);
                }
                1 => {
                    out.extend([0x0F, 0xBA]);
                    let ext = 4 + r.below(4) as u8;
                    modrm(r, out, Some(ext));
                    imm(r, out, 1);
                }
                2 => {
                    let opc = [0xA4, 0xA5, 0xAC, 0xAD][r.below(4) as usize];
                    out.extend([0x0F, opc]);
                    modrm(r, out, None);
                    if opc & 1 == 0 {
                        imm(r, out, 1);
                    }
                }
                3 => {
                    out.extend([
                        0x0F,
                        [0xBC, 0xBD, 0xC0, 0xC1, 0xB0, 0xB1][r.below(6) as usize],
                    ]);
                    modrm(r, out, None);
                }
                4 => {
                    out.extend([0x0F, 0xC7]);
                    modrm(r, out, Some(1));
                }
                5 => out.push(0xD7),
                6 => {
                    let opc = [0xD4, 0xD5][r.below(2) as usize];
                    out.extend([opc, r.byte()]);
                }
                7 => out.extend([0x0F, 0xA2]),
                8 => out.push(0x9C),
                _ => {
                    out.push(0xF0);
                    out.push([0x01, 0x29, 0x31, 0x21, 0x09, 0x11, 0x19, 0x87][r.below(8) as usize]);
                    modrm(r, out, None);
                }
            }
        }
        30 => {
            // The x87 (handler calls): any escape opcode with a register or
            // memory operand, now and then FWAIT or FNINIT; exceptions
            // unmasked by a loaded control word freeze the next waiting
            // one (CR0.NE is clear).
            match r.below(8) {
                0 => out.push(0x9B),
                1 => out.extend([0xDB, 0xE3]),
                _ => {
                    out.push(0xD8 + r.below(8) as u8);
                    modrm(r, out, None);
                }
            }
        }
        _ => {
            // Memory read-modify-write on the (nearby) data the registers point at.
            out.push([0x01, 0x29, 0x31, 0x21, 0x09, 0x11, 0x19, 0x39][r.below(8) as usize]);
            modrm(r, out, None);
        }
    }
}

fn seg(base: u32, limit: u32, access: u16, selector: u16) -> Segment {
    Segment {
        selector,
        base,
        limit,
        access,
    }
}

/// The segment cache of GDT entry `selector` (see `DESCRIPTORS`).
fn gdt_seg(selector: u16) -> Segment {
    let &(sel, base, limit, access) = DESCRIPTORS
        .iter()
        .find(|d| d.0 == selector & !3)
        .expect("a descriptor");
    seg(base, limit, access, sel | selector & 3)
}

/// A descriptor's eight bytes from a segment cache's fields.
fn descriptor(base: u32, limit: u32, access: u16) -> u64 {
    let field = if access & 0x8000 != 0 {
        limit >> 12
    } else {
        limit
    };
    u64::from(field & 0xFFFF)
        | u64::from(base & 0xFF_FFFF) << 16
        | u64::from(access & 0xFF) << 40
        | u64::from(field >> 16 & 0xF) << 48
        | u64::from(access >> 12 & 0xF) << 52
        | u64::from(base >> 24) << 56
}

/// An interrupt gate: `kind` is the P/DPL/type byte.
fn gate(selector: u16, offset: u32, kind: u8) -> u64 {
    u64::from(offset & 0xFFFF)
        | u64::from(selector) << 16
        | u64::from(kind) << 40
        | u64::from(offset >> 16) << 48
}

/// Identity-maps the first 4 MiB with 4K pages at 0x80000, with page 5
/// read-only and page 6 absent (and, with `supervisor`, page 7 for ring 0
/// only), and every other 4 MiB of the linear space onto the same pages
/// (so wild addresses alias RAM instead of faulting); turns paging on with
/// CR0.WP.
fn identity_paging(m: &mut Machine, supervisor: bool) {
    let pd = 0x80000u32;
    let pt = 0x81000u32;
    for d in 0..1024u32 {
        m.board
            .mem
            .write_bytes(u64::from(pd + 4 * d), &(pt | 7).to_le_bytes())
            .unwrap();
    }
    for p in 0..1024u32 {
        let flags = match p {
            0x5 => 5, // read-only (user, present)
            0x6 => 0, // not present
            0x7 if supervisor => 3,
            _ => 7,
        };
        m.board
            .mem
            .write_bytes(u64::from(pt + 4 * p), &((p << 12) | flags).to_le_bytes())
            .unwrap();
    }
    m.cpu.set_cr3(pd);
    m.cpu.set_cr0(m.cpu.cr0() | 0x8001_0000); // PG, WP
}

/// PAE paging: the PDPT at 0x80000, its four entries leading to one page
/// directory at 0x81000, whose every entry but the second leads to the
/// page table at 0x82000 (identity for the first 2 MiB, with page 5
/// read-only, page 6 absent, page 8 mapped above 4 GiB and page 9 with a
/// reserved bit set) and whose second is a 2 MiB page of physical 0; turns
/// paging on with CR4.PAE and CR0.WP, the PDPTEs loaded as MOV CR0 would.
fn pae_identity_paging(m: &mut Machine) {
    let (pdpt, pd, pt) = (0x80000u64, 0x81000u64, 0x82000u64);
    let mut entry = |at: u64, v: u64| m.board.mem.write_bytes(at, &v.to_le_bytes()).unwrap();
    for i in 0..4 {
        entry(pdpt + 8 * i, pd | 1);
    }
    for d in 0..512u64 {
        entry(pd + 8 * d, if d == 1 { 0x87 } else { pt | 7 });
    }
    for p in 0..512u64 {
        let v = match p {
            0x5 => p << 12 | 5,
            0x6 => 0,
            0x8 => 0x1_0000_0000 | p << 12 | 7,
            0x9 => 1 << 52 | p << 12 | 7,
            _ => p << 12 | 7,
        };
        entry(pt + 8 * p, v);
    }
    m.cpu.set_cr3(pdpt as u32);
    m.cpu.set_cr4(0x20);
    m.cpu.set_cr0(m.cpu.cr0() | 0x8001_0000); // PG, WP
    m.cpu.load_pdptes(&mut m.board).unwrap();
}

/// Writes the system modes' GDT, IDT (vector v a gate of `kind` to
/// `selector:offset + v`, where a HLT waits) and TSS (ring-0 stack, an I/O
/// bitmap allowing ports 0x80 and 0xE9), and loads GDTR and IDTR.
fn system_tables(m: &mut Machine, selector: u16, offset: u32, kind: u8) {
    let mem = &mut m.board.mem;
    for &(sel, base, limit, access) in &DESCRIPTORS {
        let d = descriptor(base, limit, access);
        mem.write_bytes(u64::from(GDT + u32::from(sel)), &d.to_le_bytes())
            .unwrap();
    }
    for v in 0..256u32 {
        let g = gate(selector, offset + v, kind);
        mem.write_bytes(u64::from(IDT + 8 * v), &g.to_le_bytes())
            .unwrap();
    }
    mem.write_bytes(u64::from(PM_HANDLER), &[0xF4; 256])
        .unwrap();
    mem.write_bytes(u64::from(TSS + 4), &STACK0.to_le_bytes())
        .unwrap();
    mem.write_bytes(u64::from(TSS + 8), &u32::from(FLAT_DATA_SEL).to_le_bytes())
        .unwrap();
    mem.write_bytes(u64::from(TSS + 0x66), &0x68u16.to_le_bytes())
        .unwrap();
    let mut bitmap = vec![0xFFu8; 0x2001];
    for port in &PORTS[..2] {
        bitmap[usize::from(*port) / 8] &= !(1 << (port % 8));
    }
    mem.write_bytes(u64::from(TSS + 0x68), &bitmap).unwrap();
    let gdt_limit = DESCRIPTORS.iter().map(|d| u32::from(d.0)).max().unwrap() + 7;
    m.cpu.set_gdtr(GDT, gdt_limit);
    m.cpu.set_idtr(IDT, 0x7FF);
}

/// Sets up a system mode on `m` (whose registers are already random):
/// tables, paging for two programs in five, segments, and for V86 mode runs
/// the ring-0 stub that loads TR and IRETs into the program (the same
/// steps on both machines, before anything is compared).
fn system_mode(m: &mut Machine, mode: Mode, r: &mut Rng) {
    m.cpu.set_cr0(m.cpu.cr0() | 1);
    let paged = r.chance(40);
    if mode.v86() {
        // A 32-bit interrupt gate at DPL 3 (so INT n at IOPL 3 reaches it)
        // into ring-0 flat code.
        system_tables(m, FLAT_CODE_SEL, PM_HANDLER, 0xEE);
        if paged {
            identity_paging(m, true);
        }
        let iopl = if r.chance(50) { 3 } else { 0 };
        let mut eflags = 0x2_0002 | iopl << 12 | (m.cpu.eflags() & 0x8D5);
        if mode == Mode::V86Vme {
            vme(m, r, &mut eflags);
        }
        let v86_seg = |r: &mut Rng| pick(r, &[0u32, 0, 0, 0x100, 0x9000, 0xF000]);
        // IRET's frame: EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
        let frame = [
            0,
            CODE >> 4,
            eflags,
            0xE000,
            0,
            v86_seg(r),
            0,
            v86_seg(r),
            v86_seg(r),
        ];
        let sp = STACK0 - 4 * frame.len() as u32;
        for (i, v) in frame.iter().enumerate() {
            m.board
                .mem
                .write_bytes(u64::from(sp) + 4 * i as u64, &v.to_le_bytes())
                .unwrap();
        }
        // mov ax, TSS_SEL / ltr ax / iret
        let stub = [0x66, 0xB8, TSS_SEL as u8, 0, 0x0F, 0x00, 0xD8, 0xCF];
        m.board.mem.write_bytes(u64::from(STUB), &stub).unwrap();
        let eax = m.cpu.gpr(Gpr::Eax);
        for s in SegReg::ALL {
            m.cpu.set_segment(s, gdt_seg(FLAT_DATA_SEL));
        }
        m.cpu.set_segment(SegReg::Cs, gdt_seg(FLAT_CODE_SEL));
        m.cpu.set_gpr(Gpr::Esp, sp);
        m.cpu.set_eip(STUB);
        for _ in 0..3 {
            assert_eq!(m.cpu.step(&mut m.board), StepOutcome::Executed);
        }
        assert_eq!(m.cpu.mode(), CpuMode::Virtual8086, "the stub enters V86");
        assert_eq!((m.cpu.eip(), m.cpu.gpr(Gpr::Esp)), (0, 0xE000));
        m.cpu.set_gpr(Gpr::Eax, eax);
        return;
    }
    // 16-bit protected mode at ring 0: 32-bit gates to flat code or 16-bit
    // gates to a 16-bit segment.
    if r.chance(50) {
        system_tables(m, FLAT_CODE_SEL, PM_HANDLER, 0x8E);
    } else {
        system_tables(m, HANDLER16_SEL, PM_HANDLER - 0x90000, 0x86);
    }
    if paged {
        identity_paging(m, false);
    }
    // DS and ES mostly 16-bit; FS and GS also read-only now and then.
    let data = [
        DATA16_SEL,
        DATA16_SEL,
        DATA16_SEL,
        FLAT_DATA_SEL,
        0x38,
        0x4B,
    ];
    for s in [SegReg::Ds, SegReg::Es, SegReg::Fs, SegReg::Gs] {
        let sel = if matches!(s, SegReg::Fs | SegReg::Gs) && r.chance(20) {
            0x40
        } else {
            pick(r, &data)
        };
        m.cpu.set_segment(s, gdt_seg(sel));
    }
    m.cpu.set_segment(SegReg::Cs, gdt_seg(CODE16_SEL));
    let ss = if mode == Mode::Prot16 {
        DATA16_SEL
    } else {
        FLAT_DATA_SEL
    };
    m.cpu.set_segment(SegReg::Ss, gdt_seg(ss));
    m.cpu.set_eip(0);
}

/// Makes `m` a P6 with CR4.VME (and PVI one time in four), VIF and VIP in
/// the V86 task's `eflags` at random, and random bits in the TSS's
/// interrupt redirection bitmap (below the I/O bitmap at TSS+0x68, over
/// TSS fields V86 mode never reads; the I/O map base itself stays).
/// Redirected interrupts reach the real-mode IVT's HLT, which faults.
fn vme(m: &mut Machine, r: &mut Rng, eflags: &mut u32) {
    m.cpu.set_model(Model::I686);
    let pvi = if r.chance(25) { 2 } else { 0 };
    m.cpu.set_cr4(1 | pvi);
    *eflags |= r.below(4) as u32 * (1 << 19);
    let bitmap: Vec<u8> = (0..30).map(|_| r.byte()).collect();
    m.board
        .mem
        .write_bytes(u64::from(TSS + 0x48), &bitmap)
        .unwrap();
}

/// A machine in `mode` with `code` loaded and registers from `r`.
/// How the first machine of a pair runs: `Jit::Off` is the interpreter
/// it is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Jit {
    Off,
    On,
    /// Every instruction a block runs calls the interpreter's handler.
    HandlersOnly,
    /// No JIT: the interpreter's runs of cached fast forms
    /// (`Cpu::run_cached`, the traces of `cpu/traces.rs`), with every
    /// instruction of the program in the decoded-instruction cache from
    /// the start, against single steps with the cache off (the general
    /// path, without fast forms).
    Traces,
}

fn machine(mode: Mode, code: &[u8], r: &mut Rng, jit: Jit) -> Machine {
    let mut m = Machine::new(&MachineConfig {
        ram_size: RAM,
        ..MachineConfig::default()
    })
    .expect("a machine");
    m.cpu
        .set_jit_enabled(!matches!(jit, Jit::Off | Jit::Traces));
    m.cpu.set_jit_eager(true);
    m.cpu.set_jit_handlers_only(jit == Jit::HandlersOnly);
    let mem = &mut m.board.mem;
    mem.write_bytes(u64::from(CODE), code).expect("code fits");
    // Real mode: every vector points at a HLT.
    for v in 0..256u64 {
        mem.write_bytes(v * 4, &(HANDLER as u16).to_le_bytes())
            .unwrap();
        mem.write_bytes(v * 4 + 2, &0u16.to_le_bytes()).unwrap();
    }
    mem.write_bytes(u64::from(HANDLER), &[0xF4]).unwrap();
    // Some data for the memory operands to find.
    let data: Vec<u8> = (0..0xC000).map(|_| r.byte()).collect();
    mem.write_bytes(0x1000, &data).unwrap();
    let cpu = &mut m.cpu;
    for (i, g) in Gpr::ALL.into_iter().enumerate() {
        let v = match r.below(4) {
            0 => r.next() as u32,
            _ => 0x1000 + r.below(0x6000) as u32,
        };
        cpu.set_gpr(g, if i == 4 { 0xE000 } else { v });
    }
    // The status flags and DF, at random.
    cpu.set_eflags(r.next() as u32 & 0xCD5);
    match mode {
        Mode::Real => {
            for s in SegReg::ALL {
                cpu.load_segment_real(s, 0);
            }
            cpu.load_segment_real(SegReg::Cs, (CODE >> 4) as u16);
            cpu.set_eip(0);
        }
        Mode::Prot16 | Mode::Prot16Stack32 | Mode::V86 | Mode::V86Vme => {
            system_mode(&mut m, mode, r)
        }
        Mode::Flat32 | Mode::Paged32 | Mode::PaePaged32 | Mode::Stack16 => {
            cpu.set_cr0(cpu.cr0() | 1);
            let code = seg(0, 0xFFFF_FFFF, 0xC09B, 0x08);
            let data = seg(0, 0xFFFF_FFFF, 0xC093, 0x10);
            for s in SegReg::ALL {
                cpu.set_segment(s, data);
            }
            cpu.set_segment(SegReg::Cs, code);
            if mode == Mode::Stack16 {
                cpu.set_segment(SegReg::Ss, seg(0, 0xFFFF, 0x0093, 0x18));
            }
            cpu.set_eip(CODE);
            // No IDT: a fault ends in shutdown, the same way on both.
            cpu.set_idtr(0, 0);
        }
    }
    if mode == Mode::Paged32 {
        identity_paging(&mut m, false);
    }
    if mode == Mode::PaePaged32 {
        pae_identity_paging(&mut m);
    }
    m
}

fn state(m: &Machine) -> String {
    let c = &m.cpu;
    let mut s = String::new();
    for g in Gpr::ALL {
        s += &format!("{}={:08x} ", g.name(), c.gpr(g));
    }
    s += &format!(
        "eip={:08x} eflags={:08x} tsc={} cr0={:08x} cr2={:08x} cr3={:08x} halted={} cpl={} \
         tr={:?} ldtr={:?}",
        c.eip(),
        c.eflags(),
        c.tsc(),
        c.cr0(),
        c.cr2(),
        c.cr3(),
        c.is_halted(),
        c.cpl(),
        c.tr(),
        c.ldtr()
    );
    for sr in SegReg::ALL {
        s += &format!(" {}={:?}", sr.name(), c.segment(sr));
    }
    s += &format!(" fpu={:?}", c.fpu());
    s
}

thread_local! {
    /// Two RAM-sized buffers, kept so that comparing RAM after every block
    /// allocates (and page-faults in) nothing.
    static RAM_BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> =
        std::cell::RefCell::new((vec![0; RAM as usize], vec![0; RAM as usize]));
}

fn compare(a: &Machine, b: &Machine, what: &str) {
    let (sa, sb) = (state(a), state(b));
    assert_eq!(sa, sb, "registers differ {what}");
    RAM_BUFFERS.with_borrow_mut(|(ra, rb)| {
        a.board.mem.read_block(0, ra);
        b.board.mem.read_block(0, rb);
        if ra != rb {
            let at = ra.iter().zip(rb.iter()).position(|(x, y)| x != y).unwrap();
            panic!(
                "memory differs {what} at {at:#x}: jit {:#04x}, interpreter {:#04x}",
                ra[at], rb[at]
            );
        }
    });
}

/// Runs one random program in both machines, block by block; returns how
/// many instructions ran inside JIT blocks, and whether the program ended
/// in the protected-mode handlers (the system modes' faults and interrupts).
fn run_one(mode: Mode, seed: u64, jit: Jit) -> (u64, bool, u64) {
    let mut r = Rng(seed | 1);
    let code32 = mode.code32();
    let cs = if mode.v86() {
        (CODE >> 4) as u16
    } else {
        CODE16_SEL
    };
    let mut code = Vec::new();
    for _ in 0..40 {
        if mode.system() && r.chance(15) {
            system_instruction(&mut r, mode.v86(), cs, &mut code);
        } else {
            instruction(&mut r, code32, &mut code);
        }
    }
    code.push(0xF4);
    let regs_seed = r.next();
    let mut a = machine(mode, &code, &mut Rng(regs_seed), jit);
    let mut b = machine(mode, &code, &mut Rng(regs_seed), Jit::Off);
    if jit == Jit::Traces {
        // The reference steps every instruction through the general path,
        // so the fast forms traces run are checked against it too.
        b.cpu.set_icache_enabled(false);
        prime(&mut a, &mut b);
    }
    let mut native = 0u64;
    let mut steps = 0;
    let mut runs = 0usize;
    while steps < 400 && !a.cpu.is_halted() {
        let before = state(&a);
        let ran = if jit == Jit::Traces {
            // Budgets that also cut traces short.
            let max = [64, 3, 1, 17][runs % 4];
            runs += 1;
            match a.cpu.run_cached(&mut a.board, max) {
                (0, _) => BlockRun::None,
                (n, _) => BlockRun::Ran(n as u32),
            }
        } else {
            a.cpu.run_block(&mut a.board, 64)
        };
        let (n, step) = match ran {
            BlockRun::None => (0, true),
            BlockRun::Ran(n) => (n, false),
            BlockRun::Bailed(n) => (n, true),
        };
        for _ in 0..n {
            b.cpu.step(&mut b.board);
        }
        native += u64::from(n);
        steps += n.max(1);
        let ctx = format!(
            "(mode {mode:?}, {jit:?}, seed {seed:#x}, after {ran:?} from {before}; code {code:02x?})"
        );
        // A bailed instruction may have read memory and set an accessed bit
        // before the access it could not do: the interpreter then runs it
        // whole, setting the same bit, so memory is compared after it.
        if matches!(ran, BlockRun::Bailed(_)) {
            assert_eq!(state(&a), state(&b), "registers differ {ctx}");
        } else {
            compare(&a, &b, &ctx);
        }
        if step {
            let oa = a.cpu.step(&mut a.board);
            let ob = b.cpu.step(&mut b.board);
            assert_eq!(oa, ob, "step outcome {ctx}");
            compare(&a, &b, &format!("after an interpreter step {ctx}"));
            if oa == StepOutcome::Shutdown {
                break;
            }
            if jit == Jit::Traces {
                // Again after code was written over or control went
                // elsewhere (a fault's handler, a far jump).
                prime(&mut a, &mut b);
            }
        }
    }
    let handlers = PM_HANDLER + 1..=PM_HANDLER + 256;
    let handled = a.cpu.is_halted() && handlers.contains(&a.cpu.linear_pc());
    (native, handled, a.cpu.jit_stats().handler_insns)
}

/// Puts the instructions ahead of CS:EIP in the decoded-instruction caches
/// of both machines, as a second visit finds them (both, so that fetching
/// leaves the same accessed bits in each).
fn prime(a: &mut Machine, b: &mut Machine) {
    let ahead = a.cpu.prime_icache_ahead(&mut a.board, 64);
    assert_eq!(ahead, b.cpu.prime_icache_ahead(&mut b.board, 64));
}

/// Runs `count` programs in `mode`, times `MOON86_JIT_DIFF_SCALE` (1 unless
/// set: a larger factor hunts by hand with more programs).
fn run_many(mode: Mode, count: u64) {
    run_many_as(mode, count, Jit::On);
}

/// [`run_many`] with the JIT as `jit` says.
fn run_many_as(mode: Mode, count: u64, jit: Jit) {
    let scale = std::env::var("MOON86_JIT_DIFF_SCALE")
        .ok()
        .map(|s| s.parse::<u64>().expect("MOON86_JIT_DIFF_SCALE is a number"))
        .unwrap_or(1);
    if let Ok(seed) = std::env::var("MOON86_JIT_DIFF_SEED") {
        // One program, as a failure names it.
        let seed = u64::from_str_radix(seed.trim_start_matches("0x"), 16)
            .expect("MOON86_JIT_DIFF_SEED is a hexadecimal seed");
        run_one(mode, seed, jit);
        return;
    }
    let base = count;
    let count = count * scale;
    let mut native = 0;
    let mut handled = 0;
    let mut handler_calls = 0;
    // `run_one` sets the seed's bit 0, so the system modes put their index
    // higher up to get programs of their own (the older modes keep theirs).
    let salt = if mode.system() {
        (mode as u64) << 32
    } else {
        mode as u64
    };
    for i in 0..count {
        let (n, h, c) = run_one(
            mode,
            0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i + 1) ^ salt,
            jit,
        );
        native += n;
        handled += u64::from(h);
        handler_calls += c;
    }
    // The test is only worth something if the JIT (or the traces) ran a
    // good share.
    assert!(
        native > base * 5,
        "only {native} instructions ran in JIT blocks (or traces)"
    );
    // Blocks call handlers for the instructions the JIT has no code of its
    // own for, and for all of them in the handlers-only twin.
    assert!(
        jit == Jit::Traces || handler_calls > base * if jit == Jit::HandlersOnly { 10 } else { 1 },
        "only {handler_calls} instructions were translated as handler calls"
    );
    if mode.system() {
        assert!(
            handled > count / 4,
            "only {handled} programs ended in the protected-mode handlers"
        );
    }
    eprintln!(
        "{mode:?} ({jit:?}): {count} programs, {native} instructions in JIT blocks \
         ({handler_calls} translated as handler calls), {handled} ended in a protected-mode handler"
    );
}

#[test]
fn random_real_mode() {
    run_many(Mode::Real, 150);
}

#[test]
fn random_flat_protected() {
    run_many(Mode::Flat32, 150);
}

#[test]
fn random_paged_protected() {
    run_many(Mode::Paged32, 150);
}

#[test]
fn random_pae_paged_protected() {
    run_many(Mode::PaePaged32, 150);
}

#[test]
fn random_16bit_stack() {
    run_many(Mode::Stack16, 100);
}

#[test]
fn random_16bit_protected() {
    run_many(Mode::Prot16, 1000);
}

#[test]
fn random_16bit_protected_32bit_stack() {
    run_many(Mode::Prot16Stack32, 1000);
}

#[test]
fn random_virtual_8086() {
    run_many(Mode::V86, 1500);
}

#[test]
fn random_virtual_8086_with_vme() {
    run_many(Mode::V86Vme, 1000);
}

#[test]
fn handlers_only_real_mode() {
    run_many_as(Mode::Real, 150, Jit::HandlersOnly);
}

#[test]
fn handlers_only_flat_protected() {
    run_many_as(Mode::Flat32, 150, Jit::HandlersOnly);
}

#[test]
fn handlers_only_paged_protected() {
    run_many_as(Mode::Paged32, 150, Jit::HandlersOnly);
}

#[test]
fn handlers_only_pae_paged_protected() {
    run_many_as(Mode::PaePaged32, 150, Jit::HandlersOnly);
}

#[test]
fn handlers_only_16bit_stack() {
    run_many_as(Mode::Stack16, 100, Jit::HandlersOnly);
}

#[test]
fn handlers_only_16bit_protected() {
    run_many_as(Mode::Prot16, 1000, Jit::HandlersOnly);
}

#[test]
fn handlers_only_16bit_protected_32bit_stack() {
    run_many_as(Mode::Prot16Stack32, 1000, Jit::HandlersOnly);
}

#[test]
fn handlers_only_virtual_8086() {
    run_many_as(Mode::V86, 1500, Jit::HandlersOnly);
}

#[test]
fn handlers_only_virtual_8086_with_vme() {
    run_many_as(Mode::V86Vme, 1000, Jit::HandlersOnly);
}

#[test]
fn traces_real_mode() {
    run_many_as(Mode::Real, 150, Jit::Traces);
}

#[test]
fn traces_flat_protected() {
    run_many_as(Mode::Flat32, 150, Jit::Traces);
}

#[test]
fn traces_paged_protected() {
    run_many_as(Mode::Paged32, 150, Jit::Traces);
}

#[test]
fn traces_pae_paged_protected() {
    run_many_as(Mode::PaePaged32, 150, Jit::Traces);
}

#[test]
fn traces_16bit_stack() {
    run_many_as(Mode::Stack16, 100, Jit::Traces);
}

#[test]
fn traces_16bit_protected() {
    run_many_as(Mode::Prot16, 1000, Jit::Traces);
}

#[test]
fn traces_16bit_protected_32bit_stack() {
    run_many_as(Mode::Prot16Stack32, 1000, Jit::Traces);
}

#[test]
fn traces_virtual_8086() {
    run_many_as(Mode::V86, 1500, Jit::Traces);
}

#[test]
fn traces_virtual_8086_with_vme() {
    run_many_as(Mode::V86Vme, 1000, Jit::Traces);
}
