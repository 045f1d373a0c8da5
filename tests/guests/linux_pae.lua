-- Debian's i386 686-pae kernel (the same version as linux.lua's) with the
-- busybox initramfs, on the serial console, with the JIT on: on the i686
-- model (PAE, no NX) and the pentium-m model (PAE and NX). The kernel
-- refuses to start on a CPU without PAE; at the shell CR4.PAE is set, and
-- on the NX model the kernel's own log says NX protection is active.
-- Arguments: KERNEL_PAE INITRD MARKER
local here = arg[0]:match("^(.*)/") or "."
local wait = dofile(here .. "/wait.lua")
local kernel, initrd, marker = arg[1], arg[2], arg[3]

local CR4_PAE = 1 << 5

for _, model in ipairs({ "i686", "pentium-m" }) do
  local vm = moon86.new{ ram = "256M", cpu_model = model }
  vm.jit = true
  vm:load_linux{ kernel = kernel, initrd = initrd,
                 cmdline = "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests" }
  vm:power_on()
  local state = {}
  wait.serial(vm, marker, 8e9, state)
  wait.serial(vm, "# ", 5e8, state)
  local log = vm.serial:text()
  assert(vm.cpu.cr4 & CR4_PAE ~= 0, model .. ": CR4.PAE is clear at the shell")
  local nx_line = model == "pentium-m" and "NX (Execute Disable) protection: active"
    or "NX (Execute Disable) protection missing in CPU"
  assert(log:find(nx_line, 1, true), model .. ": the kernel did not print '" .. nx_line .. "':\n" .. log)
  vm.serial:write("echo moon86-$((6 * 7))\n")
  wait.serial(vm, "moon86-42", 5e8, state)
  vm.serial:write("poweroff -f\n")
  local why = vm:run(5e8)
  assert(why == "halted", model .. ": poweroff -f should halt the machine, got " .. why)
  print(("linux 686-pae on %s: ok (%d instructions, %.2f s virtual; %s)")
    :format(model, vm.icount, vm.clock / 1e9, nx_line))
end
