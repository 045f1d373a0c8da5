-- moon86's test library, shipped inside the binary: `require("moon86.test")`,
-- and the global `test` in files run by `moon86 test`.
--
--   test("adds", function(t) t:eq(1 + 1, 2) end)
--
-- `test` only registers; `run()` runs the registered tests in order, each
-- under pcall, so a failing assertion stops its test and not the file. An
-- assertion raises its message at the caller's level, so the message starts
-- with the test file and line of the failing call. The host passes `now`, a
-- monotonic clock in seconds, to time each test, and `quote`, which writes a
-- string on one line as the hooks' messages do (lua/moon86/hooks.lua).
local now, quote = ...

local M = {}
local registered = {}

local function show(v)
  if type(v) == "string" then return quote(v) end
  return tostring(v)
end

-- Level 3: 1 is this function, 2 the assertion, 3 the line that called it.
-- Callers must not tail-call this, or the level would skip a frame.
local function failed(msg, text)
  if msg ~= nil then text = tostring(msg) .. ": " .. text end
  error(text, 3)
end

local T = {}
T.__index = T

--- Fails unless got == want.
function T:eq(got, want, msg)
  if got ~= want then failed(msg, "expected " .. show(want) .. ", got " .. show(got)) end
end

--- Fails if got == unwanted.
function T:ne(got, unwanted, msg)
  if got == unwanted then failed(msg, "expected a value other than " .. show(unwanted)) end
end

--- Fails unless v is neither nil nor false.
function T:truthy(v, msg)
  if not v then failed(msg, "expected a true value, got " .. show(v)) end
end

--- Fails unless s is a string containing a match for the Lua pattern.
function T:match(s, pattern, msg)
  if type(s) ~= "string" then
    failed(msg, "expected a string matching " .. show(pattern) .. ", got " .. show(s))
  elseif not string.find(s, pattern) then
    failed(msg, show(s) .. " does not match " .. show(pattern))
  end
end

--- Fails unconditionally.
function T:fail(msg)
  failed(nil, msg == nil and "failed" or tostring(msg))
end

--- Registers a test; tests run in the order they are registered.
function M.test(name, fn)
  if type(name) ~= "string" then error("test expects a name (a string) first", 2) end
  if type(fn) ~= "function" then error("test \"" .. name .. "\" expects a function", 2) end
  registered[#registered + 1] = { name = name, fn = fn }
end

local function describe(err)
  if type(err) == "string" then return err end
  local ok, text = pcall(tostring, err)
  return ok and text or "(an error object without a message)"
end

-- When `moon86 test` runs the file, a failing test leaves a capture of
-- each live VM it created or used (screen, serial log, registers) in
-- $MOON86_ARTIFACTS; `mark` is from moon86.mark() at the test's start.
local function capture_vms(test_name, mark)
  local dir = os.getenv("MOON86_ARTIFACTS")
  local moon86 = package.loaded["moon86"]
  if not dir or not moon86 or not mark then return nil end
  local safe = test_name:gsub("[^%w%-%.]", "_")
  local made = {}
  for i, vm in ipairs(moon86.live_vms(mark)) do
    local ok, path = pcall(function()
      if vm.state == "destroyed" then return nil end
      return vm:capture{ dir = dir .. "/" .. safe .. "/vm" .. i }
    end)
    if ok and path then made[#made + 1] = path end
  end
  return made
end

--- Runs the registered tests and forgets them. Returns a list of
--- { name, passed, message, file, line, duration }.
function M.run()
  local todo = registered
  registered = {}
  local results = {}
  for _, entry in ipairs(todo) do
    local moon86 = package.loaded["moon86"]
    local mark = moon86 and moon86.mark()
    local start = now()
    local ok, err = pcall(entry.fn, setmetatable({ name = entry.name }, T))
    local r = { name = entry.name, passed = ok, duration = now() - start }
    if not ok then
      r.captures = capture_vms(entry.name, mark)
      local text = describe(err)
      local file, line, rest = text:match("^([^\n]-):(%d+): (.*)$")
      if file then
        r.file, r.line, r.message = file, tonumber(line), rest
      else
        r.message = text
      end
    end
    results[#results + 1] = r
  end
  return results
end

return M
