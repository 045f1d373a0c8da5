-- Bochs's BIOS (BIOS-bochs-legacy) with the LGPL VGA BIOS as an option ROM
-- at 0xC0000, on a machine with no disks: the BIOS finds and runs the VGA
-- BIOS in its option ROM scan, POSTs, and stops with "No bootable device"
-- on the screen and its debug port. Arguments: BIOS VGABIOS
local bios, vgabios = arg[1], arg[2]

local vm = moon86.new{ ram = "64M", cpu_model = "i686" }
vm:load_bios(bios)
vm:load_option_rom(vgabios)
local t_log = {}
vm:on_io(0x402, function(ev) t_log[#t_log + 1] = string.char(ev.value & 0xff) end, { dir = "out" })
vm:power_on()
-- The VGA BIOS's banner comes first; the boot attempts in the default order
-- (floppy, disk, CD) later scroll it off the screen.
vm.screen:wait_text("Bochs VGABios", { plain = true, timeout = "5s" })
-- The BIOS halts with interrupts off once nothing can be booted.
local why = vm:run{ timeout = "10s" }
assert(why == "halted", "expected the BIOS to halt, got " .. why)
local screen = table.concat(vm.screen:text(), "\n")
for _, want in ipairs({ "Bochs 2.7 BIOS", "No bootable device" }) do
  assert(screen:find(want, 1, true), ("the screen lacks %q:\n%s"):format(want, screen))
end
assert(table.concat(t_log):find("No bootable device", 1, true), "the debug port lacks the message")
assert(vm.mem:read_u16(0xc0000) == 0xaa55, "the VGA BIOS is at 0xC0000")
print(("bochsbios: ok (%d instructions)"):format(vm.icount))
