//! `docs/lua-api.md` is generated from the property and action tables; this
//! test fails when the committed file is stale.

#[test]
fn lua_api_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lua-api.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = moon86::control::docs::lua_api_markdown();
    assert!(
        committed == generated,
        "docs/lua-api.md is stale: regenerate it with `cargo run -- doc > docs/lua-api.md`"
    );
}

#[test]
fn monitor_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/monitor.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = moon86::monitor::docs::monitor_markdown();
    assert!(
        committed == generated,
        "docs/monitor.md is stale: regenerate it with `cargo run -- doc --monitor > docs/monitor.md`"
    );
}
