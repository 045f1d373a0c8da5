//! Paging: walks, accessed and dirty bits, U/S and R/W checks with
//! CR0.WP, #PF error codes and CR2, 4 MiB and global pages, the TLB, and
//! accesses and instructions that cross a page boundary.

use super::*;

/// mov eax, [ebx]
const LOAD: [u8; 2] = [0x8b, 0x03];
/// mov [ebx], eax
const STORE: [u8; 2] = [0x89, 0x03];

fn paged(model: Model, code: &[u8]) -> Pm {
    let mut pm = Pm::new(model, code);
    pm.enable_paging();
    pm
}

#[test]
fn identity_mapping_reads_through() {
    let mut pm = paged(Model::I386, &LOAD);
    pm.ram.write_u32(DATA, 0xCAFE_F00D);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert!(pm.cpu.paging());
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0xCAFE_F00D);
}

#[test]
fn accessed_and_dirty_bits() {
    let mut pm = paged(Model::I386, &[0x8b, 0x03, 0x89, 0x03]);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.read_pte(DATA) & 0x60, 0x20, "a read sets A only");
    assert_eq!(pm.ram.read_u32(PD) & 0x20, 0x20, "the PDE is accessed");
    pm.step();
    assert_eq!(pm.read_pte(DATA) & 0x60, 0x60, "a write sets D");
}

#[test]
fn page_fault_error_codes_and_cr2() {
    // Not present, supervisor read: code 0.
    let mut pm = paged(Model::I386, &LOAD);
    pm.pte(DATA, 0);
    pm.cpu.set_gpr(Gpr::Ebx, DATA + 0x10);
    assert_eq!(pm.fault(), (14, 0));
    assert_eq!(pm.cpu.cr2(), DATA + 0x10);
    assert_eq!(pm.stack(1), CODE, "#PF is a fault: EIP of the load");
    // Not present, user write: code 6.
    let mut pm = paged(Model::I386, &STORE);
    pm.pte(DATA, 0);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, 6));
    // Supervisor page, user read: code 5.
    let mut pm = paged(Model::I386, &LOAD);
    pm.pte(DATA, DATA | 3);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, 5));
    // Read-only page, user write: code 7.
    let mut pm = paged(Model::I386, &STORE);
    pm.pte(DATA, DATA | 5);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, 7));
    assert_eq!(
        pm.read_pte(DATA) & 0x40,
        0,
        "no dirty bit on a faulting write"
    );
}

#[test]
fn user_bit_must_be_set_in_both_levels() {
    let mut pm = paged(Model::I386, &LOAD);
    pm.ram.write_u32(PD, PT | 3);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, 5));
}

#[test]
fn write_protect_applies_to_supervisor_writes_from_the_486() {
    let mut pm = paged(Model::I386, &STORE);
    pm.pte(DATA, DATA | 5);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(
        pm.vector(),
        None,
        "without WP ring 0 writes read-only pages"
    );
    let mut pm = paged(Model::I486, &STORE);
    pm.cpu.set_cr0(pm.cpu.cr0() | 1 << 16);
    pm.pte(DATA, DATA | 5);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    assert_eq!(pm.fault(), (14, 3));
}

#[test]
fn instruction_fetch_faults_carry_the_user_bit() {
    let mut pm = paged(Model::I386, &[]);
    pm.pte(CODE, CODE | 1);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, 5));
    assert_eq!(pm.cpu.cr2(), CODE);
}

#[test]
fn instruction_ending_at_a_page_end_does_not_touch_the_next_page() {
    // A 2-byte load in the last bytes of a page followed by an unmapped page.
    let mut pm = paged(Model::I386, &[]);
    let at = CODE + 0xFFE;
    pm.ram.mem[at as usize..at as usize + 2].copy_from_slice(&LOAD);
    pm.pte(CODE + 0x1000, 0);
    pm.cpu.set_eip(at);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.eip(), CODE + 0x1000);
}

