//! The monitor's drive commands, in QEMU's words: `info block` lists the
//! drives and their media, `eject [DRIVE]` takes a CD-ROM's disc or a
//! floppy's diskette out, `change DRIVE FILE` puts another in, and `commit
//! DRIVE` writes a disk's overlay into its image file.

use super::error::MonitorError;
use super::state::Monitor;
use crate::control::drive_props::mode_name;
use crate::control::drives::DriveInfo;
use crate::storage::DiskMode;
use std::path::Path;

/// What `info block` prints: one line per drive.
pub fn info_block(drives: &[DriveInfo]) -> String {
    if drives.is_empty() {
        return "no drives (attach them with --hda, --cdrom or --drive)".into();
    }
    let lines: Vec<String> = drives
        .iter()
        .map(|d| {
            let media = match &d.path {
                None => "[not inserted]".to_string(),
                Some(p) => {
                    let mode = match d.mode {
                        DiskMode::Overlay if d.dirty_sectors > 0 => {
                            format!("overlay, {} sectors written", d.dirty_sectors)
                        }
                        mode => mode_name(mode).to_string(),
                    };
                    format!(
                        "{} ({} x {} bytes, {mode})",
                        p.display(),
                        d.sectors,
                        d.sector_size
                    )
                }
            };
            format!("{} ({}): {media}", d.id, d.kind())
        })
        .collect();
    lines.join("\n")
}

pub fn eject(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let drive = args.split_whitespace().next();
    let name = m.vm(|vm| -> Result<String, crate::control::ControlError> {
        let id = vm.find_drive(drive, true)?;
        vm.eject(id)?;
        Ok(id.to_string())
    })??;
    m.say(format!("{name}: ejected"));
    Ok(())
}

pub fn change(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let args = args.trim();
    let (drive, path) = match args.split_once(char::is_whitespace) {
        Some((d, p)) if !p.trim().is_empty() => (d, p.trim()),
        _ => {
            return Err(super::commands::usage_err(
                "change",
                "give the drive and the new image",
            ))
        }
    };
    m.vm(|vm| -> Result<(), crate::control::ControlError> {
        let index = vm.find_drive(Some(drive), true)?;
        vm.insert_disc(index, Path::new(path))
    })??;
    m.say(format!("{drive}: {path} inserted"));
    Ok(())
}

pub fn commit(m: &mut Monitor, args: &str) -> Result<(), MonitorError> {
    let Some(drive) = args.split_whitespace().next() else {
        return Err(super::commands::usage_err("commit", "which drive?"));
    };
    let n = m.vm(|vm| -> Result<usize, crate::control::ControlError> {
        let index = vm.find_drive(Some(drive), false)?;
        vm.disk_commit(index)
    })??;
    m.say(format!("{drive}: {n} sectors written to the image"));
    Ok(())
}
