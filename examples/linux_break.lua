-- Break when the Linux kernel reaches a function, then dump RAM and take a
-- screenshot at that exact instruction.
--
--   moon86 run examples/linux_break.lua KERNEL INITRD [OUTDIR] [FUNCTION]
--
-- KERNEL and INITRD come from scripts/fetch-guests.py (Debian's i386 kernel
-- and a busybox initramfs). The function's address is taken from the
-- kernel's own symbol table, /proc/kallsyms, read through the serial
-- console once the shell is up; the script then asks the shell to power
-- off and stops the machine when the kernel enters FUNCTION (default
-- kernel_halt: with no ACPI to power the board off, the kernel turns
-- `poweroff -f` into a halt). OUTDIR (default linux-break-out) receives the first
-- MiB of RAM, the kernel's stack page and a screenshot.
local kernel, initrd = arg[1], arg[2]
local out = arg[3] or "linux-break-out"
local fn_name = arg[4] or "kernel_halt"
if not (kernel and initrd) then
  io.stderr:write("usage: moon86 run examples/linux_break.lua KERNEL INITRD [OUTDIR] [FUNCTION]\n")
  os.exit(2)
end
os.execute("mkdir -p '" .. out .. "'")

local vm = moon86.new{ ram = "256M", cpu_model = "i686" }
vm:load_linux{ kernel = kernel, initrd = initrd,
  cmdline = "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests" }
vm:power_on()

-- Boot to the shell (about 30 s of virtual time).
vm.serial:expect("# ", { timeout = "120s" })
vm.serial:write("grep -w " .. fn_name .. " /proc/kallsyms\n")
local _, hex = vm.serial:expect("(%x+) [Tt] " .. fn_name .. "\r?\n")
local addr = tonumber(hex, 16)
print(string.format("%s is at 0x%08x", fn_name, addr))

local hit
vm:on_exec(addr, function(ev)
  hit = ev
  local regs = vm.cpu:regs()
  print(string.format("reached %s at icount %d: eip=%08x esp=%08x cr3=%08x (%s mode, paging %s)",
    fn_name, ev.icount, regs.eip, regs.esp, regs.cr3, regs.mode, tostring(regs.paging)))
  vm.mem:dump(0, 0x100000, out .. "/ram-0-1M.bin")
  -- The kernel's stack: ESP is a direct-mapped virtual address (3G/1G split).
  local stack = (regs.esp & ~0xFFF) - 0xC0000000
  vm.mem:dump(stack, 0x1000, out .. "/stack.bin")
  vm.screen:png(out .. "/screen.png")
  return false
end)
vm.serial:write("poweroff -f\n")
local why = vm:run{ timeout = "10s" }
assert(why == "hook" and hit, "the kernel did not reach " .. fn_name .. " (run stopped: " .. why .. ")")
print("saved " .. out .. "/ram-0-1M.bin, stack.bin and screen.png")
