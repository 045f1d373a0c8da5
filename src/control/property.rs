//! The property table: every property of a VM declared once, with its path,
//! type, unit, documentation and the states in which it may be set. Lua
//! (`vm.cpu.eax`), the CLI (`--set ram_size=64M`), the monitor and
//! `docs/lua-api.md` are all driven from [`properties`]; the accessors below
//! are the only code that maps a property to machine state.

use super::drive_props::{slots, DriveField};
use super::state::VmState;
use super::value::{format_size, Value, ValueType};
use super::vm::Vm;
use super::ControlError;
use crate::cpu::{Gpr, SegReg};
use crate::machine::{CpuModel, DriveId};
use std::sync::LazyLock;

/// Where a property's value lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    State,
    HaltReason,
    ShutdownCause,
    ExitCode,
    RamSize,
    CpuModel,
    ExitPort,
    Icount,
    DebugconEcho,
    BiosdebugEcho,
    SerialEcho,
    Ips,
    Clock,
    RtcStart,
    BootOrder,
    BootMenu,
    BootMenuWait,
    A20,
    PostCode,
    PostCodes,
    PostCodeCount,
    Gpr(Gpr),
    Eip,
    Eflags,
    SegSelector(SegReg),
    SegBase(SegReg),
    SegLimit(SegReg),
    SegAccess(SegReg),
    Cr(u8),
    CpuHalted,
    Jit,
    JitStat(JitStat),
    Drive(DriveId, DriveField),
}

/// One of the JIT's counters (see `cpu::JitStats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JitStat {
    BlocksCompiled,
    BlocksCopied,
    CodeBytes,
    Invalidations,
    Flushes,
    Entries,
    Instructions,
    ExitsEnd,
    ExitsBail,
    ExitsSmc,
    Chained,
    Jumped,
    HandlerInsns,
}

impl JitStat {
    fn read(self, s: &crate::cpu::JitStats) -> u64 {
        match self {
            JitStat::BlocksCompiled => s.blocks_compiled,
            JitStat::BlocksCopied => s.blocks_copied,
            JitStat::CodeBytes => s.code_bytes,
            JitStat::Invalidations => s.invalidations,
            JitStat::Flushes => s.flushes,
            JitStat::Entries => s.entries,
            JitStat::Instructions => s.instructions,
            JitStat::ExitsEnd => s.exits_end,
            JitStat::ExitsBail => s.exits_bail,
            JitStat::ExitsSmc => s.exits_smc,
            JitStat::Chained => s.chained,
            JitStat::Jumped => s.jumped,
            JitStat::HandlerInsns => s.handler_insns,
        }
    }
}

/// One row of the property table.
#[derive(Clone, Debug)]
pub struct PropertyDef {
    /// Dotted path: `ram_size`, `cpu.eax`, `cpu.cs.base`.
    pub path: String,
    pub ty: ValueType,
    /// Unit of the value, "" when it has none.
    pub unit: &'static str,
    pub doc: String,
    /// States in which the property may be set; empty for read-only.
    pub settable_in: &'static [VmState],
    pub target: Target,
}

impl PropertyDef {
    pub fn read_only(&self) -> bool {
        self.settable_in.is_empty()
    }
}

const RO: &[VmState] = &[];
const OFF: &[VmState] = &[VmState::Off];
const REGS: &[VmState] = &[VmState::Off, VmState::Paused];
const U32: ValueType = ValueType::Integer {
    max: u32::MAX as u64,
};
const U16: ValueType = ValueType::Integer {
    max: u16::MAX as u64,
};
const CNT: ValueType = ValueType::Integer { max: u64::MAX >> 1 };

fn def(
    path: impl Into<String>,
    ty: ValueType,
    unit: &'static str,
    settable_in: &'static [VmState],
    target: Target,
    doc: impl Into<String>,
) -> PropertyDef {
    PropertyDef {
        path: path.into(),
        ty,
        unit,
        doc: doc.into(),
        settable_in,
        target,
    }
}

