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
