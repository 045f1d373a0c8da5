//! The action table: every operation on a VM declared once, with its
//! arguments, what it returns, its documentation and the states in which it
//! is allowed. Each `Vm` method starts by asking [`Vm::guard`] with its
//! [`Action`], so the table is the single source of truth for the lifecycle
//! rules, for introspection and for `docs/lua-api.md`.

use super::state::VmState;
use super::vm::Vm;
use super::ControlError;

/// One argument of an action.
#[derive(Debug)]
pub struct ArgDef {
    pub name: &'static str,
    pub ty: &'static str,
    pub doc: &'static str,
}

/// One row of the action table.
#[derive(Debug)]
pub struct ActionDef {
    pub action: Action,
    /// The name scripts use: `power_on`, `mem.read`.
    pub name: &'static str,
    pub args: &'static [ArgDef],
    pub returns: &'static str,
    pub doc: &'static str,
    pub allowed: &'static [VmState],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    PowerOn,
    PowerOff,
    Reset,
    Pause,
    Resume,
    Step,
    Run,
    Destroy,
    LoadRaw,
    LoadRom,
    LoadBios,
    LoadOptionRom,
    LoadBootSector,
    LoadLinux,
    LoadMultiboot,
    MemRead,
    MemWrite,
    MemReadInt,
    MemWriteInt,
    MemDump,
    DebugconText,
    DebugconClear,
    BiosdebugText,
    BiosdebugClear,
    SerialRead,
    SerialText,
    SerialWrite,
    ScreenText,
    KeyboardSend,
    KeyboardType,
    KeyboardPress,
    OnExec,
    OnRead,
    OnWrite,
    OnIo,
    OnDisk,
    OnInterrupt,
    OnModeChange,
    SerialOnText,
    ScreenOnText,
    At,
    Every,
    Hooks,
    HookControl,
    SerialExpect,
    ScreenWaitText,
    ScreenPng,
    CpuRegs,
    Capture,
    SaveState,
    RestoreState,
    Snapshot,
    Restore,
    GdbServer,
    AttachDrive,
    Drives,
    CdromEject,
    CdromInsert,
    DiskRead,
    DiskSave,
    DiskCommit,
}

const fn arg(name: &'static str, ty: &'static str, doc: &'static str) -> ArgDef {
    ArgDef { name, ty, doc }
}

use VmState::{Halted, Off, Paused, Running};

const HOOK_WHERE: ArgDef = arg(
    "where",
    "address or range",
    "an address, or { start, end } (end exclusive), or { start =, len = }",
);
const HOOK_FN: ArgDef = arg(
    "fn",
    "function",
    "the callback: return false to stop the run there",
);
const HOOK_OPTS: ArgDef = arg(
    "opts",
    "table",
    "filters: size, value, mask, skip, every, limit",
);
const WRITABLE_MEM: &[VmState] = &[Off, Paused, Halted];
const DRIVE_ARG: ArgDef = arg(
    "drive",
    "string",
    "\"ide0\"..\"ide3\" or 0-3, or a floppy drive \"fd0\"/\"fd1\" (optional: the first CD-ROM drive)",
);
const DISK_ARG: ArgDef = arg(
    "drive",
    "string",
    "\"ide0\"..\"ide3\" (or 0-3), \"fd0\", \"fd1\"",
);

