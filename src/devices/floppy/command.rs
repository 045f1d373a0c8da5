//! The controller's commands: how many bytes each takes, what each does,
//! and the data phase of READ DATA, WRITE DATA and FORMAT TRACK, which the
//! DMA controller (or the FIFO in non-DMA mode) drives through
//! [`DmaDevice`]. A transfer ends at DMA terminal count, or after the last
//! sector of the track (of both tracks with MT), with the next sector's ID
//! in the result, as the 82077AA reports it. Media that cannot hold the
//! sector asked for (no such track, cylinder, sector or size, or a data
//! rate the media is not read at) end the command with the ST1/ST2 bits
//! a real drive gives.

use super::{Fdc, FloppyDrive, Phase, Transfer, XferKind, CONFIG_EIS};
use crate::devices::disk_time;
use crate::devices::dma::DmaDevice;

// ST0.
const ST0_ABNORMAL: u8 = 0x40;
const ST0_INVALID: u8 = 0x80;
const ST0_READY_CHANGED: u8 = 0xC0;
const ST0_SEEK_END: u8 = 0x20;
const ST0_EQUIPMENT: u8 = 0x10;
// ST1.
const ST1_DATA_ERROR: u8 = 0x20;
const ST1_NO_DATA: u8 = 0x04;
const ST1_NOT_WRITABLE: u8 = 0x02;
const ST1_MISSING_ADDRESS: u8 = 0x01;
// ST2.
const ST2_DATA_ERROR: u8 = 0x20;
const ST2_WRONG_CYLINDER: u8 = 0x10;
const ST2_BAD_CYLINDER: u8 = 0x02;
// ST3.
const ST3_WRITE_PROTECTED: u8 = 0x40;
const ST3_READY_TWO_SIDED: u8 = 0x28;
const ST3_TRACK0: u8 = 0x10;

const SECTOR: usize = 512;
/// N for 512-byte sectors.
const SIZE_CODE: u8 = 2;

/// The 82077AA's answer to VERSION.
const VERSION_82077: u8 = 0x90;

/// The command bytes (the opcode's included) the command of opcode `op`
/// takes; an opcode the controller does not know takes only itself.
pub(super) fn length(op: u8) -> usize {
    match op {
        0x03 => 3,                   // SPECIFY
        0x04 | 0x07 => 2,            // SENSE DRIVE STATUS, RECALIBRATE
        0x0F => 3,                   // SEEK
        0x12 => 2,                   // PERPENDICULAR MODE
        0x13 => 4,                   // CONFIGURE
        0x0A | 0x4A => 2,            // READ ID
        0x0D | 0x4D => 6,            // FORMAT TRACK
        _ if op & 0x1F == 0x06 => 9, // READ DATA (MT, MFM, SK)
        _ if op & 0x3F == 0x05 => 9, // WRITE DATA (MT, MFM)
        _ => 1,
    }
}

/// What went wrong finding a sector.
struct Failure {
    st0: u8,
    st1: u8,
    st2: u8,
}

const fn fail(st1: u8, st2: u8) -> Failure {
    Failure {
        st0: ST0_ABNORMAL,
        st1,
        st2,
    }
}

