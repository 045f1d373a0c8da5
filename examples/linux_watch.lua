-- Capture a bundle (registers, a RAM page, the screen and the serial log)
-- each time a watched kernel variable changes.
--
--   moon86 run examples/linux_watch.lua KERNEL INITRD [OUTDIR] [VARIABLE] [COUNT]
--
-- Boots Debian's i386 kernel (scripts/fetch-guests.py) to its shell, finds
-- VARIABLE (default jiffies_64, the timer tick counter) in /proc/kallsyms,
-- watches its physical address, and writes COUNT (default 3) capture
-- bundles into OUTDIR (default linux-watch-out), one per change, each named
-- by the instruction count at which the write happened.
local kernel, initrd = arg[1], arg[2]
local out = arg[3] or "linux-watch-out"
local var = arg[4] or "jiffies_64"
local count = tonumber(arg[5] or "3")
if not (kernel and initrd) then
  io.stderr:write("usage: moon86 run examples/linux_watch.lua KERNEL INITRD [OUTDIR] [VARIABLE] [COUNT]\n")
  os.exit(2)
end

local vm = moon86.new{ ram = "256M", cpu_model = "i686" }
vm:load_linux{ kernel = kernel, initrd = initrd,
  cmdline = "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests" }
vm:power_on()
vm.serial:expect("# ", { timeout = "120s" })
vm.serial:write("grep -w " .. var .. " /proc/kallsyms\n")
local _, hex = vm.serial:expect("(%x+) [BbDd] " .. var .. "\r?\n")
local virt = tonumber(hex, 16)
local phys = virt - 0xC0000000 -- the kernel's direct map (3G/1G split)
print(string.format("%s is at 0x%08x (physical 0x%08x)", var, virt, phys))

local bundles = {}
vm:on_write({ phys, phys + 4 }, function(ev)
  local page = phys & ~0xFFF
  local dir = vm:capture{ dir = out, ram = { { page, page + 0x1000 } },
    screen = true, regs = true, serial = true }
  bundles[#bundles + 1] = dir
  print(string.format("%s: %d -> %d at icount %d (eip %08x): %s", var, ev.old, ev.new, ev.icount, ev.eip, dir))
end, { limit = count })
local why = vm:run{ ["until"] = function() return #bundles >= count end, timeout = "5s" }
assert(#bundles == count, "only " .. #bundles .. " changes seen (run stopped: " .. why .. ")")
