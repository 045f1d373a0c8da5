//! One ATA channel: the port decode of its command block (base+0 to +7) and
//! control register (alternate status / device control), the two devices'
//! task files (register writes go to both, reads come from the selected
//! one, as on a real cable), the PIO data phase through a sector buffer,
//! software reset, and the interrupt line (INTRQ unless nIEN, cleared by
//! reading the status register or writing a command).

use super::drive::Drive;
use super::regs::*;
use crate::devices::disk_time;
use crate::devices::{IoSize, PortDevice};
use serde::{Deserialize, Serialize};

/// What the data port is doing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Phase {
    /// No transfer.
    #[default]
    Idle,
    /// Sectors to the host: the buffer holds the current block; `left`
    /// sectors from `lba` are still to come, `block` per DRQ block.
    Read { lba: u64, left: u64, block: u32 },
    /// Sectors from the host: the buffer fills with the block for `lba`;
    /// `left` counts it and those after it.
    Write {
        lba: u64,
        left: u64,
        block: u32,
        lba48: bool,
    },
    /// One block to the host (IDENTIFY), then done.
    DataIn,
    /// The 12-byte packet of an ATAPI command, from the host.
    Packet,
    /// An ATAPI reply to the host: `rest` then `left` sectors from `lba`,
    /// at most `limit` bytes per DRQ block.
    PacketIn {
        rest: Vec<u8>,
        lba: u64,
        left: u64,
        limit: u16,
    },
}

/// The transfer in progress.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Transfer {
    /// The device (0 master, 1 slave) it belongs to.
    pub drive: usize,
    pub buf: Vec<u8>,
    pub pos: usize,
    pub phase: Phase,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AtaChannel {
    pub(super) drives: [Option<Drive>; 2],
    pub(super) regs: [TaskFile; 2],
    /// The device control register.
    pub(super) control: u8,
    /// INTRQ is asserted (seen by the PIC unless nIEN).
    pub(super) irq_pending: bool,
    pub(super) xfer: Transfer,
    /// Virtual time the work started since the last look takes (see
    /// `devices/disk_time.rs`); always taken before an instruction ends,
    /// so never in a snapshot.
    #[serde(skip)]
    busy_ns: u64,
}

impl Default for AtaChannel {
    fn default() -> Self {
        AtaChannel::new()
    }
}

impl AtaChannel {
    /// A channel with no drives.
    pub fn new() -> AtaChannel {
        let mut c = AtaChannel {
            drives: [None, None],
            regs: Default::default(),
            control: 0,
            irq_pending: false,
            xfer: Transfer::default(),
            busy_ns: 0,
        };
        c.reset();
        c
    }

    /// Puts `drive` at `slot` (0 master, 1 slave), or removes it.
    pub fn attach(&mut self, slot: usize, drive: Option<Drive>) {
        if let Some(s) = self.drives.get_mut(slot) {
            *s = drive;
        }
        self.reset();
    }

    /// The drive at `slot` (0 master, 1 slave).
    pub fn drive(&self, slot: usize) -> Option<&Drive> {
        self.drives.get(slot)?.as_ref()
    }
    /// The drive at `slot`, to change its media.
    pub fn drive_mut(&mut self, slot: usize) -> Option<&mut Drive> {
        self.drives.get_mut(slot)?.as_mut()
    }

    /// Takes the device state of `saved` (a snapshot's), keeping this
    /// channel's host files for the media that are the same images.
    pub fn restore(&mut self, mut saved: AtaChannel) {
        for (new, old) in saved.drives.iter_mut().zip(&self.drives) {
            if let (Some(new), Some(old)) = (new, old) {
                if let (Some(n), Some(o)) = (new.media.as_mut(), old.media.as_ref()) {
                    n.keep_host_file(o);
                }
            }
        }
        *self = saved;
    }

    /// Takes the virtual time the commands and transfers started since the
    /// last call take.
    pub fn take_busy_ns(&mut self) -> u64 {
        std::mem::take(&mut self.busy_ns)
    }

    /// Charges the moving of `bytes` bytes to or from the medium.
    pub(super) fn charge_transfer(&mut self, bytes: usize) {
        self.busy_ns = self.busy_ns.saturating_add(disk_time::transfer_ns(bytes));
    }

    /// The level of the channel's interrupt line.
    pub fn irq_level(&self) -> bool {
        self.irq_pending && self.control & CTL_NIEN == 0
    }

    pub(super) fn selected(&self) -> usize {
        usize::from(self.regs[0].device & DEV_SLAVE != 0)
    }

