//! The raw Lua API under `lua/moon86/init.lua`: a table of functions over the
//! control API that never raise. Each returns `true, results...` or
//! `false, message`; the Lua layer raises the message at the caller's line.
//! Every binding is a line or two that converts arguments and calls a `Vm`
//! method: the rules (states, types, ranges) live in `control/`.

use super::convert::{from_value, to_bounded, to_bytes, to_string, to_u64, to_value, ArgResult};
use super::hooks;
use super::snapshot::{with_snapshot, SnapshotUd};
use crate::control::action::{actions, Action};
use crate::control::hooks::HookId;
use crate::control::property::{is_namespace, lookup, properties};
use crate::control::value::format_size;
use crate::control::{nearest, state_list, Vm, VmState};
use crate::machine::loader::Entry;
use crate::machine::MachineConfig;
use mlua::{AnyUserData, Lua, MultiValue, Table, UserData, Value as LuaValue};
use std::path::Path;

/// The VM as Lua holds it.
pub struct VmUd(pub Vm);

/// Wraps `vm` as a Lua userdata, as `moon86.new` does.
pub(super) fn vm_userdata(lua: &Lua, vm: Vm) -> mlua::Result<AnyUserData> {
    lua.create_userdata(VmUd(vm))
}
impl UserData for VmUd {}

/// Names callable through `raw.call`; "mem.read" becomes `vm.mem:read`.
const METHODS: &[&str] = &[
    "power_on",
    "power_off",
    "reset",
    "pause",
    "resume",
    "step",
    "run",
    "destroy",
    "load_raw",
    "load_rom",
    "load_bios",
    "load_option_rom",
    "load_boot_sector",
    "load_linux",
    "load_multiboot",
    "properties",
    "actions",
    "help",
    "mem.read",
    "mem.write",
    "mem.read_u8",
    "mem.read_u16",
    "mem.read_u32",
    "mem.write_u8",
    "mem.write_u16",
    "mem.write_u32",
    "mem.dump",
    "debugcon.text",
    "debugcon.clear",
    "biosdebug.text",
    "biosdebug.clear",
    "serial.read",
    "serial.text",
    "serial.write",
    "screen.text",
    "keyboard.send",
    "keyboard.type",
    "keyboard.press",
    "on_exec",
    "on_read",
    "on_write",
    "on_io",
    "on_disk",
    "on_interrupt",
    "on_mode_change",
    "serial.on_text",
    "screen.on_text",
    "at",
    "every",
    "hooks",
    "serial.expect",
    "screen.wait_text",
    "screen.png",
    "cpu.regs",
    "capture",
    "save_state",
    "restore_state",
    "snapshot",
    "restore",
    "gdbserver",
    "attach_drive",
    "drives",
    "cdrom.eject",
    "cdrom.insert",
    "disk.read",
    "disk.save",
    "disk.commit",
];

/// The methods a VM object has, by full name ("mem.read" is `vm.mem:read`),
/// for completion in front ends.
pub fn method_names() -> &'static [&'static str] {
    METHODS
}

type Reply = Result<Vec<LuaValue>, String>;

fn reply(lua: &Lua, r: Reply) -> mlua::Result<MultiValue> {
    let mut out = Vec::new();
    match r {
        Ok(values) => {
            out.push(LuaValue::Boolean(true));
            out.extend(values);
        }
        Err(msg) => {
            out.push(LuaValue::Boolean(false));
            out.push(LuaValue::String(lua.create_string(&msg)?));
        }
    }
    Ok(MultiValue::from_vec(out))
}

fn err(e: impl ToString) -> String {
    e.to_string()
}

fn none() -> Reply {
    Ok(Vec::new())
}

fn string(lua: &Lua, s: impl AsRef<[u8]>) -> Reply {
    Ok(vec![LuaValue::String(lua.create_string(s).map_err(err)?)])
}

fn int(n: u64) -> Reply {
    Ok(vec![LuaValue::Integer(n as i64)])
}

