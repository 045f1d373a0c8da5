//! Hardware task switches and virtual-8086 mode.

use super::*;
use crate::cpu::CpuMode;

const TASK2_EIP: u32 = 0x11000;

/// Fills TSS2 with a ring-0 task starting at TASK2_EIP running `code`.
fn task2(pm: &mut Pm, code: &[u8]) {
    pm.ram.write_u32(TSS2 + 0x20, TASK2_EIP);
    pm.ram.write_u32(TSS2 + 0x24, 2);
    pm.ram.write_u32(TSS2 + 0x38, 0x7000);
    for (i, sel) in [KDATA, KCODE, KDATA, KDATA, KDATA, KDATA]
        .iter()
        .enumerate()
    {
        pm.ram.write_u16(TSS2 + 0x48 + 4 * i as u32, *sel);
    }
    pm.ram.write_u32(TSS2 + 0x28, 0xAAAA);
    for (i, &b) in code.iter().enumerate() {
        pm.ram.write_u8(TASK2_EIP + i as u32, b);
    }
}

fn tss_type(pm: &mut Pm, sel: u16) -> u8 {
    pm.ram.read_u8(GDT + u32::from(sel) + 5) & 0xF
}

#[test]
fn jmp_to_a_tss_switches_tasks() {
    let mut pm = Pm::new(Model::I386, &[0xea, 0, 0, 0, 0, 0x58, 0]);
    task2(&mut pm, &[]);
    pm.cpu.set_gpr(Gpr::Ecx, 0x1234);
    pm.step();
    assert_eq!(pm.cpu.tr().selector, TSS2_SEL);
    assert_eq!(pm.cpu.eip(), TASK2_EIP);
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0xAAAA);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), 0x7000);
    assert_eq!(pm.ram.read_u32(TSS + 0x20), CODE + 7, "old EIP saved");
    assert_eq!(pm.ram.read_u32(TSS + 0x2C), 0x1234, "old ECX saved");
    assert_eq!(tss_type(&mut pm, TSS_SEL), 0x9, "old task no longer busy");
    assert_eq!(tss_type(&mut pm, TSS2_SEL), 0xB, "new task busy");
    assert_ne!(pm.cpu.cr0() & 8, 0, "CR0.TS set");
    assert_eq!(pm.cpu.eflags() & 0x4000, 0, "no NT after JMP");
}

#[test]
fn a_task_switch_to_a_tss_with_vm_set_enters_virtual_8086_mode() {
    for (model, vif) in [(Model::I386, 0), (Model::I686, 1 << 19)] {
        let mut pm = Pm::new(model, &[0xea, 0, 0, 0, 0, 0x58, 0]);
        task2(&mut pm, &[]);
        pm.ram.write_u32(TSS2 + 0x20, 0x0100);
        pm.ram.write_u32(TSS2 + 0x24, 0x0002_0002 | 1 << 19);
        for (i, sel) in [0x3000, 0x1000, 0x2000, 0x4000, 0x5000, 0x6000]
            .iter()
            .enumerate()
        {
            pm.ram.write_u16(TSS2 + 0x48 + 4 * i as u32, *sel);
        }
        pm.step();
        assert_eq!(pm.cpu.mode(), CpuMode::Virtual8086, "{model:?}");
        assert_eq!(pm.cpu.cpl(), 3);
        assert_eq!(pm.cpu.segment(SegReg::Cs).base, 0x10000);
        assert_eq!(pm.cpu.segment(SegReg::Gs).base, 0x60000);
        assert_eq!(pm.cpu.eip(), 0x0100);
        assert_eq!(pm.cpu.eflags() & (1 << 19), vif, "VIF on the P6 only");
    }
}

#[test]
fn call_through_a_task_gate_nests_and_iret_returns() {
    let mut pm = Pm::new(Model::I386, &[0x9a, 0, 0, 0, 0, TASKGATE as u8, 0, 0x90]);
    task2(&mut pm, &[0xcf]);
    pm.step();
    assert_eq!(pm.cpu.tr().selector, TSS2_SEL);
    assert_ne!(pm.cpu.eflags() & 0x4000, 0, "NT set");
    assert_eq!(pm.ram.read_u16(TSS2), TSS_SEL, "back-link");
    assert_eq!(tss_type(&mut pm, TSS_SEL), 0xB, "caller stays busy");
    pm.step();
    assert_eq!(pm.cpu.tr().selector, TSS_SEL);
    assert_eq!(pm.cpu.eip(), CODE + 7);
    assert_eq!(tss_type(&mut pm, TSS2_SEL), 0x9, "returned-from task freed");
    assert_eq!(pm.ram.read_u32(TSS2 + 0x24) & 0x4000, 0, "saved NT cleared");
}

