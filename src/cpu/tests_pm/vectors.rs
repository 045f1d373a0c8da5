//! Every exception a protected-mode guest can raise, one table: how it is
//! triggered at ring 0, the vector delivered through the IDT, whether an
//! error code is pushed and its value, and the return address saved (the
//! faulting instruction for faults, the next instruction for traps).
//! (NMI and #MC have no source on this board.)

use super::*;

/// What an exception's stack frame must look like.
struct Case {
    name: &'static str,
    vector: u8,
    /// `Some(code)` when the CPU pushes an error code.
    error: Option<u32>,
    /// Offset from CODE of the saved EIP.
    saved_eip: u32,
    /// Instructions to run before the one that raises it.
    setup_steps: usize,
}

fn check(pm: &mut Pm, case: &Case) {
    pm.run(case.setup_steps);
    pm.step();
    let v = pm.vector();
    assert_eq!(v, Some(case.vector), "{}: vector", case.name);
    let (eip_slot, code) = match case.error {
        Some(_) => (1, Some(pm.stack(0))),
        None => (0, None),
    };
    assert_eq!(code, case.error, "{}: error code", case.name);
    assert_eq!(
        pm.stack(eip_slot),
        CODE + case.saved_eip,
        "{}: saved EIP",
        case.name
    );
    assert_eq!(
        pm.stack(eip_slot + 1),
        u32::from(KCODE),
        "{}: saved CS",
        case.name
    );
}

fn case(
    name: &'static str,
    vector: u8,
    error: Option<u32>,
    saved_eip: u32,
    setup_steps: usize,
) -> Case {
    Case {
        name,
        vector,
        error,
        saved_eip,
        setup_steps,
    }
}

#[test]
fn de_divide_error() {
    let mut pm = Pm::new(Model::I686, &[0x31, 0xC9, 0xF7, 0xF1]); // xor ecx,ecx; div ecx
    check(&mut pm, &case("#DE", 0, None, 2, 1));
}

#[test]
fn db_single_step_trap() {
    let mut pm = Pm::new(Model::I686, &[0x90, 0x90]); // nop
    pm.cpu.set_eflags(0x102); // TF
    check(&mut pm, &case("#DB", 1, None, 1, 0));
}

#[test]
fn bp_breakpoint_trap() {
    let mut pm = Pm::new(Model::I686, &[0xCC]);
    check(&mut pm, &case("#BP", 3, None, 1, 0));
}

#[test]
fn of_into_trap() {
    let mut pm = Pm::new(Model::I686, &[0xCE]);
    pm.cpu.set_eflags(0x802); // OF
    check(&mut pm, &case("#OF", 4, None, 1, 0));
}

#[test]
fn br_bound_fault() {
    // bound eax, [DATA] with bounds 0x10..0x20 and EAX = 0x30
    let d = DATA.to_le_bytes();
    let mut pm = Pm::new(Model::I686, &[0x62, 0x05, d[0], d[1], d[2], d[3]]);
    pm.ram.write_u32(DATA, 0x10);
    pm.ram.write_u32(DATA + 4, 0x20);
    pm.cpu.set_gpr(Gpr::Eax, 0x30);
    check(&mut pm, &case("#BR", 5, None, 0, 0));
}

#[test]
fn ud_invalid_opcode() {
    let mut pm = Pm::new(Model::I686, &[0x0F, 0x0B]); // ud2
    check(&mut pm, &case("#UD", 6, None, 0, 0));
}

#[test]
fn nm_device_not_available() {
    let mut pm = Pm::new(Model::I686, &[0xD9, 0xE8]); // fld1 with CR0.TS
    let cr0 = pm.cpu.cr0();
    pm.cpu.set_cr0(cr0 | 0x8);
    check(&mut pm, &case("#NM", 7, None, 0, 0));
}

#[test]
fn df_double_fault() {
    // A #GP whose own gate lies beyond the IDT limit: #GP while delivering
    // #GP gives #DF with error code 0. (The SDM leaves the saved EIP of a
    // #DF undefined; moon86 saves the instruction that raised the first fault.)
    let mut pm = Pm::new(Model::I686, &[0x66, 0xB8, 0x00, 0x10, 0x8E, 0xD8]); // mov ax,0x1000; mov ds,ax
    pm.cpu.set_idtr(IDT, 8 * 13 - 1);
    check(&mut pm, &case("#DF", 8, Some(0), 4, 1));
}

