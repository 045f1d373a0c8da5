//! The 8254 programmable interval timer (ports 0x40-0x43) and system control
//! port B (0x61), which carries channel 2's gate, the speaker data bit, the
//! DRAM refresh toggle and channel 2's OUT.
//!
//! The counters run at 1,193,182 Hz of *virtual* time: the tick count at
//! virtual time `t` ns is `floor(t * 1193182 / 1e9)`, computed from the
//! absolute time, so nothing drifts. Nothing is stepped: each channel keeps
//! the tick at which its counter was loaded and its count and OUT are worked
//! out from the elapsed ticks. The board calls [`Pit::advance_to`] before it
//! touches the ports or polls [`Pit::irq0_level`], and must not move past
//! [`Pit::next_event_ns`] (the next OUT0 transition) without polling, or the
//! PIC misses an edge.
//!
//! Modelled: channels 0-2, modes 0-5 (6 and 7 alias 2 and 3), binary and BCD
//! counting, LSB/MSB/LSB-then-MSB access, the counter latch command, the
//! read-back command (count and status latches, null count), gate inputs
//! (level gating in modes 0, 2, 3, 4; rising-edge trigger in 1, 2, 3, 5),
//! a new count in modes 2 and 3 taking effect at the end of the current
//! period. Port 0x61: bit 0 gate 2, bit 1 speaker data, bits 2-3 stored,
//! bit 4 refresh toggle (every 15.085 us of virtual time), bit 5 OUT2.
//!
//! Not modelled: the one-clock delay between writing a count and the counter
//! loading it (counting starts at the tick of the write), the mode 3 reload
//! at the half period for a count written mid-cycle (it waits for the whole
//! period), illegal counts of 1 in modes 2 and 3 (no OUT edges), the speaker
//! sound itself, and the parity/IOCHK bits 6-7 of port 0x61 (read 0).

use serde::{Deserialize, Serialize};

/// The counters' input clock.
pub const PIT_HZ: u64 = 1_193_182;
/// Counter 0-2 data ports and the control word port.
pub const PIT_PORTS: [u16; 4] = [0x40, 0x41, 0x42, 0x43];
/// System control port B.
pub const PORT_B: u16 = 0x61;
/// Half period of the refresh request toggle read at port 0x61 bit 4.
pub const REFRESH_TOGGLE_NS: u64 = 15_085;

const NS_PER_S: u128 = 1_000_000_000;

/// The tick count at virtual time `ns`.
pub fn ns_to_ticks(ns: u64) -> u64 {
    (u128::from(ns) * u128::from(PIT_HZ) / NS_PER_S) as u64
}

/// The first virtual nanosecond at which the tick count reaches `ticks`.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    let ns = (u128::from(ticks) * NS_PER_S).div_ceil(u128::from(PIT_HZ));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// How a counter's data port is accessed (control word bits 5-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum Access {
    Lsb,
    Msb,
    #[default]
    LsbMsb,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Channel {
    /// Mode 0-5.
    mode: u8,
    bcd: bool,
    access: Access,
    /// Bits 5-0 of the last control word, for the status byte.
    control: u8,
    /// The count register: the last complete count written (0 = maximum).
    reload: u32,
    /// A complete count was written since the control word.
    armed: bool,
    write_msb_next: bool,
    write_lsb: u8,
    read_msb_next: bool,
    latch: Option<u16>,
    status_latch: Option<u8>,
    null_count: bool,
    gate: bool,
    /// The counting element is running.
    running: bool,
    /// Tick at which the counter was loaded with `period`.
    start: u64,
    /// The count the counter was loaded with, 1..=modulus.
    #[serde(deserialize_with = "super::serde_checks::nonzero")]
    period: u64,
    /// Modes 0 and 4: gate low froze the count at this tick.
    paused_at: Option<u64>,
    /// Modes 2 and 3: a count written while running, and the tick it loads at.
    #[serde(deserialize_with = "super::serde_checks::nonzero_pending")]
    pending: Option<(u64, u64)>,
    /// OUT while not running.
    out_idle: bool,
    /// The count shown while not running.
    count_idle: u32,
}