#[test]
fn exception_through_a_task_gate_pushes_its_error_code_on_the_new_stack() {
    let mut pm = Pm::new(Model::I386, &[0x8e, 0xd8]);
    pm.cpu.set_gpr(Gpr::Eax, 0x1F8);
    task2(&mut pm, &[]);
    pm.w64(IDT + 13 * 8, gate_desc(TSS2_SEL, 0, 0x85, 0));
    pm.step();
    assert_eq!(pm.cpu.tr().selector, TSS2_SEL);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), 0x7000 - 4);
    assert_eq!(pm.ram.read_u32(0x7000 - 4), 0x1F8);
    assert_eq!(pm.ram.read_u32(TSS + 0x20), CODE, "faulting EIP saved");
}

#[test]
fn jmp_to_a_busy_tss_is_gp() {
    let mut pm = Pm::new(Model::I386, &[0xea, 0, 0, 0, 0, 0x28, 0]);
    pm.ram.write_u8(GDT + 0x28 + 5, 0x8B);
    assert_eq!(pm.fault(), (13, 0x28));
}

#[test]
fn a_tss_below_the_minimum_limit_is_ts() {
    let mut pm = Pm::new(Model::I386, &[0xea, 0, 0, 0, 0, 0x58, 0]);
    pm.w64(GDT + 0x58, seg_desc(TSS2, 0x20, 0x89, 0));
    assert_eq!(pm.fault(), (10, 0x58));
}

#[test]
fn a_bad_data_segment_in_the_new_task_is_ts_in_its_context() {
    let mut pm = Pm::new(Model::I386, &[0xea, 0, 0, 0, 0, 0x58, 0]);
    task2(&mut pm, &[]);
    pm.ram.write_u16(TSS2 + 0x54, XONLY);
    assert_eq!(pm.fault(), (10, u32::from(XONLY)));
    assert_eq!(pm.cpu.tr().selector, TSS2_SEL);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), 0x7000 - 16, "on the new task's stack");
    assert_eq!(
        pm.stack(1),
        TASK2_EIP,
        "at the new task's first instruction"
    );
}

#[test]
fn lldt_and_ldt_selectors() {
    let mut pm = Pm::new(
        Model::I386,
        &[0x0f, 0x00, 0xd0, 0x8e, 0xdb, 0x0f, 0x00, 0xc1],
    );
    pm.w64(LDT, seg_desc(0x1000, 0xFFFF, 0x93, 0));
    pm.cpu.set_gpr(Gpr::Eax, u32::from(LDT_SEL));
    pm.cpu.set_gpr(Gpr::Ebx, 0x04);
    pm.run(3);
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.ldtr().selector, LDT_SEL);
    assert_eq!(pm.cpu.segment(SegReg::Ds).base, 0x1000);
    assert_eq!(pm.cpu.gpr(Gpr::Ecx), u32::from(LDT_SEL));
}

/// A CPU about to IRET to a V86 task at IOPL `iopl` (see [`v86_task`]).
fn v86(iopl: u32, code: &[u8]) -> Pm {
    v86_task(Model::I386, iopl << 12, code)
}

#[test]
fn iret_enters_virtual_8086_mode() {
    let mut pm = v86(0, &[]);
    pm.step();
    assert_eq!(pm.cpu.mode(), CpuMode::Virtual8086);
    assert_eq!(pm.cpu.cpl(), 3);
    assert_eq!(pm.cpu.segment(SegReg::Cs).base, 0x10000);
    assert_eq!(pm.cpu.segment(SegReg::Ds).base, 0x40000);
    assert_eq!(pm.cpu.segment(SegReg::Gs).selector, 0x6000);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), 0x0800);
}

#[test]
fn cli_in_v86_at_iopl0_faults_to_ring0_with_the_v86_frame() {
    let mut pm = v86(0, &[0xfa]);
    pm.step();
    assert_eq!(pm.fault(), (13, 0));
    assert_eq!(pm.cpu.mode(), CpuMode::Protected);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), STACK0 - 40);
    let frame: Vec<u32> = (1..10).map(|i| pm.stack(i)).collect();
    assert_eq!(frame[0], 0x0100, "EIP");
    assert_eq!(frame[1], 0x1000, "CS");
    assert_ne!(frame[2] & 0x2_0000, 0, "EFLAGS.VM");
    assert_eq!(
        &frame[3..],
        &[0x0800, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000]
    );
    assert_eq!(
        pm.cpu.segment(SegReg::Ds).selector,
        0,
        "data segments nulled"
    );
}

