//! Floppy formats: the geometry an image of a given size has, the data
//! rate its media is read at, and the CMOS drive type of the drive it goes
//! in. An image of a standard size gets that format. An image of whole
//! 512-byte sectors that is smaller than some format but not a standard
//! size (GRUB's rescue floppy is 1,296,384 bytes) is taken as the smallest
//! format that holds it, its missing tail reading as zeros, as QEMU does;
//! anything larger than 2.88M, or not whole sectors, is refused.

use serde::{Deserialize, Serialize};

/// Data rates as the CCR/DSR encode them.
pub const RATE_500K: u8 = 0;
pub const RATE_300K: u8 = 1;
pub const RATE_250K: u8 = 2;
pub const RATE_1M: u8 = 3;

/// One floppy format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    pub cylinders: u8,
    pub heads: u8,
    /// Sectors per track (numbered from 1).
    pub sectors: u8,
    /// The data rate the media is read at (`RATE_*`).
    pub rate: u8,
    /// The CMOS drive type of the drive it is put in (register 0x10):
    /// 1 360K 5.25", 2 1.2M 5.25", 3 720K 3.5", 4 1.44M 3.5", 5 2.88M 3.5".
    pub cmos_type: u8,
}

impl Geometry {
    pub const fn total_sectors(&self) -> u64 {
        self.cylinders as u64 * self.heads as u64 * self.sectors as u64
    }
    pub const fn bytes(&self) -> u64 {
        self.total_sectors() * 512
    }
    /// The LBA of cylinder `c`, head `h`, sector `s` (from 1), if it exists.
    pub fn lba(&self, c: u8, h: u8, s: u8) -> Option<u64> {
        (c < self.cylinders && h < self.heads && s >= 1 && s <= self.sectors).then(|| {
            (u64::from(c) * u64::from(self.heads) + u64::from(h)) * u64::from(self.sectors)
                + u64::from(s - 1)
        })
    }

    /// The format of an image of `size` bytes (see the module's note).
    pub fn for_size(size: u64) -> Option<Geometry> {
        if size == 0 || !size.is_multiple_of(512) {
            return None;
        }
        FORMATS.iter().map(|f| f.1).find(|g| g.bytes() >= size)
    }

    /// True when `size` is exactly one of the formats.
    pub fn is_standard(size: u64) -> bool {
        FORMATS.iter().any(|f| f.1.bytes() == size)
    }
}

const fn g(cylinders: u8, heads: u8, sectors: u8, rate: u8, cmos_type: u8) -> Geometry {
    Geometry {
        cylinders,
        heads,
        sectors,
        rate,
        cmos_type,
    }
}

/// The formats by size, smallest first. The rates are those SeaBIOS
/// tries for each (a 5.25" double-density disk at 300 kbit/s, as in a
/// high-density drive).
pub const FORMATS: [(&str, Geometry); 9] = [
    ("160K", g(40, 1, 8, RATE_250K, 1)),
    ("180K", g(40, 1, 9, RATE_300K, 1)),
    ("320K", g(40, 2, 8, RATE_250K, 1)),
    ("360K", g(40, 2, 9, RATE_300K, 1)),
    ("720K", g(80, 2, 9, RATE_250K, 3)),
    ("1.2M", g(80, 2, 15, RATE_500K, 2)),
    ("1.44M", g(80, 2, 18, RATE_500K, 4)),
    ("1.68M", g(80, 2, 21, RATE_500K, 4)),
    ("2.88M", g(80, 2, 36, RATE_1M, 5)),
];

/// The accepted sizes, for error messages.
pub fn accepted_sizes() -> String {
    let list: Vec<String> = FORMATS
        .iter()
        .map(|(name, g)| format!("{name} ({} bytes)", g.bytes()))
        .collect();
    format!(
        "{}; a smaller image of whole 512-byte sectors is padded to the next of these",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_give_their_formats_and_odd_sizes_the_next_larger() {
        assert_eq!(Geometry::for_size(1_474_560).unwrap().sectors, 18);
        assert_eq!(Geometry::for_size(1_720_320).unwrap().sectors, 21);
        assert_eq!(Geometry::for_size(2_949_120).unwrap().sectors, 36);
        assert_eq!(Geometry::for_size(163_840).unwrap().heads, 1);
        assert_eq!(Geometry::for_size(368_640).unwrap().cmos_type, 1);
        let grub = Geometry::for_size(1_296_384).unwrap();
        assert_eq!((grub.cylinders, grub.sectors), (80, 18));
        assert!(!Geometry::is_standard(1_296_384));
        assert!(Geometry::for_size(2_949_120 + 512).is_none());
        assert!(Geometry::for_size(1000).is_none());
        assert!(Geometry::for_size(0).is_none());
        for (name, g) in FORMATS {
            assert!(Geometry::is_standard(g.bytes()), "{name}");
            assert!(accepted_sizes().contains(name));
        }
    }

    #[test]
    fn chs_maps_to_lba_as_a_bios_counts() {
        let g = Geometry::for_size(1_474_560).unwrap();
        assert_eq!(g.lba(0, 0, 1), Some(0));
        assert_eq!(g.lba(0, 1, 1), Some(18));
        assert_eq!(g.lba(1, 0, 3), Some(38));
        assert_eq!(g.lba(79, 1, 18), Some(2879));
        assert_eq!(g.lba(0, 0, 19), None);
        assert_eq!(g.lba(0, 0, 0), None);
        assert_eq!(g.lba(80, 0, 1), None);
        assert_eq!(g.lba(0, 2, 1), None);
    }
}
