//! JSON values from the control API (such as [`Registers::to_json`]) as Lua
//! values: objects become tables with string keys, arrays sequences,
//! integers integers. The control API names the fields once; this is the
//! only conversion.
//!
//! [`Registers::to_json`]: crate::control::Registers::to_json

use mlua::{Lua, Value as LuaValue};
use serde_json::Value as Json;

pub fn to_lua(lua: &Lua, v: &Json) -> mlua::Result<LuaValue> {
    Ok(match v {
        Json::Null => LuaValue::Nil,
        Json::Bool(b) => LuaValue::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => LuaValue::Integer(i),
            (None, Some(f)) => LuaValue::Number(f),
            (None, None) => LuaValue::Nil,
        },
        Json::String(s) => LuaValue::String(lua.create_string(s)?),
        Json::Array(items) => {
            let t = lua.create_table()?;
            for item in items {
                t.push(to_lua(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        Json::Object(fields) => {
            let t = lua.create_table()?;
            for (k, item) in fields {
                t.set(k.as_str(), to_lua(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
    })
}
