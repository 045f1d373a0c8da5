-- step, run, pause and the ways a guest stops, on small real-mode programs.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")

-- mov ax,0x1234 ; inc ax ; mov bx,ax ; cli ; hlt
local vm = t.machine("\xB8\x34\x12\x40\x89\xC3\xFA\xF4")
t.eq(vm:step(), "budget")
t.eq(vm.cpu.eax, 0x1234)
t.eq(vm.cpu.eip, 3)
t.eq(vm.icount, 1)
t.eq(vm:step(2), "budget")
t.eq(vm.cpu.ebx, 0x1235)
t.eq(vm.state, "paused")
vm.cpu.ebx = 0x77 -- registers can be changed between steps
t.eq(vm:run{ instructions = 1000 }, "halted")
t.eq(vm.icount, 5)
t.eq(vm.cpu.ebx, 0x77)
t.eq(vm.cpu.eip, 8, "EIP points past the HLT")
t.eq(vm.cpu.halted, true)
t.eq(vm.halt_reason, "hlt")

-- run budgets, as integers, floats and tables
local loop = t.machine("\xEB\xFE") -- jmp $
t.eq(loop:run(1000), "budget")
t.eq(loop.icount, 1000)
t.eq(loop:run{ instructions = 1e3 }, "budget")
t.eq(loop.icount, 2000)
t.eq(loop:run{ instructions = 0 }, "budget")
t.eq(loop.icount, 2000)
t.raises("run: unknown option 'instrs' (known options: instructions, until", function() loop:run{ instrs = 5 } end)
t.raises("run: instructions must be a non-negative integer", function() loop:run(-5) end)
t.raises("step: count: 'many' is not a number", function() loop:step("many") end)
t.eq(loop.state, "paused", "bad arguments leave the VM as it was")

-- pause between runs stops a running VM; the next run resumes exactly there
loop:resume()
t.eq(loop:run(10), "budget")
t.eq(loop.state, "running")
loop:pause()
t.eq(loop.state, "paused")

-- the exit port: exit status (v << 1) | 1, state halted
local exit = t.machine("\xB0\x21\xE6\xF4\xEB\xFE") -- mov al,0x21 ; out 0xf4,al ; jmp $
t.eq(exit:run(100), "exit")
t.eq(exit.exit_code, 0x43)
t.eq(exit.state, "halted")
t.eq(exit.halt_reason, "exit")
t.eq(exit.icount, 2)
exit:reset()
t.eq(exit.exit_code, nil, "reset clears the exit status")

-- a configurable exit port
local moved = moon86.new{ ram = "1M", exit_port = 0x501 }
moved.mem:write(0x1000, "\xBA\x01\x05\xB0\x02\xEE\xB0\x03\xE6\xF4\xFA\xF4") -- mov dx,0x501; mov al,2; out dx,al ...
moved.cpu.cs.selector = 0x100
moved.cpu.eip = 0
moved:power_on()
t.eq(moved:run(100), "exit")
t.eq(moved.exit_code, 5)

-- HLT with interrupts enabled and nothing to wake the CPU: "idle", still paused
local idle = t.machine("\xFB\xF4") -- sti ; hlt
t.eq(idle:run(100), "idle")
t.eq(idle.state, "paused")
t.eq(idle.cpu.halted, true)

-- debug console and POST codes
local io_prog = "\xBA\xE9\x00" .. -- mov dx,0xe9
  "\xB0\x68\xEE\xB0\x69\xEE" ..    -- 'h' 'i'
  "\xB0\x0A\xE6\x80\xB0\x0B\xE6\x80" .. -- POST 0a, 0b on port 0x80
  "\xBA\x90\x01\xB0\x0C\xEE" ..    -- POST 0c on port 0x190
  "\xFA\xF4"
local con = t.machine(io_prog)
t.eq(con:run(100), "halted")
t.eq(con.debugcon:text(), "hi")
t.eq(con.post_code, 0x0C)
t.eq(table.concat(con.post_codes, ","), "10,11,12")
con.debugcon:clear()
t.eq(con.debugcon:text(), "")
-- a reset clears device state and puts the program back
con.mem:write(0x1000, "\xF4")
con:reset()
t.eq(con.post_code, nil)
t.eq(con.cpu.eip, 0xFFF0, "reset without images: the reset vector")

-- a guest that executes garbage gets guest exceptions, never a host panic
local junk = t.machine(string.rep("\xFF", 64))
local why = junk:run(10000)
t.truthy(why == "budget" or why == "halted" or why == "shutdown", "garbage run ends: " .. why)
-- One long run keeps what the JIT learnt across its internal slices (a
-- slice is 1 Mi instructions): a call to another page and the return
-- from it go on through the jump cache, where separate runs, after which
-- anything may have changed, start it afresh. Same instructions, same
-- result, fewer returns to the dispatcher.
-- 0000: call 1000h ; jmp 0000h ... 1000: ret
local far_call = "\xE8\xFD\x0F\xEB\xFB" .. string.rep("\x90", 0x1000 - 5) .. "\xC3"
local whole, sliced = t.machine(far_call), t.machine(far_call)
whole.jit, sliced.jit = true, true -- (whatever MOON86_JIT says)
t.eq(whole:run(4 << 20), "budget")
for _ = 1, 4 do t.eq(sliced:run(1 << 20), "budget") end
t.eq(whole.icount, sliced.icount)
t.eq(whole.cpu.eip, sliced.cpu.eip)
t.eq(whole.cpu.esp, sliced.cpu.esp)
t.truthy(whole["jit_stats.jumped"] > 1000, "the call and the return chain through the jump cache")
t.truthy(whole["jit_stats.entries"] < sliced["jit_stats.entries"],
  ("entries: one run %d, four runs %d"):format(whole["jit_stats.entries"], sliced["jit_stats.entries"]))
print("execution: ok")
