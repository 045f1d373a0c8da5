//! Image loaders: a raw binary at an address with a real-mode entry point, a
//! ROM mapped below 1 MiB and at the top of 4 GiB (entry at the reset vector),
//! a boot sector at 0000:7C00, a Linux bzImage (32-bit boot protocol) and a
//! Multiboot kernel. An image is validated completely when it is built, so a
//! bad file is rejected before anything in the machine changes;
//! [`Image::apply`] then checks that it fits the machine it is put into.

mod e820;
mod firmware_state;
pub mod flat;
mod linux;
mod multiboot;

pub use e820::{memory_map, MemRange};
pub use linux::LinuxImage;
pub use multiboot::MultibootImage;

use super::Machine;
use crate::cpu::{Gpr, SegReg};
use crate::mem::MemError;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Largest ROM image accepted.
pub const MAX_ROM: usize = 16 << 20;
/// The part of a ROM that is also visible just below 1 MiB.
pub const LOW_ROM_WINDOW: usize = 128 << 10;
pub const BOOT_SECTOR_ADDR: u32 = 0x7C00;
/// Where option ROMs may go: the VGA BIOS at the start, others after it.
pub const OPTION_ROM_START: u32 = 0xC_0000;
pub const OPTION_ROM_END: u32 = 0xF_0000;

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", too_large(path, *len, *limit, what))]
    TooLarge {
        path: PathBuf,
        /// None for a file whose size is known only by reading it.
        len: Option<u64>,
        limit: u64,
        what: String,
    },
    #[error("'{}' is empty", path.display())]
    Empty { path: PathBuf },
    #[error("'{}' ({len} bytes) loaded at 0x{addr:x} does not fit in RAM: it would end at 0x{:x}, RAM is {ram_size} bytes", path.display(), addr + len)]
    DoesNotFit {
        path: PathBuf,
        len: u64,
        addr: u64,
        ram_size: u64,
    },
    #[error("initrd '{}' ({len} bytes) does not fit between the kernel's end at 0x{kernel_end:x} and 0x{top:x}, {why}", path.display())]
    InitrdDoesNotFit {
        path: PathBuf,
        len: u64,
        kernel_end: u64,
        top: u64,
        /// What puts the ceiling at `top`.
        why: String,
    },
    #[error("'{}': a segment at 0x{addr:x} takes {} bytes of memory ({file_len} from the file and {zero} of zero-filled bss), so it ends at 0x{:x}; {}", path.display(), file_len + zero, addr + file_len + zero, if *addr < 0x1_0000 { "segments must start at 0x10000 or above".to_string() } else { format!("RAM ends at 0x{ram_size:x}") })]
    SegmentDoesNotFit {
        path: PathBuf,
        addr: u64,
        file_len: u64,
        zero: u64,
        ram_size: u64,
    },
    #[error("'{}' is {len} bytes: a boot sector is exactly 512 bytes (use load_raw for other images)", path.display())]
    BootSectorSize { path: PathBuf, len: u64 },
    #[error("'{}' is not a boot sector: bytes 510-511 are {:02x} {:02x}, expected 55 aa", path.display(), found[0], found[1])]
    BootSectorSignature { path: PathBuf, found: [u8; 2] },
    #[error("'{}' is {len} bytes: a ROM image must be a multiple of 2 KiB and at most {} MiB", path.display(), MAX_ROM >> 20)]
    RomSize { path: PathBuf, len: u64 },
    #[error("'{}' ({len} bytes) is not an option ROM: it must start with 55 aa and be 512 bytes to 128 KiB", path.display())]
    BadOptionRom { path: PathBuf, len: u64 },
    #[error("'{}': an option ROM goes at a 2 KiB boundary within 0xc0000-0xeffff; at 0x{addr:x} it would end at 0x{end:x}", path.display())]
    OptionRomPlace { path: PathBuf, addr: u32, end: u64 },
    #[error("'{}': {source}", path.display())]
    Memory { path: PathBuf, source: MemError },
    #[error("'{}': {reason}", path.display())]
    BadKernel { path: PathBuf, reason: String },
}

fn too_large(path: &Path, len: Option<u64>, limit: u64, what: &str) -> String {
    let p = path.display();
    match len {
        Some(len) => format!(
            "'{p}' is {len} bytes, more than the {limit} bytes {what} (refused without reading it)"
        ),
        None => format!("'{p}' holds more than the {limit} bytes {what} (reading stopped there)"),
    }
}

/// A real-mode entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub cs: u16,
    pub ip: u32,
}

