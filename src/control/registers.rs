//! The CPU's registers gathered in one value, for `vm.cpu:regs()` and for
//! `regs.json` in capture bundles: general registers, EIP and EFLAGS, each
//! segment register with its hidden descriptor cache, LDTR and TR, the
//! control registers, GDTR and IDTR, and the derived state scripts ask
//! about (CPL, operating mode, paging, halted) with the instruction count.
//! [`Registers::to_json`] is the one description of the field names; the
//! Lua binding converts that value, so both spell everything the same way.

use super::action::Action;
use super::vm::Vm;
use super::ControlError;
use crate::cpu::{CpuMode, Gpr, SegReg, Segment};
use crate::machine::Machine;
use serde_json::{json, Map, Value as Json};

/// Base and limit of a descriptor-table register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableRegister {
    pub base: u32,
    pub limit: u32,
}

/// The registers at one instruction boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registers {
    /// In [`Gpr::ALL`] order (eax, ecx, edx, ebx, esp, ebp, esi, edi).
    pub gpr: [u32; 8],
    pub eip: u32,
    pub eflags: u32,
    /// In [`SegReg::ALL`] order.
    pub segs: [Segment; 6],
    pub ldtr: Segment,
    pub tr: Segment,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
    pub gdtr: TableRegister,
    pub idtr: TableRegister,
    pub cpl: u8,
    pub mode: CpuMode,
    pub paging: bool,
    pub halted: bool,
    /// Instructions retired since power-on or reset.
    pub icount: u64,
}

/// The name scripts use for an operating mode: real, protected or v86.
pub fn mode_name(mode: CpuMode) -> &'static str {
    match mode {
        CpuMode::Real => "real",
        CpuMode::Protected => "protected",
        CpuMode::Virtual8086 => "v86",
    }
}

fn segment_json(s: &Segment) -> Json {
    json!({
        "selector": s.selector,
        "base": s.base,
        "limit": s.limit,
        "access": s.access,
    })
}

impl Registers {
    /// The registers of `m`'s CPU now.
    pub fn of(m: &Machine) -> Registers {
        let cpu = &m.cpu;
        let table = |(base, limit)| TableRegister { base, limit };
        Registers {
            gpr: Gpr::ALL.map(|r| cpu.gpr(r)),
            eip: cpu.eip(),
            eflags: cpu.eflags(),
            segs: SegReg::ALL.map(|s| cpu.segment(s)),
            ldtr: cpu.ldtr(),
            tr: cpu.tr(),
            cr0: cpu.cr0(),
            cr2: cpu.cr2(),
            cr3: cpu.cr3(),
            cr4: cpu.cr4(),
            gdtr: table(cpu.gdtr()),
            idtr: table(cpu.idtr()),
            cpl: cpu.cpl(),
            mode: cpu.mode(),
            paging: cpu.paging(),
            halted: cpu.is_halted(),
            icount: m.icount,
        }
    }

    /// The selector of the segment register called `name` ("cs", "ss",
    /// "ds", "es", "fs", "gs").
    pub fn selector(&self, name: &str) -> Option<u16> {
        SegReg::ALL
            .iter()
            .position(|s| s.name() == name)
            .map(|i| self.segs[i].selector)
    }

    /// One JSON object: `eax`..`edi`, `eip`, `eflags`, the selectors as
    /// `cs`..`gs`, `segs.cs` = `{selector, base, limit, access}` for each
    /// segment register, `ldtr` and `tr` in the same shape, `cr0`, `cr2`,
    /// `cr3`, `cr4`, `gdtr` and `idtr` as `{base, limit}`, `cpl`, `mode`
    /// ("real", "protected" or "v86"), `paging`, `halted` and `icount`.
    pub fn to_json(&self) -> Json {
        let mut o = Map::new();
        for (r, v) in Gpr::ALL.iter().zip(self.gpr) {
            o.insert(r.name().into(), v.into());
        }
        o.insert("eip".into(), self.eip.into());
        o.insert("eflags".into(), self.eflags.into());
        let mut segs = Map::new();
        for (s, seg) in SegReg::ALL.iter().zip(&self.segs) {
            o.insert(s.name().into(), seg.selector.into());
            segs.insert(s.name().into(), segment_json(seg));
        }
        o.insert("segs".into(), segs.into());
        o.insert("ldtr".into(), segment_json(&self.ldtr));
        o.insert("tr".into(), segment_json(&self.tr));
        for (name, v) in [
            ("cr0", self.cr0),
            ("cr2", self.cr2),
            ("cr3", self.cr3),
            ("cr4", self.cr4),
        ] {
            o.insert(name.into(), v.into());
        }
        for (name, t) in [("gdtr", self.gdtr), ("idtr", self.idtr)] {
            o.insert(name.into(), json!({ "base": t.base, "limit": t.limit }));
        }
        o.insert("cpl".into(), self.cpl.into());
        o.insert("mode".into(), mode_name(self.mode).into());
        o.insert("paging".into(), self.paging.into());
        o.insert("halted".into(), self.halted.into());
        o.insert("icount".into(), self.icount.into());
        o.into()
    }
}

impl Vm {
    /// Every register of the CPU, as it is now.
    pub fn registers(&self) -> Result<Registers, ControlError> {
        self.guard(Action::CpuRegs)?;
        Ok(Registers::of(self.machine()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::MachineConfig;

    #[test]
    fn json_names_every_register() {
        let mut m = Machine::new(&MachineConfig {
            ram_size: 1 << 20,
            ..MachineConfig::default()
        })
        .unwrap();
        m.cpu.set_gpr(Gpr::Ebx, 0x1234_5678);
        m.cpu.set_eip(0x7C00);
        m.cpu.set_gdtr(0x1000, 0x27);
        let j = Registers::of(&m).to_json();
        assert_eq!(j["ebx"], 0x1234_5678);
        assert_eq!(j["eip"], 0x7C00);
        assert_eq!(j["cs"], 0xF000);
        assert_eq!(j["segs"]["cs"]["base"], 0xFFFF_0000u32);
        assert_eq!(j["segs"]["cs"]["limit"], 0xFFFF);
        assert_eq!(j["gdtr"]["base"], 0x1000);
        assert_eq!(j["gdtr"]["limit"], 0x27);
        assert_eq!(j["mode"], "real");
        assert_eq!(j["paging"], false);
        assert_eq!(j["icount"], 0);
        for key in [
            "eax", "edi", "eflags", "ss", "gs", "ldtr", "tr", "cr0", "cr4", "idtr", "cpl", "halted",
        ] {
            assert!(j.get(key).is_some(), "{key}");
        }
    }
}
