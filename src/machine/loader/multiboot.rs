//! Multiboot (version 1) kernels: the header in the first 8 KiB, an ELF32
//! image's `PT_LOAD` segments (or the header's load addresses when flag 16 is
//! set), modules page-aligned after the kernel, and the Multiboot information
//! structure (memory sizes, memory map, command line, modules, loader name);
//! entry in flat protected mode with EAX = 0x2BADB002 and EBX pointing at the
//! information structure.

use super::e820::memory_map;
use super::flat::enter_flat;
use super::LoadError;
use crate::cpu::Gpr;
use crate::machine::Machine;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: u32 = 0x1BAD_B002;
const BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;
const SEARCH: usize = 8192;
const FLAG_VIDEO_MODE: u32 = 1 << 2;
const FLAG_ADDRESSES: u32 = 1 << 16;
/// Flags in the low 16 bits a loader must honour or refuse: page-aligned
/// modules (always done) and memory information (always given).
const KNOWN_REQUIRED: u32 = 0b11;

/// Where the information structure and its strings go (conventional memory).
const INFO_ADDR: u32 = 0x9000;
const INFO_AREA_END: u32 = 0x9_0000;

/// One loaded piece: bytes at a physical address, then `zero` bytes of BSS.
#[derive(Clone, Debug)]
struct Segment {
    addr: u32,
    data: Arc<[u8]>,
    zero: u32,
}

impl Segment {
    fn end(&self) -> u64 {
        u64::from(self.addr) + self.data.len() as u64 + u64::from(self.zero)
    }
}

/// A parsed Multiboot kernel with its modules, ready to put into a machine.
#[derive(Clone, Debug)]
pub struct MultibootImage {
    pub kernel_path: PathBuf,
    segments: Vec<Segment>,
    entry: u32,
    cmdline: String,
    modules: Vec<(PathBuf, String, Arc<[u8]>)>,
}

fn u16_at(d: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(d: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(o..o + 4)?.try_into().ok()?))
}

impl MultibootImage {
    /// Parses and validates a Multiboot kernel; `modules` are (path, command line, bytes).
    pub fn parse(
        path: &Path,
        data: &[u8],
        cmdline: &str,
        modules: Vec<(PathBuf, String, Vec<u8>)>,
    ) -> Result<MultibootImage, LoadError> {
        let bad = |reason: String| LoadError::BadKernel {
            path: path.to_owned(),
            reason,
        };
        let window = &data[..data.len().min(SEARCH)];
        let header = (0..window.len().saturating_sub(11))
            .step_by(4)
            .find(|&o| u32_at(window, o) == Some(MAGIC))
            .ok_or_else(|| {
                bad("no Multiboot header (magic 0x1BADB002) in the first 8 KiB".into())
            })?;
        let flags = u32_at(data, header + 4).unwrap_or(0);
        let checksum = u32_at(data, header + 8).unwrap_or(0);
        if MAGIC.wrapping_add(flags).wrapping_add(checksum) != 0 {
            return Err(bad(format!(
                "the Multiboot header at offset 0x{header:x} has a bad checksum"
            )));
        }
        if flags & 0xFFFF & !KNOWN_REQUIRED & !FLAG_VIDEO_MODE != 0 {
            return Err(bad(format!(
                "the kernel requires Multiboot features moon86 does not provide (flags 0x{flags:x})"
            )));
        }
        let (segments, entry) = if flags & FLAG_ADDRESSES != 0 {
            Self::aout_kludge(data, header).map_err(bad)?
        } else {
            Self::elf(data).map_err(bad)?
        };
        let mut sorted: Vec<&Segment> = segments.iter().collect();
        sorted.sort_by_key(|s| s.addr);
        for pair in sorted.windows(2) {
            if u64::from(pair[1].addr) < pair[0].end() {
                return Err(bad(format!(
                    "segments overlap: 0x{:x}..0x{:x} and 0x{:x}..0x{:x}",
                    pair[0].addr,
                    pair[0].end(),
                    pair[1].addr,
                    pair[1].end()
                )));
            }
        }
        if cmdline.contains('\0') {
            return Err(bad("the command line contains a NUL byte".into()));
        }
        Ok(MultibootImage {
            kernel_path: path.to_owned(),
            segments,
            entry,
            cmdline: cmdline.to_owned(),
            modules: modules
                .into_iter()
                .map(|(p, c, d)| (p, c, d.into()))
                .collect(),
        })
    }