impl Channel {
    fn new(gate: bool) -> Channel {
        Channel {
            mode: 0,
            bcd: false,
            access: Access::LsbMsb,
            control: 0x30,
            reload: 0,
            armed: false,
            write_msb_next: false,
            write_lsb: 0,
            read_msb_next: false,
            latch: None,
            status_latch: None,
            null_count: true,
            gate,
            running: false,
            start: 0,
            period: 0x10000,
            paused_at: None,
            pending: None,
            out_idle: false,
            count_idle: 0,
        }
    }

    fn modulus(&self) -> u64 {
        if self.bcd {
            10_000
        } else {
            0x10000
        }
    }

    /// A written count as the number of clocks it stands for.
    fn clocks(&self, count: u32) -> u64 {
        let m = self.modulus();
        let value = if self.bcd {
            let mut v = 0u64;
            for shift in [12, 8, 4, 0] {
                v = v * 10 + u64::from((count >> shift) & 0xF);
            }
            v
        } else {
            u64::from(count & 0xFFFF)
        };
        match value % m {
            0 => m,
            v => v,
        }
    }

    fn elapsed(&self, now: u64) -> u64 {
        self.paused_at.unwrap_or(now).saturating_sub(self.start)
    }

    /// Applies a pending mode 2/3 reload whose time has come.
    fn sync(&mut self, now: u64) {
        if let Some((at, clocks)) = self.pending {
            if self.running && now >= at {
                self.start = at;
                self.period = clocks;
                self.pending = None;
                self.null_count = false;
            }
        }
    }

    fn out(&self, now: u64) -> bool {
        if !self.running {
            return self.out_idle;
        }
        let d = self.elapsed(now);
        let n = self.period;
        match self.mode {
            0 | 1 => d >= n,
            2 => d % n != n - 1,
            3 => d % n < n.div_ceil(2),
            _ => d != n,
        }
    }

    /// The counting element's value (binary, below the modulus).
    fn count(&self, now: u64) -> u32 {
        if !self.running {
            return self.count_idle;
        }
        let m = self.modulus();
        let d = self.elapsed(now);
        let n = self.period;
        let value = match self.mode {
            2 => n - d % n,
            3 => {
                let p = d % n;
                let high = n.div_ceil(2);
                let half = if p < high { p } else { p - high };
                (n - 2 * half.min(n / 2)) & !1
            }
            _ => (n % m + m - d % m) % m,
        };
        (value % m) as u32
    }

    /// The next tick after `now` at which OUT changes.
    fn next_edge(&self, now: u64) -> Option<u64> {
        if !self.running || self.paused_at.is_some() {
            return None;
        }
        let d = now.checked_sub(self.start)?;
        let n = self.period;
        let base = self.start + d - d % n;
        match self.mode {
            0 | 1 => (d < n).then_some(self.start + n),
            2 if n >= 2 => Some(if d % n < n - 1 {
                base + n - 1
            } else {
                base + n
            }),
            3 if n >= 2 => {
                let high = n.div_ceil(2);
                Some(if d % n < high { base + high } else { base + n })
            }
            4 | 5 if d < n => Some(self.start + n),
            4 | 5 if d == n => Some(self.start + n + 1),
            _ => None,
        }
    }

    fn stop(&mut self, now: u64, out: bool) {
        self.count_idle = self.count(now);
        self.running = false;
        self.paused_at = None;
        self.out_idle = out;
    }

    fn load(&mut self, now: u64) {
        self.period = self.clocks(self.reload);
        self.start = now;
        self.running = true;
        self.paused_at = None;
        self.pending = None;
        self.null_count = false;
    }

