//! The raw hook bindings: Lua arguments to hook kinds and filters, hook
//! fires and hook information to Lua tables. The callbacks themselves are
//! kept by `init.lua`, keyed by hook id; the loop that calls them (in
//! `vm:run`) is Lua too, so a callback runs while no Rust borrow of the VM
//! is held and may use the whole API.

use super::convert::{to_bounded, to_string, to_u64, ArgResult};
use crate::control::hooks::{
    AccessFilter, CpuMode, Event, Filter, FireEvent, HookId, HookInfo, HookKind, InterruptSource,
    IoDir, ModeBits,
};
use crate::control::{parse_duration, value::seconds_scaled, Vm};
use mlua::{Lua, Table, Value as LuaValue};

fn err(e: impl ToString) -> String {
    e.to_string()
}

/// The keys of a range or port table, refusing any key but `allowed`
/// (positions 1.. and names), so `{ 1, 2, 3 }` or `{ start = 1, stop = 2 }`
/// is an error instead of a range that silently drops a part.
fn table_keys(t: &Table, what: &str, positions: i64, names: &[&str], shape: &str) -> ArgResult<()> {
    let mut positional = false;
    let mut named = false;
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair.map_err(err)?;
        match &k {
            LuaValue::Integer(i) if (1..=positions).contains(i) => positional = true,
            LuaValue::String(s) if names.contains(&s.to_string_lossy().as_str()) => named = true,
            LuaValue::Integer(i) => {
                return Err(format!(
                "{what}: {shape}, not a table with an element {i} (it has more than {positions})"
            ))
            }
            other => {
                let key = match other {
                    LuaValue::String(s) => format!("'{}'", s.to_string_lossy()),
                    v => format!("a {} key", v.type_name()),
                };
                return Err(format!("{what}: {shape}, not a table with {key}"));
            }
        }
    }
    if positional && named {
        return Err(format!(
            "{what}: {shape}: give the positions or the names, not both"
        ));
    }
    Ok(())
}

/// What `on_disk` watches: nil (every transfer) or `{ drive =, lba =, dir = }`.
fn disk_target(v: &LuaValue, what: &str) -> ArgResult<HookKind> {
    let mut kind = HookKind::Disk {
        drive: None,
        first: 0,
        last: u64::MAX,
        dir: IoDir::Both,
    };
    let t = match v {
        LuaValue::Nil => return Ok(kind),
        LuaValue::Table(t) => t,
        other => {
            return Err(format!(
                "{what}: give {{ drive =, lba =, dir = }} or nil, not a {}",
                other.type_name()
            ))
        }
    };
    table_keys(
        t,
        what,
        0,
        &["drive", "lba", "dir"],
        "give { drive =, lba =, dir = }",
    )?;
    let HookKind::Disk {
        drive,
        first,
        last,
        dir,
    } = &mut kind
    else {
        unreachable!()
    };
    match t.raw_get::<LuaValue>("drive").map_err(err)? {
        LuaValue::Nil => {}
        LuaValue::Integer(i) => *drive = crate::machine::DriveId::parse(&i.to_string()),
        v => {
            let name = to_string(&v, &format!("{what}: drive"))?;
            *drive = Some(crate::machine::DriveId::parse(&name).ok_or_else(|| {
                format!("{what}: drive '{name}' is not a drive name (ide0..ide3, fd0, fd1)")
            })?);
        }
    }
    match t.raw_get::<LuaValue>("lba").map_err(err)? {
        LuaValue::Nil => {}
        LuaValue::Table(r) => {
            table_keys(
                &r,
                what,
                2,
                &[],
                "an lba range is { first, last } (inclusive)",
            )?;
            *first = to_u64(
                &r.raw_get::<LuaValue>(1).map_err(err)?,
                &format!("{what}: first sector"),
            )?;
            *last = match r.raw_get::<LuaValue>(2).map_err(err)? {
                LuaValue::Nil => *first,
                l => to_u64(&l, &format!("{what}: last sector"))?,
            };
        }
        v => {
            *first = to_u64(&v, &format!("{what}: lba"))?;
            *last = *first;
        }
    }
    if let v @ LuaValue::String(_) = t.raw_get::<LuaValue>("dir").map_err(err)? {
        *dir = match to_string(&v, &format!("{what}: dir"))?.as_str() {
            "read" => IoDir::In,
            "write" => IoDir::Out,
            "both" => IoDir::Both,
            other => {
                return Err(format!(
                    "{what}: dir must be \"read\", \"write\" or \"both\", got \"{other}\""
                ))
            }
        };
    } else if !t.raw_get::<LuaValue>("dir").map_err(err)?.is_nil() {
        return Err(format!(
            "{what}: dir must be \"read\", \"write\" or \"both\""
        ));
    }
    Ok(kind)
}

