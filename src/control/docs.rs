//! Generates `docs/lua-api.md` from the property and action tables, so the
//! reference can never drift from the code (a test compares the committed
//! file with this output).

use super::action::actions;
use super::property::properties;
use super::state::state_list;

/// The Lua API reference as Markdown.
pub fn lua_api_markdown() -> String {
    let mut out = String::new();
    out.push_str("# moon86 Lua API reference\n\n");
    out.push_str(
        "<!-- Generated from the property and action tables in src/control/. Do not edit:\n",
    );
    out.push_str("     run `cargo run -- doc > docs/lua-api.md` after changing a table. -->\n\n");
    out.push_str(
        "A script creates a VM with `local vm = moon86.new{ ram_size = \"16M\" }` (any settable \
property may be given; `ram` is short for `ram_size`). Properties are fields: `vm.ram_size`, \
`vm.cpu.eax`, `vm.cpu.cs.base`. Actions are methods: `vm:power_on()`, `vm.mem:read(0x7c00, 16)`. \
`vm:properties()` and `vm:actions()` list both tables at run time, and `vm:help(name)` returns \
one entry's documentation.\n\n",
    );
    out.push_str("## Lifecycle\n\n");
    out.push_str("```text\noff --power_on--> paused --resume--> running --pause--> paused\n");
    out.push_str(
        "paused/running/halted --power_off--> off\npaused/running/halted --reset--> paused\n",
    );
    out.push_str("the guest stops itself (HLT with IF=0, shutdown, exit port) --> halted\n");
    out.push_str("any --destroy--> destroyed\n```\n\n");
    out.push_str("Every property can be read in every state but `destroyed`, where only `state` can be read (any other read fails with an error saying the VM has been destroyed). A set or an action in a state that does not allow it fails with an error naming the current state and the states that allow it.\n\n");

    out.push_str("## Properties\n\n");
    out.push_str("| path | type | unit | settable while | description |\n|---|---|---|---|---|\n");
    for p in properties() {
        let settable = if p.read_only() {
            "read-only".to_string()
        } else {
            state_list(p.settable_in)
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            p.path,
            p.ty.name(),
            p.unit,
            settable,
            p.doc.replace('|', "\\|")
        ));
    }

    out.push_str("\n## Actions\n\n");
    for a in actions() {
        let args: Vec<&str> = a.args.iter().map(|x| x.name).collect();
        out.push_str(&format!("### `{}({})`\n\n", a.name, args.join(", ")));
        out.push_str(&format!("{}\n\n", a.doc));
        if a.takes_named_args() {
            let named: Vec<String> = args.iter().map(|n| format!("{n} = ...")).collect();
            out.push_str(&format!(
                "The arguments go in this order, or in one table by name: `vm:{}{{ {} }}` (optional ones may be left out).\n\n",
                a.name,
                named.join(", ")
            ));
        }
        for x in a.args {
            out.push_str(&format!("- `{}` ({}): {}\n", x.name, x.ty, x.doc));
        }
        if !a.returns.is_empty() {
            out.push_str(&format!("- returns: {}\n", a.returns));
        }
        out.push_str(&format!("- allowed while: {}\n\n", state_list(a.allowed)));
    }
    out
}