fn arg(args: &[LuaValue], i: usize) -> &LuaValue {
    args.get(i).unwrap_or(&LuaValue::Nil)
}

/// Reads the keys of an options table, rejecting unknown ones.
pub(super) fn options<'a>(
    t: &LuaValue,
    what: &str,
    known: &[&'a str],
) -> ArgResult<Vec<(&'a str, LuaValue)>> {
    let LuaValue::Table(t) = t else {
        return Err(format!(
            "{what} expects a table of options ({})",
            known.join(", ")
        ));
    };
    let mut out = Vec::new();
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, v) = pair.map_err(err)?;
        let key = match &k {
            LuaValue::String(s) => s.to_string_lossy(),
            _ => return Err(format!("{what}: option names are strings")),
        };
        match known.iter().find(|&&n| n == key) {
            Some(&name) => out.push((name, v)),
            None => {
                return Err(format!(
                    "{what}: unknown option '{key}' (known options: {})",
                    known.join(", ")
                ))
            }
        }
    }
    Ok(out)
}

pub(super) fn option(opts: &[(&str, LuaValue)], name: &str) -> LuaValue {
    opts.iter()
        .find(|(n, _)| *n == name)
        .map_or(LuaValue::Nil, |(_, v)| v.clone())
}

fn run_budget(v: &LuaValue) -> ArgResult<Option<u64>> {
    match v {
        LuaValue::Nil => Ok(None),
        LuaValue::Table(_) => {
            let opts = options(v, "run", &["instructions"])?;
            match option(&opts, "instructions") {
                LuaValue::Nil => Ok(None),
                n => to_u64(&n, "run: instructions").map(Some),
            }
        }
        n => to_u64(n, "run: instructions").map(Some),
    }
}

/// The arguments of an action that takes them in order or as one table of
/// named fields (`ActionDef::takes_named_args`), by name; the names and
/// their order are the action table's.
pub(super) fn named_args(
    action: Action,
    args: &[LuaValue],
) -> ArgResult<Vec<(&'static str, LuaValue)>> {
    let def = action.def();
    let names: Vec<&'static str> = def.args.iter().map(|a| a.name).collect();
    let last = args.iter().rposition(|a| !a.is_nil()).map_or(0, |i| i + 1);
    match args.first() {
        Some(t @ LuaValue::Table(_)) if def.args.first().is_some_and(|a| a.ty != "table") => {
            if last > 1 {
                return Err(format!(
                    "{}: give the arguments in order or as one table, not both",
                    def.name
                ));
            }
            options(t, def.name, &names)
        }
        _ => {
            if last > names.len() {
                let plural = if names.len() == 1 { "" } else { "s" };
                return Err(format!(
                    "{} takes at most {} argument{plural} ({}), got {last}",
                    def.name,
                    names.len(),
                    names.join(", ")
                ));
            }
            Ok(names.iter().copied().zip(args.iter().cloned()).collect())
        }
    }
}

fn load_raw(vm: &mut Vm, opts: &[(&str, LuaValue)]) -> Reply {
    let path = to_string(&option(opts, "path"), "load_raw: path")?;
    let addr = to_bounded(&option(opts, "addr"), "load_raw: addr", u32::MAX.into())? as u32;
    let (cs, ip) = (option(opts, "cs"), option(opts, "ip"));
    let entry = if cs.is_nil() && ip.is_nil() {
        None
    } else {
        let cs = if cs.is_nil() {
            0
        } else {
            to_bounded(&cs, "load_raw: cs", 0xFFFF)?
        };
        let ip = if ip.is_nil() {
            0
        } else {
            to_bounded(&ip, "load_raw: ip", 0xFFFF)?
        };
        Some(Entry {
            cs: cs as u16,
            ip: ip as u32,
        })
    };
    vm.load_raw(Path::new(&path), addr, entry).map_err(err)?;
    none()
}