#[derive(Clone, Debug)]
enum Kind {
    Raw {
        addr: u32,
        entry: Option<Entry>,
    },
    Rom,
    /// Firmware with shadow RAM; the VGA BIOS it is given through fw_cfg
    /// (file name, contents).
    Bios {
        vga: Option<(String, Arc<[u8]>)>,
    },
    /// An option ROM copied into the shadow RAM at `addr`.
    OptionRom {
        addr: u32,
    },
    BootSector,
    Linux(Box<LinuxImage>),
    Multiboot(Box<MultibootImage>),
}

/// What kind of kernel a file is, judged from its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelFormat {
    /// A Linux bzImage (it has a "HdrS" setup header).
    Linux,
    /// A kernel with a Multiboot header in its first 8 KiB.
    Multiboot,
}

/// Tells a Linux bzImage from a Multiboot kernel (a bzImage may carry a
/// Multiboot header too; the Linux protocol wins then).
pub fn detect_kernel(data: &[u8]) -> Option<KernelFormat> {
    if data.get(0x202..0x206) == Some(b"HdrS") {
        return Some(KernelFormat::Linux);
    }
    let window = &data[..data.len().min(8192)];
    let magic = 0x1BAD_B002u32.to_le_bytes();
    (0..window.len().saturating_sub(3))
        .step_by(4)
        .any(|o| window[o..o + 4] == magic)
        .then_some(KernelFormat::Multiboot)
}

/// A validated image, ready to be put into a machine (again after a reset).
#[derive(Clone, Debug)]
pub struct Image {
    path: PathBuf,
    data: Arc<[u8]>,
    kind: Kind,
}

/// Reads `path` whole, but first checks its size from its metadata against
/// `limit` (`what` says where the limit comes from) so an oversized file is
/// refused without being read. A file whose size the metadata does not give
/// (a FIFO, a device) is read up to one byte past `limit`, never further.
fn read(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, LoadError> {
    let io_err = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    let too_large = |len| LoadError::TooLarge {
        path: path.to_owned(),
        len,
        limit,
        what: what.to_owned(),
    };
    let file = crate::host_file::open_read(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if meta.is_dir() {
        return Err(io_err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        )));
    }
    let known = meta.is_file().then_some(meta.len());
    if let Some(len) = known.filter(|&len| len > limit) {
        return Err(too_large(Some(len)));
    }
    let mut data = Vec::with_capacity(known.unwrap_or(0) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io_err)?;
    if data.len() as u64 > limit {
        return Err(too_large(None));
    }
    if data.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(data)
}

/// The limit of a file loaded into RAM, for [`LoadError::TooLarge`].
fn ram_limit(ram_size: u64) -> String {
    format!("of this VM's RAM ({ram_size} bytes)")
}

impl Image {
    /// A raw binary copied to `addr`, optionally entered at `entry`, in a
    /// machine with `ram_size` bytes of RAM.
    pub fn raw(
        path: &Path,
        addr: u32,
        entry: Option<Entry>,
        ram_size: u64,
    ) -> Result<Image, LoadError> {
        let room = ram_size.saturating_sub(u64::from(addr));
        let what = format!("that fit in RAM from 0x{addr:x} (RAM is {ram_size} bytes)");
        let data = match read(path, room, &what) {
            Err(LoadError::TooLarge { len: Some(len), .. }) => {
                return Err(LoadError::DoesNotFit {
                    path: path.to_owned(),
                    len,
                    addr: u64::from(addr),
                    ram_size,
                })
            }
            r => r?,
        };
        Ok(Image {
            path: path.to_owned(),
            data: data.into(),
            kind: Kind::Raw { addr, entry },
        })
    }

    /// A 512-byte boot sector ending in 55 AA.
    pub fn boot_sector(path: &Path) -> Result<Image, LoadError> {
        let data = match read(path, 512, "a boot sector holds") {
            Err(LoadError::TooLarge { len: Some(len), .. }) => {
                return Err(LoadError::BootSectorSize {
                    path: path.to_owned(),
                    len,
                })
            }
            r => r?,
        };
        if data.len() != 512 {
            return Err(LoadError::BootSectorSize {
                path: path.to_owned(),
                len: data.len() as u64,
            });
        }
        if data[510..] != [0x55, 0xAA] {
            return Err(LoadError::BootSectorSignature {
                path: path.to_owned(),
                found: [data[510], data[511]],
            });
        }
        Ok(Image {
            path: path.to_owned(),
            data: data.into(),
            kind: Kind::BootSector,
        })
    }

