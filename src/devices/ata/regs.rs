//! The task file of one device: the command block registers with their
//! "previous content" halves for 48-bit commands (HOB), status and error,
//! and their bits.

use serde::{Deserialize, Serialize};

pub const ST_ERR: u8 = 0x01;
pub const ST_DRQ: u8 = 0x08;
pub const ST_DSC: u8 = 0x10;
pub const ST_DRDY: u8 = 0x40;
pub const ST_BSY: u8 = 0x80;

pub const ERR_ABRT: u8 = 0x04;
pub const ERR_IDNF: u8 = 0x10;
pub const ERR_UNC: u8 = 0x40;

/// Device control: interrupts disabled.
pub const CTL_NIEN: u8 = 0x02;
/// Device control: software reset.
pub const CTL_SRST: u8 = 0x04;
/// Device control: read the previous (high-order) register contents.
pub const CTL_HOB: u8 = 0x80;

/// Device/head: LBA addressing.
pub const DEV_LBA: u8 = 0x40;
/// Device/head: the slave.
pub const DEV_SLAVE: u8 = 0x10;

/// ATAPI interrupt reason (in the sector count register): command/data.
pub const IR_COD: u8 = 0x01;
/// ATAPI interrupt reason: to the host.
pub const IR_IO: u8 = 0x02;

/// One device's registers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFile {
    pub feature: u8,
    pub nsector: u8,
    pub lba_low: u8,
    pub lba_mid: u8,
    pub lba_high: u8,
    pub hob_feature: u8,
    pub hob_nsector: u8,
    pub hob_lba_low: u8,
    pub hob_lba_mid: u8,
    pub hob_lba_high: u8,
    pub device: u8,
    pub status: u8,
    pub error: u8,
}

impl TaskFile {
    /// The 28-bit LBA of the registers.
    pub fn lba28(&self) -> u64 {
        u64::from(self.device & 0x0F) << 24
            | u64::from(self.lba_high) << 16
            | u64::from(self.lba_mid) << 8
            | u64::from(self.lba_low)
    }
    /// The 48-bit LBA of the registers and their previous contents.
    pub fn lba48(&self) -> u64 {
        u64::from(self.hob_lba_high) << 40
            | u64::from(self.hob_lba_mid) << 32
            | u64::from(self.hob_lba_low) << 24
            | u64::from(self.lba_high) << 16
            | u64::from(self.lba_mid) << 8
            | u64::from(self.lba_low)
    }
    /// The sector count of a 28-bit command (0 means 256).
    pub fn count28(&self) -> u64 {
        match self.nsector {
            0 => 256,
            n => u64::from(n),
        }
    }
    /// The sector count of a 48-bit command (0 means 65536).
    pub fn count48(&self) -> u64 {
        match u64::from(self.hob_nsector) << 8 | u64::from(self.nsector) {
            0 => 65536,
            n => n,
        }
    }
    /// Puts `lba` back in the LBA registers (where a failed command stopped).
    pub fn set_lba(&mut self, lba: u64, lba48: bool) {
        self.lba_low = lba as u8;
        self.lba_mid = (lba >> 8) as u8;
        self.lba_high = (lba >> 16) as u8;
        if lba48 {
            self.hob_lba_low = (lba >> 24) as u8;
            self.hob_lba_mid = (lba >> 32) as u8;
            self.hob_lba_high = (lba >> 40) as u8;
        } else {
            self.device = (self.device & 0xF0) | ((lba >> 24) as u8 & 0x0F);
        }
    }
    /// The reset signature of an ATA or ATAPI device, or 0xFF/0xFF in the
    /// cylinder registers where there is no device (as QEMU leaves them).
    pub fn set_signature(&mut self, kind: Signature) {
        self.nsector = 1;
        self.lba_low = 1;
        (self.lba_mid, self.lba_high) = match kind {
            Signature::Ata => (0, 0),
            Signature::Atapi => (0x14, 0xEB),
            Signature::Absent => (0xFF, 0xFF),
        };
        self.device &= DEV_SLAVE;
    }
}

/// Whose signature [`TaskFile::set_signature`] loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    Ata,
    Atapi,
    Absent,
}
