//! Differential tests of the JIT against the interpreter: random
//! instruction sequences (every operand form of the instructions the JIT
//! translates, plus ones it leaves to the interpreter, faults, memory
//! operands that hit the code itself) run on two machines, one with the JIT
//! and one without, compared register by register and byte by byte after
//! every block the JIT ran and every instruction the interpreter ran. Modes:
//! real mode (16-bit code), 32-bit protected mode with flat segments, and
//! the same with paging (some pages read-only or not present), plus a
//! 16-bit stack under 32-bit code.

use moon86::cpu::{BlockRun, Gpr, SegReg, Segment, StepOutcome};
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
    Stack16,
}

const RAM: u64 = 1 << 20;
/// Where the generated code goes (physical); real mode runs it at 1000:0000.
const CODE: u32 = 0x10000;
/// The exception handlers (real mode IVT targets): HLT.
const HANDLER: u32 = 0x500;

/// One random instruction's bytes.
fn instruction(r: &mut Rng, code32: bool, out: &mut Vec<u8>) {
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
    match r.below(30) {
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
        15 => match r.below(14) {
            // LEAVE, PAUSE, BSWAP.
            10 => out.push(0xC9),
            11 => out.extend([0xF3, 0x90]),
            12 | 13 => out.extend([0x0F, 0xC8 + r.below(8) as u8]),
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
            // String instructions (translated without REP, run by the
            // interpreter with it) and BCD instructions (interpreted).
            if r.chance(15) {
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

/// A machine in `mode` with `code` loaded and registers from `r`.
fn machine(mode: Mode, code: &[u8], r: &mut Rng, jit: bool) -> Machine {
    let mut m = Machine::new(&MachineConfig {
        ram_size: RAM,
        ..MachineConfig::default()
    })
    .expect("a machine");
    m.cpu.set_jit_enabled(jit);
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
        Mode::Flat32 | Mode::Paged32 | Mode::Stack16 => {
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
        // Identity-map the first 4 MiB with 4K pages at 0x80000; a few data
        // pages read-only or absent.
        let pd = 0x80000u32;
        let pt = 0x81000u32;
        m.board
            .mem
            .write_bytes(u64::from(pd), &(pt | 7).to_le_bytes())
            .unwrap();
        for p in 0..1024u32 {
            let flags = match p {
                0x5 => 5, // read-only (user, present)
                0x6 => 0, // not present
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
    m
}

fn state(m: &Machine) -> String {
    let c = &m.cpu;
    let mut s = String::new();
    for g in Gpr::ALL {
        s += &format!("{}={:08x} ", g.name(), c.gpr(g));
    }
    s += &format!(
        "eip={:08x} eflags={:08x} tsc={} cr0={:08x} cr2={:08x} halted={}",
        c.eip(),
        c.eflags(),
        c.tsc(),
        c.cr0(),
        c.cr2(),
        c.is_halted()
    );
    for sr in SegReg::ALL {
        s += &format!(" {}={:?}", sr.name(), c.segment(sr));
    }
    s
}

fn ram(m: &Machine) -> Vec<u8> {
    let mut buf = vec![0u8; RAM as usize];
    m.board.mem.read_bytes(0, &mut buf).unwrap();
    buf
}

fn compare(a: &Machine, b: &Machine, what: &str) {
    let (sa, sb) = (state(a), state(b));
    assert_eq!(sa, sb, "registers differ {what}");
    let (ra, rb) = (ram(a), ram(b));
    if ra != rb {
        let at = ra.iter().zip(&rb).position(|(x, y)| x != y).unwrap();
        panic!(
            "memory differs {what} at {at:#x}: jit {:#04x}, interpreter {:#04x}",
            ra[at], rb[at]
        );
    }
}

/// Runs one random program in both machines, block by block; returns how
/// many instructions ran inside JIT blocks.
fn run_one(mode: Mode, seed: u64) -> u64 {
    let mut r = Rng(seed | 1);
    let code32 = mode != Mode::Real;
    let mut code = Vec::new();
    for _ in 0..40 {
        instruction(&mut r, code32, &mut code);
    }
    code.push(0xF4);
    let regs_seed = r.next();
    let mut a = machine(mode, &code, &mut Rng(regs_seed), true);
    let mut b = machine(mode, &code, &mut Rng(regs_seed), false);
    let mut native = 0u64;
    let mut steps = 0;
    while steps < 400 && !a.cpu.is_halted() {
        let before = state(&a);
        let ran = a.cpu.run_block(&mut a.board, 64);
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
            "(mode {mode:?}, seed {seed:#x}, after {ran:?} from {before}; code {code:02x?})"
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
        }
    }
    native
}

fn run_many(mode: Mode, count: u64) {
    let mut native = 0;
    for i in 0..count {
        native += run_one(
            mode,
            0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i + 1) ^ mode as u64,
        );
    }
    // The test is only worth something if the JIT ran a good share.
    assert!(
        native > count * 5,
        "only {native} instructions ran in JIT blocks"
    );
    eprintln!("{mode:?}: {count} programs, {native} instructions in JIT blocks");
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
fn random_16bit_stack() {
    run_many(Mode::Stack16, 100);
}