static ACTIONS: &[ActionDef] = &[
    ActionDef { action: Action::PowerOn, name: "power_on", args: &[], returns: "",
        doc: "Power the machine on. It stays paused, at its entry point, until `run` or `step`.",
        allowed: &[Off] },
    ActionDef { action: Action::PowerOff, name: "power_off", args: &[], returns: "",
        doc: "Power the machine off: RAM is cleared, the CPU and devices return to their power-on state and the loaded images are put back, ready for the next `power_on`.",
        allowed: VmState::POWERED },
    ActionDef { action: Action::Reset, name: "reset", args: &[], returns: "",
        doc: "Reset the machine as the RESET line does: CPU and devices to their power-on state, RAM kept, loaded images put back with their entry point. Leaves it paused.",
        allowed: VmState::POWERED },
    ActionDef { action: Action::Pause, name: "pause", args: &[], returns: "",
        doc: "Stop a running machine at the next instruction boundary.",
        allowed: &[Paused, Running] },
    ActionDef { action: Action::Resume, name: "resume", args: &[], returns: "",
        doc: "Mark a paused machine running. Execution happens in `run` (scripts) or in a front end's loop (monitor, window).",
        allowed: &[Paused] },
    ActionDef { action: Action::Step, name: "step", args: &[arg("count", "integer", "instructions to execute (default 1)")], returns: "stop reason",
        doc: "Execute `count` instructions and stay paused. Returns why it stopped, as `run` does.",
        allowed: &[Paused] },
    ActionDef { action: Action::Run, name: "run", args: &[
            arg("instructions", "integer", "budget of instructions (default: no limit); or a table { instructions =, until =, timeout =, wall_timeout =, poll = }")], returns: "stop reason",
        doc: "Execute until the budget is spent, the guest stops itself, a hook callback returns false, `until()` returns true (checked after hook callbacks and every `poll` of virtual time, default 1ms), or `timeout` of virtual time (\"5s\", \"100ms\") passes; `wall_timeout` stops a runaway script by host time. Hooks fire during the run. Returns \"budget\", \"halted\" (HLT with interrupts off), \"exit\" (exit port), \"shutdown\" (triple fault), \"reset\" (the guest asked for a reset: 8042 command 0xFE or port 0x92), \"idle\" (HLT with interrupts on and nothing to wake the CPU), \"paused\", \"hook\" (a callback returned false), \"until\", \"timeout\" or \"wall_timeout\".",
        allowed: &[Paused, Running] },
    ActionDef { action: Action::Destroy, name: "destroy", args: &[], returns: "",
        doc: "Release the machine and its memory. Every later call fails.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::LoadRaw, name: "load_raw", args: &[
            arg("path", "string", "file to load"),
            arg("addr", "integer", "physical load address"),
            arg("cs", "integer", "entry code segment (optional)"),
            arg("ip", "integer", "entry offset (optional, default 0 when cs is given)")], returns: "",
        doc: "Copy a raw binary into RAM at `addr` and, when `cs` or `ip` is given, set the real-mode entry point. Put back on reset and power-off.",
        allowed: &[Off, Paused] },
    ActionDef { action: Action::LoadRom, name: "load_rom", args: &[arg("path", "string", "ROM image, a multiple of 2 KiB")], returns: "",
        doc: "Map a firmware ROM read-only at the top of the 4 GiB space and (its last 128 KiB) just below 1 MiB; the CPU starts at the reset vector F000:FFF0.",
        allowed: &[Off, Paused] },
    ActionDef { action: Action::LoadBios, name: "load_bios", args: &[
            arg("path", "string", "the firmware image (SeaBIOS's bios.bin, Bochs's BIOS-bochs-legacy), a multiple of 2 KiB"),
            arg("vga", "string", "a VGA BIOS for the firmware to run (optional; SeaBIOS reads it as the fw_cfg file vgaroms/NAME)")], returns: "",
        doc: "Load PC firmware, as QEMU's `-bios`: the image read-only at the top of the 4 GiB space, where the CPU starts (F000:FFF0), and its last 128 KiB copied into writable shadow RAM below 1 MiB. The board gives the firmware QEMU's fw_cfg interface (ports 0x510/0x511: the RAM layout as etc/e820, and the VGA BIOS) and the reset register at 0xCF9. Put back on reset and power-off.",
        allowed: &[Off, Paused] },
    ActionDef { action: Action::LoadOptionRom, name: "load_option_rom", args: &[
            arg("path", "string", "an option ROM: 512 bytes to 128 KiB starting with 55 AA (a VGA BIOS such as the vgabios package's vgabios.bin)"),
            arg("addr", "integer", "where it goes, 2 KiB aligned in 0xC0000-0xEFFFF (optional: 0xC0000 for the first, after the previous one otherwise)")], returns: "",
        doc: "Copy an option ROM into the shadow RAM, as QEMU's `-option-rom`, where a BIOS's scan of 0xC0000-0xEFFFF runs it (Bochs's BIOS; SeaBIOS takes its VGA BIOS from `load_bios`). Put back on reset and power-off.",
        allowed: &[Off, Paused] },
    ActionDef { action: Action::LoadBootSector, name: "load_boot_sector", args: &[arg("path", "string", "512-byte boot sector ending in 55 AA")], returns: "",
        doc: "Copy a boot sector to 0000:7C00 and enter it there with DL = 0x80 (first hard disk), DS = ES = SS = 0 and SP = 0x7C00.",
        allowed: &[Off, Paused] },
    ActionDef { action: Action::LoadLinux, name: "load_linux", args: &[
            arg("kernel", "string", "a Linux bzImage (boot protocol 2.02 or later)"),
            arg("initrd", "string", "an initial RAM disk (optional)"),
            arg("cmdline", "string", "the kernel command line (optional)")], returns: "",
        doc: "Load a Linux kernel by the 32-bit boot protocol: the protected-mode kernel at 1 MiB, the initrd as high as the kernel allows, a zero page with the setup header and an e820 map; entry at 1 MiB in flat protected mode with ESI pointing at the zero page. After `load_bios`, the kernel goes to the firmware instead, as with QEMU's `-bios` and `-kernel`: through fw_cfg, with moon86's Linux loader option ROM first in the boot order, which the BIOS boots after its POST and which enters the kernel's real-mode setup code.",
        allowed: &[Off, Paused] },
    ActionDef { action: Action::LoadMultiboot, name: "load_multiboot", args: &[
            arg("kernel", "string", "a Multiboot (v1) kernel, ELF or with load addresses"),
            arg("cmdline", "string", "the kernel command line (optional)"),
            arg("modules", "table", "module paths, or { path = ..., cmdline = ... } tables (optional)")], returns: "",
        doc: "Load a Multiboot kernel with its modules (page-aligned after the kernel) and the Multiboot information structure; entry in flat protected mode with EAX = 0x2BADB002 and EBX pointing at the information.",
        allowed: &[Off, Paused] },
    ActionDef { action: Action::MemRead, name: "mem.read", args: &[arg("addr", "integer", "physical address"), arg("len", "integer", "byte count")], returns: "string",
        doc: "Read guest physical memory (RAM or ROM) as a byte string.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::MemWrite, name: "mem.write", args: &[arg("addr", "integer", "physical address"), arg("data", "string", "bytes to write")], returns: "",
        doc: "Write a byte string into guest RAM. Fails, writing nothing, if the range leaves RAM or touches ROM.",
        allowed: WRITABLE_MEM },
    ActionDef { action: Action::MemReadInt, name: "mem.read_u8 / read_u16 / read_u32", args: &[arg("addr", "integer", "physical address")], returns: "integer",
        doc: "Read a little-endian unsigned integer from guest physical memory.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::MemWriteInt, name: "mem.write_u8 / write_u16 / write_u32", args: &[arg("addr", "integer", "physical address"), arg("value", "integer", "value")], returns: "",
        doc: "Write a little-endian unsigned integer into guest RAM.",
        allowed: WRITABLE_MEM },
    ActionDef { action: Action::MemDump, name: "mem.dump", args: &[arg("addr", "integer", "physical address"), arg("len", "integer", "byte count"), arg("path", "string", "output file")], returns: "",
        doc: "Write a range of guest physical memory to a file. The range is checked first and a regular file is written whole or not at all. A symlink is followed (its target is written, the link stays); a device or FIFO is written through, never replaced.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::DebugconText, name: "debugcon.text", args: &[], returns: "string",
        doc: "Everything the guest wrote to the debug console (port 0xE9) since power-on or the last clear.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::DebugconClear, name: "debugcon.clear", args: &[], returns: "",
        doc: "Forget the debug console text collected so far.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::BiosdebugText, name: "biosdebug.text", args: &[], returns: "string",
        doc: "Everything the guest wrote to the firmware's debug port 0x402 since power-on or the last clear: SeaBIOS's and Bochs's BIOS log (QEMU's `isa-debugcon` at that port). `moon86 boot --biosdebug` writes it out as it arrives.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::BiosdebugClear, name: "biosdebug.clear", args: &[], returns: "",
        doc: "Forget the firmware debug text (port 0x402) collected so far.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::SerialRead, name: "serial.read", args: &[], returns: "string",
        doc: "What the guest wrote to COM1 since the previous `serial.read`.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::SerialText, name: "serial.text", args: &[], returns: "string",
        doc: "Everything the guest wrote to COM1 since power-on.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::SerialWrite, name: "serial.write", args: &[arg("data", "string", "bytes for the guest")], returns: "",
        doc: "Queue bytes for the guest to receive on COM1; they enter the UART's FIFO as the guest drains it, so none is lost.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::KeyboardSend, name: "keyboard.send", args: &[arg("scancodes", "string", "scancode set 2 bytes, e.g. \"\\x1c\\xf0\\x1c\" for a press and release of A")], returns: "",
        doc: "Queue scancodes (set 2) at the 8042 keyboard controller. They reach the guest one byte at a time, each after the previous one was read from port 0x60, translated to set 1 when the controller's command byte asks for it.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::ScreenText, name: "screen.text", args: &[], returns: "list of strings",
        doc: "The VGA text screen (80x25 at 0xB8000, from the CRTC start address) as lines, trailing spaces trimmed.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::KeyboardType, name: "keyboard.type", args: &[arg("text", "string", "text to type: printable ASCII, \\n (Enter), \\t (Tab), \\b (Backspace), \\27 (Esc)")], returns: "",
        doc: "Type text on the keyboard: each character becomes its key presses and releases (with Shift where needed), queued at the keyboard controller and delivered as the guest reads them, so none is dropped or repeated.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::KeyboardPress, name: "keyboard.press", args: &[arg("keys", "string", "a key combination: \"ctrl+alt+del\", \"enter\", \"shift+f1\", \"a\"; the plus key is \"+\" alone or last (\"ctrl++\"), and any other empty name is refused")], returns: "",
        doc: "Press a key combination: the modifiers go down in order, the key is pressed and released, then the modifiers come up in reverse order.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::OnExec, name: "on_exec", args: &[HOOK_WHERE, HOOK_FN, arg("opts", "table", "{ physical = true } for physical addresses; the common filters")], returns: "hook",
        doc: "Call `fn(ev)` before an instruction whose first byte is in `where` (linear addresses, CS base + EIP, unless `physical`) runs, with the registers as they are then. `ev`: kind, addr, physical, cs, eip, icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::OnRead, name: "on_read", args: &[HOOK_WHERE, HOOK_FN, HOOK_OPTS], returns: "hook",
        doc: "Call `fn(ev)` after a CPU read that touches the physical range `where`, before the next instruction. `ev`: kind, addr, size, value, cs, eip (of the reading instruction), icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::OnWrite, name: "on_write", args: &[HOOK_WHERE, HOOK_FN, arg("opts", "table", "{ pre = true } to see memory before the write and return a replacement value; the common filters")], returns: "hook",
        doc: "Call `fn(ev)` after a CPU write that touches the physical range `where` is visible, before the next instruction. `ev`: kind, addr, size, old, new, cs, eip (of the writing instruction), icount. With `pre = true` memory still holds `old` during the callback, and a number returned is written instead of `new`.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::OnIo, name: "on_io", args: &[arg("ports", "port or range", "a port, or { first, last } inclusive"), HOOK_FN, arg("opts", "table", "{ dir = \"in\" | \"out\" }; the common filters")], returns: "hook",
        doc: "Call `fn(ev)` after an IN or OUT on the ports. `ev`: kind, dir, port, size, value, cs, eip, icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::OnDisk, name: "on_disk", args: &[arg("which", "table", "{ drive = \"ide0\" | \"fd0\" ... (default any), lba = sector or { first, last } inclusive (default any), dir = \"read\" | \"write\" (default both) }, or nil for every transfer"), HOOK_FN, arg("opts", "table", "skip, every, limit")], returns: "hook",
        doc: "Call `fn(ev)` after a drive's controller transferred sectors for the guest (an ATA or ATAPI command's data, a floppy read or write) that overlap `lba`, before the next instruction. The host's own `disk.read` and `disk.save` are not seen. `ev`: kind, drive (\"ide0\"...), lba, count, dir (\"read\" or \"write\"), data (the sectors' bytes as read or written, up to 16 MiB), cs, eip (of the instruction whose port access finished the transfer), icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::OnInterrupt, name: "on_interrupt", args: &[arg("vector", "integer", "0-255, or nil for every vector"), HOOK_FN, HOOK_OPTS], returns: "hook",
        doc: "Call `fn(ev)` when the CPU has delivered an interrupt or exception, at its handler's first instruction. `ev`: kind, vector, error (error code, if pushed), source (\"exception\", \"software\", \"external\"), cs, eip, icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::OnModeChange, name: "on_mode_change", args: &[HOOK_FN, HOOK_OPTS], returns: "hook",
        doc: "Call `fn(ev)` after the instruction (or interrupt) that changed the CPU mode: real, protected or v86, paging on or off. `ev`: kind, from, to (\"real\", \"protected\", \"v86\"), paging_from, paging_to, cs, eip, icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::SerialOnText, name: "serial.on_text", args: &[arg("pattern", "string", "a Lua pattern, or plain text with { plain = true }"), HOOK_FN, arg("opts", "table", "{ plain = true, port = 1 | 2 }; skip, every, limit")], returns: "hook",
        doc: "Call `fn(ev)` when the guest's serial output matches, right after the instruction that wrote the last byte of the match. Each match consumes the text up to its end; the window is the last 4 KiB since the previous match. `ev`: kind, text (the match), captures, icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::ScreenOnText, name: "screen.on_text", args: &[arg("pattern", "string", "a Lua pattern, or plain text with { plain = true }"), HOOK_FN, arg("opts", "table", "{ plain = true }; skip, every, limit")], returns: "hook",
        doc: "Call `fn(ev)` when the text screen (lines joined with \\n) comes to match: it is looked at every 10 ms of virtual time when it changed, and a match fires once until the text leaves the screen. `ev`: kind, text, captures, icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::At, name: "at", args: &[arg("time", "duration", "virtual time since power-on: \"2s\", \"150ms\", or seconds as a number"), HOOK_FN], returns: "hook",
        doc: "Call `fn(ev)` once when virtual time reaches `time` (at once, at the next instruction boundary, if it has passed). `ev`: kind, now (virtual ns), icount.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::Every, name: "every", args: &[arg("period", "duration", "\"100ms\", or seconds as a number"), HOOK_FN], returns: "hook",
        doc: "Call `fn(ev)` every `period` of virtual time, first one period from now. A guest asleep in HLT past several periods gets one call.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::Hooks, name: "hooks", args: &[], returns: "list of hooks",
        doc: "Every hook, in registration order.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::HookControl, name: "hook:enable / disable / remove", args: &[], returns: "",
        doc: "A hook handle's methods: `enable`, `disable` and `remove` take effect at the next instruction. Its fields: id, kind, what, enabled, hits (callbacks made), matches, time (seconds spent in the callback).",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::SerialExpect, name: "serial.expect", args: &[arg("pattern", "string", "a Lua pattern (or plain text with { plain = true })"), arg("opts", "table", "{ timeout = \"30s\" (virtual), wall_timeout =, plain =, port = }")], returns: "match, captures",
        doc: "Run the guest until the serial output since the previous expect matches, and return the match and its captures; the text up to the match's end is consumed. Raises an error with the recent output on a timeout or if the guest stops first.",
        allowed: &[Paused, Running] },
    ActionDef { action: Action::ScreenWaitText, name: "screen.wait_text", args: &[arg("pattern", "string", "a Lua pattern (or plain text with { plain = true })"), arg("opts", "table", "{ timeout = \"30s\" (virtual), wall_timeout =, plain = }")], returns: "match, captures",
        doc: "Run the guest until the text screen matches (at once if it does now), and return the match and its captures. Raises an error with the screen on a timeout or if the guest stops first.",
        allowed: &[Paused, Running] },
    ActionDef { action: Action::ScreenPng, name: "screen.png", args: &[arg("path", "string", "output file")], returns: "",
        doc: "Write the screen as a PNG, as a VGA monitor shows text mode: 720x400 (9x16 cells; 640x400 when the guest selects 8-dot characters) with moon86's own VGA-style font, the attribute colours through the palette registers and the DAC, blinking characters in their visible phase and the cursor drawn. Code page 437 box drawing, shades and blocks are drawn; other non-ASCII codes show as a hollow box. A regular file is written whole or not at all. A symlink is followed (its target is written, the link stays); a device or FIFO is written through, never replaced.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::CpuRegs, name: "cpu.regs", args: &[], returns: "table",
        doc: "Every register at once: `eax`..`edi`, `eip`, `eflags`, the selectors `cs`..`gs`, `segs.cs` = `{selector, base, limit, access}` for each segment register, `ldtr` and `tr` alike, `cr0`, `cr2`, `cr3`, `cr4`, `gdtr` and `idtr` as `{base, limit}`, `cpl`, `mode` (\"real\", \"protected\" or \"v86\"), `paging`, `halted` and `icount`. `regs.json` in a capture bundle has the same fields.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::Capture, name: "capture", args: &[arg("options", "table", "{ dir = path, ram = { {start, end}, ... }, screen = bool, regs = bool, serial = bool }, or just the directory as a string")], returns: "string",
        doc: "Write a bundle into a new directory `dir/capture-<icount, 12 digits>` (`-2`, `-3`... appended when taken, so captures never overwrite each other) and return its path: `screen.png`, `regs.json` (as `cpu:regs()`), `serial.log` (all COM1 output) and `ram-<start>-<end>.bin` per physical range (end exclusive, hex). `dir` is created when missing; `screen`, `regs` and `serial` default to true, `ram` to none. Ranges are checked before anything is written (end above start, inside guest memory, 4 GiB in all), and the bundle appears whole or not at all.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::SaveState, name: "save_state", args: &[arg("path", "string", "file to write")], returns: "",
        doc: "Save the whole machine (CPU with FPU, MSRs and TLB; RAM and ROM; every device; the virtual clock and pending events; icount; the serial logs; the halt reason) to a file; a regular file is written whole or not at all, a symlink is followed, a device or FIFO is written through and never replaced. RAM pages that are all zero are not stored and the rest is compressed. Host-side settings (echo) and the loaded images are not saved.",
        allowed: VmState::POWERED },
    ActionDef { action: Action::RestoreState, name: "restore_state", args: &[arg("path", "string", "file written by save_state")], returns: "",
        doc: "Put back a state saved by `save_state`; the run continues exactly as it would have from there. Refused, leaving the VM as it was, when the file is not a snapshot, is of another format version, is truncated or damaged, or was taken on a VM configured differently (ram_size, cpu_model, exit_port, ips, rtc_start, the drives). Leaves the VM paused, or halted if it was saved halted.",
        allowed: VmState::POWERED },
    ActionDef { action: Action::Snapshot, name: "snapshot", args: &[], returns: "snapshot",
        doc: "Take the whole machine's state in memory, as `save_state` would save it, and return it as a snapshot object for `restore` (its fields `icount` and `ram_size` say when and where it was taken).",
        allowed: VmState::POWERED },
    ActionDef { action: Action::Restore, name: "restore", args: &[arg("snapshot", "snapshot", "taken by snapshot()")], returns: "",
        doc: "Put back a snapshot taken by `snapshot` (the same one any number of times). Refused, leaving the VM as it was, when it was taken on a VM configured differently. Leaves the VM paused, or halted if it was taken halted.",
        allowed: VmState::POWERED },
    ActionDef { action: Action::GdbServer, name: "gdbserver", args: &[arg("addr", "integer or string", "a TCP port on 127.0.0.1 (0 picks a free one), or \"tcp:HOST:PORT\"")], returns: "string",
        doc: "Serve one gdb session (`target remote :PORT` in gdb): listen, say where on stderr, accept one connection and let gdb drive the VM until it detaches, kills the target or the guest stops for good. Blocks meanwhile. gdb's breakpoints and watchpoints are hooks in the VM's hook table (`vm:hooks()` lists them during the session; they are removed when it ends); other hooks' callbacks do not run while gdb drives the VM. Returns \"detached\", \"killed\", \"exited\", \"terminated\" or \"disconnected\". See docs/gdb.md.",
        allowed: VmState::POWERED },
    ActionDef { action: Action::AttachDrive, name: "attach_drive", args: &[
            arg("file", "string", "the image: raw sectors (a CD-ROM's an ISO 9660 image; nil for an empty CD-ROM drive)"),
            arg("index", "integer", "IDE position 0-3: primary master, primary slave, secondary master, secondary slave (default 0, or 2 for a CD-ROM); floppy 0 (A:) or 1 (B:)"),
            arg("media", "string", "\"disk\" (default), \"cdrom\" or \"floppy\" (a 160K to 2.88M image; a smaller one is padded)"),
            arg("readonly", "boolean", "refuse the guest's writes (default false)"),
            arg("snapshot", "boolean", "keep the guest's writes in an overlay in memory (default true); false writes them to the file")], returns: "",
        doc: "Attach a hard disk or CD-ROM drive to the IDE controller or a floppy drive to the floppy controller, as QEMU's `-drive`: the image is opened and checked now (a bad one is refused, naming the file) and never written unless `snapshot = false`. Replaces a drive at the same index. The drive stays over power cycles and is part of the configuration snapshots are checked against.",
        allowed: &[Off] },
    ActionDef { action: Action::Drives, name: "drives", args: &[], returns: "list of tables",
        doc: "The drives, by index: each `{ name = \"ide0\" | \"fd0\" ..., interface = \"ide\" | \"floppy\", index, media = \"disk\" | \"cdrom\" | \"floppy\", file (nil for an empty drive), mode = \"overlay\" | \"read-only\" | \"write-through\", sectors, sector_size, dirty (sectors written only to the overlay) }`.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::CdromEject, name: "cdrom.eject", args: &[DRIVE_ARG], returns: "",
        doc: "Open a CD-ROM drive's tray and take its disc out, overriding the guest's lock as a host's forced eject does; the guest sees the medium removed. Named \"fd0\" or \"fd1\", takes a floppy drive's diskette out (the guest sees the disk-change line). Nothing happens on an empty drive. The property `drive.<name>.file = nil` does the same.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::CdromInsert, name: "cdrom.insert", args: &[arg("path", "string", "an ISO 9660 image"), DRIVE_ARG], returns: "",
        doc: "Put a disc into a CD-ROM drive (replacing the one in it) and close the tray; the guest sees new media (UNIT ATTENTION, a media event), as after QEMU's `change`. A file that is not an ISO 9660 image is refused and the drive left as it was. Named \"fd0\" or \"fd1\", puts a diskette image into a floppy drive (its format follows from its size). The property `drive.<name>.file = path` does the same.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::DiskRead, name: "disk.read", args: &[DISK_ARG, arg("lba", "integer", "first sector"), arg("count", "integer", "sectors (default 1; at most 64 MiB in one read)")], returns: "string",
        doc: "Read sectors of a drive's media as the guest sees them: its writes kept in the overlay over the image file.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::DiskSave, name: "disk.save", args: &[DISK_ARG, arg("path", "string", "the new image file")], returns: "",
        doc: "Write the whole disk as the guest sees it (overlay over image) to a new image file, streamed; the drive's own image is refused as a target (see `disk.commit`). A regular file is written whole or not at all; a symlink is followed; a device or FIFO is written through.",
        allowed: VmState::ALIVE },
    ActionDef { action: Action::DiskCommit, name: "disk.commit", args: &[DISK_ARG], returns: "integer",
        doc: "Write the guest's changes kept in a disk's overlay into its image file and empty the overlay (QEMU's `commit`); returns the sectors written. Refused on read-only media, and when the file changed size since it was opened.",
        allowed: WRITABLE_MEM },
];