    /// A Linux bzImage with an optional initrd and a command line, for a
    /// machine with `ram_size` bytes of RAM.
    pub fn linux(
        kernel: &Path,
        initrd: Option<&Path>,
        cmdline: &str,
        ram_size: u64,
    ) -> Result<Image, LoadError> {
        let data = read(kernel, ram_size, &ram_limit(ram_size))?;
        let initrd = match initrd {
            Some(p) => Some((p.to_owned(), read(p, ram_size, &ram_limit(ram_size))?)),
            None => None,
        };
        let image = LinuxImage::parse(kernel, &data, initrd, cmdline)?;
        Ok(Image {
            path: kernel.to_owned(),
            data: Arc::from([]),
            kind: Kind::Linux(Box::new(image)),
        })
    }

    /// Whether this is firmware that takes a kernel through fw_cfg
    /// (`--bios`): a Linux kernel loaded after it is handed to it.
    pub fn takes_kernel(&self) -> bool {
        matches!(self.kind, Kind::Bios { .. })
    }

    /// Makes a Linux image go to the firmware (see
    /// `LinuxImage::apply_via_firmware`) rather than be entered directly.
    pub fn via_firmware(mut self) -> Image {
        if let Kind::Linux(l) = &mut self.kind {
            l.via_firmware = true;
        }
        self
    }

    /// A Multiboot kernel with a command line and modules (path, command
    /// line), for a machine with `ram_size` bytes of RAM.
    pub fn multiboot(
        kernel: &Path,
        cmdline: &str,
        modules: &[(PathBuf, String)],
        ram_size: u64,
    ) -> Result<Image, LoadError> {
        let limit = ram_limit(ram_size);
        let data = read(kernel, ram_size, &limit)?;
        let mut mods = Vec::new();
        for (p, c) in modules {
            mods.push((p.clone(), c.clone(), read(p, ram_size, &limit)?));
        }
        let image = MultibootImage::parse(kernel, &data, cmdline, mods)?;
        Ok(Image {
            path: kernel.to_owned(),
            data: Arc::from([]),
            kind: Kind::Multiboot(Box::new(image)),
        })
    }

    /// A firmware ROM (BIOS), entered at the reset vector F000:FFF0.
    pub fn rom(path: &Path) -> Result<Image, LoadError> {
        let data = match read(path, MAX_ROM as u64, "a ROM image may hold") {
            Err(LoadError::TooLarge { len: Some(len), .. }) => {
                return Err(LoadError::RomSize {
                    path: path.to_owned(),
                    len,
                })
            }
            r => r?,
        };
        if !data.len().is_multiple_of(2048) {
            return Err(LoadError::RomSize {
                path: path.to_owned(),
                len: data.len() as u64,
            });
        }
        Ok(Image {
            path: path.to_owned(),
            data: data.into(),
            kind: Kind::Rom,
        })
    }

    /// Firmware for a PC with shadow RAM (SeaBIOS, Bochs's BIOS): the whole
    /// image read-only at the top of 4 GiB, where the CPU starts, and its
    /// last 128 KiB copied into the RAM just below 1 MiB, which the firmware
    /// may write as a chipset's shadow RAM lets it. `vga`, a VGA BIOS, is
    /// handed to the firmware as the `fw_cfg` file `vgaroms/NAME`, where
    /// SeaBIOS looks for it.
    pub fn bios(path: &Path, vga: Option<&Path>) -> Result<Image, LoadError> {
        let rom = Image::rom(path)?;
        let vga = match vga {
            Some(p) => {
                let data = read(p, LOW_ROM_WINDOW as u64, "an option ROM may hold")?;
                if data.len() > LOW_ROM_WINDOW || data.len() < 512 || data[..2] != [0x55, 0xAA] {
                    return Err(LoadError::BadOptionRom {
                        path: p.to_owned(),
                        len: data.len() as u64,
                    });
                }
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                Some((name, data.into()))
            }
            None => None,
        };
        Ok(Image {
            kind: Kind::Bios { vga },
            ..rom
        })
    }

