//! Segment loads and checks, gates, privilege transitions and the
//! exception-delivery rules (#DF, shutdown).

use super::*;
use crate::cpu::CpuMode;

const MOV_DS_AX: [u8; 2] = [0x8e, 0xd8];
const MOV_SS_AX: [u8; 2] = [0x8e, 0xd0];

fn load_ds(ax: u16) -> Pm {
    let mut pm = Pm::new(Model::I386, &MOV_DS_AX);
    pm.cpu.set_gpr(Gpr::Eax, u32::from(ax));
    pm
}

#[test]
fn protected_mode_is_reported() {
    let pm = Pm::new(Model::I386, &[]);
    assert_eq!(pm.cpu.mode(), CpuMode::Protected);
    assert_eq!(pm.cpu.cpl(), 0);
    assert!(!pm.cpu.paging());
    assert_eq!(Cpu::new().mode(), CpuMode::Real);
}

#[test]
fn null_selector_loads_into_ds_but_faults_on_use() {
    let mut pm = Pm::new(Model::I386, &[0x8e, 0xd8, 0xa1, 0, 0, 0, 0]);
    pm.cpu.set_gpr(Gpr::Eax, 3);
    pm.step();
    assert_eq!(pm.cpu.segment(SegReg::Ds).selector, 3);
    assert_eq!(pm.fault(), (13, 0), "#GP(0) on access through a null DS");
}

#[test]
fn selector_beyond_the_gdt_limit_is_gp_with_the_selector() {
    assert_eq!(load_ds(0x1FB).fault(), (13, 0x1F8));
}

#[test]
fn not_present_data_segment_is_np() {
    assert_eq!(load_ds(NOTPRESENT).fault(), (11, u32::from(NOTPRESENT)));
}

#[test]
fn execute_only_code_cannot_be_loaded_into_ds() {
    assert_eq!(load_ds(XONLY).fault(), (13, u32::from(XONLY)));
}

#[test]
fn ldt_selector_with_a_null_ldtr_is_gp() {
    assert_eq!(load_ds(0x0C).fault(), (13, 0x0C));
}

#[test]
fn load_sets_the_accessed_bit() {
    let mut pm = load_ds(RODATA);
    pm.step();
    assert_eq!(pm.ram.read_u8(GDT + u32::from(RODATA) + 5), 0x91);
    assert_eq!(pm.cpu.segment(SegReg::Ds).access & 0xFF, 0x91);
}

#[test]
fn stack_segment_rules() {
    for (sel, want) in [
        (0u16, (13, 0)),
        (RODATA, (13, u32::from(RODATA))),
        (UDATA, (13, u32::from(UDATA & !3))),
        (NOTPRESENT, (12, u32::from(NOTPRESENT))),
    ] {
        let mut pm = Pm::new(Model::I386, &MOV_SS_AX);
        pm.cpu.set_gpr(Gpr::Eax, u32::from(sel));
        assert_eq!(pm.fault(), want, "mov ss, {sel:#x}");
    }
}

#[test]
fn writing_a_read_only_segment_is_gp0() {
    let mut pm = Pm::new(Model::I386, &[0x8e, 0xd8, 0xa3, 0, 0, 0, 0]);
    pm.cpu.set_gpr(Gpr::Eax, u32::from(RODATA));
    pm.step();
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn expand_down_segment_valid_offsets_lie_above_the_limit() {
    // DS = expand-down, limit 0xFFF: offset 0x800 faults, 0x1000 does not.
    let mut pm = Pm::new(
        Model::I386,
        &[0x8e, 0xd8, 0xa1, 0, 0x10, 0, 0, 0xa1, 0, 0x08, 0, 0],
    );
    pm.cpu.set_gpr(Gpr::Eax, u32::from(EXPDOWN));
    pm.run(2);
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn user_mode_cannot_load_kernel_data() {
    let mut pm = load_ds(KDATA);
    pm.enter_ring3();
    assert_eq!(pm.cpu.cpl(), 3);
    assert_eq!(pm.fault(), (13, u32::from(KDATA)));
}

#[test]
fn software_int_through_a_dpl0_gate_from_ring3_is_gp() {
    let mut pm = Pm::new(Model::I386, &[0xcd, 0x80]);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, idt_code(0x80, false)));
}

