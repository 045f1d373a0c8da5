//! SYSENTER/SYSEXIT and their MSRs, RDPMC and the performance counters,
//! as the SDM describes them (Vol. 2B SYSENTER, SYSEXIT, RDPMC).

use super::*;

/// `mov ecx, 0x174..0x176; mov eax, v; xor edx, edx; wrmsr` for each MSR.
fn set_sysenter(pm: &mut Pm, cs: u32, esp: u32, eip: u32) {
    for (msr, v) in [(0x174u32, cs), (0x175, esp), (0x176, eip)] {
        pm.cpu.set_gpr(Gpr::Ecx, msr);
        pm.cpu.set_gpr(Gpr::Eax, v);
        pm.cpu.set_gpr(Gpr::Edx, 0);
        let eip = pm.cpu.eip();
        for (i, b) in [0x0f, 0x30].iter().enumerate() {
            pm.ram.write_u8(eip + i as u32, *b);
        }
        pm.step();
        assert_eq!(pm.cpu.eip(), eip + 2, "wrmsr 0x{msr:x}");
    }
}

#[test]
fn sysenter_enters_ring_0_flat_and_sysexit_returns_to_ring_3() {
    // At CODE+0x100: sysenter; at the kernel entry: sysexit.
    let mut pm = Pm::new(Model::I686, &[]);
    set_sysenter(&mut pm, u32::from(KCODE), STACK0 - 0x40, CODE + 0x800);
    let here = pm.cpu.eip();
    pm.ram.write_u8(here, 0x0f);
    pm.ram.write_u8(here + 1, 0x34);
    pm.ram.write_u8(CODE + 0x800, 0x0f);
    pm.ram.write_u8(CODE + 0x801, 0x35);
    pm.enter_ring3();
    pm.cpu.set_eflags(0x202 | 0x1_0000); // IF, RF
    pm.cpu.set_eip(here);
    pm.step();
    let c = &pm.cpu;
    assert_eq!(
        (c.cpl(), c.eip(), c.gpr(Gpr::Esp)),
        (0, CODE + 0x800, STACK0 - 0x40)
    );
    assert_eq!(c.segment(SegReg::Cs), flat(KCODE, 0x9B));
    assert_eq!(c.segment(SegReg::Ss), flat(KDATA, 0x93));
    assert_eq!(c.eflags() & 0x1_0200, 0, "IF and RF cleared");
    // SYSEXIT: ring 3 at EDX with the stack at ECX, CS = 0x08+16 | 3.
    pm.cpu.set_gpr(Gpr::Ecx, STACK3 - 0x10);
    pm.cpu.set_gpr(Gpr::Edx, CODE + 0x40);
    pm.step();
    let c = &pm.cpu;
    assert_eq!(
        (c.cpl(), c.eip(), c.gpr(Gpr::Esp)),
        (3, CODE + 0x40, STACK3 - 0x10)
    );
    assert_eq!(c.segment(SegReg::Cs), flat(UCODE, 0xFB));
    assert_eq!(c.segment(SegReg::Ss), flat(UDATA, 0xF3));
}

#[test]
fn sysenter_and_sysexit_fault_where_the_sdm_says() {
    // No SYSENTER_CS: #GP(0), for both.
    for code in [[0x0f, 0x34], [0x0f, 0x35]] {
        let mut pm = Pm::new(Model::I686, &code);
        assert_eq!(pm.fault(), (13, 0), "{code:x?}");
    }
    // SYSEXIT from ring 3: #GP(0).
    let mut pm = Pm::new(Model::I686, &[]);
    set_sysenter(&mut pm, u32::from(KCODE), STACK0, CODE);
    let here = pm.cpu.eip();
    pm.ram.write_u8(here, 0x0f);
    pm.ram.write_u8(here + 1, 0x35);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0));
    // Older models have neither: #UD.
    for model in [Model::I386, Model::I486] {
        let mut pm = Pm::new(model, &[0x0f, 0x34]);
        assert_eq!(pm.fault().0, 6, "{model:?}");
    }
    // CPUID says SEP.
    let mut pm = Pm::new(Model::I686, &[0x0f, 0xa2]);
    pm.cpu.set_gpr(Gpr::Eax, 1);
    pm.step();
    assert_ne!(pm.cpu.gpr(Gpr::Edx) & (1 << 11), 0);
}

