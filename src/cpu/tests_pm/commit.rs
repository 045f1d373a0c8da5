//! A faulting instruction commits nothing: when the write of a
//! read-modify-write instruction faults (a read-only page at ring 3), the
//! #PF handler sees the registers, EFLAGS and memory as they were before
//! the instruction, and once it makes the page writable and returns, the
//! restarted instruction computes exactly what it would have the first
//! time (ADC, SBB, RCL and RCR read CF).

use super::*;

/// One read-modify-write form, its memory operand at [ebx].
struct Case {
    name: &'static str,
    code: &'static [u8],
    /// The oldest model that has the instruction.
    needs: Model,
    /// EAX before (CMPXCHG and CMPXCHG8B compare it with memory).
    eax: u32,
}

const MEM: u32 = 0x8000_0001;
const MEM_HI: u32 = 0x1234_5678;

const fn case(name: &'static str, code: &'static [u8]) -> Case {
    Case {
        name,
        code,
        needs: Model::I386,
        eax: 0x4000_0003,
    }
}

const CASES: &[Case] = &[
    case("adc [ebx], eax", &[0x11, 0x03]),
    case("adc byte [ebx], al", &[0x10, 0x03]),
    case("sbb [ebx], eax", &[0x19, 0x03]),
    case("add [ebx], eax", &[0x01, 0x03]),
    case("or [ebx], eax", &[0x09, 0x03]),
    case("and [ebx], eax", &[0x21, 0x03]),
    case("sub [ebx], eax", &[0x29, 0x03]),
    case("xor [ebx], eax", &[0x31, 0x03]),
    case("adc dword [ebx], 5", &[0x83, 0x13, 0x05]),
    case("sbb word [ebx], 0x1234", &[0x66, 0x81, 0x1b, 0x34, 0x12]),
    case("inc dword [ebx]", &[0xff, 0x03]),
    case("dec byte [ebx]", &[0xfe, 0x0b]),
    case("not dword [ebx]", &[0xf7, 0x13]),
    case("neg dword [ebx]", &[0xf7, 0x1b]),
    case("rol dword [ebx], 1", &[0xd1, 0x03]),
    case("rcl dword [ebx], 1", &[0xd1, 0x13]),
    case("rcr dword [ebx], 1", &[0xd1, 0x1b]),
    case("rcl byte [ebx], cl", &[0xd2, 0x13]),
    case("rcr word [ebx], 3", &[0x66, 0xc1, 0x1b, 0x03]),
    case("shl dword [ebx], cl", &[0xd3, 0x23]),
    case("sar dword [ebx], 3", &[0xc1, 0x3b, 0x03]),
    case("shld [ebx], eax, 4", &[0x0f, 0xa4, 0x03, 0x04]),
    case("shrd [ebx], eax, cl", &[0x0f, 0xad, 0x03]),
    case("bts [ebx], ecx", &[0x0f, 0xab, 0x0b]),
    case("btr [ebx], ecx", &[0x0f, 0xb3, 0x0b]),
    case("btc dword [ebx], 5", &[0x0f, 0xba, 0x3b, 0x05]),
    case("xchg [ebx], eax", &[0x87, 0x03]),
    case("setc byte [ebx]", &[0x0f, 0x92, 0x03]),
    Case {
        needs: Model::I486,
        ..case("xadd [ebx], eax", &[0x0f, 0xc1, 0x03])
    },
    Case {
        needs: Model::I486,
        eax: MEM,
        ..case("cmpxchg [ebx], edx (equal)", &[0x0f, 0xb1, 0x13])
    },
    Case {
        needs: Model::I486,
        ..case("cmpxchg [ebx], edx (not equal)", &[0x0f, 0xb1, 0x13])
    },
    Case {
        needs: Model::I686,
        eax: MEM,
        ..case("cmpxchg8b [ebx] (equal)", &[0x0f, 0xc7, 0x0b])
    },
    Case {
        needs: Model::I686,
        ..case("cmpxchg8b [ebx] (not equal)", &[0x0f, 0xc7, 0x0b])
    },
];

/// CF, ZF, SF and OF set: every carry-reading form sees CF = 1.
const FLAGS_BEFORE: u32 = 0x0000_08C3;

/// The #PF handler: drop the error code and return to the instruction.
const RETRY_HANDLER: [u8; 4] = [0x83, 0xc4, 0x04, 0xcf];

fn rank(m: Model) -> u8 {
    match m {
        Model::I286 => 0,
        Model::I386 => 1,
        Model::I486 => 2,
        Model::I686 | Model::PentiumM => 3,
    }
}

