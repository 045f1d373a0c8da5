//! The snapshot file format, version 3. All integers are little-endian.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "MOON86SS"
//!      8     4  format version (3)
//!     12     4  C: length of the configuration block
//!     16     4  CRC-32 of the configuration block
//!     20     C  the machine configuration (postcard: ram_size, cpu_model,
//!               exit_port, ips, rtc_start, the drives, the boot order
//!               menu switch and menu wait)
//!   20+C     8  S: length of the state once inflated
//!   28+C     4  CRC-32 of the inflated state
//!   32+C   ...  the state, zlib-deflated to the end of the file (postcard:
//!               the halt reason, then the machine state: CPU with FPU,
//!               MSRs and TLB; every device (with the disks' overlays); the clock; the pending-event
//!               tick; the interrupt line; A20; icount; the serial logs;
//!               RAM as its non-zero 4 KiB pages; the ROM mappings)
//! ```
//!
//! The configuration comes first and uncompressed, so a snapshot taken on
//! another configuration is refused before the state is inflated. Reading
//! checks everything before anything is used: the magic, the version, both
//! lengths against sane bounds (nothing is allocated for a length the file
//! does not back with data), both CRCs, that the state decodes exactly to
//! its end, and the values a device could not hold. A state struct that
//! changes shape changes the format: bump [`FORMAT_VERSION`] (a test
//! fingerprints the encoding of a fresh machine to catch it).

use super::snapshot::Snapshot;
use crate::machine::{HaltReason, MachineConfig, MachineState};
use flate2::bufread::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Read, Write};
use thiserror::Error;

/// The first eight bytes of every snapshot file.
pub const MAGIC: &[u8; 8] = b"MOON86SS";
/// The format this build writes and the only one it reads.
pub const FORMAT_VERSION: u32 = 5;

/// A configuration block is a few dozen bytes; anything longer is damage.
const MAX_CONFIG_LEN: u32 = 4096;
/// The inflated state is RAM (at most the whole of it) plus this much for
/// everything else (the CPU, devices and the serial logs).
const MAX_STATE_OVERHEAD: u64 = 1 << 30;

/// The largest file a snapshot of a machine with `ram_size` bytes of RAM
/// can be: the header, the longest configuration block, and the longest
/// state deflated at its worst (stored blocks: 5 bytes per 65,535, plus the
/// zlib header and checksum), rounded up generously.
pub fn max_file_len(ram_size: u64) -> u64 {
    let state = ram_size.saturating_add(MAX_STATE_OVERHEAD);
    state
        .saturating_add(state / 8192)
        .saturating_add(u64::from(MAX_CONFIG_LEN) + 4096)
}

