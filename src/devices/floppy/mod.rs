//! The floppy disk controller: an Intel 82077AA in PC/AT mode at
//! 0x3F0-0x3F5 and 0x3F7 (0x3F6 is the ATA channel's), on IRQ 6 and DMA
//! channel 2, with drives A: and B:. `mod.rs` holds the registers (DOR,
//! MSR/DSR, the FIFO's phases, DIR/CCR), resets and the interrupt line;
//! `command.rs` the commands; `geometry.rs` the formats an image may
//! have. Data moves by DMA when the board serves the controller's DREQ
//! ([`Fdc::dreq`], through `devices/dma.rs`'s [`DmaDevice`]), or through
//! the FIFO in non-DMA mode (SPECIFY's ND bit). Every command completes
//! at once: seeks take no time, so a run is deterministic. Media are
//! storage-layer [`Disk`]s (overlay, read-only or write-through), whose
//! host files are carried over a snapshot restore by [`Fdc::restore`].

mod command;
mod geometry;
#[cfg(test)]
mod tests;

pub use geometry::{accepted_sizes, Geometry, FORMATS};

use super::dma::DmaDevice;
use super::ByteDevice;
use crate::storage::{Disk, StorageError};
use serde::{Deserialize, Serialize};

/// The controller's IRQ line.
pub const FLOPPY_IRQ: u8 = 6;
/// The ports it decodes: 0x3F0-0x3F5 and 0x3F7.
pub const FLOPPY_PORTS: [(u16, u16); 2] = [(0x3F0, 0x3F5), (0x3F7, 0x3F7)];

// DOR bits.
const DOR_SELECT: u8 = 0x03;
const DOR_NRESET: u8 = 0x04;
const DOR_DMA_GATE: u8 = 0x08;
// MSR bits.
const MSR_RQM: u8 = 0x80;
const MSR_DIO: u8 = 0x40;
const MSR_NDMA: u8 = 0x20;
const MSR_CB: u8 = 0x10;
// DSR bits.
const DSR_RESET: u8 = 0x80;
const DSR_RATE: u8 = 0x03;
/// Sense interrupts owed after a reset: one per drive the chip can address.
const RESET_SENSES: u8 = 4;

/// A drive and the diskette in it, if any.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FloppyDrive {
    /// The diskette; `None` once ejected.
    media: Option<Disk>,
    /// The format of the diskette in the drive (of the last one, while
    /// empty): the drive's CMOS type follows it.
    geometry: Geometry,
    /// Where the head is.
    cylinder: u8,
    /// The sector passing under the head next (READ ID reports it).
    sector: u8,
    /// The disk-change line (DIR bit 7): set when media went in or came
    /// out, cleared by a step (SEEK or RECALIBRATE) with a diskette in.
    changed: bool,
}

impl FloppyDrive {
    /// A drive holding `media`; its format follows from the image's size
    /// (see `geometry.rs`): a size no format has is an error naming the
    /// file and the accepted sizes, and a smaller image is padded.
    pub fn new(media: Disk) -> Result<FloppyDrive, StorageError> {
        let (media, geometry) = fit(media)?;
        Ok(FloppyDrive {
            media: Some(media),
            geometry,
            cylinder: 0,
            sector: 1,
            changed: true,
        })
    }
    /// The diskette in the drive, if any.
    pub fn media(&self) -> Option<&Disk> {
        self.media.as_ref()
    }
    /// The diskette, to commit its overlay.
    pub fn media_mut(&mut self) -> Option<&mut Disk> {
        self.media.as_mut()
    }
    /// Takes the diskette out; the guest sees the disk-change line set.
    pub fn eject(&mut self) {
        self.media = None;
        self.changed = true;
    }
    /// Puts `media` in, replacing any diskette; the guest sees the
    /// disk-change line set. A size no format has is refused and the
    /// drive left as it was.
    pub fn insert(&mut self, media: Disk) -> Result<(), StorageError> {
        let (media, geometry) = fit(media)?;
        self.media = Some(media);
        self.geometry = geometry;
        self.sector = 1;
        self.changed = true;
        Ok(())
    }
    /// Whether the diskette in the drive refuses writes (no diskette: no).
    pub(super) fn write_protected(&self) -> bool {
        self.media.as_ref().is_some_and(Disk::read_only)
    }
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }
    /// The cylinder the head is on.
    pub fn cylinder(&self) -> u8 {
        self.cylinder
    }
}

/// The format `media` has by its size (see `geometry.rs`), with `media`
/// padded to it: a size no format has is an error naming the file and the
/// accepted sizes.
fn fit(mut media: Disk) -> Result<(Disk, Geometry), StorageError> {
    let size = media.sectors() * u64::from(media.sector_size());
    let geometry = Geometry::for_size(size)
        .filter(|_| media.sector_size() == 512)
        .ok_or_else(|| StorageError::WrongSize {
            path: media.path().to_path_buf(),
            size,
            accepted: format!("a floppy image of {}", accepted_sizes()),
        })?;
    media.pad_to(geometry.total_sectors())?;
    Ok((media, geometry))
}

