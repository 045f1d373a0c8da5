//! REP string instructions that run into a not-present page part-way: the
//! #PF arrives with ECX, ESI and EDI counting exactly the iterations that
//! completed (none of the faulting one), the bytes of those iterations
//! written, and once the handler maps the page and returns, the
//! instruction finishes where it stopped.

use super::*;

/// The page that is not present at first.
const HOLE: u32 = DATA + 0x1000;
/// Where the other operand lives (mapped).
const OTHER: u32 = DATA + 0x3000;

struct Case {
    name: &'static str,
    code: &'static [u8],
    count: u32,
    esi: u32,
    edi: u32,
    /// Element size and EFLAGS.DF.
    size: u32,
    down: bool,
    /// Iterations done when the fault arrives, and in all.
    done_at_fault: u32,
    done_in_all: u32,
    /// The #PF error code (2: a write).
    code_bits: u32,
}

const CASES: &[Case] = &[
    Case {
        name: "rep movsd, source runs into the hole",
        code: &[0xf3, 0xa5],
        count: 8,
        esi: HOLE - 16,
        edi: OTHER,
        size: 4,
        down: false,
        done_at_fault: 4,
        done_in_all: 8,
        code_bits: 0,
    },
    Case {
        name: "rep movsd, a source dword straddling the hole",
        code: &[0xf3, 0xa5],
        count: 8,
        esi: HOLE - 14,
        edi: OTHER,
        size: 4,
        down: false,
        done_at_fault: 3,
        done_in_all: 8,
        code_bits: 0,
    },
    Case {
        name: "rep movsd, destination runs into the hole",
        code: &[0xf3, 0xa5],
        count: 8,
        esi: OTHER,
        edi: HOLE - 12,
        size: 4,
        down: false,
        done_at_fault: 3,
        done_in_all: 8,
        code_bits: 2,
    },
    Case {
        name: "std; rep movsd, destination runs down into the hole",
        code: &[0xf3, 0xa5],
        count: 8,
        esi: OTHER + 0x100,
        edi: HOLE + 0x1000 + 8,
        size: 4,
        down: true,
        done_at_fault: 3,
        done_in_all: 8,
        code_bits: 2,
    },
    Case {
        name: "rep stosd, destination runs into the hole",
        code: &[0xf3, 0xab],
        count: 8,
        esi: 0,
        edi: HOLE - 8,
        size: 4,
        down: false,
        done_at_fault: 2,
        done_in_all: 8,
        code_bits: 2,
    },
    Case {
        name: "rep stosw, destination runs into the hole",
        code: &[0xf3, 0x66, 0xab],
        count: 8,
        esi: 0,
        edi: HOLE - 6,
        size: 2,
        down: false,
        done_at_fault: 3,
        done_in_all: 8,
        code_bits: 2,
    },
    Case {
        // Equal bytes except the one at HOLE + 2: stops after it.
        name: "repe cmpsb, source runs into the hole",
        code: &[0xf3, 0xa6],
        count: 16,
        esi: HOLE - 6,
        edi: OTHER,
        size: 1,
        down: false,
        done_at_fault: 6,
        done_in_all: 9,
        code_bits: 0,
    },
];

const RETRY_HANDLER: [u8; 4] = [0x83, 0xc4, 0x04, 0xcf];

/// The byte the source buffers hold at `addr`.
fn pattern(addr: u32) -> u8 {
    (addr as u8) ^ 0x5A
}

fn setup(model: Model, c: &Case, direct: bool) -> Pm {
    let mut pm = Pm::new(model, c.code);
    pm.ram.direct = direct;
    pm.enable_paging();
    let handler = (HANDLERS + 16 * 14) as usize;
    pm.ram.mem[handler..handler + 4].copy_from_slice(&RETRY_HANDLER);
    // Source-side data on both sides of every boundary used.
    let esi_region = c.esi.saturating_sub(0x100)..c.esi + 0x100;
    for a in esi_region {
        pm.ram.write_u8(a, pattern(a));
    }
    if c.name.contains("cmpsb") {
        // The destination compares equal to the source, but at HOLE + 2.
        for i in 0..c.count {
            let b = pattern(c.esi + i) ^ u8::from(c.esi + i == HOLE + 2);
            pm.ram.write_u8(c.edi + i, b);
        }
    }
    pm.pte(HOLE, 0);
    pm.cpu.set_gpr(Gpr::Ecx, c.count);
    pm.cpu.set_gpr(Gpr::Esi, c.esi);
    pm.cpu.set_gpr(Gpr::Edi, c.edi);
    pm.cpu.set_gpr(Gpr::Eax, 0xA1B2_C3D4);
    pm.cpu.set_eflags(if c.down { 0x402 } else { 0x002 });
    pm
}

