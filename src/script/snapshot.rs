//! The Lua value of an in-memory snapshot (`vm:snapshot()`): a userdata
//! holding a [`Snapshot`], handed back to `vm:restore(s)` as many times as
//! a script likes. It shows its instruction count and RAM size when
//! printed and has read-only fields `icount` and `ram_size`; everything
//! else about it is the control API's business.

use crate::control::value::format_size;
use crate::control::Snapshot;
use mlua::{MetaMethod, UserData, UserDataFields, UserDataMethods, Value as LuaValue};

/// A snapshot as Lua holds it.
pub struct SnapshotUd(pub Snapshot);

impl UserData for SnapshotUd {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("icount", |_, s| Ok(s.0.icount() as i64));
        fields.add_field_method_get("ram_size", |_, s| Ok(s.0.config().ram_size as i64));
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, s, ()| {
            Ok(format!(
                "moon86.snapshot (icount {}, ram {})",
                s.0.icount(),
                format_size(s.0.config().ram_size)
            ))
        });
    }
}

/// Reads a snapshot argument, or says what was passed instead.
pub fn with_snapshot<T>(
    v: &LuaValue,
    what: &str,
    f: impl FnOnce(&Snapshot) -> Result<T, String>,
) -> Result<T, String> {
    let wrong = |got: &str| format!("{what} expects a snapshot from vm:snapshot(), got {got}");
    let LuaValue::UserData(ud) = v else {
        return Err(wrong(v.type_name()));
    };
    let s = ud
        .borrow::<SnapshotUd>()
        .map_err(|_| wrong("another userdata"))?;
    f(&s.0)
}
