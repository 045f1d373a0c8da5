//! Runs a Lua script file for `moon86 run`: the `arg` table, `os.exit`, and
//! uncaught errors reported with their Lua traceback.

use super::new_lua;
use mlua::{Function, Lua, Value as LuaValue};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ScriptError {
    #[error("cannot read script '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    Runtime(String),
    #[error("cannot start Lua: {0}")]
    Setup(String),
}

/// The message handler for uncaught errors: the message plus a traceback.
/// (Scripts get no `debug` library: it can break the sandbox's invariants.)
pub(super) fn traceback_handler(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, e: LuaValue| {
        let msg = match &e {
            LuaValue::String(s) => s.to_string_lossy(),
            LuaValue::Error(err) => err.to_string(),
            other => other
                .to_string()
                .unwrap_or_else(|_| "(an error object without a message)".into()),
        };
        lua.traceback(Some(&msg), 1)
    })
}

pub(super) fn setup(e: mlua::Error) -> ScriptError {
    ScriptError::Setup(e.to_string())
}

/// `os.exit(code)` flushes Rust's stdout first, then ends the process.
fn install_exit(lua: &Lua) -> mlua::Result<()> {
    let exit = lua.create_function(|_, code: LuaValue| -> mlua::Result<()> {
        let status = match code {
            LuaValue::Nil | LuaValue::Boolean(true) => 0,
            LuaValue::Boolean(false) => 1,
            LuaValue::Integer(i) => i as i32,
            LuaValue::Number(n) => n as i32,
            _ => 1,
        };
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        std::process::exit(status)
    })?;
    lua.globals().get::<mlua::Table>("os")?.set("exit", exit)
}

/// Runs the script at `path` with `args` in Lua's `arg` table. Returns the
/// exit status the script finished with (0 when it simply ends).
pub fn run_file(path: &Path, args: &[String]) -> Result<i32, ScriptError> {
    let lua = new_lua().map_err(setup)?;
    run_in(&lua, path, args)?;
    Ok(0)
}

/// Runs the script at `path` in `lua` (with `os.exit` and the `arg` table
/// installed), reporting an uncaught error with its traceback.
pub(super) fn run_in(lua: &Lua, path: &Path, args: &[String]) -> Result<(), ScriptError> {
    let source = std::fs::read(path).map_err(|source| ScriptError::Read {
        path: path.to_owned(),
        source,
    })?;
    install_exit(lua).map_err(setup)?;
    let arg = lua.create_table().map_err(setup)?;
    arg.raw_set(0, path.display().to_string()).map_err(setup)?;
    for (i, a) in args.iter().enumerate() {
        arg.raw_set(i + 1, a.as_str()).map_err(setup)?;
    }
    lua.globals().set("arg", arg).map_err(setup)?;

    let chunk = lua
        .load(&source[..])
        .set_name(format!("@{}", path.display()))
        .into_function()
        .map_err(|e| match e {
            mlua::Error::SyntaxError { message, .. } => ScriptError::Syntax(message),
            other => ScriptError::Syntax(other.to_string()),
        })?;
    let handler = traceback_handler(lua).map_err(setup)?;
    let xpcall: Function = lua.globals().get("xpcall").map_err(setup)?;
    let argv: Vec<LuaValue> = args
        .iter()
        .map(|a| lua.create_string(a).map(LuaValue::String))
        .collect::<mlua::Result<_>>()
        .map_err(setup)?;
    let (ok, message): (bool, LuaValue) = xpcall
        .call((chunk, handler, mlua::MultiValue::from_vec(argv)))
        .map_err(|e| ScriptError::Runtime(e.to_string()))?;
    let _ = std::io::stdout().flush();
    if ok {
        Ok(())
    } else {
        let text = match message {
            LuaValue::String(s) => s.to_string_lossy(),
            other => format!("{other:?}"),
        };
        Err(ScriptError::Runtime(text))
    }
}