/// A paged ring-3 machine about to run `c` with DATA's page `pte`.
fn setup(model: Model, c: &Case, pte: u32) -> Pm {
    let mut pm = Pm::new(model, c.code);
    pm.enable_paging();
    pm.pte(DATA, DATA | pte);
    let handler = (HANDLERS + 16 * 14) as usize;
    pm.ram.mem[handler..handler + 4].copy_from_slice(&RETRY_HANDLER);
    pm.ram.write_u32(DATA, MEM);
    pm.ram.write_u32(DATA + 4, MEM_HI);
    pm.enter_ring3();
    let regs = [
        (Gpr::Eax, c.eax),
        (Gpr::Ecx, 0x0000_0003),
        (Gpr::Edx, MEM_HI),
        (Gpr::Ebx, DATA),
        (Gpr::Esi, 0x5555_0001),
    ];
    for (r, v) in regs {
        pm.cpu.set_gpr(r, v);
    }
    pm.cpu.set_eflags(FLAGS_BEFORE);
    pm
}

/// Everything an instruction may change: the registers but ESP, EFLAGS,
/// the two dwords at DATA.
fn state(pm: &mut Pm) -> ([u32; 7], u32, u32, u32) {
    let regs = [
        Gpr::Eax,
        Gpr::Ecx,
        Gpr::Edx,
        Gpr::Ebx,
        Gpr::Ebp,
        Gpr::Esi,
        Gpr::Edi,
    ]
    .map(|r| pm.cpu.gpr(r));
    (
        regs,
        pm.cpu.eflags(),
        pm.ram.read_u32(DATA),
        pm.ram.read_u32(DATA + 4),
    )
}

#[test]
fn a_faulting_read_modify_write_commits_nothing_and_restarts_exactly() {
    for model in [Model::I386, Model::I486, Model::I686] {
        for c in CASES.iter().filter(|c| rank(model) >= rank(c.needs)) {
            let what = format!("{} on {model:?}", c.name);
            let mut reference = setup(model, c, 7);
            reference.step();
            assert_eq!(reference.vector(), None, "{what}: no fault when writable");
            let expected = state(&mut reference);

            let mut pm = setup(model, c, 5);
            let before = state(&mut pm);
            assert_eq!(pm.fault(), (14, 7), "{what}: #PF(U,W,P)");
            assert_eq!(pm.stack(1), CODE, "{what}: the pushed EIP");
            assert_eq!(pm.stack(3), FLAGS_BEFORE, "{what}: the pushed EFLAGS");
            let (regs, _, lo, hi) = state(&mut pm);
            assert_eq!((regs, lo, hi), (before.0, before.2, before.3), "{what}");

            pm.pte(DATA, DATA | 7);
            pm.cpu.flush_tlb_all();
            pm.run(2);
            assert_eq!(pm.cpu.eip(), CODE, "{what}: back at the instruction");
            pm.step();
            assert_eq!(pm.vector(), None, "{what}: the restart retires");
            assert_eq!(state(&mut pm), expected, "{what}: the restarted result");
            assert_eq!(pm.cpu.eip(), reference.cpu.eip(), "{what}");
        }
    }
}

/// LOOP, LOOPE and LOOPNE to a target beyond CS's limit raise #GP(0)
/// before they write the count: ECX is as it was (the interpreter once
/// decremented it first; the JIT's differential test found it).
#[test]
fn a_loop_to_a_target_outside_cs_leaves_ecx_alone() {
    for (name, opcode, zf) in [
        ("loop", 0xE2, false),
        ("loope", 0xE1, true),
        ("loopne", 0xE0, false),
    ] {
        // A 32-bit LOOP forward by 0x7F, past a limit 0x40 bytes into the
        // code.
        let mut pm = Pm::new(Model::I386, &[opcode, 0x7F]);
        let cs = pm.cpu.segment(SegReg::Cs);
        pm.cpu.set_segment(
            SegReg::Cs,
            Segment {
                limit: CODE + 0x40,
                ..cs
            },
        );
        pm.cpu.set_gpr(Gpr::Ecx, 5);
        pm.cpu.set_eflags(if zf { 0x42 } else { 2 });
        assert_eq!(pm.fault(), (13, 0), "{name}");
        assert_eq!(pm.cpu.gpr(Gpr::Ecx), 5, "{name} wrote the count");
        assert_eq!(pm.stack(1), CODE, "{name}: the frame's EIP");
    }
}