fn optional_string(v: &LuaValue, what: &str) -> ArgResult<Option<String>> {
    if v.is_nil() {
        Ok(None)
    } else {
        to_string(v, what).map(Some)
    }
}

fn load_linux(vm: &mut Vm, opts: &[(&str, LuaValue)]) -> Reply {
    let kernel = to_string(&option(opts, "kernel"), "load_linux: kernel")?;
    let initrd = optional_string(&option(opts, "initrd"), "load_linux: initrd")?;
    let cmdline =
        optional_string(&option(opts, "cmdline"), "load_linux: cmdline")?.unwrap_or_default();
    vm.load_linux(
        Path::new(&kernel),
        initrd.as_deref().map(Path::new),
        &cmdline,
    )
    .map_err(err)?;
    none()
}

fn load_multiboot(vm: &mut Vm, opts: &[(&str, LuaValue)]) -> Reply {
    let kernel = to_string(&option(opts, "kernel"), "load_multiboot: kernel")?;
    let cmdline =
        optional_string(&option(opts, "cmdline"), "load_multiboot: cmdline")?.unwrap_or_default();
    let mut modules = Vec::new();
    match option(opts, "modules") {
        LuaValue::Nil => {}
        LuaValue::Table(list) => {
            for (i, m) in list.sequence_values::<LuaValue>().enumerate() {
                let what = format!("load_multiboot: modules[{}]", i + 1);
                let m = m.map_err(err)?;
                let (path, line) = match &m {
                    LuaValue::String(_) => (to_string(&m, &what)?, None),
                    LuaValue::Table(_) => {
                        let o = options(&m, &what, &["path", "cmdline"])?;
                        let path = to_string(&option(&o, "path"), &format!("{what}.path"))?;
                        (
                            path,
                            optional_string(&option(&o, "cmdline"), &format!("{what}.cmdline"))?,
                        )
                    }
                    _ => {
                        return Err(format!(
                            "{what} must be a path or a {{ path =, cmdline = }} table"
                        ))
                    }
                };
                let line = line.unwrap_or_else(|| path.clone());
                modules.push((std::path::PathBuf::from(path), line));
            }
        }
        _ => return Err("load_multiboot: modules must be a list".into()),
    }
    vm.load_multiboot(Path::new(&kernel), &cmdline, &modules)
        .map_err(err)?;
    none()
}

