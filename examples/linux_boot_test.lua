-- An end-to-end boot test written with moon86's test runner:
--
--   MOON86_KERNEL=... MOON86_INITRD=... moon86 test examples/linux_boot_test.lua
--
-- (scripts/fetch-guests.py prints the paths). Each test goes on from where
-- the previous one left the machine: the kernel boots to the initramfs
-- marker, the shell answers a command, and poweroff halts the machine.
local kernel, initrd = os.getenv("MOON86_KERNEL"), os.getenv("MOON86_INITRD")
local marker = os.getenv("MOON86_MARKER") or "MOON86-INIT-OK"
local vm

test("the kernel boots to the init marker", function(t)
  t:truthy(kernel and initrd, "set MOON86_KERNEL and MOON86_INITRD (see scripts/fetch-guests.py)")
  vm = moon86.new{ ram = "256M", cpu_model = "i686" }
  vm:load_linux{ kernel = kernel, initrd = initrd,
    cmdline = "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests" }
  vm:power_on()
  t:eq(vm.serial:expect(marker, { timeout = "120s", plain = true }), marker)
  t:match(vm.serial:text(), "Linux version 6%.")
end)

test("the shell answers", function(t)
  vm.serial:expect("# ", { timeout = "10s" })
  vm.serial:write("echo moon86-$((6 * 7))\n")
  local _, answer = vm.serial:expect("moon86%-(%d+)\r?\n", { timeout = "10s" })
  t:eq(answer, "42")
end)

test("poweroff halts the machine", function(t)
  vm.serial:expect("# ", { timeout = "10s" })
  vm.serial:write("poweroff -f\n")
  t:eq(vm:run{ timeout = "10s" }, "halted")
end)
