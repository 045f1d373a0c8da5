-- Small assertions for moon86's own Lua tests (the full test runner comes
-- with lua/moon86/test.lua). Each failure names the caller's line.
local M = {}

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if math.type(v) == "integer" and v > 9 then return ("%d (0x%x)"):format(v, v) end
  return tostring(v)
end

function M.eq(got, want, what)
  if got ~= want then
    error(("%sexpected %s, got %s"):format(what and (what .. ": ") or "", show(want), show(got)), 2)
  end
end

function M.truthy(v, what)
  if not v then error((what or "value") .. " is " .. tostring(v), 2) end
end

--- Calls fn and expects an error whose message contains `text` (plain).
function M.raises(text, fn, ...)
  local ok, e = pcall(fn, ...)
  if ok then error(("expected an error containing %q, but the call succeeded"):format(text), 2) end
  if type(e) ~= "string" then error("error is a " .. type(e) .. ", not a string message", 2) end
  if not e:find(text, 1, true) then
    error(("expected an error containing %q, got: %s"):format(text, e), 2)
  end
  return e
end

--- A VM with `code` (a byte string) at 0100:0000, powered on and paused.
function M.machine(code, opts)
  local vm = moon86.new(opts or { ram = "1M" })
  vm.mem:write(0x1000, code)
  vm.cpu.cs.selector = 0x100
  vm.cpu.eip = 0
  vm.cpu.ss.selector = 0
  vm.cpu.esp = 0x8000
  vm:power_on()
  return vm
end

--- A path for a scratch file, removed by the caller with os.remove.
function M.tmpfile(contents)
  local name = os.tmpname()
  if contents then
    local f = assert(io.open(name, "wb"))
    f:write(contents)
    f:close()
  end
  return name
end

function M.read_file(name)
  local f = io.open(name, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return M
