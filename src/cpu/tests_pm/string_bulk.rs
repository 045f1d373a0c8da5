//! REP MOVS and REP STOS in bulk (`exec/string_bulk.rs`) against the same
//! instructions run one iteration at a time: on a bus that offers its
//! pages for direct access and on one that does not, each case must leave
//! the same registers, the same memory (page-table accessed and dirty bits
//! included) and the same exception.

use super::*;

struct Case {
    name: &'static str,
    /// The code at CODE (a `hlt` follows).
    code: &'static [u8],
    ecx: u32,
    esi: u32,
    edi: u32,
    /// EAX, also the selector a `mov es, ax` prefix loads.
    eax: u32,
    /// Whether the direct run must have used host pages.
    bulk: bool,
}

const MOVSB: &[u8] = &[0xf3, 0xa4];
const MOVSD: &[u8] = &[0xf3, 0xa5];
const STOSB: &[u8] = &[0xf3, 0xaa];
const STOSD: &[u8] = &[0xf3, 0xab];

const CASES: &[Case] = &[
    Case {
        name: "rep stosd over three pages",
        code: STOSD,
        ecx: 0xC05,
        esi: 0,
        edi: DATA + 0x10,
        eax: 0xA1B2_C3D4,
        bulk: true,
    },
    Case {
        name: "rep stosb from an odd address",
        code: STOSB,
        ecx: 5000,
        esi: 0,
        edi: DATA + 3,
        eax: 0x5A,
        bulk: true,
    },
    Case {
        name: "rep stosw with words straddling each page boundary",
        code: &[0xf3, 0x66, 0xab],
        ecx: 3000,
        esi: 0,
        edi: DATA + 1,
        eax: 0xBEEF,
        bulk: true,
    },
    Case {
        name: "rep movsd between distinct buffers",
        code: MOVSD,
        ecx: 0x900,
        esi: DATA + 0x8004,
        edi: DATA + 0x10,
        eax: 0,
        bulk: true,
    },
    Case {
        name: "rep movsb one byte up over itself (replicates)",
        code: MOVSB,
        ecx: 6000,
        esi: DATA + 0x100,
        edi: DATA + 0x101,
        eax: 0,
        bulk: true,
    },
    Case {
        name: "rep movsd two bytes up over itself",
        code: MOVSD,
        ecx: 2000,
        esi: DATA + 0x100,
        edi: DATA + 0x102,
        eax: 0,
        bulk: true,
    },
    Case {
        name: "rep movsd four bytes down over itself",
        code: MOVSD,
        ecx: 2000,
        esi: DATA + 0x104,
        edi: DATA + 0x100,
        eax: 0,
        bulk: true,
    },
    Case {
        name: "a16 rep movsb: SI and DI wrap at 64 KiB",
        code: &[0x67, 0xf3, 0xa4],
        ecx: 0x1234_0040,
        esi: 0x5678_FFF0,
        edi: 0x9ABC_FFF8,
        eax: 0,
        bulk: true,
    },
    Case {
        name: "rep stosb runs out of an expand-down segment",
        code: &[0x8e, 0xc0, 0xf3, 0xaa],
        ecx: 0x2000,
        esi: 0,
        edi: 0xF000,
        eax: EXPDOWN as u32,
        bulk: true,
    },
    Case {
        name: "std; rep movsd (one at a time)",
        code: &[0xfd, 0xf3, 0xa5],
        ecx: 0x800,
        esi: DATA + 0x6000,
        edi: DATA + 0x3000,
        eax: 0,
        bulk: false,
    },
    Case {
        name: "rep movsd, count zero",
        code: MOVSD,
        ecx: 0,
        esi: DATA,
        edi: DATA + 0x2000,
        eax: 0,
        bulk: false,
    },
];

/// Runs `c` up to its `hlt` (or into an exception handler) and returns
/// the machine.
fn run(model: Model, c: &Case, paging: bool, direct: bool) -> Pm {
    let mut code = c.code.to_vec();
    code.push(0xf4);
    let mut pm = Pm::new(model, &code);
    if paging {
        pm.enable_paging();
    }
    for (i, b) in pm.ram.mem[DATA as usize..DATA as usize + 0x10000]
        .iter_mut()
        .enumerate()
    {
        *b = (i as u8).wrapping_mul(7) ^ (i >> 8) as u8;
    }
    pm.ram.direct = direct;
    pm.cpu.set_gpr(Gpr::Ecx, c.ecx);
    pm.cpu.set_gpr(Gpr::Esi, c.esi);
    pm.cpu.set_gpr(Gpr::Edi, c.edi);
    pm.cpu.set_gpr(Gpr::Eax, c.eax);
    // `mov es, ax` or `std` first, then the string instruction.
    pm.run(if matches!(c.code[0], 0x8e | 0xfd) {
        2
    } else {
        1
    });
    pm
}

fn state(pm: &Pm) -> (Vec<u32>, u32, u32, u16) {
    (
        Gpr::ALL.iter().map(|&g| pm.cpu.gpr(g)).collect(),
        pm.cpu.eip(),
        pm.cpu.eflags(),
        pm.cpu.segment(SegReg::Es).selector,
    )
}

#[test]
fn rep_movs_and_stos_in_bulk_match_one_iteration_at_a_time() {
    for model in [Model::I386, Model::I686] {
        for paging in [false, true] {
            for c in CASES {
                let what = format!("{} on {model:?}, paging {paging}", c.name);
                let slow = run(model, c, paging, false);
                let fast = run(model, c, paging, true);
                assert_eq!(state(&fast), state(&slow), "{what}: registers");
                let differs = fast
                    .ram
                    .mem
                    .iter()
                    .zip(&slow.ram.mem)
                    .position(|(a, b)| a != b);
                assert_eq!(differs, None, "{what}: first differing byte");
                assert_eq!(fast.ram.host_pages > 0, c.bulk, "{what}: bulk used");
                if c.name.contains("expand-down") {
                    assert_eq!(fast.vector(), Some(13), "{what}: #GP at the limit");
                    assert_eq!(fast.cpu.gpr(Gpr::Edi), 0x1_0000, "{what}");
                } else {
                    assert_eq!(fast.vector(), None, "{what}: no exception");
                    assert_eq!(fast.cpu.gpr(Gpr::Ecx) & 0xFFFF, 0, "{what}: all done");
                }
            }
        }
    }
}
