//! The arguments of `vm:capture{...}` read into a [`CaptureSpec`]: `dir`
//! (required; a plain string stands for `{ dir = ... }`), `ram` as a list
//! of `{start, end}` pairs, and the `screen`, `regs` and `serial` switches
//! (default true). Only the shape is checked here; the ranges themselves
//! are checked by the control API.

use super::convert::{to_string, to_u64, ArgResult};
use super::raw::{option, options};
use crate::control::CaptureSpec;
use mlua::Value as LuaValue;

const WHAT: &str = "capture";

fn switch(v: LuaValue, name: &str) -> ArgResult<bool> {
    match v {
        LuaValue::Nil => Ok(true),
        LuaValue::Boolean(b) => Ok(b),
        other => Err(format!(
            "{WHAT}: {name} must be true or false, got a {}",
            other.type_name()
        )),
    }
}

fn ranges(v: LuaValue) -> ArgResult<Vec<(u64, u64)>> {
    let list = match v {
        LuaValue::Nil => return Ok(Vec::new()),
        LuaValue::Table(t) => t,
        other => {
            return Err(format!(
                "{WHAT}: ram must be a list of {{start, end}} pairs, got a {}",
                other.type_name()
            ))
        }
    };
    let mut out = Vec::new();
    for (i, item) in list.sequence_values::<LuaValue>().enumerate() {
        let what = format!("{WHAT}: ram[{}]", i + 1);
        let pair = match item.map_err(|e| e.to_string())? {
            LuaValue::Table(t) => t,
            LuaValue::Integer(_) | LuaValue::Number(_) => {
                return Err(format!(
                "{WHAT}: ram is a list of {{start, end}} pairs: write ram = {{ {{start, end}} }}"
            ))
            }
            other => {
                return Err(format!(
                    "{what} must be a {{start, end}} pair, got a {}",
                    other.type_name()
                ))
            }
        };
        if pair.raw_len() != 2 {
            return Err(format!(
                "{what} must be a {{start, end}} pair, got {} values",
                pair.raw_len()
            ));
        }
        let get = |n: usize| pair.raw_get::<LuaValue>(n).map_err(|e| e.to_string());
        let start = to_u64(&get(1)?, &format!("{what} start"))?;
        let end = to_u64(&get(2)?, &format!("{what} end"))?;
        out.push((start, end));
    }
    Ok(out)
}

/// Reads `vm:capture`'s argument.
pub fn spec(v: &LuaValue) -> ArgResult<CaptureSpec> {
    if let LuaValue::String(_) = v {
        return Ok(CaptureSpec::new(to_string(v, "capture: dir")?));
    }
    let opts = options(v, WHAT, &["dir", "ram", "screen", "regs", "serial"])?;
    let dir = to_string(&option(&opts, "dir"), "capture: dir")?;
    Ok(CaptureSpec {
        ram: ranges(option(&opts, "ram"))?,
        screen: switch(option(&opts, "screen"), "screen")?,
        regs: switch(option(&opts, "regs"), "regs")?,
        serial: switch(option(&opts, "serial"), "serial")?,
        ..CaptureSpec::new(dir)
    })
}
