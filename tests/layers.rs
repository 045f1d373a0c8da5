//! The rule of the house: arrows point down. The core (`x86`, `cpu`, `mem`,
//! `devices`, `machine`, `control`) never imports a front end (`script`,
//! `monitor`, `display`, `gdb`) nor Lua, and front ends reach the machine only
//! through `control`. Checked by reading the source.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn check(layer: &str, forbidden: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for (n, line) in src.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for bad in forbidden {
                assert!(
                    !code.contains(bad),
                    "{}:{}: `{bad}` breaks the layering (arrows point down)",
                    f.display(),
                    n + 1
                );
            }
        }
    }
}

const FRONT_ENDS: &[&str] = &[
    "crate::script",
    "crate::monitor",
    "crate::display",
    "crate::gdb",
    "mlua",
];

#[test]
fn core_never_reaches_up() {
    for layer in ["x86", "cpu", "mem", "devices", "machine", "control"] {
        check(layer, FRONT_ENDS);
    }
    check(
        "x86",
        &[
            "crate::cpu",
            "crate::machine",
            "crate::control",
            "crate::devices",
            "crate::mem",
        ],
    );
    check(
        "cpu",
        &[
            "crate::machine",
            "crate::control",
            "crate::devices",
            "crate::mem",
        ],
    );
    check("machine", &["crate::control"]);
}

#[test]
fn front_ends_go_through_control() {
    // The Lua layer, the command line and the monitor may name machine types that appear
    // in control's API (configurations, entry points, kernel formats) but
    // never drive the CPU, the devices or memory themselves.
    for front_end in ["script", "cli", "monitor", "gdb", "display"] {
        check(
            front_end,
            &[
                "crate::cpu",
                "crate::devices",
                "crate::mem",
                ".board",
                ".cpu.",
            ],
        );
    }
}

#[test]
fn the_monitor_reaches_lua_only_through_script() {
    // The monitor drives the VM through control and evaluates Lua through
    // script::Session; it never touches mlua or the machine itself.
    check("monitor", &["mlua", "crate::machine"]);
}

#[test]
fn gdb_and_display_stand_alone() {
    // The gdb stub and the window are front ends of their own: they know
    // neither Lua nor the command line nor each other.
    for layer in ["gdb", "display"] {
        check(
            layer,
            &[
                "crate::script",
                "crate::cli",
                "crate::monitor",
                "mlua",
                if layer == "gdb" {
                    "crate::display"
                } else {
                    "crate::gdb"
                },
            ],
        );
    }
}
