//! The MOO 1.x chunk reader: bytes in, [`MooFile`] out.
//!
//! A MOO file is a run of chunks, each a 4-byte ASCII id, a little-endian
//! `u32` payload length and the payload; `TEST`, `INIT` and `FINA` nest
//! further chunks inside their payload. This file owns the decoding only:
//! every length is checked against what is left before it is used, unknown
//! chunks are skipped by their length, and bad input becomes a [`MooError`]
//! naming the offset (in the decompressed stream) where it went wrong. It
//! does not interpret the data (masks, running); see `runner.rs`.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::test::{
    CpuId, CpuState, Exception, Header, Meta, MooFile, MooTest, RamEntry, RegLayout, Registers,
};

/// Why a MOO file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MooError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt gzip stream: {source}")]
    Gzip {
        #[source]
        source: std::io::Error,
    },
    #[error("bad magic {found:?} at offset 0 (expected \"MOO \")")]
    BadMagic { found: String },
    #[error("truncated input: {what} at offset {offset} needs {needed} bytes, {available} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error(
        "chunk {id:?} at offset {offset} claims {len} bytes, only {available} left in its parent"
    )]
    ChunkOverrun {
        id: String,
        offset: usize,
        len: u32,
        available: usize,
    },
    #[error("unsupported MOO version {major}.{minor}")]
    UnsupportedVersion { major: u8, minor: u8 },
    #[error("test at offset {offset} (index {index}) has no {chunk} chunk")]
    MissingChunk {
        index: u32,
        offset: usize,
        chunk: &'static str,
    },
    #[error("test index {index}: {chunk} chunk at offset {offset} is malformed: {detail}")]
    Malformed {
        index: u32,
        offset: usize,
        chunk: &'static str,
        detail: String,
    },
    #[error("header promises {expected} tests, file holds {found}")]
    CountMismatch { expected: u32, found: usize },
}