#[test]
fn int_from_ring3_switches_to_the_tss_stack() {
    let mut pm = Pm::new(Model::I386, &[0xcd, 0x80]);
    pm.w64(IDT + 0x80 * 8, gate_desc(KCODE, HANDLERS + 0x800, 0xEE, 0));
    pm.enter_ring3();
    pm.step();
    assert_eq!(pm.vector(), Some(0x80));
    assert_eq!(pm.cpu.cpl(), 0);
    assert_eq!(pm.cpu.segment(SegReg::Ss).selector, KDATA);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), STACK0 - 20);
    let frame: Vec<u32> = (0..5).map(|i| pm.stack(i)).collect();
    assert_eq!(frame[0], CODE + 2);
    assert_eq!(frame[1], u32::from(UCODE));
    assert_eq!(frame[3], STACK3);
    assert_eq!(frame[4], u32::from(UDATA));
    // An interrupt gate clears IF.
    assert_eq!(pm.cpu.eflags() & 0x200, 0);
}

#[test]
fn not_present_gate_is_np_with_the_idt_bit() {
    let mut pm = Pm::new(Model::I386, &[0xcd, 0x40]);
    pm.w64(IDT + 0x40 * 8, gate_desc(KCODE, HANDLERS, 0x0E, 0));
    assert_eq!(pm.fault(), (11, idt_code(0x40, false)));
}

#[test]
fn call_gate_to_ring0_copies_parameters_and_retf_imm_returns() {
    // push 0x1111; push 0x2222; lcall $0x4b,$0 ... at the target: lret $8
    let mut pm = Pm::new(
        Model::I386,
        &[
            0x68,
            0x11,
            0x11,
            0,
            0,
            0x68,
            0x22,
            0x22,
            0,
            0,
            0x9a,
            0,
            0,
            0,
            0,
            CALLGATE as u8,
            0,
        ],
    );
    pm.ram.mem[GATE_TARGET as usize..GATE_TARGET as usize + 3].copy_from_slice(&[0xca, 8, 0]);
    pm.enter_ring3();
    pm.run(3);
    assert_eq!(pm.cpu.eip(), GATE_TARGET);
    assert_eq!(pm.cpu.cpl(), 0);
    let frame: Vec<u32> = (0..6).map(|i| pm.stack(i)).collect();
    assert_eq!(
        frame,
        vec![
            CODE + 17,
            u32::from(UCODE),
            0x2222,
            0x1111,
            STACK3 - 8,
            u32::from(UDATA)
        ]
    );
    pm.step();
    assert_eq!(pm.cpu.cpl(), 3);
    assert_eq!(pm.cpu.eip(), CODE + 17);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), STACK3);
    assert_eq!(pm.cpu.segment(SegReg::Ss).selector, UDATA);
}

#[test]
fn call_gate_with_dpl_below_cpl_is_gp() {
    let mut pm = Pm::new(Model::I386, &[0x9a, 0, 0, 0, 0, 0x4b, 0]);
    pm.w64(GDT + 0x48, gate_desc(KCODE, GATE_TARGET, 0x8C, 0));
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0x48));
}

#[test]
fn iret_to_an_outer_level_nulls_inaccessible_data_segments() {
    // push ss3; push esp3; push eflags; push cs3; push eip; iret
    let mut pm = Pm::new(
        Model::I386,
        &[
            0x6a, 0x23, 0x68, 0, 0x80, 0, 0, 0x6a, 0x02, 0x6a, 0x1b, 0x68, 0x00, 0x01, 0x01, 0,
            0xcf,
        ],
    );
    pm.cpu.set_segment(SegReg::Fs, flat(UDATA, 0xF3));
    pm.run(6);
    assert_eq!(pm.cpu.cpl(), 3);
    assert_eq!(pm.cpu.eip(), 0x10100);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), STACK3);
    assert_eq!(pm.cpu.segment(SegReg::Ds).selector, 0, "DPL-0 DS nulled");
    assert_eq!(pm.cpu.segment(SegReg::Fs).selector, UDATA, "DPL-3 FS kept");
}

