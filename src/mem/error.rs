//! Errors of the guest-memory layer: requests from loaders and the control
//! API that name memory that does not exist or may not be written.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MemError {
    #[error("RAM size {size} bytes is not supported: it must be a multiple of 4 KiB from {} KiB to {} MiB", min >> 10, max >> 20)]
    BadRamSize { size: u64, min: u64, max: u64 },
    #[error("the host could not reserve {size} bytes of guest RAM: {reason}")]
    MapFailed { size: u64, reason: String },
    #[error("range 0x{addr:x}..0x{:x} ({len} bytes) is outside guest memory (RAM is {ram_size} bytes)", addr.saturating_add(*len))]
    OutOfRange { addr: u64, len: u64, ram_size: u64 },
    #[error("range 0x{addr:x}..0x{:x} overlaps the ROM at 0x{rom_start:x}, which is read-only", addr.saturating_add(*len))]
    WriteToRom { addr: u64, len: u64, rom_start: u64 },
    #[error("ROM 0x{start:x}..0x{end:x} overlaps the ROM already mapped at 0x{other_start:x}..0x{other_end:x}")]
    RomOverlap {
        start: u64,
        end: u64,
        other_start: u64,
        other_end: u64,
    },
    #[error("a ROM of {len} bytes at 0x{start:x} does not fit below 4 GiB")]
    RomOutsideAddressSpace { start: u64, len: u64 },
    #[error("the memory image does not fit this machine: {reason}")]
    BadImage { reason: String },
}
