-- A syntax error: the file never runs.
test("broken", function(t)
  t:eq(1, 1
end)
