//! The command-line front end: the boot options every subcommand that starts
//! a machine shares (`boot` now, the monitor later), the terminal as a
//! guest's serial console, the `boot` loop, and the `test` runner (files,
//! child processes, reports). Like every front end it drives the machine only
//! through `control::Vm`, and Lua only through `script`.

mod boot;
mod boot_flag;
mod boot_options;
mod console;
mod drive_spec;
mod firmware_search;
mod report;
mod test_files;
mod test_protocol;
mod test_runner;

pub use boot::boot;
pub use boot_options::{BootError, BootOptions, Output};
pub use console::{Console, ConsoleEvent};
pub use drive_spec::{collect_drives, parse_drive};
pub use test_protocol::run_test_child;
pub use test_runner::{run_tests, Shard, TestOptions};