impl Fdc {
    /// Runs the command in `self.cmd` (all its bytes are there).
    pub(super) fn execute(&mut self) {
        let cmd = std::mem::take(&mut self.cmd);
        let op = cmd[0];
        let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
        match op {
            0x03 => {
                self.specify = [arg(1), arg(2)];
                self.phase = Phase::Command;
            }
            0x04 => {
                let ds = arg(1) & 3;
                let head = (arg(1) >> 2) & 1;
                let mut st3 = ST3_READY_TWO_SIDED | head << 2 | ds;
                if let Some(d) = self.drive_mut(ds) {
                    if d.write_protected() {
                        st3 |= ST3_WRITE_PROTECTED;
                    }
                    if d.cylinder == 0 {
                        st3 |= ST3_TRACK0;
                    }
                }
                self.respond(&[st3], false);
            }
            0x07 => {
                let ds = arg(1) & 3;
                let st0 = match self.drive_mut(ds) {
                    Some(d) => {
                        d.cylinder = 0;
                        d.changed &= d.media.is_none();
                        ST0_SEEK_END | ds
                    }
                    // No drive: track 0 is never found.
                    None => ST0_ABNORMAL | ST0_SEEK_END | ST0_EQUIPMENT | ds,
                };
                self.seek_done(st0);
            }
            0x0F => {
                let ds = arg(1) & 3;
                let head = (arg(1) >> 2) & 1;
                if let Some(d) = self.drive_mut(ds) {
                    d.cylinder = arg(2);
                    d.changed &= d.media.is_none();
                }
                self.seek_done(ST0_SEEK_END | head << 2 | ds);
            }
            0x08 => self.sense_interrupt(),
            0x0E => {
                let pcn = |i: u8| self.drive_ref(i).map_or(0, |d| d.cylinder);
                let eot = self.drive_ref(0).map_or(0, |d| d.geometry.sectors);
                let regs = [
                    pcn(0),
                    pcn(1),
                    0,
                    0,
                    self.specify[0],
                    self.specify[1],
                    eot,
                    u8::from(self.lock) << 7 | (self.perpendicular & 0x0F) << 2,
                    self.config,
                    self.pretrk,
                ];
                self.respond(&regs, false);
            }
            0x10 => self.respond(&[VERSION_82077], false),
            0x12 => {
                // Bit 7 (OW) says whether D0-D3 are to be written.
                if arg(1) & 0x80 != 0 {
                    self.perpendicular = arg(1) & 0x0F;
                }
                self.phase = Phase::Command;
            }
            0x13 => {
                self.config = arg(2);
                self.pretrk = arg(3);
                self.phase = Phase::Command;
            }
            0x14 | 0x94 => {
                self.lock = op & 0x80 != 0;
                self.respond(&[u8::from(self.lock) << 4], false);
            }
            0x0A | 0x4A => self.read_id(arg(1)),
            0x0D | 0x4D => self.start_format(&cmd),
            _ if op & 0x1F == 0x06 => self.start_transfer(XferKind::Read, &cmd),
            _ if op & 0x3F == 0x05 => self.start_transfer(XferKind::Write, &cmd),
            _ => self.respond(&[ST0_INVALID], false),
        }
    }

    fn drive_mut(&mut self, ds: u8) -> Option<&mut FloppyDrive> {
        self.drives.get_mut(usize::from(ds))?.as_mut()
    }
    fn drive_ref(&self, ds: u8) -> Option<&FloppyDrive> {
        self.drives.get(usize::from(ds))?.as_ref()
    }

    /// Enters the result phase with `bytes`, raising the interrupt if `irq`.
    fn respond(&mut self, bytes: &[u8], irq: bool) {
        self.result = bytes.to_vec();
        self.result_pos = 0;
        self.phase = Phase::Result;
        if irq {
            self.int_pending = true;
        }
    }

    /// A SEEK or RECALIBRATE ended: no result phase, an interrupt whose
    /// status SENSE INTERRUPT STATUS reads.
    fn seek_done(&mut self, st0: u8) {
        self.seek_st0 = Some(st0);
        self.phase = Phase::Command;
        self.int_pending = true;
    }

    fn sense_interrupt(&mut self) {
        let (st0, ds) = if let Some(st0) = self.seek_st0.take() {
            (st0, st0 & 3)
        } else if self.reset_senses > 0 {
            let ds = super::RESET_SENSES - self.reset_senses;
            self.reset_senses -= 1;
            (ST0_READY_CHANGED | ds, ds)
        } else {
            return self.respond(&[ST0_INVALID], false);
        };
        let pcn = self.drive_ref(ds).map_or(0, |d| d.cylinder);
        self.int_pending = self.seek_st0.is_some();
        self.respond(&[st0, pcn], false);
    }

