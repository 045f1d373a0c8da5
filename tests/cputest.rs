//! Runs the CPU test guests (guests/cputest/*.bin) on a whole machine
//! through the control API: each is loaded at 0000:7C00, runs to the exit
//! port, and must have printed "ok N ..." for every check it makes, in
//! order, and no "not ok" line.

use moon86::control::{StopReason, Vm};
use moon86::cpu::{Gpr, Model};
use moon86::machine::loader::Entry;
use moon86::machine::{HaltReason, MachineConfig};
use std::path::Path;

/// Runs guest `name` on CPU `model` and returns its debug-console text.
fn run_guest(name: &str, model: Model) -> String {
    run_guest_with(name, model, |_| {})
}

/// Runs guest `name` on CPU `model`, `setup` given the machine's CPU
/// before it starts, and returns its debug-console text.
fn run_guest_with(name: &str, model: Model, setup: impl FnOnce(&mut moon86::cpu::Cpu)) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("guests/cputest")
        .join(name);
    let mut vm = Vm::new(MachineConfig::default()).unwrap();
    vm.load_raw(&path, 0x7C00, Some(Entry { cs: 0, ip: 0x7C00 }))
        .unwrap();
    vm.power_on().unwrap();
    let cpu = &mut vm.machine_mut().unwrap().cpu;
    cpu.set_model(model);
    setup(cpu);
    let stop = vm.run(Some(5_000_000)).unwrap();
    let text = vm.debugcon_text().unwrap();
    assert_eq!(
        stop,
        StopReason::Halted(HaltReason::Exit(1)),
        "{name} did not reach the exit port; it printed:\n{text}"
    );
    text
}

/// Asserts that `text` holds exactly `expected` (number, description)
/// lines, each "ok N description".
fn assert_all_ok(text: &str, expected: &[&str]) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, want) in expected.iter().enumerate() {
        let line = format!("ok {} {want}", i + 1);
        assert_eq!(
            lines.get(i).copied(),
            Some(line.as_str()),
            "check {} failed; the guest printed:\n{text}",
            i + 1
        );
    }
    assert_eq!(lines.len(), expected.len(), "extra lines:\n{text}");
}

#[test]
fn protected_mode_and_paging_guest() {
    let text = run_guest("pmode.bin", Model::I486);
    assert_all_ok(
        &text,
        &[
            "protected mode entered",
            "#GP(0) on access through a null DS",
            "#GP(sel) for a selector beyond the GDT limit",
            "#NP(sel) for a not-present data segment",
            "#GP(0) on a write to a read-only segment",
            "#GP(sel) loading SS with read-only data",
            "#GP(0) for CLI at CPL 3, IOPL 0",
            "#GP(idt) for INT through a DPL-0 gate at CPL 3",
            "INT 0x80 from CPL 3 through a DPL-3 gate",
            "#GP(sel) loading a DPL-0 segment at CPL 3",
            "#GP(0) for HLT at CPL 3",
            "call gate from CPL 3 runs at ring 0 on the TSS stack",
            "#DF(0) when the #GP gate is not present",
            "paging on with an identity map",
            "#PF(U,P) for a user read of a supervisor page",
            "CR2 holds the faulting address",
            "#PF(W) for a supervisor write to a not-present page",
            "a write sets A and D in the page-table entry",
            "#PF(U,W,P) for a user write to a read-only page",
        ],
    );
}

