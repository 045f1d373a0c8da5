//! A Lua state bound to one VM, for interactive front ends (the monitor):
//! the VM lives in the Lua state as the global `vm`, the same object
//! scripts get from `moon86.new`, and Rust code borrows it between Lua
//! calls. A line of Lua is evaluated as the Lua REPL does (an expression
//! first, then a statement; an unfinished chunk asks for more input), and
//! its results come back as readable text.

use super::pretty::pretty;
use super::raw::{vm_userdata, VmUd};
use super::runner::{setup, ScriptError};
use crate::control::Vm;
use mlua::{AnyUserData, Function, Lua, MultiValue, Table, Value as LuaValue};
use std::sync::atomic::{AtomicBool, Ordering};

/// The outcome of evaluating a chunk.
#[derive(Debug, PartialEq, Eq)]
pub enum Eval {
    /// It ran; its results, each as readable text (empty for a statement).
    Done(Vec<String>),
    /// The chunk is unfinished (an open `function`, `{`, string...): read
    /// another line and try again with both.
    Incomplete,
    /// A syntax or runtime error, as Lua reports it.
    Failed(String),
}

/// A Lua state with `moon86` loaded and the global `vm` bound to a VM.
pub struct Session {
    lua: Lua,
    ud: AnyUserData,
    raw: Table,
    /// Lua's own `pcall`, kept in case a line reassigns the global.
    pcall: Function,
}

impl Session {
    /// Moves `vm` into a fresh Lua state as the global `vm`.
    pub fn new(vm: Vm) -> Result<Session, ScriptError> {
        let lua = super::new_lua().map_err(setup)?;
        let raw: Table = lua.named_registry_value(super::RAW_KEY).map_err(setup)?;
        let ud = vm_userdata(&lua, vm).map_err(setup)?;
        let adopt: Function = raw.get("adopt").map_err(setup)?;
        let object: LuaValue = adopt.call(ud.clone()).map_err(setup)?;
        lua.globals().set("vm", object).map_err(setup)?;
        let pcall: Function = lua.globals().get("pcall").map_err(setup)?;
        Ok(Session {
            lua,
            ud,
            raw,
            pcall,
        })
    }

    /// Makes Lua code stop with the error "interrupted" when `flag` is set
    /// (checked every few thousand Lua instructions; the flag is cleared),
    /// so Ctrl-C ends a runaway loop typed at a prompt.
    pub fn interrupt_on(&self, flag: &'static AtomicBool) -> Result<(), ScriptError> {
        self.lua
            .set_hook(
                mlua::HookTriggers::new().every_nth_instruction(10_000),
                move |_, _| {
                    if flag.swap(false, Ordering::SeqCst) {
                        return Err(mlua::Error::RuntimeError("interrupted".into()));
                    }
                    Ok(mlua::VmState::Continue)
                },
            )
            .map_err(setup)
    }

    /// Sends what Lua's `print` prints to `sink` instead of stdout (a
    /// front end that owns the terminal, such as the monitor's prompt).
    pub fn print_to(&self, sink: impl Fn(&[u8]) + 'static) -> Result<(), ScriptError> {
        super::install_print_to(&self.lua, sink).map_err(setup)
    }

    /// Runs `f` on the VM. Fails only while Lua itself holds the VM (never
    /// between Lua calls).
    pub fn with_vm<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> Result<R, String> {
        let mut vm = self
            .ud
            .borrow_mut::<VmUd>()
            .map_err(|e| format!("the VM is busy: {e}"))?;
        Ok(f(&mut vm.0))
    }

    /// Evaluates `chunk`: as `return <chunk>` when that compiles (so an
    /// expression shows its value), else as statements.
    pub fn eval(&self, chunk: &str) -> Eval {
        let name = "=stdin";
        let func = match self
            .lua
            .load(format!("return {chunk}"))
            .set_name(name)
            .into_function()
        {
            Ok(f) => f,
            // `1 +`: an unfinished expression.
            Err(mlua::Error::SyntaxError {
                incomplete_input: true,
                ..
            }) => return Eval::Incomplete,
            Err(_) => match self.lua.load(chunk).set_name(name).into_function() {
                Ok(f) => f,
                Err(mlua::Error::SyntaxError {
                    incomplete_input: true,
                    ..
                }) => return Eval::Incomplete,
                Err(mlua::Error::SyntaxError { message, .. }) => return Eval::Failed(message),
                Err(e) => return Eval::Failed(e.to_string()),
            },
        };
        match self.pcall(func, MultiValue::new()) {
            Ok(values) => Eval::Done(values.iter().map(pretty).collect()),
            Err(message) => Eval::Failed(message),
        }
    }

    /// True when the chunk compiles as Lua (statements or an expression).
    pub fn compiles(&self, chunk: &str) -> bool {
        self.lua
            .load(format!("return {chunk}"))
            .into_function()
            .is_ok()
            || self.lua.load(chunk).into_function().is_ok()
    }

    /// True when the global `name` holds something other than nil.
    pub fn global_defined(&self, name: &str) -> bool {
        self.lua
            .globals()
            .raw_get::<LuaValue>(name)
            .is_ok_and(|v| !v.is_nil())
    }

    /// The names of the global variables (for completion).
    pub fn global_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .lua
            .globals()
            .pairs::<LuaValue, LuaValue>()
            .filter_map(|p| p.ok())
            .filter_map(|(k, _)| match k {
                LuaValue::String(s) => Some(s.to_string_lossy()),
                _ => None,
            })
            .collect();
        names.sort();
        names
    }

    /// After the front end ran the VM and it stopped with `hook`: calls the
    /// Lua callbacks of the pending fires (the fires of hooks without one are
    /// dropped). Returns false when a callback asked to stop.
    pub fn dispatch_fires(&self) -> Result<bool, String> {
        let dispatch: Function = self.raw.get("dispatch").map_err(|e| e.to_string())?;
        let args = MultiValue::from_vec(vec![LuaValue::UserData(self.ud.clone())]);
        let values = self.pcall(dispatch, args)?;
        Ok(!matches!(values.front(), Some(LuaValue::Boolean(false))))
    }

    /// Calls `f` under `pcall`; an error comes back as its message.
    fn pcall(&self, f: Function, args: MultiValue) -> Result<MultiValue, String> {
        let mut all = vec![LuaValue::Function(f)];
        all.extend(args);
        let mut out = self
            .pcall
            .call::<MultiValue>(MultiValue::from_vec(all))
            .map_err(|e| e.to_string())?;
        match out.pop_front() {
            Some(LuaValue::Boolean(true)) => Ok(out),
            _ => Err(match out.pop_front() {
                Some(LuaValue::String(s)) => s.to_string_lossy(),
                Some(LuaValue::Error(e)) => e.to_string(),
                Some(other) => pretty(&other),
                None => "an error without a message".into(),
            }),
        }
    }
}
