-- Every assertion passes.
local t86 = require("moon86.test")
assert(t86.test == test)

test("arithmetic", function(t)
  t:eq(1 + 1, 2)
  t:ne(1, 2)
end)

test("strings and a VM", function(t)
  t:match("moon86", "^moon%d+$")
  t:truthy(moon86.new{ ram = "1M" })
end)
