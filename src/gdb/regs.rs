//! The register mapping between moon86 and gdb's i386 description (the
//! `org.gnu.gdb.i386.core` and `.sse` features gdbstub_arch serialises):
//! eax..edi, eip, eflags and the six selectors come from the CPU; the x87
//! and SSE registers are reported as zeros (the i686 model has no SSE, and
//! the x87 stack is not exposed through the control API yet). Writes change
//! only the registers gdb changed, through the control API's properties, so
//! the same rules apply as for `vm.cpu.eax = ...` from Lua (a selector
//! written in protected mode changes the selector, not the descriptor cache).

use crate::control::{Registers, Value, Vm};
use gdbstub_arch::x86::reg::X86CoreRegs;

/// The general registers in gdb's order (which is also the CPU's).
pub const GPR_NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
/// The segment registers in gdb's order.
pub const SEG_NAMES: [&str; 6] = ["cs", "ss", "ds", "es", "fs", "gs"];

/// gdb's register file from moon86's registers.
pub fn to_gdb(r: &Registers) -> X86CoreRegs {
    let mut g = X86CoreRegs {
        eax: r.gpr[0],
        ecx: r.gpr[1],
        edx: r.gpr[2],
        ebx: r.gpr[3],
        esp: r.gpr[4],
        ebp: r.gpr[5],
        esi: r.gpr[6],
        edi: r.gpr[7],
        eip: r.eip,
        eflags: r.eflags,
        ..X86CoreRegs::default()
    };
    let sel = |n: &str| u32::from(r.selector(n).unwrap_or(0));
    g.segments.cs = sel("cs");
    g.segments.ss = sel("ss");
    g.segments.ds = sel("ds");
    g.segments.es = sel("es");
    g.segments.fs = sel("fs");
    g.segments.gs = sel("gs");
    // The x87 control word after FNINIT, so gdb shows a sane FPU.
    g.fpu.fctrl = 0x37F;
    g
}

/// The (property, value) pairs that turn `now` into `want`: only the
/// registers that differ.
pub fn changes(now: &X86CoreRegs, want: &X86CoreRegs) -> Vec<(String, u32)> {
    let gpr = |g: &X86CoreRegs| [g.eax, g.ecx, g.edx, g.ebx, g.esp, g.ebp, g.esi, g.edi];
    let seg = |g: &X86CoreRegs| {
        let s = &g.segments;
        [s.cs, s.ss, s.ds, s.es, s.fs, s.gs]
    };
    let mut out = Vec::new();
    for ((name, a), b) in GPR_NAMES.iter().zip(gpr(now)).zip(gpr(want)) {
        if a != b {
            out.push((format!("cpu.{name}"), b));
        }
    }
    if now.eip != want.eip {
        out.push(("cpu.eip".into(), want.eip));
    }
    if now.eflags != want.eflags {
        out.push(("cpu.eflags".into(), want.eflags));
    }
    for ((name, a), b) in SEG_NAMES.iter().zip(seg(now)).zip(seg(want)) {
        if a != b {
            out.push((format!("cpu.{name}.selector"), b & 0xFFFF));
        }
    }
    out
}

/// Applies gdb's register file to the VM; an error names the register the
/// control API refused.
pub fn write(vm: &mut Vm, want: &X86CoreRegs) -> Result<(), String> {
    let now = to_gdb(&vm.registers().map_err(|e| e.to_string())?);
    for (path, value) in changes(&now, want) {
        vm.set(&path, Value::Int(value.into()))
            .map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_registers_are_written() {
        let a = X86CoreRegs::default();
        let mut b = a.clone();
        b.ebx = 7;
        b.eip = 0x1000;
        b.segments.ds = 0x10;
        assert_eq!(
            changes(&a, &b),
            vec![
                ("cpu.ebx".to_string(), 7),
                ("cpu.eip".to_string(), 0x1000),
                ("cpu.ds.selector".to_string(), 0x10)
            ]
        );
        assert!(changes(&b, &b).is_empty());
    }
}
