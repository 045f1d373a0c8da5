//! The options that describe a machine to boot, in the spelling QEMU users
//! know (`-m`, `--kernel`, `--initrd`, `--append`, `--serial stdio`), parsed
//! once by clap and turned into a configured, powered-on `Vm`.

use crate::control::{ControlError, Value, Vm};
use crate::machine::loader::{detect_kernel, KernelFormat};
use crate::machine::MachineConfig;
use std::path::PathBuf;
use std::str::FromStr;
use thiserror::Error;

/// The VGA BIOS `--bios` runs when it lies beside the firmware (as in
/// Debian's seabios package).
pub const VGA_BIOS_NAME: &str = "vgabios-isavga.bin";

/// Where a character device's output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// The terminal (for the serial port also its input).
    Stdio,
    /// Nowhere.
    None,
    /// Appended to a file as it arrives.
    File(PathBuf),
}

impl FromStr for Output {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stdio" => Ok(Output::Stdio),
            "none" | "null" => Ok(Output::None),
            _ => match s.strip_prefix("file:") {
                Some(p) if !p.is_empty() => Ok(Output::File(PathBuf::from(p))),
                _ => Err(format!("'{s}' is not stdio, none or file:PATH")),
            },
        }
    }
}

#[derive(Debug, Error)]
pub enum BootError {
    #[error("nothing to boot: give --kernel, --boot-sector, --rom, --bios or a drive (--hda, --cdrom, --drive)")]
    NothingToBoot,
    #[error("{0}")]
    NoFirmware(String),
    #[error("{0} needs --kernel: it is for a Linux or Multiboot kernel, and --boot-sector and --rom images take none")]
    NeedsKernel(&'static str),
    #[error("{0}")]
    BadDrive(String),
    #[error("--set {0}: expected PROPERTY=VALUE")]
    BadSet(String),
    #[error("'{}': neither a Linux bzImage nor a Multiboot kernel", .0.display())]
    UnknownKernel(PathBuf),
    #[error("cannot read '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create '{}' to write the guest's output there: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Control(#[from] ControlError),
    #[error("{0}")]
    Gdb(#[from] crate::gdb::GdbError),
    #[error("--display sdl: {0}")]
    Display(#[from] crate::display::DisplayError),
}

/// A machine to boot, as the command line describes it.
#[derive(clap::Args, Clone, Debug)]
pub struct BootOptions {
    /// Guest RAM size, e.g. 64M or 1G
    #[arg(
        short = 'm',
        long = "ram",
        value_name = "SIZE",
        default_value = "128M",
        allow_negative_numbers = true
    )]
    pub ram: String,
    /// A kernel: a Linux bzImage or a Multiboot ELF (detected from its contents)
    #[arg(long, value_name = "FILE")]
    pub kernel: Option<PathBuf>,
    /// Linux: the initial RAM disk. Multiboot: modules, comma-separated, each "PATH [ARGS]"
    #[arg(long, value_name = "FILE", requires = "kernel")]
    pub initrd: Option<String>,
    /// The kernel command line
    #[arg(long, value_name = "CMDLINE", requires = "kernel")]
    pub append: Option<String>,
    /// A 512-byte boot sector, entered at 0000:7C00
    #[arg(long, value_name = "FILE", conflicts_with = "kernel")]
    pub boot_sector: Option<PathBuf>,
    /// A firmware ROM (BIOS), entered at the reset vector
    #[arg(long, value_name = "FILE")]
    pub rom: Option<PathBuf>,
    /// PC firmware with shadow RAM and fw_cfg, as QEMU's -bios (SeaBIOS's
    /// bios.bin); the VGA BIOS vgabios-isavga.bin beside it is run too
    #[arg(long, value_name = "FILE", conflicts_with = "rom")]
    pub bios: Option<PathBuf>,
    /// Stop when the guest resets the machine, as QEMU's -no-reboot (by
    /// default a guest's reset reboots the machine and it runs on)
    #[arg(long)]
    pub no_reboot: bool,
    /// An option ROM for the BIOS to run, as QEMU's -option-rom: copied to
    /// 0xC0000 and up in the order given (repeatable; e.g. the LGPL VGA BIOS
    /// for Bochs's BIOS)
    #[arg(long = "option-rom", value_name = "FILE")]
    pub option_rom: Vec<PathBuf>,
    /// COM1: stdio (the terminal is the guest's console), none, or file:PATH
    #[arg(long, value_name = "TARGET", default_value = "stdio")]
    pub serial: Output,
    /// The debug console (port 0xE9): stdio, none or file:PATH
    #[arg(long, value_name = "TARGET", default_value = "stdio")]
    pub debugcon: Output,
    /// The firmware's debug port 0x402, where SeaBIOS and Bochs's BIOS log
    /// (QEMU's -debugcon for that port): stdio, none or file:PATH
    #[arg(
        long,
        visible_alias = "bios-log",
        value_name = "TARGET",
        default_value = "none"
    )]
    pub biosdebug: Output,
    /// IDE primary master disk image (raw); guest writes stay in memory
    #[arg(long, value_name = "FILE")]
    pub hda: Option<PathBuf>,
    /// IDE primary slave disk image
    #[arg(long, value_name = "FILE")]
    pub hdb: Option<PathBuf>,
    /// IDE secondary master disk image
    #[arg(long, value_name = "FILE")]
    pub hdc: Option<PathBuf>,
    /// IDE secondary slave disk image
    #[arg(long, value_name = "FILE")]
    pub hdd: Option<PathBuf>,
    /// An ISO 9660 CD image in an ATAPI CD-ROM drive at IDE index 2
    #[arg(long, value_name = "FILE")]
    pub cdrom: Option<PathBuf>,
    /// Floppy drive A: image (raw, a floppy's size); guest writes stay in memory
    #[arg(long, value_name = "FILE")]
    pub fda: Option<PathBuf>,
    /// Floppy drive B: image
    #[arg(long, value_name = "FILE")]
    pub fdb: Option<PathBuf>,
    /// A drive: file=F,if=ide|floppy,media=disk|cdrom,index=0-3 (floppy
    /// 0-1),readonly=on,snapshot=off (write through to the file) (repeatable)
    #[arg(long = "drive", value_name = "SPEC")]
    pub drive: Vec<String>,
    /// Boot order and menu, as QEMU's -boot: `d` or
    /// order=LETTERS,menu=on|off,splash-time=MS
    /// (a floppy, c hard disk, d CD-ROM, n network; default order cad)
    #[arg(long, value_name = "ORDER")]
    pub boot: Option<super::boot_flag::BootFlag>,
    /// CPU model (see `moon86 doc`, property cpu_model)
    #[arg(long, value_name = "MODEL")]
    pub cpu: Option<String>,
    /// Set any property before power-on, e.g. --set ips=50000000 (repeatable)
    #[arg(long = "set", value_name = "PROP=VALUE")]
    pub set: Vec<String>,
    /// Wait for gdb before the first instruction, as QEMU's `-gdb ADDR -S`:
    /// tcp::PORT (127.0.0.1), tcp:HOST:PORT or PORT; port 0 picks a free one
    #[arg(long, value_name = "ADDR", allow_negative_numbers = true)]
    pub gdb: Option<crate::gdb::GdbAddr>,
    /// none (headless, the default) or sdl: a window with the VGA screen and
    /// the keyboard (needs a build with `--features sdl`)
    #[arg(long, value_name = "none|sdl", default_value = "none")]
    pub display: crate::display::Display,
}

