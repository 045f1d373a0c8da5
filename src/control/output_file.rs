//! Writing an output file whole (RAM dumps, screenshots, snapshots). A
//! regular file, or a path that does not exist yet, is written to a
//! temporary file beside it and renamed into place, so a failure never
//! leaves a partial file. A symlink is followed and the same rule applies to
//! what it points at; the link itself stays. Anything else (a character or
//! block device, a FIFO, a socket) is never replaced: it is opened for
//! writing as it is and the data written through, and a failed write (ENOSPC
//! from `/dev/full`) is an error naming the path. This module knows files
//! only; it does not know what the bytes are.

use super::ControlError;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many symlinks in a row are followed before giving up (Linux's own
/// limit for one path lookup).
const MAX_LINKS: usize = 40;

/// Writes `data` to `path`, whole or not at all when `path` is (or will be) a
/// regular file, written through when it is a device or a FIFO.
pub fn write_whole(path: &Path, data: &[u8]) -> Result<(), ControlError> {
    write_whole_with(path, |w| w.write_all(data))
}

/// As [`write_whole`], with the data coming from `fill`, which writes it
/// piece by piece (a disk image too large to hold in memory at once).
pub fn write_whole_with(
    path: &Path,
    mut fill: impl FnMut(&mut dyn Write) -> io::Result<()>,
) -> Result<(), ControlError> {
    let err = |source| ControlError::WriteFile {
        path: path.to_owned(),
        source,
    };
    let target = follow_links(path).map_err(err)?;
    match fs::metadata(&target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => replace(&target, &mut fill),
        Err(e) => Err(e),
        Ok(meta) if meta.is_file() => replace(&target, &mut fill),
        Ok(meta) if meta.is_dir() => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        )),
        Ok(_) => write_through(&target, &mut fill),
    }
    .map_err(err)
}

/// The path `path` ends at once every symlink along the last component is
/// followed (the target need not exist).
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut at = path.to_owned();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let dest = fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) if dest.is_relative() => dir.join(dest),
                    _ => dest,
                };
            }
            _ => return Ok(at),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symlinks in a row"
    )))
}

/// Writes a temporary file beside `path` and renames it over `path`.
fn replace(path: &Path, fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".moon86-tmp");
    let tmp = path.with_file_name(tmp_name);
    let result = fs::File::create(&tmp)
        .and_then(|f| {
            let mut w = io::BufWriter::new(f);
            fill(&mut w)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .and_then(|_| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Opens an existing non-regular file for writing (no create, no truncate)
/// and writes the data through it.
fn write_through(
    path: &Path,
    fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut f = crate::host_file::open_write_existing(path)?;
    fill(&mut f)?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, FileTypeExt};

    fn temp_dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("moon86-output-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// Makes a character device node; false when not allowed (not root).
    fn mknod_char(path: &Path, major: u32, minor: u32) -> bool {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let dev = libc::makedev(major, minor);
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call;
        // mknod reads nothing else.
        unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, dev) == 0 }
    }

    #[test]
    fn regular_and_new_files_are_replaced_whole() {
        let d = temp_dir("regular");
        let p = d.join("out.bin");
        write_whole(&p, b"one").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_whole(&p, b"two!").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two!");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1, "no temporary left");
        let e = write_whole(&d, b"x").unwrap_err().to_string();
        assert!(e.contains("directory"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symlink_is_written_through_and_stays_a_link() {
        let d = temp_dir("symlink");
        let target = d.join("target.bin");
        fs::write(&target, b"old").unwrap();
        let link = d.join("link.bin");
        symlink("target.bin", &link).unwrap();
        write_whole(&link, b"new data").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new data");
        // A dangling link creates its target.
        let dangling = d.join("dangling");
        symlink(d.join("made.bin"), &dangling).unwrap();
        write_whole(&dangling, b"made").unwrap();
        assert!(fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(d.join("made.bin")).unwrap(), b"made");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_fifo_gets_the_data_and_stays_a_fifo() {
        let d = temp_dir("fifo");
        let p = d.join("pipe");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let p = p.clone();
            std::thread::spawn(move || fs::read(p).unwrap())
        };
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        write_whole(&p, &data).unwrap();
        assert_eq!(reader.join().unwrap(), data);
        assert!(fs::symlink_metadata(&p).unwrap().file_type().is_fifo());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_device_is_written_through_and_a_full_one_is_an_error() {
        let d = temp_dir("device");
        let null = d.join("null");
        let full = d.join("full");
        if !mknod_char(&null, 1, 3) || !mknod_char(&full, 1, 7) {
            eprintln!("skipped: mknod needs root");
            return;
        }
        write_whole(&null, b"into the void").unwrap();
        assert!(fs::symlink_metadata(&null)
            .unwrap()
            .file_type()
            .is_char_device());
        let e = write_whole(&full, &[0; 4096]).unwrap_err().to_string();
        assert!(
            e.contains(&format!("cannot write '{}'", full.display())),
            "{e}"
        );
        assert!(e.contains("No space left on device"), "{e}");
        assert!(fs::symlink_metadata(&full)
            .unwrap()
            .file_type()
            .is_char_device());
        assert_eq!(fs::read_dir(&d).unwrap().count(), 2, "no temporary left");
        fs::remove_dir_all(&d).unwrap();
    }
}
