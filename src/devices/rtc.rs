//! The MC146818 real-time clock and its CMOS RAM (index port 0x70, data port
//! 0x71; bit 7 of the index write is the NMI mask, kept for the board).
//!
//! The clock starts at a Unix time given at construction and advances with
//! *virtual* time passed to [`Rtc::advance_to`]: an update cycle happens at
//! every whole virtual second (counted from construction, or half a second
//! after the divider leaves reset), so the same run reads the same time.
//! Registers A-D: UIP (set in the 244 us before each update), the divider
//! (DV = 11x holds the clock), the periodic rate (RS), SET (freezes updates
//! and clears UIE), PIE/AIE/UIE, binary or BCD (DM) and 12/24 hour format,
//! the PF/AF/UF flags with IRQF, all cleared by reading C, and VRT in D.
//! The periodic, alarm (with "don't care" values 0xC0-0xFF) and update-ended
//! interrupts drive IRQ8 through [`Rtc::irq_level`]; [`Rtc::next_event_ns`]
//! names the next moment an enabled interrupt can fire. Register 0x32 is
//! the century, kept with the year. [`Rtc::set_memory_size`] fills the BIOS
//! memory-size bytes and the checksum at 0x2E-0x2F.
//!
//! Not modelled: the square-wave output (SQWE), daylight saving (DSE), time
//! bases other than 32.768 kHz (any DV other than 11x runs the clock), the
//! exact 1984 us length of the update cycle (the new time is visible at the
//! end of UIP), and the chip's reinterpretation of stored values when DM
//! changes (time is kept as numbers and re-encoded on each read).

use serde::{Deserialize, Serialize};

pub const RTC_PORTS: [u16; 2] = [0x70, 0x71];

const NS_PER_S: u64 = 1_000_000_000;
/// UIP rises this long before an update cycle.
const UIP_LEAD_NS: u64 = 244_000;

const REG_A: usize = 0x0A;
const REG_B: usize = 0x0B;
const REG_C: usize = 0x0C;
const REG_D: usize = 0x0D;
const CENTURY: usize = 0x32;

const B_SET: u8 = 0x80;
const B_PIE: u8 = 0x40;
const B_AIE: u8 = 0x20;
const B_UIE: u8 = 0x10;
const B_BINARY: u8 = 0x04;
const B_24H: u8 = 0x02;
const C_IRQF: u8 = 0x80;
const C_PF: u8 = 0x40;
const C_AF: u8 = 0x20;
const C_UF: u8 = 0x10;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number from 1970-01-01: (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(month: u8, year: u16) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

fn to_bcd(v: u8) -> u8 {
    let v = v % 100;
    (v / 10) << 4 | (v % 10)
}

fn from_bcd(v: u8) -> u8 {
    (v >> 4).wrapping_mul(10).wrapping_add(v & 0x0F)
}

/// The clock's counters, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Time {
    sec: u8,
    min: u8,
    hour: u8,
    /// 1 = Sunday.
    wday: u8,
    mday: u8,
    month: u8,
    year: u16,
}

impl Time {
    fn from_unix(t: i64) -> Time {
        let days = t.div_euclid(86_400);
        let secs = t.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Time {
            sec: (secs % 60) as u8,
            min: (secs / 60 % 60) as u8,
            hour: (secs / 3600) as u8,
            wday: ((days + 4).rem_euclid(7) + 1) as u8,
            mday: d as u8,
            month: m as u8,
            year: y.clamp(0, 9999) as u16,
        }
    }

