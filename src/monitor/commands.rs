//! The command table: every monitor command declared once with its
//! arguments, a summary, an example and its handler. `help`, completion and
//! `docs/monitor.md` are generated from it. Each handler is a thin
//! translation onto the control API (`Vm`), through the monitor's state.

use super::error::MonitorError;
use super::format;
use super::parse::{self, Format};
use super::state::{Monitor, Owned};
use crate::control::hooks::{HookId, HookKind};
use crate::control::{nearest, Value, VmState};
use std::path::Path;

type Handler = fn(&mut Monitor, &str) -> Result<(), MonitorError>;

/// One row of the command table.
pub struct CommandDef {
    pub name: &'static str,
    /// Short forms (gdb's `c`, `s`, `n`...).
    pub aliases: &'static [&'static str],
    pub args: &'static str,
    pub summary: &'static str,
    /// A line as a user would type it.
    pub example: &'static str,
    /// More about it, for `help CMD` and the docs (may be empty).
    pub details: &'static str,
    pub handler: Handler,
}

impl CommandDef {
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            self.name.to_string()
        } else if self.args.starts_with('/') {
            format!("{}{}", self.name, self.args)
        } else {
            format!("{} {}", self.name, self.args)
        }
    }
}

/// The topics of `info`.
pub const INFO_TOPICS: &[(&str, &str)] = &[
    ("registers", "every CPU register, QEMU's layout"),
    ("mem", "the page tables as mapped linear ranges"),
    (
        "hooks",
        "every hook: the monitor's breakpoints and watchpoints and Lua's",
    ),
    ("status", "the VM's state (running, paused, halted...)"),
    ("block", "the drives and their media"),
];

pub fn commands() -> &'static [CommandDef] {
    COMMANDS
}

/// The command called `word` (or with that alias).
pub fn lookup(word: &str) -> Option<&'static CommandDef> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
}

/// The command name nearest to a misspelt `word`.
pub fn suggest(word: &str) -> Option<String> {
    nearest(word, COMMANDS.iter().map(|c| c.name))
}

pub(super) fn usage_err(name: &'static str, reason: impl Into<String>) -> MonitorError {
    let usage = lookup(name).map(|c| c.usage()).unwrap_or_default();
    MonitorError::Usage {
        command: name,
        reason: reason.into(),
        usage,
    }
}

fn words(args: &str) -> Vec<&str> {
    args.split_whitespace().collect()
}

fn paused(m: &Monitor, what: &'static str) -> Result<(), MonitorError> {
    if m.running {
        return Err(MonitorError::Running(what));
    }
    Ok(())
}

fn address(m: &Monitor, text: &str) -> Result<u64, MonitorError> {
    let regs = m.vm(|vm| vm.registers())??;
    parse::address(text, &regs)
}

// ---- handlers -------------------------------------------------------------

fn help(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let w = words(args);
    match w.first() {
        None => {
            let mut s =
                String::from("Commands (a line that is not a command is Lua, with `vm` bound):\n");
            for c in COMMANDS {
                s += &format!("  {:<28} {}\n", c.usage(), c.summary);
            }
            s += "`help CMD` shows a command's example and details.";
            m.say(s);
            Ok(())
        }
        Some(name) => {
            let c = lookup(name).ok_or_else(|| MonitorError::UnknownCommand {
                word: name.to_string(),
                suggestion: suggest(name),
            })?;
            m.say(help_text(c));
            Ok(())
        }
    }
}

/// What `help CMD` prints.
pub fn help_text(c: &CommandDef) -> String {
    let mut s = format!("{}: {}\n", c.usage(), c.summary);
    if !c.aliases.is_empty() {
        s += &format!("aliases: {}\n", c.aliases.join(", "));
    }
    if !c.details.is_empty() {
        s += c.details;
        s.push('\n');
    }
    s += &format!("example: {}", c.example);
    s
}

