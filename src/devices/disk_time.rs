//! How long a disk operation takes in virtual time: one rule for the ATA
//! disks, the ATAPI CD-ROMs and the floppy drives. A command costs
//! [`COMMAND_NS`] and every byte it moves [`NS_PER_BYTE`] (100 MB/s, far
//! faster than a floppy, near a PATA disk's UDMA rate). The time is
//! charged as a stall of the CPU at the port access that starts the work
//! (as a drive holding IORDY would stall it), so the guest's clock moves
//! on by exactly this much and no faster or slower host changes what the
//! guest sees; polling a status register never costs host time. The stall
//! ends early at the next device event (a timer), so no interrupt is
//! delivered late.

/// The fixed cost of a command (seek, rotation, protocol).
pub const COMMAND_NS: u64 = 10_000;
/// The cost of each byte moved between the medium and the host.
pub const NS_PER_BYTE: u64 = 10;

/// The virtual time moving `bytes` bytes takes.
pub fn transfer_ns(bytes: usize) -> u64 {
    (bytes as u64).saturating_mul(NS_PER_BYTE)
}
