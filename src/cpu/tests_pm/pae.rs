//! PAE paging and NX: loading the PDPTEs (and #GP(0) on a bad one), 4 KiB
//! and 2 MiB translations, U/S, R/W and CR0.WP faults with their error
//! codes, reserved bits (RSVD), accessed and dirty bits in 64-bit entries,
//! global pages across a CR3 reload and INVLPG, the XD bit with EFER.NXE
//! on and off, and physical addresses above 4 GiB (open bus).

use super::*;
use crate::cpu::msr::{EFER_NXE, IA32_EFER, MISC_ENABLE_XD_DISABLE};

/// The page-directory-pointer table, a page directory and a page table.
const PDPT: u32 = 0x102000;
const PAE_PD: u32 = 0x103000;
const PAE_PT: u32 = 0x104000;
/// Linear 4 MiB up maps the first 2 MiB again, through its own directory
/// entry (tests change that one, leaving the code's alone).
const ALIAS: u32 = 0x40_0000;
/// A PDPT whose third entry is present with a reserved bit (7) set.
const BAD_PDPT: u32 = 0x102100;

const P: u64 = 1;
const RW: u64 = 2;
const US: u64 = 4;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
const PS: u64 = 1 << 7;
const GLOBAL: u64 = 1 << 8;
const XD: u64 = 1 << 63;

/// mov eax, [ebx]
const LOAD: [u8; 2] = [0x8b, 0x03];
/// mov [ebx], eax
const STORE: [u8; 2] = [0x89, 0x03];
/// mov cr3, eax; mov cr4, ecx; mov cr0, edx
const ENABLE: [u8; 9] = [0x0f, 0x22, 0xd8, 0x0f, 0x22, 0xe1, 0x0f, 0x22, 0xc2];

/// #PF error-code bits.
const PF_P: u32 = 1;
const PF_W: u32 = 2;
const PF_U: u32 = 4;
const PF_RSVD: u32 = 8;
const PF_ID: u32 = 16;

/// Writes the tables: the first 2 MiB in 4 KiB pages (user, writable,
/// identity), the second 2 MiB one 2 MiB page mapping physical 0 (so
/// linear 0x200000 + x is physical x), the first 2 MiB again at ALIAS; a
/// second PDPT at BAD_PDPT.
fn write_tables(pm: &mut Pm) {
    pm.w64(PDPT, u64::from(PAE_PD) | P);
    pm.w64(PAE_PD, u64::from(PAE_PT) | P | RW | US);
    pm.w64(PAE_PD + 8, PS | P | RW | US);
    pm.w64(PAE_PD + 16, u64::from(PAE_PT) | P | RW | US);
    for i in 0..512u32 {
        pm.w64(PAE_PT + 8 * i, u64::from(i << 12) | P | RW | US);
    }
    pm.w64(BAD_PDPT, u64::from(PAE_PD) | P);
    pm.w64(BAD_PDPT + 16, 0x5000 | P | 1 << 7);
}

/// A machine at ring 0 running `code` under PAE paging (set up directly).
fn pae(model: Model, code: &[u8]) -> Pm {
    let mut pm = Pm::new(model, code);
    write_tables(&mut pm);
    pm.cpu.set_cr3(PDPT);
    pm.cpu.set_cr4(0x20);
    let cr0 = pm.cpu.cr0();
    pm.cpu.set_cr0(cr0 | 0x8000_0000);
    pm.cpu.load_pdptes(&mut pm.ram).unwrap();
    pm
}

/// Sets the page-table entry of linear page `lin` (below 2 MiB).
fn pte(pm: &mut Pm, lin: u32, v: u64) {
    pm.w64(PAE_PT + 8 * (lin >> 12), v);
}

fn read_pte(pm: &mut Pm, lin: u32) -> u64 {
    let at = PAE_PT + 8 * (lin >> 12);
    u64::from(pm.ram.read_u32(at)) | u64::from(pm.ram.read_u32(at + 4)) << 32
}

/// Turns EFER.NXE on through WRMSR (a PentiumM machine).
fn set_nxe(pm: &mut Pm) {
    pm.cpu.write_msr(IA32_EFER, EFER_NXE).unwrap();
}

