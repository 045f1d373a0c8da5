//! `docs/monitor.md`, generated from the command table (`moon86 doc
//! --monitor`), so the reference and `help` never disagree; a test fails
//! when the committed file is stale.

use super::commands::{commands, help_text, INFO_TOPICS};

const INTRO: &str = "# The monitor

`moon86 monitor [boot options]` (the options of `moon86 boot`: `--boot-sector FILE`,
`--kernel FILE`, `-m 64M`...) boots the machine paused at its first instruction and
gives a prompt; `moon86 boot ... --monitor` does the same. A line is either a
command below or Lua, with `vm` bound to the machine as in scripts
(`vm.icount`, `vm:step()`, `vm.mem:read(0x7c00, 16)`; see `lua-api.md`).
Both are thin translations onto the same control API. The gdb stub
(`--gdb tcp::1234`, `vm:gdbserver`) is described in `gdb.md`, the SDL window
(`--display sdl`) in `display.md`.

```
$ moon86 monitor --boot-sector guests/hello/boot.bin
0000:7c00  fa                   cli
(moon86) break 0x7c15
breakpoint 1 at 0x7c15
(moon86) cont
breakpoint 1: exec at 0x7c15 (icount 10, by 0000:7c15)
0000:7c15  ac                   lodsb [si]
(moon86) vm.cpu:regs().esi
0x7c28 (31784)
(moon86) x/s 0x7c28
00007c28: \"Hello from moon86!\\r\\n\"
```

## Input

- **Commands or Lua.** A line whose first word is a command (or an alias) is
  that command, unless what follows reads as Lua (`x = 5`, `step(1)`, `c.f`).
  Anything else is Lua: an expression prints its value (tables expanded,
  integers of 256 and more in hex with the decimal beside, binary strings as
  hex bytes), a statement runs. An unfinished chunk (`function f()`) continues
  on a `...` prompt; Ctrl-C discards it.
- **Typos** get a suggestion (`inf registers`: did you mean 'info'?); a bad
  address, format or count says what was wrong and shows the usage. Nothing
  typed stops the monitor; guest faults stay guest exceptions.
- **Completion** (Tab): commands, `info` topics, `help` topics, property paths
  after `get`/`set`, and in Lua `vm.` paths one level at a time (`vm.cp` gives
  the `cpu` namespace, then its registers) and methods (`vm:step(`, `vm.mem:read(`).
- **Completion** also offers `$` registers in addresses (`x/4xw $es` gives
  `$es`, `$esi`, `$esp`).
- **History** is kept in `$XDG_STATE_HOME/moon86/history`, else
  `~/.moon86_history`; `--history FILE` chooses another. A transcript
  neither reads nor writes it.

## Running and stopping

At a terminal `cont` returns to the prompt at once and the guest runs while
you type: `info registers`, `x`, `stop` and Lua reads answer between slices
of execution (each a fraction of a millisecond to a few milliseconds), and
virtual time is paced to the wall clock. Ctrl-C stops the guest, not the
monitor. A breakpoint or watchpoint that fires prints the event and the
instruction the guest stopped at, and the prompt comes back with the guest
paused. Guest output on COM1 and the debug console (with `--serial stdio`,
`--debugcon stdio`, the defaults; the firmware's debug port 0x402 with
`--biosdebug stdio`) is printed as it arrives; the terminal is
the monitor's, so input for the guest goes through Lua
(`vm.serial:write(\"ls\\n\")`, `vm.keyboard:type(\"dir\\n\")`) or `sendkey`.

Breakpoints and watchpoints are hooks in the VM's one hook table, the one
Lua's `vm:on_exec` and friends use: `info hooks` lists both, `delete` removes
either. When the monitor runs the guest, Lua hooks' callbacks run as in
`vm:run`; a Lua `vm:run()` typed at the prompt ignores the monitor's own
hooks (they have no Lua callback).

**Transcripts.** When standard input is not a terminal (`moon86 monitor
--kernel k < commands.txt`), the monitor reads the lines in order, echoes each
after the prompt, and exits at the end of input, so a session can be replayed
in CI. There `cont` waits until the guest stops (a breakpoint or watchpoint,
the guest halting or going idle, or the `cont` limit), which keeps a transcript
deterministic; `cont &` runs the guest in the background as at a terminal
until `stop`. The exit status is 1 when any line failed, else 0.

## Commands

";

/// The whole of `docs/monitor.md`.
pub fn monitor_markdown() -> String {
    let mut s = String::from(INTRO);
    s += "| command | what it does | example |\n|---|---|---|\n";
    for c in commands() {
        s += &format!(
            "| `{}` | {} | `{}` |\n",
            c.usage().replace('|', "\\|"),
            c.summary,
            c.example
        );
    }
    s += "\n";
    for c in commands() {
        s += &format!("### {}\n\n```\n{}\n```\n\n", c.name, help_text(c));
    }
    s += "### info topics\n\n";
    for (t, what) in INFO_TOPICS {
        s += &format!("- `info {t}`: {what}\n");
    }
    s
}
