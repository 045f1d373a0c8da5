-- Hooks, the run loop and the waits, shipped inside the binary and loaded
-- by init.lua with its method table.
--
-- The control API keeps the hook table and evaluates filters; this file
-- keeps each hook's Lua callback (by VM and hook id) and runs the loop
-- that calls them: `vm:run` asks the raw API to run until something fires,
-- calls the callbacks in order while the VM is paused at that exact
-- instruction boundary, and goes on unless one returned false. Pattern
-- matching of serial and screen text happens here, with Lua's own
-- string.find, on the text the control API hands over.
local raw, methods, check, handle = ...

local callbacks = setmetatable({}, { __mode = "k" }) -- VM userdata -> { [id] = fn }
local expect_cursor = setmetatable({}, { __mode = "k" }) -- VM userdata -> next byte

local function ud_of(self, name)
  local ud = handle[self]
  if ud == nil then
    error("moon86: call " .. name .. " with ':' (vm:" .. name .. "(...)), not '.'", 3)
  end
  return ud
end

local function call(ud, name, ...)
  return check(raw.call(ud, name, ...))
end

---------------------------------------------------------------------------
-- Hook handles

local hook_mt = {}
local hook_methods = {}
local hook_ud = setmetatable({}, { __mode = "k" })

local function hook_handle(ud, id)
  local h = setmetatable({}, hook_mt)
  hook_ud[h] = { ud = ud, id = id }
  return h
end

local function hook_self(h, name)
  local s = hook_ud[h]
  if s == nil then
    error("moon86: call " .. name .. " with ':' (hook:" .. name .. "()), not '.'", 3)
  end
  return s
end

--- Enables the hook again (from the next instruction).
function hook_methods.enable(h)
  local s = hook_self(h, "enable")
  call(s.ud, "hooks.enable", s.id, true)
end

--- Disables the hook (from the next instruction); it keeps its counts.
function hook_methods.disable(h)
  local s = hook_self(h, "disable")
  call(s.ud, "hooks.enable", s.id, false)
end

--- Removes the hook; the handle is dead afterwards.
function hook_methods.remove(h)
  local s = hook_self(h, "remove")
  call(s.ud, "hooks.remove", s.id)
  if callbacks[s.ud] then callbacks[s.ud][s.id] = nil end
end

hook_mt.__index = function(h, key)
  local m = hook_methods[key]
  if m then return m end
  local s = hook_ud[h]
  local info = check(raw.call(s.ud, "hooks.info", s.id))
  local v = info[key]
  if v == nil then
    error("moon86: a hook has no field '" .. tostring(key)
      .. "' (fields: id, kind, what, enabled, hits, matches, time)", 2)
  end
  return v
end

hook_mt.__newindex = function()
  error("moon86: hook fields are read-only; use :enable(), :disable() or :remove()", 2)
end

hook_mt.__tostring = function(h)
  local s = hook_ud[h]
  local ok, info = raw.call(s.ud, "hooks.info", s.id)
  if not ok then return "moon86.hook " .. s.id .. " (removed)" end
  return string.format("moon86.hook %d (%s, %s, %d hits)", info.id, info.what,
    info.enabled and "enabled" or "disabled", info.hits)
end

local function add_hook(ud, kind, target, fn, opts, name)
  if type(fn) ~= "function" then
    error("moon86: " .. name .. " needs a callback function, got " .. type(fn), 3)
  end
  local id = check(raw.call(ud, "hooks.add", kind, target, opts))
  callbacks[ud] = callbacks[ud] or {}
  callbacks[ud][id] = fn
  return hook_handle(ud, id)
end

local root = methods[""]
local serial = methods["serial"]
local screen = methods["screen"]

function root.on_exec(self, where, fn, opts)
  return add_hook(ud_of(self, "on_exec"), "exec", where, fn, opts, "on_exec")
end
function root.on_read(self, where, fn, opts)
  return add_hook(ud_of(self, "on_read"), "read", where, fn, opts, "on_read")
end
function root.on_write(self, where, fn, opts)
  return add_hook(ud_of(self, "on_write"), "write", where, fn, opts, "on_write")
end
function root.on_io(self, ports, fn, opts)
  return add_hook(ud_of(self, "on_io"), "io", ports, fn, opts, "on_io")
end
function root.on_disk(self, which, fn, opts)
  return add_hook(ud_of(self, "on_disk"), "disk", which, fn, opts, "on_disk")
end
function root.on_interrupt(self, vector, fn, opts)
  return add_hook(ud_of(self, "on_interrupt"), "interrupt", vector, fn, opts, "on_interrupt")
