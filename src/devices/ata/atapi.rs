//! ATAPI: the PACKET protocol (SFF-8020i / ATA/ATAPI-6 8.21: a 12-byte
//! command block from the host, replies in DRQ blocks no larger than the
//! byte count limit the host put in LBA mid/high, the interrupt reason in
//! the sector count register) and the MMC commands of a CD-ROM that a BIOS
//! booting El Torito and Linux's sr driver send, with SCSI sense data
//! (NOT READY without a disc, UNIT ATTENTION after a change, ILLEGAL
//! REQUEST for what is not supported). A long READ is streamed a DRQ block
//! at a time, so no guest request makes the host allocate more than one.

use super::channel::{AtaChannel, Phase};
use super::drive::{MediaEvent, Sense};
use super::regs::*;
use crate::storage::CD_SECTOR;

/// What a packet command produced.
enum Reply {
    /// Nothing to transfer: good status.
    Done,
    /// Bytes to the host, then `sectors` sectors of the disc from `lba`.
    Data {
        bytes: Vec<u8>,
        lba: u64,
        sectors: u64,
    },
    /// CHECK CONDITION with this sense.
    Check(Sense),
}

fn data(mut bytes: Vec<u8>, alloc: usize) -> Reply {
    bytes.truncate(alloc);
    Reply::Data {
        bytes,
        lba: 0,
        sectors: 0,
    }
}

fn be16(b: &[u8]) -> usize {
    usize::from(b[0]) << 8 | usize::from(b[1])
}

