-- Boots a SYSLINUX hard disk through SeaBIOS until the init marker appears
-- on COM1, for benches/boot_vs_qemu.py. Prints, at the kernel's first line
-- ("Linux version", after the firmware, SYSLINUX's loading of the kernel
-- and initramfs, and the kernel's decompressor) and at the marker: the
-- instruction count, the process's CPU time and the JIT's counters
-- (jit_stats), one "phase name value" a line.
-- The machine is the one `moon86 boot --hda DISK` builds: 128 MiB, the
-- default i686 CPU, SeaBIOS with its VGA BIOS, booting from the disk.
--
--   moon86 run [--jit on|off] benches/syslinux_boot.lua DISK SEABIOS VGABIOS [MARKER]
local disk, bios, vgabios, marker = arg[1], arg[2], arg[3], arg[4] or "MOON86-INIT-OK"
assert(disk and bios and vgabios, "usage: syslinux_boot.lua DISK SEABIOS VGABIOS [MARKER]")

local function report(phase, vm)
  local s = vm.jit_stats
  local function put(k, v) io.write(("%-8s %-26s %s\n"):format(phase, k, v)) end
  put("icount", ("%d"):format(vm.icount))
  put("cpu_seconds", ("%.2f"):format(os.clock()))
  for _, k in ipairs{ "blocks_compiled", "code_bytes", "invalidations", "flushes",
                      "entries", "chained", "jumped", "instructions" } do
    put("jit_stats." .. k, ("%d"):format(s[k]))
  end
  for _, k in ipairs{ "end", "bail", "smc" } do
    put("jit_stats.exits." .. k, ("%d"):format(s.exits[k]))
  end
end

local vm = moon86.new{ ram = "128M", boot_order = "c" }
vm:load_bios(bios, vgabios)
vm:attach_drive(disk)
vm:power_on()
vm.serial:expect("Linux version", { plain = true, timeout = "600s" })
report("kernel", vm)
vm.serial:expect(marker, { plain = true, timeout = "600s" })
report("marker", vm)
