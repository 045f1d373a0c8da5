-- Debian's i386 Linux kernel with a busybox initramfs, on the serial console:
-- see the init marker, run a command in the shell, power off cleanly.
-- Arguments: KERNEL INITRD MARKER
local here = arg[0]:match("^(.*)/") or "."
local wait = dofile(here .. "/wait.lua")
local kernel, initrd, marker = arg[1], arg[2], arg[3]

local function boot(cmdline_extra)
  local vm = moon86.new{ ram = "256M", cpu_model = "i686" }
  vm:load_linux{ kernel = kernel, initrd = initrd,
                 cmdline = "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests " .. (cmdline_extra or "") }
  vm:power_on()
  return vm
end

local vm = boot()
local state = {}
wait.serial(vm, marker, 8e9, state)
wait.serial(vm, "# ", 5e8, state)

-- a snapshot at the prompt, in memory and in a file: the same command after
-- either restore runs instruction for instruction as it did the first time
local snap = vm:snapshot()
local snap_file = os.tmpname()
vm:save_state(snap_file)
local function after_command()
  vm.serial:write("echo moon86-$((6 * 7))\n")
  vm:run(3e7)
  return table.concat({ vm.icount, vm.clock, vm.cpu.eip, vm.cpu.esp, vm.cpu.cr3, vm.serial:text() }, "|")
end
local first_run = after_command()
vm:restore(snap)
assert(after_command() == first_run, "the run after vm:restore differs from the first")
vm:restore_state(snap_file)
os.remove(snap_file)
assert(after_command() == first_run, "the run after vm:restore_state differs from the first")
vm:restore(snap)
print(("linux snapshot: ok (taken at instruction %d)"):format(snap.icount))

-- Guest time follows the one virtual clock across idle periods, with the JIT
-- on and off: `sleep 2` takes 2 virtual seconds (the kernel's clocksource is
-- the TSC, which keeps counting while the CPU sleeps in HLT), and
-- /proc/uptime advances with the virtual clock.
for _, jit in ipairs({ true, false }) do
  vm.jit = jit
  local stamps = {}
  local h = vm.serial:on_text("T([ab]) ([%d.]+) E", function(ev)
    stamps[ev.captures[1]] = { clock = vm.clock, uptime = tonumber(ev.captures[2]) }
  end)
  vm.serial:write("read u i < /proc/uptime; echo Ta $u E; sleep 2; read u i < /proc/uptime; echo Tb $u E\n")
  local why = vm:run{ ["until"] = function() return stamps.b ~= nil end, timeout = "10s" }
  h:remove()
  assert(why == "until", ("jit %s: `sleep 2` did not return within 10 virtual seconds (%s); serial:\n%s")
    :format(tostring(jit), why, vm.serial:text():sub(-400)))
  local slept = (stamps.b.clock - stamps.a.clock) / 1e9
  local uptime = stamps.b.uptime - stamps.a.uptime
  assert(slept >= 2 and slept <= 2.02,
    ("jit %s: `sleep 2` took %.4f virtual seconds"):format(tostring(jit), slept))
  assert(math.abs(uptime - slept) <= 0.015,
    ("jit %s: /proc/uptime advanced %.2f s over %.4f virtual seconds"):format(tostring(jit), uptime, slept))
  print(("linux time (jit %s): sleep 2 took %.4f virtual s, /proc/uptime advanced %.2f s")
    :format(tostring(jit), slept, uptime))
end
vm.jit = true

vm.serial:write("echo moon86-$((6 * 7))\n")
wait.serial(vm, "moon86-42", 5e8, state)
wait.serial(vm, "# ", 5e8, state)
vm.serial:write("poweroff -f\n")
local why = vm:run(5e8)
assert(why == "halted", "poweroff -f should halt the machine, got " .. why .. "\n" .. vm.serial:text())
print(("linux: ok (%d instructions, %.2f s virtual)"):format(vm.icount, vm.clock / 1e9))

-- reboot -f asks the board for a reset: the run stops with reason "reset"
local again = boot()
local st2 = {}
wait.serial(again, marker, 8e9, st2)
wait.serial(again, "# ", 5e8, st2)
-- the same guest booted twice prints byte-identical output up to the prompt
local first = vm.serial:text()
local upto = first:find(marker, 1, true) + #marker
assert(again.serial:text():sub(1, upto) == first:sub(1, upto), "the two boots printed different serial output")
again.serial:write("reboot -f\n")
local why2 = again:run(5e8)
assert(why2 == "reset" or why2 == "shutdown", "reboot -f should reset, got " .. why2)
print("linux reboot: ok (" .. why2 .. ")")
