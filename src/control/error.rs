//! Errors of the control API. Each message names what was asked, why it
//! cannot be done, and what would work instead.

use super::snapshot_file::SnapshotFileError;
use super::state::{state_list, VmState};
use crate::machine::loader::LoadError;
use crate::machine::StateError;
use crate::mem::MemError;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ControlError {
    #[error(
        "cannot set {property} while the VM is {state}: it may be set only while {}",
        state_list(allowed)
    )]
    SetInWrongState {
        property: String,
        state: VmState,
        allowed: &'static [VmState],
    },
    #[error(
        "cannot {action} while the VM is {state}: {action} is allowed only while {}",
        state_list(allowed)
    )]
    ActionInWrongState {
        action: &'static str,
        state: VmState,
        allowed: &'static [VmState],
    },
    #[error("unknown property '{name}'{}", suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    UnknownProperty {
        name: String,
        suggestion: Option<String>,
    },
    #[error("unknown action '{name}'{}", suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    UnknownAction {
        name: String,
        suggestion: Option<String>,
    },
    #[error("{property} is read-only")]
    ReadOnly { property: String },
    #[error("bad value for {name}: {reason}")]
    BadValue { name: String, reason: String },
    #[error("the VM has been destroyed")]
    Destroyed,
    #[error("cannot read {path}: the VM has been destroyed (only state can be read then)")]
    ReadDestroyed { path: String },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Memory(#[from] MemError),
    #[error("cannot write '{}': {source}", path.display())]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the screen as PNG: {0}")]
    EncodePng(String),
    #[error("bad RAM range {{0x{start:x}, 0x{end:x}}}: {reason}")]
    BadRange {
        start: u64,
        end: u64,
        reason: String,
    },
    #[error("cannot write the capture bundle in '{}' ({step}): {source}", dir.display())]
    Capture {
        dir: PathBuf,
        step: String,
        source: std::io::Error,
    },
    #[error("cannot read '{}': {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{}' is not a snapshot this VM can use: {source}", path.display())]
    SnapshotFile {
        path: PathBuf,
        source: SnapshotFileError,
    },
    #[error("the snapshot was taken on a VM configured differently: {}", differences.join("; "))]
    SnapshotConfig { differences: Vec<String> },
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("the snapshot does not fit this VM: {0}")]
    SnapshotState(#[from] StateError),
}
