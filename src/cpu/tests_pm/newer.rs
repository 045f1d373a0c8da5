//! The 486, Pentium and P6 instructions, CPUID, MSRs and the TSC, gated
//! by model.

use super::*;

fn run1(model: Model, code: &[u8], setup: impl FnOnce(&mut Cpu)) -> Pm {
    let mut pm = Pm::new(model, code);
    setup(&mut pm.cpu);
    pm.step();
    pm
}

#[test]
fn newer_instructions_are_ud_on_older_models() {
    for (model, code) in [
        (Model::I386, &[0x0f, 0xc8][..]),       // bswap
        (Model::I386, &[0x0f, 0xc1, 0xc3][..]), // xadd
        (Model::I386, &[0x0f, 0x01, 0x38][..]), // invlpg
        (Model::I486, &[0x0f, 0xa2][..]),       // cpuid
        (Model::I486, &[0x0f, 0x31][..]),       // rdtsc
        (Model::I486, &[0x0f, 0xc7, 0x0e][..]), // cmpxchg8b
        (Model::I486, &[0x0f, 0x44, 0xc3][..]), // cmovz
        (Model::I386, &[0x0f, 0x20, 0xe0][..]), // mov eax, cr4
    ] {
        let mut pm = Pm::new(model, code);
        assert_eq!(pm.fault().0, 6, "{model:?} {code:x?}");
    }
}

#[test]
fn bswap_xadd_cmpxchg() {
    let pm = run1(Model::I486, &[0x0f, 0xc8], |c| {
        c.set_gpr(Gpr::Eax, 0x1122_3344)
    });
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0x4433_2211);
    let pm = run1(Model::I486, &[0x0f, 0xc1, 0xc3], |c| {
        c.set_gpr(Gpr::Eax, 5);
        c.set_gpr(Gpr::Ebx, 7);
    });
    assert_eq!((pm.cpu.gpr(Gpr::Eax), pm.cpu.gpr(Gpr::Ebx)), (7, 12));
    // xadd [ebx], ebx: the address is EBX before the instruction (found by
    // the JIT's differential test: the sum went to the new EBX).
    let mut pm = Pm::new(Model::I486, &[0x0f, 0xc1, 0x1b]);
    pm.ram.write_u32(DATA, 5);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.ram.read_u32(DATA), DATA + 5);
    assert_eq!(pm.cpu.gpr(Gpr::Ebx), 5);
    assert_eq!(pm.ram.read_u32(5), 0);
    // cmpxchg ecx, ebx: equal -> ECX = EBX, ZF.
    let pm = run1(Model::I486, &[0x0f, 0xb1, 0xd9], |c| {
        c.set_gpr(Gpr::Eax, 9);
        c.set_gpr(Gpr::Ecx, 9);
        c.set_gpr(Gpr::Ebx, 4);
    });
    assert_eq!(pm.cpu.gpr(Gpr::Ecx), 4);
    assert_ne!(pm.cpu.eflags() & 0x40, 0);
    // Not equal -> EAX = ECX, ZF clear.
    let pm = run1(Model::I486, &[0x0f, 0xb1, 0xd9], |c| {
        c.set_gpr(Gpr::Eax, 1);
        c.set_gpr(Gpr::Ecx, 9);
    });
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 9);
    assert_eq!(pm.cpu.eflags() & 0x40, 0);
}

#[test]
fn cmpxchg8b_and_cmov() {
    let mut pm = Pm::new(Model::I686, &[0x0f, 0xc7, 0x0e, 0x0f, 0xc7, 0x0e]);
    pm.ram.write_u32(DATA, 1);
    pm.ram.write_u32(DATA + 4, 2);
    let c = &mut pm.cpu;
    c.set_gpr(Gpr::Esi, DATA);
    c.set_gpr(Gpr::Eax, 1);
    c.set_gpr(Gpr::Edx, 2);
    c.set_gpr(Gpr::Ebx, 3);
    c.set_gpr(Gpr::Ecx, 4);
    pm.step();
    assert_eq!((pm.ram.read_u32(DATA), pm.ram.read_u32(DATA + 4)), (3, 4));
    assert_ne!(pm.cpu.eflags() & 0x40, 0);
    pm.step();
    assert_eq!((pm.cpu.gpr(Gpr::Eax), pm.cpu.gpr(Gpr::Edx)), (3, 4));
    assert_eq!(pm.cpu.eflags() & 0x40, 0);
    let pm = run1(Model::I686, &[0x0f, 0x44, 0xc3], |c| {
        c.set_gpr(Gpr::Ebx, 77);
        c.set_eflags(0x40);
    });
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 77);
}