/// An address or a range: `addr`, `{ start, end }` (end exclusive),
/// `{ start = , len = }` or `{ start = , ["end"] = }`. Anything else in the
/// table is refused.
fn range(v: &LuaValue, what: &str) -> ArgResult<(u64, u64)> {
    const TOP: u64 = 1 << 32;
    const SHAPE: &str =
        "a range is { start, end } (end exclusive), { start = , len = } or { start = , [\"end\"] = }";
    match v {
        LuaValue::Table(t) => {
            table_keys(t, what, 2, &["start", "end", "len"], SHAPE)?;
            let at = |i: i64| t.raw_get::<LuaValue>(i).map_err(err);
            let key = |k: &str| t.raw_get::<LuaValue>(k).map_err(err);
            let start = match at(1)? {
                LuaValue::Nil => key("start")?,
                s => s,
            };
            if start.is_nil() {
                return Err(format!("{what}: the range has no start; {SHAPE}"));
            }
            let start = to_bounded(&start, &format!("{what}: start"), TOP - 1)?;
            let end = match at(2)? {
                LuaValue::Nil => key("end")?,
                e => e,
            };
            let len = key("len")?;
            match (end.is_nil(), len.is_nil()) {
                (false, true) => Ok((start, to_bounded(&end, &format!("{what}: end"), TOP)?)),
                (true, false) => {
                    let len = to_bounded(&len, &format!("{what}: len"), TOP)?;
                    Ok((start, start + len))
                }
                (true, true) => Err(format!("{what}: {SHAPE}")),
                (false, false) => Err(format!("{what}: give end or len, not both")),
            }
        }
        LuaValue::Nil => Err(format!("{what}: the address is missing")),
        v => {
            let a = to_bounded(v, what, TOP - 1)?;
            Ok((a, a + 1))
        }
    }
}

/// A port or `{ first, last }` (inclusive); anything else in the table is
/// refused.
fn ports(v: &LuaValue, what: &str) -> ArgResult<(u16, u16)> {
    match v {
        LuaValue::Table(t) => {
            table_keys(
                t,
                what,
                2,
                &[],
                "a port range is { first, last } (inclusive)",
            )?;
            let first: LuaValue = t.raw_get(1).map_err(err)?;
            let last: LuaValue = t.raw_get(2).map_err(err)?;
            let first = to_bounded(&first, &format!("{what}: first port"), 0xFFFF)? as u16;
            let last = if last.is_nil() {
                first
            } else {
                to_bounded(&last, &format!("{what}: last port"), 0xFFFF)? as u16
            };
            Ok((first, last))
        }
        v => {
            let p = to_bounded(v, what, 0xFFFF)? as u16;
            Ok((p, p))
        }
    }
}

/// A duration: a number of seconds or a string with a unit.
pub fn duration(v: &LuaValue, what: &str) -> ArgResult<u64> {
    match v {
        LuaValue::Integer(i) => {
            seconds_scaled(*i as f64, 1e9).ok_or_else(|| format!("{what}: {i} is not a duration"))
        }
        LuaValue::Number(n) => {
            seconds_scaled(*n, 1e9).ok_or_else(|| format!("{what}: {n} is not a duration"))
        }
        LuaValue::String(s) => {
            parse_duration(&s.to_string_lossy()).map_err(|e| format!("{what}: {e}"))
        }
        LuaValue::Nil => Err(format!("{what} is missing")),
        other => Err(format!(
            "{what} must be a duration like \"2s\", got {}",
            other.type_name()
        )),
    }
}

