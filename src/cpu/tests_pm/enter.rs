//! ENTER in protected mode: the frame pointer with a 32-bit operand size
//! on a 16-bit stack, and page faults on the frame raised before anything
//! is written.

use super::*;

/// A 16-bit (B clear) flat data segment for SS.
fn stack16() -> Segment {
    let mut s = flat(KDATA, 0x93);
    s.access &= !0x4000;
    s
}

#[test]
fn enter_32_on_a_16_bit_stack_keeps_the_upper_half_of_esp_in_ebp() {
    // enter 8, 0
    let mut pm = Pm::new(Model::I386, &[0xc8, 8, 0, 0]);
    pm.cpu.set_segment(SegReg::Ss, stack16());
    pm.cpu.set_gpr(Gpr::Esp, 0x0001_0000);
    pm.cpu.set_gpr(Gpr::Ebp, 0x1234_5678);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.gpr(Gpr::Ebp), 0x0001_FFFC);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), 0x0001_FFF4);
    assert_eq!(pm.ram.read_u32(0xFFFC), 0x1234_5678);
}

#[test]
fn enter_32_nested_on_a_16_bit_stack_reads_through_bp_and_pushes_the_full_frame_pointer() {
    // enter 0, 2
    let mut pm = Pm::new(Model::I386, &[0xc8, 0, 0, 2]);
    pm.cpu.set_segment(SegReg::Ss, stack16());
    pm.cpu.set_gpr(Gpr::Esp, 0x0001_0000);
    pm.cpu.set_gpr(Gpr::Ebp, 0x0003_1000);
    pm.ram.write_u32(0x0FFC, 0xCAFE_F00D);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.gpr(Gpr::Ebp), 0x0001_FFFC);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), 0x0001_FFF4);
    assert_eq!(pm.ram.read_u32(0xFFFC), 0x0003_1000, "old EBP");
    assert_eq!(pm.ram.read_u32(0xFFF8), 0xCAFE_F00D, "copied frame pointer");
    assert_eq!(
        pm.ram.read_u32(0xFFF4),
        0x0001_FFFC,
        "the new frame pointer"
    );
}

/// Ring 3 with paging, the page below STACK3 supervisor-only, about to
/// run `enter size, level` with ESP = `esp`.
fn enter_above_a_supervisor_page(size: u16, level: u8, esp: u32) -> Pm {
    let [lo, hi] = size.to_le_bytes();
    let mut pm = Pm::new(Model::I386, &[0xc8, lo, hi, level]);
    pm.enable_paging();
    pm.pte(STACK3 - 0x1000, (STACK3 - 0x1000) | 3);
    pm.enter_ring3();
    pm.cpu.set_gpr(Gpr::Esp, esp);
    pm.cpu.set_gpr(Gpr::Ebp, STACK3 + 0x100);
    pm
}

#[test]
fn enter_whose_frame_reaches_a_supervisor_page_faults_first() {
    // The push lands on the user page, the allocation below it does not.
    let mut pm = enter_above_a_supervisor_page(0x10, 0, STACK3 + 4);
    assert_eq!(pm.fault(), (14, 7));
    assert_eq!(pm.cpu.cr2(), STACK3 - 0x10);
    assert_eq!(pm.stack(1), CODE, "#PF at the ENTER");
    assert_eq!(pm.stack(4), STACK3 + 4, "ESP unchanged");
    assert_eq!(pm.ram.read_u32(STACK3), 0, "nothing pushed");
}

#[test]
fn enter_whose_pushes_reach_a_supervisor_page_writes_nothing() {
    // Three pushes: two on the user page, the third below it.
    let mut pm = enter_above_a_supervisor_page(0, 3, STACK3 + 8);
    pm.ram.write_u32(STACK3 + 0xFC, 0x1111);
    pm.ram.write_u32(STACK3 + 0xF8, 0x2222);
    assert_eq!(pm.fault(), (14, 7));
    assert_eq!(pm.cpu.cr2(), STACK3 - 4);
    assert_eq!(pm.stack(4), STACK3 + 8, "ESP unchanged");
    assert_eq!(pm.ram.read_u32(STACK3 + 4), 0, "EBP not pushed");
    assert_eq!(pm.ram.read_u32(STACK3), 0, "frame pointer not copied");
}
