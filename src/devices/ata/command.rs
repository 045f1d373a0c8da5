//! The ATA commands (ATA/ATAPI-6 chapter 8) a BIOS and Linux send to a
//! hard disk, and the few an ATAPI device answers outside PACKET. Every
//! LBA and count is checked against the media before anything moves;
//! anything unknown or out of range ends in ABRT or IDNF, never a panic.

use super::channel::{signature, AtaChannel, Phase};
use super::drive::MAX_MULTIPLE;
use super::identify::{identify_disk, identify_packet};
use super::regs::*;

const SECTOR: usize = 512;

/// Sectors per DRQ block, from a count a snapshot could have set to
/// anything: 1 to [`MAX_MULTIPLE`].
fn block_len(block: u32) -> u64 {
    u64::from(block.clamp(1, u32::from(MAX_MULTIPLE)))
}

impl AtaChannel {
    /// Runs command `cmd` on device `d` (0 master, 1 slave).
    pub(super) fn command(&mut self, d: usize, cmd: u8) {
        if cmd == 0x90 {
            return self.diagnostic();
        }
        let Some(drive) = self.drives[d].as_ref() else {
            return;
        };
        if drive.is_atapi() {
            return self.atapi_command(d, cmd);
        }
        match cmd {
            0xEC => {
                let block = identify_disk(drive);
                self.send_block(d, block, Phase::DataIn);
            }
            // READ SECTORS (with and without retries), READ MULTIPLE.
            0x20 | 0x21 => self.start_read(d, false, 1),
            0x24 => self.start_read(d, true, 1),
            0xC4 => self.start_multiple(d, false, false),
            0x29 => self.start_multiple(d, true, false),
            0x30 | 0x31 => self.start_write(d, false, 1),
            0x34 => self.start_write(d, true, 1),
            0xC5 => self.start_multiple(d, false, true),
            0x39 => self.start_multiple(d, true, true),
            // READ VERIFY (with, without retries, EXT): nothing is transferred.
            0x40..=0x42 => {
                let lba48 = cmd == 0x42;
                match self.target(d, lba48) {
                    Some(_) => self.complete(d),
                    None => self.fail(d, ERR_IDNF),
                }
            }
            0xC6 => {
                let n = self.regs[d].nsector;
                if n <= MAX_MULTIPLE && (n == 0 || n.is_power_of_two()) {
                    if let Some(dr) = self.drives[d].as_mut() {
                        dr.multiple = n;
                    }
                    self.complete(d);
                } else {
                    self.abort(d);
                }
            }
            0xEF => self.set_features(d),
            0xE7 | 0xEA => {
                let flushed = drive.media().map_or(Ok(()), |m| m.flush());
                match flushed {
                    Ok(()) => self.complete(d),
                    Err(_) => self.abort(d),
                }
            }
            0x91 => {
                let r = &self.regs[d];
                let (heads, spt) = ((r.device & 0x0F) + 1, r.nsector);
                if spt == 0 {
                    return self.abort(d);
                }
                let total = drive.sectors();
                if let Some(dr) = self.drives[d].as_mut() {
                    dr.chs.heads = heads;
                    dr.chs.sectors = spt;
                    dr.chs.cylinders =
                        (total / (u64::from(heads) * u64::from(spt))).min(65535) as u16;
                }
                self.complete(d);
            }
            // RECALIBRATE (any step rate), SEEK.
            0x10..=0x1F | 0x70..=0x7F => self.complete(d),
            // STANDBY/IDLE (immediate and with timers, old and new codes), SLEEP.
            0xE0..=0xE3 | 0xE6 | 0x94..=0x97 | 0x99 => self.complete(d),
            // CHECK POWER MODE: active.
            0xE5 | 0x98 => {
                self.regs[d].nsector = 0xFF;
                self.complete(d);
            }
            _ => self.abort(d),
        }
    }

    /// EXECUTE DEVICE DIAGNOSTIC: both devices report their signatures and
    /// "passed"; the master's status is seen.
    fn diagnostic(&mut self) {
        for slot in 0..2 {
            let present = self.drives[slot].as_ref().map(|d| d.is_atapi());
            let r = &mut self.regs[slot];
            r.set_signature(signature(self.drives[slot].as_ref()));
            r.error = 0x01;
            r.status = match present {
                Some(false) => ST_DRDY | ST_DSC,
                _ => 0,
            };
        }
        self.regs[0].device &= !DEV_SLAVE;
        self.regs[1].device &= !DEV_SLAVE;
        self.xfer.phase = Phase::Idle;
        self.raise();
    }

    fn set_features(&mut self, d: usize) {
        let r = &self.regs[d];
        let ok = match r.feature {
            // Transfer mode: PIO default, PIO flow control modes 0-4.
            0x03 => matches!(r.nsector, 0x00 | 0x01 | 0x08..=0x0C),
            // Write cache and read look-ahead on/off, reverting to defaults.
            0x02 | 0x82 | 0x55 | 0xAA | 0x66 | 0xCC => true,
            _ => false,
        };
        if ok {
            self.complete(d)
        } else {
            self.abort(d)
        }
    }

