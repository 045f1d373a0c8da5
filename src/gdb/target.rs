//! The VM as a gdbstub target: registers, memory through the debugger's
//! view of linear addresses, single-step and continue, and breakpoints and
//! watchpoints kept as hooks in the VM's one hook table (so `vm:hooks()`
//! and the monitor list them beside the Lua hooks, and the JIT respects
//! them as it respects any hook).
//!
//! Addresses gdb gives are linear (CS base + EIP for code, segment base +
//! offset for data; the same numbers in a flat protected-mode guest).
//! Breakpoints are linear execute hooks. Watchpoints are physical read and
//! write hooks on the pages the watched linear range maps to when the
//! watchpoint is set (like x86 debug registers they fire after the access,
//! with EIP past the instruction); a range whose page is not mapped cannot
//! be watched.

use super::regs;
use crate::control::hooks::{Event, Filter, Fire, FireEvent, HookId, HookKind};
use crate::control::Vm;
use gdbstub::common::Signal;
use gdbstub::stub::SingleThreadStopReason;
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep,
    SingleThreadSingleStepOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps, WatchKind,
};
use gdbstub::target::ext::monitor_cmd::MonitorCmdOps;
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::x86::reg::X86CoreRegs;
use gdbstub_arch::x86::X86_SSE;

/// What gdb asked the VM to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    Continue,
    Step,
}

/// A breakpoint gdb set: its address, whether gdb asked for a hardware
/// one, and its execute hook.
#[derive(Debug)]
struct Breakpoint {
    addr: u32,
    hw: bool,
    hook: HookId,
}

/// A watchpoint gdb set, with the hooks (one per page piece and access
/// direction) that implement it.
#[derive(Debug)]
struct Watchpoint {
    addr: u32,
    len: u32,
    kind: WatchKind,
    hooks: Vec<HookId>,
}

/// The gdb session's view of one VM.
pub struct GdbTarget<'a> {
    pub vm: &'a mut Vm,
    pub resume: Resume,
    breakpoints: Vec<Breakpoint>,
    watchpoints: Vec<Watchpoint>,
}

fn non_fatal<T>(_: T) -> TargetError<String> {
    TargetError::NonFatal
}

impl<'a> GdbTarget<'a> {
    pub fn new(vm: &'a mut Vm) -> GdbTarget<'a> {
        GdbTarget {
            vm,
            resume: Resume::Continue,
            breakpoints: Vec::new(),
            watchpoints: Vec::new(),
        }
    }

    /// Removes every hook the session added (gdb normally removes its
    /// breakpoints itself; this covers a dropped connection).
    pub fn remove_all(&mut self) {
        let hooks: Vec<HookId> = self
            .breakpoints
            .drain(..)
            .map(|b| b.hook)
            .chain(self.watchpoints.drain(..).flat_map(|w| w.hooks))
            .collect();
        for h in hooks {
            let _ = self.vm.hook_remove(h);
        }
    }

    /// The stop to report for hooks that fired, if any of them is the
    /// session's: a watchpoint wins over a breakpoint (it concerns the
    /// instruction that just ran). Fires of other front ends' hooks are
    /// dropped: their callbacks do not run while gdb drives the VM.
    pub fn stop_for(&self, fires: &[Fire]) -> Option<SingleThreadStopReason<u32>> {
        let mut stop = None;
        for f in fires {
            if let Some(w) = self.watchpoints.iter().find(|w| w.hooks.contains(&f.hook)) {
                let kind = match (&f.event, w.kind) {
                    (_, WatchKind::ReadWrite) => WatchKind::ReadWrite,
                    (FireEvent::Machine(r), _) if matches!(r.event, Event::Read { .. }) => {
                        WatchKind::Read
                    }
                    _ => WatchKind::Write,
                };
                return Some(SingleThreadStopReason::Watch {
                    tid: (),
                    kind,
                    addr: w.addr,
                });
            }
            if let Some(b) = self.breakpoints.iter().find(|b| b.hook == f.hook) {
                stop.get_or_insert(if b.hw {
                    SingleThreadStopReason::HwBreak(())
                } else {
                    SingleThreadStopReason::SwBreak(())
                });
            }
        }
        stop
    }

    fn add_breakpoint(&mut self, addr: u32, hw: bool) -> TargetResult<bool, Self> {
        if self
            .breakpoints
            .iter()
            .any(|b| b.addr == addr && b.hw == hw)
        {
            return Ok(true);
        }
        let kind = HookKind::Exec {
            start: addr.into(),
            end: u64::from(addr) + 1,
            physical: false,
        };
        let hook = self
            .vm
            .hook_add(kind, Filter::default())
            .map_err(non_fatal)?;
        self.breakpoints.push(Breakpoint { addr, hw, hook });
        Ok(true)
    }

    fn remove_breakpoint(&mut self, addr: u32, hw: bool) -> TargetResult<bool, Self> {
        let Some(i) = self
            .breakpoints
            .iter()
            .position(|b| b.addr == addr && b.hw == hw)
        else {
            return Ok(false);
        };
        let b = self.breakpoints.remove(i);
        self.vm.hook_remove(b.hook).map_err(non_fatal)?;
        Ok(true)
    }
}

impl Target for GdbTarget<'_> {
    type Arch = X86_SSE;
    type Error = String;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadBase for GdbTarget<'_> {
    fn read_registers(&mut self, out: &mut X86CoreRegs) -> TargetResult<(), Self> {
        let r = self.vm.registers().map_err(non_fatal)?;
        *out = regs::to_gdb(&r);
        Ok(())
    }