end
function root.on_mode_change(self, fn, opts)
  return add_hook(ud_of(self, "on_mode_change"), "mode_change", nil, fn, opts, "on_mode_change")
end
function root.at(self, time, fn)
  return add_hook(ud_of(self, "at"), "at", time, fn, nil, "at")
end
function root.every(self, period, fn)
  return add_hook(ud_of(self, "every"), "every", period, fn, nil, "every")
end
function serial.on_text(self, pattern, fn, opts)
  return add_hook(ud_of(self, "on_text"), "serial_text", pattern, fn, opts, "serial:on_text")
end
function screen.on_text(self, pattern, fn, opts)
  return add_hook(ud_of(self, "on_text"), "screen_text", pattern, fn, opts, "screen:on_text")
end

--- Every hook of the VM, as handles, in registration order.
function root.hooks(self)
  local ud = ud_of(self, "hooks")
  local out = {}
  for _, info in ipairs(call(ud, "hooks.list")) do out[#out + 1] = hook_handle(ud, info.id) end
  return out
end

---------------------------------------------------------------------------
-- Calling the callbacks

local function poke(ud, addr, size, value)
  -- Memory outside RAM (ROM, unmapped) cannot be rewritten: ignore.
  raw.call(ud, "mem.write_u" .. (8 * size), addr, value)
end

-- The last error `invoke` raised: a callback that runs the VM (serial:expect)
-- can fire a hook inside itself, and that failure passes out through every
-- level unchanged instead of being named again at each.
local last_failure

-- Runs one callback under xpcall; an error becomes a run error naming the
-- hook, the guest location and the Lua traceback.
local function invoke(ud, id, fn, ev)
  local t0 = raw.clock()
  local ok, result = xpcall(fn, raw.traceback, ev)
  raw.call(ud, "hooks.account", id, raw.clock() - t0)
  if not ok then
    if last_failure and type(result) == "string" and result:sub(1, #last_failure) == last_failure then
      error(last_failure, 0)
    end
    local _, info = raw.call(ud, "hooks.info", id)
    local what = type(info) == "table" and info.what or ("hook " .. id)
    local _, where = raw.call(ud, "location")
    last_failure = string.format("moon86: hook %d (%s) failed at guest %s: %s", id, what,
      tostring(where), tostring(result))
    error(last_failure, 0)
  end
  return result
end

-- Searches a pattern hook's candidate text; calls the callback per match.
-- Returns false when a callback asked to stop.
local function text_candidate(ud, fn, ev)
  local id, go_on = ev.id, true
  if ev.kind == "screen_text" then
    local r = { string.find(ev.text, ev.pattern) }
    local fire = call(ud, "hooks.text_result", id, r[1] ~= nil, 0)
    if fire then
      local e = { kind = ev.kind, id = id, icount = ev.icount, cs = ev.cs, eip = ev.eip,
        text = ev.text:sub(r[1], r[2]), captures = { table.unpack(r, 3) }, screen = ev.text }
      go_on = invoke(ud, id, fn, e) ~= false
    end
    return go_on
  end
  local init, consumed = 1, 0
  while true do
    local r = { string.find(ev.text, ev.pattern, init) }
    if r[1] == nil then break end
    local s, e = r[1], math.max(r[2], r[1])
    local fire = call(ud, "hooks.text_result", id, true, e - consumed)
    consumed, init = e, e + 1
    if fire then
      local t = { kind = ev.kind, id = id, icount = ev.icount, cs = ev.cs, eip = ev.eip,
        text = ev.text:sub(s, r[2]), captures = { table.unpack(r, 3) } }
      if invoke(ud, id, fn, t) == false then go_on = false end
    end
    if init > #ev.text then break end
  end
  return go_on
end

-- Calls the callbacks of every pending fire, in order. Returns false when
-- one of them returned false (all the fires of the batch still run).
local function dispatch(ud)
  local go_on = true
  for _, ev in ipairs(call(ud, "hooks.take")) do
    local fn = callbacks[ud] and callbacks[ud][ev.id]
    if fn then
      if (ev.kind == "serial_text" or ev.kind == "screen_text") and not ev.matched then
        if not text_candidate(ud, fn, ev) then go_on = false end
      elseif ev.kind == "write" and ev.pre then
        poke(ud, ev.addr, ev.size, ev.old)
        local r = invoke(ud, ev.id, fn, ev)
        poke(ud, ev.addr, ev.size, type(r) == "number" and math.tointeger(r) or ev.new)
        if r == false then go_on = false end
      else
        if ev.kind == "serial_text" or ev.kind == "screen_text" then ev.captures = {} end
        if invoke(ud, ev.id, fn, ev) == false then go_on = false end
      end
    end
  end
  return go_on
end

-- For a front end that runs the VM itself (the monitor): calls the Lua
-- callbacks of the pending fires; fires of hooks without a Lua callback
-- (the front end's own) are dropped here.
raw.dispatch = dispatch

---------------------------------------------------------------------------
-- The run loop

local function duration_ns(v, what)
  if v == nil then return nil end
  local ok, ns = raw.duration(v)
  if not ok then error("moon86: " .. what .. ": " .. ns, 4) end
  return ns
end

local RUN_OPTIONS = { instructions = true, ["until"] = true, timeout = true,
  wall_timeout = true, poll = true }
-- With a wall-clock guard, the loop comes back to Lua this often.
local WALL_SLICE = 10000000

local function run_loop(self, ud, raw_name, opts)
  local budget, until_fn = opts.instructions, opts["until"]
  if until_fn ~= nil and type(until_fn) ~= "function" then
    error("moon86: run: until must be a function, got " .. type(until_fn), 3)
  end
  if opts.poll ~= nil and until_fn == nil then
    error("moon86: run: poll is how often until() is checked; it needs until", 3)
  end
  local poll = until_fn and duration_ns(opts.poll or "1ms", "run: poll")
  if poll == 0 then
    error("moon86: run: poll must be longer than zero (it is how much virtual time runs between until() checks)", 3)
  end
  local wall_ns = duration_ns(opts.wall_timeout, "run: wall_timeout")
  if wall_ns == 0 then
    error("moon86: run: wall_timeout must be longer than zero", 3)
  end
  local was_running = check(raw.get(ud, "state")) == "running"
  -- The budget counts what this call executes: a callback's reset or
  -- restore moves icount back, but not this count.
  local retired = function() return call(ud, "retired") end
  local start = retired()
  local now = function() return call(ud, "now_ns") end
  local deadline = opts.timeout and now() + duration_ns(opts.timeout, "run: timeout")
  local wall = wall_ns and raw.clock() + wall_ns / 1e9
  local next_poll = poll and now() + poll
  local function finish(why)
    if was_running and check(raw.get(ud, "state")) == "paused" then call(ud, "resume") end
    return why
  end
  while true do
    local left
    if budget then
      left = math.max(budget - (retired() - start), 0)
      if left == 0 and raw_name == "step_raw" then return finish("budget") end
    end
    if wall then left = math.min(left or WALL_SLICE, WALL_SLICE) end
    local d = deadline
    if next_poll and (d == nil or next_poll < d) then d = next_poll end
    local why
    if raw_name == "step_raw" then
      why = call(ud, "step_raw", left)
    else
      why = call(ud, "run_raw", left, d)
    end
    if why == "hook" then
      if not dispatch(ud) then return finish("hook") end
      if until_fn and until_fn() then return finish("until") end
    elseif why == "timeout" then
      if deadline and now() >= deadline then return finish("timeout") end
      if until_fn and until_fn() then return finish("until") end
      next_poll = now() + poll
    elseif why == "budget" then
      local done = retired() - start
      if budget and done >= budget then return finish("budget") end
      if not (wall or budget) then return finish("budget") end
    else
      return finish(why)
    end
    if wall and raw.clock() >= wall then return finish("wall_timeout") end
  end
end

--- vm:run(n) or vm:run{ instructions =, until =, timeout =, wall_timeout =, poll = }
function root.run(self, opts)
  local ud = ud_of(self, "run")
  check(raw.call(ud, "guard", "run")) -- the lifecycle rule, raised at the caller's line
  if opts == nil then
    opts = {}
  elseif type(opts) ~= "table" then
    opts = { instructions = opts }
  else
    for k in pairs(opts) do
      if not RUN_OPTIONS[k] then
        error("moon86: run: unknown option '" .. tostring(k)
          .. "' (known options: instructions, until, timeout, wall_timeout, poll)", 2)
      end
    end
  end
  if opts.instructions ~= nil then
    local ok, n = raw.integer(opts.instructions, "run: instructions")
    if not ok then error(n, 2) end
    opts = { instructions = n, ["until"] = opts["until"], timeout = opts.timeout,
      wall_timeout = opts.wall_timeout, poll = opts.poll }
  end
  return run_loop(self, ud, "run_raw", opts)
end

--- vm:step(n): executes n instructions (default 1); hooks fire as in run.
function root.step(self, count)
  local ud = ud_of(self, "step")
  local n = 1
  if count ~= nil then
    local ok, v = raw.integer(count, "step: count")
    if not ok then error(v, 2) end
    n = v
  end
  check(raw.call(ud, "guard", "step")) -- the lifecycle rule, raised at the caller's line
  return run_loop(self, ud, "step_raw", { instructions = n })
end

---------------------------------------------------------------------------
-- Waits

-- A string quoted on one line for messages, as Lua would write it: \n, \r,
-- \t, \" and \\, other control characters as \ddd.
local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\" }
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or string.format("\\%03d", c:byte())
  end) .. '"'
end

-- For the test library (lua/moon86/test.lua), which quotes the same way.
raw.quote = quote

local function tail(s, n)
  if #s <= n then return s end
  return "..." .. s:sub(-n)
end

local function wait_opts(opts, what)
  opts = opts or {}
  if type(opts) ~= "table" then error("moon86: " .. what .. ": options must be a table", 4) end
  for k in pairs(opts) do
    if k ~= "timeout" and k ~= "wall_timeout" and k ~= "plain" then
      error("moon86: " .. what .. ": unknown option '" .. tostring(k)
        .. "' (known options: timeout, wall_timeout, plain)", 4)
    end
  end
  return opts
end

-- The match of `pattern` in `text` from `init`, as a list (the matched
-- text, then the captures), and its end; nil when there is none.
local function find_match(text, pattern, init, plain)
  local r = { string.find(text, pattern, init, plain) }
  if not r[1] then return nil end
  local m = { text:sub(r[1], r[2]) }
  if not plain then
    for i = 3, #r do m[#m + 1] = r[i] end
  end
  return m, r[2]
end

-- Checks a wait's arguments; returns its options.
local function wait_args(pattern, opts, what)
  if type(pattern) ~= "string" or pattern == "" then
    error("moon86: " .. what .. " needs a non-empty pattern string", 3)
  end
  opts = wait_opts(opts, what)
  local bad = raw.pattern_error(pattern, opts.plain, what)
  if bad then error("moon86: " .. bad, 3) end
  return opts
end

-- Runs until `try()` finds a match, with a temporary text hook of `kind`
-- stopping the run when new text could match. Returns the match list, or
-- nil and why the run ended without one.
local function wait_for(self, ud, what, kind, pattern, opts, hook_opts, try)
  local m = try()
  if m then return m end
  local h = add_hook(ud, kind, pattern, function() return false end, hook_opts, what)
  local ok, why = pcall(run_loop, self, ud, "run_raw",
    { timeout = opts.timeout or "30s", wall_timeout = opts.wall_timeout })
  pcall(hook_methods.remove, h)
  if not ok then error(why, 0) end
  m = try()
  if m then return m end
  if why == "timeout" then
    return nil, "not seen within " .. tostring(opts.timeout or "30s") .. " of virtual time"
  end
  return nil, "not seen before the run stopped (" .. why .. ")"
end

--- Runs until COM1's output since the previous expect matches `pattern`;
--- returns the match and its captures.
function serial.expect(self, pattern, opts)
  local ud = ud_of(self, "expect")
  opts = wait_args(pattern, opts, "serial:expect")
  local function try()
    local m, last = find_match(call(ud, "serial.text"), pattern, expect_cursor[ud] or 1, opts.plain)
    if m then expect_cursor[ud] = last + 1 end
    return m
  end
  local m, reason = wait_for(self, ud, "serial:expect", "serial_text", pattern, opts,
    { plain = opts.plain, since = (expect_cursor[ud] or 1) - 1 }, try)
  if m then return table.unpack(m) end
  local all = call(ud, "serial.text")
  error(string.format("moon86: serial:expect: %s %s; serial output since the previous match:\n%s",
    quote(pattern), reason, tail(all:sub(expect_cursor[ud] or 1), 600)), 2)
end

--- Runs until the text screen matches `pattern`; returns the match and its captures.
function screen.wait_text(self, pattern, opts)
  local ud = ud_of(self, "wait_text")
  opts = wait_args(pattern, opts, "screen:wait_text")
  local function screen_text() return table.concat(call(ud, "screen.text"), "\n") end
  local function try() return (find_match(screen_text(), pattern, 1, opts.plain)) end
  local m, reason = wait_for(self, ud, "screen:wait_text", "screen_text", pattern, opts,
    { plain = opts.plain }, try)
  if m then return table.unpack(m) end
  error(string.format("moon86: screen:wait_text: %s %s; the screen shows:\n%s",
    quote(pattern), reason, screen_text()), 2)
end

