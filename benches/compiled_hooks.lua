-- Runs the compiled-C benchmark kernel (guests/bench/compiled.bin) with
-- hooks that never fire, for benches/phase_times.py --hooks: what idle
-- hooks cost the JIT. Prints each line the guest writes on COM1 as it
-- comes (the script times them), and fails unless the guest left through
-- the exit port.
--
--   moon86 run benches/compiled_hooks.lua KERNEL none|exec100|io|hotpage|filtered
--
--   none     no hooks (the baseline, run the same way)
--   exec100  100 execute hooks on addresses the guest never runs, and a
--            write watch on a page it never writes
--   io       an I/O hook on a port the guest never touches (0x2E8, COM4)
--   hotpage  an execute hook on a never-run address of the page with the
--            most executed code (given as the third argument, hex)
--   filtered a write hook on the top 256 bytes of the guest's stack, the
--            most written memory it has, whose value filter no write
--            there passes
local kernel, mode, hot = arg[1], arg[2] or "none", arg[3]
if not kernel then
  io.stderr:write("usage: compiled_hooks.lua KERNEL none|exec100|io|hotpage|filtered [ADDR]\n")
  os.exit(2)
end

local vm = moon86.new{ ram = "64M" }
vm:load_multiboot{ kernel = kernel }

local never = function() error("an idle hook fired") end
if mode == "exec100" then
  -- Spread over 32 MiB that holds no code, as breakpoints on functions a
  -- run never reaches would be.
  for i = 0, 99 do
    vm:on_exec(0x2000000 + i * 0x51000, never)
  end
  vm:on_write(0x3F00000, never)
elseif mode == "io" then
  vm:on_io(0x2E8, never)
elseif mode == "hotpage" then
  vm:on_exec(assert(tonumber(hot), "hotpage needs an address"), never)
elseif mode == "filtered" then
  -- (The stack starts at 0x3FF000: guests/bench/compiled.c's entry.)
  vm:on_write({ 0x3FEF00, 0x3FF000 }, never, { value = 0xDEADBEEF })
elseif mode ~= "none" then
  io.stderr:write(("compiled_hooks.lua: unknown mode %q\n"):format(mode))
  os.exit(2)
end

local printed = 0
vm.serial:on_text("\n", function()
  local text = vm.serial:text()
  io.write(text:sub(printed + 1))
  io.flush()
  printed = #text
end)

vm:power_on()
local why = vm:run()
io.write(vm.serial:text():sub(printed + 1))
if why ~= "exit" then
  io.stderr:write(("compiled_hooks.lua: the guest stopped with %q, not through the exit port\n"):format(why))
  os.exit(1)
end
