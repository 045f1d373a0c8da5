//! The loop. A reader thread owns the input: at a terminal a rustyline
//! editor (history file, completion), otherwise stdin line by line (a
//! transcript, echoed after the prompt so the output reads as a session).
//! It sends each line over a channel and waits for the prompt of the next
//! one. The main thread owns the VM and Lua: while the guest runs it runs
//! it in slices and looks at the channel between them, so the prompt
//! answers while the guest runs; otherwise it waits for a line.

use super::complete::Helper;
use super::error::MonitorError;
use super::line::PROMPT;
use super::state::{Monitor, INTERRUPT};
use crate::cli::{BootOptions, Output};
use crate::control::Value;
use crate::script::Session;
use rustyline::error::ReadlineError;
use rustyline::ExternalPrinter;
use std::io::Write;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the monitor was started.
#[derive(Clone, Debug, Default)]
pub struct MonitorOptions {
    /// The history file (default: `$XDG_STATE_HOME/moon86/history`, else
    /// `~/.moon86_history`).
    pub history: Option<PathBuf>,
}

enum Input {
    Line(String),
    /// A transcript line (numbered from 1) that is not UTF-8 text.
    NotText(usize),
    Interrupt,
    Eof,
}

enum Reply {
    Prompt(&'static str),
    Quit,
}

/// The default history file.
pub fn history_path() -> Option<PathBuf> {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(state).join("moon86").join("history"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".moon86_history"))
}

/// SIGINT arrives while a command runs the guest with the terminal in
/// cooked mode (at the prompt, rustyline reads Ctrl-C as a key instead).
/// A second Ctrl-C before the first was noticed ends the process (for
/// the rare wait nothing can interrupt, such as a Lua `vm:run()` without a
/// bound on a guest that never stops).
extern "C" fn on_sigint(_: libc::c_int) {
    if INTERRUPT.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe and ends the process at once.
        unsafe { libc::_exit(130) };
    }
}

