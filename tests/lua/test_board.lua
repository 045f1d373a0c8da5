-- The PC/AT board end to end: PIC + PIT interrupts on virtual time, CMOS,
-- the A20 gate, and COM1 both ways (guests/board/pcat.S).
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")
local root = arg[0]:match("^(.*)/tests/lua/") or "."

local vm = moon86.new{ ram = "2M" }
vm:load_boot_sector(root .. "/guests/board/pcat.bin")
vm.serial:write("Z")
vm:power_on()
t.eq(vm.a20, true, "A20 starts open, as a BIOS leaves it")
local why = vm:run{ instructions = 1e6 }
local out = vm.serial:text()
t.eq(why, "exit", "the guest finishes; serial so far: " .. out)
t.eq(vm.exit_code, 1, "every check passed; serial: " .. out)
t.eq(out, table.concat {
  "ok timer: 10 interrupts\n",
  "ok cmos: 640K base memory\n",
  "ok a20: wraps when closed, not when open\n",
  "ok serial: got Z\n",
})
-- ten ticks at 100 Hz: writing mode 2 raises OUT0 at once (the first edge),
-- then nine more 10 ms apart: 90 ms of virtual time, mostly slept in HLT, so
-- far fewer instructions than 90 ms at the default rate would take
t.truthy(vm.clock >= 90000000 and vm.clock < 91000000, "virtual time " .. vm.clock)
t.truthy(vm.icount < 20000, "instructions " .. vm.icount)
t.eq(vm.ips, 100000000)

-- serial.read returns what is new since the last read
t.eq(vm.serial:read(), out)
t.eq(vm.serial:read(), "")

-- the same run twice: the same instruction count, clock and output
local function once()
  local v = moon86.new{ ram = "2M" }
  v:load_boot_sector(root .. "/guests/board/pcat.bin")
  v.serial:write("Z")
  v:power_on()
  v:run(1e6)
  return v.icount, v.clock, v.serial:text()
end
local i1, c1, s1 = once()
local i2, c2, s2 = once()
t.eq(i1, i2, "icount is reproducible")
t.eq(c1, c2, "virtual time is reproducible")
t.eq(s1, s2, "serial output is reproducible")

-- a slower virtual clock: the same ten ticks take the same virtual time
local slow = moon86.new{ ram = "2M", ips = 1000000 }
slow:load_boot_sector(root .. "/guests/board/pcat.bin")
slow.serial:write("Z")
slow:power_on()
t.eq(slow:run(1e6), "exit")
-- (at 1 MIPS the ~20,000 instructions executed add ~20 ms of their own)
t.truthy(slow.clock >= 90000000 and slow.clock < 130000000, "virtual time at 1 MIPS " .. slow.clock)
t.raises("cannot set ips while the VM is halted", function() slow.ips = 5 end)

-- the screen reads as text from 0xB8000
local s = moon86.new{ ram = "1M" }
s.mem:write(0xB8000, "H\7i\7")
s.mem:write(0xB8000 + 160, "2\7")
local lines = s.screen:text()
t.eq(#lines, 25)
t.eq(lines[1], "Hi")
t.eq(lines[2], "2")
print("board: ok")

-- the keyboard controller delivers queued scancodes one at a time, translated
-- to set 1 (command byte bit 6, the BIOS default); the guest polls the
-- status register's output-buffer-full bit before each read, as drivers do
local poll = "\xE4\x64\xA8\x01\x74\xFA" -- 1: in al,0x64; test al,1; jz 1b
local kb = t.machine(poll .. "\xE4\x60\x88\xC3" .. poll .. "\xE4\x60\x88\xC7\xFA\xF4") -- in al,0x60; mov bl,al; ...; mov bh,al; cli; hlt
kb.keyboard:send("\x1C\xF0\x1C") -- A pressed and released (set 2)
t.eq(kb:run(100000), "halted")
t.eq(kb.cpu.ebx & 0xFFFF, 0x9E1E, "set 1: 1E (make), 9E (break)")
print("keyboard: ok")
