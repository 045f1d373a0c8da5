-- GNU Mach through Multiboot until it says it has no bootstrap code; twice,
-- to check that the same guest gives byte-identical serial output.
-- Arguments: GNUMACH
local here = arg[0]:match("^(.*)/") or "."
local wait = dofile(here .. "/wait.lua")

local function boot()
  local vm = moon86.new{ ram = "64M", cpu_model = "i686" }
  vm:load_multiboot{ kernel = arg[1], cmdline = "console=com0" }
  vm:power_on()
  wait.serial(vm, "No bootstrap code", 4e9)
  return vm
end

local a, b = boot(), boot()
assert(a.icount == b.icount, "instruction counts differ")
assert(a.serial:text() == b.serial:text(), "serial output differs between two boots")
print(("gnumach: ok (%d instructions, identical serial output twice)"):format(a.icount))