/// Executes the method `name` on `vm`.
fn call(lua: &Lua, vm: &mut Vm, name: &str, args: &[LuaValue]) -> Reply {
    let a = |i| arg(args, i);
    let addr = |i| to_u64(arg(args, i), "addr");
    match name {
        "power_on" => vm.power_on().map_err(err).and_then(|_| none()),
        "power_off" => vm.power_off().map_err(err).and_then(|_| none()),
        "reset" => vm.reset().map_err(err).and_then(|_| none()),
        "pause" => vm.pause().map_err(err).and_then(|_| none()),
        "resume" => vm.resume().map_err(err).and_then(|_| none()),
        "destroy" => vm.destroy().map_err(err).and_then(|_| none()),
        "step" => {
            let count = if a(0).is_nil() {
                1
            } else {
                to_u64(a(0), "step: count")?
            };
            string(lua, vm.step(count).map_err(err)?.name())
        }
        "run" => {
            let budget = run_budget(a(0))?;
            string(lua, vm.run(budget).map_err(err)?.name())
        }
        "load_raw" => load_raw(vm, &named_args(Action::LoadRaw, args)?),
        "load_rom" => {
            let opts = named_args(Action::LoadRom, args)?;
            let path = to_string(&option(&opts, "path"), "load_rom: path")?;
            vm.load_rom(Path::new(&path))
                .map_err(err)
                .and_then(|_| none())
        }
        "load_bios" => {
            let path = to_string(a(0), "load_bios: path")?;
            let vga = if a(1).is_nil() {
                None
            } else {
                Some(to_string(a(1), "load_bios: vga")?)
            };
            vm.load_bios(Path::new(&path), vga.as_deref().map(Path::new))
                .map_err(err)
                .and_then(|_| none())
        }
        "load_option_rom" => {
            let path = to_string(a(0), "load_option_rom: path")?;
            let addr = if a(1).is_nil() {
                None
            } else {
                let v = to_u64(a(1), "load_option_rom: addr")?;
                Some(
                    u32::try_from(v)
                        .map_err(|_| format!("load_option_rom: addr 0x{v:x} is beyond 4 GiB"))?,
                )
            };
            vm.load_option_rom(Path::new(&path), addr)
                .map_err(err)
                .and_then(|_| none())
        }
        "load_boot_sector" => {
            let opts = named_args(Action::LoadBootSector, args)?;
            let path = to_string(&option(&opts, "path"), "load_boot_sector: path")?;
            vm.load_boot_sector(Path::new(&path))
                .map_err(err)
                .and_then(|_| none())
        }
        "properties" => Ok(vec![LuaValue::Table(property_list(lua).map_err(err)?)]),
        "actions" => Ok(vec![LuaValue::Table(action_list(lua).map_err(err)?)]),
        "help" => help(lua, a(0)),
        "mem.read" => {
            let bytes = vm.mem_read(addr(0)?, to_u64(a(1), "len")?).map_err(err)?;
            string(lua, bytes)
        }
        "mem.write" => {
            let data = to_bytes(a(1), "data")?;
            vm.mem_write(addr(0)?, &data)
                .map_err(err)
                .and_then(|_| none())
        }
        "mem.read_u8" => int(vm.mem_read_int(addr(0)?, 1).map_err(err)?.into()),
        "mem.read_u16" => int(vm.mem_read_int(addr(0)?, 2).map_err(err)?.into()),
        "mem.read_u32" => int(vm.mem_read_int(addr(0)?, 4).map_err(err)?.into()),
        "mem.write_u8" | "mem.write_u16" | "mem.write_u32" => {
            let size = match name {
                "mem.write_u8" => 1,
                "mem.write_u16" => 2,
                _ => 4,
            };
            let value = to_u64(a(1), "value")?;
            vm.mem_write_int(addr(0)?, size, value)
                .map_err(err)
                .and_then(|_| none())
        }
        "mem.dump" => {
            let path = to_string(a(2), "path")?;
            vm.mem_dump(addr(0)?, to_u64(a(1), "len")?, Path::new(&path))
                .map_err(err)
                .and_then(|_| none())
        }
        "load_linux" => load_linux(vm, &named_args(Action::LoadLinux, args)?),
        "load_multiboot" => load_multiboot(vm, &named_args(Action::LoadMultiboot, args)?),
        "serial.read" => string(lua, vm.serial_read().map_err(err)?),
        "serial.text" => string(lua, vm.serial_text().map_err(err)?),
        "serial.write" => {
            let data = to_bytes(a(0), "data")?;
            vm.serial_write(&data).map_err(err).and_then(|_| none())
        }
        "screen.text" => {
            let lines = vm.screen_text().map_err(err)?;
            Ok(vec![LuaValue::Table(
                lua.create_sequence_from(lines).map_err(err)?,
            )])
        }
        "keyboard.send" => {
            let codes = to_bytes(a(0), "scancodes")?;
            vm.keyboard_send(&codes).map_err(err).and_then(|_| none())
        }
        "keyboard.type" => {
            let text = to_string(a(0), "keyboard:type: text")?;
            vm.keyboard_type(&text).map_err(err).and_then(|_| none())
        }
        "keyboard.press" => {
            let keys = to_string(a(0), "keyboard:press: keys")?;
            vm.keyboard_press(&keys).map_err(err).and_then(|_| none())
        }
        // The internal calls behind the Lua-side hook and run loop.
        "run_raw" => {
            let budget = if a(0).is_nil() {
                None
            } else {
                Some(to_u64(a(0), "run: instructions")?)
            };
            let deadline = if a(1).is_nil() {
                None
            } else {
                Some(to_u64(a(1), "run: deadline")?)
            };
            string(lua, vm.run_until(budget, deadline).map_err(err)?.name())
        }
        "step_raw" => {
            let count = to_u64(a(0), "step: count")?;
            string(lua, vm.step(count).map_err(err)?.name())
        }
        "location" => string(lua, vm.location().map_err(err)?),
        "guard" => {
            let name = to_string(a(0), "action")?;
            let action = crate::control::action::lookup_action(&name).map_err(err)?;
            vm.guard(action.action).map_err(err).and_then(|_| none())
        }
        "now_ns" => int(vm.machine().map_err(err)?.now_ns()),
        "retired" => int(vm.retired()),
        "hooks.add" => {
            let kind = to_string(a(0), "hook kind")?;
            int(hooks::add(lua, vm, &kind, a(1), a(2))?)
        }
        "hooks.take" => Ok(vec![LuaValue::Table(hooks::take(lua, vm).map_err(err)?)]),
        "hooks.info" => {
            let info = vm.hook_info(HookId(to_u64(a(0), "hook")?)).map_err(err)?;
            Ok(vec![LuaValue::Table(
                hooks::info_table(lua, &info).map_err(err)?,
            )])
        }
        "hooks.list" => {
            let list = lua.create_table().map_err(err)?;
            for info in vm.hooks() {
                list.push(hooks::info_table(lua, &info).map_err(err)?)
                    .map_err(err)?;
            }
            Ok(vec![LuaValue::Table(list)])
        }
        "hooks.remove" => {
            let id = HookId(to_u64(a(0), "hook")?);
            vm.hook_remove(id).map_err(err).and_then(|_| none())
        }
        "hooks.enable" => {
            let id = HookId(to_u64(a(0), "hook")?);
            let on = matches!(a(1), LuaValue::Boolean(true));
            vm.hook_set_enabled(id, on)
                .map_err(err)
                .and_then(|_| none())
        }
        "hooks.account" => {
            let id = HookId(to_u64(a(0), "hook")?);
            let secs = match a(1) {
                LuaValue::Number(n) => n.max(0.0),
                LuaValue::Integer(i) => (*i).max(0) as f64,
                _ => 0.0,
            };
            vm.hook_account(id, std::time::Duration::from_secs_f64(secs));
            none()
        }
        "hooks.text_result" => {
            let id = HookId(to_u64(a(0), "hook")?);
            let matched = matches!(a(1), LuaValue::Boolean(true));
            let consumed = if a(2).is_nil() {
                0
            } else {
                to_u64(a(2), "consumed")?
            };
            Ok(vec![LuaValue::Boolean(vm.hook_text_result(
                id,
                matched,
                consumed as usize,
            ))])
        }
        "debugcon.text" => string(lua, vm.debugcon_text().map_err(err)?),
        "debugcon.clear" => vm.debugcon_clear().map_err(err).and_then(|_| none()),
        "biosdebug.text" => string(lua, vm.biosdebug_text().map_err(err)?),
        "biosdebug.clear" => vm.biosdebug_clear().map_err(err).and_then(|_| none()),
        "screen.png" => {
            let path = to_string(a(0), "screen.png: path")?;
            vm.screen_png(Path::new(&path))
                .map_err(err)
                .and_then(|_| none())
        }
        "cpu.regs" => {
            let regs = vm.registers().map_err(err)?;
            Ok(vec![super::json::to_lua(lua, &regs.to_json()).map_err(err)?])
        }
        "capture" => {
            let spec = super::capture::spec(a(0))?;
            let bundle = vm.capture(&spec).map_err(err)?;
            string(lua, bundle.to_string_lossy().as_bytes())
        }
        "save_state" => {
            let path = to_string(a(0), "save_state: path")?;
            vm.save_state(Path::new(&path))
                .map_err(err)
                .and_then(|_| none())
        }
        "restore_state" => {
            let path = to_string(a(0), "restore_state: path")?;
            vm.restore_state(Path::new(&path))
                .map_err(err)
                .and_then(|_| none())
        }
        "snapshot" => {
            let s = vm.snapshot().map_err(err)?;
            Ok(vec![LuaValue::UserData(
                lua.create_userdata(SnapshotUd(s)).map_err(err)?,
            )])
        }
        "restore" => {
            with_snapshot(a(0), "restore", |s| vm.restore(s).map_err(err))?;
            none()
        }
        "gdbserver" => {
            let addr: crate::gdb::GdbAddr = match a(0) {
                LuaValue::String(s) => s.to_str().map_err(err)?.parse()?,
                v => crate::gdb::GdbAddr {
                    host: "127.0.0.1".into(),
                    port: to_bounded(v, "gdbserver: port", 0xFFFF)? as u16,
                },
            };
            let end = crate::gdb::serve(vm, &addr, |local| {
                eprintln!("moon86: waiting for gdb on {local} (in gdb: target remote {local})");
            })
            .map_err(err)?;
            string(lua, end.name())
        }
        _ => super::drives::call(lua, vm, name, args),
    }
}

