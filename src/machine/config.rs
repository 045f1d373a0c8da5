//! What a machine is built from: the settings fixed while it is off.

use super::clock::DEFAULT_IPS;
use crate::cpu::Model;
use crate::devices::DEFAULT_EXIT_PORT;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The CPU models moon86 can emulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CpuModel {
    /// An Intel 80386.
    I386,
    /// An Intel 80486 (BSWAP, XADD, CMPXCHG, INVLPG).
    I486,
    /// A P6-class (family 6) CPU without SSE: CPUID, RDTSC, CMOV, CMPXCHG8B, PSE, PAE, PGE.
    I686,
    /// A Pentium M class (family 6) CPU without MMX or SSE: the I686 plus
    /// EFER and the execute-disable (NX) bit of PAE paging.
    PentiumM,
}

impl CpuModel {
    pub const ALL: [CpuModel; 4] = [
        CpuModel::I386,
        CpuModel::I486,
        CpuModel::I686,
        CpuModel::PentiumM,
    ];
    pub fn name(self) -> &'static str {
        match self {
            CpuModel::I386 => "i386",
            CpuModel::I486 => "i486",
            CpuModel::I686 => "i686",
            CpuModel::PentiumM => "pentium-m",
        }
    }

    /// The interpreter's model for this CPU.
    pub fn cpu_model(self) -> Model {
        match self {
            CpuModel::I386 => Model::I386,
            CpuModel::I486 => Model::I486,
            CpuModel::I686 => Model::I686,
            CpuModel::PentiumM => Model::PentiumM,
        }
    }
}

impl fmt::Display for CpuModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CpuModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "i386" | "386" | "80386" => Ok(CpuModel::I386),
            "i486" | "486" | "80486" => Ok(CpuModel::I486),
            "i686" | "686" | "p6" | "pentiumpro" => Ok(CpuModel::I686),
            "pentium-m" | "pentiumm" => Ok(CpuModel::PentiumM),
            _ => Err(format!(
                "unknown CPU model '{s}' (known models: {})",
                CpuModel::ALL.map(|m| m.name()).join(", ")
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineConfig {
    pub ram_size: u64,
    pub cpu_model: CpuModel,
    pub exit_port: u16,
    /// Instructions per virtual second (the virtual clock's rate).
    pub ips: u64,
    /// The RTC's time at power-on, in Unix seconds (fixed, for reproducible runs).
    pub rtc_start: i64,
    /// The drives, in the order they were attached (see `drives.rs`).
    pub drives: Vec<super::DriveConfig>,
    /// The devices the BIOS boots from, in order (CMOS 0x3D and 0x38).
    #[serde(default)]
    pub boot_order: super::BootOrder,
    /// Whether the BIOS offers its boot menu (fw_cfg's boot-menu item;
    /// SeaBIOS waits for F12 or Esc).
    #[serde(default)]
    pub boot_menu: bool,
    /// How long the boot menu waits for a key, in milliseconds (fw_cfg's
    /// `etc/boot-menu-wait`; SeaBIOS's own default is 2500).
    #[serde(default = "default_menu_wait")]
    pub boot_menu_wait: u16,
}

/// SeaBIOS's default boot-menu wait, in milliseconds.
pub const DEFAULT_BOOT_MENU_WAIT: u16 = 2500;

fn default_menu_wait() -> u16 {
    DEFAULT_BOOT_MENU_WAIT
}

/// 2025-01-01 00:00:00 UTC: the RTC's default time at power-on.
pub const DEFAULT_RTC_START: i64 = 1_735_689_600;

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            ram_size: 16 << 20,
            cpu_model: CpuModel::I686,
            exit_port: DEFAULT_EXIT_PORT,
            ips: DEFAULT_IPS,
            rtc_start: DEFAULT_RTC_START,
            drives: Vec::new(),
            boot_order: Default::default(),
            boot_menu: false,
            boot_menu_wait: DEFAULT_BOOT_MENU_WAIT,
        }
    }
}
