-- memtest86+ (its 32-bit Linux-boot-protocol image) until it reports a
-- running test on the serial console. Arguments: MEMTEST
local here = arg[0]:match("^(.*)/") or "."
local wait = dofile(here .. "/wait.lua")

local vm = moon86.new{ ram = "64M", cpu_model = "i686" }
vm:load_linux{ kernel = arg[1], cmdline = "console=ttyS0,115200" }
vm:power_on()
-- The serial console mirrors the screen; a test's name in brackets appears
-- once that test is running, e.g. "[Address test, walking ones, no cache]".
wait.serial(vm, "[Address test", 4e9)
local screen = table.concat(vm.screen:text(), "\n")
assert(screen:find("Memtest86+", 1, true), "the screen shows memtest86+:\n" .. screen)
-- It sizes the caches from CPUID leaves 2 and 4: a Pentium II's.
assert(screen:find("L1 Cache:   16KB", 1, true) and screen:find("L2 Cache:  512KB", 1, true),
  "memtest86+ reads a Pentium II's caches:\n" .. screen)
print(("memtest: ok (%d instructions)"):format(vm.icount))
