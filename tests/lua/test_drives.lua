-- vm:attach_drive: a disk the guest reads through the IDE ports, and the
-- errors (state, media, index, mode, bad images).
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")
local root = (arg[0]:match("^(.*)/") or ".") .. "/../.."

local image = {}
for i = 0, 64 * 512 - 1 do image[#image + 1] = string.char((i * 7) & 0xff) end
image = table.concat(image)
local disk = t.tmpfile(image)

-- guests/ata/pio.bin identifies the primary master, prints its model and
-- sector 0 on the debug console, writes a sector and reads it back.
local vm = moon86.new{ ram = "4M" }
vm:load_boot_sector(root .. "/guests/ata/pio.bin")
vm:attach_drive(disk)
vm:power_on()
t.eq(vm:run(5e6), "exit")
local lines = {}
for line in vm.debugcon:text():gmatch("[^\n]+") do lines[#lines + 1] = line end
t.eq(lines[1]:gsub("%s+$", ""), "MOON86 HARDDISK")
t.eq(lines[3], "write ok")
t.eq(t.read_file(disk), image, "the image file is unchanged (overlay)")

-- named arguments, and a CD-ROM at its default index 2
local iso = {}
for s = 0, 31 do
  local sector = string.rep("\0", 2048)
  if s == 16 then sector = "\1CD001\1" .. string.rep("\0", 2041) end
  if s == 17 then sector = "\255CD001\1" .. string.rep("\0", 2041) end
  iso[#iso + 1] = sector
end
local cd = t.tmpfile(table.concat(iso))
local vm2 = moon86.new{ ram = "4M" }
vm2:attach_drive{ path = cd, media = "cdrom" }
vm2:attach_drive{ path = disk, index = 1, mode = "readonly" }

-- errors
t.raises("attach_drive is allowed only while off", function() vm:attach_drive(disk) end)
local off = moon86.new{ ram = "4M" }
t.raises("media 'floppy'", function() off:attach_drive(disk, "floppy") end)
t.raises("is not 0-3", function() off:attach_drive{ path = disk, index = 7 } end)
t.raises("mode 'rw'", function() off:attach_drive{ path = disk, mode = "rw" } end)
t.raises("cannot open disk image '/no/such.img'", function() off:attach_drive("/no/such.img") end)
t.raises("is not an ISO 9660 CD image", function() off:attach_drive(disk, "cdrom") end)
print("drives: ok")