#[test]
fn int_in_v86_at_iopl3_goes_through_the_idt() {
    let mut pm = v86(3, &[0xcd, 0x21]);
    pm.w64(IDT + 0x21 * 8, gate_desc(KCODE, HANDLERS + 0x210, 0xEE, 0));
    pm.run(2);
    assert_eq!(pm.vector(), Some(0x21));
    assert_eq!(pm.stack(0), 0x0102);
    // IOPL < 3: #GP(0) instead.
    let mut pm = v86(0, &[0xcd, 0x21]);
    pm.step();
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn io_in_v86_always_consults_the_bitmap() {
    let mut pm = v86(3, &[0xe4, 0x61, 0xe4, 0x60]);
    pm.run(2);
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn v86_segment_loads_are_real_mode_style() {
    // mov ds, ax
    let mut pm = v86(0, &[0x8e, 0xd8]);
    pm.cpu.set_gpr(Gpr::Eax, 0x1234);
    pm.run(2);
    assert_eq!(pm.cpu.segment(SegReg::Ds).base, 0x12340);
}

/// Makes TSS2 a 16-bit (286) TSS of a ring-0 task at TASK2_EIP whose LDT
/// field names LDT_SEL; the word past its end (where a 32-bit TSS would
/// keep more selectors) holds a selector no task could load.
fn task2_16(pm: &mut Pm) {
    pm.w64(GDT + u32::from(TSS2_SEL), seg_desc(TSS2, 0x2B, 0x81, 0));
    pm.ram.write_u16(TSS2 + 0x0E, TASK2_EIP as u16);
    pm.ram.write_u16(TSS2 + 0x10, 2);
    pm.ram.write_u16(TSS2 + 0x12, 0xAAAA);
    pm.ram.write_u16(TSS2 + 0x1A, 0x7000);
    for (i, sel) in [KDATA, KCODE, KDATA, KDATA].iter().enumerate() {
        pm.ram.write_u16(TSS2 + 0x22 + 2 * i as u32, *sel);
    }
    pm.ram.write_u16(TSS2 + 0x2A, LDT_SEL);
    pm.ram.write_u16(TSS2 + 0x2C, 0x13);
    pm.w64(LDT, seg_desc(0x1000, 0xFFFF, 0x93, 0));
}

#[test]
fn a_task_gate_to_a_16_bit_tss_loads_four_selectors_and_the_ldt() {
    let mut pm = Pm::new(Model::I386, &[0x9a, 0, 0, 0, 0, TASKGATE as u8, 0]);
    task2_16(&mut pm);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.tr().selector, TSS2_SEL);
    assert_eq!(pm.cpu.eip(), TASK2_EIP & 0xFFFF);
    // The upper halves of the registers are "modified" (SDM 7.6); as in
    // Bochs, the general registers' become 0xFFFF, EFLAGS's zero.
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0xFFFF_AAAA);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), 0xFFFF_7000);
    assert_eq!(pm.cpu.eflags() >> 16, 0);
    assert_eq!(pm.cpu.ldtr().selector, LDT_SEL);
    assert_eq!(pm.cpu.segment(SegReg::Ds).selector, KDATA);
    assert_eq!(pm.cpu.segment(SegReg::Fs).selector, 0, "no FS in a 286 TSS");
    assert_eq!(pm.cpu.segment(SegReg::Gs).selector, 0, "no GS in a 286 TSS");
    assert_eq!(pm.ram.read_u16(TSS2), TSS_SEL, "back-link");
}

#[test]
fn leaving_a_16_bit_tss_saves_four_selectors_and_leaves_the_ldt_field() {
    // Start in the 286 task of TSS2, then jump to the 32-bit TSS.
    let mut pm = Pm::new(Model::I386, &[0xea, 0, 0, 0, 0, TSS_SEL as u8, 0]);
    task2_16(&mut pm);
    pm.ram.write_u8(GDT + u32::from(TSS_SEL) + 5, 0x89);
    pm.ram.write_u8(GDT + u32::from(TSS2_SEL) + 5, 0x83);
    pm.cpu.tr = Segment {
        selector: TSS2_SEL,
        base: TSS2,
        limit: 0x2B,
        access: 0x83,
    };
    pm.cpu.set_segment(SegReg::Fs, flat(UDATA, 0xF3));
    pm.cpu.set_segment(SegReg::Gs, flat(UDATA, 0xF3));
    pm.ram.write_u32(TSS + 0x20, TASK2_EIP);
    pm.ram.write_u32(TSS + 0x24, 2);
    for (i, sel) in [KDATA, KCODE, KDATA, KDATA, KDATA, KDATA]
        .iter()
        .enumerate()
    {
        pm.ram.write_u16(TSS + 0x48 + 4 * i as u32, *sel);
    }
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.tr().selector, TSS_SEL);
    assert_eq!(pm.ram.read_u16(TSS2 + 0x0E), (CODE + 7) as u16, "IP saved");
    assert_eq!(pm.ram.read_u16(TSS2 + 0x24), KCODE, "CS saved");
    assert_eq!(pm.ram.read_u16(TSS2 + 0x28), KDATA, "DS saved");
    assert_eq!(pm.ram.read_u16(TSS2 + 0x2A), LDT_SEL, "LDT field untouched");
    assert_eq!(pm.ram.read_u16(TSS2 + 0x2C), 0x13, "nothing past the TSS");
}
