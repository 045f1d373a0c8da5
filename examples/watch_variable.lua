-- Capture a bundle (registers, the variable's RAM page, the screen and the
-- serial log) each time a watched variable changes.
--
--   moon86 run examples/watch_variable.lua [OUTDIR]
--
-- The guest is guests/hooks/events.bin, which counts from 1 to 5 in the
-- word at 0x600 early on; each write that changes it leaves one bundle in
-- OUTDIR (default watch-out), named by the instruction count. The same
-- works on any guest: a Linux variable's physical address is its
-- kernel-virtual address minus 0xC0000000.
local here = arg[0]:match("^(.*)/") or "."
local out = arg[1] or "watch-out"
local COUNTER = 0x600

local vm = moon86.new{ ram = "8M" }
vm:load_raw{ path = here .. "/../guests/hooks/events.bin", addr = 0x7c00, cs = 0, ip = 0x7c00 }
vm:power_on()

local bundles = {}
vm:on_write({ COUNTER, COUNTER + 2 }, function(ev)
  if ev.old == ev.new then return end
  local dir = vm:capture{ dir = out, ram = { { COUNTER & ~0xFFF, (COUNTER & ~0xFFF) + 0x1000 } } }
  bundles[#bundles + 1] = dir
  print(string.format("counter %d -> %d at icount %d by %04x:%08x: %s",
    ev.old, ev.new, ev.icount, ev.cs, ev.eip, dir))
end)
-- Stop at the keyboard prompt, long after the counting.
vm.serial:expect("keys%?", { timeout = "1s" })
assert(#bundles == 5, "expected 5 changes, saw " .. #bundles)
print(#bundles .. " bundles in " .. out)