#[test]
fn mov_to_cr0_loads_the_pdptes() {
    let mut code = ENABLE.to_vec();
    code.extend(LOAD);
    let mut pm = Pm::new(Model::I686, &code);
    write_tables(&mut pm);
    pte(&mut pm, DATA, 0x30000 | P | RW);
    pm.ram.write_u32(0x30000, 0xCAFE_F00D);
    pm.cpu.set_gpr(Gpr::Eax, PDPT);
    pm.cpu.set_gpr(Gpr::Ecx, 0x20);
    pm.cpu.set_gpr(Gpr::Edx, pm.cpu.cr0() | 0x8000_0000);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.run(2);
    assert_eq!(pm.cpu.cr4(), 0x20);
    assert_eq!(pm.cpu.pdpte, [0; 4], "no PDPTEs without paging");
    pm.step();
    assert!(pm.cpu.paging());
    assert_eq!(pm.cpu.pdpte, [u64::from(PAE_PD) | P, 0, 0, 0]);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0xCAFE_F00D);
}

#[test]
fn a_bad_pdpte_makes_the_mov_raise_gp_and_change_nothing() {
    let mut pm = Pm::new(Model::I686, &ENABLE);
    write_tables(&mut pm);
    let cr0 = pm.cpu.cr0();
    pm.cpu.set_gpr(Gpr::Eax, BAD_PDPT);
    pm.cpu.set_gpr(Gpr::Ecx, 0x20);
    pm.cpu.set_gpr(Gpr::Edx, cr0 | 0x8000_0000);
    pm.run(2);
    assert_eq!(pm.fault(), (13, 0));
    assert_eq!(pm.cpu.cr0(), cr0, "CR0.PG stays clear");
    assert_eq!(pm.cpu.pdpte, [0; 4]);

    // MOV CR3 under PAE paging: CR3 and the PDPTEs stay as they were.
    let mut pm = pae(Model::I686, &[0x0f, 0x22, 0xd8]);
    pm.cpu.set_gpr(Gpr::Eax, BAD_PDPT);
    let before = pm.cpu.pdpte;
    assert_eq!(pm.fault(), (13, 0));
    assert_eq!(pm.cpu.cr3(), PDPT);
    assert_eq!(pm.cpu.pdpte, before);

    // A PDPTE has no XD bit: bit 63 is reserved even with EFER.NXE.
    let mut pm = pae(Model::PentiumM, &[0x0f, 0x22, 0xd8]);
    set_nxe(&mut pm);
    pm.w64(BAD_PDPT + 16, 0x5000 | P | XD);
    pm.cpu.set_gpr(Gpr::Eax, BAD_PDPT);
    assert_eq!(pm.fault(), (13, 0));

    // A PDPTE that is not present may hold anything.
    let mut pm = pae(Model::I686, &[0x0f, 0x22, 0xd8, 0x90]);
    pm.w64(BAD_PDPT + 16, 0xFFFF_FFFF_FFFF_FFFE);
    pm.cpu.set_gpr(Gpr::Eax, BAD_PDPT);
    pm.run(2);
    assert_eq!(pm.cpu.cr3(), BAD_PDPT);
    assert_eq!(pm.cpu.eip(), CODE + 4);
}

#[test]
fn cr4_pae_is_reserved_before_the_p6() {
    let mut pm = Pm::new(Model::I486, &[0x0f, 0x22, 0xe1]);
    pm.cpu.set_gpr(Gpr::Ecx, 0x20);
    assert_eq!(pm.fault(), (13, 0));
}

#[test]
fn four_kib_and_two_mib_pages_translate() {
    let mut pm = pae(Model::I686, &[0x8b, 0x03, 0x8b, 0x01]);
    pte(&mut pm, DATA, 0x30000 | P);
    pm.ram.write_u32(0x30010, 0x1111_2222);
    pm.ram.write_u32(DATA + 0x444, 0x3333_4444);
    pm.cpu.set_gpr(Gpr::Ebx, DATA + 0x10);
    // The 2 MiB page maps physical 0 at 0x200000, CR4.PSE or not.
    pm.cpu.set_gpr(Gpr::Ecx, 0x20_0000 + DATA + 0x444);
    pm.run(2);
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0x3333_4444);
    assert_eq!(pm.cpu.cr4() & 0x10, 0);
    let mut pm = pae(Model::I686, &LOAD);
    pte(&mut pm, DATA, 0x30000 | P);
    pm.ram.write_u32(0x30010, 0x1111_2222);
    pm.cpu.set_gpr(Gpr::Ebx, DATA + 0x10);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0x1111_2222);
}

