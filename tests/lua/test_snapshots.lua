-- Snapshots in memory (vm:snapshot, vm:restore) and in files (save_state,
-- restore_state): a run continued from a restored state is the run that
-- would have happened, and every bad input is a clear error that leaves the
-- VM as it was. The guest (guests/snap/ticker.S) prints forever on COM1,
-- driven by PIT interrupts, so the devices' state matters.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")
local root = arg[0]:match("^(.*)/tests/lua/") or "."
local ticker = root .. "/guests/snap/ticker.bin"

local function ticker_vm(opts)
  local vm = moon86.new(opts or { ram = "2M", ips = 10000000 })
  vm:load_boot_sector(ticker)
  vm:power_on()
  return vm
end

-- Everything observable: every CPU property, the counters and clocks, the
-- serial log and what serial.read has not returned yet, the debug console.
local cpu_paths = {}
for _, p in ipairs(moon86.properties()) do
  if p.path:match("^cpu%.") then cpu_paths[#cpu_paths + 1] = p.path end
end
local function get(vm, path)
  local v = vm
  for k in path:gmatch("[^.]+") do v = v[k] end
  return v
end
local function observe(vm)
  local parts = {}
  for _, path in ipairs(cpu_paths) do parts[#parts + 1] = path .. "=" .. tostring(get(vm, path)) end
  for _, path in ipairs { "icount", "clock", "a20", "state", "halt_reason", "post_code" } do
    parts[#parts + 1] = path .. "=" .. tostring(vm[path])
  end
  parts[#parts + 1] = "serial=" .. vm.serial:text()
  parts[#parts + 1] = "debugcon=" .. vm.debugcon:text()
  return table.concat(parts, "\n")
end

-- Compares two observations line by line, naming the first difference.
local function same(got, want, what)
  if got == want then return end
  local g, w = {}, {}
  for l in (got .. "\n"):gmatch("(.-)\n") do g[#g + 1] = l end
  for l in (want .. "\n"):gmatch("(.-)\n") do w[#w + 1] = l end
  for i = 1, math.max(#g, #w) do
    if g[i] ~= w[i] then
      error(("%s: differs at line %d: got %q, want %q"):format(what, i, tostring(g[i]), tostring(w[i])), 2)
    end
  end
end

local N, M = 300000, 700000

-- The reference run: N instructions, then M more.
local vm = ticker_vm()
t.eq(vm:run(N), "budget")
local at_n = observe(vm)
local s = vm:snapshot()
t.eq(s.icount, N)
t.eq(s.ram_size, 2 << 20)
t.truthy(tostring(s):find("moon86.snapshot (icount 300000, ram 2M)", 1, true), tostring(s))
local read_at_n = vm.serial:read()
t.eq(vm:run(M), "budget")
local want = observe(vm)
local want_new = vm.serial:read()
t.truthy(#vm.serial:text() > #read_at_n + 200, "the guest kept printing: " .. #vm.serial:text())
t.truthy(want_new:find("T=", 1, true), "serial.read returns the new lines")

-- In memory: restore and run again, three times from the same snapshot.
for round = 1, 3 do
  vm:restore(s)
  t.eq(vm.state, "paused")
  same(observe(vm), at_n, "right after restore " .. round)
  t.eq(vm.serial:read(), read_at_n, "serial.read's cursor is restored too")
  t.eq(vm:run(M), "budget")
  same(observe(vm), want, "run after restore " .. round)
  t.eq(vm.serial:read(), want_new)
end

-- Stepping the same way gives the same result.
vm:restore(s)
for _ = 1, 10 do vm:step(M // 10) end
same(observe(vm), want, "stepped after restore")

-- In a file, restored into a VM that ran elsewhere, and into a fresh one
-- that never loaded the guest: the file carries the whole machine.
local path = t.tmpfile()
vm:restore(s)
vm:save_state(path)
local file = t.read_file(path)
t.eq(file:sub(1, 8), "MOON86SS", "the magic")
t.eq(string.unpack("<I4", file, 9), 5, "the format version")
vm:run(12345)
vm:restore_state(path)
same(observe(vm), at_n, "right after restore_state")
t.eq(vm:run(M), "budget")
same(observe(vm), want, "run after restore_state")

local fresh = moon86.new{ ram = "2M", ips = 10000000 }
fresh:power_on()
fresh:restore_state(path)
t.eq(fresh:run(M), "budget")
same(observe(fresh), want, "a fresh VM restored from the file")

-- Host-side settings stay as the VM has them.
fresh.serial.echo = false
fresh.debugcon.echo = false
fresh:restore(fresh:snapshot())
t.eq(fresh.serial.echo, false)

-- A halted VM's snapshot restores halted, with its halt reason.
local prog = t.tmpfile("\xB0\x21\xE6\xF4\xEB\xFE") -- mov al,0x21 ; out 0xf4,al ; jmp $
local exit = moon86.new{ ram = "1M" }
exit:load_raw{ path = prog, addr = 0x1000, cs = 0x100, ip = 0 }
exit:power_on()
os.remove(prog)
t.eq(exit:run(100), "exit")
local halted = exit:snapshot()
exit:reset()
t.eq(exit.state, "paused")
exit:restore(halted)
t.eq(exit.state, "halted")
t.eq(exit.halt_reason, "exit")
t.eq(exit.exit_code, 0x43)
exit:reset()
t.eq(exit:run(100), "exit", "after a restore, reset puts this VM's images back")

-- Allowed while paused, running (between runs) and halted; not while off.
local life = ticker_vm()
life:resume()
t.eq(life:run(1000), "budget")
t.eq(life.state, "running")
local running = life:snapshot()
life:save_state(path)
life:restore(running)
t.eq(life.state, "paused", "a restore leaves the VM paused")
life:resume()
life:restore_state(path)
t.eq(life.state, "paused")
local off = moon86.new{ ram = "2M", ips = 10000000 }
t.raises("cannot snapshot while the VM is off: snapshot is allowed only while paused, running, halted",
  function() off:snapshot() end)
t.raises("cannot restore while the VM is off", function() off:restore(running) end)
t.raises("cannot save_state while the VM is off", function() off:save_state(path) end)
t.raises("cannot restore_state while the VM is off", function() off:restore_state(path) end)

-- Errors: each is clear, and the VM is as it was and still runs.
vm:restore(s)
local function unchanged(what)
  same(observe(vm), at_n, what .. " leaves the VM as it was")
end
local function write(name, data)
  local f = assert(io.open(name, "wb"))
  f:write(data)
  f:close()
end
local bad = t.tmpfile()

write(bad, file:sub(1, #file // 2))
t.raises("is not a snapshot this VM can use: the file is truncated", function() vm:restore_state(bad) end)
unchanged("a truncated file")
write(bad, file:sub(1, 20))
t.raises("the file is truncated (it ends inside the configuration)", function() vm:restore_state(bad) end)
write(bad, "")
t.raises("the file is truncated", function() vm:restore_state(bad) end)
unchanged("an empty file")

write(bad, "NOTASNAP" .. file:sub(9))
t.raises("it is not a moon86 snapshot (it does not start with \"MOON86SS\")", function() vm:restore_state(bad) end)
write(bad, "garbage, not a snapshot at all")
t.raises("not a moon86 snapshot", function() vm:restore_state(bad) end)
unchanged("a file of another kind")

write(bad, file:sub(1, 8) .. string.pack("<I4", 99) .. file:sub(13))
t.raises("it is snapshot format version 99, and this moon86 reads only version 5",
  function() vm:restore_state(bad) end)
unchanged("another format version")

local flipped = file:sub(1, #file - 40) .. string.char(file:byte(#file - 39) ~ 0xFF) .. file:sub(#file - 38)
write(bad, flipped)
t.raises("is not a snapshot this VM can use", function() vm:restore_state(bad) end) -- corrupt or truncated, as the damage falls
unchanged("a damaged file")

t.raises("cannot read '/nonexistent/moon86.snap': No such file", function()
  vm:restore_state("/nonexistent/moon86.snap")
end)
t.raises("cannot write '/nonexistent/moon86.snap'", function() vm:save_state("/nonexistent/moon86.snap") end)
t.raises("restore expects a snapshot from vm:snapshot(), got nil", function() vm:restore() end)
t.raises("restore expects a snapshot from vm:snapshot(), got string", function() vm:restore(path) end)
t.raises("restore_state: path is missing", function() vm:restore_state() end)
unchanged("a bad path or argument")

local bigger = ticker_vm{ ram = "4M", ips = 10000000 }
t.raises("the snapshot was taken on a VM configured differently: ram_size is 2M in the snapshot but 4M in this VM",
  function() bigger:restore(s) end)
t.raises("ram_size is 2M in the snapshot but 4M in this VM", function() bigger:restore_state(path) end)
local other = ticker_vm{ ram = "2M", ips = 10000000, cpu_model = "i386", exit_port = 0x501 }
t.raises("cpu_model is i686 in the snapshot but i386 in this VM; exit_port is 0xf4 in the snapshot but 0x501 in this VM",
  function() other:restore(s) end)
local slower = ticker_vm{ ram = "2M" }
t.raises("ips is 10000000 in the snapshot but 100000000 in this VM", function() slower:restore_state(path) end)
t.eq(bigger.icount, 0)
t.eq(bigger:step(), "budget", "a refused VM still runs")
t.eq(vm:run(M), "budget")
same(observe(vm), want, "the VM runs on after every refused restore")

-- A big, mostly empty guest does not make a big file.
local big = ticker_vm{ ram = "128M", ips = 10000000 }
big:run(100000)
big:save_state(path)
local size = #t.read_file(path)
t.truthy(size < 64 * 1024, "a 128M guest saved in " .. size .. " bytes")
local t0 = big:snapshot()
big:run(100000)
local after_big = observe(big)
big:restore(t0)
big:run(100000)
same(observe(big), after_big, "128M guest after restore")

os.remove(path)
os.remove(bad)
