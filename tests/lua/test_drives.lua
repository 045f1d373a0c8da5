-- A VM's drives from Lua: attach a disk and a CD-ROM, let a guest write to
-- the disk (guests/ata/pio.bin copies itself to sector 1 by PIO), read the
-- disk as the guest sees it, save it whole to a new image, commit the
-- overlay to the image file, and eject and change the CD.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")
local root = (arg[0]:match("^(.*)/tests/lua/") or ".")
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local function write(path, data)
  local f = assert(io.open(path, "wb")); f:write(data); f:close()
end
local function read(path)
  local f = assert(io.open(path, "rb")); local d = f:read("a"); f:close(); return d
end

local image = {}
for i = 0, 64 * 512 - 1 do image[#image + 1] = string.char((i * 7 + 3) % 256) end
image = table.concat(image)
write(dir .. "/disk.img", image)
-- An ISO 9660 image: only the volume descriptor at sector 16 is checked.
local iso = ("\0"):rep(16 * 2048) .. "\1CD001\1" .. ("\0"):rep(2048 - 7) .. ("\0"):rep(2048)
write(dir .. "/a.iso", iso)
write(dir .. "/b.iso", iso .. ("\0"):rep(2048))
write(dir .. "/not.iso", ("x"):rep(20 * 2048))

local vm = moon86.new{ ram = "4M" }
t.eq(#vm:drives(), 0)
vm:attach_drive{ file = dir .. "/disk.img" }
vm:attach_drive{ file = dir .. "/a.iso", media = "cdrom" }
local d = vm:drives()
t.eq(#d, 2)
t.eq(d[1].name, "ide0"); t.eq(d[1].media, "disk"); t.eq(d[1].mode, "overlay")
t.eq(d[1].sectors, 64); t.eq(d[1].sector_size, 512); t.eq(d[1].dirty, 0)
t.eq(d[2].name, "ide2"); t.eq(d[2].media, "cdrom"); t.eq(d[2].mode, "read-only")
t.eq(d[2].sectors, 18); t.eq(d[2].sector_size, 2048)
t.raises("'nope' is not disk, cdrom or floppy", vm.attach_drive, vm, { file = dir .. "/disk.img", media = "nope" })
t.raises("unknown option 'fiel'", vm.attach_drive, vm, { fiel = "x" })
t.raises("not an ISO 9660", vm.attach_drive, vm, { file = dir .. "/not.iso", media = "cdrom" })

vm:load_boot_sector(root .. "/guests/ata/pio.bin")
-- Disk hooks see the guest's transfers, in order, with their direction.
local seen = {}
vm:on_disk(nil, function(ev)
  t.eq(#ev.data, 512 * ev.count)
  seen[#seen + 1] = ("%s %s %d+%d"):format(ev.dir, ev.drive, ev.lba, ev.count)
end)
local writes = vm:on_disk({ drive = "ide0", lba = { 1, 3 }, dir = "write" }, function(ev)
  t.eq(ev.kind, "disk")
  t.eq(ev.data, read(root .. "/guests/ata/pio.bin"), "the data written")
  t.eq(vm.disk:read("ide0", 1), read(root .. "/guests/ata/pio.bin"), "written when the hook runs")
end)
local on_cd = vm:on_disk({ drive = "ide2" }, function() end)
t.raises("backwards", vm.on_disk, vm, { lba = { 5, 2 } }, function() end)
t.raises("not a drive name", vm.on_disk, vm, { drive = "hd7" }, function() end)
t.raises("dir must be", vm.on_disk, vm, { dir = "sideways" }, function() end)
t.raises("not a table with 'lab'", vm.on_disk, vm, { lab = 1 }, function() end)
vm:power_on()
t.eq(vm:run(10000000), "exit")
t.eq(table.concat(seen, ","), "read ide0 0+1,write ide0 1+1,read ide0 1+1")
t.eq(writes.hits, 1)
t.eq(on_cd.hits, 0)
t.truthy(writes.what:find("disk write ide0 sectors 1-3", 1, true), writes.what)
t.truthy(vm.debugcon:text():find("write ok", 1, true), vm.debugcon:text())
t.raises("only while off", vm.attach_drive, vm, { file = dir .. "/disk.img" })

-- The guest wrote its boot sector to sector 1: in the overlay, not the file.
local boot = read(root .. "/guests/ata/pio.bin")
t.eq(vm.disk:read("ide0", 1), boot)
t.eq(vm.disk:read(0, 0, 2), image:sub(1, 512) .. boot, "drive by number, two sectors")
t.eq(vm:drives()[1].dirty, 1)
t.eq(read(dir .. "/disk.img"), image, "the file is untouched")
t.raises("beyond the end", vm.disk.read, vm.disk, "ide0", 63, 2)
t.raises("no drive 'ide1'", vm.disk.read, vm.disk, "ide1", 0)
t.raises("drive is missing", vm.disk.read, vm.disk)

local guest_view = image:sub(1, 512) .. boot .. image:sub(1025)
vm.disk:save("ide0", dir .. "/saved.img")
t.eq(read(dir .. "/saved.img"), guest_view)
t.raises("the drive's own image", vm.disk.save, vm.disk, "ide0", dir .. "/disk.img")
t.raises("directory", vm.disk.save, vm.disk, "ide0", dir)
t.eq(read(dir .. "/disk.img"), image)

t.eq(vm.disk:commit("ide0"), 1)
t.eq(read(dir .. "/disk.img"), guest_view, "committed")
t.eq(vm:drives()[1].dirty, 0)
t.eq(vm.disk:commit("ide0"), 0)
t.raises("read-only", vm.disk.commit, vm.disk, "ide2")

-- The CD: eject, a bad disc refused, another disc in.
vm.cdrom:eject()
t.eq(vm:drives()[2].file, nil)
vm.cdrom:eject() -- an empty drive: nothing happens
t.raises("has no media", vm.disk.read, vm.disk, "ide2", 0)
t.raises("not an ISO 9660", vm.cdrom.insert, vm.cdrom, dir .. "/not.iso")
t.eq(vm:drives()[2].file, nil, "a refused disc leaves the drive as it was")
vm.cdrom:insert(dir .. "/b.iso")
t.eq(vm:drives()[2].file, dir .. "/b.iso")
t.eq(vm:drives()[2].sectors, 19)
t.eq(vm.disk:read("ide2", 16):sub(2, 6), "CD001")
t.raises("ide0 is a hard disk", vm.cdrom.eject, vm.cdrom, "ide0")
t.truthy(moon86.help("cdrom.insert"):find("UNIT ATTENTION"), "documented")

-- A power cycle keeps the drives and the disc now in the drive.
vm:power_off()
t.eq(vm:drives()[2].file, dir .. "/b.iso")
t.eq(vm.disk:read("ide0", 1), boot, "the committed sector is in the file now")

-- A floppy: named fd0, a short image padded to the smallest format (160K)
-- and read as zeros past its end; its overlay commits like a disk's.
write(dir .. "/small.img", ("\xF6"):rep(8 * 512))
local fd = moon86.new{ ram = "4M" }
fd:attach_drive{ file = dir .. "/small.img", media = "floppy" }
local f = fd:drives()[1]
t.eq(f.name, "fd0"); t.eq(f.interface, "floppy"); t.eq(f.media, "floppy"); t.eq(f.index, 0)
t.eq(f.sectors, 320)
t.eq(fd.disk:read("fd0", 7), ("\xF6"):rep(512))
t.eq(fd.disk:read("floppy0", 8, 2), ("\0"):rep(1024), "past the file: zeros")
t.eq(fd.disk:commit("fd0"), 0)
t.raises("index must be at most 0x1", fd.attach_drive, fd, { file = dir .. "/small.img", media = "floppy", index = 2 })
t.eq(read(dir .. "/small.img"), ("\xF6"):rep(8 * 512))

-- Drives as properties: drive.<slot>.file, .media and .mode.
write(dir .. "/b.img", ("\xB0"):rep(1440 * 512))
local p = moon86.new{ ram = "4M" }
t.eq(p.drive.ide0.file, nil); t.eq(p.drive.ide0.media, nil); t.eq(p.drive.ide0.mode, nil)
p.drive.ide0.file = dir .. "/disk.img"
t.eq(p.drive.ide0.file, dir .. "/disk.img"); t.eq(p.drive.ide0.media, "disk")
t.eq(p.drive.ide0.mode, "overlay")
p.drive.ide0.mode = "read-only"
t.eq(p:drives()[1].mode, "read-only")
t.raises("'fast' is not overlay, read-only or write-through", function() p.drive.ide0.mode = "fast" end)
p.drive.ide2.media = "cdrom"
t.eq(p.drive.ide2.file, nil, "an empty CD-ROM drive")
t.eq(p.drive.ide2.mode, "read-only")
t.raises("always read-only", function() p.drive.ide2.mode = "overlay" end)
p.drive.ide2.file = dir .. "/a.iso"
p.drive.fd0.file = dir .. "/small.img"
t.eq(p.drive.fd0.media, "floppy")
t.raises("'disk' is not floppy", function() p.drive.fd1.media = "disk" end)
t.raises("a hard disk needs an image", function() p.drive.ide1.media = "disk" end)
t.raises("expected string or nil, got integer 3", function() p.drive.ide1.file = 3 end)
t.raises("not an ISO 9660", function() p.drive.ide3.media = "cdrom"; p.drive.ide3.file = dir .. "/not.iso" end)
t.eq(p.drive.ide3.file, nil, "a refused image changes nothing")
p.drive.ide3.media = nil
t.eq(#p:drives(), 3)
p:power_on()
-- Powered: a hard disk is fixed, removable media change.
t.raises("cannot set drive.ide0.file while the VM is paused", function() p.drive.ide0.file = nil end)
t.raises("cannot set drive.ide0.media while the VM is paused", function() p.drive.ide0.media = nil end)
t.raises("there is no drive ide1", function() p.drive.ide1.file = dir .. "/a.iso" end)
p.drive.ide2.file = nil
t.eq(p.drive.ide2.file, nil); t.eq(p:drives()[2].file, nil)
p.drive.ide2.file = dir .. "/b.iso"
t.eq(p.disk:read("ide2", 16):sub(2, 6), "CD001")
p.drive.fd0.file = nil
t.eq(p.drive.fd0.file, nil); t.eq(p.drive.fd0.media, "floppy", "the floppy drive stays, empty")
t.raises("fd0 has no media", p.disk.read, p.disk, "fd0", 0)
p.drive.fd0.file = dir .. "/b.img"
t.eq(p.disk:read("fd0", 0), ("\xB0"):rep(512))
p.cdrom:eject("fd0")
t.eq(p.drive.fd0.file, nil, "vm.cdrom:eject takes a floppy's name too")
t.raises("ide0 is a hard disk", p.cdrom.eject, p.cdrom, "ide0")
p:power_off()
p.drive.fd0.file = nil
t.eq(p.drive.fd0.media, nil, "while off, no image takes the floppy drive off")
t.eq(read(dir .. "/b.img"), ("\xB0"):rep(1440 * 512))

local bare = moon86.new{}
t.raises("no CD-ROM drive (the VM has no drives)", bare.cdrom.eject, bare.cdrom)

os.execute("rm -rf " .. dir)
print("drives ok")
