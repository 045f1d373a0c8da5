-- The reference (docs/lua-api.md, generated from the action table) against
-- the calls: every action documented with a table form is called here in
-- both documented forms, built from the argument names the reference
-- prints, and both must do the same thing.
local here = arg[0]:match("^(.*)/") or "."
local t = dofile(here .. "/check.lua")
local HELLO = here .. "/../../guests/hello/boot.bin"

-- The documented forms: "### `name(a, b)`" and "`vm:name{ a = ..., b = ... }`".
local doc = assert(t.read_file(here .. "/../../docs/lua-api.md"), "docs/lua-api.md")
local forms = {}
local current
for line in doc:gmatch("[^\n]+") do
  local name, args = line:match("^### `([%w_.]+)%((.-)%)`$")
  if name then
    current = name
    forms[name] = { args = {} }
    for a in args:gmatch("[%w_]+") do table.insert(forms[name].args, a) end
  end
  local tname, fields = line:match("`vm:([%w_]+){ (.-) }`")
  if tname and tname == current then
    forms[current].named = {}
    for f in fields:gmatch("([%w_]+) = %.%.%.") do table.insert(forms[current].named, f) end
  end
end

local prog = "\xB8\x07\x00\xBB\x09\x00\xFA\xF4" -- mov ax,7 ; mov bx,9 ; cli ; hlt
local raw = t.tmpfile(prog)
local rom_bytes = string.rep("\x90", 0x10000 - 16) .. "\xEA\x00\x00\x00\xF0" .. string.rep("\0", 11)
local rom = t.tmpfile(rom_bytes)
local junk = t.tmpfile(string.rep("junk", 1000))
-- A Multiboot kernel with the header's load addresses (flag 16): loaded at
-- 1 MiB, entered at its first instruction after the header.
local MAGIC, FLAGS = 0x1BADB002, 0x00010000
local mb = string.pack("<I4I4I4I4I4I4I4I4", MAGIC, FLAGS, (-(MAGIC + FLAGS)) & 0xFFFFFFFF,
  0x100000, 0x100000, 0, 0, 0x100020) .. "\xFA\xF4"
local mb_kernel = t.tmpfile(mb)
local disk = t.tmpfile(string.rep("\0", 4096))

-- Sample values by argument name, and what loading them must have done.
local samples = {
  load_raw = {
    values = { path = raw, addr = 0x2000, cs = 0x200, ip = 0 },
    check = function(vm)
      t.eq(vm.mem:read(0x2000, #prog), prog)
      t.eq(vm.cpu.cs.selector, 0x200)
      t.eq(vm.cpu.eip, 0)
    end,
  },
  load_rom = {
    values = { path = rom },
    check = function(vm)
      t.eq(vm.mem:read(0xFFFF0, 5), "\xEA\x00\x00\x00\xF0")
      t.eq(vm.cpu.cs.selector, 0xF000)
      t.eq(vm.cpu.eip, 0xFFF0)
    end,
  },
  load_boot_sector = {
    values = { path = HELLO },
    check = function(vm)
      t.eq(vm.mem:read_u16(0x7C00 + 510), 0xAA55)
      t.eq(vm.cpu.eip, 0x7C00)
    end,
  },
  load_linux = {
    -- No bzImage is at hand: both forms must reach the loader with the
    -- kernel, and a bad cmdline in third place must be named as cmdline.
    values = { kernel = junk, initrd = junk, cmdline = "console=ttyS0" },
    fails = "not a Linux bzImage",
  },
  attach_drive = {
    values = { file = HELLO, index = 1, media = "disk", readonly = true, snapshot = true },
    check = function(vm)
      local d = vm:drives()[1]
      t.eq(d.name, "ide1")
      t.eq(d.mode, "read-only")
      t.eq(vm.disk:read("ide1", 0):sub(511), "\x55\xAA")
    end,
  },
  load_multiboot = {
    values = { kernel = mb_kernel, cmdline = "mb-args", modules = { HELLO } },
    check = function(vm)
      t.eq(vm.mem:read(0x100000, #mb), mb)
      t.eq(vm.cpu.eip, 0x100020)
      t.eq(vm.cpu.eax, 0x2BADB002)
      local cmdline = vm.mem:read_u32(vm.cpu.ebx + 16)
      t.eq(vm.mem:read(cmdline, 8), "mb-args\0")
      t.eq(vm.mem:read_u32(vm.cpu.ebx + 20), 1, "one module")
    end,
  },
}

local checked = 0
for _, a in ipairs(moon86.actions()) do
  if a.named then
    local f = forms[a.name]
    t.truthy(f, a.name .. " is documented")
    t.truthy(f.named, a.name .. ": the reference shows the table form")
    t.eq(table.concat(f.args, ","), table.concat(a.args, ","), a.name .. ": documented arguments")
    t.eq(table.concat(f.named, ","), table.concat(a.args, ","), a.name .. ": documented table form")
    local s = samples[a.name]
    t.truthy(s, a.name .. " has sample values in this test")
    local positional, named = {}, {}
    for i, name in ipairs(f.args) do
      local v = s.values[name]
      t.truthy(v ~= nil, a.name .. ": a sample for " .. name)
      positional[i] = v
    end
    for _, name in ipairs(f.named) do named[name] = s.values[name] end
    for _, call in ipairs {
      function(vm) return vm[a.name](vm, table.unpack(positional, 1, #f.args)) end,
      function(vm) return vm[a.name](vm, named) end,
    } do
      local vm = moon86.new{ ram = "4M" }
      if s.fails then
        t.raises(s.fails, call, vm)
      else
        call(vm)
        s.check(vm)
      end
      checked = checked + 1
    end
  end
end
t.eq(checked, 12, "five loaders and attach_drive, two forms each")

-- Positions map to the documented names: a bad value in each place is
-- reported under that place's name.
local vm = moon86.new{ ram = "4M" }
t.raises("load_raw: addr: 'nowhere' is not a number", function() vm:load_raw(raw, "nowhere") end)
t.raises("load_raw: cs must be at most 0xffff", function() vm:load_raw(raw, 0, 0x10000) end)
t.raises("load_raw: ip must be at most 0xffff", function() vm:load_raw(raw, 0, 0, 0x10000) end)
t.raises("load_linux: initrd must be a string", function() vm:load_linux(junk, 5) end)
t.raises("load_linux: cmdline must be a string", function() vm:load_linux(junk, nil, 5) end)
t.raises("load_multiboot: cmdline must be a string", function() vm:load_multiboot(mb_kernel, 5) end)
t.raises("load_multiboot: modules must be a list", function() vm:load_multiboot(mb_kernel, "", 5) end)
t.raises("load_rom takes at most 1 argument (path), got 2", function() vm:load_rom(rom, 1) end)
t.raises("load_boot_sector: unknown option 'file'", function() vm:load_boot_sector{ file = HELLO } end)

t.truthy(moon86.help("load_raw"):find("Or by name: load_raw{ path = ..., addr = ..., cs = ..., ip = ... }", 1, true), "help shows the table form")

for _, f in ipairs { raw, rom, junk, mb_kernel, disk } do os.remove(f) end
print("reference ok")