fn info(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let w = words(args);
    let topic = w.first().copied().unwrap_or("");
    let names: Vec<&str> = INFO_TOPICS.iter().map(|t| t.0).collect();
    let matches: Vec<&str> = names
        .iter()
        .copied()
        .filter(|t| !topic.is_empty() && t.starts_with(topic))
        .collect();
    let topic = match matches.as_slice() {
        [one] => *one,
        _ => {
            let hint = nearest(topic, names.iter().copied())
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            return Err(usage_err(
                "info",
                if topic.is_empty() {
                    format!("which topic? ({})", names.join(", "))
                } else {
                    format!("no topic '{topic}'{hint}; topics: {}", names.join(", "))
                },
            ));
        }
    };
    let text = match topic {
        "registers" => format::registers(&m.vm(|vm| vm.registers())??),
        "mem" => {
            let map = m.vm(|vm| vm.page_map())??;
            format::mappings(map.as_deref())
        }
        "hooks" => {
            let list = m.vm(|vm| vm.hooks())?;
            let own = m.own.clone();
            format::hooks(&list, |id| match own.get(&id) {
                Some(Owned::Breakpoint) => "breakpoint",
                Some(Owned::Watchpoint) => "watchpoint",
                Some(Owned::Temporary) => "next",
                None => "lua",
            })
        }
        "block" => super::block::info_block(&m.vm(|vm| vm.drive_info())??),
        _ => {
            let state = m.state();
            let icount = m.vm(|vm| vm.get("icount"))??;
            format!("VM status: {state} (icount {icount})")
        }
    };
    m.say(text);
    Ok(())
}

fn examine(
    m: &mut Monitor,
    name: &'static str,
    args: &str,
    physical: bool,
) -> Result<(), MonitorError> {
    let (spec, rest) = match args.strip_prefix('/') {
        Some(r) => {
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            (Some(&r[..end]), &r[end..])
        }
        None => (None, args),
    };
    let f: Format = match spec {
        Some(s) => parse::format(s, m.last_format)?,
        None => Format {
            count: 1,
            ..m.last_format
        },
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(usage_err(name, "an address is needed"));
    }
    let addr = address(m, rest)?;
    m.last_format = f;
    let text = match f.letter {
        'i' => {
            let regs = m.vm(|vm| vm.registers())??;
            let code32 = format::code32(&regs);
            let len = f.count * 15;
            let code = read(m, addr, len, physical, true)?;
            let base = u64::from(regs.segs[1].base);
            let pc = base + u64::from(regs.eip);
            format::instructions(
                addr,
                addr.wrapping_sub(base) & 0xFFFF_FFFF,
                &code,
                code32,
                f.count as usize,
                pc,
            )
        }
        's' => {
            let code = read(m, addr, f.count * 256, physical, true)?;
            format::strings(addr, &code, f.count)
        }
        _ => {
            let data = read(m, addr, f.count * u64::from(f.unit), physical, false)?;
            format::memory(addr, &data, f)
        }
    };
    m.say(text);
    Ok(())
}

/// Reads guest memory, linear (through the page tables) or physical; with
/// `partial`, as much as can be read (for instructions and strings).
fn read(
    m: &Monitor,
    addr: u64,
    len: u64,
    physical: bool,
    partial: bool,
) -> Result<Vec<u8>, MonitorError> {
    let len = len.min((1u64 << 32) - addr);
    let whole = m.vm(|vm| {
        if physical {
            vm.mem_read(addr, len)
        } else {
            vm.read_linear(addr, len)
        }
    })?;
    match whole {
        Ok(b) => Ok(b),
        Err(e) if !partial => Err(e.into()),
        Err(e) => {
            let mut out = Vec::new();
            for a in addr..addr + len {
                let b = m.vm(|vm| {
                    if physical {
                        vm.mem_read(a, 1)
                    } else {
                        vm.read_linear(a, 1)
                    }
                })?;
                match b {
                    Ok(b) => out.extend(b),
                    Err(_) => break,
                }
            }
            if out.is_empty() {
                return Err(e.into());
            }
            Ok(out)
        }
    }
}

fn x(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    examine(m, "x", args, false)
}

fn xp(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    examine(m, "xp", args, true)
}