/// How a duration that rounded to 0 ns was given, when it was not zero
/// (`1e-12`, `"0.2ns"`); None for a real zero.
fn nonzero_duration(v: &LuaValue) -> Option<String> {
    match v {
        LuaValue::Number(n) if *n != 0.0 => Some(format!("{n:e} s")),
        LuaValue::String(s) => {
            let s = s.to_string_lossy();
            s.chars()
                .any(|c| ('1'..='9').contains(&c))
                .then(|| format!("\"{s}\""))
        }
        _ => None,
    }
}

const COMMON: &[&str] = &["size", "value", "mask", "skip", "every", "limit"];

/// The options table: kind-specific keys plus the common filters.
fn opts(lua: &Lua, v: &LuaValue, what: &str, own: &[&str]) -> ArgResult<(Filter, Table)> {
    let t = match v {
        LuaValue::Nil => return Ok((Filter::default(), lua.create_table().map_err(err)?)),
        LuaValue::Table(t) => t.clone(),
        other => {
            return Err(format!(
                "{what}: options must be a table, got {}",
                other.type_name()
            ))
        }
    };
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair.map_err(err)?;
        let key = match &k {
            LuaValue::String(s) => s.to_string_lossy(),
            _ => return Err(format!("{what}: option names are strings")),
        };
        if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
            let known: Vec<&str> = own.iter().chain(COMMON).copied().collect();
            return Err(format!(
                "{what}: unknown option '{key}' (known options: {})",
                known.join(", ")
            ));
        }
    }
    let get = |k: &str| t.raw_get::<LuaValue>(k).map_err(err);
    let num = |k: &str, max: u64| -> ArgResult<Option<u64>> {
        let v = get(k)?;
        if v.is_nil() {
            return Ok(None);
        }
        to_bounded(&v, &format!("{what}: {k}"), max).map(Some)
    };
    let filter = Filter {
        access: AccessFilter {
            size: num("size", 255)?.map(|s| s as u8),
            mask: num("mask", u32::MAX.into())?.map_or(u32::MAX, |m| m as u32),
            value: num("value", u32::MAX.into())?.map(|v| v as u32),
        },
        skip: num("skip", u64::MAX >> 1)?.unwrap_or(0),
        every: num("every", u64::MAX >> 1)?.unwrap_or(1),
        limit: num("limit", u64::MAX >> 1)?,
    };
    Ok((filter, t))
}

/// Refuses a malformed Lua pattern for `what` (a text hook or a wait),
/// naming the pattern; plain text is never checked.
pub fn check_pattern(pattern: &[u8], plain: bool, what: &str) -> ArgResult<()> {
    if plain {
        return Ok(());
    }
    super::pattern::check(pattern).map_err(|e| {
        format!(
            "{what}: the pattern {:?} is not a valid Lua pattern: {e} (give {{ plain = true }} to match it as plain text)",
            String::from_utf8_lossy(pattern)
        )
    })
}

fn flag(t: &Table, key: &str, what: &str) -> ArgResult<bool> {
    match t.raw_get::<LuaValue>(key).map_err(err)? {
        LuaValue::Nil => Ok(false),
        LuaValue::Boolean(b) => Ok(b),
        other => Err(format!(
            "{what}: {key} must be true or false, got {}",
            other.type_name()
        )),
    }
}

