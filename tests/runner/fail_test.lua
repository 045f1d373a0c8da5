-- One test, failing on line 4.
test("wrong sum", function(t)
  print("output of the failing test")
  t:eq(1 + 1, 3, "the sum")
end)