fn disas(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let w = words(args);
    if w.len() > 2 {
        return Err(usage_err("disas", "too many arguments"));
    }
    let regs = m.vm(|vm| vm.registers())??;
    let base = u64::from(regs.segs[1].base);
    let pc = base + u64::from(regs.eip);
    let addr = match w.first() {
        Some(a) => address(m, a)?,
        None => pc,
    };
    let n = match w.get(1) {
        Some(t) => parse::count("disas", t, 1000, "disas [ADDR] [N]")?,
        None => 8,
    };
    let code = read(m, addr, n * 15, false, true)?;
    let text = format::instructions(
        addr,
        addr.wrapping_sub(base) & 0xFFFF_FFFF,
        &code,
        format::code32(&regs),
        n as usize,
        pc,
    );
    m.say(text);
    Ok(())
}

fn break_(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let w = words(args);
    let [a] = w.as_slice() else {
        return Err(usage_err("break", "one address is needed"));
    };
    let addr = address(m, a)?;
    let id = m.add_hook(
        HookKind::Exec {
            start: addr,
            end: addr + 1,
            physical: false,
        },
        Owned::Breakpoint,
    )?;
    m.say(format!("breakpoint {id} at 0x{addr:x}"));
    Ok(())
}

fn watch(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let w = words(args);
    if w.is_empty() || w.len() > 3 {
        return Err(usage_err("watch", "an address is needed"));
    }
    let addr = address(m, w[0])?;
    let mut len = 1u64;
    let mut mode = "w";
    for t in &w[1..] {
        match *t {
            "r" | "w" | "rw" => mode = t,
            t => {
                len = parse::count("watch", t, 1 << 20, "watch ADDR [LEN] [r|w|rw]").map_err(
                    |_| usage_err("watch", format!("'{t}' is neither a length nor r, w or rw")),
                )?
            }
        }
    }
    let end = addr + len;
    let mut ids = Vec::new();
    if mode.contains('r') {
        ids.push(m.add_hook(HookKind::Read { start: addr, end }, Owned::Watchpoint)?);
    }
    if mode.contains('w') {
        let kind = HookKind::Write {
            start: addr,
            end,
            pre: false,
        };
        ids.push(m.add_hook(kind, Owned::Watchpoint)?);
    }
    let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    m.say(format!(
        "watchpoint {} on {} physical 0x{addr:x}..0x{end:x}",
        list.join(", "),
        match mode {
            "r" => "reads of",
            "w" => "writes to",
            _ => "reads of and writes to",
        }
    ));
    Ok(())
}

