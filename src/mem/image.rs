//! A copy of guest memory's contents for snapshots ([`MemImage`]): the RAM
//! pages that are not all zero (most of a large, lightly used RAM is never
//! stored) and the ROM mappings with their bytes. Taking an image reads
//! memory only; putting one back checks the whole image first (size,
//! page numbers, ROM placement), so a bad image leaves memory untouched,
//! then replaces RAM and ROM and renews every code-page stamp, so no
//! decoded instruction cached before the restore is ever used again.

use super::code::PAGE_SHIFT;
use super::{GuestMemory, MemError, RomRegion};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Bytes per stored page.
const PAGE: usize = 1 << PAGE_SHIFT;

/// Guest memory's contents: RAM (sparse) and the ROM mappings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemImage {
    /// Size of the RAM the image was taken from.
    ram_size: u64,
    /// Numbers (address >> 12) of the RAM pages that are not all zero, ascending.
    pages: Vec<u32>,
    /// Their contents, 4 KiB each, in the order of `pages`.
    #[serde(with = "bytes")]
    data: Vec<u8>,
    /// The ROM mappings in mapping order.
    roms: Vec<RomImage>,
}

/// One ROM mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct RomImage {
    start: u32,
    #[serde(with = "bytes")]
    data: Arc<[u8]>,
}

impl MemImage {
    /// Size of the RAM the image was taken from.
    pub fn ram_size(&self) -> u64 {
        self.ram_size
    }
    /// How many 4 KiB RAM pages the image stores (the others are zero).
    pub fn stored_pages(&self) -> usize {
        self.pages.len()
    }
}

impl GuestMemory {
    /// An image of RAM and ROM as they are now.
    pub fn image(&self) -> MemImage {
        let ram = self.ram.bytes();
        let mut pages = Vec::new();
        let mut data = Vec::new();
        for (n, page) in ram.chunks_exact(PAGE).enumerate() {
            if page.iter().any(|&b| b != 0) {
                pages.push(n as u32);
                data.extend_from_slice(page);
            }
        }
        let roms = self
            .roms
            .iter()
            .map(|r| RomImage {
                start: r.start() as u32,
                data: r.data().clone(),
            })
            .collect();
        MemImage {
            ram_size: self.ram_size(),
            pages,
            data,
            roms,
        }
    }

    /// Checks that `image` fits this memory: the same RAM size, page
    /// numbers ascending and inside RAM with 4 KiB of data each, ROM
    /// regions inside the address space and not overlapping.
    pub fn check_image(&self, image: &MemImage) -> Result<(), MemError> {
        let bad = |reason: String| Err(MemError::BadImage { reason });
        if image.ram_size != self.ram_size() {
            return bad(format!(
                "it holds {} bytes of RAM, this machine has {}",
                image.ram_size,
                self.ram_size()
            ));
        }
        let ram_pages = self.ram_size() >> PAGE_SHIFT;
        if image.pages.windows(2).any(|w| w[0] >= w[1]) {
            return bad("its RAM pages are not in ascending order".into());
        }
        if let Some(&last) = image.pages.last() {
            if u64::from(last) >= ram_pages {
                return bad(format!(
                    "RAM page {last} lies beyond the {ram_pages} pages of RAM"
                ));
            }
        }
        if image.data.len() as u64 != image.pages.len() as u64 * PAGE as u64 {
            return bad(format!(
                "{} bytes of RAM data for {} pages",
                image.data.len(),
                image.pages.len()
            ));
        }
        let mut regions: Vec<RomRegion> = Vec::new();
        for rom in &image.roms {
            let region = RomRegion::new(rom.start, rom.data.clone())?;
            if let Some(other) = regions.iter().find(|r| r.overlaps(&region)) {
                return Err(MemError::RomOverlap {
                    start: region.start(),
                    end: region.end(),
                    other_start: other.start(),
                    other_end: other.end(),
                });
            }
            regions.push(region);
        }
        Ok(())
    }