    fn write_control(&mut self, value: u8, now: u64) {
        let mode = (value >> 1) & 7;
        self.mode = if mode >= 6 { mode - 4 } else { mode };
        self.bcd = value & 1 != 0;
        self.access = match (value >> 4) & 3 {
            1 => Access::Lsb,
            2 => Access::Msb,
            _ => Access::LsbMsb,
        };
        self.control = value & 0x3F;
        self.stop(now, self.mode != 0);
        self.armed = false;
        self.pending = None;
        self.null_count = true;
        self.write_msb_next = false;
        self.read_msb_next = false;
        self.latch = None;
        self.status_latch = None;
    }

    fn write_data(&mut self, value: u8, now: u64) {
        let count = match self.access {
            Access::Lsb => u32::from(value),
            Access::Msb => u32::from(value) << 8,
            Access::LsbMsb if !self.write_msb_next => {
                self.write_lsb = value;
                self.write_msb_next = true;
                if self.mode == 0 {
                    // Writing the first byte stops a mode 0 count, OUT low.
                    self.stop(now, false);
                }
                return;
            }
            Access::LsbMsb => {
                self.write_msb_next = false;
                u32::from(self.write_lsb) | u32::from(value) << 8
            }
        };
        self.reload = count;
        self.armed = true;
        self.null_count = true;
        match self.mode {
            0 | 4 => {
                self.load(now);
                if !self.gate {
                    self.paused_at = Some(now);
                }
            }
            2 | 3 => {
                if self.running {
                    let d = now.saturating_sub(self.start);
                    let end = self.start + d - d % self.period + self.period;
                    self.pending = Some((end, self.clocks(count)));
                } else if self.gate {
                    self.load(now);
                } else {
                    self.out_idle = true;
                }
            }
            _ => {} // modes 1 and 5 wait for a gate trigger
        }
    }

    fn set_gate(&mut self, level: bool, now: u64) {
        let rising = level && !self.gate;
        let falling = !level && self.gate;
        self.gate = level;
        match self.mode {
            0 | 4 => {
                if falling && self.running {
                    self.paused_at = Some(now);
                } else if rising {
                    if let Some(at) = self.paused_at.take() {
                        self.start += now - at.min(now);
                    }
                }
            }
            2 | 3 => {
                if falling {
                    self.stop(now, true);
                } else if rising && self.armed {
                    if let Some((_, clocks)) = self.pending {
                        self.reload_clocks(clocks);
                    }
                    self.load(now);
                }
            }
            _ => {
                if rising && self.armed {
                    self.load(now);
                }
            }
        }
    }

    /// Makes `clocks` the count register's value (a pending reload applied early).
    fn reload_clocks(&mut self, clocks: u64) {
        let m = self.modulus();
        let v = (clocks % m) as u32;
        self.reload = if self.bcd {
            let mut bcd = 0u32;
            for (i, digit) in [v / 1000, v / 100 % 10, v / 10 % 10, v % 10]
                .iter()
                .enumerate()
            {
                bcd |= digit << (12 - 4 * i);
            }
            bcd
        } else {
            v
        };
    }

    fn encoded_count(&self, now: u64) -> u16 {
        let v = self.count(now);
        if self.bcd {
            let v = v % 10_000;
            ((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10)) as u16
        } else {
            v as u16
        }
    }

    fn status(&self, now: u64) -> u8 {
        u8::from(self.out(now)) << 7 | u8::from(self.null_count) << 6 | self.control
    }

    fn read_data(&mut self, now: u64) -> u8 {
        if let Some(status) = self.status_latch.take() {
            return status;
        }
        let value = self.latch.unwrap_or_else(|| self.encoded_count(now));
        let (byte, done) = match self.access {
            Access::Lsb => (value as u8, true),
            Access::Msb => ((value >> 8) as u8, true),
            Access::LsbMsb if !self.read_msb_next => {
                self.read_msb_next = true;
                (value as u8, false)
            }
            Access::LsbMsb => {
                self.read_msb_next = false;
                ((value >> 8) as u8, true)
            }
        };
        if done {
            self.latch = None;
        }
        byte
    }

