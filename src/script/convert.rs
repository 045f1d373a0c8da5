//! Conversions between Lua values and the control API's [`Value`], and the
//! argument readers the raw API uses. They return plain `String` messages so
//! the Lua layer can raise them at the caller's line.

use crate::control::{parse_int, Value};
use mlua::{Lua, Value as LuaValue};

pub type ArgResult<T> = Result<T, String>;

/// The name of a Lua value's type, for messages.
pub fn lua_type(v: &LuaValue) -> &'static str {
    v.type_name()
}

/// A Lua value as a control-API value. Floats must be whole numbers.
pub fn to_value(v: &LuaValue) -> ArgResult<Value> {
    Ok(match v {
        LuaValue::Nil => Value::Nil,
        LuaValue::Boolean(b) => Value::Bool(*b),
        LuaValue::Integer(i) => Value::Int(*i),
        LuaValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e18 => Value::Int(*n as i64),
        LuaValue::Number(n) => return Err(format!("expected a whole number, got {n}")),
        LuaValue::String(s) => Value::Str(s.to_string_lossy()),
        other => return Err(format!("a {} cannot be a property value", lua_type(other))),
    })
}

/// A control-API value as a Lua value.
pub fn from_value(lua: &Lua, v: Value) -> mlua::Result<LuaValue> {
    Ok(match v {
        Value::Nil => LuaValue::Nil,
        Value::Bool(b) => LuaValue::Boolean(b),
        Value::Int(i) => LuaValue::Integer(i),
        Value::Str(s) => LuaValue::String(lua.create_string(&s)?),
        Value::List(l) => LuaValue::Table(lua.create_sequence_from(l)?),
    })
}

/// An unsigned integer argument: an integer, a whole float (`1e6`) or a
/// numeric string (`"0x7c00"`).
pub fn to_u64(v: &LuaValue, what: &str) -> ArgResult<u64> {
    let n = match v {
        LuaValue::Integer(i) => *i,
        LuaValue::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 9.0e18 => *n as i64,
        LuaValue::String(s) => {
            parse_int(&s.to_string_lossy()).map_err(|e| format!("{what}: {e}"))?
        }
        LuaValue::Nil => return Err(format!("{what} is missing")),
        other => {
            return Err(format!(
                "{what} must be a non-negative integer, got {}",
                describe(other)
            ))
        }
    };
    u64::try_from(n).map_err(|_| format!("{what} must be a non-negative integer, got {n}"))
}

/// Like [`to_u64`] with an upper bound.
pub fn to_bounded(v: &LuaValue, what: &str, max: u64) -> ArgResult<u64> {
    let n = to_u64(v, what)?;
    if n > max {
        return Err(format!("{what} must be at most 0x{max:x}, got 0x{n:x}"));
    }
    Ok(n)
}

/// A string argument (file paths, byte strings).
pub fn to_bytes(v: &LuaValue, what: &str) -> ArgResult<Vec<u8>> {
    match v {
        LuaValue::String(s) => Ok(s.as_bytes().to_vec()),
        LuaValue::Nil => Err(format!("{what} is missing")),
        other => Err(format!("{what} must be a string, got {}", describe(other))),
    }
}

pub fn to_string(v: &LuaValue, what: &str) -> ArgResult<String> {
    to_bytes(v, what).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn describe(v: &LuaValue) -> String {
    match v {
        LuaValue::Number(n) => format!("number {n}"),
        LuaValue::Boolean(b) => format!("boolean {b}"),
        other => lua_type(other).to_string(),
    }
}