fn catch_sigint() {
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe; the function pointer has the C ABI signal() expects.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn terminal_reader(
    tx: Sender<Input>,
    rx: Receiver<Reply>,
    history: Option<PathBuf>,
    printer_tx: Sender<Box<dyn ExternalPrinter + Send>>,
) {
    let config = rustyline::Config::builder().auto_add_history(true).build();
    let Ok(mut editor) =
        rustyline::Editor::<Helper, rustyline::history::DefaultHistory>::with_config(config)
    else {
        let _ = tx.send(Input::Eof);
        return;
    };
    editor.set_helper(Some(Helper));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    if let Ok(p) = editor.create_external_printer() {
        let _ = printer_tx.send(Box::new(p));
    }
    drop(printer_tx);
    let mut prompt = PROMPT;
    loop {
        let input = match editor.readline(prompt) {
            Ok(line) => Input::Line(line),
            Err(ReadlineError::Interrupted) => Input::Interrupt,
            Err(_) => Input::Eof,
        };
        let eof = matches!(input, Input::Eof);
        if tx.send(input).is_err() || eof {
            break;
        }
        match rx.recv() {
            Ok(Reply::Prompt(p)) => prompt = p,
            _ => break,
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
}

fn transcript_reader(tx: Sender<Input>, rx: Receiver<Reply>) {
    let stdin = std::io::stdin();
    // Lines are read as bytes: a line that is not UTF-8 is reported (by
    // number) and the rest of the transcript still runs.
    for (i, line) in stdin.lock().split(b'\n').enumerate() {
        let Ok(mut bytes) = line else { break };
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let input = match String::from_utf8(bytes) {
            Ok(line) => Input::Line(line),
            Err(_) => Input::NotText(i + 1),
        };
        if tx.send(input).is_err() {
            return;
        }
        match rx.recv() {
            Ok(Reply::Prompt(_)) => {}
            _ => return,
        }
    }
    let _ = tx.send(Input::Eof);
}

/// Boots the machine `boot` describes, paused at its first instruction,
/// and runs the monitor until `quit` or the end of input. Returns the exit
/// status: 1 when a line of a transcript failed, else 0.
pub fn run(boot: &BootOptions, opts: &MonitorOptions) -> Result<i32, MonitorError> {
    let vm = boot.build()?;
    let mut vm = vm;
    // The monitor prints guest output itself, between its own lines.
    vm.set("serial.echo", Value::Bool(false))?;
    vm.set("debugcon.echo", Value::Bool(false))?;
    vm.set("biosdebug.echo", Value::Bool(false))?;
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let session = Session::new(vm)?;
    let mut m = Monitor::new(
        session,
        interactive,
        boot.serial == Output::Stdio,
        boot.debugcon == Output::Stdio,
    );
    m.forward_biosdebug(boot.biosdebug == Output::Stdio);
    let (in_tx, in_rx) = channel::<Input>();
    let (reply_tx, reply_rx) = channel::<Reply>();
    // True while the reader is (about to be) in readline, so output must go
    // through rustyline's printer rather than straight to the terminal.
    let at_prompt = Arc::new(AtomicBool::new(true));
    let (printed_tx, printed_rx) = channel::<()>();
    let queued = Arc::new(AtomicUsize::new(0));
    let reader = if interactive {
        // Before the editor exists: rustyline saves the SIGINT handler it
        // finds and puts it back after each line.
        catch_sigint();
        let history = opts.history.clone().or_else(history_path);
        let (ptx, prx) = channel();
        let reader = std::thread::spawn(move || terminal_reader(in_tx, reply_rx, history, ptx));
        if let Ok(p) = prx.recv() {
            let queue = printer_thread(p, at_prompt.clone(), printed_tx);
            let count = queued.clone();
            m.set_printer(Arc::new(Mutex::new(move |s| {
                if queue.send(s).is_ok() {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            })))?;
        }
        m.session.interrupt_on(&INTERRUPT)?;
        m.say("moon86 monitor: `help` lists the commands; other lines are Lua with `vm` bound. Ctrl-C stops the guest, Ctrl-D or `quit` leaves.");
        reader
    } else {
        std::thread::spawn(move || transcript_reader(in_tx, reply_rx))
    };
    let loc = m.location();
    m.say(loc);
    let mut prompt = PROMPT;
    loop {
        // While the guest runs, one slice between two lines at least, so it
        // makes progress however fast the lines come.
        if m.running {
            m.run_slice();
        }
        let input = if m.running {
            match in_rx.try_recv() {
                Ok(i) => Some(i),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Input::Eof),
            }
        } else {
            INTERRUPT.store(false, Ordering::SeqCst);
            Some(in_rx.recv().unwrap_or(Input::Eof))
        };
        match input {
            None => {}
            Some(Input::Line(line)) => {
                at_prompt.store(false, Ordering::SeqCst);
                if !interactive {
                    m.say(format!("{prompt}{line}"));
                }
                prompt = m.handle_line(&line);
                if m.quit {
                    let _ = reply_tx.send(Reply::Quit);
                    break;
                }
                flush_printer(&queued, &printed_rx);
                at_prompt.store(true, Ordering::SeqCst);
                let _ = reply_tx.send(Reply::Prompt(prompt));
            }
            Some(Input::NotText(n)) => {
                m.fail(MonitorError::NotText { line: n });
                let _ = reply_tx.send(Reply::Prompt(prompt));
            }
            Some(Input::Interrupt) => {
                at_prompt.store(false, Ordering::SeqCst);
                if m.discard_pending() {
                    m.say("(the unfinished Lua input was discarded)");
                    prompt = PROMPT;
                } else if m.running {
                    m.stop("stopped")?;
                } else {
                    m.say("(the guest is not running; `quit` or Ctrl-D leaves the monitor)");
                }
                flush_printer(&queued, &printed_rx);
                at_prompt.store(true, Ordering::SeqCst);
                let _ = reply_tx.send(Reply::Prompt(prompt));
            }
            Some(Input::Eof) => {
                if m.discard_pending() {
                    m.fail(MonitorError::UnfinishedLua);
                }
                if m.running {
                    m.stop("stopped (end of input)")?;
                }
                break;
            }
        }
    }
    m.forward_output();
    flush_printer(&queued, &printed_rx);
    // The reader has ended or been told to (Quit); at a terminal it saves
    // the history on its way out.
    drop(reply_tx);
    let _ = reader.join();
    Ok(if m.failed && !interactive { 1 } else { 0 })
}

/// rustyline's printer hands a message to the line being edited through a
/// channel of one slot, and blocks when the slot is full; a message sent as
/// the line ends waits for the next one. So the main thread never calls it:
/// it queues text for this thread, which prints through rustyline while a
/// prompt is up and straight to the terminal otherwise, and reports each
/// message done on `printed`.
fn printer_thread(
    mut p: Box<dyn ExternalPrinter + Send>,
    at_prompt: Arc<AtomicBool>,
    printed: Sender<()>,
) -> Sender<String> {
    let (tx, rx) = channel::<String>();
    std::thread::spawn(move || {
        for text in rx {
            if at_prompt.load(Ordering::SeqCst) {
                let _ = p.print(text);
            } else {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            let _ = printed.send(());
        }
    });
    tx
}

/// Waits (briefly) until the printer thread printed what is queued, so a
/// command's output comes before the next prompt.
fn flush_printer(queued: &AtomicUsize, printed: &Receiver<()>) {
    let mut left = queued.swap(0, Ordering::SeqCst);
    while left > 0 && printed.recv_timeout(Duration::from_millis(500)).is_ok() {
        left -= 1;
    }
}
