-- moon86's Lua object model, shipped inside the binary.
--
-- A VM is a Lua table whose fields are the control API's properties and
-- whose methods are its actions. Every object is a small handle (the VM's
-- userdata plus a path prefix such as "cpu.cs") that resolves through the
-- control API on each access, so nothing here caches machine state. The raw
-- functions never raise; `check` turns their `false, message` into a Lua
-- error that points at the caller's line.
local raw = ...

local function check(ok, ...)
  if not ok then error((...), 3) end
  return ...
end

-- object -> VM userdata. Every use of a VM object (a method, a property, a
-- hook, the run loop) looks its userdata up here, so the lookup also notes
-- when the VM was last used: `moon86.mark()` and `moon86.live_vms(mark)`
-- let the test library capture only the VMs a failing test touched.
local handles = setmetatable({}, { __mode = "k" })
local used_at = setmetatable({}, { __mode = "k" }) -- VM userdata -> mark
local epoch = 0
local handle = setmetatable({}, {
  __index = function(_, o)
    local ud = handles[o]
    if ud ~= nil then used_at[ud] = epoch end
    return ud
  end,
  __newindex = function(_, o, ud)
    handles[o] = ud
    used_at[ud] = epoch
  end,
})
local prefix_of = setmetatable({}, { __mode = "k" }) -- object -> path prefix

-- Methods by namespace, generated from the raw API's list of callable names:
-- "power_on" becomes vm:power_on(), "mem.read" becomes vm.mem:read().
local methods = {}
for _, full in ipairs(raw.methods()) do
  local prefix, name = full:match("^(.*)%.([^.]+)$")
  if not prefix then prefix, name = "", full end
  methods[prefix] = methods[prefix] or {}
  methods[prefix][name] = function(self, ...)
    if handle[self] == nil then
      error("moon86: call " .. name .. " with ':' (vm:" .. name .. "(...)), not '.'", 2)
    end
    -- The parentheses keep this from being a tail call, so the error level
    -- in `check` still reaches the caller's line.
    return (check(raw.call(handle[self], full, ...)))
  end
end

-- Hooks, the run loop and the waits replace some generated methods.
load(raw.hooks_source, "=moon86.hooks")(raw, methods, check, handle)

local object_mt = {}

local function object(ud, prefix)
  local o = setmetatable({}, object_mt)
  handle[o] = ud
  prefix_of[o] = prefix
  return o
end

local function path_of(self, key)
  if type(key) ~= "string" then
    error("moon86: field names are strings, got " .. type(key), 3)
  end
  local prefix = prefix_of[self]
  return prefix == "" and key or (prefix .. "." .. key)
end

object_mt.__index = function(self, key)
  local ns = methods[prefix_of[self]]
  local m = ns and ns[key]
  if m then return m end
  local path = path_of(self, key)
  local kind, message = raw.kind(path)
  if kind == "property" then return (check(raw.get(handle[self], path))) end
  if kind == "namespace" then return object(handle[self], path) end
  error(message, 2)
end

object_mt.__newindex = function(self, key, value)
  check(raw.set(handle[self], path_of(self, key), value))
end

object_mt.__tostring = function(self)
  return raw.describe(handle[self], prefix_of[self])
end

local moon86 = { version = raw.version }

-- Every VM made, weakly held, in creation order.
local live = setmetatable({}, { __mode = "k" })
local order = setmetatable({}, { __mode = "k" })
local made = 0

--- Creates a VM in state "off". `opts` sets properties: { ram = "16M" }.
function moon86.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("moon86.new expects a table of properties, like moon86.new{ ram = \"16M\" }", 2)
  end
  local vm = object(check(raw.new(opts or {})), "")
  made = made + 1
  live[vm], order[vm] = true, made
  return vm
end

-- Wraps a VM userdata made in Rust (the monitor's) as a VM object.
function raw.adopt(ud)
  local vm = object(ud, "")
  made = made + 1
  live[vm], order[vm] = true, made
  return vm
end

--- Starts a new period of use and returns its mark, for `live_vms(mark)`.
function moon86.mark()
  epoch = epoch + 1
  return epoch
end

--- The VMs still referenced, oldest first; with a mark from `mark()`, only
--- those created or used since (the test library captures them when a
--- test fails).
function moon86.live_vms(mark)
  if mark ~= nil and math.type(mark) ~= "integer" then
    error("moon86.live_vms: the mark must be an integer from moon86.mark()", 2)
  end
  local list = {}
  for vm in pairs(live) do
    if mark == nil or (used_at[handles[vm]] or 0) >= mark then list[#list + 1] = vm end
  end
  table.sort(list, function(a, b) return order[a] < order[b] end)
  return list
end

--- Every property, as a list of { path, type, unit, doc, settable_in }.
function moon86.properties() return raw.properties() end
--- Every action, as a list of { name, args, returns, doc, allowed }.
function moon86.actions() return raw.actions() end
--- The documentation of one property or action.
function moon86.help(name) return check(raw.help(name)) end

return moon86
