//! Where `moon86 boot` finds a BIOS when drives are given without `--bios`
//! (QEMU, too, runs SeaBIOS unless told otherwise): SeaBIOS's `bios.bin`
//! in the folder `MOON86_FIRMWARE_DIR` names when it is set (and only
//! there), else in this checkout's guest cache (`.cache/guests`, filled by
//! `scripts/fetch-guests.py`) or where Debian's `seabios` package installs
//! it (`/usr/share/seabios`).

use std::path::PathBuf;

/// SeaBIOS's file name.
pub const SEABIOS_NAME: &str = "bios.bin";

/// The folders searched, in order.
pub fn firmware_dirs() -> Vec<PathBuf> {
    match std::env::var_os("MOON86_FIRMWARE_DIR") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/guests"),
            PathBuf::from("/usr/share/seabios"),
        ],
    }
}

/// The first SeaBIOS found, or an error saying where it was looked for and
/// how to get one.
pub fn default_bios() -> Result<PathBuf, String> {
    let dirs = firmware_dirs();
    dirs.iter()
        .map(|d| d.join(SEABIOS_NAME))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            format!(
                "booting a drive needs a BIOS and there is no SeaBIOS {SEABIOS_NAME} in {}: \
                 give --bios FILE, run `python3 scripts/fetch-guests.py` (it fetches SeaBIOS \
                 into .cache/guests), install Debian's seabios package, or set \
                 MOON86_FIRMWARE_DIR",
                looked.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guest_cache_and_debians_folder_are_searched() {
        if std::env::var_os("MOON86_FIRMWARE_DIR").is_none() {
            let dirs = firmware_dirs();
            assert!(dirs[0].ends_with(".cache/guests"), "{dirs:?}");
            assert_eq!(dirs[1], PathBuf::from("/usr/share/seabios"));
        }
    }
}