#[test]
fn instruction_crossing_into_an_unmapped_page_faults_on_that_page() {
    // mov eax, imm32 starting 2 bytes before the page end.
    let mut pm = paged(Model::I386, &[]);
    let at = CODE + 0xFFE;
    pm.ram.mem[at as usize..at as usize + 2].copy_from_slice(&[0xb8, 0x11]);
    pm.pte(CODE + 0x1000, 0);
    pm.cpu.set_eip(at);
    assert_eq!(pm.fault(), (14, 0));
    assert_eq!(pm.cpu.cr2(), CODE + 0x1000);
    assert_eq!(pm.stack(1), at);
}

#[test]
fn a_write_across_pages_checks_both_before_writing_either() {
    let mut pm = paged(Model::I386, &STORE);
    pm.pte(DATA + 0x1000, (DATA + 0x1000) | 5);
    pm.cpu.set_gpr(Gpr::Ebx, DATA + 0xFFE);
    pm.cpu.set_gpr(Gpr::Eax, 0x1122_3344);
    pm.enter_ring3();
    assert_eq!(pm.fault(), (14, 7));
    assert_eq!(pm.cpu.cr2(), DATA + 0x1000);
    assert_eq!(pm.ram.read_u16(DATA + 0xFFE), 0, "first page untouched");
}

#[test]
fn tlb_keeps_a_stale_translation_until_invlpg_or_cr3() {
    // mov eax,[ebx]; mov eax,[ebx]; invlpg [ebx]; mov eax,[ebx]
    let mut pm = paged(
        Model::I486,
        &[0x8b, 0x03, 0x8b, 0x03, 0x0f, 0x01, 0x3b, 0x8b, 0x03],
    );
    pm.ram.write_u32(DATA, 1);
    pm.ram.write_u32(DATA + 0x1000, 2);
    pm.cpu.set_gpr(Gpr::Ebx, DATA);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 1);
    pm.pte(DATA, (DATA + 0x1000) | 7);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 1, "stale entry still used");
    pm.run(2);
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 2, "INVLPG dropped it");
}

#[test]
fn global_pages_survive_a_cr3_load() {
    // mov eax,[ebx]; mov cr3,ecx; mov eax,[ebx]
    let code = [0x8b, 0x03, 0x0f, 0x22, 0xd9, 0x8b, 0x03];
    for global in [false, true] {
        let mut pm = paged(Model::I686, &code);
        pm.cpu.set_cr4(1 << 7);
        pm.cpu.set_gpr(Gpr::Ecx, PD);
        pm.ram.write_u32(DATA, 1);
        pm.ram.write_u32(DATA + 0x1000, 2);
        pm.pte(DATA, DATA | 7 | if global { 0x100 } else { 0 });
        pm.cpu.set_gpr(Gpr::Ebx, DATA);
        pm.step();
        pm.pte(DATA, (DATA + 0x1000) | 7);
        pm.run(2);
        let want = if global { 1 } else { 2 };
        assert_eq!(pm.cpu.gpr(Gpr::Eax), want, "global={global}");
    }
}

#[test]
fn four_mib_pages_with_pse() {
    let mut pm = paged(Model::I686, &LOAD);
    pm.cpu.set_cr4(1 << 4);
    // Linear 4 MiB..8 MiB -> physical 0..4 MiB.
    pm.ram.write_u32(PD + 4, 0x87);
    pm.ram.write_u32(DATA, 0x5A5A);
    pm.cpu.set_gpr(Gpr::Ebx, 0x40_0000 + DATA);
    pm.step();
    assert_eq!(pm.cpu.gpr(Gpr::Eax), 0x5A5A);
    assert_eq!(pm.ram.read_u32(PD + 4) & 0x60, 0x20);
}

