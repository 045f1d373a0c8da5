//! The Linux 32-bit boot protocol (Documentation/arch/x86/boot.rst): a
//! bzImage's protected-mode kernel at 1 MiB, an initrd as high as the kernel
//! allows, a command line, and a zero page (`struct boot_params`) with the
//! setup header copied in and an e820 map; entry at `code32_start` in flat
//! protected mode with ESI pointing at the zero page.

use super::e820::memory_map;
use super::flat::enter_flat;
use super::LoadError;
use crate::cpu::Gpr;
use crate::machine::Machine;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the zero page, the command line and the kernel go.
pub const ZERO_PAGE: u32 = 0x7000;
pub const CMDLINE_ADDR: u32 = 0x2_0000;
pub const KERNEL_ADDR: u32 = 0x10_0000;

// Offsets in the bzImage's setup header and in boot_params.
const SETUP_SECTS: usize = 0x1F1;
const SYSSIZE: usize = 0x1F4;
const BOOT_FLAG: usize = 0x1FE;
const JUMP: usize = 0x200;
const HEADER: usize = 0x202;
const VERSION: usize = 0x206;
const TYPE_OF_LOADER: usize = 0x210;
const LOADFLAGS: usize = 0x211;
const CODE32_START: usize = 0x214;
const RAMDISK_IMAGE: usize = 0x218;
const RAMDISK_SIZE: usize = 0x21C;
const HEAP_END_PTR: usize = 0x224;
const CMD_LINE_PTR: usize = 0x228;
const INITRD_ADDR_MAX: usize = 0x22C;
const CMDLINE_SIZE: usize = 0x238;
const EXT_MEM_K: usize = 0x002;
const ORIG_VIDEO_MODE: usize = 0x006;
const ORIG_VIDEO_COLS: usize = 0x007;
const ORIG_VIDEO_LINES: usize = 0x00E;
const ORIG_VIDEO_IS_VGA: usize = 0x00F;
const ALT_MEM_K: usize = 0x1E0;
const E820_ENTRIES: usize = 0x1E8;
const E820_TABLE: usize = 0x2D0;
const E820_MAX: usize = 128;

const LOADED_HIGH: u8 = 0x01;
const CAN_USE_HEAP: u8 = 0x80;

/// Where the real-mode setup code goes when the firmware loads the kernel.
pub const FIRMWARE_SETUP_ADDR: u32 = 0x1_0000;

/// moon86's Linux loader option ROM (guests/linuxboot/linuxboot.S), which
/// the firmware runs to copy the kernel from fw_cfg and enter it.
const LINUXBOOT_ROM: &[u8] = include_bytes!("../../../guests/linuxboot/linuxboot.bin");
/// Its fw_cfg name; the `bootorder` file puts it first.
pub const LINUXBOOT_NAME: &str = "genroms/linuxboot.bin";

/// A parsed bzImage with its initrd and command line, ready to put into a machine.
#[derive(Clone, Debug)]
pub struct LinuxImage {
    pub kernel_path: PathBuf,
    /// The setup sectors (boot sector included): the header is copied from here.
    setup: Arc<[u8]>,
    /// The protected-mode kernel, loaded at 1 MiB.
    kernel: Arc<[u8]>,
    initrd: Option<(PathBuf, Arc<[u8]>)>,
    cmdline: String,
    version: u16,
    initrd_addr_max: u32,
    /// Handed to the firmware through fw_cfg (`apply_via_firmware`)
    /// instead of entered directly.
    pub via_firmware: bool,
}

