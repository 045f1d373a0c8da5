-- Input that used to be accepted and then failed later (or never): each is
-- refused when it is given, at the caller's line, naming the problem.
local here = arg[0]:match("^(.*)/") or "."
local t = dofile(here .. "/check.lua")
local HELLO = here .. "/../../guests/hello/boot.bin"
local this = arg[0]:match("[^/]*$")

local function noop() end

-- Malformed patterns: refused when the hook or the wait is set up.
local vm = moon86.new{ ram = "1M" }
local e = t.raises("serial:on_text: the pattern \"[\" is not a valid Lua pattern: malformed pattern (missing ']')",
  function() vm.serial:on_text("[", noop) end)
t.truthy(e:find(this .. ":%d+:"), "the error names the caller's line: " .. e)
t.raises("screen:on_text: the pattern \"%\" is not a valid Lua pattern: malformed pattern (ends with '%')",
  function() vm.screen:on_text("%", noop) end)
t.raises("unfinished capture", function() vm.serial:on_text("(a", noop) end)
t.raises("invalid capture index %1", function() vm.serial:on_text("%1", noop) end)
t.eq(#vm:hooks(), 0, "no hook was added")
-- Plain text is never a pattern; a good pattern is accepted.
vm.serial:on_text("[", noop, { plain = true })
vm.screen:on_text("%d+%%", noop)
t.eq(#vm:hooks(), 2)
vm:load_boot_sector(HELLO)
vm:power_on()
e = t.raises("serial:expect: the pattern \"[\" is not a valid Lua pattern",
  function() vm.serial:expect("[", { timeout = "1ms" }) end)
t.truthy(e:find(this .. ":%d+:"), "the error names the caller's line: " .. e)
t.raises("screen:wait_text: the pattern \"x%\" is not a valid Lua pattern",
  function() vm.screen:wait_text("x%", { timeout = "1ms" }) end)
t.eq(vm.icount, 0, "nothing ran")

-- An expect that times out prints its pattern on one line, escaped.
e = t.raises("serial:expect: \"no\\nsuch\\t\\000\" not seen",
  function() vm.serial:expect("no\nsuch\t\0", { timeout = "1ms" }) end)
t.truthy(not e:match("^[^\n]*no\\\n"), "the pattern is on one line: " .. e)
local screen_vm = moon86.new{ ram = "1M" }
screen_vm:load_boot_sector(HELLO)
screen_vm:power_on()
t.raises("screen:wait_text: \"a\\nb\" not seen",
  function() screen_vm.screen:wait_text("a\nb", { timeout = "1ms" }) end)

-- Ranges: exactly two positions or the names, nothing else.
local h = moon86.new{ ram = "1M" }
t.raises("on_exec: a range is { start, end } (end exclusive), { start = , len = } or { start = , [\"end\"] = }, not a table with an element 3",
  function() h:on_exec({ 1, 2, 3 }, noop) end)
t.raises("not a table with 'stop'", function() h:on_exec({ start = 1, stop = 2 }, noop) end)
t.raises("give the positions or the names, not both", function() h:on_read({ 1, ["end"] = 4 }, noop) end)
t.raises("the range has no start", function() h:on_write({ len = 4 }, noop) end)
t.raises("the range has no start", function() h:on_write({}, noop) end)
t.raises("on_io: a port range is { first, last } (inclusive), not a table with an element 3",
  function() h:on_io({ 0x60, 0x64, 0x70 }, noop) end)
t.raises("not a table with 'first'", function() h:on_io({ first = 0x60 }, noop) end)
t.eq(#h:hooks(), 0, "no hook was added")
h:on_exec({ 0x7c00, 0x7c10 }, noop)
h:on_exec({ start = 0x7c00, len = 16 }, noop)
h:on_exec({ start = 0x7c00, ["end"] = 0x7c10 }, noop)
h:on_io({ 0x60, 0x64 }, noop)
t.eq(#h:hooks(), 4)

-- ips = 0 is not a clock rate.
t.raises("bad value for ips: 0 is out of range; expected integer (1 to", function() h.ips = 0 end)
t.raises("moon86.new: bad value for ips: 0 is out of range", function() moon86.new{ ips = 0 } end)
t.raises("bad value for ips", function() h.ips = "0" end)
h.ips = 1
t.eq(h.ips, 1)

-- Key combinations with an empty key name.
local k = moon86.new{ ram = "1M" }
t.raises("'+++': key 1 between the '+' signs is empty", function() k.keyboard:press("+++") end)
t.raises("'ctrl+': key 2 between the '+' signs is empty", function() k.keyboard:press("ctrl+") end)
t.raises("'ctrl++alt': key 2 between the '+' signs is empty", function() k.keyboard:press("ctrl++alt") end)
t.raises("names no key", function() k.keyboard:press("  ") end)
k.keyboard:press("ctrl++") -- Ctrl and the plus key
k.keyboard:press("+")

-- A property given twice under two spellings.
t.raises("moon86.new: ram_size is given twice (as 'ram' and as 'ram_size'); give it once",
  function() moon86.new{ ram = "16M", ram_size = "32M" } end)
t.raises("moon86.new: ram_size is given twice", function() moon86.new{ ram = "16M", ram_size = "16M" } end)
t.raises("moon86.new: cpu.eax is given twice (as 'cpu = { eax }' and as 'cpu.eax')",
  function() moon86.new{ cpu = { eax = 1 }, ["cpu.eax"] = 2 } end)
t.raises("moon86.new: cpu.cs.base is given twice (as 'cpu = { cs = { base } }' and as 'cpu.cs.base')",
  function() moon86.new{ cpu = { cs = { base = 1 } }, ["cpu.cs.base"] = 2 } end)
t.raises("moon86.new: cpu.cs.limit is given twice (as 'cpu = { cs.limit }' and as 'cpu.cs = { limit }')",
  function() moon86.new{ cpu = { ["cs.limit"] = 1 }, ["cpu.cs"] = { limit = 2 } } end)
t.eq(moon86.new{ ram = "32M" }.ram_size, 32 * 1024 * 1024)
-- A table is a namespace's properties, never a property's value.
t.raises("moon86.new: bad value for ram_size: expected size (bytes, or a string like \"16M\"), got a table",
  function() moon86.new{ ram = {} } end)
t.raises("moon86.new: bad value for cpu.eax: expected integer", function() moon86.new{ cpu = { eax = { 1 } } } end)
t.raises("moon86.new: unknown property 'nope'", function() moon86.new{ nope = {} } end)
t.eq(moon86.new{ cpu = {}, jit_stats = { exits = {} } }.ram_size, 16 * 1024 * 1024, "empty namespaces are fine")

print("refusals ok")
