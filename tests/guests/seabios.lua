-- SeaBIOS (Debian's bios.bin) with its ISA VGA BIOS on a machine with no
-- disks: it finds fw_cfg, takes the RAM layout from etc/e820, runs the VGA
-- BIOS it reads from vgaroms/, tries each boot device, says so on the VGA
-- screen, and after its 60-second wait resets the machine through port
-- 0xCF9; the reset puts the shadow copy back and it POSTs again.
-- Arguments: BIOS VGABIOS
local bios, vgabios = arg[1], arg[2]

local vm = moon86.new{ ram = "64M", cpu_model = "i686" }
vm:load_bios(bios, vgabios)
-- SeaBIOS logs to the debug port 0x402.
local log = {}
vm:on_io(0x402, function(ev) log[#log + 1] = string.char(ev.value & 0xff) end, { dir = "out" })
local function log_has(text, times)
  local s, n = table.concat(log), 0
  for _ in s:gmatch(text:gsub("%p", "%%%0")) do n = n + 1 end
  return n >= (times or 1)
end
vm:power_on()
assert(vm.screen:wait_text("No bootable device", { timeout = "5s" }))
local screen = table.concat(vm.screen:text(), "\n")
for _, want in ipairs({ "SeaBIOS (version", "Booting from Floppy", "Booting from Hard Disk" }) do
  assert(screen:find(want, 1, true), ("the screen lacks %q:\n%s"):format(want, screen))
end
for _, want in ipairs({ "Found QEMU fw_cfg", "qemu/e820: addr 0x0000000000000000 len 0x0000000004000000 [RAM]",
    "Running option rom at c000:0003", "Start SeaVGABIOS", "No bootable device." }) do
  assert(log_has(want), ("SeaBIOS's log lacks %q:\n%s"):format(want, table.concat(log)))
end
local booted_at = vm.clock
-- SeaBIOS waits 60 s, then asks for a reset through the reset control
-- register (0xCF9); the run stops there with reason "reset".
local rcr = {}
vm:on_io(0xcf9, function(ev) rcr[#rcr + 1] = ev.value end, { dir = "out" })
local why = vm:run{ timeout = "70s" }
assert(why == "reset", "expected SeaBIOS to reset the machine, got " .. why)
assert(table.concat(rcr, ",") == "2,6", "SeaBIOS wrote " .. table.concat(rcr, ",") .. " to port 0xCF9, expected 2,6")
local waited = (vm.clock - booted_at) / 1e9
assert(waited > 59 and waited < 61, ("SeaBIOS waited %.2f virtual seconds, not 60"):format(waited))
-- The reset puts the firmware's shadow copy back: a fresh POST, not a resume.
vm:reset()
local why2 = vm:run{ ["until"] = function() return log_has("No bootable device.", 2) end, timeout = "5s" }
assert(why2 == "until", "no second POST after the reset (" .. why2 .. "):\n" .. table.concat(log))
assert(log_has("SeaBIOS (version", 2) and log_has("Found QEMU fw_cfg", 2))
print(("seabios: ok (%d instructions, reset after %.2f s)"):format(vm.icount, waited))
