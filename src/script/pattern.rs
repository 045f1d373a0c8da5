//! Checks the syntax of a Lua pattern when a hook or a wait is set up, so a
//! malformed one (`"["`, `"%"`, `"(a"`, `"%1"`) is refused at the caller's
//! line, naming the hook and the pattern, instead of failing later inside
//! the run loop. The rules are those of Lua 5.4's `lstrlib.c` (`do_match`,
//! `classEnd`, `check_capture`); matching itself stays with Lua's own
//! `string.find`. This module owns nothing else and touches no VM.

/// Lua's limit on captures in one pattern (`LUA_MAXCAPTURES`).
const MAX_CAPTURES: usize = 32;

/// Where a character class that starts at `i` ends (the index after it), as
/// `classEnd` finds it.
fn class_end(p: &[u8], mut i: usize) -> Result<usize, String> {
    let c = p[i];
    i += 1;
    match c {
        b'%' => {
            if i >= p.len() {
                return Err("malformed pattern (ends with '%')".into());
            }
            Ok(i + 1)
        }
        b'[' => {
            if p.get(i) == Some(&b'^') {
                i += 1;
            }
            // The first character of a set is taken literally (so "[]]"
            // is a set holding ']'), as in lstrlib's do-while.
            loop {
                if i >= p.len() {
                    return Err("malformed pattern (missing ']')".into());
                }
                let c = p[i];
                i += 1;
                if c == b'%' && i < p.len() {
                    i += 1;
                }
                if p.get(i) == Some(&b']') {
                    return Ok(i + 1);
                }
            }
        }
        _ => Ok(i),
    }
}

/// `Ok` when `pattern` is a well-formed Lua pattern, else what is wrong
/// with it, in Lua's words.
pub fn check(pattern: &[u8]) -> Result<(), String> {
    let p = pattern;
    // Each capture: closed yet?
    let mut captures: Vec<bool> = Vec::new();
    let mut i = usize::from(p.first() == Some(&b'^'));
    while i < p.len() {
        match p[i] {
            b'(' => {
                if captures.len() >= MAX_CAPTURES {
                    return Err("too many captures".into());
                }
                // "()" is a position capture, closed at once.
                let position = p.get(i + 1) == Some(&b')');
                captures.push(position);
                i += if position { 2 } else { 1 };
            }
            b')' => {
                let Some(open) = captures.iter().rposition(|closed| !closed) else {
                    return Err("invalid pattern capture (a ')' closes nothing)".into());
                };
                captures[open] = true;
                i += 1;
            }
            b'$' if i + 1 == p.len() => i += 1,
            b'%' if p.get(i + 1) == Some(&b'b') => {
                if i + 3 >= p.len() {
                    return Err("malformed pattern (missing arguments to '%b')".into());
                }
                i += 4;
            }
            b'%' if p.get(i + 1) == Some(&b'f') => {
                i += 2;
                if p.get(i) != Some(&b'[') {
                    return Err("missing '[' after '%f' in pattern".into());
                }
                i = class_end(p, i)?;
            }
            b'%' if p.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let n = usize::from(p[i + 1] - b'0');
                if n == 0 || n > captures.len() || !captures[n - 1] {
                    return Err(format!("invalid capture index %{n} in pattern"));
                }
                i += 2;
            }
            _ => {
                i = class_end(p, i)?;
                if matches!(p.get(i), Some(b'?' | b'*' | b'+' | b'-')) {
                    i += 1;
                }
            }
        }
    }
    if captures.iter().any(|closed| !closed) {
        return Err("unfinished capture (a '(' is never closed)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn good_patterns_pass() {
        for p in [
            "",
            "abc",
            "^login: $",
            "%d+",
            "[%w_]+",
            "[]]",
            "[^]]",
            "%[",
            "(%d+)%.(%d+)",
            "()",
            "%bxy",
            "%f[%w]%w+",
            "(a)%1",
            "a-b*c?d+",
            "%%",
            "[a-z]",
            ".",
            "$x",
            "^",
        ] {
            assert_eq!(check(p.as_bytes()), Ok(()), "{p:?}");
        }
    }

    #[test]
    fn malformed_patterns_are_named() {
        for (p, what) in [
            ("[", "missing ']'"),
            ("a[", "missing ']'"),
            ("[%", "missing ']'"),
            ("%", "ends with '%'"),
            ("abc%", "ends with '%'"),
            ("(a", "unfinished capture"),
            ("a)", "invalid pattern capture"),
            ("%1", "invalid capture index %1"),
            ("(a%1)", "invalid capture index %1"),
            ("%0", "invalid capture index %0"),
            ("%b", "missing arguments to '%b'"),
            ("%bx", "missing arguments to '%b'"),
            ("%fa", "missing '[' after '%f'"),
            ("%f[a", "missing ']'"),
        ] {
            let e = check(p.as_bytes()).unwrap_err();
            assert!(e.contains(what), "{p:?}: {e}");
        }
        assert!(check("()".repeat(33).as_bytes())
            .unwrap_err()
            .contains("too many captures"));
    }
}
