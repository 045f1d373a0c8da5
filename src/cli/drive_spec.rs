//! The drive options of the command line in QEMU's words: `--hda` to
//! `--hdd` (IDE indices 0-3), `--cdrom` (index 2, as in QEMU), `--fda` and
//! `--fdb` (floppy indices 0-1) and
//! `--drive file=F,if=ide|floppy,media=disk|cdrom,index=N,readonly=on,snapshot=off`,
//! turned into the machine's [`DriveConfig`]s. Images are not opened here;
//! the control API opens and checks them.

use crate::machine::{DriveConfig, DriveInterface};
use crate::storage::{DiskMode, MediaKind};
use std::path::PathBuf;

/// Parses one `--drive` value; `index` is left `None` when not given.
pub fn parse_drive(spec: &str) -> Result<(Option<u8>, DriveConfig), String> {
    let mut file = None;
    let mut media = MediaKind::Disk;
    let mut index = None;
    let mut snapshot = true;
    let mut read_only = false;
    let mut interface = DriveInterface::Ide;
    let mut index_text = None;
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("'{part}' is not KEY=VALUE"))?;
        match key {
            "file" if value.is_empty() => return Err("file= is empty".into()),
            "file" => file = Some(PathBuf::from(value)),
            "if" => {
                interface = match value {
                    "ide" => DriveInterface::Ide,
                    "floppy" => DriveInterface::Floppy,
                    _ => return Err(format!("if={value}: expected ide or floppy")),
                }
            }
            "media" => {
                media = match value {
                    "disk" => MediaKind::Disk,
                    "cdrom" => MediaKind::Cdrom,
                    _ => return Err(format!("media={value}: expected disk or cdrom")),
                }
            }
            "index" => index_text = Some(value),
            "readonly" => read_only = on_off(key, value)?,
            // QEMU's snapshot=on keeps writes in a temporary overlay: that is
            // the default here, and snapshot=off writes through to the file.
            "snapshot" => snapshot = on_off(key, value)?,
            "format" if value == "raw" => {}
            "format" => return Err(format!("format={value}: only raw images are supported")),
            _ => {
                return Err(format!(
                "unknown key '{key}' (known: file, if, media, index, readonly, snapshot, format)"
            ))
            }
        }
    }
    if let Some(value) = index_text {
        let count = interface.drives();
        let n: u8 = value
            .parse()
            .ok()
            .filter(|n| *n < count)
            .ok_or_else(|| format!("index={value}: expected 0-{}", count - 1))?;
        index = Some(n);
    }
    if interface == DriveInterface::Floppy && media == MediaKind::Cdrom {
        return Err("if=floppy takes no media=cdrom".into());
    }
    let mode = DiskMode::from_flags(read_only, snapshot)?;
    if file.is_none() && media == MediaKind::Disk {
        return Err("a disk needs file=PATH".into());
    }
    let drive = DriveConfig {
        interface,
        index: index.unwrap_or(0),
        media,
        path: file,
        mode,
    };
    Ok((index, drive))
}

fn on_off(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("{key}={value}: expected on or off")),
    }
}

/// IDE indices 0-3, then floppy indices 0-1.
type Slots = [Option<(String, DriveConfig)>; 6];

fn slot_of(d: &DriveConfig) -> Option<usize> {
    let (first, count) = match d.interface {
        DriveInterface::Ide => (0, 4),
        DriveInterface::Floppy => (4, 2),
    };
    (d.index < count).then_some(first + usize::from(d.index))
}

fn place(slots: &mut Slots, name: String, d: DriveConfig) -> Result<(), String> {
    let what = match d.interface {
        DriveInterface::Ide => "IDE",
        DriveInterface::Floppy => "floppy",
    };
    let slot = slot_of(&d)
        .and_then(|i| slots.get_mut(i))
        .ok_or_else(|| format!("{name}: {what} index {} is out of range", d.index))?;
    if let Some((other, _)) = slot {
        return Err(format!(
            "{name} and {other} both want {what} index {}",
            d.index
        ));
    }
    *slot = Some((name, d));
    Ok(())
}

