//! The 512-byte blocks IDENTIFY DEVICE and IDENTIFY PACKET DEVICE return
//! (ATA/ATAPI-6 section 8.15/8.16): little-endian words, strings with the
//! bytes of each word swapped, and the integrity word (signature 0xA5 and a
//! checksum making all 512 bytes sum to zero) at the end.

use super::drive::{Drive, MAX_MULTIPLE};

pub const MODEL_DISK: &str = "MOON86 HARDDISK";
pub const MODEL_CDROM: &str = "MOON86 CD-ROM";
const FIRMWARE: &str = "1.0";

struct Block([u16; 256]);

impl Block {
    fn set(&mut self, word: usize, v: u16) {
        self.0[word] = v;
    }
    fn set32(&mut self, word: usize, v: u32) {
        self.0[word] = v as u16;
        self.0[word + 1] = (v >> 16) as u16;
    }
    /// `s` padded with spaces to `words` words, first character in the high byte.
    fn string(&mut self, word: usize, words: usize, s: &str) {
        let mut bytes = vec![b' '; words * 2];
        for (d, c) in bytes.iter_mut().zip(s.bytes()) {
            *d = c;
        }
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            self.0[word + i] = u16::from(pair[0]) << 8 | u16::from(pair[1]);
        }
    }
    fn bytes(mut self) -> Vec<u8> {
        self.0[255] = 0x00A5;
        let mut out: Vec<u8> = self.0.iter().flat_map(|w| w.to_le_bytes()).collect();
        let sum = out[..511].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        out[511] = sum.wrapping_neg();
        out
    }
}

fn serial(drive: &Drive) -> String {
    format!("MN86-{:04}", drive.index)
}

/// IDENTIFY DEVICE for a hard disk.
pub fn identify_disk(drive: &Drive) -> Vec<u8> {
    let mut b = Block([0; 256]);
    let total = drive.sectors();
    let g = drive.geometry();
    let cur = drive.chs;
    b.set(0, 0x0040); // fixed disk
    b.set(1, g.cylinders);
    b.set(3, u16::from(g.heads));
    b.set(4, 512 * u16::from(g.sectors)); // retired: bytes per track
    b.set(5, 512); // retired: bytes per sector
    b.set(6, u16::from(g.sectors));
    b.string(10, 10, &serial(drive));
    b.set(20, 3); // retired: buffer type
    b.set(21, 512); // retired: buffer size
    b.string(23, 4, FIRMWARE);
    b.string(27, 20, MODEL_DISK);
    b.set(47, 0x8000 | u16::from(MAX_MULTIPLE));
    b.set(49, 1 << 9 | 1 << 11); // LBA, IORDY
    b.set(50, 0x4000);
    b.set(51, 0x0200); // PIO mode 2 timing
    b.set(53, 0x0003); // words 54-58 and 64-70 valid
    b.set(54, cur.cylinders);
    b.set(55, u16::from(cur.heads));
    b.set(56, u16::from(cur.sectors));
    b.set32(57, cur.capacity().min(u64::from(u32::MAX)) as u32);
    b.set(
        59,
        if drive.multiple != 0 {
            0x0100 | u16::from(drive.multiple)
        } else {
            0
        },
    );
    b.set32(60, total.min(0x0FFF_FFFF) as u32);
    b.set(64, 0x0003); // PIO modes 3 and 4
    b.set(65, 120);
    b.set(66, 120);
    b.set(67, 120);
    b.set(68, 120);
    b.set(80, 0x007E); // ATA-1 to ATA-6
    b.set(82, 1 << 14); // NOP
    b.set(83, 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10); // FLUSH CACHE (EXT), 48-bit
    b.set(84, 1 << 14);
    b.set(85, 1 << 14);
    b.set(86, 1 << 13 | 1 << 12 | 1 << 10);
    b.set(87, 1 << 14);
    b.set32(100, total as u32);
    b.set32(102, (total >> 32) as u32);
    b.bytes()
}

/// IDENTIFY PACKET DEVICE for a CD-ROM.
pub fn identify_packet(drive: &Drive) -> Vec<u8> {
    let mut b = Block([0; 256]);
    // ATAPI, CD-ROM, removable, accelerated DRQ, 12-byte packets.
    b.set(0, 0x8000 | 0x05 << 8 | 0x80 | 0x40);
    b.string(10, 10, &serial(drive));
    b.string(23, 4, FIRMWARE);
    b.string(27, 20, MODEL_CDROM);
    b.set(49, 1 << 9 | 1 << 11); // LBA, IORDY
    b.set(51, 0x0200);
    b.set(53, 0x0002); // words 64-70 valid
    b.set(64, 0x0003);
    b.set(65, 120);
    b.set(66, 120);
    b.set(67, 120);
    b.set(68, 120);
    b.set(80, 0x001E); // ATA-1 to ATA-4
    b.set(82, 1 << 14 | 1 << 4); // NOP, PACKET
    b.set(83, 1 << 14);
    b.set(84, 1 << 14);
    b.set(85, 1 << 14 | 1 << 4);
    b.set(87, 1 << 14);
    b.bytes()
}