/// ESI and EDI after `n` iterations.
fn pointers(c: &Case, n: u32) -> (u32, u32) {
    let step = |p: u32| {
        if c.down {
            p.wrapping_sub(n * c.size)
        } else {
            p.wrapping_add(n * c.size)
        }
    };
    let moves_esi = !c.name.contains("stos");
    (if moves_esi { step(c.esi) } else { c.esi }, step(c.edi))
}

/// The registers after `n` iterations: ECX, ESI, EDI.
fn regs_after(c: &Case, n: u32) -> (u32, u32, u32) {
    let (esi, edi) = pointers(c, n);
    (c.count - n, esi, edi)
}

fn regs(pm: &Pm) -> (u32, u32, u32) {
    (
        pm.cpu.gpr(Gpr::Ecx),
        pm.cpu.gpr(Gpr::Esi),
        pm.cpu.gpr(Gpr::Edi),
    )
}

/// The bytes iteration `i` wrote are there.
fn check_written(pm: &mut Pm, c: &Case, iterations: u32, what: &str) {
    if c.name.contains("cmps") {
        return;
    }
    for i in 0..iterations {
        let (esi, edi) = pointers(c, i);
        for b in 0..c.size {
            let want = if c.name.contains("stos") {
                (0xA1B2_C3D4u32 >> (8 * b)) as u8
            } else {
                pattern(esi + b)
            };
            assert_eq!(
                pm.ram.read_u8(edi + b),
                want,
                "{what}: iteration {i} byte {b}"
            );
        }
    }
}

#[test]
fn rep_string_faults_count_the_completed_iterations_and_resume() {
    // On a bus whose pages the CPU may access directly, REP MOVS and
    // REP STOS run in bulk up to the hole (`exec/string_bulk.rs`).
    for (model, direct) in [Model::I386, Model::I486, Model::I686]
        .into_iter()
        .flat_map(|m| [(m, false), (m, true)])
    {
        for c in CASES {
            let what = format!("{} on {model:?}, direct pages {direct}", c.name);
            let mut pm = setup(model, c, direct);
            let (vector, code) = pm.fault();
            assert_eq!((vector, code), (14, c.code_bits), "{what}");
            let expected = regs_after(c, c.done_at_fault);
            assert_eq!(regs(&pm), expected, "{what}: registers at the fault");
            assert_eq!(pm.stack(1), CODE, "{what}: the fault is on the instruction");
            check_written(&mut pm, c, c.done_at_fault, &what);
            let hole_byte = |p: u32| (p & !0xFFF) == HOLE;
            let faulting = pointers(c, c.done_at_fault);
            let touched = [faulting.0, faulting.1];
            assert!(
                touched
                    .iter()
                    .any(|&p| hole_byte(p) || hole_byte(p + c.size - 1)),
                "{what}: the faulting iteration touches the hole"
            );
            pm.pte(HOLE, HOLE | 7);
            pm.cpu.flush_tlb_all();
            pm.run(2);
            assert_eq!(pm.cpu.eip(), CODE, "{what}: back at the instruction");
            pm.step();
            assert_eq!(pm.vector(), None, "{what}: the rest retires");
            assert_eq!(pm.cpu.eip(), CODE + c.code.len() as u32, "{what}");
            assert_eq!(
                regs(&pm),
                regs_after(c, c.done_in_all),
                "{what}: at the end"
            );
            check_written(&mut pm, c, c.done_in_all, &what);
            if c.name.contains("cmps") {
                assert_eq!(
                    pm.cpu.eflags() & 0x40,
                    0,
                    "{what}: stopped on the difference"
                );
            }
        }
    }
}
