-- Runs the benchmark kernel (guests/bench/workload.bin) to its exit for
-- benches/vs_qemu.sh: prints what the guest wrote on COM1, then a line
-- "icount N" with the instructions it retired. Fails unless the guest left
-- through the exit port.
--
--   moon86 run [--jit on|off] benches/workload.lua [KERNEL]
local here = arg[0]:match("^(.*)[/\\]") or "."
local kernel = arg[1] or (here .. "/../guests/bench/workload.bin")

local vm = moon86.new{ ram = "64M" }
vm:load_multiboot{ kernel = kernel }
vm:power_on()
local why = vm:run()
io.write(vm.serial:text())
io.write(("icount %d\n"):format(vm.icount))
if why ~= "exit" then
  io.stderr:write(("workload.lua: the guest stopped with %q, not through the exit port\n"):format(why))
  os.exit(1)
end