/// `hooks.add(kind, where, opts)`: adds a hook and returns its id.
pub fn add(lua: &Lua, vm: &mut Vm, kind: &str, target: &LuaValue, o: &LuaValue) -> ArgResult<u64> {
    let what = format!("on_{kind}");
    let (hook, filter, since) = match kind {
        "exec" => {
            let (start, end) = range(target, &what)?;
            let (f, t) = opts(lua, o, &what, &["physical"])?;
            let physical = flag(&t, "physical", &what)?;
            (
                HookKind::Exec {
                    start,
                    end,
                    physical,
                },
                f,
                None,
            )
        }
        "read" => {
            let (start, end) = range(target, &what)?;
            let (f, _) = opts(lua, o, &what, &[])?;
            (HookKind::Read { start, end }, f, None)
        }
        "write" => {
            let (start, end) = range(target, &what)?;
            let (f, t) = opts(lua, o, &what, &["pre"])?;
            let pre = flag(&t, "pre", &what)?;
            (HookKind::Write { start, end, pre }, f, None)
        }
        "io" => {
            let (first, last) = ports(target, &what)?;
            let (f, t) = opts(lua, o, &what, &["dir"])?;
            let dir = match t.raw_get::<LuaValue>("dir").map_err(err)? {
                LuaValue::Nil => IoDir::Both,
                v => match to_string(&v, &format!("{what}: dir"))?.as_str() {
                    "in" => IoDir::In,
                    "out" => IoDir::Out,
                    "both" | "inout" => IoDir::Both,
                    other => {
                        return Err(format!(
                            "{what}: dir must be \"in\", \"out\" or \"both\", got \"{other}\""
                        ))
                    }
                },
            };
            (HookKind::Io { first, last, dir }, f, None)
        }
        "disk" => {
            let (f, _) = opts(lua, o, &what, &[])?;
            (disk_target(target, &what)?, f, None)
        }
        "interrupt" => {
            let vector = match target {
                LuaValue::Nil => None,
                v => Some(to_bounded(v, &format!("{what}: vector"), 255)? as u8),
            };
            let (f, _) = opts(lua, o, &what, &[])?;
            (HookKind::Interrupt { vector }, f, None)
        }
        "mode_change" => {
            let (f, _) = opts(lua, o, &what, &[])?;
            (HookKind::ModeChange, f, None)
        }
        "serial_text" => {
            let what = "serial:on_text";
            let text = to_string(target, &format!("{what}: pattern"))?;
            let (f, t) = opts(lua, o, what, &["plain", "port", "since"])?;
            let plain = flag(&t, "plain", what)?;
            check_pattern(text.as_bytes(), plain, what)?;
            let port = match t.raw_get::<LuaValue>("port").map_err(err)? {
                LuaValue::Nil => 0,
                v => (to_u64(&v, &format!("{what}: port"))?.max(1) - 1) as usize,
            };
            let since = match t.raw_get::<LuaValue>("since").map_err(err)? {
                LuaValue::Nil => None,
                v => Some(to_u64(&v, &format!("{what}: since"))? as usize),
            };
            (HookKind::SerialText { port, text, plain }, f, since)
        }
        "screen_text" => {
            let what = "screen:on_text";
            let text = to_string(target, &format!("{what}: pattern"))?;
            let (f, t) = opts(lua, o, what, &["plain"])?;
            let plain = flag(&t, "plain", what)?;
            check_pattern(text.as_bytes(), plain, what)?;
            (HookKind::ScreenText { text, plain }, f, None)
        }
        "at" => {
            let at = duration(target, "at: time")?;
            (
                HookKind::Timer {
                    next_ns: at,
                    period_ns: None,
                },
                Filter::default(),
                None,
            )
        }
        "every" => {
            let period = duration(target, "every: period")?;
            if period == 0 {
                if let Some(given) = nonzero_duration(target) {
                    return Err(format!(
                        "every: a period of {given} is shorter than the virtual clock's resolution (1 ns)"
                    ));
                }
            }
            let now = vm.machine().map_err(err)?.now_ns();
            (
                HookKind::Timer {
                    next_ns: now.saturating_add(period),
                    period_ns: Some(period),
                },
                Filter::default(),
                None,
            )
        }
        other => return Err(format!("moon86: no hook kind '{other}'")),
    };
    let id = match since {
        Some(from) => vm.hook_add_serial_since(hook, filter, from),
        None => vm.hook_add(hook, filter),
    }
    .map_err(err)?;
    Ok(id.0)
}

fn mode_name(m: ModeBits) -> &'static str {
    match m.mode {
        CpuMode::Real => "real",
        CpuMode::Protected => "protected",
        CpuMode::Virtual8086 => "v86",
    }
}