/// Builds a VM from `moon86.new{...}` options; nested tables are dotted
/// paths. A property named twice (`ram` and `ram_size`, or `cpu = { eax = }`
/// and `["cpu.eax"] =`) is refused: table order is not defined, so which one
/// would win could change from run to run.
fn new_vm(opts: &Table) -> Result<Vm, String> {
    let mut vm = Vm::new(MachineConfig::default()).map_err(err)?;
    // The spelling each property was given under, to name both in an error.
    let mut given: Vec<(String, String)> = Vec::new();
    fn apply(
        vm: &mut Vm,
        given: &mut Vec<(String, String)>,
        prefix: &str,
        nest: &[String],
        t: &Table,
    ) -> Result<(), String> {
        for pair in t.pairs::<LuaValue, LuaValue>() {
            let (k, v) = pair.map_err(err)?;
            let LuaValue::String(k) = k else {
                return Err("moon86.new: option names are strings".into());
            };
            let key = k.to_string_lossy();
            let path = match (prefix, key.as_str()) {
                ("", "ram") => "ram_size".to_string(),
                ("", _) => key.clone(),
                _ => format!("{prefix}.{key}"),
            };
            if let LuaValue::Table(inner) = &v {
                // A table is a namespace's properties (`cpu = { eax = 1 }`);
                // as a property's value it would be taken as not given.
                if !is_namespace(&path) {
                    return Err(match lookup(&path) {
                        Ok(p) => format!(
                            "moon86.new: bad value for {path}: expected {}, got a table",
                            p.ty.name()
                        ),
                        Err(e) => format!("moon86.new: {e}"),
                    });
                }
                let mut nest = nest.to_vec();
                nest.push(key.clone());
                apply(vm, given, &path, &nest, inner)?;
                continue;
            }
            // How the script wrote it: `ram`, `cpu.eax` or `cpu = { eax }`.
            let mut spelled = key.clone();
            for k in nest.iter().rev() {
                spelled = format!("{k} = {{ {spelled} }}");
            }
            if let Some((_, first)) = given.iter().find(|(p, _)| *p == path) {
                let (a, b) = if *first <= spelled {
                    (first.as_str(), spelled.as_str())
                } else {
                    (spelled.as_str(), first.as_str())
                };
                return Err(format!(
                    "moon86.new: {path} is given twice (as '{a}' and as '{b}'); give it once"
                ));
            }
            given.push((path.clone(), spelled));
            let value = to_value(&v).map_err(|e| format!("moon86.new: {path}: {e}"))?;
            vm.set(&path, value)
                .map_err(|e| format!("moon86.new: {e}"))?;
        }
        Ok(())
    }
    apply(&mut vm, &mut given, "", &[], opts)?;
    Ok(vm)
}