    /// An option ROM (a VGA BIOS, a boot ROM) copied into the RAM at `addr`
    /// in 0xC0000-0xEFFFF, 2 KiB aligned, where a BIOS's scan for `55 aa`
    /// finds it: 512 bytes to 128 KiB, starting with `55 aa`.
    pub fn option_rom(path: &Path, addr: u32) -> Result<Image, LoadError> {
        let data = read(path, LOW_ROM_WINDOW as u64, "an option ROM may hold")?;
        if data.len() > LOW_ROM_WINDOW || data.len() < 512 || data[..2] != [0x55, 0xAA] {
            return Err(LoadError::BadOptionRom {
                path: path.to_owned(),
                len: data.len() as u64,
            });
        }
        let end = u64::from(addr) + data.len() as u64;
        if !(OPTION_ROM_START..OPTION_ROM_END).contains(&addr)
            || !addr.is_multiple_of(2048)
            || end > u64::from(OPTION_ROM_END)
        {
            return Err(LoadError::OptionRomPlace {
                path: path.to_owned(),
                addr,
                end,
            });
        }
        Ok(Image {
            path: path.to_owned(),
            data: data.into(),
            kind: Kind::OptionRom { addr },
        })
    }

    /// Where an option ROM ends (2 KiB aligned), if this is one.
    pub fn option_rom_end(&self) -> Option<u32> {
        match self.kind {
            Kind::OptionRom { addr } => {
                Some(addr + (self.data.len() as u32).next_multiple_of(2048))
            }
            _ => None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A one-line description for listings ("raw 'x.bin' at 0x1000").
    pub fn describe(&self) -> String {
        let p = self.path.display();
        match &self.kind {
            Kind::Raw { addr, .. } => format!("raw '{p}' at 0x{addr:x}"),
            Kind::Rom => format!("rom '{p}'"),
            Kind::OptionRom { addr } => format!("option rom '{p}' at 0x{addr:x}"),
            Kind::Bios { vga: None } => format!("bios '{p}'"),
            Kind::Bios {
                vga: Some((name, _)),
            } => format!("bios '{p}' with vgaroms/{name}"),
            Kind::BootSector => format!("boot sector '{p}'"),
            Kind::Linux(_) => format!("linux '{p}'"),
            Kind::Multiboot(_) => format!("multiboot '{p}'"),
        }
    }

    fn mem_err(&self, source: MemError) -> LoadError {
        if let MemError::OutOfRange {
            addr,
            len,
            ram_size,
        } = source
        {
            return LoadError::DoesNotFit {
                path: self.path.clone(),
                len,
                addr,
                ram_size,
            };
        }
        LoadError::Memory {
            path: self.path.clone(),
            source,
        }
    }

    /// Checks that the image fits `m` without changing anything.
    pub fn check(&self, m: &Machine) -> Result<(), LoadError> {
        let ram = m.board.mem.ram_size();
        let (addr, len) = match self.kind {
            Kind::Raw { addr, .. } => (u64::from(addr), self.data.len() as u64),
            Kind::BootSector => (u64::from(BOOT_SECTOR_ADDR), 512),
            Kind::Rom => return Ok(()),
            Kind::OptionRom { addr } => (u64::from(addr), self.data.len() as u64),
            Kind::Bios { .. } => {
                let low = self.data.len().min(LOW_ROM_WINDOW) as u64;
                (0x10_0000 - low, low)
            }
            Kind::Linux(ref l) => return l.check(ram),
            Kind::Multiboot(ref mb) => return mb.check(ram),
        };
        if addr + len > ram {
            return Err(self.mem_err(MemError::OutOfRange {
                addr,
                len,
                ram_size: ram,
            }));
        }
        Ok(())
    }

    /// Maps a firmware image read-only at the top of the 4 GiB space, where
    /// the CPU starts; returns the part a PC also shows below 1 MiB (its
    /// last 128 KiB at most).
    fn map_at_top(&self, m: &mut Machine) -> Result<&[u8], LoadError> {
        let len = self.data.len();
        let top = (1u64 << 32) - len as u64;
        m.board
            .mem
            .map_rom(top as u32, self.data.clone())
            .map_err(|e| self.mem_err(e))?;
        Ok(&self.data[len - len.min(LOW_ROM_WINDOW)..])
    }

    /// Copies the image into `m` and sets its entry point.
    pub fn apply(&self, m: &mut Machine) -> Result<(), LoadError> {
        self.check(m)?;
        match &self.kind {
            Kind::Linux(l) if l.via_firmware => l.apply_via_firmware(m)?,
            Kind::Linux(l) => l.apply(m)?,
            Kind::Multiboot(mb) => mb.apply(m)?,
            &Kind::Raw { addr, entry } => {
                m.board
                    .mem
                    .write_bytes(u64::from(addr), &self.data)
                    .map_err(|e| self.mem_err(e))?;
                if let Some(Entry { cs, ip }) = entry {
                    m.cpu.load_segment_real(SegReg::Cs, cs);
                    m.cpu.set_eip(ip);
                }
            }
            Kind::BootSector => {
                m.board
                    .mem
                    .write_bytes(u64::from(BOOT_SECTOR_ADDR), &self.data)
                    .map_err(|e| self.mem_err(e))?;
                for seg in [SegReg::Cs, SegReg::Ds, SegReg::Es, SegReg::Ss] {
                    m.cpu.load_segment_real(seg, 0);
                }
                m.cpu.set_eip(BOOT_SECTOR_ADDR);
                m.cpu.set_gpr(Gpr::Esp, BOOT_SECTOR_ADDR);
                m.cpu.set_gpr(Gpr::Edx, 0x80);
            }
            Kind::Rom => {
                let low = self.map_at_top(m)?;
                m.board
                    .mem
                    .map_rom((0x10_0000 - low.len()) as u32, low.into())
                    .map_err(|e| self.mem_err(e))?;
                m.cpu.reset();
            }
            &Kind::OptionRom { addr } => {
                m.board
                    .mem
                    .write_bytes(u64::from(addr), &self.data)
                    .map_err(|e| self.mem_err(e))?;
            }
            Kind::Bios { vga } => {
                // The shadow copy is RAM the firmware may write.
                let low = self.map_at_top(m)?;
                m.board
                    .mem
                    .write_bytes((0x10_0000 - low.len()) as u64, low)
                    .map_err(|e| self.mem_err(e))?;
                if let Some((name, rom)) = vga {
                    m.add_firmware_file(&format!("vgaroms/{name}"), rom.clone());
                }
                m.cpu.reset();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A 6 GiB sparse file (no disk blocks, nothing to read quickly).
    fn huge(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("moon86-loader-{name}-{}", std::process::id()));
        std::fs::File::create(&p)
            .and_then(|f| f.set_len(6 << 30))
            .unwrap();
        p
    }

    /// `f` fails fast with a message naming the file, its size and `limit`.
    fn refused_unread(p: &Path, limit: &str, f: impl FnOnce() -> Result<Image, LoadError>) {
        let t = Instant::now();
        let e = f().unwrap_err().to_string();
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "took {:?}",
            t.elapsed()
        );
        assert!(e.contains(&format!("'{}'", p.display())), "{e}");
        assert!(e.contains(&(6u64 << 30).to_string()), "{e}");
        assert!(e.contains(limit), "{e}");
    }

    #[test]
    fn oversized_inputs_are_refused_from_their_size() {
        let p = huge("big");
        let small = huge("small");
        std::fs::File::create(&small)
            .unwrap()
            .set_len(4096)
            .unwrap();
        let ram = 16 << 20;
        refused_unread(&p, "a boot sector is exactly 512 bytes", || {
            Image::boot_sector(&p)
        });
        refused_unread(&p, "at most 16 MiB", || Image::rom(&p));
        refused_unread(
            &p,
            "does not fit in RAM: it would end at 0x180001000, RAM is 16777216 bytes",
            || Image::raw(&p, 0x1000, None, ram),
        );
        refused_unread(&p, "more than the 16777216 bytes of this VM's RAM", || {
            Image::linux(&p, None, "", ram)
        });
        refused_unread(&p, "more than the 16777216 bytes of this VM's RAM", || {
            Image::linux(&small, Some(&p), "", ram)
        });
        refused_unread(&p, "more than the 16777216 bytes of this VM's RAM", || {
            Image::multiboot(&p, "", &[], ram)
        });
        refused_unread(&p, "more than the 16777216 bytes of this VM's RAM", || {
            Image::multiboot(&small, "", &[(p.clone(), String::new())], ram)
        });
        // One byte past the limit is refused too; the limit itself is read.
        std::fs::File::create(&small)
            .unwrap()
            .set_len(ram - 0x1000 + 1)
            .unwrap();
        let e = Image::raw(&small, 0x1000, None, ram).unwrap_err();
        assert!(matches!(e, LoadError::DoesNotFit { .. }), "{e}");
        std::fs::File::create(&small)
            .unwrap()
            .set_len(ram - 0x1000)
            .unwrap();
        Image::raw(&small, 0x1000, None, ram).unwrap();
        std::fs::remove_file(&p).unwrap();
        std::fs::remove_file(&small).unwrap();
    }

    #[test]
    fn a_stream_is_read_no_further_than_the_limit() {
        let t = Instant::now();
        let e = Image::rom(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "took {:?}",
            t.elapsed()
        );
        assert_eq!(
            e,
            "'/dev/zero' holds more than the 16777216 bytes a ROM image may hold (reading stopped there)"
        );
    }
}
