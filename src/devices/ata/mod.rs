//! The ATA/IDE controller: two channels (primary at 0x1F0-0x1F7 and 0x3F6 on
//! IRQ 14, secondary at 0x170-0x177 and 0x376 on IRQ 15), each with a master
//! and a slave that are hard disks or ATAPI CD-ROMs. `regs.rs` is the task
//! file, `channel.rs` the port decode, PIO data transfer and interrupt line,
//! `drive.rs` a drive and its media, `identify.rs` the IDENTIFY blocks,
//! `command.rs` the ATA commands and `atapi.rs` the packet commands of a
//! CD-ROM with its sense data. Every command completes at once (no busy
//! time is visible), so runs are deterministic; the data port moves a word
//! or dword per access out of a sector buffer. The media are
//! `storage::Disk`s: their overlays are device state, their host files are
//! not (see [`AtaChannel::restore`]). Nothing here reads the host clock or
//! calls up into the machine.

mod atapi;
mod channel;
mod command;
mod drive;
mod identify;
mod regs;
#[cfg(test)]
mod tests;

pub use channel::AtaChannel;
pub use drive::{Drive, Geometry};

/// The primary channel's command block (0x1F0-0x1F7).
pub const ATA_PRIMARY: u16 = 0x1F0;
/// The primary channel's control block (alternate status / device control).
pub const ATA_PRIMARY_CTL: u16 = 0x3F6;
/// The secondary channel's command block (0x170-0x177).
pub const ATA_SECONDARY: u16 = 0x170;
/// The secondary channel's control block.
pub const ATA_SECONDARY_CTL: u16 = 0x376;
/// The PIC lines of the primary and secondary channels.
pub const ATA_IRQS: [u8; 2] = [14, 15];
