//! The 80286 suite's `metadata.json`: which FLAGS bits each opcode defines.
//!
//! Upstream documents, per opcode (and per ModRM `reg` field for group
//! opcodes such as `F6`), a `flags-mask` in which a set bit is a flag the
//! instruction defines and a clear bit one it leaves undefined. This file
//! owns reading that JSON into a lookup table keyed the way the test files
//! are named (`F6.7.MOO.gz` = opcode `F6`, reg 7). It does not apply the
//! masks; `runner.rs` does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why `metadata.json` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {detail}")]
    Shape { path: PathBuf, detail: String },
}

/// Opcode (and optional reg field) as it appears in a file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OpcodeKey {
    /// Upper-case hex, as in the JSON keys (`"F6"`).
    pub opcode: String,
    /// The ModRM reg field for group files (`F6.7`).
    pub reg: Option<u8>,
}

impl OpcodeKey {
    /// Derives the key from a file name such as `F6.7.MOO.gz`, `00.MOO` or a
    /// path ending in one. None when the name does not look like that.
    pub fn from_file_name(path: &Path) -> Option<OpcodeKey> {
        let name = path.file_name()?.to_str()?;
        let upper = name.to_ascii_uppercase();
        let stem = upper
            .strip_suffix(".MOO.GZ")
            .or_else(|| upper.strip_suffix(".MOO"))?;
        let (opcode, reg) = match stem.split_once('.') {
            Some((op, reg)) => (op, Some(reg.parse::<u8>().ok()?)),
            None => (stem, None),
        };
        if opcode.is_empty() || !opcode.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some(OpcodeKey {
            opcode: opcode.to_string(),
            reg,
        })
    }
}

/// Flag masks from one `metadata.json`.
#[derive(Clone, Debug, Default)]
pub struct FlagMasks {
    masks: HashMap<OpcodeKey, u16>,
}

impl FlagMasks {
    /// Reads and decodes a `metadata.json` file.
    pub fn load(path: &Path) -> Result<FlagMasks, MetadataError> {
        let text = std::fs::read_to_string(path).map_err(|source| MetadataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        FlagMasks::parse(&text).map_err(|e| match e {
            ParseError::Json(source) => MetadataError::Json {
                path: path.to_path_buf(),
                source,
            },
            ParseError::Shape(detail) => MetadataError::Shape {
                path: path.to_path_buf(),
                detail,
            },
        })
    }

    fn parse(text: &str) -> Result<FlagMasks, ParseError> {
        let root: Value = serde_json::from_str(text).map_err(ParseError::Json)?;
        let opcodes = root
            .get("opcodes")
            .and_then(Value::as_object)
            .ok_or_else(|| ParseError::Shape("no \"opcodes\" object".into()))?;
        let mut masks = HashMap::new();
        for (op, entry) in opcodes {
            let opcode = op.to_ascii_uppercase();
            if let Some(m) = flags_mask(entry, op)? {
                masks.insert(
                    OpcodeKey {
                        opcode: opcode.clone(),
                        reg: None,
                    },
                    m,
                );
            }
            if let Some(regs) = entry.get("reg").and_then(Value::as_object) {
                for (r, sub) in regs {
                    let reg = r.parse::<u8>().map_err(|_| {
                        ParseError::Shape(format!("opcode {op}: reg key {r:?} is not a number"))
                    })?;
                    if let Some(m) = flags_mask(sub, op)? {
                        masks.insert(
                            OpcodeKey {
                                opcode: opcode.clone(),
                                reg: Some(reg),
                            },
                            m,
                        );
                    }
                }
            }
        }
        Ok(FlagMasks { masks })
    }

    /// The defined-flags mask for a file's opcode: set bits are compared.
    /// Opcodes without a documented mask define every flag (0xFFFF).
    pub fn mask(&self, key: &OpcodeKey) -> u16 {
        self.masks.get(key).copied().unwrap_or(0xFFFF)
    }

    /// Number of opcodes (or opcode/reg pairs) with a documented mask.
    pub fn len(&self) -> usize {
        self.masks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.masks.is_empty()
    }
}

enum ParseError {
    Json(serde_json::Error),
    Shape(String),
}

fn flags_mask(entry: &Value, op: &str) -> Result<Option<u16>, ParseError> {
    match entry.get("flags-mask") {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|m| u16::try_from(m).ok())
            .map(Some)
            .ok_or_else(|| ParseError::Shape(format!("opcode {op}: flags-mask {v} is not a u16"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_file_names() {
        let k = OpcodeKey::from_file_name(Path::new("a/b/F6.7.MOO.gz")).expect("group key");
        assert_eq!(k.opcode, "F6");
        assert_eq!(k.reg, Some(7));
        let k = OpcodeKey::from_file_name(Path::new("00.MOO")).expect("plain key");
        assert_eq!((k.opcode.as_str(), k.reg), ("00", None));
        assert!(OpcodeKey::from_file_name(Path::new("readme.txt")).is_none());
    }

    #[test]
    fn plain_and_group_masks() {
        let json = r#"{"opcodes": {
            "27": {"status": "normal", "flags-mask": 63487},
            "00": {"status": "normal"},
            "F6": {"reg": {"6": {"flags-mask": 63274}, "2": {"status": "normal"}}}
        }}"#;
        let m = FlagMasks::parse(json).ok().expect("parses");
        let key = |op: &str, reg| OpcodeKey {
            opcode: op.into(),
            reg,
        };
        assert_eq!(m.mask(&key("27", None)), 63487);
        assert_eq!(m.mask(&key("00", None)), 0xFFFF);
        assert_eq!(m.mask(&key("F6", Some(6))), 63274);
        assert_eq!(m.mask(&key("F6", Some(2))), 0xFFFF);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn bad_json_is_an_error() {
        assert!(FlagMasks::parse("{").is_err());
        assert!(FlagMasks::parse("{}").is_err());
        assert!(FlagMasks::parse(r#"{"opcodes": {"00": {"flags-mask": -1}}}"#).is_err());
    }
}
