//! Runs one test file for `moon86 test`: the file's top level registers its
//! tests through the global `test` (from `lua/moon86/test.lua`), then they
//! run in order and each one's outcome comes back as a [`TestOutcome`]. An
//! error outside any test (a syntax error, a failing top level) fails the
//! whole file.

use super::new_lua;
use super::runner::{run_in, setup, ScriptError};
use mlua::{Function, Table};
use std::path::Path;

/// One test's result, as `moon86.test`'s `run()` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    pub passed: bool,
    /// Why it failed (without the location).
    pub message: Option<String>,
    /// Where it failed: the file and line of the failing call.
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Seconds.
    pub duration: f64,
}

/// Runs the tests in the file at `path`, in the order they are declared.
pub fn run_test_file(path: &Path) -> Result<Vec<TestOutcome>, ScriptError> {
    let lua = new_lua().map_err(setup)?;
    let loaded: Table = lua
        .globals()
        .get::<Table>("package")
        .and_then(|p| p.get("loaded"))
        .map_err(setup)?;
    let library: Table = loaded.get("moon86.test").map_err(setup)?;
    let test: Function = library.get("test").map_err(setup)?;
    lua.globals().set("test", test).map_err(setup)?;
    run_in(&lua, path, &[])?;

    let run: Function = library.get("run").map_err(setup)?;
    let results: Table = run
        .call(())
        .map_err(|e| ScriptError::Runtime(e.to_string()))?;
    let mut outcomes = Vec::new();
    for r in results.sequence_values::<Table>() {
        let r = r.map_err(setup)?;
        outcomes.push(TestOutcome {
            name: r.get("name").map_err(setup)?,
            passed: r.get("passed").map_err(setup)?,
            message: r.get("message").map_err(setup)?,
            file: r.get("file").map_err(setup)?,
            line: r.get("line").map_err(setup)?,
            duration: r.get("duration").map_err(setup)?,
        });
    }
    Ok(outcomes)
}