impl BootOptions {
    /// Builds the machine, loads what is to be booted and powers it on.
    pub fn build(&self) -> Result<Vm, BootError> {
        // clap's `requires` is not checked when --boot-sector (which
        // conflicts with --kernel) is given, so check here too.
        if self.kernel.is_none() {
            if self.append.is_some() {
                return Err(BootError::NeedsKernel("--append"));
            }
            if self.initrd.is_some() {
                return Err(BootError::NeedsKernel("--initrd"));
            }
        }
        let mut vm = Vm::new(MachineConfig::default())?;
        vm.set("ram_size", Value::Str(self.ram.clone()))?;
        if let Some(cpu) = &self.cpu {
            vm.set("cpu_model", Value::Str(cpu.clone()))?;
        }
        for s in &self.set {
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| BootError::BadSet(s.clone()))?;
            vm.set(k.trim(), Value::Str(v.trim().to_string()))?;
        }
        let drives = super::drive_spec::collect_drives(
            [&self.hda, &self.hdb, &self.hdc, &self.hdd],
            &self.cdrom,
            [&self.fda, &self.fdb],
            &self.drive,
        )
        .map_err(BootError::BadDrive)?;
        let mut bios = self.bios.clone();
        if self.kernel.is_none()
            && self.boot_sector.is_none()
            && self.rom.is_none()
            && bios.is_none()
        {
            if drives.is_empty() {
                return Err(BootError::NothingToBoot);
            }
            // Drives alone boot through a BIOS, as in QEMU: SeaBIOS.
            bios = Some(super::firmware_search::default_bios().map_err(BootError::NoFirmware)?);
        }
        for d in drives {
            vm.attach_drive(d)?;
        }
        if let Some(flag) = &self.boot {
            if let Some(order) = &flag.order {
                vm.set("boot_order", Value::Str(order.to_string()))?;
            }
            if let Some(menu) = flag.menu {
                vm.set("boot_menu", Value::Bool(menu))?;
            }
            if let Some(ms) = flag.menu_wait {
                vm.set("boot_menu_wait", Value::Int(ms.into()))?;
            }
        }
        if let Some(rom) = &self.rom {
            vm.load_rom(rom)?;
        }
        if let Some(bios) = &bios {
            let vga = bios.with_file_name(VGA_BIOS_NAME);
            vm.load_bios(bios, vga.is_file().then_some(vga.as_path()))?;
        }
        for rom in &self.option_rom {
            vm.load_option_rom(rom, None)?;
        }
        if let Some(bs) = &self.boot_sector {
            vm.load_boot_sector(bs)?;
        }
        if let Some(kernel) = &self.kernel {
            self.load_kernel(&mut vm, kernel)?;
        }
        vm.set("debugcon.echo", Value::Bool(self.debugcon == Output::Stdio))?;
        vm.set(
            "biosdebug.echo",
            Value::Bool(self.biosdebug == Output::Stdio),
        )?;
        vm.set("serial.echo", Value::Bool(self.serial == Output::Stdio))?;
        vm.power_on()?;
        Ok(vm)
    }

    fn load_kernel(&self, vm: &mut Vm, kernel: &PathBuf) -> Result<(), BootError> {
        let mut head = vec![0u8; 8192];
        let n = std::fs::File::open(kernel)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|source| BootError::Read {
                path: kernel.clone(),
                source,
            })?;
        let cmdline = self.append.clone().unwrap_or_default();
        match detect_kernel(&head[..n]) {
            Some(KernelFormat::Linux) => {
                let initrd = self.initrd.as_ref().map(PathBuf::from);
                vm.load_linux(kernel, initrd.as_deref(), &cmdline)?;
            }
            Some(KernelFormat::Multiboot) => {
                let modules: Vec<(PathBuf, String)> = self
                    .initrd
                    .iter()
                    .flat_map(|list| list.split(','))
                    .map(|m| m.trim())
                    .filter(|m| !m.is_empty())
                    .map(|m| {
                        let path = m.split_whitespace().next().unwrap_or(m);
                        (PathBuf::from(path), m.to_string())
                    })
                    .collect();
                vm.load_multiboot(kernel, &cmdline, &modules)?;
            }
            None => return Err(BootError::UnknownKernel(kernel.clone())),
        }
        Ok(())
    }
}