    /// The header's load addresses (flag 16): file bytes from `load_addr`.
    fn aout_kludge(data: &[u8], header: usize) -> Result<(Vec<Segment>, u32), String> {
        let f = |i: usize| u32_at(data, header + 12 + 4 * i).ok_or("truncated Multiboot header");
        let (header_addr, load_addr, load_end, bss_end, entry) =
            (f(0)?, f(1)?, f(2)?, f(3)?, f(4)?);
        if load_addr > header_addr {
            return Err("load_addr is above header_addr".into());
        }
        let start = (header as u64)
            .checked_sub(u64::from(header_addr - load_addr))
            .ok_or("load_addr lies before the file")?;
        let len = if load_end == 0 {
            data.len() as u64 - start
        } else {
            u64::from(
                load_end
                    .checked_sub(load_addr)
                    .ok_or("load_end_addr is below load_addr")?,
            )
        };
        let end = start + len;
        if end > data.len() as u64 {
            return Err(format!(
                "truncated: the header asks for {len} bytes from offset 0x{start:x}"
            ));
        }
        let zero = if bss_end == 0 {
            0
        } else {
            bss_end.saturating_sub(load_addr + len as u32)
        };
        let seg = Segment {
            addr: load_addr,
            data: data[start as usize..end as usize].into(),
            zero,
        };
        Ok((vec![seg], entry))
    }

    /// An ELF32 i386 executable's loadable segments (physical addresses).
    fn elf(data: &[u8]) -> Result<(Vec<Segment>, u32), String> {
        if data.get(..4) != Some(b"\x7FELF") {
            return Err("not an ELF file and the Multiboot header gives no load addresses".into());
        }
        if data.get(4) != Some(&1) || data.get(5) != Some(&1) {
            return Err("not a 32-bit little-endian ELF file".into());
        }
        let trunc = || "truncated ELF header".to_string();
        if u16_at(data, 18).ok_or_else(trunc)? != 3 {
            return Err("not an i386 ELF file".into());
        }
        let entry = u32_at(data, 24).ok_or_else(trunc)?;
        let phoff = u32_at(data, 28).ok_or_else(trunc)? as usize;
        let phentsize = u16_at(data, 42).ok_or_else(trunc)? as usize;
        let phnum = u16_at(data, 44).ok_or_else(trunc)? as usize;
        if phentsize < 32 {
            return Err(format!(
                "program header entries of {phentsize} bytes are too small"
            ));
        }
        let mut segments = Vec::new();
        let mut entry_phys = None;
        for i in 0..phnum {
            let ph = phoff + i * phentsize;
            let field = |o| {
                u32_at(data, ph + o).ok_or(format!(
                    "truncated: program header {i} lies past the end of the file"
                ))
            };
            if field(0)? != 1 {
                continue; // not PT_LOAD
            }
            let (offset, vaddr, paddr) = (field(4)?, field(8)?, field(12)?);
            let (filesz, memsz) = (field(16)?, field(20)?);
            // Like GRUB: an entry point given as a virtual address inside a
            // segment is translated to that segment's physical address.
            if entry.wrapping_sub(vaddr) < memsz {
                entry_phys.get_or_insert(paddr.wrapping_add(entry - vaddr));
            }
            let end = u64::from(offset) + u64::from(filesz);
            if end > data.len() as u64 {
                return Err(format!(
                    "truncated: segment {i} needs bytes 0x{offset:x}..0x{end:x} but the file has {}",
                    data.len()
                ));
            }
            if memsz < filesz {
                return Err(format!("segment {i} has a memory size below its file size"));
            }
            segments.push(Segment {
                addr: paddr,
                data: data[offset as usize..end as usize].into(),
                zero: memsz - filesz,
            });
        }
        if segments.is_empty() {
            return Err("the ELF file has no loadable segments".into());
        }
        Ok((segments, entry_phys.unwrap_or(entry)))
    }

