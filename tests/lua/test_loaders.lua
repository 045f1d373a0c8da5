-- The loaders: raw binaries, boot sectors and ROMs, and their errors.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")

local prog = "\xB8\x07\x00\xBB\x09\x00\xFA\xF4" -- mov ax,7 ; mov bx,9 ; cli ; hlt
local raw = t.tmpfile(prog)
local vm = moon86.new{ ram = "1M" }
vm:load_raw{ path = raw, addr = 0x2000, cs = 0x200, ip = 0 }
t.eq(vm.mem:read(0x2000, #prog), prog)
t.eq(vm.cpu.cs.selector, 0x200)
t.eq(vm.cpu.cs.base, 0x2000)
vm:power_on()
t.eq(vm:run(100), "halted")
t.eq(vm.cpu.eax, 7)
-- reset puts the image and its entry point back
vm.mem:write(0x2000, "\0\0\0\0")
vm:reset()
t.eq(vm.mem:read(0x2000, #prog), prog)
t.eq(vm.cpu.eip, 0)
t.eq(vm:run(100), "halted")
t.eq(vm.cpu.ebx, 9)
-- power-off clears RAM and puts the images back for the next power-on
vm:power_off()
t.eq(vm.mem:read(0x2000, #prog), prog)
-- a smaller RAM that still fits keeps the image
vm.ram_size = "64K"
t.eq(vm.mem:read(0x2000, #prog), prog)

-- errors: missing file, empty file, does not fit, missing fields
t.raises("cannot read '/no/such/file.bin'", function() vm:load_raw{ path = "/no/such/file.bin", addr = 0 } end)
local empty = t.tmpfile("")
t.raises("is empty", function() vm:load_raw{ path = empty, addr = 0 } end)
t.raises("does not fit in RAM: it would end at 0x10004, RAM is 65536 bytes",
  function() vm:load_raw{ path = raw, addr = 0xFFFC } end)
t.raises("load_raw: addr is missing", function() vm:load_raw{ path = raw } end)
t.raises("load_raw: unknown option 'adress'", function() vm:load_raw{ path = raw, adress = 0 } end)
t.raises("load_raw: addr is missing", function() vm:load_raw(raw) end)
t.raises("load_raw takes at most 4 arguments (path, addr, cs, ip), got 5", function() vm:load_raw(raw, 0, 0, 0, 0) end)
t.raises("load_raw: give the arguments in order or as one table, not both", function() vm:load_raw({ path = raw }, 0) end)
t.raises("load_raw: cs must be at most 0xffff", function() vm:load_raw{ path = raw, addr = 0, cs = 0x10000 } end)
-- shrinking RAM below a loaded image is refused, and RAM stays as it was
t.raises("RAM size 0 bytes is not supported", function() vm.ram_size = 0 end)
vm.ram_size = "1M"
vm:load_raw{ path = raw, addr = 0x80000 }
t.raises("does not fit in RAM: it would end at 0x80008, RAM is 262144 bytes", function() vm.ram_size = "256K" end)
t.eq(vm.ram_size, 1 << 20)
t.eq(vm.mem:read(0x80000, #prog), prog)

-- boot sectors: 512 bytes ending in 55 AA, entered at 0000:7C00 with DL = 0x80
local sector = "\xFA\xF4" .. string.rep("\0", 508) .. "\x55\xAA"
local bs = t.tmpfile(sector)
local b = moon86.new{ ram = "1M" }
b:load_boot_sector(bs)
t.eq(b.cpu.cs.selector, 0)
t.eq(b.cpu.eip, 0x7C00)
t.eq(b.cpu.edx & 0xFF, 0x80)
t.eq(b.mem:read(0x7C00, 512), sector)
local short = t.tmpfile(sector:sub(1, 300))
t.raises("is 300 bytes: a boot sector is exactly 512 bytes", function() b:load_boot_sector(short) end)
local unsigned = t.tmpfile(string.rep("\0", 512))
t.raises("is not a boot sector: bytes 510-511 are 00 00, expected 55 aa", function() b:load_boot_sector(unsigned) end)
t.eq(b.mem:read(0x7C00, 512), sector, "a rejected image changes nothing")
b:power_on()
t.eq(b:run(10), "halted")
t.eq(b.cpu.eip, 0x7C02)
t.raises("cannot load_boot_sector while the VM is halted", function() b:load_boot_sector(bs) end)

-- a ROM entered at the reset vector F000:FFF0: a far jump into RAM, where the
-- program reports a POST code and halts
local rom_image = string.rep("\xF4", 0x10000 - 16) .. "\xEA\x00\x00\x00\x02" .. string.rep("\xF4", 11)
local rom = t.tmpfile(rom_image)
local r = moon86.new{ ram = "1M" }
r:load_rom(rom)
r.mem:write(0x2000, "\xB0\x42\xE6\x80\xFA\xF4") -- mov al,0x42 ; out 0x80,al ; cli ; hlt
r:power_on()
t.eq(r:run(100), "halted")
t.eq(r.post_code, 0x42)
t.eq(r.cpu.cs.selector, 0x200)
t.eq(r.cpu.cs.base, 0x2000, "the far jump reloads CS the real-mode way")
r:reset()
t.eq(r.cpu.cs.base, 0xFFFF0000, "reset returns to the reset vector")
t.eq(r:run(100), "halted")
os.remove(rom)

-- ROM size rules
local odd = t.tmpfile(string.rep("\0", 1000))
t.raises("a ROM image must be a multiple of 2 KiB", function() moon86.new{}:load_rom(odd) end)

for _, f in ipairs { raw, empty, bs, short, unsigned, odd } do os.remove(f) end
print("loaders: ok")

-- Linux and Multiboot kernels: malformed files are refused before anything runs
local k = moon86.new{ ram = "64M" }
local junk = t.tmpfile(string.rep("\0", 4096))
t.raises("not a Linux bzImage (no \"HdrS\" setup header)", function() k:load_linux{ kernel = junk } end)
t.raises("too short for a Linux setup header", function() k:load_linux{ kernel = t.tmpfile("MZ") } end)
t.raises("no Multiboot header (magic 0x1BADB002) in the first 8 KiB", function() k:load_multiboot{ kernel = junk } end)
t.raises("load_linux: kernel is missing", function() k:load_linux{ initrd = junk } end)
t.raises("load_linux: unknown option 'initramfs'", function() k:load_linux{ kernel = junk, initramfs = junk } end)
t.raises("load_multiboot: modules[1] must be a path", function() k:load_multiboot{ kernel = junk, modules = { 5 } } end)
t.eq(k.cpu.cr0 & 1, 0, "nothing changed: still in real mode")
os.remove(junk)
print("kernel loaders: ok")