/// Why a file is not a snapshot this build can read.
#[derive(Debug, Error)]
pub enum SnapshotFileError {
    #[error("it is not a moon86 snapshot (it does not start with \"MOON86SS\")")]
    NotASnapshot,
    #[error("it is snapshot format version {found}, and this moon86 reads only version {FORMAT_VERSION}")]
    Version { found: u32 },
    #[error("it is {len} bytes, more than a snapshot of a machine with {ram_size} bytes of RAM can be ({} bytes at most); it was not read", max_file_len(*ram_size))]
    TooLarge { len: u64, ram_size: u64 },
    #[error("the file is truncated ({0})")]
    Truncated(String),
    #[error("the file is corrupt ({0})")]
    Corrupt(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

use SnapshotFileError::{Corrupt, Truncated};

/// What the deflated part holds.
#[derive(Serialize)]
struct BodyRef<'a> {
    halt: Option<HaltReason>,
    machine: &'a MachineState,
}

#[derive(Deserialize)]
struct Body {
    halt: Option<HaltReason>,
    machine: MachineState,
}

/// Encodes `snapshot` as a whole file.
pub fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, SnapshotFileError> {
    let encode_err = |e: postcard::Error| io::Error::other(format!("encoding the state: {e}"));
    let config = postcard::to_allocvec(snapshot.config()).map_err(encode_err)?;
    let body = postcard::to_allocvec(&BodyRef {
        halt: snapshot.halt_reason(),
        machine: snapshot.machine(),
    })
    .map_err(encode_err)?;

    let mut out = Vec::with_capacity(64 + body.len() / 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(config.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(&config).to_le_bytes());
    out.extend_from_slice(&config);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32(&body).to_le_bytes());
    let mut z = ZlibEncoder::new(out, Compression::fast());
    z.write_all(&body)?;
    Ok(z.finish()?)
}

/// Reads a snapshot from `r`. `check_config` sees the configuration before
/// the state is inflated and may refuse it with its own error.
pub fn decode<E: From<SnapshotFileError>>(
    r: &mut impl BufRead,
    check_config: impl FnOnce(&MachineConfig) -> Result<(), E>,
) -> Result<Snapshot, E> {
    let config = read_header(r)?;
    check_config(&config)?;
    let (halt, machine) = read_body(r, &config)?;
    Ok(Snapshot::new(config, halt, machine))
}

fn read_header(r: &mut impl Read) -> Result<MachineConfig, SnapshotFileError> {
    let mut magic = [0u8; 8];
    let n = read_up_to(r, &mut magic)?;
    if magic[..n] != MAGIC[..n] {
        return Err(SnapshotFileError::NotASnapshot);
    }
    if n < magic.len() {
        return Err(Truncated(format!("{n} bytes, not even a header")));
    }
    let version = read_u32(r, "the format version")?;
    if version != FORMAT_VERSION {
        return Err(SnapshotFileError::Version { found: version });
    }
    let len = read_u32(r, "the configuration")?;
    let crc = read_u32(r, "the configuration")?;
    if len > MAX_CONFIG_LEN {
        return Err(Corrupt(format!("a configuration block of {len} bytes")));
    }
    let mut config = vec![0u8; len as usize];
    if read_up_to(r, &mut config)? < config.len() {
        return Err(Truncated("it ends inside the configuration".into()));
    }
    if crc32(&config) != crc {
        return Err(Corrupt(
            "the configuration's checksum does not match".into(),
        ));
    }
    decode_exact(&config, "the configuration")
}

fn read_body(
    r: &mut impl BufRead,
    config: &MachineConfig,
) -> Result<(Option<HaltReason>, MachineState), SnapshotFileError> {
    let len = read_u64(r, "the state's length")?;
    let crc = read_u32(r, "the state's checksum")?;
    let max = config.ram_size.saturating_add(MAX_STATE_OVERHEAD);
    if len > max {
        return Err(Corrupt(format!(
            "a state of {len} bytes, more than a machine with this much RAM can have"
        )));
    }
    // Grows only as data actually arrives, so a length the file does not
    // back costs nothing.
    let mut body = Vec::new();
    let mut z = ZlibDecoder::new(r);
    if let Err(e) = (&mut z).take(len).read_to_end(&mut body) {
        return Err(inflate_error(&mut z, len, body.len(), e));
    }
    if (body.len() as u64) < len {
        return Err(cut_short(len, body.len()));
    }
    // The stream must end here (this also reads its checksum).
    match z.read(&mut [0u8; 1]) {
        Ok(0) => {}
        Ok(_) => {
            return Err(Corrupt(format!(
                "the state is longer than the {len} bytes announced"
            )))
        }
        Err(e) => return Err(inflate_error(&mut z, len, body.len(), e)),
    }
    if !z.get_mut().fill_buf()?.is_empty() {
        return Err(Corrupt("there are stray bytes after the state".into()));
    }
    if crc32(&body) != crc {
        return Err(Corrupt("the state's checksum does not match".into()));
    }
    let b: Body = decode_exact(&body, "the state")?;
    Ok((b.halt, b.machine))
}

/// The file ended after `got` of the state's `len` inflated bytes: inside
/// the state, or (all of it there) inside the zlib checksum that follows it.
fn cut_short(len: u64, got: usize) -> SnapshotFileError {
    if got as u64 >= len {
        Truncated(format!(
            "it ends inside the compressed state's trailer: all {len} bytes of the state are there, its zlib checksum is not"
        ))
    } else {
        Truncated(format!(
            "it ends inside the compressed state: {got} of the state's {len} bytes are there"
        ))
    }
}

/// A stream cut short fails as a damaged one does; what tells them apart is
/// whether the file has anything left after the error.
fn inflate_error<R: BufRead>(
    z: &mut ZlibDecoder<R>,
    len: u64,
    got: usize,
    e: io::Error,
) -> SnapshotFileError {
    match z.get_mut().read(&mut [0u8; 1]) {
        Ok(0) => cut_short(len, got),
        Ok(_) => Corrupt(format!("the compressed state: {e}")),
        Err(e) => SnapshotFileError::Io(e),
    }
}

/// Decodes `bytes` as one `T` with nothing left over.
fn decode_exact<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    what: &str,
) -> Result<T, SnapshotFileError> {
    match postcard::take_from_bytes(bytes) {
        Ok((v, [])) => Ok(v),
        Ok((_, rest)) => Err(Corrupt(format!("{} stray bytes after {what}", rest.len()))),
        Err(e) => Err(Corrupt(format!("{what} does not decode: {e}"))),
    }
}