/// The drives of `--hda`..`--hdd`, `--cdrom`, `--fda`, `--fdb` and each
/// `--drive`: those with an index first, then the rest in the first free
/// indices of their interface. An index given twice is an error.
pub fn collect_drives(
    hd: [&Option<PathBuf>; 4],
    cdrom: &Option<PathBuf>,
    fd: [&Option<PathBuf>; 2],
    specs: &[String],
) -> Result<Vec<DriveConfig>, String> {
    let mut slots: Slots = Default::default();
    for (i, (path, name)) in fd.iter().zip(["--fda", "--fdb"]).enumerate() {
        if let Some(p) = path {
            place(
                &mut slots,
                name.to_string(),
                DriveConfig {
                    interface: DriveInterface::Floppy,
                    index: i as u8,
                    media: MediaKind::Disk,
                    path: Some(p.clone()),
                    mode: DiskMode::Overlay,
                },
            )?;
        }
    }
    let names = ["--hda", "--hdb", "--hdc", "--hdd"];
    for (i, (path, name)) in hd.iter().zip(names).enumerate() {
        if let Some(p) = path {
            place(
                &mut slots,
                name.to_string(),
                DriveConfig {
                    interface: DriveInterface::Ide,
                    index: i as u8,
                    media: MediaKind::Disk,
                    path: Some(p.clone()),
                    mode: DiskMode::Overlay,
                },
            )?;
        }
    }
    if let Some(p) = cdrom {
        place(
            &mut slots,
            "--cdrom".into(),
            DriveConfig {
                interface: DriveInterface::Ide,
                index: 2,
                media: MediaKind::Cdrom,
                path: Some(p.clone()),
                mode: DiskMode::ReadOnly,
            },
        )?;
    }
    let mut unplaced = Vec::new();
    for spec in specs {
        let (index, d) = parse_drive(spec).map_err(|e| format!("--drive {spec}: {e}"))?;
        match index {
            Some(_) => place(&mut slots, format!("--drive {spec}"), d)?,
            None => unplaced.push((spec, d)),
        }
    }
    for (spec, mut d) in unplaced {
        let count = d.interface.drives();
        d.index = (0..count)
            .find(|&i| {
                let probe = DriveConfig {
                    index: i,
                    ..d.clone()
                };
                slot_of(&probe).is_some_and(|s| slots[s].is_none())
            })
            .ok_or_else(|| {
                format!(
                    "--drive {spec}: all {count} {} indices are taken",
                    d.interface.name()
                )
            })?;
        place(&mut slots, format!("--drive {spec}"), d)?;
    }
    Ok(slots.into_iter().flatten().map(|(_, d)| d).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_specs_parse_as_qemu_spells_them() {
        let (i, d) = parse_drive("file=a.iso,if=ide,media=cdrom,index=3").unwrap();
        assert_eq!((i, d.index, d.media), (Some(3), 3, MediaKind::Cdrom));
        let (_, d) = parse_drive("file=a.img,readonly=on").unwrap();
        assert_eq!(d.mode, DiskMode::ReadOnly);
        let (_, d) = parse_drive("file=a.img,snapshot=off").unwrap();
        assert_eq!(d.mode, DiskMode::WriteThrough);
        let (i, d) = parse_drive("file=a.img,if=floppy,index=1,readonly=on").unwrap();
        assert_eq!(
            (i, d.interface, d.mode),
            (Some(1), DriveInterface::Floppy, DiskMode::ReadOnly)
        );
        assert!(parse_drive("file=a.img,index=1,if=floppy").is_ok());
        assert!(parse_drive("file=a.img,if=floppy,index=2")
            .unwrap_err()
            .contains("expected 0-1"));
        assert!(parse_drive("file=a.img,if=scsi").is_err());
        assert!(parse_drive("file=a.img,if=floppy,media=cdrom").is_err());
        assert!(parse_drive("file=a.img,index=4").is_err());
        assert!(parse_drive("file=a.img,format=qcow2").is_err());
        assert!(parse_drive("media=disk").is_err());
        assert!(parse_drive("file").is_err());
    }

    #[test]
    fn indices_are_given_or_found_and_never_shared() {
        let a = Some(PathBuf::from("a.img"));
        let none = None;
        let cd = Some(PathBuf::from("c.iso"));
        let drives = collect_drives(
            [&a, &none, &none, &none],
            &cd,
            [&none, &none],
            &["file=b.img".into()],
        )
        .unwrap();
        let got: Vec<(u8, MediaKind)> = drives.iter().map(|d| (d.index, d.media)).collect();
        assert_eq!(
            got,
            [
                (0, MediaKind::Disk),
                (1, MediaKind::Disk),
                (2, MediaKind::Cdrom)
            ]
        );
        let e = collect_drives([&none, &none, &a, &none], &cd, [&none, &none], &[]).unwrap_err();
        assert!(e.contains("--cdrom") && e.contains("--hdc"), "{e}");
    }

    #[test]
    fn floppies_have_their_own_indices() {
        let a = Some(PathBuf::from("a.img"));
        let none = None;
        let drives = collect_drives(
            [&a, &none, &none, &none],
            &none,
            [&a, &none],
            &["file=b.img,if=floppy".into()],
        )
        .unwrap();
        let got: Vec<(DriveInterface, u8)> =
            drives.iter().map(|d| (d.interface, d.index)).collect();
        assert_eq!(
            got,
            [
                (DriveInterface::Ide, 0),
                (DriveInterface::Floppy, 0),
                (DriveInterface::Floppy, 1)
            ]
        );
        let e = collect_drives(
            [&none; 4],
            &none,
            [&a, &a],
            &["file=c.img,if=floppy".into()],
        )
        .unwrap_err();
        assert!(e.contains("all 2 floppy indices are taken"), "{e}");
        let e = collect_drives(
            [&none; 4],
            &none,
            [&none, &a],
            &["file=c.img,if=floppy,index=1".into()],
        )
        .unwrap_err();
        assert!(e.contains("--fdb") && e.contains("floppy index 1"), "{e}");
    }
}
