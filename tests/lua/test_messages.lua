-- Messages that used to mislead (issue 12, section 7), each checked word
-- for word where it matters.
local here = arg[0]:match("^(.*)/") or "."
local t = dofile(here .. "/check.lua")
local HELLO = here .. "/../../guests/hello/boot.bin"

local function hello()
  local vm = moon86.new{ ram = "1M" }
  vm:load_boot_sector(HELLO)
  vm:power_on()
  return vm
end

-- A period below the clock's resolution says so; a zero period is still zero.
do
  local vm = hello()
  local f = function() end
  t.raises("every: a period of 1e-12 s is shorter than the virtual clock's resolution (1 ns)",
    function() vm:every(1e-12, f) end)
  t.raises("every: a period of \"0.2ns\" is shorter than the virtual clock's resolution (1 ns)",
    function() vm:every("0.2ns", f) end)
  t.raises("a period must be longer than zero", function() vm:every(0, f) end)
  t.eq(#vm:hooks(), 0)
end

-- serial:expect inside a callback that fires again inside it: the failure
-- is named once, not once per level.
do
  local vm = hello()
  vm:on_exec(0x7c15, function() vm.serial:expect("nope", { timeout = "1ms" }) end)
  local e = t.raises("moon86: hook 1 (exec 0x7c15) failed at guest",
    function() vm:run{ instructions = 100000 } end)
  local _, n = e:gsub("failed at guest", "")
  t.eq(n, 1, "times the failure is named in: " .. e)
  t.truthy(e:find('serial:expect: "nope" not seen', 1, true), e)
end

-- A method indexed by its dotted name: the Lua spelling, not itself.
do
  local vm = hello()
  local e = t.raises("'screen.on_text' is a method, not a field: call it as vm.screen:on_text(...)",
    function() return vm["screen.on_text"] end)
  t.truthy(not e:find("did you mean 'screen.on_text'", 1, true), e)
  t.raises("'serial.expect' is a method, not a field: call it as vm.serial:expect(...)",
    function() return vm["serial.expect"] end)
  t.raises("unknown property or method 'screen.on_txt' (did you mean vm.screen:on_text?)",
    function() return vm.screen.on_txt end)
  t.raises("unknown property or method 'powr_on' (did you mean 'power_on'?)",
    function() return vm.powr_on end)
end

-- A destroyed VM: `state` answers, any other read names itself, and the
-- reference says the same.
do
  local vm = hello()
  vm:destroy()
  t.eq(vm.state, "destroyed")
  t.raises("cannot read ram_size: the VM has been destroyed (only state can be read then)",
    function() return vm.ram_size end)
  t.raises("cannot read cpu.eax: the VM has been destroyed", function() return vm.cpu.eax end)
  local f = assert(io.open(here .. "/../../docs/lua-api.md"))
  local reference = f:read("a")
  f:close()
  t.truthy(reference:find("Every property can be read in every state but `destroyed`, where only `state` can be read", 1, true),
    "the reference's sentence on reading properties")
  t.truthy(not reference:find("Every property can be read in every state.", 1, true), "the old sentence")
end

print("ok")
