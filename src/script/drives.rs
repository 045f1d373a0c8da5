//! The Lua bindings of a VM's drives: `vm:attach_drive{ file =, media =,
//! index =, readonly =, snapshot = }`, `vm:drives()`, `vm.cdrom:eject()`,
//! `vm.cdrom:insert(path)`, `vm.disk:read(drive, lba, count)`,
//! `vm.disk:save(drive, path)` and `vm.disk:commit(drive)`. Each converts its
//! arguments and calls the `Vm` method in `control/drives.rs`.

use super::convert::{to_bounded, to_string, to_u64, ArgResult};
use super::raw::{named_args, option};
use crate::control::action::Action;
use crate::control::drive_props::mode_name;
use crate::control::Vm;
use crate::machine::{media_name, DriveConfig, DriveInterface};
use crate::storage::{DiskMode, MediaKind};
use mlua::{Lua, Value as LuaValue};
use std::path::{Path, PathBuf};

type Reply = Result<Vec<LuaValue>, String>;

fn err(e: impl ToString) -> String {
    e.to_string()
}

/// A drive argument: `"ide2"`, `2` or `"2"`; `None` when nil.
fn drive_name(v: &LuaValue, what: &str) -> ArgResult<Option<String>> {
    match v {
        LuaValue::Nil => Ok(None),
        LuaValue::Integer(i) => Ok(Some(i.to_string())),
        v => to_string(v, what).map(Some),
    }
}

fn boolean(v: &LuaValue, what: &str, default: bool) -> ArgResult<bool> {
    match v {
        LuaValue::Nil => Ok(default),
        LuaValue::Boolean(b) => Ok(*b),
        other => Err(format!(
            "{what} must be true or false, got {}",
            other.type_name()
        )),
    }
}

fn attach_drive(vm: &mut Vm, args: &[LuaValue]) -> Reply {
    let opts = named_args(Action::AttachDrive, args)?;
    let (interface, media) = match option(&opts, "media") {
        LuaValue::Nil => (DriveInterface::Ide, MediaKind::Disk),
        v => match to_string(&v, "attach_drive: media")?.as_str() {
            "disk" => (DriveInterface::Ide, MediaKind::Disk),
            "cdrom" => (DriveInterface::Ide, MediaKind::Cdrom),
            "floppy" => (DriveInterface::Floppy, MediaKind::Disk),
            other => {
                return Err(format!(
                    "attach_drive: media '{other}' is not disk, cdrom or floppy"
                ))
            }
        },
    };
    let file = match option(&opts, "file") {
        LuaValue::Nil => None,
        v => Some(PathBuf::from(to_string(&v, "attach_drive: file")?)),
    };
    let index = match option(&opts, "index") {
        LuaValue::Nil if media == MediaKind::Cdrom => 2,
        LuaValue::Nil => 0,
        v => to_bounded(&v, "attach_drive: index", u64::from(interface.drives() - 1))? as u8,
    };
    let mode = DiskMode::from_flags(
        boolean(&option(&opts, "readonly"), "attach_drive: readonly", false)?,
        boolean(&option(&opts, "snapshot"), "attach_drive: snapshot", true)?,
    )
    .map_err(|e| format!("attach_drive: {e}"))?;
    vm.attach_drive(DriveConfig {
        interface,
        index,
        media,
        path: file,
        mode,
    })
    .map_err(err)?;
    Ok(Vec::new())
}

fn drive_list(lua: &Lua, vm: &Vm) -> mlua::Result<LuaValue> {
    let list = lua.create_table()?;
    for (i, d) in vm
        .drive_info()
        .map_err(mlua::Error::external)?
        .into_iter()
        .enumerate()
    {
        let t = lua.create_table()?;
        t.set("name", d.id.to_string())?;
        t.set("interface", d.id.interface.name())?;
        t.set("index", d.id.index)?;
        t.set("media", media_name(d.id.interface, d.media))?;
        t.set("file", d.path.map(|p| p.display().to_string()))?;
        t.set("mode", mode_name(d.mode))?;
        t.set("sectors", d.sectors)?;
        t.set("sector_size", d.sector_size)?;
        t.set("dirty", d.dirty_sectors)?;
        list.set(i + 1, t)?;
    }
    Ok(LuaValue::Table(list))
}

/// Executes the drive method `name`.
pub fn call(lua: &Lua, vm: &mut Vm, name: &str, args: &[LuaValue]) -> Reply {
    let a = |i: usize| args.get(i).unwrap_or(&LuaValue::Nil);
    match name {
        "attach_drive" => attach_drive(vm, args),
        "drives" => Ok(vec![drive_list(lua, vm).map_err(err)?]),
        "cdrom.eject" => {
            let drive = drive_name(a(0), "cdrom.eject: drive")?;
            let index = vm.find_drive(drive.as_deref(), true).map_err(err)?;
            vm.eject(index).map_err(err)?;
            Ok(Vec::new())
        }
        "cdrom.insert" => {
            let path = to_string(a(0), "cdrom.insert: path")?;
            let drive = drive_name(a(1), "cdrom.insert: drive")?;
            let index = vm.find_drive(drive.as_deref(), true).map_err(err)?;
            vm.insert_disc(index, Path::new(&path)).map_err(err)?;
            Ok(Vec::new())
        }
        "disk.read" => {
            let drive = drive_name(a(0), "disk.read: drive")?
                .ok_or("disk.read: drive is missing (\"ide0\"..\"ide3\", \"fd0\", \"fd1\")")?;
            let index = vm.find_drive(Some(&drive), false).map_err(err)?;
            let lba = to_u64(a(1), "disk.read: lba")?;
            let count = match a(2) {
                LuaValue::Nil => 1,
                v => to_u64(v, "disk.read: count")?,
            };
            let bytes = vm.disk_read(index, lba, count).map_err(err)?;
            Ok(vec![LuaValue::String(
                lua.create_string(bytes).map_err(err)?,
            )])
        }
        "disk.save" => {
            let drive = drive_name(a(0), "disk.save: drive")?
                .ok_or("disk.save: drive is missing (\"ide0\"..\"ide3\", \"fd0\", \"fd1\")")?;
            let index = vm.find_drive(Some(&drive), false).map_err(err)?;
            let path = to_string(a(1), "disk.save: path")?;
            vm.disk_save(index, Path::new(&path)).map_err(err)?;
            Ok(Vec::new())
        }
        "disk.commit" => {
            let drive = drive_name(a(0), "disk.commit: drive")?
                .ok_or("disk.commit: drive is missing (\"ide0\"..\"ide3\", \"fd0\", \"fd1\")")?;
            let index = vm.find_drive(Some(&drive), false).map_err(err)?;
            let n = vm.disk_commit(index).map_err(err)?;
            Ok(vec![LuaValue::Integer(n as i64)])
        }
        _ => Err(format!("moon86: no method '{name}'")),
    }
}