    /// Checks that the drive `ds` can find tracks at the data rate set:
    /// the drive exists and its media is read at that rate.
    fn track_failure(&self, ds: u8, head: u8) -> Option<Failure> {
        // No drive, or no diskette in it: no index hole, no address mark.
        let Some(d) = self.drive_ref(ds).filter(|d| d.media.is_some()) else {
            return Some(fail(ST1_MISSING_ADDRESS, 0));
        };
        let g = d.geometry;
        if self.dsr & super::DSR_RATE != g.rate || d.cylinder >= g.cylinders || head >= g.heads {
            return Some(fail(ST1_MISSING_ADDRESS, 0));
        }
        None
    }

    fn read_id(&mut self, arg: u8) {
        let (ds, head) = (arg & 3, (arg >> 2) & 1);
        let st0 = head << 2 | ds;
        if let Some(f) = self.track_failure(ds, head) {
            return self.respond(&[f.st0 | st0, f.st1, f.st2, 0, 0, 0, 0], true);
        }
        let Some(d) = self.drive_mut(ds) else {
            return;
        };
        let (c, r) = (d.cylinder, d.sector);
        // (A crafted snapshot may hold a geometry of no sectors.)
        d.sector = r.checked_rem(d.geometry.sectors).unwrap_or(0) + 1;
        self.respond(&[st0, 0, 0, c, head, r, SIZE_CODE], true);
    }

    /// The LBA of sector ID (c, h, r, n) on drive `ds`'s current track
    /// under physical head `head`, or why it is not there.
    fn locate(&self, ds: u8, head: u8, id: [u8; 4]) -> Result<u64, Failure> {
        if let Some(f) = self.track_failure(ds, head) {
            return Err(f);
        }
        let d = self.drive_ref(ds).ok_or(fail(ST1_MISSING_ADDRESS, 0))?;
        let [c, h, r, n] = id;
        if c != d.cylinder {
            let st2 = if c == 0xFF {
                ST2_BAD_CYLINDER
            } else {
                ST2_WRONG_CYLINDER
            };
            return Err(fail(ST1_NO_DATA, st2));
        }
        if h != head || n != SIZE_CODE {
            return Err(fail(ST1_NO_DATA, 0));
        }
        d.geometry.lba(c, head, r).ok_or(fail(ST1_NO_DATA, 0))
    }

    fn start_transfer(&mut self, kind: XferKind, cmd: &[u8]) {
        self.charge(disk_time::COMMAND_NS);
        let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
        let (ds, head) = (arg(1) & 3, (arg(1) >> 2) & 1);
        let mut x = Transfer {
            kind,
            drive: ds,
            head,
            c: arg(2),
            h: arg(3),
            r: arg(4),
            n: arg(5),
            eot: arg(6),
            multi_track: cmd[0] & 0x80 != 0,
            pio: self.specify[1] & 1 != 0,
            buf: Vec::new(),
            pos: 0,
            left: 0,
            fill: 0,
        };
        if self.config & CONFIG_EIS != 0 {
            if let Some(d) = self.drive_mut(ds) {
                d.cylinder = x.c;
            }
        }
        if kind == XferKind::Write && self.drive_ref(ds).is_some_and(FloppyDrive::write_protected) {
            return self.finish(&x, Some(fail(ST1_NOT_WRITABLE, 0)));
        }
        if let Err(f) = self.locate(ds, head, [x.c, x.h, x.r, x.n]) {
            return self.finish(&x, Some(f));
        }
        if kind == XferKind::Read {
            if let Err(f) = self.load(&mut x) {
                return self.finish(&x, Some(f));
            }
        }
        self.xfer = Some(x);
        self.phase = Phase::Execution;
    }