fn property_list(lua: &Lua) -> mlua::Result<Table> {
    let list = lua.create_table()?;
    for p in properties() {
        let t = lua.create_table()?;
        t.set("path", p.path.as_str())?;
        t.set("type", p.ty.name())?;
        t.set("unit", p.unit)?;
        t.set("doc", p.doc.as_str())?;
        t.set(
            "settable_in",
            lua.create_sequence_from(p.settable_in.iter().map(|s| s.name()))?,
        )?;
        list.push(t)?;
    }
    Ok(list)
}

fn action_list(lua: &Lua) -> mlua::Result<Table> {
    let list = lua.create_table()?;
    for a in actions() {
        let t = lua.create_table()?;
        t.set("name", a.name)?;
        t.set(
            "args",
            lua.create_sequence_from(a.args.iter().map(|x| x.name))?,
        )?;
        t.set("returns", a.returns)?;
        t.set("named", a.takes_named_args())?;
        t.set("doc", a.doc)?;
        t.set(
            "allowed",
            lua.create_sequence_from(a.allowed.iter().map(|s| s.name()))?,
        )?;
        list.push(t)?;
    }
    Ok(list)
}

fn help(lua: &Lua, name: &LuaValue) -> Reply {
    let name = to_string(name, "help: name")?;
    if let Ok(p) = lookup(&name) {
        let access = if p.read_only() {
            "read-only".to_string()
        } else {
            format!("settable while {}", state_list(p.settable_in))
        };
        return string(
            lua,
            format!("{} ({}, {access}): {}", p.path, p.ty.name(), p.doc),
        );
    }
    let key = name.replace(':', ".");
    if let Some(a) = actions()
        .iter()
        .find(|a| a.name == key || a.name.starts_with(&format!("{key} ")))
    {
        let args: Vec<&str> = a.args.iter().map(|x| x.name).collect();
        let named = if a.takes_named_args() {
            let fields: Vec<String> = args.iter().map(|n| format!("{n} = ...")).collect();
            format!(" Or by name: {}{{ {} }}.", a.name, fields.join(", "))
        } else {
            String::new()
        };
        return string(
            lua,
            format!(
                "{}({}): {} Allowed while {}.{named}",
                a.name,
                args.join(", "),
                a.doc,
                state_list(a.allowed)
            ),
        );
    }
    Err(unknown_message(&name))
}