#[test]
fn sysenter_msrs_read_back() {
    let mut pm = Pm::new(Model::I686, &[]);
    set_sysenter(&mut pm, 0x10, 0x1234_5678, 0x9ABC_DEF0);
    for (msr, v) in [
        (0x174u32, 0x10u32),
        (0x175, 0x1234_5678),
        (0x176, 0x9ABC_DEF0),
    ] {
        let eip = pm.cpu.eip();
        pm.ram.write_u8(eip, 0x0f);
        pm.ram.write_u8(eip + 1, 0x32);
        pm.cpu.set_gpr(Gpr::Ecx, msr);
        pm.step();
        assert_eq!(
            (pm.cpu.gpr(Gpr::Eax), pm.cpu.gpr(Gpr::Edx)),
            (v, 0),
            "0x{msr:x}"
        );
    }
}

#[test]
fn performance_counters_read_back_count_and_rdpmc_obeys_cr4_pce() {
    // wrmsr PerfCtr0 = 0xABCD (Linux's "Broken PMU" check reads it back).
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x30, 0x0f, 0x32]);
    pm.cpu.set_gpr(Gpr::Ecx, 0xC1);
    pm.cpu.set_gpr(Gpr::Eax, 0xABCD);
    pm.cpu.set_gpr(Gpr::Edx, 0);
    pm.run(2);
    assert_eq!((pm.cpu.gpr(Gpr::Eax), pm.cpu.gpr(Gpr::Edx)), (0xABCD, 0));
    // A negative start sign-extends to 40 bits.
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x30, 0x0f, 0x32]);
    pm.cpu.set_gpr(Gpr::Ecx, 0xC2);
    pm.cpu.set_gpr(Gpr::Eax, 0xFFFF_FFF0);
    pm.run(2);
    assert_eq!(
        (pm.cpu.gpr(Gpr::Eax), pm.cpu.gpr(Gpr::Edx)),
        (0xFFFF_FFF0, 0xFF)
    );

    // Select instructions retired with EN, run 3 NOPs and an XOR, then
    // RDPMC 0: counted from the WRMSR that enabled it.
    let mut code = vec![0x0f, 0x30];
    code.extend([0x90, 0x90, 0x90]);
    code.extend([0x31, 0xc9, 0x0f, 0x33]); // xor ecx, ecx; rdpmc
    let mut pm = Pm::new(Model::I686, &code);
    pm.cpu.set_gpr(Gpr::Ecx, 0x186);
    pm.cpu.set_gpr(Gpr::Eax, 0xC0 | 3 << 16 | 1 << 22);
    pm.cpu.set_gpr(Gpr::Edx, 0);
    pm.run(6);
    assert_eq!(
        pm.cpu.gpr(Gpr::Eax),
        5,
        "the WRMSR, 3 NOPs and the XOR retired before RDPMC read"
    );
    // Reserved bit 21 of a select: #GP(0).
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x30]);
    pm.cpu.set_gpr(Gpr::Ecx, 0x186);
    pm.cpu.set_gpr(Gpr::Eax, 1 << 21);
    assert_eq!(pm.fault(), (13, 0));
    // RDPMC at ring 3 needs CR4.PCE; a counter other than 0 or 1 is #GP.
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x33]);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (13, 0));
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x33]);
    pm.cpu.set_cr4(1 << 8);
    pm.enter_ring3();
    pm.step();
    assert_eq!(pm.cpu.eip(), CODE + 2);
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x33]);
    pm.cpu.set_gpr(Gpr::Ecx, 2);
    assert_eq!(pm.fault(), (13, 0));
}