#[test]
fn permission_faults_have_their_error_codes() {
    // Not present: supervisor read.
    let mut pm = pae(Model::I686, &LOAD);
    pte(&mut pm, DATA, 0);
    pm.cpu.set_gpr(Gpr::Ebx, DATA + 8);
    assert_eq!(pm.fault(), (14, 0));
    assert_eq!(pm.cpu.cr2(), DATA + 8);
    // A supervisor page read from ring 3.
    let mut pm = pae(Model::I686, &LOAD);
    pte(&mut pm, DATA, u64::from(DATA) | P | RW);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, PF_P | PF_U));
    // U/S clear in the directory entry only.
    let mut pm = pae(Model::I686, &LOAD);
    pm.w64(PAE_PD + 16, u64::from(PAE_PT) | P | RW);
    pm.cpu.set_gpr(Gpr::Ebx, ALIAS + DATA);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, PF_P | PF_U));
    // A read-only page written from ring 3.
    let mut pm = pae(Model::I686, &STORE);
    pte(&mut pm, DATA, u64::from(DATA) | P | US);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, PF_P | PF_W | PF_U));
    assert_eq!(read_pte(&mut pm, DATA) & (ACCESSED | DIRTY), 0);
    // R/W clear in the directory entry: ring 0 writes only without WP.
    let mut pm = pae(Model::I686, &STORE);
    pm.w64(PAE_PD + 16, u64::from(PAE_PT) | P | US);
    pm.cpu.set_gpr(Gpr::Ebx, ALIAS + DATA);
    pm.cpu.set_gpr(Gpr::Eax, 0x55);
    pm.step();
    assert_eq!(pm.ram.read_u32(DATA), 0x55);
    let mut pm = pae(Model::I686, &STORE);
    pm.w64(PAE_PD + 16, u64::from(PAE_PT) | P | US);
    let cr0 = pm.cpu.cr0();
    pm.cpu.set_cr0(cr0 | 1 << 16);
    pm.cpu.set_gpr(Gpr::Ebx, ALIAS + DATA);
    assert_eq!(pm.fault(), (14, PF_P | PF_W));
}

#[test]
fn reserved_bits_fault_with_rsvd() {
    let rsvd = |setup: &dyn Fn(&mut Pm), code: &[u8], ring3: bool| {
        let mut pm = pae(Model::I686, code);
        setup(&mut pm);
        pm.cpu.set_gpr(Gpr::Ebx, ALIAS + DATA);
        if ring3 {
            pm.enter_ring3();
        }
        let f = pm.fault();
        assert_eq!(pm.cpu.cr2(), ALIAS + DATA);
        (f, read_pte(&mut pm, DATA) & ACCESSED)
    };
    // Bit 36, above MAXPHYADDR, in a PTE.
    let above = |pm: &mut Pm| pte(pm, DATA, u64::from(DATA) | 1 << 36 | P | RW | US);
    assert_eq!(rsvd(&above, &LOAD, false), ((14, PF_P | PF_RSVD), 0));
    assert_eq!(
        rsvd(&above, &STORE, true),
        ((14, PF_P | PF_W | PF_U | PF_RSVD), 0)
    );
    // XD without EFER.NXE (and on a model without NX).
    let xd = |pm: &mut Pm| pte(pm, DATA, u64::from(DATA) | XD | P | RW | US);
    assert_eq!(rsvd(&xd, &LOAD, false).0, (14, PF_P | PF_RSVD));
    // In a directory entry that leads to a table.
    let pde = |pm: &mut Pm| pm.w64(PAE_PD + 16, u64::from(PAE_PT) | 1 << 40 | P | RW | US);
    assert_eq!(rsvd(&pde, &LOAD, false).0, (14, PF_P | PF_RSVD));
    // Bits 13-20 of a 2 MiB page's entry.
    let mut pm = pae(Model::I686, &LOAD);
    pm.w64(PAE_PD + 8, 1 << 13 | PS | P | RW | US);
    pm.cpu.set_gpr(Gpr::Ebx, 0x20_0000);
    assert_eq!(pm.fault(), (14, PF_P | PF_RSVD));
    assert_eq!(pm.ram.read_u32(PAE_PD + 8) as u64 & ACCESSED, 0);
}

