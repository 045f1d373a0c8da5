//! The virtual-8086 mode extensions and protected-mode virtual interrupts
//! of the P6 model: CLI/STI on VIF, the virtual FLAGS image of PUSHF,
//! POPF and IRET, #GP(0) when VIP is pending, INT n through the TSS's
//! interrupt redirection bitmap, PVI at ring 3, and that neither CR4 bit
//! exists on the earlier models nor changes anything while clear.

use super::*;
use crate::cpu::flags::{CF, DF, IF, IOPL, TF, VIF, VIP, ZF};
use crate::cpu::CpuMode;

/// The I/O map base the tests' TSS uses: the redirection bitmap sits at
/// TSS+0x68..0x88, clear of the TSS's own fields.
const IO_MAP_BASE: u32 = 0x88;
/// Where the redirection bitmap starts in the TSS.
const REDIRECTION: u32 = TSS + IO_MAP_BASE - 32;
/// The V86 task's stack segment base (SS = 2000) and initial SP.
const V86_SS_BASE: u32 = 0x20000;
const V86_SP: u32 = 0x0800;
/// mov cr4, eax
const MOV_CR4_EAX: [u8; 3] = [0x0f, 0x22, 0xe0];

/// A P6 CPU in a V86 task (EFLAGS `flags`, VM added) with CR4 `cr4`,
/// having run the IRET that entered it; every vector is set in the
/// redirection bitmap (handled through the IDT).
fn v86_with_cr4(cr4: u32, flags: u32, code: &[u8]) -> Pm {
    let mut pm = v86_task(Model::I686, flags, code);
    pm.cpu.set_cr4(cr4);
    pm.ram.write_u16(TSS + 0x66, IO_MAP_BASE as u16);
    for i in 0..32 {
        pm.ram.write_u8(REDIRECTION + i, 0xFF);
    }
    pm.step();
    assert_eq!(pm.cpu.mode(), CpuMode::Virtual8086);
    pm
}

/// A V86 task with CR4.VME set.
fn vme_task(flags: u32, code: &[u8]) -> Pm {
    v86_with_cr4(1, flags, code)
}

/// Clears `vector`'s bit in the redirection bitmap.
fn redirect(pm: &mut Pm, vector: u8) {
    let byte = REDIRECTION + u32::from(vector >> 3);
    let bits = pm.ram.read_u8(byte) & !(1 << (vector & 7));
    pm.ram.write_u8(byte, bits);
}

/// Word `i` of the V86 stack (0 = the top).
fn v86_stack_word(pm: &mut Pm, i: u32) -> u16 {
    let sp = pm.cpu.gpr(Gpr::Esp) & 0xFFFF;
    pm.ram.read_u16(V86_SS_BASE + sp + 2 * i)
}

/// Puts `words` on the V86 stack, the first at the top (SP = 0800).
fn v86_stack_holds(pm: &mut Pm, words: &[u16]) {
    for (i, &w) in words.iter().enumerate() {
        pm.ram.write_u16(V86_SS_BASE + V86_SP + 2 * i as u32, w);
    }
}

fn has(pm: &Pm, flag: u32) -> bool {
    pm.cpu.eflags() & flag != 0
}

#[test]
fn cli_and_sti_in_v86_with_vme_work_on_vif() {
    let mut pm = vme_task(IF | VIF, &[0xfa, 0xfb]);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert!(!has(&pm, VIF), "CLI clears VIF");
    assert!(has(&pm, IF), "IF is the monitor's");
    pm.step();
    assert!(has(&pm, VIF), "STI sets VIF");
    assert_eq!(pm.cpu.eip(), 0x102);
    assert_eq!(pm.cpu.mode(), CpuMode::Virtual8086);
    // IOPL 3: CLI clears IF itself.
    let mut pm = vme_task(IOPL | IF | VIF, &[0xfa]);
    pm.step();
    assert_eq!((has(&pm, IF), has(&pm, VIF)), (false, true));
}

#[test]
fn sti_in_v86_with_vip_pending_raises_gp() {
    let mut pm = vme_task(IF | VIP, &[0xfb]);
    assert_eq!(pm.fault(), (13, 0));
    assert_eq!(pm.stack(1), 0x100, "the STI faulted");
    let pushed_flags = pm.stack(3);
    assert_eq!(pushed_flags & (VIF | VIP), VIP, "VIF still clear");
}

#[test]
fn pushf_in_v86_with_vme_pushes_vif_as_if_and_iopl_as_3() {
    // pushf; sti; pushf; pushfd
    let mut pm = vme_task(IF | CF, &[0x9c, 0xfb, 0x9c, 0x66, 0x9c]);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Esp), V86_SP - 2);
    assert_eq!(v86_stack_word(&mut pm, 0), 0x3003, "IF from VIF (clear)");
    pm.run(2);
    assert_eq!(v86_stack_word(&mut pm, 0), 0x3203, "IF from VIF (set)");
    assert_eq!(pm.fault(), (13, 0), "PUSHFD still traps");
}