/// Reads as much of `buf` as the file holds; returns how much that was.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn read_array<const N: usize>(r: &mut impl Read, what: &str) -> Result<[u8; N], SnapshotFileError> {
    let mut b = [0u8; N];
    if read_up_to(r, &mut b)? < N {
        return Err(Truncated(format!("it ends inside {what}")));
    }
    Ok(b)
}

fn read_u32(r: &mut impl Read, what: &str) -> Result<u32, SnapshotFileError> {
    read_array(r, what).map(u32::from_le_bytes)
}

fn read_u64(r: &mut impl Read, what: &str) -> Result<u64, SnapshotFileError> {
    read_array(r, what).map(u64::from_le_bytes)
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc::new();
    c.update(data);
    c.sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Machine;

    fn fresh() -> Snapshot {
        let config = MachineConfig::default();
        let machine = Machine::new(&config).unwrap().save_state();
        Snapshot::new(config, None, machine)
    }

    fn read(bytes: &[u8]) -> Result<Snapshot, SnapshotFileError> {
        decode(&mut &bytes[..], |_| Ok::<(), SnapshotFileError>(()))
    }

    #[test]
    fn a_file_round_trips() {
        let s = fresh();
        let bytes = encode(&s).unwrap();
        assert!(
            bytes.len() < 16 << 10,
            "a fresh 16M machine: {} bytes",
            bytes.len()
        );
        let back = read(&bytes).unwrap();
        assert_eq!(encode(&back).unwrap(), bytes);
    }

    /// The encoding of a fresh default machine and its configuration. When
    /// this fails, the shape of a serialised struct changed: bump
    /// FORMAT_VERSION (older files no longer decode as they did) and update
    /// the numbers here.
    #[test]
    fn the_format_fingerprint_is_unchanged() {
        let s = fresh();
        let body = postcard::to_allocvec(&BodyRef {
            halt: None,
            machine: s.machine(),
        })
        .unwrap();
        let config = postcard::to_allocvec(s.config()).unwrap();
        assert_eq!(
            (FORMAT_VERSION, body.len(), crc32(&body)),
            (5, 1534, 1307970358),
            "the snapshot encoding changed: bump FORMAT_VERSION and update this fingerprint"
        );
        assert_eq!(
            (config.len(), crc32(&config)),
            (24, 595930800),
            "the snapshot encoding changed: bump FORMAT_VERSION and update this fingerprint"
        );
    }

    fn config_len(file: &[u8]) -> usize {
        u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize
    }

    #[test]
    fn damage_is_reported_and_never_panics() {
        let good = encode(&fresh()).unwrap();
        let msg = |b: &[u8]| read(b).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg(b"").contains("truncated"));
        assert!(msg(b"MOON8").contains("truncated"));
        assert!(msg(b"PNG\x89....").contains("not a moon86 snapshot"));
        let mut v = good.clone();
        v[8] = 99;
        assert!(msg(&v).contains("format version 99"), "{}", msg(&v));
        for cut in [9, 14, 20, 30, good.len() / 2, good.len() - 1] {
            assert!(
                msg(&good[..cut]).contains("truncated"),
                "cut at {cut}: {}",
                msg(&good[..cut])
            );
        }
        let state_len = u64::from_le_bytes(good[20 + config_len(&good)..][..8].try_into().unwrap());
        assert_eq!(
            msg(&good[..good.len() - 1]),
            format!("the file is truncated (it ends inside the compressed state's trailer: all {state_len} bytes of the state are there, its zlib checksum is not)")
        );
        let half = msg(&good[..good.len() - 200]);
        let got: u64 = half
            .split("state: ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{half}"));
        assert!(got < state_len, "{half}");
        assert!(
            half.ends_with(&format!("of the state's {state_len} bytes are there)")),
            "{half}"
        );
        let mut longer = good.clone();
        longer.push(0);
        assert!(msg(&longer).contains("corrupt"), "{}", msg(&longer));
        // Flip each byte in turn (a sample of them for speed): none panics,
        // and each is refused unless it landed on bits the compressed
        // stream does not use, so the state read back is the one written.
        for i in (0..good.len()).step_by(7) {
            let mut v = good.clone();
            v[i] ^= 0x5A;
            if let Ok(s) = read(&v) {
                assert_eq!(
                    encode(&s).unwrap(),
                    good,
                    "byte {i} flipped changed the state"
                );
            }
        }
    }
}
