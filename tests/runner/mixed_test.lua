-- Four tests; the second fails (line 7) and the rest still run, in order.
test("first", function(t)
  t:eq("a", "a")
end)

test("second <&>", function(t)
  t:fail("deliberately")
  t:fail("never reached")
end)

test("third", function(t)
  t:match("abc", "b")
end)

test("fourth", function(t)
  t:truthy(true)
end)