/// Reads a MOO file from disk, gunzipping it when it starts with the gzip magic.
pub fn read_file(path: &Path) -> Result<MooFile, MooError> {
    let raw = std::fs::read(path).map_err(|source| MooError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_maybe_gz(&raw)
}

/// Decodes MOO bytes, plain or gzip-compressed.
pub fn parse_maybe_gz(raw: &[u8]) -> Result<MooFile, MooError> {
    if raw.starts_with(&[0x1F, 0x8B]) {
        let mut out = Vec::with_capacity(raw.len() * 8);
        flate2::read::GzDecoder::new(raw)
            .read_to_end(&mut out)
            .map_err(|source| MooError::Gzip { source })?;
        parse(&out)
    } else {
        parse(raw)
    }
}

/// A bounds-checked little-endian cursor over a slice that remembers its
/// absolute position in the whole file, for error messages.
#[derive(Clone, Copy)]
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// Absolute offset of `data[0]` in the file.
    base: usize,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [u8], base: usize) -> Cursor<'a> {
        Cursor { data, pos: 0, base }
    }
    fn offset(&self) -> usize {
        self.base + self.pos
    }
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], MooError> {
        if n > self.remaining() {
            return Err(MooError::Truncated {
                what,
                offset: self.offset(),
                needed: n,
                available: self.remaining(),
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], MooError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, MooError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, MooError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, MooError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, MooError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads the next chunk header and returns its id and a cursor over its payload.
    fn chunk(&mut self) -> Result<([u8; 4], Cursor<'a>), MooError> {
        let at = self.offset();
        let id = self.array::<4>("chunk id")?;
        let len = self.u32("chunk length")?;
        if len as usize > self.remaining() {
            return Err(MooError::ChunkOverrun {
                id: String::from_utf8_lossy(&id).into_owned(),
                offset: at,
                len,
                available: self.remaining(),
            });
        }
        let payload_base = self.offset();
        let payload = self.take(len as usize, "chunk payload")?;
        Ok((id, Cursor::new(payload, payload_base)))
    }
}

/// Decodes an uncompressed MOO file.
pub fn parse(data: &[u8]) -> Result<MooFile, MooError> {
    let mut top = Cursor::new(data, 0);
    if data.len() < 4 || &data[..4] != b"MOO " {
        let n = data.len().min(4);
        return Err(MooError::BadMagic {
            found: String::from_utf8_lossy(&data[..n]).into_owned(),
        });
    }
    let (_, mut h) = top.chunk()?;
    let major = h.u8("header major version")?;
    let minor = h.u8("header minor version")?;
    let _reserved = h.u16("header reserved")?;
    let test_count = h.u32("header test count")?;
    let cpu = CpuId::from_bytes(h.array("header cpu id")?);
    if major != 1 {
        return Err(MooError::UnsupportedVersion { major, minor });
    }
    let header = Header {
        major,
        minor,
        test_count,
        cpu,
    };

    let mut meta = None;
    let mut masks = None;
    let mut tests = Vec::with_capacity(test_count.min(1 << 16) as usize);
    while !top.is_empty() {
        let (id, mut c) = top.chunk()?;
        match &id {
            b"META" => meta = Some(parse_meta(&mut c)?),
            b"RMSK" => masks = Some(parse_regs(&mut c, RegLayout::Regs16, u32::MAX, "RMSK")?),
            b"RM32" => masks = Some(parse_regs(&mut c, RegLayout::Regs32, u32::MAX, "RM32")?),
            b"TEST" => tests.push(parse_test(c)?),
            _ => {} // unknown chunk: skipped by its length
        }
    }
    if tests.len() != test_count as usize {
        return Err(MooError::CountMismatch {
            expected: test_count,
            found: tests.len(),
        });
    }
    Ok(MooFile {
        header,
        meta,
        masks,
        tests,
    })
}

fn parse_meta(c: &mut Cursor<'_>) -> Result<Meta, MooError> {
    let set_major = c.u8("META set major version")?;
    let set_minor = c.u8("META set minor version")?;
    let cpu_type = c.u8("META cpu type")?;
    let opcode = c.u32("META opcode")?;
    let mnemonic = c.array::<8>("META mnemonic")?;
    let test_count = c.u32("META test count")?;
    let seed = c.u64("META seed")?;
    let cpu_mode = c.u8("META cpu mode")?;
    // Three reserved bytes follow in MOO 1.1; later fields, if any, are ignored.
    Ok(Meta {
        set_major,
        set_minor,
        cpu_type,
        opcode,
        mnemonic: String::from_utf8_lossy(&mnemonic)
            .trim_end_matches([' ', '\0'])
            .to_string(),
        test_count,
        seed,
        cpu_mode,
    })
}

/// Reads a register set: bitmask, then one value per set bit.
/// `index` is only for error messages (`u32::MAX` at file level).
fn parse_regs(
    c: &mut Cursor<'_>,
    layout: RegLayout,
    index: u32,
    chunk: &'static str,
) -> Result<Registers, MooError> {
    let at = c.offset();
    let present = match layout {
        RegLayout::Regs16 => u32::from(c.u16("register bitmask")?),
        RegLayout::Regs32 => c.u32("register bitmask")?,
    };
    if present >> layout.len() != 0 {
        return Err(MooError::Malformed {
            index,
            offset: at,
            chunk,
            detail: format!(
                "bitmask {present:#x} names registers beyond the {} the layout has",
                layout.len()
            ),
        });
    }
    let mut regs = Registers::empty(layout);
    regs.present = present;
    for bit in 0..layout.len() {
        if present & (1 << bit) != 0 {
            regs.values[bit] = match layout {
                RegLayout::Regs16 => u32::from(c.u16("register value")?),
                RegLayout::Regs32 => c.u32("register value")?,
            };
        }
    }
    Ok(regs)
}

fn parse_ram(c: &mut Cursor<'_>) -> Result<Vec<RamEntry>, MooError> {
    let count = c.u32("RAM entry count")? as usize;
    // Each entry is 5 bytes; check before allocating so a huge count cannot
    // make us reserve memory the input does not back.
    if count.saturating_mul(5) > c.remaining() {
        return Err(MooError::Truncated {
            what: "RAM entries",
            offset: c.offset(),
            needed: count.saturating_mul(5),
            available: c.remaining(),
        });
    }
    let mut ram = Vec::with_capacity(count);
    for _ in 0..count {
        let address = c.u32("RAM address")?;
        let value = c.u8("RAM value")?;
        ram.push(RamEntry { address, value });
    }
    Ok(ram)
}

fn parse_state(mut c: Cursor<'_>, index: u32, chunk: &'static str) -> Result<CpuState, MooError> {
    let at = c.offset();
    let mut regs = None;
    let mut masks = None;
    let mut ram = Vec::new();
    let mut queue = Vec::new();
    while !c.is_empty() {
        let (id, mut s) = c.chunk()?;
        match &id {
            b"REGS" => regs = Some(parse_regs(&mut s, RegLayout::Regs16, index, "REGS")?),
            b"RG32" => regs = Some(parse_regs(&mut s, RegLayout::Regs32, index, "RG32")?),
            b"RMSK" => masks = Some(parse_regs(&mut s, RegLayout::Regs16, index, "RMSK")?),
            b"RM32" => masks = Some(parse_regs(&mut s, RegLayout::Regs32, index, "RM32")?),
            b"RAM " => ram = parse_ram(&mut s)?,
            b"QUEU" => {
                let n = s.u32("QUEU length")? as usize;
                queue = s.take(n, "QUEU bytes")?.to_vec();
            }
            _ => {} // EA32 and anything unknown: skipped by length
        }
    }
    let regs = regs.ok_or(MooError::MissingChunk {
        index,
        offset: at,
        chunk: if chunk == "INIT" {
            "INIT/REGS or INIT/RG32"
        } else {
            "FINA/REGS or FINA/RG32"
        },
    })?;
    if let Some(m) = &masks {
        if m.layout != regs.layout {
            return Err(MooError::Malformed {
                index,
                offset: at,
                chunk,
                detail: "register masks and registers use different layouts".into(),
            });
        }
    }
    Ok(CpuState {
        regs,
        masks,
        ram,
        queue,
    })
}

fn parse_test(mut c: Cursor<'_>) -> Result<MooTest, MooError> {
    let at = c.offset();
    let index = c.u32("TEST index")?;
    let mut name = None;
    let mut bytes = None;
    let mut init = None;
    let mut fina = None;
    let mut exception = None;
    let mut hash = None;
    while !c.is_empty() {
        let (id, mut s) = c.chunk()?;
        match &id {
            b"NAME" => {
                let n = s.u32("NAME length")? as usize;
                name = Some(String::from_utf8_lossy(s.take(n, "NAME text")?).into_owned());
            }
            b"BYTS" => {
                let n = s.u32("BYTS length")? as usize;
                bytes = Some(s.take(n, "BYTS bytes")?.to_vec());
            }
            b"INIT" => init = Some(parse_state(s, index, "INIT")?),
            b"FINA" => fina = Some(parse_state(s, index, "FINA")?),
            b"EXCP" => {
                let vector = s.u8("EXCP vector")?;
                let flags_address = s.u32("EXCP flags address")?;
                exception = Some(Exception {
                    vector,
                    flags_address,
                });
            }
            b"HASH" => hash = Some(s.array::<20>("HASH")?),
            _ => {} // GMET, CYCL and anything unknown: skipped by length
        }
    }
    let missing = |chunk| MooError::MissingChunk {
        index,
        offset: at,
        chunk,
    };
    let init = init.ok_or_else(|| missing("INIT"))?;
    let fina = fina.ok_or_else(|| missing("FINA"))?;
    if init.regs.layout != fina.regs.layout {
        return Err(MooError::Malformed {
            index,
            offset: at,
            chunk: "FINA",
            detail: "INIT and FINA use different register layouts".into(),
        });
    }
    Ok(MooTest {
        index,
        name: name.unwrap_or_default(),
        bytes: bytes.ok_or_else(|| missing("BYTS"))?,
        init,
        fina,
        exception,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moo::test::Reg;

    fn chunk(id: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn regs16(mask: u16, values: &[u16]) -> Vec<u8> {
        let mut v = mask.to_le_bytes().to_vec();
        for x in values {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v
    }

    fn ram(entries: &[(u32, u8)]) -> Vec<u8> {
        let mut v = (entries.len() as u32).to_le_bytes().to_vec();
        for (a, b) in entries {
            v.extend_from_slice(&a.to_le_bytes());
            v.push(*b);
        }
        v
    }

    /// A one-test 286 file: `inc ax` at 0000:0100.
    fn sample() -> Vec<u8> {
        let mut header = vec![1, 1, 0, 0];
        header.extend_from_slice(&1u32.to_le_bytes());
        header.extend_from_slice(b"C286");
        let mut meta = vec![1, 0, 6];
        meta.extend_from_slice(&0x40u32.to_le_bytes());
        meta.extend_from_slice(b"inc     ");
        meta.extend_from_slice(&99u32.to_le_bytes());
        meta.extend_from_slice(&0xDEADBEEFu64.to_le_bytes());
        meta.extend_from_slice(&[0, 0, 0, 0]);

        let mut init = chunk(
            b"REGS",
            &regs16(
                0x3FFF,
                &[1, 2, 3, 4, 0, 0, 0, 0, 0x100, 0, 0, 0, 0x100, 0x0002],
            ),
        );
        init.extend(chunk(b"RAM ", &ram(&[(0x100, 0x40), (0x101, 0xF4)])));
        init.extend(chunk(b"EA32", &[0; 23]));
        let mut fina = chunk(b"REGS", &regs16(0x1001, &[2, 0x102]));
        fina.extend(chunk(b"RAM ", &ram(&[])));

        let mut test = 7u32.to_le_bytes().to_vec();
        test.extend(chunk(b"GMET", &[0; 10]));
        let mut name = 6u32.to_le_bytes().to_vec();
        name.extend_from_slice(b"inc ax");
        test.extend(chunk(b"NAME", &name));
        test.extend(chunk(b"BYTS", &[2, 0, 0, 0, 0x40, 0xF4]));
        test.extend(chunk(b"INIT", &init));
        test.extend(chunk(b"FINA", &fina));
        test.extend(chunk(b"CYCL", &[0; 15]));
        test.extend(chunk(b"EXCP", &[13, 0x10, 0x20, 0, 0]));
        test.extend(chunk(b"HASH", &[0xAB; 20]));

        let mut file = chunk(b"MOO ", &header);
        file.extend(chunk(b"META", &meta));
        file.extend(chunk(b"ZZZZ", &[1, 2, 3]));
        file.extend(chunk(b"TEST", &test));
        file
    }

    #[test]
    fn parses_every_field() {
        let f = parse(&sample()).expect("sample parses");
        assert_eq!(f.header.cpu, CpuId::I286);
        assert_eq!(f.header.test_count, 1);
        let meta = f.meta.as_ref().expect("meta");
        assert_eq!(meta.mnemonic, "inc");
        assert_eq!(meta.opcode, 0x40);
        assert_eq!(meta.seed, 0xDEADBEEF);
        assert_eq!(meta.cpu_type, 6);
        assert_eq!(meta.test_count, 99);
        let t = &f.tests[0];
        assert_eq!(t.index, 7);
        assert_eq!(t.name, "inc ax");
        assert_eq!(t.bytes, vec![0x40, 0xF4]);
        assert_eq!(t.instruction_len(), 1);
        assert_eq!(t.init.regs.get(Reg::Eax), Some(1));
        assert_eq!(t.init.regs.get(Reg::Edx), Some(4));
        assert_eq!(t.init.regs.get(Reg::Eflags), Some(2));
        assert_eq!(t.init.ram.len(), 2);
        assert_eq!(t.fina.regs.get(Reg::Eax), Some(2));
        assert_eq!(t.fina.regs.get(Reg::Eip), Some(0x102));
        assert_eq!(t.fina.regs.get(Reg::Ebx), None);
        assert_eq!(
            t.exception,
            Some(Exception {
                vector: 13,
                flags_address: 0x2010
            })
        );
        assert_eq!(t.hash, Some([0xAB; 20]));
    }

    #[test]
    fn gzip_and_plain_agree() {
        use std::io::Write;
        let plain = sample();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&plain).expect("write to Vec");
        let gz = enc.finish().expect("finish gzip");
        assert_eq!(parse_maybe_gz(&gz).ok(), parse(&plain).ok());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let full = sample();
        for n in 0..full.len() {
            assert!(parse(&full[..n]).is_err(), "prefix of {n} bytes parsed");
        }
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&sample()).expect("write to Vec");
        let gz = enc.finish().expect("finish gzip");
        assert!(parse_maybe_gz(&gz[..gz.len() / 2]).is_err());
    }

    #[test]
    fn bad_magic() {
        let mut f = sample();
        f[0] = b'X';
        assert!(matches!(parse(&f), Err(MooError::BadMagic { .. })));
        assert!(matches!(parse(b""), Err(MooError::BadMagic { .. })));
    }

    #[test]
    fn length_past_the_end() {
        let mut f = sample();
        // The META chunk's length field sits at bytes 24..28.
        f[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(parse(&f), Err(MooError::ChunkOverrun { .. })));
    }

    #[test]
    fn huge_ram_count_is_rejected_before_allocating() {
        let mut c = Cursor::new(&[0xFF, 0xFF, 0xFF, 0xFF, 1, 2], 0);
        assert!(matches!(parse_ram(&mut c), Err(MooError::Truncated { .. })));
    }

    #[test]
    fn count_mismatch() {
        let mut f = sample();
        f[12..16].copy_from_slice(&2u32.to_le_bytes());
        assert!(matches!(
            parse(&f),
            Err(MooError::CountMismatch {
                expected: 2,
                found: 1
            })
        ));
    }
}
