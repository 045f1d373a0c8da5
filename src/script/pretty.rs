//! Lua values as people read them at a prompt: tables expanded (nested
//! ones to a few levels, keys sorted), integers of 256 and up in hex with
//! their decimal value (they are mostly addresses and registers), binary
//! strings (`vm.mem:read`) as hex bytes, objects through their `__tostring`.

use mlua::{Function, Table, Value};

/// Nested tables deeper than this show as `{...}`.
const MAX_DEPTH: usize = 3;
/// Entries of one table shown before `...`.
const MAX_ENTRIES: usize = 64;
/// Bytes of a binary string shown before `...`.
const MAX_BYTES: usize = 256;
/// A table whose one-line form is longer than this is shown one entry per line.
const LINE: usize = 76;

/// `v` as readable text.
pub fn pretty(v: &Value) -> String {
    render(v, 0)
}

fn integer(n: i64) -> String {
    if (0..256).contains(&n) || n < 0 {
        n.to_string()
    } else {
        format!("0x{n:x} ({n})")
    }
}

fn is_text(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
    })
}

fn string(b: &[u8]) -> String {
    if is_text(b) {
        return format!("{:?}", String::from_utf8_lossy(b));
    }
    let shown: Vec<String> = b
        .iter()
        .take(MAX_BYTES)
        .map(|x| format!("{x:02x}"))
        .collect();
    let more = if b.len() > MAX_BYTES { " ..." } else { "" };
    format!("<{} bytes: {}{more}>", b.len(), shown.join(" "))
}

fn tostring_of(t: &Table) -> Option<String> {
    let mt = t.metatable()?;
    let f: Function = mt.raw_get("__tostring").ok()?;
    f.call::<String>(t.clone()).ok()
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => {
            let b = s.as_bytes();
            let ident = !b.is_empty()
                && !b[0].is_ascii_digit()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
            if ident {
                s.to_string_lossy()
            } else {
                format!("[{}]", string(&b))
            }
        }
        other => format!("[{}]", render(other, MAX_DEPTH)),
    }
}

fn table(t: &Table, depth: usize) -> String {
    if let Some(s) = tostring_of(t) {
        return s;
    }
    if depth >= MAX_DEPTH {
        return "{...}".into();
    }
    let len = t.raw_len();
    let mut items: Vec<String> = (1..=len.min(MAX_ENTRIES))
        .map(|i| render(&t.raw_get::<Value>(i).unwrap_or(Value::Nil), depth + 1))
        .collect();
    let mut keyed: Vec<(String, String)> = t
        .clone()
        .pairs::<Value, Value>()
        .filter_map(|p| p.ok())
        .filter(|(k, _)| !matches!(k, Value::Integer(i) if *i >= 1 && (*i as usize) <= len))
        .map(|(k, v)| (key_text(&k), render(&v, depth + 1)))
        .collect();
    keyed.sort();
    let total = len + keyed.len();
    items.extend(
        keyed
            .into_iter()
            .take(MAX_ENTRIES.saturating_sub(items.len()))
            .map(|(k, v)| format!("{k} = {v}")),
    );
    if total > items.len() {
        items.push("...".into());
    }
    if items.is_empty() {
        return "{}".into();
    }
    let one = format!("{{ {} }}", items.join(", "));
    if one.len() <= LINE && !one.contains('\n') {
        return one;
    }
    let pad = "  ".repeat(depth + 1);
    let body: Vec<String> = items.iter().map(|i| format!("{pad}{i},")).collect();
    format!("{{\n{}\n{}}}", body.join("\n"), "  ".repeat(depth))
}

fn render(v: &Value, depth: usize) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(n) => integer(*n),
        Value::Number(x) => x.to_string(),
        Value::String(s) => string(&s.as_bytes()),
        Value::Table(t) => table(t, depth),
        Value::Error(e) => e.to_string(),
        other => other
            .to_string()
            .unwrap_or_else(|_| other.type_name().to_string()),
    }
}
