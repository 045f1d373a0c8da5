//! Runs every `tests/lua/test_*.lua` through the `moon86` binary, as a user
//! would, and expects each to finish with status 0.

use std::path::Path;
use std::process::Command;

fn run_lua_test(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lua");
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .arg("run")
        .arg(dir.join(name))
        .output()
        .expect("the moon86 binary runs");
    assert!(
        out.status.success(),
        "{name} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn lifecycle() {
    run_lua_test("test_lifecycle.lua");
}

#[test]
fn properties() {
    run_lua_test("test_properties.lua");
}

#[test]
fn memory() {
    run_lua_test("test_memory.lua");
}

#[test]
fn execution() {
    run_lua_test("test_execution.lua");
}

#[test]
fn loaders() {
    run_lua_test("test_loaders.lua");
}

#[test]
fn board() {
    run_lua_test("test_board.lua");
}

#[test]
fn captures() {
    run_lua_test("test_captures.lua");
}

#[test]
fn snapshots() {
    run_lua_test("test_snapshots.lua");
}

#[test]
fn every_lua_test_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lua");
    let listed = include_str!("lua_scripts.rs");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("test_") && name.ends_with(".lua") {
            assert!(
                listed.contains(&format!("\"{name}\"")),
                "{name} has no #[test] in tests/lua_scripts.rs"
            );
        }
    }
}

#[test]
fn hooks() {
    run_lua_test("test_hooks.lua");
}

#[test]
fn messages() {
    run_lua_test("test_messages.lua");
}

#[test]
fn refusals() {
    run_lua_test("test_refusals.lua");
}

#[test]
fn reference() {
    run_lua_test("test_reference.lua");
}

#[test]
fn firmware_ports() {
    run_lua_test("test_firmware_ports.lua");
}

#[test]
fn drives() {
    run_lua_test("test_drives.lua");
}