fn delete(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let w = words(args);
    let ids: Vec<u64> = if w.is_empty() {
        m.own.keys().copied().collect()
    } else {
        w.iter()
            .map(|t| match crate::control::parse_int(t) {
                Ok(n) if n > 0 => Ok(n as u64),
                _ => Err(usage_err(
                    "delete",
                    format!("'{t}' is not a hook id (see info hooks)"),
                )),
            })
            .collect::<Result<_, _>>()?
    };
    for id in &ids {
        m.vm(|vm| vm.hook_remove(HookId(*id)))??;
        m.own.remove(id);
    }
    m.say(match ids.len() {
        0 => "no breakpoints or watchpoints to delete".to_string(),
        _ => format!(
            "deleted {}",
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    Ok(())
}

fn step(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    paused(m, "step")?;
    let w = words(args);
    let n = match w.as_slice() {
        [] => 1,
        [t] => parse::count("step", t, u64::MAX >> 1, "step [N]")?,
        _ => return Err(usage_err("step", "too many arguments")),
    };
    m.step(n)
}

fn next(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    paused(m, "next")?;
    if !args.trim().is_empty() {
        return Err(usage_err("next", "next takes no arguments"));
    }
    let regs = m.vm(|vm| vm.registers())??;
    let pc = u64::from(regs.segs[1].base.wrapping_add(regs.eip));
    let code = m.read_code(pc, 15);
    let line = super::disasm::decode(&code, u64::from(regs.eip), format::code32(&regs), 1);
    match line.first() {
        Some(l) if l.is_call => {
            let after = pc + l.bytes.len() as u64;
            let kind = HookKind::Exec {
                start: after,
                end: after + 1,
                physical: false,
            };
            m.add_hook(kind, Owned::Temporary)?;
            let r = m.start(None);
            if r.is_ok() {
                m.run_to_end();
            }
            m.drop_temporary();
            r
        }
        _ => m.step(1),
    }
}

fn cont(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let mut w = words(args);
    let background = w.last() == Some(&"&");
    if background {
        w.pop();
    }
    let bound = match w.as_slice() {
        [] => None,
        [t] => Some(parse::bound(t).map_err(|e| usage_err("cont", e))?),
        _ => return Err(usage_err("cont", "too many arguments")),
    };
    m.start(bound)?;
    if !background && !m.interactive {
        m.run_to_end();
    }
    Ok(())
}

fn stop(m: &mut Monitor, _args: &str) -> Result<(), MonitorError> {
    if !m.running {
        m.say("the guest is not running");
        return Ok(());
    }
    m.stop("stopped")
}

fn get(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let w = words(args);
    let [path] = w.as_slice() else {
        return Err(usage_err("get", "one property path is needed"));
    };
    let v = m.vm(|vm| vm.get_display(path))??;
    m.say(format!("{path} = {v}"));
    Ok(())
}

fn set(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let t = args.trim();
    let (path, value) = t
        .split_once(char::is_whitespace)
        .or_else(|| t.split_once('='))
        .ok_or_else(|| usage_err("set", "a property and a value are needed"))?;
    let value = value.trim().trim_start_matches('=').trim();
    let v = match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::Str(value.to_string()),
    };
    m.vm(|vm| vm.set(path.trim(), v))??;
    let shown = m.vm(|vm| vm.get_display(path.trim()))??;
    m.say(format!("{} = {shown}", path.trim()));
    Ok(())
}

fn one_path<'a>(name: &'static str, args: &'a str) -> Result<&'a str, MonitorError> {
    let t = args.trim();
    if t.is_empty() {
        return Err(usage_err(name, "a file name is needed"));
    }
    Ok(t)
}

fn screendump(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let path = one_path("screendump", args)?;
    m.vm(|vm| vm.screen_png(Path::new(path)))??;
    m.say(format!("wrote {path}"));
    Ok(())
}

fn save_range(
    m: &mut Monitor,
    name: &'static str,
    args: &str,
    physical: bool,
) -> Result<(), MonitorError> {
    let w = words(args);
    let [a, l, path] = w.as_slice() else {
        return Err(usage_err(
            name,
            "an address, a length and a file are needed",
        ));
    };
    let addr = address(m, a)?;
    let len = crate::control::parse_size(l).map_err(|e| usage_err(name, e))?;
    let data = read(m, addr, len, physical, false)?;
    crate::control::write_whole(Path::new(path), &data)?;
    m.say(format!("wrote {len} bytes to {path}"));
    Ok(())
}

fn memsave(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    save_range(m, "memsave", args, false)
}

fn pmemsave(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    save_range(m, "pmemsave", args, true)
}

fn sendkey(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let keys = args.trim();
    if keys.is_empty() {
        return Err(usage_err("sendkey", "which keys?"));
    }
    let combo = keys.replace('-', "+");
    m.vm(|vm| vm.keyboard_press(&combo))??;
    Ok(())
}

fn system_reset(m: &mut Monitor, _args: &str) -> Result<(), MonitorError> {
    let was_running = m.running;
    m.running = false;
    m.vm(|vm| vm.reset())??;
    m.rewind_output();
    if was_running {
        m.start(None)?;
    }
    m.say(format!("reset; {}", m.location()));
    Ok(())
}

fn savevm(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let path = one_path("savevm", args)?;
    let was_running = m.running;
    if was_running {
        m.vm(|vm| vm.pause())??;
    }
    let r = m.vm(|vm| vm.save_state(Path::new(path)));
    if was_running {
        m.vm(|vm| vm.resume())??;
    }
    r??;
    m.say(format!("saved to {path}"));
    Ok(())
}

fn loadvm(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let path = one_path("loadvm", args)?;
    m.running = false;
    m.vm(|vm| vm.restore_state(Path::new(path)))??;
    m.rewind_output();
    let state = m.state();
    m.say(format!("restored from {path} ({state}); {}", m.location()));
    Ok(())
}

fn quit(m: &mut Monitor, _args: &str) -> Result<(), MonitorError> {
    if m.state() == VmState::Running {
        let _ = m.vm(|vm| vm.pause());
    }
    m.running = false;
    m.quit = true;
    Ok(())
}

const COMMANDS: &[CommandDef] = &[
    CommandDef {
        name: "help",
        aliases: &[],
        args: "[CMD]",
        summary: "list the commands, or show one with an example",
        example: "help x",
        details: "",
        handler: help,
    },
    CommandDef {
        name: "info",
        aliases: &[],
        args: "registers|mem|hooks|status",
        summary: "show registers, page mappings, hooks or the VM's state",
        example: "info registers",
        details: "Topics may be shortened to a unique prefix (`info reg`). `info mem` lists the \
linear ranges the current page tables map, with the physical address, size and flags \
(u user / s supervisor, rw writable / r- read-only). `info hooks` lists every hook of the VM, \
including those a Lua line added, with its id for `delete`.",
        handler: info,
    },
    CommandDef {
        name: "x",
        aliases: &[],
        args: "/NFU ADDR",
        summary: "examine memory at a linear address (through the page tables)",
        example: "x/8xb 0x7c00",
        details: "As in gdb: N is a count, F a format (x hex, d signed, u unsigned, o octal, \
t binary, a address, c character, i instruction, s string), U a unit (b byte, h 2 bytes, \
w 4 bytes, g 8 bytes). What is left out is taken from the previous x (first: /1xw). \
ADDR is a number (decimal or 0x hex), a register ($esp, $pc = CS base + EIP), a sum \
($esp+8), or SEG:OFF (0000:7c00, or ds:10 with a segment register's base; both in hex).",
        handler: x,
    },
    CommandDef {
        name: "xp",
        aliases: &[],
        args: "/NFU ADDR",
        summary: "examine memory at a physical address",
        example: "xp/4xw 0xb8000",
        details: "The same formats and units as x.",
        handler: xp,
    },
    CommandDef {
        name: "disas",
        aliases: &[],
        args: "[ADDR] [N]",
        summary: "disassemble N instructions (8) at ADDR (CS:EIP), in the current code size",
        example: "disas 0x7c00 4",
        details: "`=>` marks the instruction about to run. 16-bit in real and V86 mode and in \
16-bit code segments, 32-bit otherwise.",
        handler: disas,
    },
    CommandDef {
        name: "break",
        aliases: &["b"],
        args: "ADDR",
        summary: "stop before the instruction at a linear address runs",
        example: "break 0x7c0b",
        details: "A breakpoint is an exec hook in the VM's hook table, so `info hooks` shows it \
and `delete` removes it by its id. When it fires, the guest stops before the instruction and \
the prompt comes back; `cont` runs the instruction.",
        handler: break_,
    },
    CommandDef {
        name: "watch",
        aliases: &[],
        args: "ADDR [LEN] [r|w|rw]",
        summary: "stop after a CPU access to physical memory (writes by default)",
        example: "watch 0x600 2 w",
        details: "Watchpoints are read and write hooks on physical addresses (LEN bytes, 1 by \
default); rw adds one of each. The guest stops after the accessing instruction.",
        handler: watch,
    },
    CommandDef {
        name: "delete",
        aliases: &["d"],
        args: "[ID...]",
        summary: "remove hooks by id (none given: every breakpoint and watchpoint)",
        example: "delete 1",
        details: "Any hook id from `info hooks`, a Lua hook's too.",
        handler: delete,
    },
    CommandDef {
        name: "step",
        aliases: &["s", "stepi", "si"],
        args: "[N]",
        summary: "execute N instructions (1), then show the next one",
        example: "step 3",
        details: "Hooks fire as in cont; a breakpoint or watchpoint ends the step early.",
        handler: step,
    },
    CommandDef {
        name: "next",
        aliases: &["n", "nexti", "ni"],
        args: "",
        summary: "execute one instruction, running a CALL through to its return",
        example: "next",
        details: "",
        handler: next,
    },
    CommandDef {
        name: "cont",
        aliases: &["c", "continue"],
        args: "[LIMIT] [&]",
        summary: "run the guest; the prompt stays usable, `stop` or Ctrl-C stops it",
        example: "cont 20ms",
        details: "LIMIT is an instruction count (100000) or virtual time (5s, 20ms). At a \
terminal, cont returns to the prompt at once and the guest runs while you type; a breakpoint, \
a watchpoint, the guest halting or the limit stops it and prints why. Reading commands from a \
file or pipe (a transcript), cont waits until the guest stops, so transcripts are \
deterministic; `cont &` runs in the background there too, until `stop`.",
        handler: cont,
    },
    CommandDef {
        name: "stop",
        aliases: &[],
        args: "",
        summary: "pause the running guest and show where it is",
        example: "stop",
        details: "",
        handler: stop,
    },
    CommandDef {
        name: "get",
        aliases: &[],
        args: "PROPERTY",
        summary: "show a property (see `moon86 doc`)",
        example: "get cpu.eip",
        details: "",
        handler: get,
    },
    CommandDef {
        name: "set",
        aliases: &[],
        args: "PROPERTY VALUE",
        summary: "set a property",
        example: "set cpu.eax 0x1234",
        details: "",
        handler: set,
    },
    CommandDef {
        name: "eject",
        aliases: &[],
        args: "[DRIVE]",
        summary: "take the disc out of a CD-ROM drive (default: the first) or a floppy drive",
        example: "eject ide2",
        details: "Opens the tray even if the guest locked it, as QEMU's `eject -f`; the guest sees the medium removed. DRIVE is ide0..ide3, or fd0/fd1 for a floppy drive's diskette (see `info block`).",
        handler: super::block::eject,
    },
    CommandDef {
        name: "change",
        aliases: &[],
        args: "DRIVE FILE",
        summary: "put another CD image into a CD-ROM drive, or a diskette into a floppy drive",
        example: "change ide2 debian-12-i386-netinst.iso",
        details: "The guest sees new media, as after a disc change on a real drive. A file that is not an ISO 9660 image (or, for fd0/fd1, not of a floppy's size) is refused and the drive left as it was.",
        handler: super::block::change,
    },
    CommandDef {
        name: "commit",
        aliases: &[],
        args: "DRIVE",
        summary: "write the guest's changes to a disk into its image file",
        example: "commit ide0",
        details: "The guest's writes are kept in an overlay in memory unless the drive was attached with snapshot=off; `commit` writes them into the image and empties the overlay.",
        handler: super::block::commit,
    },
    CommandDef {
        name: "screendump",
        aliases: &[],
        args: "FILE.png",
        summary: "save the text screen as a PNG image",
        example: "screendump screen.png",
        details: "",
        handler: screendump,
    },
    CommandDef {
        name: "memsave",
        aliases: &[],
        args: "ADDR LEN FILE",
        summary: "save LEN bytes of linear memory at ADDR to a file",
        example: "memsave 0x7c00 512 boot.bin",
        details: "LEN may carry a K, M or G suffix.",
        handler: memsave,
    },
    CommandDef {
        name: "pmemsave",
        aliases: &[],
        args: "ADDR LEN FILE",
        summary: "save LEN bytes of physical memory at ADDR to a file",
        example: "pmemsave 0 1M low.bin",
        details: "",
        handler: pmemsave,
    },
    CommandDef {
        name: "sendkey",
        aliases: &[],
        args: "KEYS",
        summary: "press a key combination on the keyboard",
        example: "sendkey ctrl-alt-delete",
        details: "Keys are joined with - or +, as in QEMU (ctrl-alt-delete, shift-a, f1).",
        handler: sendkey,
    },
    CommandDef {
        name: "system_reset",
        aliases: &[],
        args: "",
        summary: "reset the machine (RAM kept, images loaded again)",
        example: "system_reset",
        details: "",
        handler: system_reset,
    },
    CommandDef {
        name: "savevm",
        aliases: &[],
        args: "FILE",
        summary: "save the whole machine state to a file",
        example: "savevm before.state",
        details: "",
        handler: savevm,
    },
    CommandDef {
        name: "loadvm",
        aliases: &[],
        args: "FILE",
        summary: "restore the machine state from a file (the guest is paused)",
        example: "loadvm before.state",
        details: "",
        handler: loadvm,
    },
    CommandDef {
        name: "quit",
        aliases: &["q", "exit"],
        args: "",
        summary: "leave the monitor",
        example: "quit",
        details: "",
        handler: quit,
    },
];
