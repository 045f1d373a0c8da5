//! The command-line front end: the boot options every subcommand that starts
//! a machine shares (`boot` now, the monitor later), the terminal as a
//! guest's serial console, and the `boot` loop. Like every front end it drives
//! the machine only through `control::Vm`.

mod boot;
mod boot_options;
mod console;

pub use boot::boot;
pub use boot_options::{BootError, BootOptions, Output};
pub use console::{Console, ConsoleEvent};
