//! The terminal as a guest's serial console, as QEMU's `-serial stdio` does
//! it: stdin in raw mode (restored on drop), read by a thread so the machine
//! never blocks, and Ctrl-A escapes: Ctrl-A X quits, Ctrl-A Ctrl-A sends a
//! Ctrl-A, Ctrl-A H lists them. When stdin is not a terminal its bytes are
//! passed through as they are.

use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc::{self, Receiver, TryRecvError};

/// What the person at the console did since the last poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleEvent {
    /// Bytes for the guest.
    Input(Vec<u8>),
    /// Ctrl-A X.
    Quit,
    /// Standard input closed; no more input will come.
    Closed,
}

const CTRL_A: u8 = 0x01;

/// Saved terminal settings, restored when dropped.
struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    fn enter() -> Option<RawMode> {
        // SAFETY: tcgetattr/tcsetattr only read and write the termios struct we
        // pass, which lives on our stack and is fully initialised by tcgetattr
        // before use; fd 0 is stdin, checked to be a terminal by the caller.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return None;
            }
            let saved = t;
            libc::cfmakeraw(&mut t);
            // Keep output post-processing so "\n" still returns the carriage.
            t.c_oflag |= libc::OPOST;
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return None;
            }
            Some(RawMode { saved })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings tcgetattr returned for the same fd.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}

pub struct Console {
    rx: Receiver<Vec<u8>>,
    _raw: Option<RawMode>,
    interactive: bool,
    escape: bool,
    closed: bool,
}

impl Console {
    /// Starts reading stdin; puts the terminal in raw mode when it is one.
    pub fn open() -> Console {
        let interactive = std::io::stdin().is_terminal();
        let raw = if interactive { RawMode::enter() } else { None };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        if interactive {
            eprint!("moon86: the terminal is the guest's serial console; Ctrl-A X quits, Ctrl-A H helps\r\n");
        }
        Console {
            rx,
            _raw: raw,
            interactive,
            escape: false,
            closed: false,
        }
    }

    /// True when a person is typing (stdin is a terminal).
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// Collects what arrived since the last poll, without blocking.
    pub fn poll(&mut self) -> Option<ConsoleEvent> {
        let mut input = Vec::new();
        loop {
            match self.rx.try_recv() {
                Ok(bytes) => {
                    for b in bytes {
                        if !self.interactive {
                            input.push(b);
                        } else if self.escape {
                            self.escape = false;
                            match b {
                                b'x' | b'X' => return Some(ConsoleEvent::Quit),
                                CTRL_A => input.push(CTRL_A),
                                b'h' | b'H' | b'?' => {
                                    let mut err = std::io::stderr();
                                    let _ = write!(err, "\r\nC-a x  quit\r\nC-a C-a  send C-a\r\nC-a h  this help\r\n");
                                }
                                _ => {}
                            }
                        } else if b == CTRL_A {
                            self.escape = true;
                        } else {
                            input.push(b);
                        }
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !self.closed && input.is_empty() {
                        self.closed = true;
                        return Some(ConsoleEvent::Closed);
                    }
                    break;
                }
            }
        }
        (!input.is_empty()).then_some(ConsoleEvent::Input(input))
    }
}