    /// Seconds since the epoch; out-of-range fields are clamped.
    fn to_unix(self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            u32::from(self.month.clamp(1, 12)),
            u32::from(self.mday.clamp(1, 31)),
        );
        days * 86_400
            + i64::from(self.hour.min(23)) * 3600
            + i64::from(self.min.min(59)) * 60
            + i64::from(self.sec.min(59))
    }

    /// One update cycle: the chip's carry chain.
    fn tick(&mut self) {
        self.sec = self.sec.wrapping_add(1);
        if self.sec < 60 {
            return;
        }
        self.sec = 0;
        self.min = self.min.wrapping_add(1);
        if self.min < 60 {
            return;
        }
        self.min = 0;
        self.hour = self.hour.wrapping_add(1);
        if self.hour < 24 {
            return;
        }
        self.hour = 0;
        self.wday = if self.wday >= 7 { 1 } else { self.wday + 1 };
        self.mday = self.mday.wrapping_add(1);
        if self.mday <= days_in_month(self.month, self.year) {
            return;
        }
        self.mday = 1;
        self.month = self.month.wrapping_add(1);
        if self.month <= 12 {
            return;
        }
        self.month = 1;
        self.year = (self.year + 1) % 10_000;
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rtc {
    #[serde(with = "super::serde_checks::byte_array")]
    cmos: [u8; 128],
    index: u8,
    nmi_masked: bool,
    time: Time,
    now_ns: u64,
    /// Virtual time of the next update cycle.
    next_update_ns: u64,
    /// Virtual time the divider chain last left reset (periodic phase).
    divider_origin_ns: u64,
}

impl Rtc {
    /// A clock reading `start_unix` (seconds since 1970) at virtual time 0.
    pub fn new(start_unix: i64) -> Rtc {
        let mut cmos = [0u8; 128];
        cmos[REG_A] = 0x26;
        cmos[REG_B] = B_24H;
        cmos[REG_D] = 0x80;
        Rtc {
            cmos,
            index: 0,
            nmi_masked: false,
            time: Time::from_unix(start_unix),
            now_ns: 0,
            next_update_ns: NS_PER_S,
            divider_origin_ns: 0,
        }
    }

    /// Whether the last write to port 0x70 set bit 7 (NMI disabled).
    pub fn nmi_masked(&self) -> bool {
        self.nmi_masked
    }

    /// IRQ8: register C's IRQF.
    pub fn irq_level(&self) -> bool {
        self.cmos[REG_C] & C_IRQF != 0
    }

    /// The current time as Unix seconds (fields out of range are clamped).
    pub fn unix_time(&self) -> i64 {
        self.time.to_unix()
    }

    /// A CMOS byte as the guest would read it (0x00-0x7F; others read 0xFF).
    pub fn read_cmos(&mut self, index: u8) -> u8 {
        self.read_register(index)
    }

    /// Stores a CMOS byte as the guest would (0x00-0x7F; others ignored).
    pub fn write_cmos(&mut self, index: u8, value: u8) {
        self.write_register(index, value);
    }

    /// Fills the memory-size bytes for `ram_bytes` of RAM and the checksum:
    /// 0x15-0x16 base memory in KiB (640), 0x17-0x18 and 0x30-0x31 KiB above
    /// 1 MiB (at most 0xFFFF), 0x34-0x35 64 KiB blocks above 16 MiB.
    pub fn set_memory_size(&mut self, ram_bytes: u64) {
        let base = (ram_bytes / 1024).min(640) as u16;
        let ext = ((ram_bytes.saturating_sub(1 << 20)) / 1024).min(0xFFFF) as u16;
        let high = ((ram_bytes.saturating_sub(16 << 20)) / 65536).min(0xFFFF) as u16;
        for (at, v) in [(0x15, base), (0x17, ext), (0x30, ext), (0x34, high)] {
            self.cmos[at] = v as u8;
            self.cmos[at + 1] = (v >> 8) as u8;
        }
        self.update_checksum();
    }

    /// Recomputes the standard checksum (bytes 0x10-0x2D) into 0x2E-0x2F.
    pub fn update_checksum(&mut self) {
        let sum = self.cmos[0x10..=0x2D]
            .iter()
            .fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        self.cmos[0x2E] = (sum >> 8) as u8;
        self.cmos[0x2F] = sum as u8;
    }

    fn divider_running(&self) -> bool {
        self.cmos[REG_A] & 0x60 != 0x60
    }

    /// The periodic interrupt's period in 32.768 kHz ticks, as a power of two.
    fn periodic_shift(&self) -> Option<u32> {
        match self.cmos[REG_A] & 0x0F {
            0 => None,
            1 => Some(7),
            2 => Some(8),
            rs => Some(u32::from(rs) - 1),
        }
    }

    /// Periodic intervals elapsed at `ns` since the divider origin.
    fn periods_at(&self, ns: u64, shift: u32) -> u64 {
        let ticks =
            u128::from(ns.saturating_sub(self.divider_origin_ns)) * 32_768 / u128::from(NS_PER_S);
        (ticks >> shift) as u64
    }

    /// Moves the clock to virtual time `now_ns` (never back), running the
    /// update cycles and periodic ticks in between.
    pub fn advance_to(&mut self, now_ns: u64) {
        if now_ns <= self.now_ns {
            return;
        }
        let before = self.now_ns;
        self.now_ns = now_ns;
        if !self.divider_running() {
            return;
        }
        if let Some(shift) = self.periodic_shift() {
            if self.periods_at(now_ns, shift) > self.periods_at(before, shift) {
                self.raise(C_PF);
            }
        }
        if now_ns >= self.next_update_ns {
            let n = (now_ns - self.next_update_ns) / NS_PER_S + 1;
            self.next_update_ns = self
                .next_update_ns
                .saturating_add(n.saturating_mul(NS_PER_S));
            if self.cmos[REG_B] & B_SET == 0 {
                self.run_updates(n);
            }
        }
    }

    fn run_updates(&mut self, n: u64) {
        const DAY: u64 = 86_400;
        if n > DAY {
            // Jump ahead; the last day is stepped so the alarm still matches.
            let skip = i64::try_from(n - DAY).unwrap_or(i64::MAX / 2);
            self.time = Time::from_unix(self.time.to_unix().saturating_add(skip));
        }
        for _ in 0..n.min(DAY) {
            self.time.tick();
            if self.alarm_matches() {
                self.raise(C_AF);
            }
        }
        self.raise(C_UF);
    }

    fn alarm_matches(&self) -> bool {
        let pairs = [(0x01, 0x00), (0x03, 0x02), (0x05, 0x04)];
        pairs.iter().all(|&(alarm, reg)| {
            let a = self.cmos[alarm];
            a & 0xC0 == 0xC0 || a == self.encode_time_register(reg)
        })
    }

    /// Sets `flag` in register C and recomputes IRQF = PF.PIE + AF.AIE + UF.UIE.
    fn raise(&mut self, flag: u8) {
        let c = (self.cmos[REG_C] | flag) & (C_PF | C_AF | C_UF);
        let enabled = c & self.cmos[REG_B] != 0;
        self.cmos[REG_C] = if enabled { c | C_IRQF } else { c };
    }

    /// The next virtual time at which an enabled interrupt can fire.
    pub fn next_event_ns(&self) -> Option<u64> {
        if !self.divider_running() {
            return None;
        }
        let b = self.cmos[REG_B];
        let update = (b & (B_UIE | B_AIE) != 0 && b & B_SET == 0).then_some(self.next_update_ns);
        let periodic = match self.periodic_shift() {
            Some(shift) if b & B_PIE != 0 => {
                let k = self.periods_at(self.now_ns, shift) + 1;
                let ns = (u128::from(k) << shift) * u128::from(NS_PER_S);
                let ns = ns.div_ceil(32_768);
                u64::try_from(ns)
                    .ok()
                    .map(|ns| ns.saturating_add(self.divider_origin_ns))
            }
            _ => None,
        };
        match (update, periodic) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn encode(&self, v: u8) -> u8 {
        if self.cmos[REG_B] & B_BINARY != 0 {
            v
        } else {
            to_bcd(v)
        }
    }

    fn decode(&self, v: u8) -> u8 {
        if self.cmos[REG_B] & B_BINARY != 0 {
            v
        } else {
            from_bcd(v)
        }
    }

    fn encode_hour(&self, hour: u8) -> u8 {
        if self.cmos[REG_B] & B_24H != 0 {
            return self.encode(hour);
        }
        let h12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        self.encode(h12) | if hour >= 12 { 0x80 } else { 0 }
    }

    fn encode_time_register(&self, reg: usize) -> u8 {
        let t = &self.time;
        match reg {
            0x00 => self.encode(t.sec),
            0x02 => self.encode(t.min),
            0x04 => self.encode_hour(t.hour),
            0x06 => self.encode(t.wday),
            0x07 => self.encode(t.mday),
            0x08 => self.encode(t.month),
            0x09 => self.encode((t.year % 100) as u8),
            _ => self.encode((t.year / 100) as u8),
        }
    }

    fn read_register(&mut self, index: u8) -> u8 {
        let i = usize::from(index);
        match i {
            0x00 | 0x02 | 0x04 | 0x06..=0x09 | CENTURY => self.encode_time_register(i),
            REG_A => {
                let uip = self.divider_running()
                    && self.cmos[REG_B] & B_SET == 0
                    && self.next_update_ns.saturating_sub(self.now_ns) <= UIP_LEAD_NS;
                self.cmos[REG_A] & 0x7F | if uip { 0x80 } else { 0 }
            }
            REG_C => std::mem::take(&mut self.cmos[REG_C]),
            REG_D => 0x80,
            _ => self.cmos.get(i).copied().unwrap_or(0xFF),
        }
    }

    fn write_register(&mut self, index: u8, value: u8) {
        let i = usize::from(index);
        match i {
            0x00 => self.time.sec = self.decode(value),
            0x02 => self.time.min = self.decode(value),
            0x04 => {
                self.time.hour = if self.cmos[REG_B] & B_24H != 0 {
                    self.decode(value)
                } else {
                    let h = self.decode(value & 0x7F) % 12;
                    if value & 0x80 != 0 {
                        h + 12
                    } else {
                        h
                    }
                }
            }
            0x06 => self.time.wday = self.decode(value),
            0x07 => self.time.mday = self.decode(value),
            0x08 => self.time.month = self.decode(value),
            0x09 => {
                let century = self.time.year / 100;
                self.time.year = century * 100 + u16::from(self.decode(value) % 100);
            }
            CENTURY => {
                let year = self.time.year % 100;
                self.time.year = u16::from(self.decode(value) % 100) * 100 + year;
            }
            REG_A => {
                let was_running = self.divider_running();
                self.cmos[REG_A] = value & 0x7F;
                if !was_running && self.divider_running() {
                    // The first update comes half a second later.
                    self.next_update_ns = self.now_ns.saturating_add(NS_PER_S / 2);
                    self.divider_origin_ns = self.now_ns;
                }
            }
            REG_B => {
                let value = if value & B_SET != 0 {
                    value & !B_UIE
                } else {
                    value
                };
                self.cmos[REG_B] = value;
                // IRQF follows the newly enabled flags.
                self.raise(0);
            }
            REG_C | REG_D => {}
            _ => {
                if let Some(b) = self.cmos.get_mut(i) {
                    *b = value;
                }
            }
        }
    }
}

impl super::ByteDevice for Rtc {
    fn read_byte(&mut self, port: u16) -> u8 {
        match port {
            0x71 => self.read_register(self.index),
            _ => 0xFF,
        }
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        match port {
            0x70 => {
                self.index = value & 0x7F;
                self.nmi_masked = value & 0x80 != 0;
            }
            0x71 => self.write_register(self.index, value),
            _ => {}
        }
    }
    /// Registers B and C return to their power-on values (the chip's RESET
    /// pin clears the interrupt enables and flags); time and CMOS RAM are
    /// battery backed and stay.
    fn reset(&mut self) {
        self.cmos[REG_B] &= !(B_PIE | B_AIE | B_UIE);
        self.cmos[REG_C] = 0;
        self.index = 0;
        self.nmi_masked = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice};

    /// 2024-02-29 23:59:58 UTC, a Thursday.
    const START: i64 = 1_709_251_198;
    const S: u64 = NS_PER_S;

    fn reg(r: &mut Rtc, i: u8) -> u8 {
        r.write(0x70, IoSize::Byte, u32::from(i));
        r.read(0x71, IoSize::Byte) as u8
    }
    fn set(r: &mut Rtc, i: u8, v: u8) {
        r.write(0x70, IoSize::Byte, u32::from(i));
        r.write(0x71, IoSize::Byte, u32::from(v));
    }

    #[test]
    fn calendar_conversion_round_trips() {
        for t in [0i64, START, 951_782_400, 4_102_444_800, -86_400] {
            assert_eq!(Time::from_unix(t).to_unix(), t);
        }
        let t = Time::from_unix(0);
        assert_eq!((t.year, t.month, t.mday, t.wday), (1970, 1, 1, 5));
    }

    #[test]
    fn power_on_registers() {
        let mut r = Rtc::new(START);
        assert_eq!(reg(&mut r, 0x0A), 0x26);
        assert_eq!(reg(&mut r, 0x0B), 0x02);
        assert_eq!(reg(&mut r, 0x0C), 0x00);
        assert_eq!(reg(&mut r, 0x0D), 0x80);
    }

    #[test]
    fn bcd_time_from_start() {
        let mut r = Rtc::new(START);
        assert_eq!(reg(&mut r, 0x00), 0x58);
        assert_eq!(reg(&mut r, 0x02), 0x59);
        assert_eq!(reg(&mut r, 0x04), 0x23);
        assert_eq!(reg(&mut r, 0x06), 0x05, "Thursday");
        assert_eq!(reg(&mut r, 0x07), 0x29);
        assert_eq!(reg(&mut r, 0x08), 0x02);
        assert_eq!(reg(&mut r, 0x09), 0x24);
        assert_eq!(reg(&mut r, 0x32), 0x20);
    }

    #[test]
    fn time_advances_with_virtual_seconds_through_leap_day() {
        let mut r = Rtc::new(START);
        r.advance_to(S - 1);
        assert_eq!(reg(&mut r, 0x00), 0x58, "no update before the second");
        r.advance_to(S);
        assert_eq!(reg(&mut r, 0x00), 0x59);
        r.advance_to(2 * S);
        assert_eq!(reg(&mut r, 0x00), 0x00);
        assert_eq!(reg(&mut r, 0x04), 0x00);
        assert_eq!(reg(&mut r, 0x07), 0x01);
        assert_eq!(reg(&mut r, 0x08), 0x03, "29 Feb 2024 -> 1 Mar");
        assert_eq!(reg(&mut r, 0x06), 0x06, "Friday");
        assert_eq!(r.unix_time(), START + 2);
    }

    #[test]
    fn long_jump_keeps_exact_time() {
        let mut r = Rtc::new(START);
        r.advance_to(400 * 86_400 * S + 5 * S);
        assert_eq!(r.unix_time(), START + 400 * 86_400 + 5);
    }

    #[test]
    fn binary_and_12_hour_formats() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x0B, 0x04); // binary, 12 hour
        assert_eq!(reg(&mut r, 0x00), 58);
        assert_eq!(reg(&mut r, 0x04), 0x80 | 11, "11 PM");
        set(&mut r, 0x0B, 0x00); // BCD, 12 hour
        assert_eq!(reg(&mut r, 0x04), 0x80 | 0x11);
        set(&mut r, 0x04, 0x12); // 12 AM is midnight
        set(&mut r, 0x0B, 0x02);
        assert_eq!(reg(&mut r, 0x04), 0x00);
        set(&mut r, 0x0B, 0x00);
        set(&mut r, 0x04, 0x92); // 12 PM is noon
        set(&mut r, 0x0B, 0x02);
        assert_eq!(reg(&mut r, 0x04), 0x12);
    }

    #[test]
    fn guest_sets_time_with_set_bit() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x0B, 0x82); // SET
        set(&mut r, 0x09, 0x99);
        set(&mut r, 0x32, 0x19);
        set(&mut r, 0x08, 0x12);
        set(&mut r, 0x07, 0x31);
        set(&mut r, 0x04, 0x23);
        set(&mut r, 0x02, 0x59);
        set(&mut r, 0x00, 0x59);
        r.advance_to(3 * S);
        assert_eq!(reg(&mut r, 0x00), 0x59, "SET inhibits updates");
        set(&mut r, 0x0B, 0x02);
        r.advance_to(4 * S);
        assert_eq!(reg(&mut r, 0x09), 0x00);
        assert_eq!(reg(&mut r, 0x32), 0x20);
        assert_eq!(reg(&mut r, 0x08), 0x01);
    }

    #[test]
    fn uip_precedes_update() {
        let mut r = Rtc::new(START);
        r.advance_to(S - UIP_LEAD_NS - 1);
        assert_eq!(reg(&mut r, 0x0A) & 0x80, 0);
        r.advance_to(S - UIP_LEAD_NS);
        assert_eq!(reg(&mut r, 0x0A) & 0x80, 0x80);
        r.advance_to(S);
        assert_eq!(reg(&mut r, 0x0A) & 0x80, 0);
    }

    #[test]
    fn update_interrupt_and_register_c_clear_on_read() {
        let mut r = Rtc::new(START);
        assert_eq!(r.next_event_ns(), None, "nothing enabled");
        set(&mut r, 0x0B, 0x12); // UIE
        assert_eq!(r.next_event_ns(), Some(S));
        r.advance_to(S);
        assert!(r.irq_level());
        // PF too: the periodic flag runs at the power-on rate whatever PIE says.
        assert_eq!(reg(&mut r, 0x0C), 0xD0);
        assert!(!r.irq_level());
        assert_eq!(reg(&mut r, 0x0C), 0x00);
    }

    #[test]
    fn flags_set_without_enables_but_no_irq() {
        let mut r = Rtc::new(START);
        r.advance_to(S);
        assert!(!r.irq_level());
        assert_eq!(reg(&mut r, 0x0C), 0x50, "UF and PF without IRQF");
    }

    #[test]
    fn set_bit_clears_uie() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x0B, 0x92);
        assert_eq!(reg(&mut r, 0x0B), 0x82);
    }

    #[test]
    fn periodic_interrupt_at_1024_hz() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x0B, 0x42); // PIE, rate 6 = 1024 Hz
        let first = r.next_event_ns().unwrap();
        assert_eq!(first, 976_563, "1/1024 s rounded up");
        r.advance_to(first - 1);
        assert!(!r.irq_level());
        r.advance_to(first);
        assert!(r.irq_level());
        assert_eq!(reg(&mut r, 0x0C), 0xC0);
        // 1024 periods in one second, exactly.
        let mut count = 1;
        while let Some(t) = r.next_event_ns() {
            if t > S {
                break;
            }
            r.advance_to(t);
            if reg(&mut r, 0x0C) & 0x40 != 0 {
                count += 1;
            }
        }
        assert_eq!(count, 1024);
    }

    #[test]
    fn periodic_rates_1_and_2_are_256_and_128_hz() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x0A, 0x21);
        set(&mut r, 0x0B, 0x42);
        assert_eq!(r.next_event_ns(), Some(3_906_250));
        set(&mut r, 0x0A, 0x22);
        assert_eq!(r.next_event_ns(), Some(7_812_500));
        set(&mut r, 0x0A, 0x2F);
        assert_eq!(r.next_event_ns(), Some(500_000_000), "rate 15 = 2 Hz");
        set(&mut r, 0x0A, 0x20);
        assert_eq!(r.next_event_ns(), None, "rate 0: none");
    }

    #[test]
    fn alarm_interrupt_with_dont_care() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x01, 0x00); // second 00
        set(&mut r, 0x03, 0xC0); // any minute
        set(&mut r, 0x05, 0xFF); // any hour
        set(&mut r, 0x0B, 0x22); // AIE
        r.advance_to(S);
        assert!(!r.irq_level(), "second 59");
        r.advance_to(2 * S);
        assert!(r.irq_level(), "second 00");
        assert_eq!(reg(&mut r, 0x0C), 0x80 | 0x40 | 0x20 | 0x10);
    }

    #[test]
    fn divider_reset_holds_then_first_update_half_second_later() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x0A, 0x76);
        r.advance_to(10 * S);
        assert_eq!(r.unix_time(), START, "held");
        assert_eq!(reg(&mut r, 0x0A) & 0x80, 0);
        set(&mut r, 0x0A, 0x26);
        r.advance_to(10 * S + S / 2 - 1);
        assert_eq!(r.unix_time(), START);
        r.advance_to(10 * S + S / 2);
        assert_eq!(r.unix_time(), START + 1);
    }

    #[test]
    fn nmi_mask_bit_and_index() {
        let mut r = Rtc::new(START);
        r.write(0x70, IoSize::Byte, 0x8F);
        assert!(r.nmi_masked());
        r.write(0x71, IoSize::Byte, 0x5A);
        r.write(0x70, IoSize::Byte, 0x0F);
        assert!(!r.nmi_masked());
        assert_eq!(r.read(0x71, IoSize::Byte), 0x5A);
    }

    #[test]
    fn cmos_ram_and_read_only_registers() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x7F, 0xAB);
        assert_eq!(reg(&mut r, 0x7F), 0xAB);
        set(&mut r, 0x0D, 0x00);
        assert_eq!(reg(&mut r, 0x0D), 0x80);
        set(&mut r, 0x0C, 0xFF);
        assert_eq!(reg(&mut r, 0x0C), 0x00);
    }

    #[test]
    fn memory_size_bytes_and_checksum() {
        let mut r = Rtc::new(START);
        r.set_memory_size(64 << 20);
        assert_eq!(reg(&mut r, 0x15), 0x80);
        assert_eq!(reg(&mut r, 0x16), 0x02);
        let ext = 63 * 1024;
        assert_eq!(reg(&mut r, 0x17), ext as u8);
        assert_eq!(reg(&mut r, 0x18), (ext >> 8) as u8);
        assert_eq!(reg(&mut r, 0x30), ext as u8);
        assert_eq!(reg(&mut r, 0x31), (ext >> 8) as u8);
        let high = (48 << 20) / 65536;
        assert_eq!(reg(&mut r, 0x34), high as u8);
        assert_eq!(reg(&mut r, 0x35), (high >> 8) as u8);
        let sum: u16 = (0x10..=0x2D).map(|i| u16::from(reg(&mut r, i))).sum();
        assert_eq!(reg(&mut r, 0x2E), (sum >> 8) as u8);
        assert_eq!(reg(&mut r, 0x2F), sum as u8);
        // Large RAM caps extended memory at 0xFFFF KiB.
        r.set_memory_size(3 << 30);
        assert_eq!((reg(&mut r, 0x17), reg(&mut r, 0x18)), (0xFF, 0xFF));
        let high = ((3u64 << 30) - (16 << 20)) / 65536;
        assert_eq!(reg(&mut r, 0x35), (high >> 8) as u8);
        // Small RAM: no extended memory.
        r.set_memory_size(512 << 10);
        assert_eq!((reg(&mut r, 0x15), reg(&mut r, 0x16)), (0x00, 0x02));
        assert_eq!((reg(&mut r, 0x17), reg(&mut r, 0x34)), (0, 0));
    }

    #[test]
    fn reset_clears_enables_and_flags_but_keeps_time() {
        let mut r = Rtc::new(START);
        set(&mut r, 0x0B, 0x72);
        r.advance_to(S);
        assert!(r.irq_level());
        r.reset();
        assert!(!r.irq_level());
        assert_eq!(reg(&mut r, 0x0B), 0x02);
        assert_eq!(r.unix_time(), START + 1);
    }

    #[test]
    fn garbage_never_panics() {
        let mut r = Rtc::new(START);
        let mut x: u32 = 0xC0FF_EE11;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x & 0x100 != 0 {
                r.write(0x70 + (x & 1) as u16, IoSize::Byte, x >> 16);
            } else {
                r.read(0x70 + (x & 1) as u16, IoSize::Word);
            }
            r.advance_to(i * 7_777_777);
            r.next_event_ns();
        }
        r.advance_to(u64::MAX);
        r.next_event_ns();
        r.unix_time();
    }
}