    fn no_drives(&self) -> bool {
        self.drives.iter().all(Option::is_none)
    }

    /// Resets both devices as SRST or power-on does: signatures, status,
    /// no transfer, no interrupt.
    fn reset_devices(&mut self) {
        for slot in 0..2 {
            let kind = signature(self.drives[slot].as_ref());
            let r = &mut self.regs[slot];
            r.set_signature(kind);
            r.error = 0x01;
            r.status = match &self.drives[slot] {
                Some(d) if !d.is_atapi() => ST_DRDY | ST_DSC,
                _ => 0,
            };
        }
        self.regs[1].device = DEV_SLAVE;
        self.regs[0].device = 0;
        self.xfer = Transfer::default();
        self.irq_pending = false;
    }

    pub(super) fn raise(&mut self) {
        self.irq_pending = true;
    }

    /// Ends the command on device `d` without error.
    pub(super) fn complete(&mut self, d: usize) {
        self.xfer.phase = Phase::Idle;
        self.regs[d].status = ST_DRDY | ST_DSC;
        self.regs[d].error = 0;
        self.raise();
    }

    /// Ends the command on device `d` with `error` in the error register.
    pub(super) fn fail(&mut self, d: usize, error: u8) {
        self.xfer.phase = Phase::Idle;
        self.xfer.buf.clear();
        self.regs[d].status = ST_DRDY | ST_DSC | ST_ERR;
        self.regs[d].error = error;
        self.raise();
    }

    /// Ends the command on device `d` as aborted.
    pub(super) fn abort(&mut self, d: usize) {
        self.fail(d, ERR_ABRT);
    }

    /// Starts a data-in block of `buf` for device `d`.
    pub(super) fn send_block(&mut self, d: usize, buf: Vec<u8>, phase: Phase) {
        self.charge_transfer(buf.len());
        self.xfer = Transfer {
            drive: d,
            buf,
            pos: 0,
            phase,
        };
        self.regs[d].status = ST_DRDY | ST_DSC | ST_DRQ;
        self.raise();
    }

    /// Starts a data-out block of `len` bytes for device `d`; `interrupt`
    /// says whether this DRQ block raises the line (not the first of a command).
    pub(super) fn receive_block(&mut self, d: usize, len: usize, phase: Phase, interrupt: bool) {
        self.xfer = Transfer {
            drive: d,
            buf: vec![0; len],
            pos: 0,
            phase,
        };
        self.regs[d].status = ST_DRDY | ST_DSC | ST_DRQ;
        if interrupt {
            self.raise();
        }
    }

    fn transferring(&self) -> bool {
        self.xfer.phase != Phase::Idle && self.regs[self.xfer.drive & 1].status & ST_DRQ != 0
    }

    fn data_read(&mut self, size: IoSize) -> u32 {
        if !self.transferring() || matches!(self.xfer.phase, Phase::Write { .. } | Phase::Packet) {
            return 0;
        }
        let n = size_bytes(size);
        let mut v = 0u32;
        for i in 0..n {
            let b = self.xfer.buf.get(self.xfer.pos + i).copied().unwrap_or(0);
            v |= u32::from(b) << (8 * i);
        }
        self.xfer.pos += n;
        if self.xfer.pos >= self.xfer.buf.len() {
            self.block_done();
        }
        v
    }

    fn data_write(&mut self, size: IoSize, value: u32) {
        if !self.transferring() || !matches!(self.xfer.phase, Phase::Write { .. } | Phase::Packet) {
            return;
        }
        for i in 0..size_bytes(size) {
            if let Some(b) = self.xfer.buf.get_mut(self.xfer.pos) {
                *b = (value >> (8 * i)) as u8;
                self.xfer.pos += 1;
            }
        }
        if self.xfer.pos >= self.xfer.buf.len() {
            self.block_done();
        }
    }

    /// The host moved the whole buffer: go on with the command.
    fn block_done(&mut self) {
        let d = self.xfer.drive & 1;
        match std::mem::take(&mut self.xfer.phase) {
            Phase::Idle => {}
            Phase::DataIn => {
                self.regs[d].status = ST_DRDY | ST_DSC;
            }
            Phase::Read { lba, left, block } => {
                if left == 0 {
                    self.regs[d].status = ST_DRDY | ST_DSC;
                } else {
                    self.read_block(d, lba, left, block);
                }
            }
            Phase::Write {
                lba,
                left,
                block,
                lba48,
            } => {
                let buf = std::mem::take(&mut self.xfer.buf);
                self.write_block(d, lba, left, block, lba48, &buf);
            }
            Phase::Packet => {
                let mut cdb = [0u8; 12];
                for (c, b) in cdb.iter_mut().zip(&self.xfer.buf) {
                    *c = *b;
                }
                self.packet(d, cdb);
            }
            Phase::PacketIn {
                rest,
                lba,
                left,
                limit,
            } => self.packet_chunk(d, rest, lba, left, limit),
        }
    }

