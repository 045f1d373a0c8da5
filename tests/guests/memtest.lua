-- memtest86+ (its 32-bit Linux-boot-protocol image) until it reports a
-- running test on the serial console. Arguments: MEMTEST
local here = arg[0]:match("^(.*)/") or "."
local wait = dofile(here .. "/wait.lua")

local vm = moon86.new{ ram = "64M", cpu_model = "i686" }
vm:load_linux{ kernel = arg[1], cmdline = "console=ttyS0,115200" }
vm:power_on()
local seen = wait.serial(vm, "Test", 4e9)
print(("memtest: ok (%d instructions)"):format(vm.icount))