    /// The first sector and count the registers name for device `d`, when
    /// they lie on the media.
    fn target(&self, d: usize, lba48: bool) -> Option<(u64, u64)> {
        let drive = self.drives[d].as_ref()?;
        let r = &self.regs[d];
        let (lba, count) = if lba48 {
            (r.lba48(), r.count48())
        } else if r.device & DEV_LBA != 0 {
            (r.lba28(), r.count28())
        } else {
            let g = drive.chs;
            let cyl = u64::from(r.lba_high) << 8 | u64::from(r.lba_mid);
            let head = u64::from(r.device & 0x0F);
            let sector = u64::from(r.lba_low);
            if sector == 0
                || sector > u64::from(g.sectors)
                || head >= u64::from(g.heads)
                || cyl >= u64::from(g.cylinders)
            {
                return None;
            }
            let lba = (cyl * u64::from(g.heads) + head) * u64::from(g.sectors) + sector - 1;
            (lba, r.count28())
        };
        (lba.checked_add(count)? <= drive.sectors()).then_some((lba, count))
    }

    fn start_multiple(&mut self, d: usize, lba48: bool, write: bool) {
        let block = self.drives[d].as_ref().map_or(0, |dr| dr.multiple);
        if block == 0 {
            return self.abort(d);
        }
        if write {
            self.start_write(d, lba48, u32::from(block))
        } else {
            self.start_read(d, lba48, u32::from(block))
        }
    }

    fn start_read(&mut self, d: usize, lba48: bool, block: u32) {
        match self.target(d, lba48) {
            Some((lba, count)) => self.read_block(d, lba, count, block),
            None => self.fail(d, ERR_IDNF),
        }
    }

    /// Loads the next DRQ block of a read: up to `block` of the `left`
    /// sectors from `lba`.
    pub(super) fn read_block(&mut self, d: usize, lba: u64, left: u64, block: u32) {
        let n = left.min(block_len(block));
        let mut buf = vec![0u8; n as usize * SECTOR];
        let read = match self.drives[d].as_ref().and_then(|dr| dr.media()) {
            Some(m) => m.read(lba, &mut buf).is_ok(),
            None => false,
        };
        if !read {
            self.regs[d].set_lba(lba, lba > 0x0FFF_FFFF);
            return self.fail(d, ERR_UNC);
        }
        let phase = Phase::Read {
            lba: lba + n,
            left: left - n,
            block,
        };
        self.send_block(d, buf, phase);
    }

    fn start_write(&mut self, d: usize, lba48: bool, block: u32) {
        match self.target(d, lba48) {
            Some((lba, count)) => {
                let n = count.min(block_len(block));
                let phase = Phase::Write {
                    lba,
                    left: count,
                    block,
                    lba48,
                };
                self.receive_block(d, n as usize * SECTOR, phase, false);
            }
            None => self.fail(d, ERR_IDNF),
        }
    }

    /// The host filled a DRQ block of a write: store it, then ask for the
    /// next one or finish.
    pub(super) fn write_block(
        &mut self,
        d: usize,
        lba: u64,
        left: u64,
        block: u32,
        lba48: bool,
        buf: &[u8],
    ) {
        let n = (buf.len() / SECTOR) as u64;
        self.charge_transfer(buf.len());
        let written = match self.drives[d].as_mut().and_then(|dr| dr.media.as_mut()) {
            Some(m) if n > 0 => m.write(lba, buf).is_ok(),
            _ => false,
        };
        if !written {
            self.regs[d].set_lba(lba, lba48);
            return self.abort(d);
        }
        let left = left.saturating_sub(n);
        if left == 0 {
            return self.complete(d);
        }
        let next = left.min(block_len(block));
        let phase = Phase::Write {
            lba: lba + n,
            left,
            block,
            lba48,
        };
        self.receive_block(d, next as usize * SECTOR, phase, true);
    }

    /// An ATA command sent to an ATAPI device: the few it answers, and an
    /// abort with the ATAPI signature for the rest (so a host that tried
    /// IDENTIFY DEVICE learns what it is talking to).
    fn atapi_command(&mut self, d: usize, cmd: u8) {
        match cmd {
            0xA1 => {
                let Some(drive) = self.drives[d].as_ref() else {
                    return;
                };
                let block = identify_packet(drive);
                self.send_block(d, block, Phase::DataIn);
            }
            0xA0 => self.start_packet(d),
            // DEVICE RESET: signature, no interrupt.
            0x08 => {
                let r = &mut self.regs[d];
                r.set_signature(Signature::Atapi);
                r.error = 0x01;
                r.status = 0;
                self.xfer.phase = Phase::Idle;
            }
            0xEF => self.set_features(d),
            0xE0..=0xE3 | 0xE6 | 0x94..=0x97 | 0x99 => self.complete(d),
            0xE5 | 0x98 => {
                self.regs[d].nsector = 0xFF;
                self.complete(d);
            }
            _ => {
                self.regs[d].set_signature(Signature::Atapi);
                self.abort(d);
            }
        }
    }
}