    /// Replaces RAM and ROM with `image`. Nothing changes unless
    /// [`GuestMemory::check_image`] accepts it.
    pub fn restore_image(&mut self, image: &MemImage) -> Result<(), MemError> {
        self.check_image(image)?;
        self.ram.clear();
        for (&page, bytes) in image.pages.iter().zip(image.data.chunks_exact(PAGE)) {
            self.ram.write(u64::from(page) << PAGE_SHIFT, bytes);
        }
        self.roms = image
            .roms
            .iter()
            .filter_map(|r| RomRegion::new(r.start, r.data.clone()).ok())
            .collect();
        self.update_overlay();
        self.code.renew_all();
        Ok(())
    }
}

/// Byte strings (`Vec<u8>`, `Arc<[u8]>`) stored as one serde byte string
/// rather than a sequence of numbers: one length and a block copy.
mod bytes {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer, T: AsRef<[u8]>>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v.as_ref())
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: From<Vec<u8>>>(d: D) -> Result<T, D::Error> {
        d.deserialize_byte_buf(BytesVisitor).map(T::from)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a byte string")
        }
        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(b) = seq.next_element::<u8>()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_stores_only_used_pages_and_puts_them_back() {
        let mut m = GuestMemory::new(1 << 20).unwrap();
        m.write_bytes(0x1000, b"hello").unwrap();
        m.write_bytes(0x8_0FFE, b"across").unwrap();
        m.map_rom(0xF_0000, Arc::from(vec![0xAA; 0x1000])).unwrap();
        let image = m.image();
        assert_eq!(image.stored_pages(), 3);
        let bytes = postcard::to_allocvec(&image).unwrap();
        assert!(bytes.len() < 4 * PAGE + 64, "{} bytes", bytes.len());
        let back: MemImage = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, image);

        let mut other = GuestMemory::new(1 << 20).unwrap();
        other.write_bytes(0x5000, b"gone").unwrap();
        let stamp = other.mark_code(0x5000, 4).unwrap();
        other.restore_image(&back).unwrap();
        let mut buf = [0u8; 6];
        other.read_bytes(0x8_0FFE, &mut buf).unwrap();
        assert_eq!(&buf, b"across");
        other.read_bytes(0x5000, &mut buf[..4]).unwrap();
        assert_eq!(&buf[..4], &[0; 4]);
        assert_eq!(other.read_u8(0xF_0000), 0xAA);
        assert_ne!(other.code_stamp(0x5000), Some(stamp), "stamps are renewed");
        assert_eq!(other.image(), image);
    }

    #[test]
    fn a_bad_image_changes_nothing() {
        let m = GuestMemory::new(1 << 20).unwrap();
        let good = m.image();
        let mut target = GuestMemory::new(1 << 20).unwrap();
        target.write_bytes(0x2000, b"keep").unwrap();
        let bad_images = [
            MemImage {
                ram_size: 2 << 20,
                ..good.clone()
            },
            MemImage {
                pages: vec![256],
                data: vec![1; PAGE],
                ..good.clone()
            },
            MemImage {
                pages: vec![3, 2],
                data: vec![1; 2 * PAGE],
                ..good.clone()
            },
            MemImage {
                pages: vec![1],
                data: vec![1; 5],
                ..good.clone()
            },
            MemImage {
                roms: vec![
                    RomImage {
                        start: 0xF_0000,
                        data: Arc::from(vec![1; 0x2000]),
                    },
                    RomImage {
                        start: 0xF_1000,
                        data: Arc::from(vec![1; 0x1000]),
                    },
                ],
                ..good.clone()
            },
            MemImage {
                roms: vec![RomImage {
                    start: 0xFFFF_F000,
                    data: Arc::from(vec![1; 0x2000]),
                }],
                ..good
            },
        ];
        for bad in bad_images {
            assert!(target.restore_image(&bad).is_err(), "{bad:?}");
            let mut buf = [0u8; 4];
            target.read_bytes(0x2000, &mut buf).unwrap();
            assert_eq!(&buf, b"keep");
        }
    }
}
