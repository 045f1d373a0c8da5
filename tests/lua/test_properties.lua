-- The property table through Lua: types, units, states, errors, introspection.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")

local vm = moon86.new{ ram = "16M" }
t.eq(vm.ram_size, 16 * 1024 * 1024)
vm.ram_size = "32M"
t.eq(vm.ram_size, 32 << 20)
vm.ram_size = 8 * 1024 * 1024
t.eq(vm.ram_size, 8 << 20)
vm.ram_size = "0x100000"
t.eq(vm.ram_size, 1 << 20)

-- bad sizes: clear errors, nothing changes
t.raises("bad size '16Q'", function() vm.ram_size = "16Q" end)
t.raises("must be a multiple of 4 KiB", function() vm.ram_size = 1000 end)
t.raises("RAM size 1 bytes is not supported", function() vm.ram_size = 1 end)
t.raises("expected size", function() vm.ram_size = true end)
t.raises("expected a whole number", function() vm.ram_size = 1.5 end)
t.eq(vm.ram_size, 1 << 20, "RAM size after failed sets")
t.raises("moon86.new: bad value for ram_size: bad size 'lots'", function() moon86.new{ ram = "lots" } end)
t.raises("moon86.new: unknown property 'colour'", function() moon86.new{ colour = 1 } end)
t.raises("moon86.new expects a table", function() moon86.new("16M") end)

-- registers: integers, numeric strings, ranges
vm.cpu.eax = 0xDEADBEEF
t.eq(vm.cpu.eax, 0xDEADBEEF)
vm.cpu.ebx = "0x10"
t.eq(vm.cpu.ebx, 16)
vm.cpu.ecx = 1e3
t.eq(vm.cpu.ecx, 1000)
t.raises("bad value for cpu.eax: 'twelve' is not a number", function() vm.cpu.eax = "twelve" end)
t.raises("bad value for cpu.eax: 4294967296 is out of range", function() vm.cpu.eax = 0x100000000 end)
t.raises("bad value for cpu.eax: -1 is out of range", function() vm.cpu.eax = -1 end)
t.raises("bad value for cpu.edx: a table cannot be a property value", function() vm.cpu.edx = {} end)
t.eq(vm.cpu.eax, 0xDEADBEEF, "EAX after failed sets")

-- segments: in real mode the selector sets the base
vm.cpu.ds.selector = 0x1234
t.eq(vm.cpu.ds.base, 0x12340)
t.eq(vm.cpu.ds.limit, 0xFFFF)
vm.cpu.ds.base = 0x1000
t.eq(vm.cpu.ds.base, 0x1000)
t.eq(vm.cpu.cs.selector, 0xF000, "reset CS")
t.eq(vm.cpu.cs.base, 0xFFFF0000, "reset CS base")
t.eq(vm.cpu.eip, 0xFFF0, "reset EIP")
t.eq(vm.cpu.eflags, 2, "reset EFLAGS")
vm.cpu.eflags = 0xFFFFFFFF
t.eq(vm.cpu.eflags & 0x2, 2, "EFLAGS bit 1 reads as one")
t.eq(vm.cpu.eflags & 0x8, 0, "EFLAGS bit 3 is reserved")
t.eq(vm.cpu.cr0 & 0x10, 0x10, "CR0.ET after reset")

-- read-only and unknown properties
t.raises("state is read-only", function() vm.state = "paused" end)
t.raises("icount is read-only", function() vm.icount = 5 end)
t.raises("unknown property or method 'cpu.eaz' (did you mean 'cpu.eax'?)", function() return vm.cpu.eaz end)
t.raises("unknown property 'ram_szie' (did you mean 'ram_size'?)", function() vm.ram_szie = 1 end)
t.raises("unknown property or method 'powr_on' (did you mean 'power_on'?)", function() return vm.powr_on end)
t.raises("unknown property or method 'cpu.cs.bsae' (did you mean 'cpu.cs.base'?)", function() return vm.cpu.cs.bsae end)

-- settable-only-while-off properties
t.eq(vm.cpu_model, "i686", "the default CPU")
vm.cpu_model = "386"
t.eq(vm.cpu_model, "i386")
t.raises("unknown CPU model 'z80' (known models: i386, i486, i686, pentium-m)", function() vm.cpu_model = "z80" end)
vm.exit_port = 0x501
t.eq(vm.exit_port, 0x501)
vm:power_on()
t.raises("cannot set cpu_model while the VM is paused: it may be set only while off", function() vm.cpu_model = "i386" end)
t.raises("cannot set exit_port while the VM is paused", function() vm.exit_port = 0xF4 end)
t.raises("cannot set ram_size while the VM is paused", function() vm.ram_size = "32M" end)
t.eq(vm.ram_size, 1 << 20)
vm.cpu.eax = 7 -- registers are settable while paused
t.eq(vm.cpu.eax, 7)
vm.debugcon.echo = false -- echo is settable in every live state
t.eq(vm.debugcon.echo, false)

-- echo settings survive a RAM-size change and a power cycle
local e = moon86.new{ ram = "1M" }
e.serial.echo = true
e.debugcon.echo = true
e.ram_size = "2M"
t.eq(e.serial.echo, true, "serial echo after a RAM-size change")
t.eq(e.debugcon.echo, true, "debugcon echo after a RAM-size change")
e:power_on()
e:power_off()
t.eq(e.serial.echo, true, "serial echo after a power cycle")
e.serial.echo = false
e.debugcon.echo = false

-- defaults and lists
t.eq(vm.exit_code, nil)
t.eq(vm.halt_reason, nil)
t.eq(vm.post_code, nil)
t.eq(#vm.post_codes, 0)
t.eq(vm.cpu.halted, false)

-- introspection: every property and action, with docs
local props = vm:properties()
local seen = {}
for _, p in ipairs(props) do
  t.truthy(#p.doc > 0, p.path .. " has a doc string")
  seen[p.path] = p
end
for _, path in ipairs { "state", "ram_size", "cpu_model", "cpu.eax", "cpu.edi", "cpu.eip", "cpu.eflags",
                        "cpu.cs.selector", "cpu.gs.limit", "cpu.cr0", "post_code", "post_codes", "exit_code" } do
  t.truthy(seen[path], "property " .. path)
end
t.eq(seen.ram_size.settable_in[1], "off")
t.eq(#seen.ram_size.settable_in, 1)
t.eq(seen.ram_size.unit, "bytes")
t.eq(#seen.state.settable_in, 0)
local names = {}
for _, a in ipairs(moon86.actions()) do names[a.name] = a end
for _, n in ipairs { "power_on", "power_off", "reset", "pause", "resume", "step", "run", "load_raw",
                     "load_rom", "load_boot_sector", "mem.read", "mem.write", "mem.dump" } do
  t.truthy(names[n], "action " .. n)
end
t.truthy(vm:help("cpu.eax"):find("settable while off, paused", 1, true), "help for a property")
t.truthy(moon86.help("power_on"):find("Allowed while off.", 1, true), "help for an action")
t.raises("unknown property or method 'nothing_like_it'", function() moon86.help("nothing_like_it") end)
t.eq(tostring(vm), "moon86.vm (paused, ram 1M)")
t.eq(tostring(vm.cpu.cs), "moon86.vm.cpu.cs")
t.raises("call power_off with ':'", function() vm.power_off() end)
print("properties: ok")
