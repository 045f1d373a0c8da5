//! The display front end: `--display none` (the default: headless) or
//! `--display sdl`, a window that shows the VGA screen and feeds the
//! guest's keyboard. The window needs the cargo feature `sdl` (and the
//! system's SDL2); a default build has no such dependency, and asking it
//! for a window is an error that says how to build one.
//!
//! The window shows the frame `vm.screen:png` writes (the same renderer,
//! `Vm::screen_frame`), stretched to a 4:3 picture as a VGA monitor shows
//! text mode ([`scale_to_4_3`]), runs the guest in slices and redraws at
//! about 60 Hz when the picture changed. [`keys`] maps host keys to the
//! guest's scancodes; `window.rs` is the SDL loop.

pub mod keys;
#[cfg(feature = "sdl")]
mod window;

use crate::control::{ControlError, Vm, VmState};
use std::str::FromStr;
use thiserror::Error;

/// Whether this build has the SDL window.
pub const SDL_BUILT: bool = cfg!(feature = "sdl");

/// Which display a machine gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Display {
    /// No window: the machine runs headless.
    #[default]
    None,
    /// An SDL window.
    Sdl,
}

impl FromStr for Display {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Display::None),
            "sdl" => Ok(Display::Sdl),
            _ => Err(format!("'{s}' is not a display: none or sdl")),
        }
    }
}

#[derive(Debug, Error)]
pub enum DisplayError {
    #[error("this moon86 was built without the SDL window: build it with `cargo build --release --features sdl` (which needs SDL2's development files, Debian package libsdl2-dev)")]
    NotBuilt,
    #[error("SDL: {0}")]
    Sdl(String),
    #[error("{0}")]
    Control(#[from] ControlError),
    #[error("{0}")]
    FrontEnd(String),
}

/// What the front end around the window wants after a slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    Continue,
    Quit,
}

/// The window's size for a frame of `width` x `height` pixels: as wide,
/// and three quarters of that high (720x400 text mode shows as 720x540).
pub fn window_size(width: usize, height: usize) -> (usize, usize) {
    if width == 0 || height == 0 {
        return (640, 480);
    }
    (width, width * 3 / 4)
}

/// `rgb` (a `width` x `height` RGB frame) stretched vertically to
/// [`window_size`]: output row `y` is frame row `y * height / out_height`
/// (rounded down), so every frame row shows as one or two rows.
pub fn scale_to_4_3(rgb: &[u8], width: usize, height: usize) -> Vec<u8> {
    let (w, h) = window_size(width, height);
    let row = width * 3;
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let src = (y * height / h).min(height.saturating_sub(1));
        out.extend_from_slice(&rgb[src * row..(src + 1) * row]);
    }
    out
}

/// The window's title: the VM's state, and how to release the keyboard
/// while it is grabbed.
pub fn title(state: VmState, halt: Option<String>, grabbed: bool) -> String {
    let what = match (state, halt) {
        (VmState::Halted, Some(reason)) => format!("halted: {reason}"),
        (state, _) => state.name().to_string(),
    };
    let grab = if grabbed {
        " - press Ctrl-Alt-G to release the keyboard"
    } else {
        " - click to grab the keyboard"
    };
    format!("moon86 [{what}]{grab}")
}

/// Runs `vm` in a window until the window is closed or `between` (called
/// after every slice, for the front end's own work: serial console,
/// output files) says to quit. The VM is resumed when paused.
pub fn run_window(
    vm: &mut Vm,
    between: &mut dyn FnMut(&mut Vm) -> Result<Tick, String>,
) -> Result<(), DisplayError> {
    #[cfg(feature = "sdl")]
    {
        window::run(vm, between)
    }
    #[cfg(not(feature = "sdl"))]
    {
        let _ = (vm, between);
        Err(DisplayError::NotBuilt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_mode_shows_at_4_3() {
        assert_eq!(window_size(720, 400), (720, 540));
        assert_eq!(window_size(640, 400), (640, 480));
        // A 4x2 frame stretched to 4x3: rows 0, 0, 1.
        let frame: Vec<u8> = (0..4 * 2 * 3).map(|i| (i / 12) as u8).collect();
        let out = scale_to_4_3(&frame, 4, 2);
        assert_eq!(out.len(), 4 * 3 * 3);
        assert_eq!(&out[..12], &[0; 12]);
        assert_eq!(&out[12..24], &[0; 12]);
        assert_eq!(&out[24..], &[1; 12]);
    }

    #[test]
    fn the_title_says_the_state_and_the_grab() {
        assert_eq!(
            title(VmState::Running, None, true),
            "moon86 [running] - press Ctrl-Alt-G to release the keyboard"
        );
        assert_eq!(
            title(VmState::Halted, Some("exit".into()), false),
            "moon86 [halted: exit] - click to grab the keyboard"
        );
        assert!("sdl".parse::<Display>().is_ok());
        assert!("gtk".parse::<Display>().is_err());
    }
}
