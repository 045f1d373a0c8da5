//! Opening the host's files without hanging on a FIFO. A plain `open` of a
//! FIFO blocks until the other end is opened, so a FIFO given by mistake as
//! an input (nobody writes it) or an output (nobody reads it) would hang
//! moon86 with no word. Here a FIFO is opened non-blocking first: an input
//! with no writer then reads as empty (and the caller says so), an output
//! with no reader fails at once with a clear error; once open, the file is
//! switched back to blocking I/O, so a FIFO with a live other end (a shell's
//! `<(...)`, a `cat` reading) works as before. Regular files, devices and
//! symlinks open as they always do.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading.
pub fn open_read(path: &Path) -> io::Result<File> {
    open(path, OpenOptions::new().read(true))
}

/// How long a FIFO's reader may take to appear (it may be starting at the
/// same time) before opening it for writing fails.
const READER_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// Opens an existing `path` for writing, without creating or truncating it
/// (for devices and FIFOs). A FIFO nobody reads within [`READER_GRACE`] is
/// an error.
pub fn open_write_existing(path: &Path) -> io::Result<File> {
    let start = std::time::Instant::now();
    loop {
        match open(path, OpenOptions::new().write(true)) {
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                if start.elapsed() >= READER_GRACE {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "it is a FIFO and no process is reading it",
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Opens `path` to stream output into: a FIFO (which must have a reader)
/// or a device as it is, anything else created or truncated.
pub fn create_stream(path: &Path) -> io::Result<File> {
    let special = std::fs::metadata(path).is_ok_and(|m| {
        let t = m.file_type();
        t.is_fifo() || t.is_char_device() || t.is_block_device()
    });
    if special {
        open_write_existing(path)
    } else {
        File::create(path)
    }
}

/// Opens `path` with `options`, non-blocking at first when it is a FIFO.
fn open(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
    if !fifo {
        return options.open(path);
    }
    let file = options.custom_flags(libc::O_NONBLOCK).open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is the open descriptor `file` owns for this whole block;
    // F_GETFL and F_SETFL only read and change its status flags.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn fifo(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("moon86-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        p
    }

    #[test]
    fn a_fifo_with_no_other_end_does_not_hang() {
        let p = fifo("lonely");
        let mut data = Vec::new();
        open_read(&p).unwrap().read_to_end(&mut data).unwrap();
        assert!(data.is_empty(), "no writer: empty at once");
        let err = open_write_existing(&p).unwrap_err();
        assert!(
            err.to_string().contains("no process is reading it"),
            "{err}"
        );
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_fifo_with_a_reader_takes_the_data() {
        let p = fifo("read");
        let reader = {
            let p = p.clone();
            std::thread::spawn(move || std::fs::read(p).unwrap())
        };
        // The reader may not have opened its end yet: try for a while.
        let mut out = None;
        for _ in 0..500 {
            match open_write_existing(&p) {
                Ok(f) => {
                    out = Some(f);
                    break;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
            }
        }
        let mut f = out.expect("the reader opened the FIFO");
        f.write_all(b"through").unwrap();
        drop(f);
        assert_eq!(reader.join().unwrap(), b"through");
        std::fs::remove_file(&p).unwrap();
    }
}