#[test]
fn cli_at_cpl_above_iopl_is_gp0() {
    let mut pm = Pm::new(Model::I386, &[0xfa]);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn io_permission_bitmap_at_cpl3() {
    let mut pm = Pm::new(Model::I386, &[0xe4, 0x61, 0xe4, 0x60]);
    pm.enter_ring3();
    pm.step();
    assert_eq!(pm.vector(), None, "port 0x61 allowed by the bitmap");
    assert_eq!(pm.cpu.gpr(Gpr::Eax) & 0xFF, 0x61);
    assert_eq!(pm.fault(), (13, 0), "port 0x60 denied");
}

#[test]
fn privileged_instructions_at_ring3_are_gp0() {
    for code in [
        &[0xf4][..],             // hlt
        &[0x0f, 0x22, 0xd8][..], // mov cr3, eax
        &[0x0f, 0x01, 0x10][..], // lgdt [eax]
        &[0x0f, 0x06][..],       // clts
        &[0x0f, 0x00, 0xd0][..], // lldt ax
    ] {
        let mut pm = Pm::new(Model::I386, code);
        pm.enter_ring3();
        assert_eq!(pm.fault(), (13, 0), "{code:x?}");
    }
}

#[test]
fn selector_instructions() {
    // lar ebx, ax / lsl ebx, ax / verr ax / verw ax
    let mut pm = Pm::new(
        Model::I386,
        &[
            0x0f, 0x02, 0xd8, 0x0f, 0x03, 0xd8, 0x0f, 0x00, 0xe0, 0x0f, 0x00, 0xe8,
        ],
    );
    pm.cpu.set_gpr(Gpr::Eax, u32::from(RODATA));
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Ebx), 0x00CF_9100);
    assert_ne!(pm.cpu.eflags() & 0x40, 0);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Ebx), 0xFFFF_FFFF);
    pm.step();
    assert_ne!(pm.cpu.eflags() & 0x40, 0, "read-only data is readable");
    pm.step();
    assert_eq!(pm.cpu.eflags() & 0x40, 0, "read-only data is not writable");
    // ARPL raises RPL.
    let mut pm = Pm::new(Model::I386, &[0x63, 0xd8]);
    pm.cpu.set_gpr(Gpr::Eax, 0x10);
    pm.cpu.set_gpr(Gpr::Ebx, 0x23);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0x13);
    assert_ne!(pm.cpu.eflags() & 0x40, 0);
    // In real mode they are #UD.
    let mut cpu = Cpu::new();
    let mut ram = Ram {
        mem: vec![0; 0x2_0000],
        io: Vec::new(),
        direct: false,
        host_pages: 0,
    };
    ram.mem[0..2].copy_from_slice(&[0x63, 0xd8]);
    cpu.load_segment_real(SegReg::Cs, 0);
    cpu.set_eip(0);
    cpu.step(&mut ram);
    assert_eq!(cpu.segment(SegReg::Cs).selector, 0);
    assert_eq!(ram.read_u16(6 * 4), cpu.eip() as u16, "vector 6 entered");
}

#[test]
fn fault_while_delivering_a_fault_is_a_double_fault() {
    // #GP's gate is not present: #NP(13*8+2+EXT) is contributory -> #DF(0).
    let mut pm = load_ds(0x218);
    pm.w64(IDT + 13 * 8, gate_desc(KCODE, HANDLERS, 0x0E, 0));
    assert_eq!(pm.fault(), (8, 0));
}

#[test]
fn fault_while_delivering_a_double_fault_shuts_down() {
    let mut pm = load_ds(0x1F8);
    pm.cpu.set_idtr(IDT, 0x3F);
    assert_eq!(pm.step(), StepOutcome::Shutdown);
    assert!(pm.cpu.is_shutdown());
}

#[test]
fn contributory_fault_while_delivering_a_page_fault_is_a_double_fault() {
    let mut pm = Pm::new(Model::I486, &[0xa1, 0, 0, 0x20, 0]);
    pm.enable_paging();
    pm.pte(0x200000, 0);
    // The #PF gate names a data segment: #GP(0x10 + EXT).
    pm.w64(IDT + 14 * 8, gate_desc(KDATA, 0, 0x8E, 0));
    assert_eq!(pm.fault(), (8, 0));
    assert_eq!(pm.cpu.cr2(), 0x200000);
}

#[test]
fn a_stack_that_faults_every_push_ends_in_shutdown() {
    // #GP's push hits a non-present stack page: that #PF is delivered in
    // turn (contributory then #PF is not a double fault), its own push
    // faults (#PF during #PF -> #DF), and so does the #DF's: shutdown.
    let mut pm = Pm::new(Model::I486, &[0x8e, 0xd8]);
    pm.cpu.set_gpr(Gpr::Eax, 0x218);
    pm.enable_paging();
    pm.pte(STACK0 - 4, 0);
    assert_eq!(pm.step(), StepOutcome::Shutdown);
    assert_eq!(pm.cpu.cr2(), STACK0 - 4);
}