/// The lines of guests/cputest/gates.S, after "descriptors installed".
const GATES_CHECKS: &[&str] = &[
    "descriptors installed",
    "32-bit call gate, ring 3 to ring 0, 0-31 parameters",
    "16-bit call gate, ring 3 to ring 0, 0-31 parameters",
    "32-bit call gate, ring 3 to ring 1, 0-31 parameters",
    "16-bit call gate, ring 3 to ring 1, 0-31 parameters",
    "32-bit call gate, ring 3 to ring 2, 0-31 parameters",
    "16-bit call gate, ring 3 to ring 2, 0-31 parameters",
    "32-bit call gate, ring 2 to ring 0, 0-31 parameters",
    "16-bit call gate, ring 2 to ring 0, 0-31 parameters",
    "32-bit call gate, ring 2 to ring 1, 0-31 parameters",
    "16-bit call gate, ring 2 to ring 1, 0-31 parameters",
    "32-bit call gate, ring 1 to ring 0, 0-31 parameters",
    "16-bit call gate, ring 1 to ring 0, 0-31 parameters",
    "32-bit call gate, ring 0 to ring 0, 0-31 parameters",
    "16-bit call gate, ring 0 to ring 0, 0-31 parameters",
    "32-bit call gate, ring 1 to ring 1, 0-31 parameters",
    "16-bit call gate, ring 1 to ring 1, 0-31 parameters",
    "32-bit call gate, ring 2 to ring 2, 0-31 parameters",
    "16-bit call gate, ring 2 to ring 2, 0-31 parameters",
    "32-bit call gate, ring 3 to ring 3, 0-31 parameters",
    "16-bit call gate, ring 3 to ring 3, 0-31 parameters",
    "ENTER, 32-bit operand, 32-bit stack, levels 0-31",
    "ENTER, 16-bit operand, 32-bit stack, levels 0-31",
    "ENTER, 32-bit operand, 16-bit stack, levels 0-31",
    "ENTER, 16-bit operand, 16-bit stack, levels 0-31",
    "task switch by CALL to a 32-bit TSS, IRET back through the back-link",
    "task switch by JMP to a 32-bit TSS and JMP back",
    "task switch by INT through a task gate to a 32-bit TSS, IRET back",
    "task switch by CALL to a 16-bit TSS, IRET back through the back-link",
    "task switch by JMP to a 16-bit TSS and JMP back",
    "task switch by INT through a task gate to a 16-bit TSS, IRET back",
    "ENTER at ring 3 whose pushes reach a supervisor page: #PF(U,W,P), nothing written",
    "ENTER at ring 3 whose allocation reaches a supervisor page: #PF(U,W,P), nothing written",
];

#[test]
fn call_gate_enter_and_task_switch_guest_on_every_32_bit_model() {
    // Its stacks and old ENTER frames start at 0xCE00.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/cputest/gates.bin");
    let size = std::fs::metadata(path).unwrap().len();
    assert!(0x7C00 + size <= 0xCE00, "gates.bin overlaps its stacks");
    for model in [Model::I386, Model::I486, Model::I686, Model::PentiumM] {
        let text = run_guest("gates.bin", model);
        assert_all_ok(&text, GATES_CHECKS);
    }
}

/// The checks guests/cputest/faults.S makes on `model` (the 486 and P6
/// instructions only where the model has them).
fn fault_checks(model: Model) -> Vec<&'static str> {
    let mut checks = vec![
        "paging on",
        "#UD for LOCK MOV",
        "rep movsd, source into a not-present page",
        "movsd loop, source into a not-present page",
        "rep movsd, destination into a not-present page",
        "movsd loop, destination into a not-present page",
        "rep movsd, a source dword straddling a not-present page",
        "rep stosd into a not-present page",
        "stosd loop into a not-present page",
        "repe cmpsb, source into a not-present page",
        "cmpsb loope, source into a not-present page",
        "adc [ro], eax",
        "adc byte [ro], al",
        "sbb [ro], eax",
        "add [ro], eax",
        "or [ro], eax",
        "and [ro], eax",
        "sub [ro], eax",
        "xor [ro], eax",
        "adc dword [ro], 5",
        "sbb word [ro], 0x1234",
        "inc dword [ro]",
        "dec byte [ro]",
        "not dword [ro]",
        "neg dword [ro]",
        "rol dword [ro], 1",
        "rcl dword [ro], 1",
        "rcr dword [ro], 1",
        "rcl byte [ro], cl",
        "rcr word [ro], 3",
        "shl dword [ro], cl",
        "sar dword [ro], 3",
        "shld [ro], eax, 4",
        "shrd [ro], eax, cl",
        "bts [ro], ecx",
        "btr [ro], ecx",
        "btc dword [ro], 5",
        "xchg [ro], eax",
        "setc byte [ro]",
    ];
    if model != Model::I386 {
        checks.extend([
            "xadd [ro], eax",
            "cmpxchg [ro], edx (equal)",
            "cmpxchg [ro], edx (not equal)",
        ]);
    }
    if model.is_p6() {
        checks.extend(["cmpxchg8b [ro] (equal)", "cmpxchg8b [ro] (not equal)"]);
    }
    checks
}

#[test]
fn faults_guest_on_every_model_with_and_without_the_jit() {
    for (model, family) in [
        (Model::I386, 3),
        (Model::I486, 4),
        (Model::I686, 6),
        (Model::PentiumM, 6),
    ] {
        for jit in [true, false] {
            let text = run_guest_with("faults.bin", model, |cpu| {
                cpu.set_gpr(Gpr::Edx, family);
                cpu.set_jit_enabled(jit);
            });
            eprintln!("faults.bin on {model:?}, JIT {jit}");
            assert_all_ok(&text, &fault_checks(model));
        }
    }
}