#[test]
fn ts_invalid_tss() {
    // IRET with NT set follows the back link, here to a data segment: #TS(link).
    let mut pm = Pm::new(Model::I686, &[0xCF]);
    pm.cpu.set_eflags(0x4002);
    pm.ram.write_u16(TSS, KDATA);
    check(&mut pm, &case("#TS", 10, Some(u32::from(KDATA)), 0, 0));
}

#[test]
fn np_segment_not_present() {
    let s = NOTPRESENT.to_le_bytes();
    let mut pm = Pm::new(Model::I686, &[0x66, 0xB8, s[0], s[1], 0x8E, 0xD8]); // mov ds, ax
    check(&mut pm, &case("#NP", 11, Some(u32::from(NOTPRESENT)), 4, 1));
}

#[test]
fn ss_stack_segment_not_present() {
    let s = NOTPRESENT.to_le_bytes();
    let mut pm = Pm::new(Model::I686, &[0x66, 0xB8, s[0], s[1], 0x8E, 0xD0]); // mov ss, ax
    check(&mut pm, &case("#SS", 12, Some(u32::from(NOTPRESENT)), 4, 1));
}

#[test]
fn gp_selector_beyond_the_gdt() {
    let mut pm = Pm::new(Model::I686, &[0x66, 0xB8, 0x00, 0x10, 0x8E, 0xD8]); // mov ax,0x1000; mov ds,ax
    check(&mut pm, &case("#GP", 13, Some(0x1000), 4, 1));
}

#[test]
fn pf_read_of_a_not_present_page() {
    let mut pm = Pm::new(Model::I686, &[0xA1, 0x00, 0x00, 0x30, 0x00]); // mov eax,[0x300000]
    pm.enable_paging();
    pm.pte(0x30_0000, 0);
    check(&mut pm, &case("#PF", 14, Some(0), 0, 0));
    assert_eq!(pm.cpu.cr2(), 0x30_0000, "#PF: CR2");
}

#[test]
fn mf_floating_point_error() {
    // CR0.NE=1: an unmasked divide-by-zero is reported as #MF at the next
    // waiting FPU instruction (FWAIT at offset 15).
    let cw = DATA.to_le_bytes();
    let code = [
        0xDB, 0xE3, // fninit
        0xD9, 0x2D, cw[0], cw[1], cw[2], cw[3], // fldcw [DATA]
        0xD9, 0xEE, // fldz
        0xD9, 0xE8, // fld1
        0xD8, 0xF1, // fdiv st0, st1
        0x90, // nop
        0x9B, // fwait
    ];
    let mut pm = Pm::new(Model::I686, &code);
    pm.ram.write_u16(DATA, 0x037B); // all masked but ZM
    let cr0 = pm.cpu.cr0();
    pm.cpu.set_cr0(cr0 | 0x20);
    check(&mut pm, &case("#MF", 16, None, 15, 6));
}

#[test]
fn ac_alignment_check_at_ring_3() {
    // mov eax, [DATA + 1] at CPL 3 with CR0.AM and EFLAGS.AC: #AC(0); the
    // same access at CPL 0, or aligned, or with AM clear, does not fault.
    let d = (DATA + 1).to_le_bytes();
    let code = [0xA1, d[0], d[1], d[2], d[3]];
    let mut pm = Pm::new(Model::I686, &code);
    let cr0 = pm.cpu.cr0();
    pm.cpu.set_cr0(cr0 | 1 << 18);
    pm.enter_ring3();
    pm.cpu.set_eflags(0x4_0202);
    pm.step();
    assert_eq!(pm.vector(), Some(17), "#AC: vector");
    assert_eq!(pm.stack(0), 0, "#AC: error code");
    assert_eq!(pm.stack(1), CODE, "#AC: saved EIP");
    assert_eq!(pm.stack(2), u32::from(UCODE), "#AC: saved CS");

    for (ring3, am, ac) in [
        (false, true, true),
        (true, false, true),
        (true, true, false),
    ] {
        let mut pm = Pm::new(Model::I686, &code);
        let cr0 = pm.cpu.cr0();
        pm.cpu.set_cr0(if am { cr0 | 1 << 18 } else { cr0 });
        if ring3 {
            pm.enter_ring3();
        }
        pm.cpu.set_eflags(if ac { 0x4_0202 } else { 0x202 });
        pm.step();
        assert_eq!(
            pm.vector(),
            None,
            "no #AC with ring3={ring3} AM={am} AC={ac}"
        );
        assert_eq!(pm.cpu.eip(), CODE + 5);
    }
}