/// Runs `count` pushes of `push` (each followed by its immediate byte
/// `0x40 + i`) and an `lcall` through CALLGATE, now a gate of type
/// `access` with `count` parameters, from ring 3; returns at the target.
fn call_gate_with_params(access: u8, push: &[u8], count: u8) -> Pm {
    let mut code = Vec::new();
    for i in 0..count {
        code.extend_from_slice(push);
        code.push(0x40 + i);
    }
    code.extend_from_slice(&[0x9a, 0, 0, 0, 0, CALLGATE as u8, 0]);
    let mut pm = Pm::new(Model::I386, &code);
    pm.w64(
        GDT + u32::from(CALLGATE & !3),
        gate_desc(KCODE, GATE_TARGET, access, count),
    );
    pm.enter_ring3();
    pm.run(usize::from(count) + 1);
    assert_eq!(pm.cpu.eip(), GATE_TARGET);
    assert_eq!(pm.cpu.cpl(), 0);
    pm
}

#[test]
fn call_gate_32_copies_ten_parameters_and_the_whole_frame() {
    // push imm8 (a dword) x10; lcall through a 32-bit gate with 10 params.
    let pm = &mut call_gate_with_params(0xEC, &[0x6a], 10);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), STACK0 - 4 * 14);
    let frame: Vec<u32> = (0..14).map(|i| pm.stack(i)).collect();
    let mut want = vec![CODE + 27, u32::from(UCODE)];
    // The last pushed parameter is nearest the return address.
    want.extend((0..10).rev().map(|i| 0x40 + i));
    want.extend([STACK3 - 40, u32::from(UDATA)]);
    assert_eq!(frame, want);
}

#[test]
fn call_gate_16_copies_eight_word_parameters() {
    // push word imm8 x8; lcall through a 16-bit gate with 8 params.
    let pm = &mut call_gate_with_params(0xE4, &[0x66, 0x6a], 8);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), STACK0 - 2 * 12);
    let sp = STACK0 - 2 * 12;
    let frame: Vec<u16> = (0..12).map(|i| pm.ram.read_u16(sp + 2 * i)).collect();
    let mut want = vec![(CODE + 31) as u16, UCODE];
    want.extend((0..8).rev().map(|i| 0x40 + i));
    want.extend([(STACK3 - 16) as u16, UDATA]);
    assert_eq!(frame, want);
}

#[test]
fn call_gate_frame_reaching_a_missing_page_writes_nothing() {
    // 10 params: 14 dwords from ESP0 = STACK0 + 0x20, the last six below
    // STACK0 on a page that is not present.
    let mut code = Vec::new();
    for i in 0..10u8 {
        code.extend_from_slice(&[0x6a, 0x40 + i]);
    }
    code.extend_from_slice(&[0x9a, 0, 0, 0, 0, CALLGATE as u8, 0]);
    let mut pm = Pm::new(Model::I386, &code);
    pm.w64(
        GDT + u32::from(CALLGATE & !3),
        gate_desc(KCODE, GATE_TARGET, 0xEC, 10),
    );
    pm.enable_paging();
    pm.pte(STACK0 - 0x1000, 0);
    pm.ram.write_u32(TSS + 4, STACK0 + 0x20);
    pm.enter_ring3();
    pm.run(10);
    assert_eq!(pm.fault(), (14, 2));
    assert_eq!(pm.cpu.cr2(), STACK0 - 4);
    // The #PF frame (6 dwords) covers the top; the gate's next two slots
    // would have held parameters.
    assert_eq!(pm.ram.read_u32(STACK0 + 4), 0);
    assert_eq!(pm.ram.read_u32(STACK0), 0);
}

/// A 16-bit RETF to an outer level pops a 16-bit SP; onto a 32-bit stack
/// it becomes all of ESP (the SDM's `ESP <- Pop()`, as IRET does and as
/// Bochs does), not the low half of the inner ESP.
#[test]
fn a_16_bit_retf_to_an_outer_level_zero_extends_sp_on_a_32_bit_stack() {
    let mut pm = Pm::new(Model::I386, &[0x66, 0xCB]); // retf (16-bit)
    let inner = 0x10_9000 - 8;
    for (i, w) in [0x40, UCODE, 0x8000, UDATA].iter().enumerate() {
        pm.ram.write_u16(inner + 2 * i as u32, *w);
    }
    pm.cpu.set_gpr(Gpr::Esp, inner);
    pm.step();
    let c = &pm.cpu;
    assert_eq!((c.cpl(), c.eip()), (3, 0x40));
    assert_eq!(c.gpr(Gpr::Esp), 0x8000, "ESP 0x{:x}", c.gpr(Gpr::Esp));
}