    fn start_format(&mut self, cmd: &[u8]) {
        self.charge(disk_time::COMMAND_NS);
        let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
        let (ds, head) = (arg(1) & 3, (arg(1) >> 2) & 1);
        let cylinder = self.drive_ref(ds).map_or(0, |d| d.cylinder);
        let x = Transfer {
            kind: XferKind::Format,
            drive: ds,
            head,
            c: cylinder,
            h: head,
            r: 1,
            n: arg(2),
            eot: arg(3),
            multi_track: false,
            pio: self.specify[1] & 1 != 0,
            buf: Vec::new(),
            pos: 0,
            left: arg(3),
            fill: arg(5),
        };
        if let Some(f) = self.track_failure(ds, head) {
            return self.finish(&x, Some(f));
        }
        if self.drive_ref(ds).is_some_and(FloppyDrive::write_protected) {
            return self.finish(&x, Some(fail(ST1_NOT_WRITABLE, 0)));
        }
        if x.left == 0 {
            return self.finish(&x, None);
        }
        self.xfer = Some(x);
        self.phase = Phase::Execution;
    }

    /// Reads the sector `x` names into its buffer.
    fn load(&mut self, x: &mut Transfer) -> Result<(), Failure> {
        self.charge(disk_time::transfer_ns(SECTOR));
        let lba = self.locate(x.drive, x.head, [x.c, x.h, x.r, x.n])?;
        let d = self
            .drive_ref(x.drive)
            .ok_or(fail(ST1_MISSING_ADDRESS, 0))?;
        x.buf.clear();
        x.buf.resize(SECTOR, 0);
        x.pos = 0;
        d.media
            .as_ref()
            .ok_or(fail(ST1_MISSING_ADDRESS, 0))?
            .read(lba, &mut x.buf)
            .map_err(|_| fail(ST1_DATA_ERROR, ST2_DATA_ERROR))
    }

    /// Writes the sector `x` names from its (full) buffer.
    fn store(&mut self, x: &Transfer) -> Result<(), Failure> {
        self.charge(disk_time::transfer_ns(SECTOR));
        let lba = self.locate(x.drive, x.head, [x.c, x.h, x.r, x.n])?;
        let d = self
            .drive_mut(x.drive)
            .ok_or(fail(ST1_MISSING_ADDRESS, 0))?;
        let media = d.media.as_mut().ok_or(fail(ST1_MISSING_ADDRESS, 0))?;
        media.write(lba, &x.buf).map_err(|e| match e {
            crate::storage::StorageError::ReadOnly { .. } => fail(ST1_NOT_WRITABLE, 0),
            _ => fail(ST1_DATA_ERROR, ST2_DATA_ERROR),
        })
    }

    /// Moves `x` to the next sector ID; false when the command's last
    /// sector was the one just done (the ID is then the one after it, as
    /// the result reports).
    fn advance(&self, x: &mut Transfer) -> bool {
        let two_sided = self
            .drive_ref(x.drive)
            .is_some_and(|d| d.geometry.heads == 2);
        x.buf.clear();
        x.pos = 0;
        if x.r < x.eot {
            x.r += 1;
            return true;
        }
        x.r = 1;
        if x.multi_track && x.head == 0 && two_sided {
            x.head = 1;
            x.h = 1;
            return true;
        }
        x.c = x.c.wrapping_add(1);
        if x.multi_track {
            x.h ^= 1;
            x.head ^= 1;
        }
        false
    }

    /// Ends the data command `x` with the result phase and an interrupt.
    fn finish(&mut self, x: &Transfer, failure: Option<Failure>) {
        let base = x.head << 2 | x.drive;
        let (st0, st1, st2) = match failure {
            Some(f) => (f.st0 | base, f.st1, f.st2),
            None => (base, 0, 0),
        };
        if let Some(d) = self.drive_mut(x.drive) {
            d.sector = x.r;
        }
        self.xfer = None;
        self.respond(&[st0, st1, st2, x.c, x.h, x.r, x.n], true);
    }

