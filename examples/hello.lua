-- moon86's demo: boot the hello-world boot sector shipped in guests/hello/,
-- let it print on the debug console (port 0xE9) and stop through the debug-exit
-- port, then check what it did.
--
--   moon86 run examples/hello.lua [BOOT_SECTOR]
local here = arg[0]:match("^(.*)[/\\]") or "."
local image = arg[1] or (here .. "/../guests/hello/boot.bin")

local vm = moon86.new{ ram = "16M" }
vm.debugcon.echo = true                -- show the guest's text as it arrives
vm:load_boot_sector(image)
vm:power_on()

local why = vm:run{ instructions = 1e6 }
print(("stopped: %s after %d instructions, exit status %s, POST codes %s"):format(
  why, vm.icount, tostring(vm.exit_code), table.concat(vm.post_codes, " ")))

if why ~= "exit" or not vm.debugcon:text():find("Hello from moon86!", 1, true) then
  io.stderr:write("hello.lua: the guest did not greet and exit as expected\n")
  os.exit(1)
end
vm:power_off()
