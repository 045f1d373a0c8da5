-- Boots Debian's i386 Linux with the busybox initramfs until the init
-- marker appears on COM1, for benches/vs_qemu.sh; then prints "icount N"
-- (instructions retired up to the marker) and stops.
--
--   moon86 run [--jit on|off] benches/linux_boot.lua KERNEL INITRD MARKER CMDLINE [RAM]
local kernel, initrd, marker, cmdline, ram = arg[1], arg[2], arg[3], arg[4], arg[5]
assert(kernel and initrd and marker and cmdline,
  "usage: linux_boot.lua KERNEL INITRD MARKER CMDLINE [RAM]")

local vm = moon86.new{ ram = ram or "256M", cpu_model = "i686" }
vm:load_linux{ kernel = kernel, initrd = initrd, cmdline = cmdline }
vm:power_on()
vm.serial:expect(marker, { plain = true, timeout = "600s" })
io.write(("icount %d\n"):format(vm.icount))
