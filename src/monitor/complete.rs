//! Tab completion: command names, `info` topics and `help` topics, property
//! paths for `get`/`set`, `$` registers in addresses, and in Lua `vm.` paths: properties one level at a
//! time (`vm.cpu.` then `vm.cpu.eax`) and methods (`vm:step(`,
//! `vm.mem:read(`). [`complete`] is a pure function of the line, so it is
//! tested directly (`tests/monitor.rs`); [`Helper`] plugs it into rustyline.

use super::commands::{commands, INFO_TOPICS};
use crate::control::property::properties;
use crate::script::method_names;

/// Where the word being completed starts, and its candidates (whole
/// replacements for the word), sorted and without duplicates.
pub fn complete(line: &str, pos: usize) -> (usize, Vec<String>) {
    let pos = pos.min(line.len());
    let head = &line[..pos];
    let start = head
        .rfind(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '$')))
        .map_or(0, |i| i + 1);
    let word = &head[start..];
    let before = head[..start].trim();
    let first = before.split_whitespace().next().unwrap_or("");
    let mut out: Vec<String> = if word.starts_with('$') {
        // A register in an address (`x/4xw $esp`).
        REGISTERS
            .iter()
            .map(|r| format!("${r}"))
            .filter(|r| r.starts_with(word))
            .collect()
    } else if before.is_empty() {
        // The first word: a command, or the start of a Lua line.
        let mut c: Vec<String> = commands()
            .iter()
            .map(|c| c.name.to_string())
            .filter(|n| n.starts_with(word))
            .collect();
        c.extend(lua_paths(word));
        if "vm".starts_with(word) && !word.is_empty() {
            c.push("vm".into());
        }
        c
    } else if !before.contains(char::is_whitespace) && !before.contains('(') {
        // The second word of a command.
        match first {
            "info" => INFO_TOPICS
                .iter()
                .map(|t| t.0.to_string())
                .filter(|t| t.starts_with(word))
                .collect(),
            "help" => commands()
                .iter()
                .map(|c| c.name.to_string())
                .filter(|n| n.starts_with(word))
                .collect(),
            "get" | "set" => level(properties().iter().map(|p| p.path.clone()), word),
            _ => lua_paths(word),
        }
    } else {
        lua_paths(word)
    };
    out.sort();
    out.dedup();
    (start, out)
}

/// The registers addresses may name (see `parse::register`).
const REGISTERS: &[&str] = &[
    "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "pc", "eflags", "cs", "ds",
    "es", "fs", "gs", "ss", "cr0", "cr2", "cr3", "cr4",
];

/// Candidates cut after the next `.` or `:` past `word`, so a path
/// completes one level at a time.
fn level(all: impl Iterator<Item = String>, word: &str) -> Vec<String> {
    all.filter(|c| c.starts_with(word))
        .map(|c| match c[word.len()..].find(['.', ':']) {
            Some(i) => c[..word.len() + i + 1].to_string(),
            None => c,
        })
        .collect()
}

/// `vm.` paths: properties and methods as Lua spells them.
fn lua_paths(word: &str) -> Vec<String> {
    if !word.starts_with("vm") || word.len() < 3 {
        return Vec::new();
    }
    let props = properties().iter().map(|p| format!("vm.{}", p.path));
    let methods = method_names().iter().map(|m| match m.rsplit_once('.') {
        Some((ns, name)) => format!("vm.{ns}:{name}("),
        None => format!("vm:{m}("),
    });
    level(props.chain(methods), word)
}

/// The rustyline helper: completion only.
pub struct Helper;

impl rustyline::completion::Completer for Helper {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete(line, pos))
    }
}

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Helper {}
impl rustyline::validate::Validator for Helper {}
impl rustyline::Helper for Helper {}