fn be32(b: &[u8]) -> u64 {
    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The MSF address of `lba` (with the two-second lead-in) as 4 bytes.
fn msf(lba: u64) -> [u8; 4] {
    let f = lba + 150;
    [0, (f / 75 / 60) as u8, (f / 75 % 60) as u8, (f % 75) as u8]
}

fn address(lba: u64, as_msf: bool) -> [u8; 4] {
    if as_msf {
        msf(lba)
    } else {
        (lba as u32).to_be_bytes()
    }
}

impl AtaChannel {
    /// PACKET: wait for the 12-byte command (PIO only: DMA is refused).
    pub(super) fn start_packet(&mut self, d: usize) {
        if self.regs[d].feature & 1 != 0 {
            return self.abort(d);
        }
        self.regs[d].nsector = IR_COD;
        self.receive_block(d, 12, Phase::Packet, false);
    }

    /// The host's byte count limit for device `d`'s DRQ blocks.
    fn byte_limit(&self, d: usize) -> u16 {
        let r = &self.regs[d];
        match u16::from(r.lba_high) << 8 | u16::from(r.lba_mid) {
            0 | 0xFFFF => 0xFFFE,
            n => (n & !1).max(2),
        }
    }

    /// Runs the packet command `cdb` on device `d`.
    pub(super) fn packet(&mut self, d: usize, cdb: [u8; 12]) {
        let limit = self.byte_limit(d);
        match self.scsi(d, &cdb) {
            Reply::Done => self.packet_done(d, Sense::NONE),
            Reply::Check(sense) => self.packet_done(d, sense),
            Reply::Data {
                bytes,
                lba,
                sectors,
            } => self.packet_chunk(d, bytes, lba, sectors, limit),
        }
    }

    /// Ends a packet command: good status, or CHECK CONDITION with `sense`.
    fn packet_done(&mut self, d: usize, sense: Sense) {
        self.xfer.phase = Phase::Idle;
        self.xfer.buf.clear();
        let r = &mut self.regs[d];
        r.nsector = IR_IO | IR_COD;
        if sense.key == 0 {
            r.status = ST_DRDY | ST_DSC;
            r.error = 0;
        } else {
            r.status = ST_DRDY | ST_DSC | ST_ERR;
            r.error = sense.key << 4;
            if let Some(dr) = self.drives[d].as_mut() {
                dr.sense = sense;
            }
        }
        self.raise();
    }

    /// Sends the next DRQ block of a reply: `rest`, topped up from the
    /// `left` sectors at `lba`, at most `limit` bytes; done when nothing is left.
    pub(super) fn packet_chunk(
        &mut self,
        d: usize,
        mut rest: Vec<u8>,
        mut lba: u64,
        mut left: u64,
        limit: u16,
    ) {
        let limit = usize::from(limit.max(2));
        while rest.len() < limit && left > 0 {
            let start = rest.len();
            rest.resize(start + CD_SECTOR as usize, 0);
            let ok = self.drives[d]
                .as_ref()
                .and_then(|dr| dr.ready_media())
                .is_some_and(|m| m.read(lba, &mut rest[start..]).is_ok());
            if !ok {
                return self.packet_done(d, Sense::READ_ERROR);
            }
            lba += 1;
            left -= 1;
        }
        if rest.is_empty() {
            return self.packet_done(d, Sense::NONE);
        }
        let n = rest.len().min(limit);
        let tail = rest.split_off(n);
        let r = &mut self.regs[d];
        r.nsector = IR_IO;
        r.lba_mid = n as u8;
        r.lba_high = (n >> 8) as u8;
        let phase = Phase::PacketIn {
            rest: tail,
            lba,
            left,
            limit: limit as u16,
        };
        self.send_block(d, rest, phase);
    }

    /// The SCSI/MMC command set of the CD-ROM.
    fn scsi(&mut self, d: usize, cdb: &[u8; 12]) -> Reply {
        let Some(drive) = self.drives[d].as_mut() else {
            return Reply::Check(Sense::NO_MEDIUM);
        };
        let op = cdb[0];
        // These report without disturbing a pending UNIT ATTENTION.
        let passes_attention = matches!(op, 0x03 | 0x12 | 0x46 | 0x4A);
        if drive.unit_attention && !passes_attention {
            drive.unit_attention = false;
            return Reply::Check(Sense::MEDIUM_CHANGED);
        }
        let sectors = drive.ready_media().map(|m| m.sectors());
        let needs_media = matches!(op, 0x00 | 0x25 | 0x28 | 0xA8 | 0x43 | 0x2B);
        if needs_media && sectors.is_none() {
            return Reply::Check(Sense::NO_MEDIUM);
        }
        let total = sectors.unwrap_or(0);
        match op {
            // TEST UNIT READY
            0x00 => Reply::Done,
            // REQUEST SENSE
            0x03 => {
                let s = if drive.unit_attention {
                    drive.unit_attention = false;
                    Sense::MEDIUM_CHANGED
                } else if drive.ready_media().is_none() {
                    Sense::NO_MEDIUM
                } else {
                    std::mem::take(&mut drive.sense)
                };
                drive.sense = Sense::NONE;
                let mut b = vec![0u8; 18];
                b[0] = 0x70;
                b[2] = s.key;
                b[7] = 10;
                b[12] = s.asc;
                b[13] = s.ascq;
                data(b, usize::from(cdb[4]))
            }
            // INQUIRY
            0x12 => {
                if cdb[1] & 1 != 0 {
                    // Vital product data pages: not supported.
                    return Reply::Check(Sense::INVALID_FIELD);
                }
                let mut b = vec![0u8; 36];
                b[0] = 0x05; // CD/DVD device
                b[1] = 0x80; // removable
                b[2] = 0x00;
                b[3] = 0x21; // ATAPI, response format 1
                b[4] = 31;
                b[8..16].copy_from_slice(b"MOON86  ");
                b[16..32].copy_from_slice(b"CD-ROM          ");
                b[32..36].copy_from_slice(b"1.0 ");
                data(b, be16(&cdb[3..5]))
            }
            // START STOP UNIT
            0x1B => {
                let (loej, start) = (cdb[4] & 2 != 0, cdb[4] & 1 != 0);
                if loej && !start {
                    if drive.locked {
                        return Reply::Check(Sense::REMOVAL_PREVENTED);
                    }
                    if !drive.tray_open {
                        drive.tray_open = true;
                        drive.event = MediaEvent::Removed;
                    }
                } else if loej && start && drive.tray_open {
                    drive.tray_open = false;
                    if drive.media.is_some() {
                        drive.event = MediaEvent::NewMedia;
                    }
                }
                Reply::Done
            }
            // PREVENT ALLOW MEDIUM REMOVAL
            0x1E => {
                drive.locked = cdb[4] & 1 != 0;
                Reply::Done
            }
            // READ CAPACITY
            0x25 => {
                let mut b = Vec::with_capacity(8);
                b.extend_from_slice(&(total.saturating_sub(1) as u32).to_be_bytes());
                b.extend_from_slice(&CD_SECTOR.to_be_bytes());
                data(b, 8)
            }
            // SEEK(10)
            0x2B => Reply::Done,
            // READ(10), READ(12)
            0x28 | 0xA8 => {
                let lba = be32(&cdb[2..6]);
                let count = if op == 0x28 {
                    be16(&cdb[7..9]) as u64
                } else {
                    be32(&cdb[6..10])
                };
                if lba + count > total {
                    return Reply::Check(Sense::LBA_OUT_OF_RANGE);
                }
                Reply::Data {
                    bytes: Vec::new(),
                    lba,
                    sectors: count,
                }
            }
            // READ TOC/PMA/ATIP
            0x43 => read_toc(cdb, total),
            // MODE SENSE(10)
            0x5A => mode_sense(cdb, drive.locked),
            // GET CONFIGURATION
            0x46 => {
                let current = drive.ready_media().is_some();
                get_configuration(cdb, current)
            }
            // GET EVENT STATUS NOTIFICATION
            0x4A => {
                if cdb[1] & 1 == 0 {
                    // Only polled operation.
                    return Reply::Check(Sense::INVALID_FIELD);
                }
                let alloc = be16(&cdb[7..9]);
                if cdb[4] & 0x10 == 0 {
                    return data(vec![0, 2, 0x80, 0x10], alloc);
                }
                let code = match std::mem::take(&mut drive.event) {
                    MediaEvent::None => 0,
                    MediaEvent::NewMedia => 2,
                    MediaEvent::Removed => 3,
                };
                let status = u8::from(drive.tray_open)
                    | u8::from(drive.media.is_some() && !drive.tray_open) << 1;
                data(vec![0, 6, 0x04, 0x10, code, status, 0, 0], alloc)
            }
            _ => Reply::Check(Sense::INVALID_OPCODE),
        }
    }
}

/// READ TOC formats 0 (the track list: one data track and the lead-out)
/// and 1 (session information), in LBA or MSF form.
fn read_toc(cdb: &[u8; 12], total: u64) -> Reply {
    let as_msf = cdb[1] & 2 != 0;
    let format = match cdb[2] & 0x0F {
        0 if cdb[9] & 0xC0 != 0 => cdb[9] >> 6,
        f => f,
    };
    let alloc = be16(&cdb[7..9]);
    let track = cdb[6];
    let mut b = vec![0, 0, 1, 1];
    match format {
        0 => {
            if track > 1 && track != 0xAA {
                return Reply::Check(Sense::INVALID_FIELD);
            }
            if track <= 1 {
                b.extend_from_slice(&[0, 0x14, 1, 0]);
                b.extend_from_slice(&address(0, as_msf));
            }
            b.extend_from_slice(&[0, 0x14, 0xAA, 0]);
            b.extend_from_slice(&address(total, as_msf));
        }
        1 => {
            b.extend_from_slice(&[0, 0x14, 1, 0]);
            b.extend_from_slice(&address(0, as_msf));
        }
        _ => return Reply::Check(Sense::INVALID_FIELD),
    }
    let len = (b.len() - 2) as u16;
    b[..2].copy_from_slice(&len.to_be_bytes());
    data(b, alloc)
}

/// MODE SENSE(10): the read error recovery page (0x01), the CD-ROM
/// capabilities page (0x2A), or both (0x3F); current or default values.
fn mode_sense(cdb: &[u8; 12], locked: bool) -> Reply {
    let page = cdb[2] & 0x3F;
    let control = cdb[2] >> 6;
    if control == 3 {
        return Reply::Check(Sense::SAVING_NOT_SUPPORTED);
    }
    let alloc = be16(&cdb[7..9]);
    let mut b = vec![0u8; 8];
    b[2] = 0x70; // medium type: door closed, no disc information
    if matches!(page, 0x01 | 0x3F) {
        b.extend_from_slice(&[0x01, 0x0A, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    if matches!(page, 0x2A | 0x3F) {
        let mut p = vec![0u8; 20];
        p[0] = 0x2A;
        p[1] = 18;
        p[2] = 0x00; // reads CD-ROM only
        p[4] = 0x71; // audio play, mode 2 form 1 and 2, multisession
        p[5] = 0x00;
        // Lock supported, lock state, eject, tray loading mechanism.
        p[6] = 0x29 | if locked { 0x02 } else { 0 };
        p[8..10].copy_from_slice(&706u16.to_be_bytes()); // 4x, in kB/s
        p[10..12].copy_from_slice(&256u16.to_be_bytes()); // volume levels
        p[12..14].copy_from_slice(&512u16.to_be_bytes()); // buffer, KiB
        p[14..16].copy_from_slice(&706u16.to_be_bytes());
        b.extend_from_slice(&p);
    }
    if b.len() == 8 {
        return Reply::Check(Sense::INVALID_FIELD);
    }
    let len = (b.len() - 2) as u16;
    b[..2].copy_from_slice(&len.to_be_bytes());
    data(b, alloc)
}

/// GET CONFIGURATION: the profile list (CD-ROM), the core feature (ATAPI)
/// and the removable medium feature, from the starting feature on (RT 0
/// and 1) or that one alone (RT 2).
fn get_configuration(cdb: &[u8; 12], current: bool) -> Reply {
    let rt = cdb[1] & 3;
    let start = be16(&cdb[2..4]) as u16;
    let alloc = be16(&cdb[7..9]);
    let cur = u8::from(current);
    let features: [(u16, Vec<u8>); 3] = [
        (0x0000, vec![0, 0, 0x03 | cur, 4, 0, 0x08, cur, 0]),
        (0x0001, vec![0, 1, 0x0B, 8, 0, 0, 0, 2, 1, 0, 0, 0]),
        (0x0003, vec![0, 3, 0x03 | cur, 4, 0x29, 0, 0, 0]),
    ];
    let mut b = vec![0u8; 8];
    if current {
        b[6..8].copy_from_slice(&0x0008u16.to_be_bytes());
    }
    for (code, bytes) in features {
        let wanted = match rt {
            2 => code == start,
            _ => code >= start,
        };
        if wanted {
            b.extend_from_slice(&bytes);
        }
    }
    let len = (b.len() - 4) as u32;
    b[..4].copy_from_slice(&len.to_be_bytes());
    data(b, alloc)
}
