//! gdb's `monitor` commands: what gdb's register set leaves out (control
//! registers, descriptor caches, the mode), the VM's hook table (where the
//! session's breakpoints and watchpoints sit beside other front ends'
//! hooks), and any property of the control API by name.

use super::target::GdbTarget;
use crate::control::{Registers, Value};
use gdbstub::target::ext::monitor_cmd::{outputln, ConsoleOutput, MonitorCmd};

const HELP: &str = "moon86 monitor commands:
  monitor regs            control registers, descriptor tables, segment caches, mode
  monitor hooks           the VM's hook table (gdb's breakpoints and watchpoints included)
  monitor get PROPERTY    a property, e.g. monitor get cpu.cr0 (see `moon86 doc`)
  monitor set PROP=VALUE  set a property, e.g. monitor set cpu.cr3=0x1000
  monitor help            this list";

/// The text of `monitor regs`.
pub fn describe_registers(r: &Registers) -> String {
    let mut s = format!(
        "cr0 0x{:08x}  cr2 0x{:08x}  cr3 0x{:08x}  cr4 0x{:08x}\n",
        r.cr0, r.cr2, r.cr3, r.cr4
    );
    s += &format!(
        "gdtr base 0x{:08x} limit 0x{:04x}  idtr base 0x{:08x} limit 0x{:04x}\n",
        r.gdtr.base, r.gdtr.limit, r.idtr.base, r.idtr.limit
    );
    let seg = |name: &str, g: &crate::control::Registers, i: usize| {
        let sg = &g.segs[i];
        format!(
            "{name} {:04x} base 0x{:08x} limit 0x{:08x} access 0x{:04x}\n",
            sg.selector, sg.base, sg.limit, sg.access
        )
    };
    for (i, name) in ["es", "cs", "ss", "ds", "fs", "gs"].iter().enumerate() {
        s += &seg(name, r, i);
    }
    for (name, sg) in [("ldtr", &r.ldtr), ("tr", &r.tr)] {
        s += &format!(
            "{name} {:04x} base 0x{:08x} limit 0x{:08x}\n",
            sg.selector, sg.base, sg.limit
        );
    }
    s += &format!(
        "mode {}  cpl {}  paging {}  halted {}  icount {}",
        crate::control::mode_name(r.mode),
        r.cpl,
        if r.paging { "on" } else { "off" },
        r.halted,
        r.icount
    );
    s
}

impl MonitorCmd for GdbTarget<'_> {
    fn handle_monitor_cmd(&mut self, cmd: &[u8], mut out: ConsoleOutput<'_>) -> Result<(), String> {
        let cmd = String::from_utf8_lossy(cmd);
        let (word, rest) = cmd.trim().split_once(' ').unwrap_or((cmd.trim(), ""));
        let rest = rest.trim();
        match word {
            "regs" => match self.vm.registers() {
                Ok(r) => outputln!(out, "{}", describe_registers(&r)),
                Err(e) => outputln!(out, "{e}"),
            },
            "hooks" => {
                let hooks = self.vm.hooks();
                if hooks.is_empty() {
                    outputln!(out, "no hooks");
                }
                for h in hooks {
                    outputln!(
                        out,
                        "{:>3} {:<30} {} hits {}",
                        h.id.0,
                        h.kind.describe(),
                        if h.enabled { "enabled " } else { "disabled" },
                        h.hits
                    );
                }
            }
            "get" => match self.vm.get_display(rest) {
                Ok(v) => outputln!(out, "{rest} = {v}"),
                Err(e) => outputln!(out, "{e}"),
            },
            "set" => match rest.split_once('=') {
                Some((k, v)) => match self.vm.set(k.trim(), Value::Str(v.trim().into())) {
                    Ok(()) => outputln!(out, "{} = {}", k.trim(), v.trim()),
                    Err(e) => outputln!(out, "{e}"),
                },
                None => outputln!(out, "usage: monitor set PROPERTY=VALUE"),
            },
            "help" | "" => outputln!(out, "{HELP}"),
            other => outputln!(out, "no monitor command '{other}'\n{HELP}"),
        }
        Ok(())
    }
}
