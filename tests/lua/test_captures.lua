-- Captures through Lua: screen:png, cpu:regs, capture bundles, bad input.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")

local function be32(s, at)
  local a, b, c, d = s:byte(at, at + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- A scratch directory path (not created); `cleanup` removes what the tests put there.
local function scratch()
  local name = os.tmpname()
  os.remove(name)
  return name
end

local bundle_files = { "screen.png", "regs.json", "serial.log" }
local function remove_bundle(path, extra)
  for _, f in ipairs(bundle_files) do os.remove(path .. "/" .. f) end
  for _, f in ipairs(extra or {}) do os.remove(path .. "/" .. f) end
  os.remove(path)
end

-- mov dx, 0x3f8; mov al, 'h'; out dx, al; mov al, 'i'; out dx, al;
-- mov ebx, 0x12345678; hlt
local code = "\xBA\xF8\x03\xB0\x68\xEE\xB0\x69\xEE\x66\xBB\x78\x56\x34\x12\xF4"
local vm = t.machine(code)

-- screen:png: a PNG of 720x400 (9x16 cells), written whole
vm.mem:write(0xB8000, "A\x1F")
local png = t.tmpfile()
vm.screen:png(png)
local bytes = t.read_file(png)
t.eq(bytes:sub(1, 8), "\x89PNG\r\n\x1a\n", "PNG signature")
t.eq(bytes:sub(13, 16), "IHDR")
t.eq(be32(bytes, 17), 720, "width")
t.eq(be32(bytes, 21), 400, "height")
os.remove(png)
t.raises("cannot write '/nonexistent-dir/screen.png'",
  function() vm.screen:png("/nonexistent-dir/screen.png") end)
t.raises("screen.png: path is missing", function() vm.screen:png() end)

-- cpu:regs: every register, nested segments, derived state
vm.cpu.eax = 0xDEADBEEF
vm.cpu.esi = 7
vm.cpu.ds.selector = 0x1234
vm.cpu.fs.limit = 0xFFFFF
local r = vm.cpu:regs()
t.eq(r.eax, 0xDEADBEEF)
t.eq(r.esi, 7)
t.eq(r.esp, 0x8000)
t.eq(r.eip, 0)
t.eq(r.cs, 0x100)
t.eq(r.ds, 0x1234)
t.eq(r.segs.ds.selector, 0x1234)
t.eq(r.segs.ds.base, 0x12340, "real-mode base follows the selector")
t.eq(r.segs.cs.base, 0x1000)
t.eq(r.segs.fs.limit, 0xFFFFF)
t.eq(type(r.segs.ss.access), "number")
t.eq(r.eflags & 2, 2, "eflags bit 1")
t.eq(r.cr0 & 1, 0)
t.eq(r.gdtr.limit, 0xFFFF)
t.eq(r.idtr.base, 0)
t.eq(r.idtr.limit, 0x3FF)
t.eq(r.cpl, 0)
t.eq(r.mode, "real")
t.eq(r.paging, false)
t.eq(r.halted, false)
t.eq(r.icount, 0)
for _, name in ipairs { "ebx", "ecx", "edx", "edi", "ebp", "es", "gs", "ss", "cr2", "cr3", "cr4" } do
  t.eq(type(r[name]), "number", name)
end
t.eq(type(r.ldtr), "table")
t.eq(type(r.tr.base), "number")
vm.cpu.cr0 = 1
t.eq(vm.cpu:regs().mode, "protected")
vm.cpu.cr0 = 0

t.eq(vm:run(100), "halted")
r = vm.cpu:regs()
t.eq(r.ebx, 0x12345678, "after running")
t.eq(r.icount, vm.icount)
t.eq(r.halted, true)

-- capture: a bundle named by icount, with every part asked for
local dir = scratch() .. "/captures/deep"
local ram_name = ("ram-%08x-%08x.bin"):format(0x1000, 0x1010)
local vga_name = ("ram-%08x-%08x.bin"):format(0xB8000, 0xB8FA0)
local path = vm:capture{ dir = dir, ram = { {0x1000, 0x1010}, {0xB8000, 0xB8FA0} } }
t.eq(path, ("%s/capture-%012d"):format(dir, vm.icount))
for _, f in ipairs(bundle_files) do t.truthy(exists(path .. "/" .. f), f) end
t.eq(t.read_file(path .. "/" .. ram_name), vm.mem:read(0x1000, 0x10))
t.eq(t.read_file(path .. "/" .. vga_name), vm.mem:read(0xB8000, 0xFA0))
t.eq(t.read_file(path .. "/serial.log"), vm.serial:text())
t.eq(t.read_file(path .. "/serial.log"), "hi")
local json = t.read_file(path .. "/regs.json")
t.eq(tonumber(json:match('"eip": (%d+)')), vm.cpu.eip, "regs.json has eip")
t.eq(tonumber(json:match('"ebx": (%d+)')), 0x12345678)
t.truthy(json:match('"mode": "real"'), "mode in regs.json")
t.eq(t.read_file(path .. "/screen.png"):sub(2, 4), "PNG")

-- a second capture at the same icount gets its own directory
local second = vm:capture{ dir = dir, screen = false, serial = false }
t.eq(second, path .. "-2")
t.truthy(exists(second .. "/regs.json"))
t.eq(exists(second .. "/screen.png"), false, "screen = false")
t.eq(exists(second .. "/serial.log"), false, "serial = false")
local third = vm:capture(dir)
t.eq(third, path .. "-3", "a plain string is the directory")
t.truthy(exists(third .. "/screen.png"), "defaults: screen, regs and serial")
t.eq(exists(third .. "/" .. ram_name), false, "defaults: no RAM")

-- bad input: a clear error, nothing written, the VM unharmed
local file = t.tmpfile("not a directory")
t.raises("cannot write the capture bundle in '" .. file .. "/sub' (creating the directory)",
  function() vm:capture{ dir = file .. "/sub" } end)
t.raises("bad RAM range {0x2000, 0x1000}: the end must be greater than the start",
  function() vm:capture{ dir = dir, ram = { {0x1000, 0x1010}, {0x2000, 0x1000} } } end)
t.raises("bad RAM range {0x1000, 0x1000}", function() vm:capture{ dir = dir, ram = { {0x1000, 0x1000} } } end)
t.raises("bad RAM range {0xff000, 0x101000}: range 0xff000..0x101000 (8192 bytes) is outside guest memory",
  function() vm:capture{ dir = dir, ram = { {0xFF000, 0x101000} } } end)
t.raises("capture: ram[1] must be a {start, end} pair, got 1 values",
  function() vm:capture{ dir = dir, ram = { {0x1000} } } end)
t.raises("capture: ram is a list of {start, end} pairs",
  function() vm:capture{ dir = dir, ram = { 0, 0x1000 } } end)
t.raises("capture: ram[2] must be a {start, end} pair, got a string",
  function() vm:capture{ dir = dir, ram = { {0, 1}, "x" } } end)
t.raises("capture: ram[1] start must be a non-negative integer",
  function() vm:capture{ dir = dir, ram = { {-1, 1} } } end)
t.raises("capture: unknown option 'screenshot'", function() vm:capture{ dir = dir, screenshot = true } end)
t.raises("capture: screen must be true or false", function() vm:capture{ dir = dir, screen = 1 } end)
t.raises("capture: dir is missing", function() vm:capture{} end)
t.eq(exists(path .. "-4"), false, "no bundle after a failed capture")

vm:reset()
vm.mem:write(0x1000, code)
vm.cpu.cs.selector = 0x100
vm.cpu.eip = 0
t.eq(vm:run(100), "halted", "the VM still runs after the errors")
t.eq(vm.cpu.ebx, 0x12345678)
local after = vm:capture{ dir = dir, regs = false, serial = false, screen = false, ram = { {0, 16} } }
t.eq(vm.icount, 7, "icount restarted at the reset...")
t.eq(after, path .. "-4", "...so the name is taken and the bundle gets the next suffix")
t.eq(t.read_file(after .. "/" .. ("ram-%08x-%08x.bin"):format(0, 16)), vm.mem:read(0, 16))

remove_bundle(path, { ram_name, vga_name })
remove_bundle(second)
remove_bundle(third)
remove_bundle(after, { ("ram-%08x-%08x.bin"):format(0, 16) })
os.remove(dir)
os.remove(dir:match("^(.*)/"))
os.remove(dir:match("^(.*)/"):match("^(.*)/"))
os.remove(file)
print("captures: ok")