/// Where the controller is in a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    /// Waiting for (more) command bytes.
    Command,
    /// Moving data (by DMA or through the FIFO).
    Execution,
    /// Result bytes to be read.
    Result,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum XferKind {
    Read,
    Write,
    Format,
}

/// A data command in its execution phase.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Transfer {
    kind: XferKind,
    drive: u8,
    /// Physical head.
    head: u8,
    /// The sector ID being transferred (C, H, R, N).
    c: u8,
    h: u8,
    r: u8,
    n: u8,
    /// The last sector number of a track.
    eot: u8,
    multi_track: bool,
    /// Non-DMA: bytes go through the FIFO.
    pio: bool,
    /// The current sector's bytes (a format's four ID bytes).
    buf: Vec<u8>,
    pos: usize,
    /// FORMAT: sectors still to be given an ID, and the fill byte.
    left: u8,
    fill: u8,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fdc {
    drives: [Option<FloppyDrive>; 2],
    dor: u8,
    tdr: u8,
    /// Data rate (bits 0-1) and precompensation, as the DSR holds them.
    dsr: u8,
    phase: Phase,
    /// The command bytes received so far.
    cmd: Vec<u8>,
    /// The result bytes, and how many were read.
    result: Vec<u8>,
    result_pos: usize,
    xfer: Option<Transfer>,
    /// The interrupt output, before the DOR's gate.
    int_pending: bool,
    /// ST0 for SENSE INTERRUPT STATUS after a SEEK or RECALIBRATE.
    seek_st0: Option<u8>,
    /// Sense interrupts still owed after a reset (drives 0..3 in turn).
    reset_senses: u8,
    /// SPECIFY's two bytes (step rate/head unload, head load/non-DMA).
    specify: [u8; 2],
    /// CONFIGURE's second byte (EIS, EFIFO, POLL, FIFOTHR) and PRETRK.
    config: u8,
    pretrk: u8,
    lock: bool,
    perpendicular: u8,
    /// Virtual time the work started since the last look takes (see
    /// `devices/disk_time.rs`); always taken before an instruction ends,
    /// so never in a snapshot.
    #[serde(skip)]
    busy_ns: u64,
}

impl Default for Fdc {
    fn default() -> Self {
        Fdc::new()
    }
}

/// CONFIGURE's power-on value: FIFO off, polling on, and implied seek
/// on, as QEMU has it (the 82077AA starts with it off), because BIOSes
/// written for emulators read other cylinders without seeking first
/// (Bochs's BIOS does).
const CONFIG_DEFAULT: u8 = 0x60;
const CONFIG_EIS: u8 = 0x40;

impl Fdc {
    pub fn new() -> Fdc {
        Fdc {
            drives: [None, None],
            dor: DOR_NRESET | DOR_DMA_GATE,
            tdr: 0,
            dsr: geometry::RATE_500K,
            phase: Phase::Command,
            cmd: Vec::new(),
            result: Vec::new(),
            result_pos: 0,
            xfer: None,
            int_pending: false,
            seek_st0: None,
            reset_senses: 0,
            specify: [0, 0],
            config: CONFIG_DEFAULT,
            pretrk: 0,
            lock: false,
            perpendicular: 0,
            busy_ns: 0,
        }
    }

    /// Puts `drive` in slot `index` (0 A:, 1 B:), or empties it.
    pub fn attach(&mut self, index: usize, drive: Option<FloppyDrive>) {
        if let Some(slot) = self.drives.get_mut(index) {
            *slot = drive;
        }
    }

    /// The drive in slot `index` (0 A:, 1 B:).
    pub fn drive(&self, index: usize) -> Option<&FloppyDrive> {
        self.drives.get(index)?.as_ref()
    }

    /// The drive in slot `index`, to change it.
    pub fn slot_mut(&mut self, index: usize) -> Option<&mut FloppyDrive> {
        self.drives.get_mut(index)?.as_mut()
    }

    /// Takes the device state of `saved` (a snapshot's), keeping this
    /// controller's host files for the media that are the same images.
    pub fn restore(&mut self, mut saved: Fdc) {
        for (new, old) in saved.drives.iter_mut().zip(&self.drives) {
            if let (Some(new), Some(old)) = (
                new.as_mut().and_then(|d| d.media.as_mut()),
                old.as_ref().and_then(|d| d.media.as_ref()),
            ) {
                new.keep_host_file(old);
            }
        }
        *self = saved;
    }

    /// Takes the virtual time the commands and transfers started since the
    /// last call take.
    pub fn take_busy_ns(&mut self) -> u64 {
        std::mem::take(&mut self.busy_ns)
    }

    /// Charges `ns` of virtual time for work just started.
    fn charge(&mut self, ns: u64) {
        self.busy_ns = self.busy_ns.saturating_add(ns);
    }