static TABLE: LazyLock<Vec<PropertyDef>> = LazyLock::new(|| {
    use Target as T;
    let mut t = vec![
        def("state", ValueType::String, "", RO, T::State,
            "Lifecycle state: off, paused, running, halted or destroyed."),
        def("halt_reason", ValueType::String, "", RO, T::HaltReason,
            "Why the guest stopped itself while `state` is halted: hlt, shutdown, exit or reset; nil otherwise."),
        def("shutdown_cause", ValueType::String, "", RO, T::ShutdownCause,
            "After a triple fault (`halt_reason` shutdown): the exceptions that led to it, first raised first, and where the first was raised, e.g. \"#GP(0x0) at 0010:00100234, then #GP(0x6a) delivering #GP, then #GP(0x6a) delivering #DF\"; nil otherwise. `moon86 boot` prints it with the instruction."),
        def("exit_code", U32, "", RO, T::ExitCode,
            "Exit status `(v << 1) | 1` after the guest wrote `v` to the exit port; nil before."),
        def("ram_size", ValueType::Size, "bytes", OFF, T::RamSize,
            "Guest RAM size, a multiple of 4K from 64K to 3.5G. Accepts \"16M\"-style strings. Loaded images are put into the new RAM."),
        def("cpu_model", ValueType::String, "", OFF, T::CpuModel,
            "CPU model to emulate: i386, i486, i686 (a family-6 CPU without SSE, with PAE paging; the default) or pentium-m (a Pentium M class family-6 CPU without MMX/SSE: the i686 plus EFER and PAE's execute-disable bit, NX)."),
        def("exit_port", U16, "port", OFF, T::ExitPort,
            "I/O port of the QEMU-compatible debug-exit device (isa-debug-exit)."),
        def("icount", ValueType::Integer { max: u64::MAX >> 1 }, "instructions", RO, T::Icount,
            "Instructions retired since power-on or reset (a REP string instruction counts once)."),
        def("ips", ValueType::Bounded { min: 1, max: u64::MAX >> 1 }, "instructions/s", OFF, T::Ips,
            "Instructions per virtual second: the virtual clock advances one tick per retired instruction, so timers and interrupts land on the same instruction on every run and every host. While the CPU is halted, time jumps to the next device event. The TSC counts the same ticks, awake or halted, so it runs at `ips` Hz. Default 100000000."),
        def("clock", ValueType::Integer { max: u64::MAX >> 1 }, "ns", RO, T::Clock,
            "Virtual time since power-on, in nanoseconds."),
        def("rtc_start", ValueType::Integer { max: i64::MAX as u64 }, "Unix seconds", OFF, T::RtcStart,
            "The real-time clock's time at power-on (default 2025-01-01 00:00:00 UTC, fixed for reproducible runs)."),
        def("boot_order", ValueType::String, "", OFF, T::BootOrder,
            "The devices the BIOS boots from, first tried first, in QEMU's letters: a floppy, c hard disk, d CD-ROM, n network (at most three; default \"cad\"). Written to CMOS 0x3D and 0x38, where SeaBIOS and Bochs's BIOS read it. `moon86 boot --boot d`."),
        def("boot_menu", ValueType::Boolean, "", OFF, T::BootMenu,
            "Whether the BIOS offers its boot menu (SeaBIOS: press F12 or Esc; QEMU's `-boot menu=on`). Default false."),
        def("boot_menu_wait", U16, "ms", OFF, T::BootMenuWait,
            "How long the boot menu waits for a key (fw_cfg's etc/boot-menu-wait; QEMU's `-boot splash-time=`). Default 2500, SeaBIOS's own."),
        def("a20", ValueType::Boolean, "", RO, T::A20,
            "Whether the A20 gate is open (keyboard controller output port or port 0x92)."),
        def("debugcon.echo", ValueType::Boolean, "", VmState::ALIVE, T::DebugconEcho,
            "Echo bytes written to the debug console (port 0xE9) to stdout as they arrive."),
        def("biosdebug.echo", ValueType::Boolean, "", VmState::ALIVE, T::BiosdebugEcho,
            "Echo bytes written to the firmware's debug port 0x402 (SeaBIOS's and Bochs's BIOS log) to stdout as they arrive."),
        def("serial.echo", ValueType::Boolean, "", VmState::ALIVE, T::SerialEcho,
            "Echo what the guest writes to COM1 to stdout as it arrives."),
        def("jit", ValueType::Boolean, "", VmState::ALIVE, T::Jit,
            "Run guest code through the JIT (translated x86-64 blocks; the default) or the interpreter alone. Either gives the same guest behaviour, instruction for instruction. Setting it drops every translated block. `moon86 --jit on|off`; the environment variable MOON86_JIT=off changes the default."),
        def("jit_stats.blocks_compiled", CNT, "blocks", RO, T::JitStat(JitStat::BlocksCompiled),
            "Blocks the JIT has translated since it was last switched on."),
        def("jit_stats.blocks_copied", CNT, "blocks", RO, T::JitStat(JitStat::BlocksCopied),
            "Blocks made by copying the translation of the same code at another address (a shared library or program mapped elsewhere in another process), not counted in `blocks_compiled`."),
        def("jit_stats.code_bytes", CNT, "bytes", RO, T::JitStat(JitStat::CodeBytes),
            "Bytes of generated code in the JIT's code cache now."),
        def("jit_stats.invalidations", CNT, "blocks", RO, T::JitStat(JitStat::Invalidations),
            "Translated blocks found stale because a write changed their code (self-modifying code, a loaded program)."),
        def("jit_stats.flushes", CNT, "", RO, T::JitStat(JitStat::Flushes),
            "Times the whole code cache was dropped (it filled up, or the CPU model changed)."),
        def("jit_stats.entries", CNT, "", RO, T::JitStat(JitStat::Entries),
            "Times the dispatcher ran a translated block (a chain of blocks counts once; see `chained`)."),
        def("jit_stats.chained", CNT, "", RO, T::JitStat(JitStat::Chained),
            "Direct jumps from one translated block straight into the next on the same page, without returning to the dispatcher."),
        def("jit_stats.jumped", CNT, "", RO, T::JitStat(JitStat::Jumped),
            "Returns, indirect jumps and jumps to another page that went straight into the next translated block through the jump cache, without returning to the dispatcher."),
        def("jit_stats.instructions", CNT, "instructions", RO, T::JitStat(JitStat::Instructions),
            "Guest instructions retired inside translated blocks (the rest ran in the interpreter)."),
        def("jit_stats.handler_insns", CNT, "instructions", RO, T::JitStat(JitStat::HandlerInsns),
            "Instructions translated as calls of the interpreter's own handler (MUL, DIV, BT, LOCK forms and the like), which run inside blocks instead of ending them."),
        def("jit_stats.exits.end", CNT, "", RO, T::JitStat(JitStat::ExitsEnd),
            "Block exits at the block's end or control transfer."),
        def("jit_stats.exits.bail", CNT, "", RO, T::JitStat(JitStat::ExitsBail),
            "Block exits that left one instruction to the interpreter: a memory access that faults, crosses a page or touches a watched address, a handler call that faults (or any handler call while something is watched), or a computed jump outside CS."),
        def("jit_stats.exits.smc", CNT, "", RO, T::JitStat(JitStat::ExitsSmc),
            "Block exits after a write changed the running block's own code."),
        def("post_code", ValueType::Integer { max: 0xFF }, "", RO, T::PostCode,
            "Last value written to a POST-code port (0x80 or 0x190); nil before the first."),
        def("post_codes", ValueType::IntegerList, "", RO, T::PostCodes,
            "Values written to the POST-code ports since power-on or reset, oldest first: the first 4096 and the last 4096 (when more were written, the ones between are left out; `post_code_count` says how many there were)."),
        def("post_code_count", CNT, "", RO, T::PostCodeCount,
            "How many values were written to the POST-code ports since power-on or reset."),
    ];
    for id in slots() {
        let (what, media) = match id.interface {
            crate::machine::DriveInterface::Ide => (
                format!(
                    "IDE drive {id} ({})",
                    [
                        "primary master",
                        "primary slave",
                        "secondary master",
                        "secondary slave"
                    ][usize::from(id.index % 4)]
                ),
                "disk or cdrom",
            ),
            crate::machine::DriveInterface::Floppy => (
                format!(
                    "Floppy drive {id} ({}:)",
                    ["A", "B"][usize::from(id.index % 2)]
                ),
                "floppy",
            ),
        };
        t.push(def(format!("drive.{id}.file"), ValueType::OptionalString, "", VmState::ALIVE, T::Drive(id, DriveField::File),
            format!("{what}: its image file, nil when there is none. While off, setting it attaches the drive (a {} unless `media` says otherwise) or replaces its image, and nil takes it off (a CD-ROM drive stays, empty). While powered, only removable media change: a path inserts a disc or diskette, nil ejects it, and the guest sees the media change; a hard disk's image is fixed while powered. `moon86 boot --set drive.{id}.file=FILE`.", if id.interface == crate::machine::DriveInterface::Ide { "hard disk" } else { "floppy drive" })));
        t.push(def(format!("drive.{id}.media"), ValueType::OptionalString, "", OFF, T::Drive(id, DriveField::Media),
            format!("{what}: the kind of drive, {media}; nil when none is attached. Setting cdrom attaches a CD-ROM drive (empty until `file` is set); nil takes the drive off.")));
        t.push(def(format!("drive.{id}.mode"), ValueType::String, "", OFF, T::Drive(id, DriveField::Mode),
            format!("{what}: where the guest's writes go: overlay (in memory, in snapshots; the image is never written; the default), read-only (writes fail, as on write-protected media) or write-through (into the image file). nil when no drive is attached.")));
    }
    for r in Gpr::ALL {
        t.push(def(
            format!("cpu.{}", r.name()),
            U32,
            "",
            REGS,
            T::Gpr(r),
            format!("General-purpose register {}.", r.name().to_uppercase()),
        ));
    }
    t.push(def(
        "cpu.eip",
        U32,
        "",
        REGS,
        T::Eip,
        "Instruction pointer, an offset into CS.",
    ));
    t.push(def("cpu.eflags", U32, "", REGS, T::Eflags,
        "Flags register with every flag computed. Bit 1 always reads as 1; reserved bits read as 0."));
    for s in SegReg::ALL {
        let n = s.name();
        let up = n.to_uppercase();
        t.push(def(
            format!("cpu.{n}.selector"),
            U16,
            "",
            REGS,
            T::SegSelector(s),
            format!("{up} selector. Setting it in real mode also sets the base to selector * 16."),
        ));
        t.push(def(
            format!("cpu.{n}.base"),
            U32,
            "",
            REGS,
            T::SegBase(s),
            format!("{up} base address (hidden descriptor cache)."),
        ));
        t.push(def(
            format!("cpu.{n}.limit"),
            U32,
            "bytes",
            REGS,
            T::SegLimit(s),
            format!("{up} limit, the last valid offset (hidden descriptor cache)."),
        ));
        t.push(def(
            format!("cpu.{n}.access"),
            U16,
            "",
            REGS,
            T::SegAccess(s),
            format!("{up} access rights (hidden descriptor cache): descriptor bytes 5-6."),
        ));
    }
    for (n, doc) in [
        (
            0,
            "Control register 0: PE, MP, EM, TS, ET, NE, WP, AM, NW, CD, PG.",
        ),
        (
            2,
            "Control register 2: the linear address of the last page fault.",
        ),
        (3, "Control register 3: the page directory base (with CR4.PAE, of the PDPT, whose four entries a write under PAE paging loads as MOV CR3 does, refusing a table with a bad one)."),
        (4, "Control register 4 (486 and later)."),
    ] {
        t.push(def(format!("cpu.cr{n}"), U32, "", REGS, T::Cr(n), doc));
    }
    t.push(def(
        "cpu.halted",
        ValueType::Boolean,
        "",
        RO,
        T::CpuHalted,
        "True while the CPU waits for an interrupt after HLT.",
    ));
    t
});