/// How a method is called from Lua: `vm.screen:on_text` for "screen.on_text".
fn method_call(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((owner, m)) => format!("vm.{owner}:{m}"),
        None => format!("vm:{name}"),
    }
}

fn unknown_message(path: &str) -> String {
    // `vm["screen.on_text"]`: the name is right, the spelling is not.
    if METHODS.contains(&path) {
        return format!(
            "'{path}' is a method, not a field: call it as {}(...)",
            method_call(path)
        );
    }
    let names = properties()
        .iter()
        .map(|p| p.path.as_str())
        .chain(METHODS.iter().copied());
    match nearest(path, names) {
        Some(s) if s.contains('.') && METHODS.contains(&s.as_str()) => format!(
            "unknown property or method '{path}' (did you mean {}?)",
            method_call(&s)
        ),
        Some(s) => format!("unknown property or method '{path}' (did you mean '{s}'?)"),
        None => format!(
            "unknown property or method '{path}' (vm:properties() and vm:actions() list them)"
        ),
    }
}

fn is_method_namespace(path: &str) -> bool {
    METHODS
        .iter()
        .any(|m| m.len() > path.len() && m.starts_with(path) && m.as_bytes()[path.len()] == b'.')
}

fn describe(vm: &Vm, prefix: &str) -> String {
    if !prefix.is_empty() {
        return format!("moon86.vm.{prefix}");
    }
    if vm.state() == VmState::Destroyed {
        return "moon86.vm (destroyed)".into();
    }
    format!(
        "moon86.vm ({}, ram {})",
        vm.state(),
        format_size(vm.config().ram_size)
    )
}