fn u16_at(d: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([d[o], d[o + 1]])
}
fn u32_at(d: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]])
}
fn put_u16(d: &mut [u8], o: usize, v: u16) {
    d[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(d: &mut [u8], o: usize, v: u32) {
    d[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

impl LinuxImage {
    /// Parses and validates a bzImage (protocol 2.02 or later).
    pub fn parse(
        path: &Path,
        data: &[u8],
        initrd: Option<(PathBuf, Vec<u8>)>,
        cmdline: &str,
    ) -> Result<LinuxImage, LoadError> {
        let bad = |reason: String| LoadError::BadKernel {
            path: path.to_owned(),
            reason,
        };
        if data.len() < 0x250 {
            return Err(bad(format!(
                "{} bytes is too short for a Linux setup header",
                data.len()
            )));
        }
        if &data[HEADER..HEADER + 4] != b"HdrS" || u16_at(data, BOOT_FLAG) != 0xAA55 {
            return Err(bad("not a Linux bzImage (no \"HdrS\" setup header)".into()));
        }
        let version = u16_at(data, VERSION);
        if version < 0x0202 {
            return Err(bad(format!(
                "boot protocol {}.{:02} is too old (2.02 or later is needed)",
                version >> 8,
                version & 0xFF
            )));
        }
        if data[LOADFLAGS] & LOADED_HIGH == 0 {
            return Err(bad(
                "a zImage (loaded low) is not supported; use a bzImage".into()
            ));
        }
        let sects = match data[SETUP_SECTS] {
            0 => 4,
            n => usize::from(n),
        };
        let setup_len = (sects + 1) * 512;
        if data.len() <= setup_len {
            return Err(bad(format!(
                "truncated: the setup code claims {setup_len} bytes but the file has {}",
                data.len()
            )));
        }
        // The protected-mode kernel's length the header promises, in
        // 16-byte paragraphs, rounded up (memtest86+'s file ends 8 bytes
        // before its last paragraph). Before protocol 2.04 the field is 16
        // bits and cannot be trusted for a bzImage, so it is not checked.
        let syssize = if version >= 0x0204 {
            u32_at(data, SYSSIZE)
        } else {
            0
        };
        let promised = setup_len as u64 + u64::from(syssize) * 16;
        if (data.len() as u64 + 15) < promised {
            return Err(bad(format!(
                "truncated or damaged: its header promises {promised} bytes ({setup_len} of setup code from setup_sects = {}, then a {}-byte protected-mode kernel from syssize = 0x{syssize:x}), but the file holds {}",
                data[SETUP_SECTS],
                u64::from(syssize) * 16,
                data.len()
            )));
        }
        let initrd_addr_max = if version >= 0x0203 {
            u32_at(data, INITRD_ADDR_MAX)
        } else {
            0x37FF_FFFF
        };
        let cmdline_size = if version >= 0x0206 {
            u32_at(data, CMDLINE_SIZE)
        } else {
            255
        };
        if cmdline.len() as u64 > u64::from(cmdline_size) {
            return Err(bad(format!(
                "the command line is {} bytes; this kernel accepts at most {cmdline_size}",
                cmdline.len()
            )));
        }
        if cmdline.contains('\0') {
            return Err(bad("the command line contains a NUL byte".into()));
        }
        Ok(LinuxImage {
            kernel_path: path.to_owned(),
            setup: data[..setup_len].into(),
            kernel: data[setup_len..].into(),
            initrd: initrd.map(|(p, d)| (p, d.into())),
            cmdline: cmdline.to_owned(),
            version,
            initrd_addr_max,
            via_firmware: false,
        })
    }

    /// The protocol version, as "2.15".
    pub fn protocol(&self) -> String {
        format!("{}.{:02}", self.version >> 8, self.version & 0xFF)
    }

    /// Where the initrd goes in a machine with `ram_size` bytes: page-aligned,
    /// as high as the kernel allows, above the kernel.
    fn initrd_addr(&self, ram_size: u64) -> Result<Option<u64>, LoadError> {
        let Some((path, data)) = &self.initrd else {
            return Ok(None);
        };
        let len = data.len() as u64;
        let addr_max = u64::from(self.initrd_addr_max);
        let top = ram_size.min(addr_max + 1);
        let kernel_end = u64::from(KERNEL_ADDR) + self.kernel.len() as u64;
        let addr = top.checked_sub(len).map(|a| a & !0xFFF);
        match addr {
            Some(a) if a >= kernel_end => Ok(Some(a)),
            _ => Err(LoadError::InitrdDoesNotFit {
                path: path.clone(),
                len,
                kernel_end,
                top,
                why: if addr_max < ram_size {
                    format!(
                        "the highest address the kernel accepts for an initrd (its header's initrd_addr_max is 0x{addr_max:x}; RAM is {ram_size} bytes)"
                    )
                } else {
                    format!("the end of RAM ({ram_size} bytes)")
                },
            }),
        }
    }

    /// Checks the kernel and initrd fit a machine with `ram_size` bytes.
    pub fn check(&self, ram_size: u64) -> Result<(), LoadError> {
        let end = u64::from(KERNEL_ADDR) + self.kernel.len() as u64;
        if end > ram_size {
            return Err(LoadError::DoesNotFit {
                path: self.kernel_path.clone(),
                len: self.kernel.len() as u64,
                addr: u64::from(KERNEL_ADDR),
                ram_size,
            });
        }
        self.initrd_addr(ram_size).map(|_| ())
    }

    /// Builds the zero page for a machine with `ram_size` bytes.
    fn zero_page(&self, ram_size: u64, initrd: Option<(u64, u64)>) -> Vec<u8> {
        let mut zp = vec![0u8; 4096];
        // The setup header: from 0x1F1 to the end its jump instruction gives.
        let header_end =
            (JUMP + 2 + usize::from(self.setup[JUMP + 1])).min(self.setup.len().min(4096));
        zp[SETUP_SECTS..header_end].copy_from_slice(&self.setup[SETUP_SECTS..header_end]);
        zp[TYPE_OF_LOADER] = 0xFF;
        zp[LOADFLAGS] |= CAN_USE_HEAP;
        put_u16(&mut zp, HEAP_END_PTR, 0xFE00);
        put_u32(&mut zp, CODE32_START, KERNEL_ADDR);
        put_u32(&mut zp, CMD_LINE_PTR, CMDLINE_ADDR);
        if let Some((addr, len)) = initrd {
            put_u32(&mut zp, RAMDISK_IMAGE, addr as u32);
            put_u32(&mut zp, RAMDISK_SIZE, len as u32);
        }
        // 80x25 colour VGA text.
        zp[ORIG_VIDEO_MODE] = 3;
        zp[ORIG_VIDEO_COLS] = 80;
        zp[ORIG_VIDEO_LINES] = 25;
        zp[ORIG_VIDEO_IS_VGA] = 1;
        let ext_k = ram_size.saturating_sub(0x10_0000) / 1024;
        put_u16(&mut zp, EXT_MEM_K, ext_k.min(0xFFFF) as u16);
        put_u32(&mut zp, ALT_MEM_K, ext_k.min(u64::from(u32::MAX)) as u32);
        let map = memory_map(ram_size);
        zp[E820_ENTRIES] = map.len().min(E820_MAX) as u8;
        for (i, r) in map.iter().take(E820_MAX).enumerate() {
            let o = E820_TABLE + i * 20;
            zp[o..o + 8].copy_from_slice(&r.base.to_le_bytes());
            zp[o + 8..o + 16].copy_from_slice(&r.len.to_le_bytes());
            zp[o + 16..o + 20].copy_from_slice(&r.kind.to_le_bytes());
        }
        zp
    }

    /// Hands the kernel to the firmware, as QEMU's `-kernel` does with a
    /// BIOS: the setup code (its header patched for where things go, as a
    /// boot loader would), the kernel, the command line and the initrd as
    /// fw_cfg items with their addresses, and the Linux loader option ROM
    /// as `genroms/linuxboot.bin`, first in the `bootorder` file. The BIOS
    /// POSTs, runs the ROM as its first boot device, and the ROM enters
    /// the setup code in real mode. RAM is not touched here.
    pub fn apply_via_firmware(&self, m: &mut Machine) -> Result<(), LoadError> {
        use crate::devices::fw_cfg_key as key;
        let ram = m.board.mem.ram_size();
        self.check(ram)?;
        let initrd = self.initrd_addr(ram)?;
        let mut setup = self.setup.to_vec();
        setup[TYPE_OF_LOADER] = 0xFF;
        setup[LOADFLAGS] |= CAN_USE_HEAP;
        // The heap ends 512 bytes below the command line (offsets from the
        // setup code's start).
        put_u16(
            &mut setup,
            HEAP_END_PTR,
            (CMDLINE_ADDR - FIRMWARE_SETUP_ADDR - 0x200) as u16,
        );
        put_u32(&mut setup, CMD_LINE_PTR, CMDLINE_ADDR);
        let initrd_data: Arc<[u8]> = match (&self.initrd, initrd) {
            (Some((_, data)), Some(addr)) => {
                put_u32(&mut setup, RAMDISK_IMAGE, addr as u32);
                put_u32(&mut setup, RAMDISK_SIZE, data.len() as u32);
                data.clone()
            }
            _ => Arc::from([]),
        };
        let mut cmdline = self.cmdline.as_bytes().to_vec();
        cmdline.push(0);
        let le = |v: u64| (v as u32).to_le_bytes().to_vec();
        let items = Arc::make_mut(&mut m.board.io.fw_cfg.items);
        items.set(key::SETUP_ADDR, le(FIRMWARE_SETUP_ADDR.into()));
        items.set(key::SETUP_SIZE, le(setup.len() as u64));
        items.set(key::SETUP_DATA, setup);
        items.set(key::KERNEL_ADDR, le(KERNEL_ADDR.into()));
        items.set(key::KERNEL_SIZE, le(self.kernel.len() as u64));
        items.set(key::KERNEL_DATA, self.kernel.clone());
        items.set(key::CMDLINE_ADDR, le(CMDLINE_ADDR.into()));
        items.set(key::CMDLINE_SIZE, le(cmdline.len() as u64));
        items.set(key::CMDLINE_DATA, cmdline);
        items.set(key::INITRD_ADDR, le(initrd.unwrap_or(0)));
        items.set(key::INITRD_SIZE, le(initrd_data.len() as u64));
        items.set(key::INITRD_DATA, initrd_data);
        let mut rom = LINUXBOOT_ROM.to_vec();
        let last = rom.len() - 1;
        let sum = rom[..last].iter().fold(0u8, |s, b| s.wrapping_add(*b));
        rom[last] = sum.wrapping_neg();
        m.add_firmware_file(LINUXBOOT_NAME, rom);
        m.add_firmware_file("bootorder", format!("/rom@{LINUXBOOT_NAME}\n").into_bytes());
        Ok(())
    }

    /// Puts kernel, initrd, command line and zero page into `m` and sets the
    /// CPU at the 32-bit entry point. Nothing is written unless all of it fits.
    pub fn apply(&self, m: &mut Machine) -> Result<(), LoadError> {
        let ram = m.board.mem.ram_size();
        self.check(ram)?;
        let initrd = self.initrd_addr(ram)?;
        let mem_err = |source| LoadError::Memory {
            path: self.kernel_path.clone(),
            source,
        };
        let mem = &mut m.board.mem;
        mem.write_bytes(u64::from(KERNEL_ADDR), &self.kernel)
            .map_err(mem_err)?;
        let mut initrd_range = None;
        if let (Some(addr), Some((_, data))) = (initrd, &self.initrd) {
            mem.write_bytes(addr, data).map_err(mem_err)?;
            initrd_range = Some((addr, data.len() as u64));
        }
        let mut cmdline = self.cmdline.as_bytes().to_vec();
        cmdline.push(0);
        mem.write_bytes(u64::from(CMDLINE_ADDR), &cmdline)
            .map_err(mem_err)?;
        mem.write_bytes(u64::from(ZERO_PAGE), &self.zero_page(ram, initrd_range))
            .map_err(mem_err)?;
        // The protected-mode kernel is always put at 1 MiB; enter it there.
        enter_flat(&mut m.cpu, mem, KERNEL_ADDR).map_err(mem_err)?;
        super::firmware_state::leave_as_firmware_does(m);
        for r in [Gpr::Eax, Gpr::Ebx, Gpr::Ecx, Gpr::Edx, Gpr::Ebp, Gpr::Edi] {
            m.cpu.set_gpr(r, 0);
        }
        m.cpu.set_gpr(Gpr::Esi, ZERO_PAGE);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal bzImage: 4 setup sectors plus a protected-mode part.
    fn bzimage(version: u16, pm_len: usize) -> Vec<u8> {
        let mut d = vec![0u8; 5 * 512 + pm_len];
        d[SETUP_SECTS] = 4;
        put_u16(&mut d, BOOT_FLAG, 0xAA55);
        d[JUMP] = 0xEB;
        d[JUMP + 1] = 0x66; // header runs to 0x268
        d[HEADER..HEADER + 4].copy_from_slice(b"HdrS");
        put_u16(&mut d, VERSION, version);
        d[LOADFLAGS] = LOADED_HIGH;
        put_u32(&mut d, CODE32_START, KERNEL_ADDR);
        put_u32(&mut d, INITRD_ADDR_MAX, 0x37FF_FFFF);
        put_u32(&mut d, CMDLINE_SIZE, 2048);
        put_u32(&mut d, SYSSIZE, pm_len.div_ceil(16) as u32);
        d
    }

    #[test]
    fn a_file_shorter_than_its_header_promises_is_refused() {
        let p = Path::new("k");
        let full = bzimage(0x020F, 2 << 20);
        let total = full.len();
        let promise = format!(
            "its header promises {total} bytes (2560 of setup code from setup_sects = 4, then a 2097152-byte protected-mode kernel from syssize = 0x20000)"
        );
        for cut in [1 << 20, total / 2, total - 16] {
            let e = LinuxImage::parse(p, &full[..cut], None, "").unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("'k': truncated or damaged: {promise}, but the file holds {cut}")
            );
        }
        let mut d = full.clone();
        d[SETUP_SECTS] = 255;
        let e = LinuxImage::parse(p, &d, None, "").unwrap_err().to_string();
        assert!(
            e.contains(&format!("promises {} bytes (131072 of setup code from setup_sects = 255, then a 2097152-byte protected-mode kernel", 131072 + (2 << 20))),
            "{e}"
        );
        assert!(e.ends_with(&format!("but the file holds {total}")), "{e}");
        // The last paragraph may be partial; a file longer than promised (a
        // signature appended) is fine too.
        LinuxImage::parse(p, &full[..total - 15], None, "").unwrap();
        let mut d = full;
        d.extend_from_slice(&[0; 1472]);
        LinuxImage::parse(p, &d, None, "").unwrap();
    }

    #[test]
    fn an_initrd_above_initrd_addr_max_says_so() {
        let mut d = bzimage(0x020F, 4096);
        put_u32(&mut d, INITRD_ADDR_MAX, 0x1000);
        let img = LinuxImage::parse(
            Path::new("k"),
            &d,
            Some((PathBuf::from("i"), vec![0; 64])),
            "",
        )
        .unwrap();
        let e = img.check(16 << 20).unwrap_err().to_string();
        assert_eq!(
            e,
            "initrd 'i' (64 bytes) does not fit between the kernel's end at 0x101000 and 0x1001, the highest address the kernel accepts for an initrd (its header's initrd_addr_max is 0x1000; RAM is 16777216 bytes)"
        );
        assert!(!e.contains("RAM is 4097"), "{e}");
    }

    #[test]
    fn rejects_what_is_not_a_bzimage() {
        let p = Path::new("k");
        let short = LinuxImage::parse(p, &[0; 100], None, "").unwrap_err();
        assert!(short.to_string().contains("too short"), "{short}");
        let mut d = bzimage(0x020F, 16);
        d[HEADER] = b'X';
        let e = LinuxImage::parse(p, &d, None, "").unwrap_err();
        assert!(e.to_string().contains("not a Linux bzImage"), "{e}");
        let e = LinuxImage::parse(p, &bzimage(0x0201, 16), None, "").unwrap_err();
        assert!(e.to_string().contains("2.01 is too old"), "{e}");
        let e = LinuxImage::parse(p, &bzimage(0x020F, 0), None, "").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let long = "x".repeat(3000);
        let e = LinuxImage::parse(p, &bzimage(0x020F, 16), None, &long).unwrap_err();
        assert!(e.to_string().contains("at most 2048"), "{e}");
    }

    #[test]
    fn zero_page_carries_header_cmdline_initrd_and_e820() {
        let img = LinuxImage::parse(
            Path::new("k"),
            &bzimage(0x020F, 4096),
            Some((PathBuf::from("i"), vec![7; 10000])),
            "console=ttyS0",
        )
        .unwrap();
        let ram = 64 << 20;
        let initrd = img.initrd_addr(ram).unwrap().unwrap();
        assert_eq!(initrd % 4096, 0);
        assert!(initrd + 10000 <= ram && initrd > 0x10_0000);
        let zp = img.zero_page(ram, Some((initrd, 10000)));
        assert_eq!(&zp[HEADER..HEADER + 4], b"HdrS");
        assert_eq!(zp[TYPE_OF_LOADER], 0xFF);
        assert_eq!(u32_at(&zp, CMD_LINE_PTR), CMDLINE_ADDR);
        assert_eq!(u32_at(&zp, RAMDISK_IMAGE) as u64, initrd);
        assert_eq!(u32_at(&zp, RAMDISK_SIZE), 10000);
        assert_eq!(zp[E820_ENTRIES], 4);
        let last = E820_TABLE + 3 * 20;
        assert_eq!(
            u64::from_le_bytes(zp[last..last + 8].try_into().unwrap()),
            0x10_0000
        );
        assert_eq!(
            u64::from_le_bytes(zp[last + 8..last + 16].try_into().unwrap()),
            ram - 0x10_0000
        );
    }

    #[test]
    fn initrd_that_cannot_fit_is_an_error() {
        let img = LinuxImage::parse(
            Path::new("k"),
            &bzimage(0x020F, 4096),
            Some((PathBuf::from("big.img"), vec![0; 3 << 20])),
            "",
        )
        .unwrap();
        let e = img.check(2 << 20).unwrap_err();
        assert!(e.to_string().contains("'big.img'"), "{e}");
        assert!(
            e.to_string().ends_with("the end of RAM (2097152 bytes)"),
            "{e}"
        );
    }
}