/// Every property, in documentation order.
pub fn properties() -> &'static [PropertyDef] {
    &TABLE
}

/// The property at `path`, or an error suggesting the nearest one.
pub fn lookup(path: &str) -> Result<&'static PropertyDef, ControlError> {
    properties()
        .iter()
        .find(|p| p.path == path)
        .ok_or_else(|| ControlError::UnknownProperty {
            name: path.to_owned(),
            suggestion: super::suggest::nearest(path, properties().iter().map(|p| p.path.as_str())),
        })
}

/// True when some property lives under `prefix.` (so `cpu` and `cpu.cs` are namespaces).
pub fn is_namespace(prefix: &str) -> bool {
    properties().iter().any(|p| {
        p.path.len() > prefix.len()
            && p.path.starts_with(prefix)
            && p.path.as_bytes()[prefix.len()] == b'.'
    })
}

fn opt_int(v: Option<impl Into<i64>>) -> Value {
    v.map_or(Value::Nil, |v| Value::Int(v.into()))
}

impl Vm {
    /// Reads the property at `path`. Every property can be read in every state
    /// but `destroyed` (where only `state` answers).
    pub fn get(&self, path: &str) -> Result<Value, ControlError> {
        let p = lookup(path)?;
        if p.target == Target::State {
            return Ok(Value::Str(self.state().name().into()));
        }
        let m = self.machine().map_err(|e| match e {
            ControlError::Destroyed => ControlError::ReadDestroyed {
                path: p.path.clone(),
            },
            e => e,
        })?;
        let cpu = &m.cpu;
        Ok(match p.target {
            Target::State => unreachable!("answered above"),
            Target::HaltReason => self
                .halt_reason()
                .map_or(Value::Nil, |r| Value::Str(r.name().into())),
            Target::ExitCode => opt_int(self.exit_code()),
            Target::ShutdownCause => m
                .cpu
                .shutdown_cause()
                .map_or(Value::Nil, |c| Value::Str(c.to_string())),
            Target::RamSize => Value::Int(self.config().ram_size as i64),
            Target::CpuModel => Value::Str(self.config().cpu_model.name().into()),
            Target::ExitPort => Value::Int(self.config().exit_port.into()),
            Target::Icount => Value::Int(m.icount as i64),
            Target::DebugconEcho => Value::Bool(m.board.io.debugcon.echo),
            Target::BiosdebugEcho => Value::Bool(m.board.io.seabios_debug.echo),
            Target::SerialEcho => Value::Bool(m.serial[0].echo),
            Target::Ips => Value::Int(self.config().ips as i64),
            Target::Clock => Value::Int(m.now_ns() as i64),
            Target::RtcStart => Value::Int(self.config().rtc_start),
            Target::BootOrder => Value::Str(self.config().boot_order.to_string()),
            Target::BootMenu => Value::Bool(self.config().boot_menu),
            Target::BootMenuWait => Value::Int(self.config().boot_menu_wait.into()),
            Target::A20 => Value::Bool(m.board.a20()),
            Target::Jit => Value::Bool(cpu.jit_enabled()),
            Target::JitStat(s) => Value::Int(s.read(&cpu.jit_stats()) as i64),
            Target::PostCode => opt_int(m.board.io.post.last()),
            Target::PostCodes => Value::List(m.board.io.post.history().map(i64::from).collect()),
            Target::PostCodeCount => Value::Int(m.board.io.post.count() as i64),
            Target::Gpr(r) => Value::Int(cpu.gpr(r).into()),
            Target::Eip => Value::Int(cpu.eip().into()),
            Target::Eflags => Value::Int(cpu.eflags().into()),
            Target::SegSelector(s) => Value::Int(cpu.segment(s).selector.into()),
            Target::SegBase(s) => Value::Int(cpu.segment(s).base.into()),
            Target::SegLimit(s) => Value::Int(cpu.segment(s).limit.into()),
            Target::SegAccess(s) => Value::Int(cpu.segment(s).access.into()),
            Target::Cr(n) => Value::Int(
                match n {
                    0 => cpu.cr0(),
                    2 => cpu.cr2(),
                    3 => cpu.cr3(),
                    _ => cpu.cr4(),
                }
                .into(),
            ),
            Target::CpuHalted => Value::Bool(cpu.is_halted()),
            Target::Drive(id, field) => self.drive_property(id, field),
        })
    }

