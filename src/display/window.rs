//! The SDL window loop: run the guest a slice at a time (paced so virtual
//! time does not run ahead of the wall clock), hand the keys pressed in the
//! window to the guest's keyboard controller, and redraw at most every
//! 16 ms (about 60 Hz) when the picture or the title changed, or when the
//! window was exposed.
//!
//! Keys: a click in the window grabs the keyboard (the host's shortcuts go
//! to the guest too); Ctrl-Alt-G releases it; Ctrl-Alt-P pauses and resumes
//! the guest. Keys reach the guest whenever the window has the focus. The
//! window stays open after the guest stops, showing its last screen, until
//! it is closed.

use super::{keys, scale_to_4_3, title, window_size, DisplayError, Tick};
use crate::control::{Pacer, StopReason, Vm, VmState};
use sdl2::event::{Event, WindowEvent};
use sdl2::keyboard::{Mod, Scancode};
use sdl2::pixels::PixelFormatEnum;
use std::time::{Duration, Instant};

/// Instructions per slice between looks at the window.
const SLICE: u64 = 200_000;
/// The shortest time between two redraws.
const FRAME: Duration = Duration::from_millis(16);
/// How long to sleep when the guest cannot run.
const NAP: Duration = Duration::from_millis(10);

fn sdl_err(e: impl ToString) -> DisplayError {
    DisplayError::Sdl(e.to_string())
}

/// True when Ctrl and Alt are both held in `m`.
fn ctrl_alt(m: Mod) -> bool {
    m.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD) && m.intersects(Mod::LALTMOD | Mod::RALTMOD)
}

pub fn run(
    vm: &mut Vm,
    between: &mut dyn FnMut(&mut Vm) -> Result<Tick, String>,
) -> Result<(), DisplayError> {
    let sdl = sdl2::init().map_err(sdl_err)?;
    let video = sdl.video().map_err(sdl_err)?;
    let frame = vm.screen_frame()?;
    let (mut fw, mut fh) = (frame.width(), frame.height());
    let (w, h) = window_size(fw, fh);
    let window = video
        .window("moon86", w as u32, h as u32)
        .position_centered()
        .resizable()
        .build()
        .map_err(sdl_err)?;
    let mut canvas = window.into_canvas().build().map_err(sdl_err)?;
    let creator = canvas.texture_creator();
    let mut texture = creator
        .create_texture_streaming(PixelFormatEnum::RGB24, w as u32, h as u32)
        .map_err(sdl_err)?;
    let mut events = sdl.event_pump().map_err(sdl_err)?;

    if vm.state() == VmState::Paused {
        vm.resume()?;
    }
    let mut grabbed = false;
    let mut shown_title = String::new();
    let mut shown_frame: Vec<u8> = Vec::new();
    let mut exposed = true;
    let mut last_draw: Option<Instant> = None;
    // Pacing: virtual time may not run ahead of the wall clock.
    let mut pacer = Pacer::new(vm.now_ns()?);

    loop {
        for event in events.poll_iter() {
            match event {
                Event::Quit { .. } => return Ok(()),
                Event::Window { win_event, .. } => match win_event {
                    WindowEvent::Exposed | WindowEvent::SizeChanged(..) => exposed = true,
                    WindowEvent::FocusLost => {
                        grabbed = false;
                        canvas.window_mut().set_keyboard_grab(false);
                    }
                    _ => {}
                },
                Event::MouseButtonDown { .. } if !grabbed => {
                    grabbed = true;
                    canvas.window_mut().set_keyboard_grab(true);
                }
                Event::KeyDown {
                    scancode: Some(sc),
                    keymod,
                    ..
                } if ctrl_alt(keymod) && matches!(sc, Scancode::G | Scancode::P) => {
                    if sc == Scancode::G {
                        grabbed = false;
                        canvas.window_mut().set_keyboard_grab(false);
                    } else if vm.state() == VmState::Running {
                        vm.pause()?;
                    } else if vm.state() == VmState::Paused {
                        vm.resume()?;
                        pacer.restart(vm.now_ns()?);
                    }
                }
                Event::KeyDown {
                    scancode: Some(sc), ..
                } => {
                    if let Some(codes) = keys::scancodes(sc as i32 as u32, true) {
                        vm.keyboard_send(&codes)?;
                    }
                }
                Event::KeyUp {
                    scancode: Some(sc), ..
                } => {
                    if let Some(codes) = keys::scancodes(sc as i32 as u32, false) {
                        vm.keyboard_send(&codes)?;
                    }
                }
                _ => {}
            }
        }

        if vm.state() == VmState::Running {
            match vm.run_paced(Some(SLICE), None, &mut pacer)? {
                StopReason::Budget | StopReason::Paused | StopReason::Timeout => {}
                StopReason::Idle => {
                    // Paused by the run: nothing can wake the guest but a key.
                    vm.resume()?;
                    std::thread::sleep(NAP);
                }
                StopReason::Hook => {
                    // Another front end's hooks: nothing for the window.
                    let _ = vm.take_fires();
                }
                StopReason::Halted(_) => {}
            }
        } else {
            std::thread::sleep(NAP);
        }
        if between(vm).map_err(DisplayError::FrontEnd)? == Tick::Quit {
            return Ok(());
        }

        if last_draw.is_some_and(|t| t.elapsed() < FRAME) {
            continue;
        }
        let halt = vm.halt_reason().map(|r| r.name().to_string());
        let want_title = title(vm.state(), halt, grabbed);
        if want_title != shown_title {
            let _ = canvas.window_mut().set_title(&want_title);
            shown_title = want_title;
        }
        let frame = vm.screen_frame()?;
        if (frame.width(), frame.height()) != (fw, fh) {
            (fw, fh) = (frame.width(), frame.height());
            let (w, h) = window_size(fw, fh);
            texture = creator
                .create_texture_streaming(PixelFormatEnum::RGB24, w as u32, h as u32)
                .map_err(sdl_err)?;
            let _ = canvas.window_mut().set_size(w as u32, h as u32);
            shown_frame.clear();
        }
        if frame.rgb() != shown_frame.as_slice() || exposed {
            if frame.rgb() != shown_frame.as_slice() {
                let (w, _) = window_size(fw, fh);
                let scaled = scale_to_4_3(frame.rgb(), fw, fh);
                texture.update(None, &scaled, w * 3).map_err(sdl_err)?;
                shown_frame = frame.rgb().to_vec();
            }
            canvas.clear();
            canvas.copy(&texture, None, None).map_err(sdl_err)?;
            canvas.present();
            exposed = false;
        }
        last_draw = Some(Instant::now());
    }
}