#[test]
fn accessed_and_dirty_bits_in_64_bit_entries() {
    let mut pm = pae(Model::I686, &[0x8b, 0x03, 0x89, 0x03, 0x89, 0x01]);
    pte(&mut pm, DATA, u64::from(DATA) | 0xA << 32 | P | RW | US);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.cpu.set_gpr(Gpr::Ecx, 0x20_0000 + DATA);
    pm.step();
    assert_eq!(read_pte(&mut pm, DATA) & (ACCESSED | DIRTY), ACCESSED);
    assert_eq!(u64::from(pm.ram.read_u32(PAE_PD)) & ACCESSED, ACCESSED);
    pm.step();
    assert_eq!(
        read_pte(&mut pm, DATA),
        u64::from(DATA) | 0xA << 32 | P | RW | US | ACCESSED | DIRTY,
        "the high half is left alone"
    );
    // A 2 MiB page: its directory entry is the leaf.
    pm.step();
    assert_eq!(
        u64::from(pm.ram.read_u32(PAE_PD + 8)) & (ACCESSED | DIRTY),
        ACCESSED | DIRTY
    );
}

#[test]
fn global_pages_survive_a_cr3_reload_until_invlpg() {
    // mov eax,[ebx]; mov cr3,ecx; mov eax,[ebx]; invlpg [ebx]; mov eax,[ebx]
    let code = [
        0x8b, 0x03, 0x0f, 0x22, 0xd9, 0x8b, 0x03, 0x0f, 0x01, 0x3b, 0x8b, 0x03,
    ];
    for global in [false, true] {
        let mut pm = pae(Model::I686, &code);
        pm.cpu.set_cr4(0x20 | 0x80);
        pte(
            &mut pm,
            DATA,
            0x30000 | P | RW | if global { GLOBAL } else { 0 },
        );
        pm.ram.write_u32(0x30000, 1);
        pm.ram.write_u32(0x31000, 2);
        pm.cpu.set_gpr(Gpr::Ebx, DATA);
        pm.cpu.set_gpr(Gpr::Ecx, PDPT);
        pm.step();
        assert_eq!(pm.cpu.gpr(Gpr::Eax), 1);
        pte(&mut pm, DATA, 0x31000 | P | RW);
        pm.run(2);
        let after_cr3 = if global { 1 } else { 2 };
        assert_eq!(pm.cpu.gpr(Gpr::Eax), after_cr3, "global {global}");
        pm.run(2);
        assert_eq!(pm.cpu.gpr(Gpr::Eax), 2);
    }
}

#[test]
fn xd_with_nxe_forbids_fetches_only() {
    // wrmsr; jmp ebx: a supervisor fetch from an XD page.
    let mut pm = pae(Model::PentiumM, &[0x0f, 0x30, 0xff, 0xe3]);
    pte(&mut pm, DATA, u64::from(DATA) | XD | P | RW | US);
    pm.cpu.set_gpr(Gpr::Ecx, IA32_EFER);
    pm.cpu.set_gpr(Gpr::Eax, EFER_NXE as u32);
    pm.cpu.set_gpr(Gpr::Edx, 0);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.run(2);
    assert_eq!(pm.cpu.eip(), DATA);
    assert_eq!(pm.fault(), (14, PF_P | PF_ID));
    assert_eq!(pm.cpu.cr2(), DATA);
    assert_eq!(pm.stack(1), DATA);
    // A data read from it is fine.
    let mut pm = pae(Model::PentiumM, &LOAD);
    set_nxe(&mut pm);
    pte(&mut pm, DATA, 0x30000 | XD | P | RW | US);
    pm.ram.write_u32(0x30000, 0x77);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0x77);
    // XD in the directory entry, fetched from ring 3.
    let mut pm = pae(Model::PentiumM, &[0xff, 0xe3]);
    set_nxe(&mut pm);
    pm.w64(PAE_PD + 16, u64::from(PAE_PT) | XD | P | RW | US);
    pm.cpu.set_gpr(Gpr::Ebx, ALIAS + DATA);
    pm.enter_ring3();
    pm.step();
    assert_eq!(pm.fault(), (14, PF_P | PF_U | PF_ID));
    // With NXE on, every fetch fault reports I/D, not-present ones too.
    let mut pm = pae(Model::PentiumM, &[0xff, 0xe3]);
    set_nxe(&mut pm);
    pte(&mut pm, DATA, 0);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.fault(), (14, PF_ID));
    // Without NXE, XD is a reserved bit, for fetches too (and no I/D).
    let mut pm = pae(Model::PentiumM, &[0xff, 0xe3]);
    pte(&mut pm, DATA, u64::from(DATA) | XD | P | RW | US);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.fault(), (14, PF_P | PF_RSVD));
}