    /// Sets the property at `path`, checking that it is writable, that the VM
    /// is in a state that allows it, and that the value has the right type.
    /// On error nothing changes.
    pub fn set(&mut self, path: &str, value: Value) -> Result<(), ControlError> {
        let p = lookup(path)?;
        if p.read_only() {
            return Err(ControlError::ReadOnly {
                property: p.path.clone(),
            });
        }
        if !p.settable_in.contains(&self.state()) {
            return Err(ControlError::SetInWrongState {
                property: p.path.clone(),
                state: self.state(),
                allowed: p.settable_in,
            });
        }
        let bad = |reason: String| ControlError::BadValue {
            name: p.path.clone(),
            reason,
        };
        let v = p.ty.coerce(value).map_err(bad)?;
        let int = match v {
            Value::Int(i) => i,
            _ => 0,
        };
        let int32 = int as u32;
        match p.target {
            Target::RamSize => self.set_ram_size(int as u64)?,
            Target::CpuModel => {
                let Value::Str(s) = &v else {
                    unreachable!("coerced to a string")
                };
                let model: CpuModel = s.parse().map_err(bad)?;
                self.config_mut().cpu_model = model;
                self.machine_mut()?.cpu.set_model(model.cpu_model());
            }
            Target::ExitPort => self.set_exit_port(int as u16)?,
            Target::DebugconEcho => {
                self.machine_mut()?.board.io.debugcon.echo = v == Value::Bool(true)
            }
            Target::BiosdebugEcho => {
                self.machine_mut()?.board.io.seabios_debug.echo = v == Value::Bool(true)
            }
            Target::SerialEcho => self.machine_mut()?.serial[0].echo = v == Value::Bool(true),
            Target::Jit => self
                .machine_mut()?
                .cpu
                .set_jit_enabled(v == Value::Bool(true)),
            Target::Ips => self.set_clock_config(Some(int as u64), None)?,
            Target::RtcStart => self.set_clock_config(None, Some(int))?,
            Target::BootOrder => {
                let Value::Str(s) = &v else {
                    unreachable!("coerced to a string")
                };
                self.config_mut().boot_order = s.parse().map_err(bad)?;
                self.apply_boot_config()?;
            }
            Target::BootMenu => {
                self.config_mut().boot_menu = v == Value::Bool(true);
                self.apply_boot_config()?;
            }
            Target::BootMenuWait => {
                self.config_mut().boot_menu_wait = int as u16;
                self.apply_boot_config()?;
            }
            Target::Drive(id, field) => self.set_drive_property(id, field, v, &p.path)?,
            Target::Cr(n @ (0 | 3 | 4)) => {
                // Under PAE paging the PDPTEs are loaded from CR3 as the MOV
                // would; a bad one refuses the value, changing nothing.
                let m = self.machine_mut()?;
                let old = (m.cpu.cr0(), m.cpu.cr3(), m.cpu.cr4());
                match n {
                    0 => m.cpu.set_cr0(int32),
                    3 => m.cpu.set_cr3(int32),
                    _ => m.cpu.set_cr4(int32),
                }
                let pae = m.cpu.pae_paging();
                if pae && m.cpu.load_pdptes(&mut m.board).is_err() {
                    m.cpu.set_cr0(old.0);
                    m.cpu.set_cr3(old.1);
                    m.cpu.set_cr4(old.2);
                    return Err(bad(
                        "a PDPTE at CR3 is present with reserved bits set".into()
                    ));
                }
            }
            target => {
                let cpu = &mut self.machine_mut()?.cpu;
                match target {
                    Target::Gpr(r) => cpu.set_gpr(r, int32),
                    Target::Eip => cpu.set_eip(int32),
                    Target::Eflags => cpu.set_eflags(int32),
                    Target::SegSelector(s) => {
                        if cpu.cr0() & 1 == 0 {
                            cpu.load_segment_real(s, int as u16);
                        } else {
                            let mut seg = cpu.segment(s);
                            seg.selector = int as u16;
                            cpu.set_segment(s, seg);
                        }
                    }
                    Target::SegBase(s) => {
                        let mut seg = cpu.segment(s);
                        seg.base = int32;
                        cpu.set_segment(s, seg);
                    }
                    Target::SegLimit(s) => {
                        let mut seg = cpu.segment(s);
                        seg.limit = int32;
                        cpu.set_segment(s, seg);
                    }
                    Target::SegAccess(s) => {
                        let mut seg = cpu.segment(s);
                        seg.access = int as u16;
                        cpu.set_segment(s, seg);
                    }
                    Target::Cr(_) => cpu.set_cr2(int32),
                    _ => unreachable!("read-only targets are rejected above"),
                }
            }
        }
        Ok(())
    }

    /// The value of a property formatted for people: sizes as "16M", registers in hex.
    pub fn get_display(&self, path: &str) -> Result<String, ControlError> {
        let p = lookup(path)?;
        let v = self.get(path)?;
        Ok(match (p.ty, &v) {
            (ValueType::Size, Value::Int(n)) => format_size(*n as u64),
            (ValueType::Integer { max } | ValueType::Bounded { max, .. }, Value::Int(n))
                if max >= 0xFFFF && p.unit.is_empty() =>
            {
                format!("0x{n:x}")
            }
            _ => v.to_string(),
        })
    }
}