    fn latch_count(&mut self, now: u64) {
        if self.latch.is_none() {
            self.latch = Some(self.encoded_count(now));
        }
    }
}

/// The 8254 and port 0x61.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pit {
    channels: [Channel; 3],
    now_ns: u64,
    /// Port 0x61 bits 0-3 as written.
    port_b: u8,
}

impl Default for Pit {
    fn default() -> Pit {
        Pit::new()
    }
}

impl Pit {
    pub fn new() -> Pit {
        Pit {
            channels: [Channel::new(true), Channel::new(true), Channel::new(false)],
            now_ns: 0,
            port_b: 0,
        }
    }

    fn now(&self) -> u64 {
        ns_to_ticks(self.now_ns)
    }

    /// Moves the timer's view of virtual time forward (never back).
    pub fn advance_to(&mut self, now_ns: u64) {
        self.now_ns = self.now_ns.max(now_ns);
        let now = self.now();
        for ch in &mut self.channels {
            ch.sync(now);
        }
    }

    /// Virtual time of the next OUT0 transition (the IRQ0 line), if any.
    pub fn next_event_ns(&self) -> Option<u64> {
        self.channels[0].next_edge(self.now()).map(ticks_to_ns)
    }

    /// Channel 0's OUT, wired to IRQ0.
    pub fn irq0_level(&self) -> bool {
        self.out(0)
    }

    /// OUT of channel `channel` (0-2; others read low).
    pub fn out(&self, channel: usize) -> bool {
        let now = self.now();
        self.channels.get(channel).is_some_and(|c| c.out(now))
    }

    /// Drives the gate input of `channel` (0-2; others ignored). Channels 0
    /// and 1 are tied high on a PC; channel 2's gate is port 0x61 bit 0.
    pub fn set_gate(&mut self, channel: usize, level: bool) {
        let now = self.now();
        if let Some(c) = self.channels.get_mut(channel) {
            c.sync(now);
            c.set_gate(level, now);
        }
    }

    /// Whether the speaker sounds: gate 2, speaker data and OUT2 all high.
    pub fn speaker_on(&self) -> bool {
        self.port_b & 3 == 3 && self.out(2)
    }

    fn read_back(&mut self, value: u8, now: u64) {
        for (i, ch) in self.channels.iter_mut().enumerate() {
            if value & (2 << i) == 0 {
                continue;
            }
            if value & 0x20 == 0 {
                ch.latch_count(now);
            }
            if value & 0x10 == 0 && ch.status_latch.is_none() {
                ch.status_latch = Some(ch.status(now));
            }
        }
    }
}

impl super::ByteDevice for Pit {
    fn read_byte(&mut self, port: u16) -> u8 {
        let now = self.now();
        match port {
            0x40..=0x42 => self.channels[usize::from(port - 0x40)].read_data(now),
            PORT_B => {
                let refresh = (self.now_ns / REFRESH_TOGGLE_NS) & 1 == 1;
                self.port_b | u8::from(refresh) << 4 | u8::from(self.out(2)) << 5
            }
            _ => 0xFF, // 0x43 is write-only
        }
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        let now = self.now();
        match port {
            0x40..=0x42 => self.channels[usize::from(port - 0x40)].write_data(value, now),
            0x43 => {
                let select = value >> 6;
                if select == 3 {
                    self.read_back(value, now);
                } else {
                    let ch = &mut self.channels[usize::from(select)];
                    if value & 0x30 == 0 {
                        ch.latch_count(now);
                    } else {
                        ch.write_control(value, now);
                    }
                }
            }
            PORT_B => {
                self.port_b = value & 0x0F;
                self.set_gate(2, value & 1 != 0);
            }
            _ => {}
        }
    }
    /// Power-on state; the virtual clock reading is kept.
    fn reset(&mut self) {
        let now_ns = self.now_ns;
        *self = Pit::new();
        self.now_ns = now_ns;
    }
}

#[cfg(test)]
#[path = "pit_tests.rs"]
mod tests;