    fn write_register(&mut self, reg: u16, value: u8) {
        self.control &= !CTL_HOB;
        for r in &mut self.regs {
            match reg {
                1 => (r.hob_feature, r.feature) = (r.feature, value),
                2 => (r.hob_nsector, r.nsector) = (r.nsector, value),
                3 => (r.hob_lba_low, r.lba_low) = (r.lba_low, value),
                4 => (r.hob_lba_mid, r.lba_mid) = (r.lba_mid, value),
                5 => (r.hob_lba_high, r.lba_high) = (r.lba_high, value),
                6 => r.device = value,
                _ => {}
            }
        }
    }

    fn read_register(&mut self, reg: u16) -> u8 {
        if self.no_drives() {
            return 0xFF;
        }
        let d = self.selected();
        let present = self.drives[d].is_some();
        let hob = self.control & CTL_HOB != 0;
        let r = &self.regs[d];
        match reg {
            1 if !present => 0,
            1 => r.error,
            2 if hob => r.hob_nsector,
            2 => r.nsector,
            3 if hob => r.hob_lba_low,
            3 => r.lba_low,
            4 if hob => r.hob_lba_mid,
            4 => r.lba_mid,
            5 if hob => r.hob_lba_high,
            5 => r.lba_high,
            6 => r.device | 0xA0,
            7 => {
                self.irq_pending = false;
                self.status()
            }
            _ => 0xFF,
        }
    }

    /// The selected device's status, without side effects.
    fn status(&self) -> u8 {
        if self.no_drives() {
            return 0xFF;
        }
        let d = self.selected();
        if self.drives[d].is_none() {
            return 0;
        }
        self.regs[d].status
    }

    fn write_control(&mut self, value: u8) {
        let was = self.control;
        self.control = value;
        if value & CTL_SRST != 0 && was & CTL_SRST == 0 {
            self.xfer = Transfer::default();
            for r in &mut self.regs {
                r.status = ST_BSY;
            }
            self.irq_pending = false;
        } else if value & CTL_SRST == 0 && was & CTL_SRST != 0 {
            self.reset_devices();
        }
    }

    fn write_command(&mut self, cmd: u8) {
        let d = self.selected();
        if self.drives[d].is_none() && cmd != 0x90 {
            return;
        }
        if self.regs[d].status & ST_BSY != 0 {
            return;
        }
        self.irq_pending = false;
        self.busy_ns = self.busy_ns.saturating_add(disk_time::COMMAND_NS);
        self.command(d, cmd);
    }
}

/// The signature `drive` (or no drive) shows after a reset.
pub(super) fn signature(drive: Option<&Drive>) -> Signature {
    match drive {
        None => Signature::Absent,
        Some(d) if d.is_atapi() => Signature::Atapi,
        Some(_) => Signature::Ata,
    }
}

fn size_bytes(size: IoSize) -> usize {
    match size {
        IoSize::Byte => 1,
        IoSize::Word => 2,
        IoSize::Dword => 4,
    }
}

impl PortDevice for AtaChannel {
    /// `port`'s low three bits pick the command block register; the control
    /// register's address (0x3F6, 0x376) has bit 9 set, the command
    /// block's (0x1F0-0x1F7, 0x170-0x177) does not.
    fn read(&mut self, port: u16, size: IoSize) -> u32 {
        if port & 0x200 != 0 {
            // Alternate status: no interrupt acknowledge.
            return u32::from(self.status());
        }
        match port & 7 {
            0 => self.data_read(size),
            reg => u32::from(self.read_register(reg)),
        }
    }

    fn write(&mut self, port: u16, size: IoSize, value: u32) {
        if port & 0x200 != 0 {
            self.write_control(value as u8);
            return;
        }
        match port & 7 {
            0 => self.data_write(size, value),
            7 => self.write_command(value as u8),
            reg => self.write_register(reg, value as u8),
        }
    }

    /// Power-on: both devices reset, their host settings forgotten; the
    /// media (and overlays) stay.
    fn reset(&mut self) {
        self.control = 0;
        for d in self.drives.iter_mut().flatten() {
            d.reset();
        }
        self.reset_devices();
    }
}