impl ActionDef {
    /// Whether the arguments may also be given as one table of named fields
    /// (`vm:load_raw{ path = "a.bin", addr = 0x7c00 }`) besides in order
    /// (`vm:load_raw("a.bin", 0x7c00)`). The bindings and the reference both
    /// ask this, so the two cannot disagree.
    pub fn takes_named_args(&self) -> bool {
        matches!(
            self.action,
            Action::LoadRaw
                | Action::LoadRom
                | Action::LoadBootSector
                | Action::LoadLinux
                | Action::LoadMultiboot
                | Action::AttachDrive
        )
    }
}

/// Every action, in documentation order.
pub fn actions() -> &'static [ActionDef] {
    ACTIONS
}

impl Action {
    pub fn def(self) -> &'static ActionDef {
        ACTIONS
            .iter()
            .find(|d| d.action == self)
            .expect("every Action has a row in ACTIONS (checked by a test)")
    }
}

/// The action a script calls `name`, or an error suggesting the nearest one.
pub fn lookup_action(name: &str) -> Result<&'static ActionDef, ControlError> {
    ACTIONS
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| ControlError::UnknownAction {
            name: name.to_owned(),
            suggestion: super::suggest::nearest(name, ACTIONS.iter().map(|d| d.name)),
        })
}

impl Vm {
    /// Fails unless `action` is allowed in the current state.
    pub fn guard(&self, action: Action) -> Result<(), ControlError> {
        let def = action.def();
        if def.allowed.contains(&self.state()) {
            Ok(())
        } else if self.state() == VmState::Destroyed {
            Err(ControlError::Destroyed)
        } else {
            Err(ControlError::ActionInWrongState {
                action: def.name,
                state: self.state(),
                allowed: def.allowed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_one_row() {
        for d in ACTIONS {
            assert_eq!(ACTIONS.iter().filter(|o| o.action == d.action).count(), 1);
            assert!(std::ptr::eq(d.action.def(), d));
        }
        assert_eq!(ACTIONS.len(), 61, "a new Action needs a row");
    }
}