#[test]
fn cpuid_reports_a_family_6_genuine_intel_without_unemulated_features() {
    let pm = run1(Model::I686, &[0x0f, 0xa2], |c| c.set_gpr(Gpr::Eax, 0));
    let c = &pm.cpu;
    let mut vendor = Vec::new();
    for r in [Gpr::Ebx, Gpr::Edx, Gpr::Ecx] {
        vendor.extend_from_slice(&c.gpr(r).to_le_bytes());
    }
    assert_eq!(&vendor, b"GenuineIntel");
    let pm = run1(Model::I686, &[0x0f, 0xa2], |c| c.set_gpr(Gpr::Eax, 1));
    let eax = pm.cpu.gpr(Gpr::Eax);
    assert_eq!((eax >> 8) & 0xF, 6);
    let edx = pm.cpu.gpr(Gpr::Edx);
    for (bit, name) in [
        (0, "FPU"),
        (1, "VME"),
        (3, "PSE"),
        (4, "TSC"),
        (5, "MSR"),
        (6, "PAE"),
        (8, "CX8"),
        (11, "SEP"),
        (13, "PGE"),
        (15, "CMOV"),
    ] {
        assert_ne!(edx & (1 << bit), 0, "{name}");
    }
    for (bit, name) in [(9, "APIC"), (12, "MTRR"), (23, "MMX"), (25, "SSE")] {
        assert_eq!(edx & (1 << bit), 0, "{name}");
    }
}

#[test]
fn rdtsc_counts_instructions_and_wrmsr_sets_it() {
    // nop; rdtsc; wrmsr(0x10); rdtsc
    let mut pm = Pm::new(Model::I686, &[0x90, 0x0f, 0x31, 0x0f, 0x30, 0x0f, 0x31]);
    pm.run(2);
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 2);
    pm.cpu.set_gpr(Gpr::Ecx, 0x10);
    pm.cpu.set_gpr(Gpr::Eax, 1000);
    pm.cpu.set_gpr(Gpr::Edx, 0);
    pm.run(2);
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 1001);
}

#[test]
fn msr_and_tsc_faults() {
    // RDMSR of an unknown MSR.
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x32]);
    pm.cpu.set_gpr(Gpr::Ecx, 0x1B);
    assert_eq!(pm.fault(), (13, 0));
    // RDMSR at ring 3.
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x32]);
    pm.cpu.set_gpr(Gpr::Ecx, 0x10);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0));
    // RDTSC at ring 3 with CR4.TSD.
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x31]);
    pm.cpu.set_cr4(1 << 2);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn cr4_rejects_unimplemented_bits() {
    // mov cr4, eax with OSFXSR (bit 9: no SSE here).
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x22, 0xe0]);
    pm.cpu.set_gpr(Gpr::Eax, 1 << 9);
    assert_eq!(pm.fault(), (13, 0));
}

/// The opcode row's checks come in the processor's order: a register where
/// only memory will do is #UD before the privilege check's #GP, and a
/// protected-mode-only instruction is #UD in virtual-8086 mode.
#[test]
fn invalid_forms_are_ud_before_privilege_is_checked() {
    for code in [
        &[0x0f, 0x01, 0xf8][..], // invlpg with a register operand
        &[0x0f, 0x01, 0xd0][..], // lgdt with a register operand
    ] {
        let mut pm = Pm::new(Model::I686, code);
        pm.enter_ring3();
        assert_eq!(pm.fault().0, 6, "{code:x?}");
    }
    // The same at ring 3 with memory: #GP(0).
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x01, 0x38]);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0));
}
