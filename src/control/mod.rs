//! THE control API. Every front end (Lua scripts, the CLI, later the monitor,
//! the SDL window and the gdb stub) drives the machine through the [`Vm`]
//! here and nothing else. A VM has a lifecycle ([`VmState`]); its fields are
//! properties declared once in [`property::properties`] and its operations
//! are actions declared once in [`action::actions`], each with the states in
//! which it is allowed. This module never calls up into a front end.

pub mod action;
mod capture;
mod debug;
pub mod docs;
pub mod drive_props;
pub mod drives;
mod error;
mod hook_check;
pub mod hooks;
mod inspect;
mod output_file;
pub mod pacing;
pub mod property;
mod registers;
mod screenshot;
mod snapshot;
mod snapshot_file;
mod state;
mod suggest;
pub mod value;
mod vm;

pub use capture::{ram_file_name, CaptureSpec};
pub use error::ControlError;
pub use inspect::Mapping;
pub use output_file::write_whole;
pub use pacing::Pacer;
pub use registers::{mode_name, Registers, TableRegister};
pub use screenshot::encode_png;
pub use snapshot::{config_differences, Snapshot};
pub use snapshot_file::{SnapshotFileError, FORMAT_VERSION, MAGIC};
pub use state::{state_list, VmState};
pub use suggest::nearest;
pub use value::{parse_duration, parse_int, parse_size, Value, ValueType};
pub use vm::{StopReason, Vm, MAX_TRANSFER};