#[test]
fn disassembly_neither_faults_nor_sets_accessed_bits() {
    let mut pm = paged(Model::I386, &LOAD);
    pm.pte(CODE, CODE | 7);
    let text = pm.cpu.disassemble_current(&mut pm.ram);
    assert_eq!(text, "mov eax, dword [ebx]");
    assert_eq!(pm.read_pte(CODE) & 0x20, 0);
    pm.pte(CODE, 0);
    pm.cpu.flush_tlb_all();
    let _ = pm.cpu.disassemble_current(&mut pm.ram);
    assert_eq!(pm.cpu.cr2(), 0);
}

#[test]
fn descriptor_table_accesses_are_supervisor_accesses() {
    // The GDT's page is supervisor-only, yet a ring-3 segment load reads it.
    let mut pm = paged(Model::I386, &[0x8e, 0xd8]);
    pm.pte(GDT, GDT | 3);
    pm.cpu.set_gpr(Gpr::Eax, u32::from(UDATA));
    pm.enter_ring3();
    pm.step();
    assert_eq!(pm.vector(), None);
    assert_eq!(pm.cpu.segment(SegReg::Ds).selector, UDATA);
}

/// A machine whose linear page HIGH (through the second directory entry,
/// which nothing else uses: exception delivery walks the first) maps
/// DATA with page-table entry bits `pte`, the PDE's accessed bit clear.
fn paged_high(model: Model, code: &[u8], pde: u32, pte: u32) -> Pm {
    let mut pm = paged(model, code);
    pm.ram.write_u32(PD + 4, PT2 | pde);
    pm.ram.write_u32(PT2, if pte == 0 { 0 } else { DATA | pte });
    pm.cpu.set_gpr(Gpr::Ebx, HIGH);
    pm
}

const PT2: u32 = 0x102000;
const HIGH: u32 = 0x40_0000;

#[test]
fn a_walk_that_faults_sets_no_accessed_bit_on_any_model() {
    // Intel processors (and Bochs) walk first and set the accessed bits
    // only once the translation succeeded: a directory entry that led to
    // a not-present or forbidden page stays unaccessed.
    for model in [Model::I386, Model::I486, Model::I686] {
        let pde = |pm: &mut Pm| pm.ram.read_u32(PD + 4) & 0x20;
        let pte = |pm: &mut Pm| pm.ram.read_u32(PT2) & 0x60;
        // The page-table entry is not present.
        let mut pm = paged_high(model, &LOAD, 7, 0);
        assert_eq!(pm.fault(), (14, 0), "{model:?}");
        assert_eq!(pde(&mut pm), 0, "{model:?}: PDE after a not-present PTE");
        // A user write to a read-only page.
        let mut pm = paged_high(model, &STORE, 7, 5);
        pm.enter_ring3();
        assert_eq!(pm.fault(), (14, 7), "{model:?}");
        assert_eq!(pde(&mut pm), 0, "{model:?}: PDE after a protection fault");
        assert_eq!(pte(&mut pm), 0, "{model:?}: PTE after a protection fault");
        // A user read where the directory entry is supervisor-only.
        let mut pm = paged_high(model, &LOAD, 3, 7);
        pm.enter_ring3();
        assert_eq!(pm.fault(), (14, 5), "{model:?}");
        assert_eq!(pde(&mut pm), 0, "{model:?}: PDE after a user fault");
        assert_eq!(pte(&mut pm), 0, "{model:?}: PTE after a user fault");
        // A successful read sets both; a write then sets D.
        let mut pm = paged_high(model, &[0x8b, 0x03, 0x89, 0x03], 7, 7);
        pm.step();
        assert_eq!(pm.vector(), None, "{model:?}");
        assert_eq!(pde(&mut pm), 0x20, "{model:?}: PDE after a read");
        assert_eq!(pte(&mut pm), 0x20, "{model:?}: PTE after a read");
        pm.step();
        assert_eq!(pte(&mut pm), 0x60, "{model:?}: PTE after a write");
    }
}
