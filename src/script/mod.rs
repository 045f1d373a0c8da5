//! The Lua front end (mlua, Lua 5.4, vendored). It builds a Lua state with
//! the `moon86` module (`lua/moon86/init.lua` over the raw bindings in
//! [`raw`]) and the `moon86.test` library, and runs script and test files
//! for the CLI. Bindings are thin: every rule
//! about states, types and ranges lives in `control/`.

mod capture;
mod convert;
mod drives;
mod hooks;
mod json;
mod pattern;
mod pretty;
mod raw;
mod runner;
mod session;
mod snapshot;
mod test_file;

pub use raw::method_names;
pub use runner::{run_file, ScriptError};
pub use session::{Eval, Session};
pub use test_file::{run_test_file, TestOutcome};

use mlua::{Function, Lua, MultiValue, Table};
use std::io::Write;

/// The Lua object model, compiled into the binary.
pub const INIT_LUA: &str = include_str!("../../lua/moon86/init.lua");

/// Hooks, the run loop and the waits, loaded by `init.lua`.
pub const HOOKS_LUA: &str = include_str!("../../lua/moon86/hooks.lua");

/// The test library (`require("moon86.test")`), compiled into the binary.
pub const TEST_LUA: &str = include_str!("../../lua/moon86/test.lua");

/// Where [`new_lua`] keeps the raw table (for [`Session`]).
const RAW_KEY: &str = "moon86.raw";

/// A Lua state with `moon86` loaded as a global and for `require`, and
/// `moon86.test` loaded for `require`.
pub fn new_lua() -> mlua::Result<Lua> {
    let lua = Lua::new();
    let raw = raw::table(&lua)?;
    lua.set_named_registry_value(RAW_KEY, raw.clone())?;
    let module: Table = lua.load(INIT_LUA).set_name("=moon86").call(raw.clone())?;
    lua.globals().set("moon86", module.clone())?;
    let loaded: Table = lua.globals().get::<Table>("package")?.get("loaded")?;
    loaded.set("moon86", module)?;
    let start = std::time::Instant::now();
    let now = lua.create_function(move |_, ()| Ok(start.elapsed().as_secs_f64()))?;
    // The test library quotes strings as the hooks' messages do.
    let quote: mlua::Function = raw.get("quote")?;
    let test: Table = lua
        .load(TEST_LUA)
        .set_name("=moon86.test")
        .call((now, quote))?;
    loaded.set("moon86.test", test)?;
    install_print(&lua)?;
    Ok(lua)
}

/// Routes `print` through Rust's stdout, so it interleaves correctly with the
/// debug console's echo (C stdio would buffer separately).
fn install_print(lua: &Lua) -> mlua::Result<()> {
    install_print_to(lua, |line| {
        let mut out = std::io::stdout().lock();
        // A closed stdout (a pipe to `head`) must not abort the script.
        let _ = out.write_all(line);
    })
}

/// Makes Lua's `print` hand each line (with its newline) to `sink`.
fn install_print_to(lua: &Lua, sink: impl Fn(&[u8]) + 'static) -> mlua::Result<()> {
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
        sink(&line);
        Ok(())
    })?;
    lua.globals().set("print", print)
}