    /// The level of IRQ 6: an interrupt is pending and the DOR lets it out.
    pub fn irq_level(&self) -> bool {
        self.int_pending && self.dor & (DOR_DMA_GATE | DOR_NRESET) == DOR_DMA_GATE | DOR_NRESET
    }

    /// DREQ on channel 2: a DMA-mode transfer waits for the DMA controller.
    pub fn dreq(&self) -> bool {
        self.phase == Phase::Execution
            && self.dor & DOR_DMA_GATE != 0
            && self.xfer.as_ref().is_some_and(|x| !x.pio)
    }

    fn in_reset(&self) -> bool {
        self.dor & DOR_NRESET == 0
    }

    fn msr(&self) -> u8 {
        if self.in_reset() {
            return 0;
        }
        match self.phase {
            Phase::Command if self.cmd.is_empty() => MSR_RQM,
            Phase::Command => MSR_RQM | MSR_CB,
            Phase::Result => MSR_RQM | MSR_DIO | MSR_CB,
            Phase::Execution => match &self.xfer {
                Some(x) if x.pio && x.kind == XferKind::Read => {
                    MSR_RQM | MSR_DIO | MSR_NDMA | MSR_CB
                }
                Some(x) if x.pio => MSR_RQM | MSR_NDMA | MSR_CB,
                _ => MSR_CB,
            },
        }
    }

    /// A controller reset (DOR bit 2 released, or DSR bit 7): the command
    /// in progress is dropped, CONFIGURE's settings go back unless LOCKed,
    /// and an interrupt is raised whose cause four SENSE INTERRUPT STATUS
    /// commands report (ready changed, drives 0-3).
    fn controller_reset(&mut self) {
        self.phase = Phase::Command;
        self.cmd.clear();
        self.result.clear();
        self.result_pos = 0;
        self.xfer = None;
        self.seek_st0 = None;
        if !self.lock {
            self.config = CONFIG_DEFAULT;
            self.pretrk = 0;
        }
        self.reset_senses = RESET_SENSES;
        self.int_pending = true;
    }

    fn fifo_read(&mut self) -> u8 {
        match self.phase {
            Phase::Result => {
                // Reading the result clears the interrupt.
                self.int_pending = false;
                let v = self.result.get(self.result_pos).copied().unwrap_or(0);
                self.result_pos += 1;
                if self.result_pos >= self.result.len() {
                    self.phase = Phase::Command;
                    self.result.clear();
                    self.result_pos = 0;
                }
                v
            }
            Phase::Execution if self.xfer.as_ref().is_some_and(|x| x.pio) => {
                let mut b = [0u8];
                self.dma_out(&mut b);
                b[0]
            }
            _ => 0xFF,
        }
    }

    fn fifo_write(&mut self, value: u8) {
        match self.phase {
            Phase::Command => {
                self.cmd.push(value);
                if self.cmd.len() >= command::length(self.cmd[0]) {
                    self.execute();
                }
            }
            Phase::Execution if self.xfer.as_ref().is_some_and(|x| x.pio) => {
                self.dma_in(&[value]);
            }
            // Writing during the result phase is ignored (the chip would
            // flag an overrun).
            _ => {}
        }
    }
}

impl ByteDevice for Fdc {
    fn read_byte(&mut self, port: u16) -> u8 {
        match port & 7 {
            // Status registers A and B exist in PS/2 mode only.
            0 | 1 => 0xFF,
            2 => self.dor,
            3 => self.tdr,
            4 => self.msr(),
            5 => self.fifo_read(),
            7 => {
                let sel = usize::from(self.dor & DOR_SELECT);
                let changed = self
                    .drives
                    .get(sel)
                    .and_then(Option::as_ref)
                    .is_some_and(|d| d.changed);
                if changed {
                    0x80
                } else {
                    0
                }
            }
            _ => 0xFF,
        }
    }

    fn write_byte(&mut self, port: u16, value: u8) {
        match port & 7 {
            2 => {
                let was_reset = self.in_reset();
                self.dor = value;
                if self.in_reset() {
                    // Held in reset: nothing runs, no interrupt.
                    self.phase = Phase::Command;
                    self.cmd.clear();
                    self.xfer = None;
                    self.int_pending = false;
                } else if was_reset {
                    self.controller_reset();
                }
            }
            3 => self.tdr = value & 3,
            4 => {
                self.dsr = value & !DSR_RESET;
                if value & DSR_RESET != 0 && !self.in_reset() {
                    self.controller_reset();
                }
            }
            5 if !self.in_reset() => self.fifo_write(value),
            7 => self.dsr = (self.dsr & !DSR_RATE) | (value & DSR_RATE),
            _ => {}
        }
    }

    /// Power-on (the RESET pin): the registers as after a hardware reset,
    /// the drives' media kept, no interrupt.
    fn reset(&mut self) {
        let drives = std::mem::take(&mut self.drives);
        *self = Fdc::new();
        self.drives = drives;
    }
}