#[test]
fn efer_exists_only_on_the_nx_model() {
    let mut pm = Pm::new(Model::I686, &[0x0f, 0x32]);
    pm.cpu.set_gpr(Gpr::Ecx, IA32_EFER);
    assert_eq!(pm.fault(), (13, 0));
    let mut cpu = Cpu::new();
    cpu.set_model(Model::PentiumM);
    assert_eq!(cpu.read_msr(IA32_EFER), Ok(0));
    assert_eq!(cpu.write_msr(IA32_EFER, 1), Err(crate::cpu::Fault::Gp(0)));
    assert_eq!(cpu.write_msr(IA32_EFER, EFER_NXE), Ok(()));
    assert_eq!(cpu.read_msr(IA32_EFER), Ok(EFER_NXE));
    // IA32_MISC_ENABLE's XD disable hides NX and keeps NXE clear.
    assert_eq!(
        cpu.read_msr(0x1A0).map(|v| v & MISC_ENABLE_XD_DISABLE),
        Ok(0)
    );
    cpu.write_msr(IA32_EFER, 0).unwrap();
    cpu.write_msr(0x1A0, MISC_ENABLE_XD_DISABLE).unwrap();
    assert_eq!(cpu.cpuid(0x8000_0001, 0)[3], 0);
    assert_eq!(
        cpu.write_msr(IA32_EFER, EFER_NXE),
        Err(crate::cpu::Fault::Gp(0))
    );
    cpu.write_msr(0x1A0, 0).unwrap();
    assert_eq!(cpu.cpuid(0x8000_0001, 0)[3], 1 << 20);
    let mut i686 = Cpu::new();
    i686.set_model(Model::I686);
    assert!(i686.read_msr(0x1A0).is_err());
}

#[test]
fn physical_addresses_above_4_gib_are_open_bus() {
    // mov eax,[ebx]; mov [ebx],ecx; mov eax,[ebx]
    let mut pm = pae(Model::I686, &[0x8b, 0x03, 0x89, 0x0b, 0x8b, 0x03]);
    pte(&mut pm, DATA, 0xF_0000_0000 | P | RW);
    pm.ram.write_u32(0, 0x1234);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.cpu.set_gpr(Gpr::Ecx, 0x5555_5555);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0xFFFF_FFFF);
    pm.run(2);
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0xFFFF_FFFF, "the write went nowhere");
    assert_eq!(pm.ram.read_u32(0), 0x1234, "nothing wrapped around");
    assert_eq!(read_pte(&mut pm, DATA) & DIRTY, DIRTY);
    // A page table above 4 GiB reads as all ones: reserved bits set.
    let mut pm = pae(Model::I686, &LOAD);
    pm.w64(PAE_PD + 16, 0x1_0000_0000 | P | RW | US);
    pm.cpu.set_gpr(Gpr::Ebx, ALIAS + DATA);
    assert_eq!(pm.fault(), (14, PF_P | PF_RSVD));
    // Code there: fetches read all ones too (0xFF 0xFF: an invalid opcode).
    let mut pm = pae(Model::I686, &[0xff, 0xe3]);
    pte(&mut pm, DATA, 0x8_0000_0000 | P | RW);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.fault().0, 6);
}
