-- Helpers for the real-guest tests: run a VM until text appears on COM1,
-- within an instruction budget, failing with the serial log when it does not.
local M = {}

--- Runs until `text` (plain) has appeared on COM1 since the last wait.
--- Returns everything read during the wait.
function M.serial(vm, text, budget, state)
  state = state or {}
  local seen = state.pending or ""
  local limit = vm.icount + budget
  while true do
    local hit = seen:find(text, 1, true)
    if hit then
      state.pending = seen:sub(hit + #text)
      return seen:sub(1, hit + #text - 1)
    end
    if vm.icount >= limit then
      error(("no %q on the serial port within %d instructions; it printed:\n%s"):format(text, budget, vm.serial:text()), 2)
    end
    local why = vm:run(math.min(2e7, limit - vm.icount))
    seen = seen .. vm.serial:read()
    if why ~= "budget" and why ~= "idle" and not seen:find(text, 1, true) then
      error(("the guest stopped (%s, %s) before %q appeared; it printed:\n%s"):format(
        why, tostring(vm.halt_reason), text, vm.serial:text()), 2)
    end
  end
end

return M