    fn kernel_end(&self) -> u64 {
        self.segments.iter().map(Segment::end).max().unwrap_or(0)
    }

    /// Where each module goes: page-aligned, one after another above the kernel.
    fn module_addrs(&self) -> Vec<u64> {
        let mut next = (self.kernel_end() + 0xFFF) & !0xFFF;
        self.modules
            .iter()
            .map(|(_, _, d)| {
                let at = next;
                next = (at + d.len() as u64 + 0xFFF) & !0xFFF;
                at
            })
            .collect()
    }

    /// Checks every segment and module fits a machine with `ram_size` bytes.
    pub fn check(&self, ram_size: u64) -> Result<(), LoadError> {
        for s in &self.segments {
            if s.end() > ram_size || u64::from(s.addr) < 0x1_0000 {
                return Err(LoadError::SegmentDoesNotFit {
                    path: self.kernel_path.clone(),
                    addr: u64::from(s.addr),
                    file_len: s.data.len() as u64,
                    zero: u64::from(s.zero),
                    ram_size,
                });
            }
        }
        for ((path, _, data), at) in self.modules.iter().zip(self.module_addrs()) {
            if at + data.len() as u64 > ram_size {
                return Err(LoadError::DoesNotFit {
                    path: path.clone(),
                    len: data.len() as u64,
                    addr: at,
                    ram_size,
                });
            }
        }
        Ok(())
    }

    /// The information structure and its strings and tables, built at INFO_ADDR.
    fn info(&self, ram_size: u64) -> Result<Vec<u8>, LoadError> {
        let mut area = vec![0u8; 88];
        let put = |area: &mut Vec<u8>, bytes: &[u8]| {
            let at = INFO_ADDR + area.len() as u32;
            area.extend_from_slice(bytes);
            while !area.len().is_multiple_of(4) {
                area.push(0);
            }
            at
        };
        let cstr = |s: &str| [s.as_bytes(), b"\0"].concat();
        let cmdline = put(&mut area, &cstr(&self.cmdline));
        let name = put(&mut area, &cstr("moon86"));
        let mut mods = Vec::new();
        for ((_, mod_cmdline, data), at) in self.modules.iter().zip(self.module_addrs()) {
            let string = put(&mut area, &cstr(mod_cmdline));
            mods.extend_from_slice(&(at as u32).to_le_bytes());
            mods.extend_from_slice(&((at + data.len() as u64) as u32).to_le_bytes());
            mods.extend_from_slice(&string.to_le_bytes());
            mods.extend_from_slice(&0u32.to_le_bytes());
        }
        let mods_addr = put(&mut area, &mods);
        let mut mmap = Vec::new();
        for r in memory_map(ram_size) {
            mmap.extend_from_slice(&20u32.to_le_bytes());
            mmap.extend_from_slice(&r.base.to_le_bytes());
            mmap.extend_from_slice(&r.len.to_le_bytes());
            mmap.extend_from_slice(&r.kind.to_le_bytes());
        }
        let mmap_addr = put(&mut area, &mmap);
        if INFO_ADDR as usize + area.len() > INFO_AREA_END as usize {
            return Err(LoadError::BadKernel {
                path: self.kernel_path.clone(),
                reason: "the command lines and module list are too long for the information area"
                    .into(),
            });
        }
        let fields: [(usize, u32); 10] = [
            (0, 1 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9), // mem, cmdline, mods, mmap, loader name
            (4, 639),
            (
                8,
                (ram_size.saturating_sub(0x10_0000) / 1024).min(u64::from(u32::MAX)) as u32,
            ),
            (16, cmdline),
            (20, self.modules.len() as u32),
            (24, mods_addr),
            (44, mmap.len() as u32),
            (48, mmap_addr),
            (64, name),
            (12, 0xFFFF_FFFF), // boot_device: none (flag 1 clear)
        ];
        for (o, v) in fields {
            area[o..o + 4].copy_from_slice(&v.to_le_bytes());
        }
        Ok(area)
    }