/// The raw table handed to `init.lua`.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let raw = lua.create_table()?;
    raw.set("version", env!("CARGO_PKG_VERSION"))?;
    raw.set("hooks_source", super::HOOKS_LUA)?;
    raw.set("traceback", super::runner::traceback_handler(lua)?)?;
    let start = std::time::Instant::now();
    raw.set(
        "clock",
        lua.create_function(move |_, ()| Ok(start.elapsed().as_secs_f64()))?,
    )?;
    raw.set(
        "duration",
        lua.create_function(|lua, v: LuaValue| {
            reply(
                lua,
                hooks::duration(&v, "duration").map(|ns| vec![LuaValue::Integer(ns as i64)]),
            )
        })?,
    )?;
    raw.set(
        "integer",
        lua.create_function(|lua, (v, what): (LuaValue, String)| {
            reply(
                lua,
                to_u64(&v, &what).map(|n| vec![LuaValue::Integer(n as i64)]),
            )
        })?,
    )?;
    raw.set(
        "pattern_error",
        lua.create_function(
            |_, (pattern, plain, what): (mlua::String, LuaValue, String)| {
                let plain = matches!(plain, LuaValue::Boolean(true));
                Ok(hooks::check_pattern(&pattern.as_bytes(), plain, &what).err())
            },
        )?,
    )?;
    raw.set(
        "methods",
        lua.create_function(|lua, ()| lua.create_sequence_from(METHODS.iter().copied()))?,
    )?;
    raw.set(
        "new",
        lua.create_function(|lua, opts: Table| {
            let r = new_vm(&opts).and_then(|vm| {
                let ud = lua.create_userdata(VmUd(vm)).map_err(err)?;
                Ok(vec![LuaValue::UserData(ud)])
            });
            reply(lua, r)
        })?,
    )?;
    raw.set(
        "kind",
        lua.create_function(|_, path: String| {
            let kind = if lookup(&path).is_ok() {
                "property"
            } else if is_namespace(&path) || is_method_namespace(&path) {
                "namespace"
            } else {
                return Ok((None, Some(unknown_message(&path))));
            };
            Ok((Some(kind), None))
        })?,
    )?;
    raw.set(
        "get",
        lua.create_function(|lua, (ud, path): (AnyUserData, String)| {
            let vm = ud.borrow::<VmUd>()?;
            let r = vm.0.get(&path).map_err(err);
            reply(
                lua,
                r.and_then(|v| Ok(vec![from_value(lua, v).map_err(err)?])),
            )
        })?,
    )?;
    raw.set(
        "set",
        lua.create_function(|lua, (ud, path, value): (AnyUserData, String, LuaValue)| {
            let mut vm = ud.borrow_mut::<VmUd>()?;
            let r = to_value(&value)
                .map_err(|e| format!("bad value for {path}: {e}"))
                .and_then(|v| vm.0.set(&path, v).map_err(err));
            reply(lua, r.map(|_| Vec::new()))
        })?,
    )?;
    raw.set(
        "call",
        lua.create_function(|lua, (ud, name, args): (AnyUserData, String, MultiValue)| {
            let mut vm = ud.borrow_mut::<VmUd>()?;
            let args: Vec<LuaValue> = args.into_iter().collect();
            reply(lua, call(lua, &mut vm.0, &name, &args))
        })?,
    )?;
    raw.set(
        "describe",
        lua.create_function(|_, (ud, prefix): (AnyUserData, String)| {
            let vm = ud.borrow::<VmUd>()?;
            Ok(describe(&vm.0, &prefix))
        })?,
    )?;
    raw.set(
        "properties",
        lua.create_function(|lua, ()| property_list(lua))?,
    )?;
    raw.set("actions", lua.create_function(|lua, ()| action_list(lua))?)?;
    raw.set(
        "help",
        lua.create_function(|lua, name: LuaValue| reply(lua, help(lua, &name)))?,
    )?;
    Ok(raw)
}
