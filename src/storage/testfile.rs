//! Scratch image files for the storage and ATA tests, removed when dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub struct TestFile(PathBuf);

impl TestFile {
    /// A new file holding `bytes`.
    pub fn new(bytes: &[u8]) -> TestFile {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "moon86-storage-{}-{}.img",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, bytes).unwrap();
        TestFile(path)
    }
    /// A disk of `sectors` 512-byte sectors, each filled with a pattern
    /// from its number and offset.
    pub fn disk(sectors: u64) -> TestFile {
        TestFile::new(&pattern(512, sectors))
    }
    /// A disk of `sectors` zero sectors, sparse on the host.
    pub fn sparse(sectors: u64) -> TestFile {
        let f = TestFile::new(&[]);
        std::fs::OpenOptions::new()
            .write(true)
            .open(f.path())
            .unwrap()
            .set_len(sectors * 512)
            .unwrap();
        f
    }
    /// An ISO-like CD of `sectors` 2048-byte sectors with a volume
    /// descriptor at sector 16.
    pub fn cd(sectors: u64) -> TestFile {
        let mut bytes = pattern(2048, sectors);
        bytes[16 * 2048..16 * 2048 + 6].copy_from_slice(b"\x01CD001");
        TestFile::new(&bytes)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// `sectors` sectors of `size` bytes: byte i of sector s is (s * 7 + i) as u8
/// with the sector number in the first four bytes.
pub fn pattern(size: usize, sectors: u64) -> Vec<u8> {
    let mut v = vec![0u8; size * sectors as usize];
    for (s, chunk) in v.chunks_exact_mut(size).enumerate() {
        for (i, b) in chunk.iter_mut().enumerate() {
            *b = (s * 7 + i) as u8;
        }
        chunk[..4].copy_from_slice(&(s as u32).to_le_bytes());
    }
    v
}

impl Drop for TestFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