#[test]
fn popf_in_v86_with_vme_loads_vif_from_the_popped_if() {
    let mut pm = vme_task(0, &[0x9d]);
    let image = IOPL | DF | IF | CF;
    v86_stack_holds(&mut pm, &[image as u16]);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), V86_SP + 2);
    assert!(has(&pm, VIF) && has(&pm, CF) && has(&pm, DF));
    assert!(!has(&pm, IF), "IF unchanged");
    assert_eq!(pm.cpu.eflags() & IOPL, 0, "IOPL unchanged");
    // VIP pending: popping IF clear is fine, popping IF set traps.
    let mut pm = vme_task(VIP | VIF, &[0x9d]);
    v86_stack_holds(&mut pm, &[CF as u16]);
    pm.step();
    assert_eq!((has(&pm, VIF), has(&pm, CF)), (false, true));
    let mut pm = vme_task(VIP, &[0x9d]);
    v86_stack_holds(&mut pm, &[(IF | CF) as u16]);
    assert_eq!(pm.fault(), (13, 0));
    assert_eq!(pm.stack(4), V86_SP, "the V86 SP is put back");
    assert_eq!(pm.stack(3) & (VIF | CF), 0, "nothing was loaded");
    // A popped TF traps too.
    let mut pm = vme_task(0, &[0x9d]);
    v86_stack_holds(&mut pm, &[TF as u16]);
    assert_eq!(pm.fault(), (13, 0));
    // POPFD still traps.
    let mut pm = vme_task(0, &[0x66, 0x9d]);
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn iret_in_v86_with_vme_loads_vif_from_the_popped_if() {
    let mut pm = vme_task(0, &[0xcf]);
    v86_stack_holds(&mut pm, &[0x0200, 0x1100, (IF | ZF) as u16]);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.mode(), CpuMode::Virtual8086);
    assert_eq!(pm.cpu.segment(SegReg::Cs).base, 0x11000);
    assert_eq!(pm.cpu.eip(), 0x200);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), V86_SP + 6);
    assert_eq!(
        (has(&pm, VIF), has(&pm, ZF), has(&pm, IF)),
        (true, true, false)
    );
    // With VIP pending the same IRET traps, before anything changes.
    let mut pm = vme_task(VIP, &[0xcf]);
    v86_stack_holds(&mut pm, &[0x0200, 0x1100, (IF | ZF) as u16]);
    assert_eq!(pm.fault(), (13, 0));
    assert_eq!(
        (pm.stack(1), pm.stack(2), pm.stack(4)),
        (0x100, 0x1000, V86_SP)
    );
    // IRETD still traps.
    let mut pm = vme_task(0, &[0x66, 0xcf]);
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn int_n_with_its_bitmap_bit_clear_calls_the_tasks_own_handler() {
    // IOPL 0 (method 6): the pushed FLAGS show VIF as IF and IOPL 3; VIF
    // is cleared, IF left alone. TF is cleared and traps nothing.
    let mut pm = vme_task(IF | VIF | TF, &[0xcd, 0x21]);
    redirect(&mut pm, 0x21);
    pm.ram.write_u16(0x21 * 4, 0x0050);
    pm.ram.write_u16(0x21 * 4 + 2, 0x0700);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.mode(), CpuMode::Virtual8086);
    assert_eq!(pm.cpu.segment(SegReg::Cs).selector, 0x0700);
    assert_eq!(pm.cpu.segment(SegReg::Cs).base, 0x7000);
    assert_eq!(pm.cpu.eip(), 0x0050);
    assert_eq!(pm.cpu.gpr(Gpr::Esp), V86_SP - 6);
    let frame: Vec<u16> = (0..3).map(|i| v86_stack_word(&mut pm, i)).collect();
    assert_eq!(frame, [0x0102, 0x1000, 0x3302]);
    assert_eq!(
        (has(&pm, VIF), has(&pm, IF), has(&pm, TF)),
        (false, true, false)
    );
    // IOPL 3 (method 5): the real FLAGS are pushed and IF is cleared.
    let mut pm = vme_task(IOPL | IF, &[0xcd, 0x21]);
    redirect(&mut pm, 0x21);
    pm.step();
    assert_eq!(pm.cpu.mode(), CpuMode::Virtual8086);
    assert_eq!(v86_stack_word(&mut pm, 2), 0x3202);
    assert_eq!((has(&pm, IF), has(&pm, VIF)), (false, false));
}