    /// Puts kernel, modules and information structure into `m` and sets the
    /// CPU at the entry point. Nothing is written unless all of it fits.
    pub fn apply(&self, m: &mut Machine) -> Result<(), LoadError> {
        let ram = m.board.mem.ram_size();
        self.check(ram)?;
        let info = self.info(ram)?;
        let mem_err = |source| LoadError::Memory {
            path: self.kernel_path.clone(),
            source,
        };
        let mem = &mut m.board.mem;
        for s in &self.segments {
            mem.write_bytes(u64::from(s.addr), &s.data)
                .map_err(mem_err)?;
            let zeros = vec![0u8; s.zero as usize];
            mem.write_bytes(u64::from(s.addr) + s.data.len() as u64, &zeros)
                .map_err(mem_err)?;
        }
        for ((_, _, data), at) in self.modules.iter().zip(self.module_addrs()) {
            mem.write_bytes(at, data).map_err(mem_err)?;
        }
        mem.write_bytes(u64::from(INFO_ADDR), &info)
            .map_err(mem_err)?;
        enter_flat(&mut m.cpu, mem, self.entry).map_err(mem_err)?;
        super::firmware_state::leave_as_firmware_does(m);
        m.cpu.set_gpr(Gpr::Eax, BOOTLOADER_MAGIC);
        m.cpu.set_gpr(Gpr::Ebx, INFO_ADDR);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF32 with one PT_LOAD of `code` at 0x100000 and a Multiboot header.
    fn elf(code: &[u8], flags: u32) -> Vec<u8> {
        let mut d = vec![0u8; 0x1000];
        d[..4].copy_from_slice(b"\x7FELF");
        d[4] = 1;
        d[5] = 1;
        d[18] = 3;
        d[24..28].copy_from_slice(&0x10_0000u32.to_le_bytes());
        d[28..32].copy_from_slice(&52u32.to_le_bytes());
        d[42] = 32;
        d[44] = 1;
        let ph = 52;
        d[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
        d[ph + 4..ph + 8].copy_from_slice(&0x100u32.to_le_bytes());
        d[ph + 12..ph + 16].copy_from_slice(&0x10_0000u32.to_le_bytes());
        d[ph + 16..ph + 20].copy_from_slice(&(code.len() as u32).to_le_bytes());
        d[ph + 20..ph + 24].copy_from_slice(&(code.len() as u32 + 64).to_le_bytes());
        let h = 0x100;
        d[h..h + 4].copy_from_slice(&MAGIC.to_le_bytes());
        d[h + 4..h + 8].copy_from_slice(&flags.to_le_bytes());
        d[h + 8..h + 12]
            .copy_from_slice(&(0u32.wrapping_sub(MAGIC).wrapping_sub(flags)).to_le_bytes());
        d[h + 12..h + 12 + code.len().saturating_sub(12)].copy_from_slice(&code[12..]);
        d
    }

    #[test]
    fn parses_an_elf_kernel() {
        let code = [0u8; 64];
        let img = MultibootImage::parse(Path::new("k"), &elf(&code, 3), "-s", vec![]).unwrap();
        assert_eq!(img.entry, 0x10_0000);
        assert_eq!(img.segments.len(), 1);
        assert_eq!(img.kernel_end(), 0x10_0000 + 128);
        let info = img.info(16 << 20).unwrap();
        assert_eq!(u32_at(&info, 8), Some((15 << 20) / 1024));
    }

    #[test]
    fn a_virtual_entry_point_is_translated_to_physical() {
        let mut d = elf(&[0u8; 64], 3);
        d[24..28].copy_from_slice(&0xC010_0010u32.to_le_bytes()); // e_entry (virtual)
        d[52 + 8..52 + 12].copy_from_slice(&0xC010_0000u32.to_le_bytes()); // p_vaddr
        let img = MultibootImage::parse(Path::new("k"), &d, "", vec![]).unwrap();
        assert_eq!(img.entry, 0x10_0010);
    }

    #[test]
    fn rejects_bad_kernels() {
        let p = Path::new("k");
        let e = MultibootImage::parse(p, &[0u8; 100], "", vec![]).unwrap_err();
        assert!(e.to_string().contains("no Multiboot header"), "{e}");
        let mut d = elf(&[0u8; 64], 3);
        d[0x108] ^= 1;
        let e = MultibootImage::parse(p, &d, "", vec![]).unwrap_err();
        assert!(e.to_string().contains("bad checksum"), "{e}");
        let d = elf(&[0u8; 64], 3);
        let e = MultibootImage::parse(p, &d[..0x120], "", vec![]).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let mut d = elf(&[0u8; 64], 3);
        d[0] = 0;
        let e = MultibootImage::parse(p, &d, "", vec![]).unwrap_err();
        assert!(e.to_string().contains("not an ELF file"), "{e}");
    }

    #[test]
    fn a_huge_bss_is_named_as_such() {
        // The header's load addresses (flag 16) with bss_end_addr near 4 GiB.
        let mut d = vec![0u8; 0x1000];
        let flags = 3 | FLAG_ADDRESSES;
        let fields = [
            MAGIC,
            flags,
            0u32.wrapping_sub(MAGIC).wrapping_sub(flags),
            0x10_0000,   // header_addr
            0x10_0000,   // load_addr
            0,           // load_end_addr: the whole file
            0xFFFF_F000, // bss_end_addr
            0x10_0000,   // entry_addr
        ];
        for (i, f) in fields.iter().enumerate() {
            d[4 * i..4 * i + 4].copy_from_slice(&f.to_le_bytes());
        }
        let img = MultibootImage::parse(Path::new("k"), &d, "", vec![]).unwrap();
        let e = img.check(16 << 20).unwrap_err().to_string();
        assert_eq!(
            e,
            "'k': a segment at 0x100000 takes 4293914624 bytes of memory (4096 from the file and 4293910528 of zero-filled bss), so it ends at 0xfffff000; RAM ends at 0x1000000"
        );
    }

    #[test]
    fn rejects_overlapping_segments() {
        let mut d = elf(&[0u8; 64], 3);
        d[44] = 2; // a second program header, a copy of the first
        let (a, b) = (52, 84);
        let first: Vec<u8> = d[a..a + 32].to_vec();
        d[b..b + 32].copy_from_slice(&first);
        let e = MultibootImage::parse(Path::new("k"), &d, "", vec![]).unwrap_err();
        assert!(e.to_string().contains("segments overlap"), "{e}");
    }

    #[test]
    fn modules_follow_the_kernel_page_aligned_and_must_fit() {
        let mods = vec![
            (PathBuf::from("a"), "a arg".into(), vec![1; 5000]),
            (PathBuf::from("b"), "b".into(), vec![2; 10]),
        ];
        let img = MultibootImage::parse(Path::new("k"), &elf(&[0u8; 64], 3), "", mods).unwrap();
        assert_eq!(img.module_addrs(), vec![0x10_1000, 0x10_3000]);
        assert!(img
            .check(0x10_2000)
            .unwrap_err()
            .to_string()
            .contains("'a'"));
        img.check(16 << 20).unwrap();
    }
}
