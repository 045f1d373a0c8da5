-- Guest memory through Lua: reads, writes, integers, dumps, ROM, range errors.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")

local vm = moon86.new{ ram = "1M" }
vm.mem:write(0x500, "\1\2\3\4")
t.eq(vm.mem:read(0x500, 4), "\1\2\3\4")
t.eq(vm.mem:read_u8(0x501), 2)
t.eq(vm.mem:read_u16(0x501), 0x0302)
t.eq(vm.mem:read_u32(0x500), 0x04030201)
vm.mem:write_u32(0x600, 0xCAFEBABE)
t.eq(vm.mem:read(0x600, 4), "\xBE\xBA\xFE\xCA")
vm.mem:write_u16(0x604, 0x1234)
vm.mem:write_u8(0x606, 0xFF)
t.eq(vm.mem:read_u32(0x604), 0x00FF1234)
t.eq(vm.mem:read(0, 0), "")
t.eq(#vm.mem:read(0, 0x100000), 0x100000, "all of RAM")

-- errors name the range and leave memory as it was
t.raises("range 0xffffe..0x100002 (4 bytes) is outside guest memory (RAM is 1048576 bytes)",
  function() vm.mem:write(0xFFFFE, "abcd") end)
t.eq(vm.mem:read(0xFFFFE, 2), "\0\0", "a failed write writes nothing")
t.raises("is outside guest memory", function() vm.mem:read(0x100000, 1) end)
t.raises("is outside guest memory", function() vm.mem:read_u32(0xFFFFF) end)
t.raises("does not fit in 1 byte(s)", function() vm.mem:write_u8(0, 256) end)
t.raises("addr must be a non-negative integer", function() vm.mem:read(-1, 1) end)
t.raises("addr: 'here' is not a number", function() vm.mem:read("here", 1) end)
t.raises("len is missing", function() vm.mem:read(0) end)
t.raises("data must be a string", function() vm.mem:write(0, 5) end)

-- dump: exact bytes to a file; a bad range or path writes nothing
local out = t.tmpfile()
os.remove(out)
vm.mem:dump(0x500, 8, out)
t.eq(t.read_file(out), "\1\2\3\4\0\0\0\0")
os.remove(out)
t.raises("is outside guest memory", function() vm.mem:dump(0xFFFF0, 0x20, out) end)
t.eq(t.read_file(out), nil, "no file after a failed dump")
t.raises("cannot write '/nonexistent-dir/x.bin'", function() vm.mem:dump(0, 16, "/nonexistent-dir/x.bin") end)

-- ROM: mapped at the top of 4 GiB and below 1 MiB, read-only to loaders and the CPU
local rom_bytes = string.rep("\xAA", 0x10000 - 16) .. "\xEA\x00\x10\x00\x01" .. string.rep("\xBB", 11)
local rom = t.tmpfile(rom_bytes)
local r = moon86.new{ ram = "2M" }
r:load_rom(rom)
t.eq(r.cpu.cs.base, 0xFFFF0000)
t.eq(r.cpu.eip, 0xFFF0)
t.eq(r.mem:read(0xFFFFFFF0, 5), "\xEA\x00\x10\x00\x01", "ROM at the top of 4 GiB")
t.eq(r.mem:read(0xFFFF0, 5), "\xEA\x00\x10\x00\x01", "ROM below 1 MiB")
t.eq(r.mem:read_u8(0xF0000), 0xAA)
t.raises("overlaps the ROM at 0xf0000, which is read-only", function() r.mem:write(0xF0000, "x") end)
t.eq(r.mem:read_u8(0xF0000), 0xAA)
t.raises("is outside guest memory", function() r.mem:read(0x80000000, 1) end)
os.remove(rom)
print("memory: ok")