    fn write_registers(&mut self, want: &X86CoreRegs) -> TargetResult<(), Self> {
        regs::write(self.vm, want).map_err(non_fatal)
    }

    fn read_addrs(&mut self, start: u32, data: &mut [u8]) -> TargetResult<usize, Self> {
        self.vm.debug_read(start, data).map_err(non_fatal)
    }

    fn write_addrs(&mut self, start: u32, data: &[u8]) -> TargetResult<(), Self> {
        self.vm.debug_write(start, data).map_err(non_fatal)
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadResume for GdbTarget<'_> {
    fn resume(&mut self, signal: Option<Signal>) -> Result<(), Self::Error> {
        // A signal to deliver means nothing to a bare machine: ignored.
        let _ = signal;
        self.resume = Resume::Continue;
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadSingleStep for GdbTarget<'_> {
    fn step(&mut self, signal: Option<Signal>) -> Result<(), Self::Error> {
        let _ = signal;
        self.resume = Resume::Step;
        Ok(())
    }
}

impl Breakpoints for GdbTarget<'_> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for GdbTarget<'_> {
    fn add_sw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        self.add_breakpoint(addr, false)
    }
    fn remove_sw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_breakpoint(addr, false)
    }
}

impl HwBreakpoint for GdbTarget<'_> {
    fn add_hw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        self.add_breakpoint(addr, true)
    }
    fn remove_hw_breakpoint(&mut self, addr: u32, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_breakpoint(addr, true)
    }
}

impl HwWatchpoint for GdbTarget<'_> {
    fn add_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        let pieces = self
            .vm
            .debug_pieces(addr, len.max(1).into())
            .map_err(non_fatal)?;
        let mapped: u64 = pieces.iter().map(|p| p.1).sum();
        if mapped < u64::from(len.max(1)) {
            return Ok(false);
        }
        let mut hooks = Vec::new();
        for (phys, n) in pieces {
            let (start, end) = (phys, phys + n);
            let kinds: &[HookKind] = match kind {
                WatchKind::Read => &[HookKind::Read { start, end }],
                WatchKind::Write => &[HookKind::Write {
                    start,
                    end,
                    pre: false,
                }],
                WatchKind::ReadWrite => &[
                    HookKind::Read { start, end },
                    HookKind::Write {
                        start,
                        end,
                        pre: false,
                    },
                ],
            };
            for k in kinds {
                match self.vm.hook_add(k.clone(), Filter::default()) {
                    Ok(id) => hooks.push(id),
                    Err(_) => {
                        for h in hooks {
                            let _ = self.vm.hook_remove(h);
                        }
                        return Ok(false);
                    }
                }
            }
        }
        self.watchpoints.push(Watchpoint {
            addr,
            len,
            kind,
            hooks,
        });
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        let Some(i) = self
            .watchpoints
            .iter()
            .position(|w| w.addr == addr && w.len == len && w.kind == kind)
        else {
            return Ok(false);
        };
        let w = self.watchpoints.remove(i);
        for h in w.hooks {
            self.vm.hook_remove(h).map_err(non_fatal)?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::MachineConfig;

    #[test]
    fn breakpoints_and_watchpoints_are_hooks_in_the_one_table() {
        let mut vm = Vm::new(MachineConfig {
            ram_size: 1 << 20,
            ..MachineConfig::default()
        })
        .unwrap();
        vm.power_on().unwrap();
        let mut t = GdbTarget::new(&mut vm);
        let ok = |r: TargetResult<bool, GdbTarget<'_>>| r.unwrap_or_else(|_| panic!("refused"));
        assert!(ok(t.add_sw_breakpoint(0x7C00, 1)));
        assert!(ok(t.add_hw_watchpoint(0x600, 4, WatchKind::ReadWrite)));
        let kinds: Vec<String> = t.vm.hooks().iter().map(|h| h.kind.describe()).collect();
        assert_eq!(
            kinds,
            ["exec 0x7c00", "read 0x600..0x604", "write 0x600..0x604"]
        );
        assert!(ok(t.remove_sw_breakpoint(0x7C00, 1)));
        assert!(!ok(t.remove_sw_breakpoint(0x7C00, 1)));
        t.remove_all();
        assert!(vm.hooks().is_empty());
    }
}
