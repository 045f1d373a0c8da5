//! What can go wrong in the monitor, each with a message that says what
//! was typed and what would work. None of these stops the monitor: the
//! loop prints them and reads the next line.

use crate::cli::BootError;
use crate::control::ControlError;
use crate::script::ScriptError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum MonitorError {
    #[error("unknown command '{word}'{}", hint(.suggestion))]
    UnknownCommand {
        word: String,
        suggestion: Option<String>,
    },
    #[error("{command}: {reason} (usage: {usage})")]
    Usage {
        command: &'static str,
        reason: String,
        usage: String,
    },
    #[error("bad address '{text}': {reason}")]
    BadAddress { text: String, reason: String },
    #[error("bad format '/{text}': {reason}")]
    BadFormat { text: String, reason: String },
    #[error("the input ended inside an unfinished Lua chunk; it was not run")]
    UnfinishedLua,
    #[error("line {line} of the input is not UTF-8 text; it was not run")]
    NotText { line: usize },
    #[error("{0}: the guest is running; type `stop` (or Ctrl-C) first")]
    Running(&'static str),
    #[error("{0}")]
    Control(#[from] ControlError),
    #[error("{0}")]
    Lua(String),
    #[error("{0}")]
    Boot(#[from] BootError),
    #[error("{0}")]
    Script(#[from] ScriptError),
}

fn hint(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => " (`help` lists the commands; anything else is Lua)".into(),
    }
}
