//! The Lua front end (mlua, Lua 5.4, vendored). It builds a Lua state with
//! the `moon86` module (`lua/moon86/init.lua` over the raw bindings in
//! [`raw`]) and runs script files for the CLI. Bindings are thin: every rule
//! about states, types and ranges lives in `control/`.

mod convert;
mod raw;
mod runner;

pub use runner::{run_file, ScriptError};

use mlua::{Function, Lua, MultiValue, Table};
use std::io::Write;

/// The Lua object model, compiled into the binary.
pub const INIT_LUA: &str = include_str!("../../lua/moon86/init.lua");

/// A Lua state with `moon86` loaded as a global and for `require`.
pub fn new_lua() -> mlua::Result<Lua> {
    let lua = Lua::new();
    let raw = raw::table(&lua)?;
    let module: Table = lua.load(INIT_LUA).set_name("=moon86").call(raw)?;
    lua.globals().set("moon86", module.clone())?;
    let loaded: Table = lua.globals().get::<Table>("package")?.get("loaded")?;
    loaded.set("moon86", module)?;
    install_print(&lua)?;
    Ok(lua)
}

/// Routes `print` through Rust's stdout, so it interleaves correctly with the
/// debug console's echo (C stdio would buffer separately).
fn install_print(lua: &Lua) -> mlua::Result<()> {
    let tostring: Function = lua.globals().get("tostring")?;
    let print = lua.create_function(move |_, args: MultiValue| {
        let mut line = Vec::new();
        for (i, v) in args.into_iter().enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            let s: mlua::String = tostring.call(v)?;
            line.extend_from_slice(&s.as_bytes());
        }
        line.push(b'\n');
        let mut out = std::io::stdout().lock();
        // A closed stdout (a pipe to `head`) must not abort the script.
        let _ = out.write_all(&line);
        Ok(())
    })?;
    lua.globals().set("print", print)
}
