//! ENTER in protected mode: the frame pointer with a 32-bit operand size
//! on a 16-bit stack.

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
