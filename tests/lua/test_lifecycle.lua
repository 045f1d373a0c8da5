-- Every lifecycle transition, and every illegal one, through the Lua API.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")

local HLT_CLI = "\xFA\xF4" -- cli; hlt

-- Puts a program at 0100:0000 and points CS:EIP at it (power-off and reset
-- return the CPU to the reset vector, so each phase seeds it again).
local function seed(vm, code)
  vm.mem:write(0x1000, code)
  vm.cpu.cs.selector = 0x100
  vm.cpu.eip = 0
end

local vm = t.machine(HLT_CLI)
vm:power_off()
t.eq(vm.state, "off")

-- off: only power_on, loading, memory and destroy are allowed
for _, action in ipairs { "run", "step", "pause", "resume", "power_off", "reset" } do
  t.raises("cannot " .. action .. " while the VM is off", function() vm[action](vm) end)
end

-- off -> paused
seed(vm, HLT_CLI)
vm:power_on()
t.eq(vm.state, "paused")
t.raises("cannot power_on while the VM is paused: power_on is allowed only while off", function() vm:power_on() end)
vm:pause() -- pausing a paused VM is allowed and changes nothing
t.eq(vm.state, "paused")

-- paused -> running -> paused
vm:resume()
t.eq(vm.state, "running")
t.raises("cannot set ram_size while the VM is running: it may be set only while off", function() vm.ram_size = 1 end)
t.raises("cannot set cpu.eax while the VM is running: it may be set only while off, paused", function() vm.cpu.eax = 1 end)
t.eq(vm.state, "running", "a failed set leaves the VM running")
t.eq(vm.ram_size, 1 << 20, "and its RAM size unchanged")
t.raises("cannot step while the VM is running", function() vm:step() end)
t.raises("cannot resume while the VM is running", function() vm:resume() end)
t.eq(vm.cpu.eip, 0, "registers can be read while running")
t.eq(vm.cpu.cs.base, 0x1000)
vm:pause()
t.eq(vm.state, "paused")

-- paused -> (run) -> halted; halted allows only reset, power_off, destroy
t.eq(vm:run{ instructions = 100 }, "halted")
t.eq(vm.state, "halted")
t.eq(vm.halt_reason, "hlt")
for _, action in ipairs { "run", "step", "pause", "resume", "power_on" } do
  t.raises("cannot " .. action .. " while the VM is halted", function() vm[action](vm) end)
end
t.raises("cannot set cpu.eip while the VM is halted", function() vm.cpu.eip = 0 end)

-- halted -> reset -> paused (halt reason cleared, icount restarts)
vm:reset()
t.eq(vm.state, "paused")
t.eq(vm.halt_reason, nil)
t.eq(vm.icount, 0)

-- running -> reset, running -> power_off, halted -> power_off
vm:resume()
vm:reset()
t.eq(vm.state, "paused")
vm:resume()
vm:power_off()
t.eq(vm.state, "off")
vm:power_on()
seed(vm, HLT_CLI)
t.eq(vm:run(), "halted")
vm:power_off()
t.eq(vm.state, "off")

-- a budget stop returns a running VM to running, a paused one to paused
vm:power_on()
seed(vm, "\xEB\xFE") -- jmp $
t.eq(vm:run{ instructions = 10 }, "budget")
t.eq(vm.state, "paused")
vm:resume()
t.eq(vm:run{ instructions = 10 }, "budget")
t.eq(vm.state, "running")
vm:pause()

-- anything -> destroyed; afterwards every call fails, `state` still answers
vm:destroy()
t.eq(vm.state, "destroyed")
for _, action in ipairs { "power_on", "power_off", "reset", "pause", "resume", "run", "step", "destroy" } do
  t.raises("the VM has been destroyed", function() vm[action](vm) end)
end
t.raises("the VM has been destroyed", function() return vm.cpu.eax end)
t.raises("the VM has been destroyed", function() return vm.mem:read(0, 1) end)
t.eq(tostring(vm), "moon86.vm (destroyed)")

-- destroy from paused and from off
local a = moon86.new{}
a:destroy()
t.eq(a.state, "destroyed")
local b = moon86.new{}
b:power_on()
b:destroy()
t.eq(b.state, "destroyed")
print("lifecycle: ok")