#[test]
fn int_n_with_its_bitmap_bit_set_goes_to_the_idt_or_faults() {
    // IOPL 3 (method 4): through the IDT, as without VME.
    let mut pm = vme_task(IOPL, &[0xcd, 0x21]);
    redirect(&mut pm, 0x20);
    pm.w64(IDT + 0x21 * 8, gate_desc(KCODE, HANDLERS + 0x210, 0xEE, 0));
    pm.step();
    assert_eq!(pm.vector(), Some(0x21));
    assert_eq!(pm.stack(0), 0x0102);
    // IOPL 0 (method 3): #GP(0).
    let mut pm = vme_task(0, &[0xcd, 0x21]);
    assert_eq!(pm.fault(), (13, 0));
    // A bitmap beyond the TSS's limit: #GP(0), even at IOPL 3.
    let mut pm = vme_task(IOPL, &[0xcd, 0x21]);
    pm.ram.write_u16(TSS + 0x66, 0x4000);
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn hardware_interrupts_in_v86_ignore_vme_and_the_bitmap() {
    let mut pm = vme_task(IF, &[0x90]);
    redirect(&mut pm, 0x21);
    pm.cpu.interrupt(&mut pm.ram, 0x21);
    assert_eq!(pm.vector(), Some(0x21));
    assert_eq!(pm.cpu.mode(), CpuMode::Protected);
}

#[test]
fn without_cr4_vme_v86_traps_as_before() {
    let cases: [&[u8]; 6] = [&[0xfa], &[0xfb], &[0x9c], &[0x9d], &[0xcf], &[0xcd, 0x21]];
    for code in cases {
        let mut pm = v86_with_cr4(0, IF | VIF, code);
        redirect(&mut pm, 0x21);
        assert_eq!(pm.fault(), (13, 0), "{code:02x?}");
    }
    // CR4.PVI alone does not reach into V86 mode.
    let mut pm = v86_with_cr4(2, IF, &[0xfa]);
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn pvi_makes_cli_and_sti_at_ring_3_work_on_vif() {
    // cli; sti; sti
    let mut pm = Pm::new(Model::I686, &[0xfa, 0xfb, 0xfb]);
    pm.cpu.set_cr4(2);
    pm.enter_ring3();
    pm.cpu.set_eflags(IF | VIF);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!((has(&pm, IF), has(&pm, VIF)), (true, false));
    pm.step();
    assert!(has(&pm, VIF));
    pm.cpu.set_eflags(pm.cpu.eflags() | VIP);
    assert_eq!(pm.fault(), (13, 0), "STI with VIP pending");
    // IOPL 3 at ring 3: CLI clears IF as ever.
    let mut pm = Pm::new(Model::I686, &[0xfa]);
    pm.cpu.set_cr4(2);
    pm.enter_ring3();
    pm.cpu.set_eflags(IOPL | IF | VIF);
    pm.step();
    assert_eq!((has(&pm, IF), has(&pm, VIF)), (false, true));
    // Without PVI: #GP(0).
    let mut pm = Pm::new(Model::I686, &[0xfa]);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn pvi_leaves_popf_at_ring_3_as_it_was() {
    let mut pm = Pm::new(Model::I686, &[0x9d]);
    pm.cpu.set_cr4(2);
    pm.enter_ring3();
    pm.cpu.set_eflags(IF | VIF);
    pm.ram.write_u32(STACK3, CF);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(
        (has(&pm, CF), has(&pm, IF), has(&pm, VIF)),
        (true, true, true)
    );
}

#[test]
fn only_a_32_bit_iret_at_ring_0_loads_vif_and_vip() {
    // popfd; iretd (to the next byte, at ring 0)
    for (model, loaded) in [(Model::I686, VIF | VIP), (Model::I386, 0)] {
        let mut pm = Pm::new(model, &[0x9d, 0xcf, 0x90]);
        let sp = STACK0 - 16;
        pm.cpu.set_gpr(Gpr::Esp, sp);
        pm.ram.write_u32(sp, VIF | VIP | CF);
        pm.ram.write_u32(sp + 4, CODE + 2);
        pm.ram.write_u32(sp + 8, u32::from(KCODE));
        pm.ram.write_u32(sp + 12, VIF | VIP);
        pm.step();
        assert_eq!(pm.cpu.eflags() & (VIF | VIP | CF), CF, "POPFD leaves them");
        pm.step();
        assert_eq!(pm.vector(), None);
        assert_eq!(pm.cpu.eip(), CODE + 2);
        assert_eq!(pm.cpu.eflags() & (VIF | VIP), loaded, "{model:?}");
    }
}

#[test]
fn cr4_vme_and_pvi_exist_only_on_the_p6() {
    let mut pm = Pm::new(Model::I686, &MOV_CR4_EAX);
    pm.cpu.set_gpr(Gpr::Eax, 3);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.cr4(), 3);
    for bit in [1, 2] {
        let mut pm = Pm::new(Model::I486, &MOV_CR4_EAX);
        pm.cpu.set_gpr(Gpr::Eax, bit);
        assert_eq!(pm.fault(), (13, 0), "486, CR4 bit {bit}");
        let mut pm = Pm::new(Model::I386, &MOV_CR4_EAX);
        pm.cpu.set_gpr(Gpr::Eax, bit);
        assert_eq!(pm.fault().0, 6, "386: no CR4 at all");
    }
}