    /// A sector's bytes are all moved: on to the next, or the end.
    fn sector_done(&mut self, mut x: Transfer) {
        if self.advance(&mut x) {
            self.xfer = Some(x);
        } else {
            self.finish(&x, None);
        }
    }
}

impl DmaDevice for Fdc {
    fn dma_out(&mut self, out: &mut [u8]) -> usize {
        let mut n = 0;
        while n < out.len() && self.phase == super::Phase::Execution {
            let Some(mut x) = self.xfer.take() else {
                break;
            };
            if x.kind != XferKind::Read {
                self.xfer = Some(x);
                break;
            }
            if x.buf.is_empty() {
                if let Err(f) = self.load(&mut x) {
                    self.finish(&x, Some(f));
                    break;
                }
            }
            let avail = x.buf.get(x.pos..).unwrap_or(&[]);
            let k = avail.len().min(out.len() - n);
            out[n..n + k].copy_from_slice(&avail[..k]);
            n += k;
            x.pos += k;
            if x.pos >= x.buf.len() {
                self.sector_done(x);
            } else {
                self.xfer = Some(x);
            }
        }
        n
    }

    fn dma_in(&mut self, data: &[u8]) -> usize {
        let mut n = 0;
        while n < data.len() && self.phase == super::Phase::Execution {
            let Some(mut x) = self.xfer.take() else {
                break;
            };
            let want = match x.kind {
                XferKind::Read => {
                    self.xfer = Some(x);
                    break;
                }
                XferKind::Write => SECTOR,
                XferKind::Format => 4,
            };
            let k = (want - x.buf.len().min(want)).min(data.len() - n);
            x.buf.extend_from_slice(&data[n..n + k]);
            n += k;
            if x.buf.len() < want {
                self.xfer = Some(x);
                continue;
            }
            match x.kind {
                XferKind::Write => match self.store(&x) {
                    Ok(()) => self.sector_done(x),
                    Err(f) => self.finish(&x, Some(f)),
                },
                _ => self.format_sector(x),
            }
        }
        n
    }

    fn dma_terminal_count(&mut self) {
        if self.phase != super::Phase::Execution {
            return;
        }
        let Some(mut x) = self.xfer.take() else {
            return;
        };
        match x.kind {
            // Mid-sector: the rest of a written sector is zeros.
            XferKind::Write if !x.buf.is_empty() => {
                x.buf.resize(SECTOR, 0);
                if let Err(f) = self.store(&x) {
                    return self.finish(&x, Some(f));
                }
                self.advance(&mut x);
            }
            XferKind::Read if !x.buf.is_empty() => {
                self.advance(&mut x);
            }
            _ => {}
        }
        self.finish(&x, None);
    }
}

impl Fdc {
    /// FORMAT TRACK got one sector's ID (C, H, R, N): that sector is
    /// filled with the fill byte when the media has it.
    fn format_sector(&mut self, mut x: Transfer) {
        let id = [x.buf[0], x.buf[1], x.buf[2], x.buf[3]];
        x.buf.clear();
        (x.c, x.h, x.r) = (id[0], id[1], id[2]);
        if let Ok(lba) = self.locate(x.drive, x.head, id) {
            let fill = vec![x.fill; SECTOR];
            self.charge(disk_time::transfer_ns(SECTOR));
            if let Some(media) = self.drive_mut(x.drive).and_then(|d| d.media.as_mut()) {
                if media.write(lba, &fill).is_err() {
                    return self.finish(&x, Some(fail(ST1_DATA_ERROR, ST2_DATA_ERROR)));
                }
            }
        }
        x.left = x.left.saturating_sub(1);
        if x.left == 0 {
            self.finish(&x, None);
        } else {
            self.xfer = Some(x);
        }
    }
}
