-- What firmware writes to its ports: the debug port 0x402 (SeaBIOS's and
-- Bochs's BIOS log) beside the 0xE9 console, and the POST codes, whose
-- first values are kept however many follow.
local t = dofile((arg[0]:match("^(.*)/") or ".") .. "/check.lua")

-- mov dx,0x402 ; mov al,'S' ; out dx,al ; mov al,10 ; out dx,al
-- mov dx,0xe9 ; mov al,'E' ; out dx,al ; cli ; hlt
local log = t.machine("\xBA\x02\x04\xB0S\xEE\xB0\x0A\xEE\xBA\xE9\x00\xB0E\xEE\xFA\xF4")
t.eq(log.biosdebug.echo, false)
t.eq(log:run(100), "halted")
t.eq(log.biosdebug:text(), "S\n")
t.eq(log.debugcon:text(), "E", "0xE9 is a console of its own")
local snap = log:snapshot()
log.biosdebug:clear()
t.eq(log.biosdebug:text(), "")
t.eq(log.debugcon:text(), "E", "clearing one leaves the other")
log:restore(snap)
t.eq(log.biosdebug:text(), "S\n", "the text is in snapshots")
log:reset()
t.eq(log.biosdebug:text(), "", "reset forgets it")
log.biosdebug.echo = true
t.eq(log.biosdebug.echo, true)
t.truthy(moon86.help("biosdebug.text"):find("0x402"), "documented")

-- mov cx,10000 ; L: mov al,cl ; out 0x80,al ; loop L ; cli ; hlt
-- The codes are the low byte of CX: 0x10, 0x0F, ... down to 0x01.
local post = t.machine("\xB9\x10\x27\x88\xC8\xE6\x80\xE2\xFA\xFA\xF4")
t.eq(post.post_codes and #post.post_codes, 0)
t.eq(post:run(100000), "halted")
t.eq(post.post_code_count, 10000)
local codes = post.post_codes
t.eq(#codes, 8192, "the first 4096 and the last 4096")
for i = 1, 4096 do
  t.eq(codes[i], (0x10 - (i - 1)) & 0xFF, "code " .. i)
end
for i = 1, 4096 do
  local n = 10000 - 4096 + i -- the n-th code written
  t.eq(codes[4096 + i], (0x10 - (n - 1)) & 0xFF, "code " .. n)
end
t.eq(post.post_code, 0x01)
local s = post:snapshot()
post:reset()
t.eq(#post.post_codes, 0)
t.eq(post.post_code_count, 0)
post:restore(s)
t.eq(post.post_code_count, 10000, "the count is in snapshots")
t.eq(post.post_codes[1], 0x10, "the first codes are in snapshots")
t.eq(#post.post_codes, 8192)

print("firmware ports ok")
