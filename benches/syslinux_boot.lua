-- Boots a SYSLINUX hard disk through SeaBIOS until the init marker appears
-- on COM1, for benches/boot_vs_qemu.py; then prints "icount N" and the
-- JIT's counters (jit_stats) at the marker, one "name value" a line.
-- The machine is the one `moon86 boot --hda DISK` builds: 128 MiB, the
-- default i686 CPU, SeaBIOS with its VGA BIOS, booting from the disk.
--
--   moon86 run [--jit on|off] benches/syslinux_boot.lua DISK SEABIOS VGABIOS [MARKER]
local disk, bios, vgabios, marker = arg[1], arg[2], arg[3], arg[4] or "MOON86-INIT-OK"
assert(disk and bios and vgabios, "usage: syslinux_boot.lua DISK SEABIOS VGABIOS [MARKER]")

local vm = moon86.new{ ram = "128M", boot_order = "c" }
vm:load_bios(bios, vgabios)
vm:attach_drive(disk)
vm:power_on()
vm.serial:expect(marker, { plain = true, timeout = "600s" })
io.write(("icount %d\n"):format(vm.icount))
local s = vm.jit_stats
for _, k in ipairs{ "blocks_compiled", "code_bytes", "invalidations", "flushes",
                    "entries", "chained", "jumped", "instructions" } do
  io.write(("jit_stats.%s %d\n"):format(k, s[k]))
end
for _, k in ipairs{ "end", "bail", "smc" } do
  io.write(("jit_stats.exits.%s %d\n"):format(k, s.exits[k]))
end
