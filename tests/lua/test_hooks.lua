-- Hooks: every kind, the filters, the semantics docs/hooks.md promises,
-- and bad input, on guests/hooks/events.S (see its header for what it does
-- in which order).
local here = arg[0]:match("^(.*)/") or "."
local t = dofile(here .. "/check.lua")
local GUEST = here .. "/../../guests/hooks/events.bin"

-- Addresses in events.S (linked at 0x7C00).
local STORE = 0x7c00 + 0x2e -- movw %cx, COUNTER
local COUNTER, FLAG, KEYCOUNT, KEYBUF = 0x600, 0x604, 0x6fe, 0x700

local function guest()
  local vm = moon86.new{ ram = "8M" }
  vm:load_raw{ path = GUEST, addr = 0x7c00, cs = 0, ip = 0x7c00 }
  vm:power_on()
  return vm
end

-- Runs the guest to its end (typing at its keyboard prompt).
local function finish(vm)
  vm.serial:expect("keys%?")
  vm.keyboard:type("ls\n")
  t.eq(vm:run{ instructions = 1000000 }, "exit")
end

---------------------------------------------------------------------------
-- exec: before the instruction, registers as they are then
do
  local vm = guest()
  local seen = {}
  local h = vm:on_exec(STORE, function(ev)
    t.eq(ev.kind, "exec")
    t.eq(ev.addr, STORE)
    t.eq(vm.cpu.eip, STORE, "EIP at the hooked instruction")
    t.eq(vm.mem:read_u16(COUNTER), #seen, "the store has not run yet")
    seen[#seen + 1] = vm.cpu.ecx
    t.eq(ev.icount, vm.icount)
  end)
  finish(vm)
  t.eq(table.concat(seen, ","), "1,2,3,4,5")
  t.eq(h.hits, 5)
  t.eq(h.kind, "exec")
  t.truthy(h.time >= 0)
end

-- physical exec hooks, and ranges
do
  local vm = guest()
  local phys, range = 0, 0
  vm:on_exec(STORE, function(ev) phys = phys + 1; t.eq(ev.physical, STORE) end, { physical = true })
  vm:on_exec({ STORE, STORE + 4 }, function() range = range + 1 end) -- store + the next (movw FLAG) are 4 and 3 bytes
  finish(vm)
  t.eq(phys, 5)
  t.eq(range, 5, "only instructions starting in the range")
  local vm2 = guest()
  local n = 0
  vm2:on_exec({ start = STORE, len = 7 }, function() n = n + 1 end)
  finish(vm2)
  t.eq(n, 10, "{ start =, len = } covers both instructions")
end

-- returning false stops right there; the next run resumes exactly there
do
  local vm = guest()
  local stops, fired = 0, 0
  vm:on_exec(STORE, function() fired = fired + 1; return false end)
  while true do
    local why = vm:run{ instructions = 1000 }
    if why ~= "hook" then break end
    stops = stops + 1
    t.eq(vm.cpu.eip, STORE)
    t.eq(vm.mem:read_u16(COUNTER), stops - 1)
  end
  t.eq(stops, 5)
  t.eq(fired, 5, "resuming does not fire the hook again at the same instruction")
end

-- hooks fire in registration order; a hook added or removed takes effect
-- at the next instruction, whatever ran or was cached before
do
  local vm = moon86.new{ ram = "1M" }
  vm.mem:write(0x7c00, "\x40\xEB\xFD") -- inc ax; jmp $-1 (back to inc)
  vm.cpu.cs.selector = 0; vm.cpu.cs.base = 0; vm.cpu.eip = 0x7c00
  vm:power_on()
  t.eq(vm:run(1001), "budget") -- the loop is decoded and cached
  local order = {}
  local a = vm:on_exec(0x7c00, function() order[#order + 1] = "a" end)
  local b = vm:on_exec(0x7c00, function() order[#order + 1] = "b" end)
  t.eq(vm:step(), "budget") -- EIP was at the jmp: nothing yet
  t.eq(#order, 0)
  t.eq(vm:step(), "budget")
  t.eq(table.concat(order), "ab")
  a:remove()
  vm:run(4) -- jmp, inc, jmp, inc
  t.eq(table.concat(order), "abbb")
  b:disable()
  vm:run(4)
  t.eq(table.concat(order), "abbb")
  t.eq(b.enabled, false)
  b:enable()
  vm:run(4)
  t.eq(table.concat(order), "abbbbb")
  t.eq(#vm:hooks(), 1)
  t.raises("there is no hook", function() return a.hits end)
  t.eq(tostring(b), "moon86.hook 2 (exec 0x7c00, enabled, 5 hits)")
end

-- the run loop remembers a page it found free of exec hooks; a hook added
-- there later still fires from the next instruction
do
  local vm = moon86.new{ ram = "1M" }
  vm.mem:write(0x7c00, "\x40\xEB\xFD") -- inc ax; jmp $-1 (back to inc)
  vm.cpu.cs.selector = 0; vm.cpu.cs.base = 0; vm.cpu.eip = 0x7c00
  vm:power_on()
  vm:on_write(0x50000, function() end) -- watches elsewhere: the checked loop runs
  vm:on_exec(0x90000, function() end)
  t.eq(vm:run(1000), "budget")
  local n = 0
  vm:on_exec(0x7c01, function() n = n + 1 end) -- the jmp
  t.eq(vm:run(10), "budget")
  t.eq(n, 5)
end

---------------------------------------------------------------------------
-- write: after the write is visible, with the writing instruction
do
  local vm = guest()
  local log = {}
  vm:on_write(COUNTER, function(ev)
    t.eq(ev.kind, "write")
    t.eq(ev.addr, COUNTER)
    t.eq(ev.size, 2)
    t.eq(ev.eip, STORE, "the instruction that wrote")
    t.eq(vm.mem:read_u16(COUNTER), ev.new, "visible in the callback")
    t.eq(vm.cpu.eip, STORE + 4, "before the next instruction")
    log[#log + 1] = ev.old .. ">" .. ev.new
  end)
  finish(vm)
  t.eq(table.concat(log, " "), "0>1 1>2 2>3 3>4 4>5")
end

-- filters: value, mask, size, skip, every, limit
do
  local function values(opts)
    local vm = guest()
    local got = {}
    local h = vm:on_write({ COUNTER, COUNTER + 2 }, function(ev) got[#got + 1] = ev.new end, opts)
    finish(vm)
    return table.concat(got, ","), h
  end
  t.eq(values{ value = 3 }, "3")
  t.eq(values{ value = 1, mask = 1 }, "1,3,5")
  t.eq(values{ size = 1 }, "", "the guest writes words")
  t.eq(values{ size = 2 }, "1,2,3,4,5")
  t.eq(values{ skip = 1, every = 2 }, "2,4")
  local got, h = values{ limit = 2 }
  t.eq(got, "1,2")
  t.eq(h.enabled, false, "a hook disables itself at its limit")
  t.eq(h.matches, 2)
end

-- hooks sharing a range keep their own filters (the machine reports what
-- any of them accepts; each hook then checks its own)
do
  local vm = guest()
  local odd, three, all = {}, {}, {}
  vm:on_write(COUNTER, function(ev) odd[#odd + 1] = ev.new end, { value = 1, mask = 1 })
  vm:on_write(COUNTER, function(ev) three[#three + 1] = ev.new end, { value = 3 })
  vm:on_write({ COUNTER, COUNTER + 2 }, function(ev) all[#all + 1] = ev.new end, { size = 2 })
  finish(vm)
  t.eq(table.concat(odd, ","), "1,3,5")
  t.eq(table.concat(three, ","), "3")
  t.eq(table.concat(all, ","), "1,2,3,4,5")
end

-- a pre-write hook sees memory as before the write and may replace the value
do
  local vm = guest()
  vm:on_write(COUNTER, function(ev)
    t.eq(vm.mem:read_u16(COUNTER), ev.old, "memory still holds the old value")
    return ev.new + 100
  end, { pre = true })
  local after = {}
  vm:on_write(COUNTER, function(ev) after[#after + 1] = vm.mem:read_u16(COUNTER) end)
  finish(vm)
  t.eq(vm.mem:read_u16(COUNTER), 105)
  t.eq(#after, 5)
end

-- read
do
  local vm = guest()
  vm.mem:write_u16(FLAG, 0x1234)
  local n = 0
  vm:on_read(FLAG, function(ev)
    n = n + 1
    t.eq(ev.kind, "read")
    t.eq(ev.value, 0x1234)
    t.eq(ev.size, 2)
  end)
  finish(vm)
  t.eq(n, 5)
end

-- I/O ports, with a direction filter
do
  local vm = guest()
  local outs, ins = {}, {}
  vm:on_io(0x80, function(ev) outs[#outs + 1] = ev.dir .. ":" .. ev.value end)
  vm:on_io({ 0x60, 0x64 }, function(ev) ins[#ins + 1] = ev.port end, { dir = "in" })
  finish(vm)
  t.eq(table.concat(outs, ","), "out:66")
  t.eq(ins[1], 0x61, "IN 0x61 comes first")
  t.truthy(#ins > 7, "the keyboard polls")
end

-- interrupts: software, exception, and one hook for every vector
do
  local vm = guest()
  local soft, any = nil, {}
  vm:on_interrupt(0x40, function(ev)
    soft = ev
    t.eq(vm.cpu.eip, 0x7c00 + 0x100, "at the handler's first instruction")
  end)
  vm:on_interrupt(nil, function(ev) any[#any + 1] = ev.vector .. ":" .. ev.source end)
  finish(vm)
  t.eq(soft.source, "software")
  t.eq(table.concat(any, ","), "64:software,6:exception")
end

-- CPU mode changes
do
  local vm = guest()
  local changes = {}
  vm:on_mode_change(function(ev)
    changes[#changes + 1] = string.format("%s%s>%s%s", ev.from, ev.paging_from and "+pg" or "",
      ev.to, ev.paging_to and "+pg" or "")
  end)
  finish(vm)
  t.eq(table.concat(changes, " "), "real>protected protected>protected+pg")
end

-- serial text: plain and Lua patterns with captures
do
  local vm = guest()
  local plain, caps = 0, {}
  vm.serial:on_text("keys?", function(ev) plain = plain + 1; t.eq(ev.text, "keys?") end, { plain = true })
  vm.serial:on_text("(%a+) ok", function(ev) caps[#caps + 1] = ev.captures[1] end)
  local lines = 0
  vm.serial:on_text("\n", function() lines = lines + 1 end, { plain = true })
  finish(vm)
  t.eq(plain, 1)
  t.eq(table.concat(caps, ","), "keys")
  t.eq(lines, 5)
end

-- screen text
do
  local vm = guest()
  local fired
  vm.screen:on_text("RE(%a+)", function(ev) fired = ev end)
  finish(vm)
  t.truthy(fired, "the screen hook fired")
  t.eq(fired.text, "READY")
  t.eq(fired.captures[1], "ADY")
end

-- timers: at and every, in virtual time
do
  local vm = moon86.new{ ram = "1M" }
  vm.mem:write(0x7c00, "\xEB\xFE")
  vm.cpu.cs.selector = 0; vm.cpu.cs.base = 0; vm.cpu.eip = 0x7c00
  vm:power_on()
  local at, ticks = nil, {}
  vm:at("1ms", function(ev) at = ev.now; t.eq(vm.clock, ev.now) end)
  local every = vm:every("2ms", function(ev) ticks[#ticks + 1] = ev.now end)
  t.eq(vm:run{ instructions = 1000000 }, "budget") -- 10 ms at 100 M instructions/s
  t.eq(at, 1000000)
  t.eq(table.concat(ticks, ","), "2000000,4000000,6000000,8000000")
  -- Time is 10 ms now: that tick fires before the next instruction.
  t.eq(vm:step(), "budget")
  t.eq(table.concat(ticks, ","), "2000000,4000000,6000000,8000000,10000000")
  t.eq(every.hits, 5)
  t.raises("bad duration 'soon'", function() vm:at("soon", function() end) end)
end

---------------------------------------------------------------------------
-- waits: run{ until }, run{ timeout }, run{ wall_timeout }, expect, wait_text
do
  local vm = guest()
  vm:on_write(COUNTER, function() end)
  t.eq(vm:run{ ["until"] = function() return vm.mem:read_u16(COUNTER) == 3 end }, "until")
  t.eq(vm.mem:read_u16(COUNTER), 3, "until is checked right after each hook")
  t.eq(vm.cpu.eip, STORE + 4)

  local first, rest = vm.serial:expect("k(e)ys")
  t.eq(first, "keys")
  t.eq(rest, "e")
  t.raises('"keys" not seen within 10ms of virtual time', function()
    vm.serial:expect("keys", { timeout = "10ms" })
  end)
  vm.keyboard:type("ls\n")
  t.eq(vm.serial:expect("keys ok", { plain = true }), "keys ok")
  t.eq(vm.screen:wait_text("READY"), "READY")
  t.eq(vm.screen:wait_text("READY"), "READY", "matches at once when on screen")
  t.eq(vm:run(1000000), "exit")
  t.raises("cannot run while the VM is halted", function() vm.serial:expect("never") end)

  local loop = moon86.new{ ram = "1M" }
  loop.mem:write(0x7c00, "\xEB\xFE")
  loop.cpu.cs.selector = 0; loop.cpu.cs.base = 0; loop.cpu.eip = 0x7c00
  loop:power_on()
  t.eq(loop:run{ timeout = "3ms" }, "timeout")
  t.eq(loop.clock, 3000000)
  t.eq(loop.state, "paused")
  t.eq(loop:run{ wall_timeout = "50ms" }, "wall_timeout")
  t.eq(loop:run{ ["until"] = function() return loop.clock >= 5000000 end, poll = "1ms" }, "until")
  t.raises("unknown option 'timout'", function() loop:run{ timout = "1s" } end)
  t.raises("screen:wait_text: unknown option 'timout'", function() loop.screen:wait_text("x", { timout = 1 }) end)
end

-- run loops that must end: a zero poll or wall_timeout is refused when
-- given, and a budget counts the instructions the call executes, even when a
-- callback resets the VM or restores a snapshot (both move icount back)
do
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write("\x40\xEB\xFD") -- 1: inc ax; jmp 1b
  f:close()
  local vm = moon86.new{ ram = "1M" }
  vm:load_raw{ path = path, addr = 0x7c00, cs = 0, ip = 0x7c00 }
  os.remove(path)
  vm:power_on()
  local never = function() return false end
  t.raises("run: poll must be longer than zero", function()
    vm:run{ poll = 0, ["until"] = never, timeout = "10ms" } end)
  t.raises("run: poll must be longer than zero", function()
    vm:run{ poll = "0ns", ["until"] = never, timeout = "10ms" } end)
  t.raises("run: wall_timeout must be longer than zero", function() vm:run{ wall_timeout = 0 } end)
  t.raises("run: poll is how often until() is checked; it needs until", function()
    vm:run{ poll = "1ms", instructions = 10 } end)
  t.eq(vm.icount, 0, "a refused run runs nothing")
  local snap = vm:snapshot()
  local fired = 0
  local h = vm:on_exec(0x7c01, function() fired = fired + 1; vm:restore(snap) end)
  t.eq(vm:run(50), "budget")
  t.eq(fired, 49, "one inc between restores: 50 instructions, 49 restores")
  h:remove()
  fired = 0
  h = vm:on_exec(0x7c01, function() fired = fired + 1; vm:reset() end)
  t.eq(vm:run(50), "budget")
  t.eq(fired, 50)
  h:remove()
  local before = vm.icount
  t.eq(vm:step(3), "budget")
  t.eq(vm.icount, before + 3)
end

-- keyboard: typed text arrives whole and in order, paced by the guest
do
  local vm = guest()
  finish(vm)
  t.eq(vm.mem:read_u16(KEYCOUNT), 6)
  t.eq(vm.mem:read(KEYBUF, 6), "\x26\xA6\x1F\x9F\x1C\x9C", "l, s and Enter, made and broken (set 1)")
  t.raises("no key is called 'delte' (did you mean 'delete'?)", function() vm.keyboard:press("ctrl+alt+delte") end)
  t.raises("no key types", function() vm.keyboard:type("\xc3\xa9") end)
  vm.keyboard:press("ctrl+alt+del")
end

---------------------------------------------------------------------------
-- a callback's error stops the run with its traceback and the guest location
do
  local vm = guest()
  vm:on_exec(STORE, function() error("boom") end)
  local e = t.raises("hook 1 (exec 0x7c2e) failed at guest 0000:00007c2e", function() vm:run(100000) end)
  t.truthy(e:find("boom", 1, true), "the callback's message")
  t.truthy(e:find("stack traceback", 1, true), "a traceback")
  t.truthy(e:find("mov", 1, true), "the instruction")
  t.eq(vm.state, "paused", "the VM is unharmed")
  vm:hooks()[1]:remove()
  finish(vm)
end

-- bad hook requests are clear errors and change nothing
do
  local vm = guest()
  local f = function() end
  t.raises("the range 0x2000..0x1000 is empty (ranges are { start, end } with end exclusive)", function() vm:on_write({ 0x2000, 0x1000 }, f) end)
  t.raises("on_read: end must be at most 0x100000000", function() vm:on_read({ 0xFFFFFFFF, 0x100000002 }, f) end)
  t.raises("give end or len, not both", function() vm:on_exec({ start = 1, ["end"] = 2, len = 1 }, f) end)
  t.raises("on_exec needs a callback function, got nil", function() vm:on_exec(0x7c00) end)
  t.raises("unknown option 'phys' (known options: physical, size", function() vm:on_exec(0x7c00, f, { phys = true }) end)
  t.raises("port range 0x64..0x60 is backwards", function() vm:on_io({ 0x64, 0x60 }, f) end)
  t.raises("3 is not an access size", function() vm:on_write(0x600, f, { size = 3 }) end)
  t.raises("limit must be 1 or more", function() vm:on_write(0x600, f, { limit = 0 }) end)
  t.raises("there is no COM3", function() vm.serial:on_text("x", f, { port = 3 }) end)
  t.raises("dir must be \"in\", \"out\" or \"both\"", function() vm:on_io(0x80, f, { dir = "up" }) end)
  t.raises("vector must be at most 0xff", function() vm:on_interrupt(256, f) end)
  t.raises("a period must be longer than zero", function() vm:every(0, f) end)
  t.eq(#vm:hooks(), 0)
  finish(vm)
end

---------------------------------------------------------------------------
-- the same script gives the same event sequence every time
do
  local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local data = f:read("a")
    f:close()
    return data
  end
  local run_no = 0
  local function trace()
    run_no = run_no + 1
    local vm = guest()
    local ev = {}
    local bundle
    vm.serial:on_text("pm", function()
      bundle = vm:capture{ dir = os.tmpname() .. "-capture-" .. run_no, ram = { { 0x600, 0x800 } } }
    end, { plain = true })
    local function log(e) ev[#ev + 1] = table.concat({ e.kind, e.icount, e.addr or e.port or e.vector or e.text or "" }, ":") end
    vm:on_exec(STORE, log)
    vm:on_write({ 0x600, 0x800 }, log)
    vm:on_io({ 0x60, 0x64 }, log)
    vm:on_interrupt(nil, log)
    vm:on_mode_change(log)
    vm.serial:on_text("%a+", log)
    vm:every("10us", log)
    finish(vm)
    local files = {}
    for _, f in ipairs({ "regs.json", "screen.png", "serial.log", "ram-00000600-00000800.bin" }) do
      files[#files + 1] = slurp(bundle .. "/" .. f)
    end
    return table.concat(ev, " "), vm.serial:text(), table.concat(files, "|"), bundle:match("capture%-%d+$")
  end
  local a, sa, ca, na = trace()
  local b, sb, cb, nb = trace()
  local c, sc, cc, nc = trace()
  t.eq(cb, ca, "identical captures")
  t.eq(cc, ca, "identical captures")
  t.eq(nb, na, "bundles named by the same icount")
  t.eq(nc, na)
  t.truthy(#a > 100, "a long trace")
  t.eq(b, a)
  t.eq(c, a)
  t.eq(sb, sa)
  t.eq(sc, sa)
end

-- a run continued after a restore gives the same hook events and output
do
  local vm = guest()
  t.eq(vm:run(20), "budget")
  local snap = vm:snapshot()
  local ev = {}
  local function log(e) ev[#ev + 1] = table.concat({ e.kind, e.icount, e.addr or e.port or e.vector or "" }, ":") end
  vm:on_write({ 0x600, 0x800 }, log)
  vm:on_io({ 0x60, 0x64 }, log)
  vm:on_interrupt(nil, log)
  vm.serial:on_text("%a+", log)
  vm:run(3000)
  local first, out = table.concat(ev, " "), vm.serial:text()
  ev = {}
  vm:restore(snap)
  t.eq(#vm:hooks(), 4, "hooks survive a restore")
  vm:run(3000)
  t.eq(table.concat(ev, " "), first)
  t.eq(vm.serial:text(), out)
  t.truthy(#first > 50)
end

print("hooks ok")
