//! The third-party guests the integration tests boot, fetched from Debian's
//! archive by `scripts/fetch-guests.py` (cached in `.cache/guests`) once per
//! test binary, whichever test asks first. Each test file that needs them
//! says `mod common;`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The fetched guests as `name=path` pairs (`kernel`, `initramfs`,
/// `seabios`, ...; `marker` and `disk_marker` are the initramfs's texts), or why there are none:
/// the script could not run or failed (no network, say).
pub fn try_guests() -> Result<&'static HashMap<String, String>, String> {
    static GUESTS: OnceLock<Result<HashMap<String, String>, String>> = OnceLock::new();
    GUESTS.get_or_init(fetch).as_ref().map_err(Clone::clone)
}

/// The fetched guests; panics with the script's error when there are none.
#[allow(dead_code)]
pub fn guests() -> &'static HashMap<String, String> {
    try_guests().unwrap_or_else(|why| panic!("{why}"))
}

/// The path of the fetched guest `key`; panics when it is missing.
#[allow(dead_code)]
pub fn guest(key: &str) -> &'static Path {
    let path = guests()
        .get(key)
        .unwrap_or_else(|| panic!("scripts/fetch-guests.py named no {key}"));
    Path::new(path)
}

/// The guests with the Debian installer's too (`installer_linux`,
/// `installer_initrd`, `installer_marker`; about 100 MB more to fetch once),
/// or why there are none.
#[allow(dead_code)]
pub fn try_guests_with_installer() -> Result<&'static HashMap<String, String>, String> {
    static GUESTS: OnceLock<Result<HashMap<String, String>, String>> = OnceLock::new();
    GUESTS
        .get_or_init(|| fetch_with(&["--installer"]))
        .as_ref()
        .map_err(Clone::clone)
}

fn fetch() -> Result<HashMap<String, String>, String> {
    fetch_with(&[])
}

fn fetch_with(extra: &[&str]) -> Result<HashMap<String, String>, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/fetch-guests.py"))
        .arg("--quiet")
        .args(extra)
        .output()
        .map_err(|e| format!("cannot run python3 scripts/fetch-guests.py: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/fetch-guests.py failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let g: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (key, path) in &g {
        if !key.ends_with("marker") && !Path::new(path).is_file() {
            return Err(format!("the {key} {path} is missing"));
        }
    }
    Ok(g)
}

/// A scratch directory under the system's temporary folder, named after
/// the test and the process, removed on drop.
#[allow(dead_code)]
pub struct Scratch(pub std::path::PathBuf);

#[allow(dead_code)]
impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("moon86-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `bytes` to the file `name` in the directory; returns its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the `moon86` binary with `args` in the repository's root.
#[allow(dead_code)]
pub fn moon86(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_moon86"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the moon86 binary runs")
}

/// A path as a command-line argument.
#[allow(dead_code)]
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A hard disk at IDE index 0 (primary master) on `path`, the guest's
/// writes kept in an overlay.
#[allow(dead_code)]
pub fn primary_disk(path: &Path) -> moon86::machine::DriveConfig {
    moon86::machine::DriveConfig {
        interface: moon86::machine::DriveInterface::Ide,
        index: 0,
        media: moon86::storage::MediaKind::Disk,
        path: Some(path.to_path_buf()),
        mode: moon86::storage::DiskMode::Overlay,
    }
}
