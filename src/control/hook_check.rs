//! Validation of hook requests before they reach the hook table: a range
//! must be non-empty and inside the 4 GiB space, a port range in order, a
//! serial port one the board has, a filter sensible. Each refusal names
//! what was asked and what would work.

use super::action::Action;
use super::hooks::{Filter, HookKind};
use super::ControlError;

fn bad(name: &str, reason: String) -> ControlError {
    ControlError::BadValue {
        name: name.into(),
        reason,
    }
}

fn check_range(what: &str, start: u64, end: u64) -> Result<(), ControlError> {
    if end <= start {
        return Err(bad(
            what,
            format!("the range 0x{start:x}..0x{end:x} is empty (ranges are {{ start, end }} with end exclusive)"),
        ));
    }
    if end > 1 << 32 {
        return Err(bad(
            what,
            format!("the range 0x{start:x}..0x{end:x} leaves the 4 GiB address space"),
        ));
    }
    Ok(())
}

/// The action whose lifecycle rule covers adding a hook of `kind`.
pub fn action_for(kind: &HookKind) -> Action {
    match kind {
        HookKind::Exec { .. } => Action::OnExec,
        HookKind::Read { .. } => Action::OnRead,
        HookKind::Write { .. } => Action::OnWrite,
        HookKind::Io { .. } => Action::OnIo,
        HookKind::Disk { .. } => Action::OnDisk,
        HookKind::Interrupt { .. } => Action::OnInterrupt,
        HookKind::ModeChange => Action::OnModeChange,
        HookKind::SerialText { .. } => Action::SerialOnText,
        HookKind::ScreenText { .. } => Action::ScreenOnText,
        HookKind::Timer {
            period_ns: None, ..
        } => Action::At,
        HookKind::Timer { .. } => Action::Every,
    }
}

/// Refuses a malformed hook request.
pub fn check(kind: &HookKind, filter: &Filter) -> Result<(), ControlError> {
    let name = kind.name();
    match kind {
        HookKind::Exec { start, end, .. }
        | HookKind::Read { start, end }
        | HookKind::Write { start, end, .. } => check_range(name, *start, *end)?,
        HookKind::Io { first, last, .. } if last < first => {
            return Err(bad(
                name,
                format!("the port range 0x{first:x}..0x{last:x} is backwards (port ranges are {{ first, last }}, inclusive)"),
            ));
        }
        HookKind::Disk { first, last, .. } if last < first => {
            return Err(bad(
                name,
                format!("the sector range {first}..{last} is backwards (sector ranges are {{ first, last }}, inclusive)"),
            ));
        }
        HookKind::SerialText { port, text, .. } => {
            if *port > 1 {
                return Err(bad(
                    "port",
                    format!("there is no COM{} (the board has COM1 and COM2)", port + 1),
                ));
            }
            if text.is_empty() {
                return Err(bad(name, "the text to match is empty".into()));
            }
        }
        HookKind::ScreenText { text, .. } if text.is_empty() => {
            return Err(bad(name, "the text to match is empty".into()));
        }
        HookKind::Timer {
            period_ns: Some(0), ..
        } => return Err(bad("period", "a period must be longer than zero".into())),
        _ => {}
    }
    if let Some(size) = filter.access.size {
        if ![1, 2, 4].contains(&size) {
            return Err(bad(
                "size",
                format!("{size} is not an access size (1, 2 or 4)"),
            ));
        }
    }
    if filter.every == 0 {
        return Err(bad("every", "every must be 1 or more".into()));
    }
    if filter.limit == Some(0) {
        return Err(bad("limit", "limit must be 1 or more".into()));
    }
    Ok(())
}
