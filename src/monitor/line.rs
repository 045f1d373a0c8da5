//! One line of input: a command when its first word names one (and the
//! rest does not read as Lua, as in `x = 5`), otherwise Lua, evaluated in
//! the session with `vm` bound; an unfinished Lua chunk waits for more
//! lines. Errors are printed, never raised: nothing typed ends the monitor
//! but `quit` and the end of input.

use super::commands::{lookup, suggest, CommandDef};
use super::error::MonitorError;
use super::state::Monitor;
use crate::script::Eval;

/// The prompt, and the one for the lines of an unfinished Lua chunk.
pub const PROMPT: &str = "(moon86) ";
pub const CONTINUATION: &str = "... ";

/// Splits a line into a command and its arguments when it is one.
pub fn as_command(line: &str) -> Option<(&'static CommandDef, &str)> {
    let t = line.trim_start();
    let end = t
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(t.len());
    let (word, rest) = t.split_at(end);
    let def = lookup(word)?;
    let r = rest.trim_start();
    // `x = 1`, `step(3)`, `c.foo`, `n == 2`: Lua that happens to start with a command's name.
    let lua_like = [
        "=", ".", ":", "(", "[", "{", "\"", "'", ",", "~", "==", "..", "<", ">", "*", "^", "%",
    ]
    .iter()
    .any(|p| r.starts_with(p))
        && !(rest.starts_with('/') && matches!(def.name, "x" | "xp"));
    if lua_like {
        return None;
    }
    if rest.starts_with('/') && !matches!(def.name, "x" | "xp") {
        return None;
    }
    Some((def, rest))
}

fn first_word(line: &str) -> &str {
    let t = line.trim_start();
    let end = t
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(t.len());
    &t[..end]
}

impl Monitor {
    /// Handles one line; returns the prompt for the next one.
    pub fn handle_line(&mut self, line: &str) -> &'static str {
        if self.pending.is_empty() {
            if line.trim().is_empty() {
                return PROMPT;
            }
            if let Some((def, args)) = as_command(line) {
                if let Err(e) = (def.handler)(self, args) {
                    self.fail(e);
                }
                return PROMPT;
            }
        }
        let chunk = if self.pending.is_empty() {
            line.to_string()
        } else {
            format!("{}\n{line}", self.pending)
        };
        // A bare word that is no Lua variable but is close to a command is a typo.
        let word = first_word(&chunk);
        if self.pending.is_empty() && word == chunk.trim() && !self.session.global_defined(word) {
            if let Some(s) = suggest(word) {
                self.fail(MonitorError::UnknownCommand {
                    word: word.to_string(),
                    suggestion: Some(s),
                });
                return PROMPT;
            }
        }
        match self.session.eval(&chunk) {
            Eval::Incomplete => {
                self.pending = chunk;
                CONTINUATION
            }
            Eval::Done(values) => {
                self.pending.clear();
                if !values.is_empty() {
                    self.say(values.join("\t"));
                }
                self.forward_output();
                PROMPT
            }
            Eval::Failed(msg) => {
                self.pending.clear();
                let syntax = msg.contains("syntax error") || msg.contains("expected near");
                let suggestion = (syntax && !word.is_empty())
                    .then(|| suggest(word))
                    .flatten()
                    .filter(|_| !self.session.global_defined(word));
                match suggestion {
                    Some(s) => self.fail(MonitorError::UnknownCommand {
                        word: word.to_string(),
                        suggestion: Some(s),
                    }),
                    None => self.fail(MonitorError::Lua(msg)),
                }
                PROMPT
            }
        }
    }

    /// Drops an unfinished chunk (Ctrl-C at a continuation prompt).
    pub fn discard_pending(&mut self) -> bool {
        let had = !self.pending.is_empty();
        self.pending.clear();
        had
    }

    pub fn fail(&mut self, e: MonitorError) {
        self.failed = true;
        self.say(format!("error: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_lua() {
        assert_eq!(as_command("info registers").unwrap().0.name, "info");
        assert_eq!(as_command("x/4xb 0x7c00").unwrap().1, "/4xb 0x7c00");
        assert_eq!(as_command("c").unwrap().0.name, "cont");
        assert!(as_command("x = 5").is_none());
        assert!(as_command("step(1)").is_none());
        assert!(as_command("vm.icount").is_none());
        assert!(as_command("n == 2").is_none());
        assert!(as_command("print(1)").is_none());
        assert!(as_command("s/x/").is_none());
    }
}