/// The Lua table for one fire.
pub fn fire_table(lua: &Lua, hook: HookId, kind: &HookKind, ev: &FireEvent) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("id", hook.0)?;
    match ev {
        FireEvent::Machine(rec) => {
            t.set("icount", rec.icount)?;
            t.set("cs", rec.cs)?;
            t.set("eip", rec.eip)?;
            match &rec.event {
                Event::Exec { linear, physical } => {
                    t.set("kind", "exec")?;
                    let physical_hook = matches!(kind, HookKind::Exec { physical: true, .. });
                    t.set(
                        "addr",
                        if physical_hook {
                            physical.unwrap_or(*linear)
                        } else {
                            *linear
                        },
                    )?;
                    t.set("linear", *linear)?;
                    t.set("physical", *physical)?;
                }
                Event::Read { addr, size, value } => {
                    t.set("kind", "read")?;
                    t.set("addr", *addr)?;
                    t.set("size", *size)?;
                    t.set("value", *value)?;
                }
                Event::Write {
                    addr,
                    size,
                    old,
                    new,
                } => {
                    t.set("kind", "write")?;
                    t.set("addr", *addr)?;
                    t.set("size", *size)?;
                    t.set("old", *old)?;
                    t.set("new", *new)?;
                    t.set("pre", matches!(kind, HookKind::Write { pre: true, .. }))?;
                }
                Event::Io {
                    out,
                    port,
                    size,
                    value,
                } => {
                    t.set("kind", "io")?;
                    t.set("dir", if *out { "out" } else { "in" })?;
                    t.set("port", *port)?;
                    t.set("size", *size)?;
                    t.set("value", *value)?;
                }
                Event::Interrupt {
                    vector,
                    error,
                    source,
                } => {
                    t.set("kind", "interrupt")?;
                    t.set("vector", *vector)?;
                    t.set("error", *error)?;
                    t.set(
                        "source",
                        match source {
                            InterruptSource::Exception => "exception",
                            InterruptSource::Software => "software",
                            InterruptSource::External => "external",
                        },
                    )?;
                }
                Event::ModeChange { from, to } => {
                    t.set("kind", "mode_change")?;
                    t.set("from", mode_name(*from))?;
                    t.set("to", mode_name(*to))?;
                    t.set("paging_from", from.paging)?;
                    t.set("paging_to", to.paging)?;
                }
                Event::Disk {
                    drive,
                    lba,
                    count,
                    write,
                    data,
                } => {
                    t.set("kind", "disk")?;
                    t.set("data", lua.create_string(data)?)?;
                    t.set("drive", drive.to_string())?;
                    t.set("lba", *lba)?;
                    t.set("count", *count)?;
                    t.set("dir", if *write { "write" } else { "read" })?;
                }
                Event::Serial { .. } => t.set("kind", "serial")?,
            }
        }
        FireEvent::Text {
            icount,
            cs,
            eip,
            text,
            matched,
        } => {
            t.set("kind", kind.name())?;
            t.set("icount", *icount)?;
            t.set("cs", *cs)?;
            t.set("eip", *eip)?;
            t.set("text", lua.create_string(text)?)?;
            t.set("matched", *matched)?;
            if let HookKind::SerialText { text, .. } | HookKind::ScreenText { text, .. } = kind {
                t.set("pattern", text.as_str())?;
            }
        }
        FireEvent::Timer { icount, now_ns } => {
            t.set("kind", "timer")?;
            t.set("icount", *icount)?;
            t.set("now", *now_ns)?;
        }
    }
    Ok(t)
}

/// The Lua table describing a hook.
pub fn info_table(lua: &Lua, info: &HookInfo) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("id", info.id.0)?;
    t.set("kind", info.kind.name())?;
    t.set("what", info.kind.describe())?;
    t.set("enabled", info.enabled)?;
    t.set("hits", info.hits)?;
    t.set("matches", info.matches)?;
    t.set("time", info.time.as_secs_f64())?;
    Ok(t)
}

/// `hooks.take()`: the pending fires as a list of tables.
pub fn take(lua: &Lua, vm: &mut Vm) -> mlua::Result<Table> {
    let fires = vm.take_fires();
    let list = lua.create_table()?;
    for f in fires {
        let kind = match vm.hook_info(f.hook) {
            Ok(info) => info.kind,
            // Removed by an earlier callback of the same batch.
            Err(_) => continue,
        };
        list.push(fire_table(lua, f.hook, &kind, &f.event)?)?;
    }
    Ok(list)
}
