//! The explicit skip list: tests the harness does not run, each for a stated
//! reason.
//!
//! A test is skipped only when an entry of [`SKIPS`] says so, and every
//! entry carries a one-line reason that the harness prints with its count.
//! The place for tests where the recording processor (an 80286) and the
//! i386-class core we emulate really differ, and for tests upstream has
//! revoked. Add an entry only with a reason a reader can check against the
//! data; never skip a test because the interpreter gets it wrong.
//!
//! The 286's observable real-mode differences (LOCK never #UD, the 10-byte
//! limit, #GP for stack overruns, no FS/GS, string-fault register updates)
//! are not skipped: the runner selects `cpu::Model::I286` for 286 files and
//! the interpreter reproduces them. The D8 escape runs as the no-op it is
//! on both processors without a coprocessor.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::metadata::OpcodeKey;
use super::test::{CpuId, MooTest};

/// What a skip predicate may look at.
pub struct SkipInput<'a> {
    /// The file's opcode key (`D8`, `F6.7`), when its name has one.
    pub key: Option<&'a OpcodeKey>,
    /// The processor that recorded the file.
    pub cpu: CpuId,
    pub test: &'a MooTest,
    /// Hashes from every `revocation_list.txt` found.
    pub revoked: &'a Revocations,
}

/// One skip-list entry.
pub struct SkipEntry {
    /// Short stable name, used in reports.
    pub id: &'static str,
    /// One line: why these tests cannot be compared.
    pub reason: &'static str,
    pub applies: fn(&SkipInput<'_>) -> bool,
}

/// The skip list, in the order entries are tried (the first match is reported).
pub const SKIPS: &[SkipEntry] = &[SkipEntry {
    id: "revoked",
    reason: "hash is on upstream's revocation_list.txt (test known to be bad)",
    applies: |i| i.test.hash.is_some_and(|h| i.revoked.contains(&h)),
}];

/// The first skip entry that applies to a test, if any.
pub fn find(input: &SkipInput<'_>) -> Option<&'static SkipEntry> {
    SKIPS.iter().find(|e| (e.applies)(input))
}

/// Why a revocation list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {text:?} is not a 40-digit hex SHA-1")]
    BadLine {
        path: PathBuf,
        line: usize,
        text: String,
    },
}

/// Test hashes upstream has declared bad.
#[derive(Clone, Debug, Default)]
pub struct Revocations {
    hashes: HashSet<[u8; 20]>,
}

impl Revocations {
    pub fn contains(&self, hash: &[u8; 20]) -> bool {
        self.hashes.contains(hash)
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Adds the hashes of one `revocation_list.txt` (`#` comments and blank
    /// lines allowed).
    pub fn load(&mut self, path: &Path) -> Result<(), RevocationError> {
        let text = std::fs::read_to_string(path).map_err(|source| RevocationError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.add_text(&text)
            .map_err(|(line, text)| RevocationError::BadLine {
                path: path.to_path_buf(),
                line,
                text,
            })
    }

    fn add_text(&mut self, text: &str) -> Result<(), (usize, String)> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let hash = parse_sha1(line).ok_or_else(|| (n + 1, line.to_string()))?;
            self.hashes.insert(hash);
        }
        Ok(())
    }
}

fn parse_sha1(s: &str) -> Option<[u8; 20]> {
    if s.len() != 40 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moo::test::{CpuState, Exception, RegLayout, Registers};

    fn test_with(bytes: Vec<u8>, exception: Option<Exception>, hash: [u8; 20]) -> MooTest {
        let st = CpuState {
            regs: Registers::empty(RegLayout::Regs16),
            masks: None,
            ram: Vec::new(),
            queue: Vec::new(),
        };
        MooTest {
            index: 0,
            name: String::new(),
            bytes,
            init: st.clone(),
            fina: st,
            exception,
            hash: Some(hash),
        }
    }

    #[test]
    fn entries_match_what_they_say() {
        let mut rev = Revocations::default();
        rev.add_text("# comment\n\n0102030405060708090a0b0c0d0e0f1011121314\n")
            .expect("valid list");
        assert_eq!(rev.len(), 1);
        let revoked_hash = [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        ];
        let add = OpcodeKey {
            opcode: "00".into(),
            reg: None,
        };
        let id = |key, cpu, t: &MooTest| {
            find(&SkipInput {
                key: Some(key),
                cpu,
                test: t,
                revoked: &rev,
            })
            .map(|e| e.id)
        };
        let short = test_with(vec![0, 0, 0xF4], None, [0; 20]);
        let revoked = test_with(vec![0, 0, 0xF4], None, revoked_hash);
        assert_eq!(id(&add, CpuId::I286, &short), None);
        assert_eq!(id(&add, CpuId::I386Ex, &revoked), Some("revoked"));
    }

    #[test]
    fn bad_revocation_line() {
        let mut rev = Revocations::default();
        assert_eq!(rev.add_text("xyz\n"), Err((1, "xyz".to_string())));
    }
}
