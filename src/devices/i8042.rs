//! The 8042 keyboard controller (data port 0x60, status/command port 0x64)
//! with an AT keyboard behind it.
//!
//! Controller: the status register (OBF, SYS, A2, keyboard not inhibited;
//! IBF never sets because commands complete at once), the command byte
//! (read 0x20, write 0x60; the rest of the 32-byte RAM at 0x21-0x3F and
//! 0x61-0x7F), self-test 0xAA -> 0x55, keyboard interface test 0xAB -> 0x00,
//! disable/enable keyboard 0xAD/0xAE, read input port 0xC0, read/write
//! output port 0xD0/0xD1 (bit 0 reset, bit 1 A20), write keyboard output
//! buffer 0xD2, test inputs 0xE0, A20 off/on 0xDD/0xDF, and pulse output
//! lines 0xF0-0xFF (0xFE pulses reset). Keyboard: reset 0xFF -> FA AA,
//! enable/disable scanning 0xF4/0xF5, defaults 0xF6, LEDs 0xED, typematic
//! 0xF3, identify 0xF2 -> FA AB 83, scancode set 0xF0, echo 0xEE, resend
//! 0xFE; other commands answer FA.
//!
//! Scancodes: [`I8042::push_scancodes`] takes **set 2** codes, what the
//! keyboard sends on its wire; when the command byte's translate bit (6) is
//! set (the usual case) the controller turns them into set 1 as the real
//! 8042 does (F0 prefixes fold into the break bit). The queue feeds the
//! output buffer one byte at a time: after the guest reads port 0x60 the
//! next byte arrives [`BYTE_GAP_NS`] of virtual time later, so IRQ1 falls
//! and rises again for every byte and typed text is paced by the guest's
//! consumption. Keyboard replies go ahead of queued scancodes. The board
//! calls [`I8042::advance_to`] before port access and after
//! [`I8042::next_event_ns`].
//!
//! Not modelled: the auxiliary (mouse) port (0xA7/0xA8 do nothing, 0xA9
//! answers 0x01 "clock stuck low", bytes for 0xD3/0xD4 are swallowed),
//! typematic repeat, scancode sets 1 and 3 on the keyboard side (0xF0 is
//! remembered and reported but codes are always the pushed set 2 ones),
//! parity and timeout errors, and the password/security commands.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub const I8042_DATA: u16 = 0x60;
pub const I8042_STATUS: u16 = 0x64;
/// Virtual time between the guest reading a byte and the next one arriving.
pub const BYTE_GAP_NS: u64 = 50_000;

const ST_OBF: u8 = 0x01;
const ST_SYS: u8 = 0x04;
const ST_A2: u8 = 0x08;
const ST_UNLOCKED: u8 = 0x10;

const CB_KBD_INT: u8 = 0x01;
const CB_SYS: u8 = 0x04;
const CB_KBD_DISABLED: u8 = 0x10;
const CB_TRANSLATE: u8 = 0x40;

const OUT_RESET: u8 = 0x01;
const OUT_A20: u8 = 0x02;

/// The 8042's set 2 -> set 1 translation for bytes below 0x80 (0x83 and
/// 0x84 too: F7 and Alt-SysRq); other bytes pass through.
const TRANSLATE: [u8; 128] = [
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
];

fn translate(byte: u8) -> u8 {
    match byte {
        0x00..=0x7F => TRANSLATE[usize::from(byte)],
        0x83 => 0x41,
        0x84 => 0x54,
        _ => byte,
    }
}

/// What the next byte written to port 0x60 is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum DataTarget {
    #[default]
    Keyboard,
    ControllerRam(u8),
    OutputPort,
    KeyboardBuffer,
    Swallow,
    KeyboardParam(u8),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct I8042 {
    ram: [u8; 32],
    output_port: u8,
    /// The byte in the output buffer, if full.
    out_buf: Option<u8>,
    /// Controller and keyboard replies, delivered before scancodes.
    replies: VecDeque<u8>,
    /// Set 2 scancodes the host pushed.
    scancodes: VecDeque<u8>,
    /// A translated F0 waits for the byte it modifies.
    break_prefix: bool,
    last_write_command: bool,
    target: DataTarget,
    scanning: bool,
    leds: u8,
    scancode_set: u8,
    typematic: u8,
    last_sent: u8,
    reset_requested: bool,
    now_ns: u64,
    /// No byte enters the output buffer before this time.
    hold_until_ns: u64,
}

impl Default for I8042 {
    fn default() -> I8042 {
        I8042::new()
    }
}

impl I8042 {
    /// The controller as a BIOS leaves it: translation, SYS flag and IRQ1
    /// enabled, A20 enabled, keyboard scanning.
    pub fn new() -> I8042 {
        let mut ram = [0u8; 32];
        ram[0] = CB_TRANSLATE | CB_SYS | CB_KBD_INT;
        I8042 {
            ram,
            output_port: OUT_RESET | OUT_A20,
            out_buf: None,
            replies: VecDeque::new(),
            scancodes: VecDeque::new(),
            break_prefix: false,
            last_write_command: false,
            target: DataTarget::Keyboard,
            scanning: true,
            leds: 0,
            scancode_set: 2,
            typematic: 0x0B,
            last_sent: 0,
            reset_requested: false,
            now_ns: 0,
            hold_until_ns: 0,
        }
    }

    fn command_byte(&self) -> u8 {
        self.ram[0]
    }

    /// Whether the output port enables A20.
    pub fn a20_enabled(&self) -> bool {
        self.output_port & OUT_A20 != 0
    }

    /// Whether the guest asked for a reset (0xFE, a pulse, or output port
    /// bit 0 written 0) since the last call.
    pub fn take_reset_request(&mut self) -> bool {
        std::mem::take(&mut self.reset_requested)
    }

    /// IRQ1: the output buffer is full and the command byte enables it.
    pub fn irq1_level(&self) -> bool {
        self.out_buf.is_some() && self.command_byte() & CB_KBD_INT != 0
    }

    /// Queues set 2 scancodes from the host keyboard.
    pub fn push_scancodes(&mut self, codes: &[u8]) {
        self.scancodes.extend(codes);
        self.fill();
    }

    /// Scancode bytes still waiting to reach the guest.
    pub fn queue_len(&self) -> usize {
        self.scancodes.len()
    }

    /// The keyboard LEDs last set (bit 0 scroll, 1 num, 2 caps lock).
    pub fn leds(&self) -> u8 {
        self.leds
    }

    pub fn advance_to(&mut self, now_ns: u64) {
        self.now_ns = self.now_ns.max(now_ns);
        self.fill();
    }

    /// When the next queued byte will enter the output buffer.
    pub fn next_event_ns(&self) -> Option<u64> {
        let waiting = !self.replies.is_empty() || self.scancodes_deliverable();
        (self.out_buf.is_none() && waiting && self.now_ns < self.hold_until_ns)
            .then_some(self.hold_until_ns)
    }

    fn scancodes_deliverable(&self) -> bool {
        !self.scancodes.is_empty() && self.scanning && self.command_byte() & CB_KBD_DISABLED == 0
    }

    /// Moves the next byte into the output buffer when it is free.
    fn fill(&mut self) {
        while self.out_buf.is_none() && self.now_ns >= self.hold_until_ns {
            let raw = if let Some(b) = self.replies.pop_front() {
                b
            } else if self.scancodes_deliverable() {
                match self.scancodes.pop_front() {
                    Some(b) => b,
                    None => return,
                }
            } else {
                return;
            };
            if self.command_byte() & CB_TRANSLATE == 0 {
                self.out_buf = Some(raw);
            } else if raw == 0xF0 {
                self.break_prefix = true;
            } else {
                let mut b = translate(raw);
                if std::mem::take(&mut self.break_prefix) {
                    b |= 0x80;
                }
                self.out_buf = Some(b);
            }
        }
    }

    /// A reply from the controller: straight into the output buffer.
    fn controller_reply(&mut self, byte: u8) {
        self.out_buf = Some(byte);
    }

    /// Replies from the keyboard: ahead of scancodes, through translation.
    fn keyboard_reply(&mut self, bytes: &[u8]) {
        if let Some(&last) = bytes.last() {
            self.last_sent = last;
        }
        self.replies.extend(bytes);
        self.fill();
    }

    fn status(&self) -> u8 {
        let mut s = ST_UNLOCKED;
        if self.out_buf.is_some() {
            s |= ST_OBF;
        }
        if self.command_byte() & CB_SYS != 0 {
            s |= ST_SYS;
        }
        if self.last_write_command {
            s |= ST_A2;
        }
        s
    }

    fn read_data(&mut self) -> u8 {
        match self.out_buf.take() {
            Some(b) => {
                self.hold_until_ns = self.now_ns.saturating_add(BYTE_GAP_NS);
                b
            }
            None => 0x00,
        }
    }

    fn write_output_port(&mut self, value: u8) {
        if value & OUT_RESET == 0 {
            self.reset_requested = true;
        }
        self.output_port = value | OUT_RESET;
    }

    fn command(&mut self, cmd: u8) {
        self.target = DataTarget::Keyboard;
        match cmd {
            0x20..=0x3F => self.controller_reply(self.ram[usize::from(cmd & 0x1F)]),
            0x60..=0x7F => self.target = DataTarget::ControllerRam(cmd & 0x1F),
            0xA9 => self.controller_reply(0x01),
            0xAA => {
                self.ram[0] |= CB_SYS;
                self.controller_reply(0x55);
            }
            0xAB => self.controller_reply(0x00),
            0xAD => self.ram[0] |= CB_KBD_DISABLED,
            0xAE => {
                self.ram[0] &= !CB_KBD_DISABLED;
                self.fill();
            }
            0xC0 => self.controller_reply(0x80),
            0xD0 => {
                let obf = if self.out_buf.is_some() { 0x10 } else { 0 };
                self.controller_reply(self.output_port & 0xCF | obf);
            }
            0xD1 => self.target = DataTarget::OutputPort,
            0xD2 => self.target = DataTarget::KeyboardBuffer,
            0xD3 | 0xD4 => self.target = DataTarget::Swallow,
            0xDD => self.output_port &= !OUT_A20,
            0xDF => self.output_port |= OUT_A20,
            0xE0 => self.controller_reply(0x00),
            // Pulse the output lines whose bit is 0; bit 0 is reset.
            0xF0..=0xFF if cmd & 0x01 == 0 => self.reset_requested = true,
            _ => {} // 0xA7/0xA8 (no aux port) and unknown commands
        }
    }

    fn keyboard_command(&mut self, byte: u8) {
        if let DataTarget::KeyboardParam(cmd) = self.target {
            self.target = DataTarget::Keyboard;
            match cmd {
                0xED => self.leds = byte & 7,
                0xF3 => self.typematic = byte & 0x7F,
                _ => {
                    // 0xF0: scancode set.
                    if byte == 0 {
                        self.keyboard_reply(&[0xFA, self.scancode_set]);
                        return;
                    }
                    if (1..=3).contains(&byte) {
                        self.scancode_set = byte;
                    }
                }
            }
            self.keyboard_reply(&[0xFA]);
            return;
        }
        match byte {
            0xED | 0xF3 | 0xF0 => {
                self.target = DataTarget::KeyboardParam(byte);
                self.keyboard_reply(&[0xFA]);
            }
            0xEE => self.keyboard_reply(&[0xEE]),
            0xF2 => self.keyboard_reply(&[0xFA, 0xAB, 0x83]),
            0xF4 => {
                self.scanning = true;
                self.keyboard_reply(&[0xFA]);
            }
            0xF5 | 0xF6 => {
                self.scanning = byte == 0xF6;
                self.leds = 0;
                self.typematic = 0x0B;
                self.keyboard_reply(&[0xFA]);
            }
            0xFE => {
                let last = self.last_sent;
                self.keyboard_reply(&[last]);
            }
            0xFF => {
                self.scanning = true;
                self.leds = 0;
                self.scancode_set = 2;
                self.keyboard_reply(&[0xFA, 0xAA]);
            }
            _ => self.keyboard_reply(&[0xFA]),
        }
    }

    fn write_data(&mut self, value: u8) {
        self.last_write_command = false;
        match self.target {
            DataTarget::Keyboard | DataTarget::KeyboardParam(_) => {
                // Sending to the keyboard enables its interface.
                self.ram[0] &= !CB_KBD_DISABLED;
                self.keyboard_command(value);
            }
            DataTarget::ControllerRam(i) => {
                self.target = DataTarget::Keyboard;
                self.ram[usize::from(i & 0x1F)] = value;
                self.fill();
            }
            DataTarget::OutputPort => {
                self.target = DataTarget::Keyboard;
                self.write_output_port(value);
            }
            DataTarget::KeyboardBuffer => {
                self.target = DataTarget::Keyboard;
                self.controller_reply(value);
            }
            DataTarget::Swallow => self.target = DataTarget::Keyboard,
        }
    }
}

impl super::ByteDevice for I8042 {
    fn read_byte(&mut self, port: u16) -> u8 {
        match port {
            I8042_DATA => self.read_data(),
            I8042_STATUS => self.status(),
            _ => 0xFF,
        }
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        match port {
            I8042_DATA => self.write_data(value),
            I8042_STATUS => {
                self.last_write_command = true;
                self.command(value);
            }
            _ => {}
        }
    }
    /// Power-on state; pushed scancodes not yet delivered stay queued.
    fn reset(&mut self) {
        let scancodes = std::mem::take(&mut self.scancodes);
        let now_ns = self.now_ns;
        *self = I8042::new();
        self.scancodes = scancodes;
        self.now_ns = now_ns;
        self.fill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice};

    fn cmd(k: &mut I8042, c: u8) {
        k.write(I8042_STATUS, IoSize::Byte, u32::from(c));
    }
    fn data(k: &mut I8042, v: u8) {
        k.write(I8042_DATA, IoSize::Byte, u32::from(v));
    }
    fn status(k: &mut I8042) -> u8 {
        k.read(I8042_STATUS, IoSize::Byte) as u8
    }
    /// Reads the next byte, letting virtual time pass for it to arrive.
    fn next(k: &mut I8042) -> Option<u8> {
        if let Some(t) = k.next_event_ns() {
            k.advance_to(t);
        }
        (status(k) & ST_OBF != 0).then(|| k.read(I8042_DATA, IoSize::Byte) as u8)
    }

    #[test]
    fn power_on_status_and_command_byte() {
        let mut k = I8042::new();
        assert_eq!(status(&mut k), ST_UNLOCKED | ST_SYS);
        cmd(&mut k, 0x20);
        assert_eq!(status(&mut k) & (ST_OBF | ST_A2), ST_OBF | ST_A2);
        assert_eq!(next(&mut k), Some(0x45));
        assert!(k.a20_enabled());
    }

    #[test]
    fn write_command_byte_and_a2_flag() {
        let mut k = I8042::new();
        cmd(&mut k, 0x60);
        data(&mut k, 0x61);
        assert_eq!(status(&mut k) & ST_A2, 0, "last write was data");
        cmd(&mut k, 0x20);
        assert_eq!(next(&mut k), Some(0x61));
        cmd(&mut k, 0x60);
        data(&mut k, 0x00);
        assert_eq!(status(&mut k) & ST_SYS, 0);
    }

    #[test]
    fn self_test_and_interface_test() {
        let mut k = I8042::new();
        cmd(&mut k, 0xAA);
        assert_eq!(next(&mut k), Some(0x55));
        assert_ne!(status(&mut k) & ST_SYS, 0);
        cmd(&mut k, 0xAB);
        assert_eq!(next(&mut k), Some(0x00));
        cmd(&mut k, 0xA9);
        assert_eq!(next(&mut k), Some(0x01), "no aux port");
    }

    #[test]
    fn a20_through_output_port_and_shortcuts() {
        let mut k = I8042::new();
        cmd(&mut k, 0xD1);
        data(&mut k, 0x01);
        assert!(!k.a20_enabled());
        assert!(!k.take_reset_request());
        cmd(&mut k, 0xD0);
        assert_eq!(next(&mut k).map(|v| v & 0x03), Some(0x01));
        cmd(&mut k, 0xDF);
        assert!(k.a20_enabled());
        cmd(&mut k, 0xDD);
        assert!(!k.a20_enabled());
        cmd(&mut k, 0xD1);
        data(&mut k, 0x03);
        assert!(k.a20_enabled());
    }

    #[test]
    fn reset_requests() {
        let mut k = I8042::new();
        cmd(&mut k, 0xFE);
        assert!(k.take_reset_request());
        assert!(!k.take_reset_request());
        cmd(&mut k, 0xFF);
        assert!(!k.take_reset_request(), "0xFF pulses nothing");
        cmd(&mut k, 0xF0);
        assert!(k.take_reset_request(), "0xF0 pulses bit 0 too");
        cmd(&mut k, 0xD1);
        data(&mut k, 0x02);
        assert!(k.take_reset_request(), "output port bit 0 low");
    }

    #[test]
    fn keyboard_reset_identify_echo() {
        let mut k = I8042::new();
        data(&mut k, 0xFF);
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(next(&mut k), Some(0xAA));
        assert_eq!(next(&mut k), None);
        data(&mut k, 0xF2);
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(next(&mut k), Some(0xAB));
        assert_eq!(next(&mut k), Some(0x41), "0x83 translated");
        data(&mut k, 0xEE);
        assert_eq!(next(&mut k), Some(0xEE));
    }

    #[test]
    fn parameter_commands_ack_twice() {
        let mut k = I8042::new();
        data(&mut k, 0xED);
        assert_eq!(next(&mut k), Some(0xFA));
        data(&mut k, 0x07);
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(k.leds(), 7);
        data(&mut k, 0xF3);
        data(&mut k, 0x20);
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(next(&mut k), Some(0xFA));
        // Scancode set query: translation off to see the raw answer.
        cmd(&mut k, 0x60);
        data(&mut k, 0x05);
        data(&mut k, 0xF0);
        data(&mut k, 0x00);
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(next(&mut k), Some(0x02));
    }

    #[test]
    fn set2_scancodes_translated_to_set1() {
        let mut k = I8042::new();
        // 'a' make, 'a' break, right ctrl (E0 14) make.
        k.push_scancodes(&[0x1C, 0xF0, 0x1C, 0xE0, 0x14]);
        assert_eq!(next(&mut k), Some(0x1E));
        assert_eq!(next(&mut k), Some(0x9E));
        assert_eq!(next(&mut k), Some(0xE0));
        assert_eq!(next(&mut k), Some(0x1D));
        assert_eq!(next(&mut k), None);
    }

    #[test]
    fn untranslated_when_command_byte_says_so() {
        let mut k = I8042::new();
        cmd(&mut k, 0x60);
        data(&mut k, 0x05);
        k.push_scancodes(&[0x1C, 0xF0, 0x1C]);
        assert_eq!(next(&mut k), Some(0x1C));
        assert_eq!(next(&mut k), Some(0xF0));
        assert_eq!(next(&mut k), Some(0x1C));
    }

    #[test]
    fn one_byte_at_a_time_paced_by_reads() {
        let mut k = I8042::new();
        k.push_scancodes(&[0x1C, 0xF0, 0x1C, 0x32]);
        assert!(k.irq1_level());
        assert_eq!(k.queue_len(), 3);
        k.read(I8042_DATA, IoSize::Byte);
        assert!(!k.irq1_level(), "IRQ1 falls after the read");
        assert_eq!(status(&mut k) & ST_OBF, 0);
        assert_eq!(k.next_event_ns(), Some(BYTE_GAP_NS));
        k.advance_to(BYTE_GAP_NS - 1);
        assert!(!k.irq1_level());
        k.advance_to(BYTE_GAP_NS);
        assert!(k.irq1_level(), "and rises for the next byte");
        // Unread, the byte stays and nothing else arrives.
        k.advance_to(10 * BYTE_GAP_NS);
        assert_eq!(k.queue_len(), 1);
        assert_eq!(k.read(I8042_DATA, IoSize::Byte), 0x9E);
    }

    #[test]
    fn replies_go_ahead_of_scancodes() {
        let mut k = I8042::new();
        k.push_scancodes(&[0x1C, 0x32]);
        data(&mut k, 0xF4);
        assert_eq!(next(&mut k), Some(0x1E), "already in the buffer");
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(next(&mut k), Some(0x30));
    }

    #[test]
    fn disabled_scanning_or_interface_holds_scancodes() {
        let mut k = I8042::new();
        data(&mut k, 0xF5);
        assert_eq!(next(&mut k), Some(0xFA));
        k.push_scancodes(&[0x1C]);
        assert_eq!(next(&mut k), None);
        data(&mut k, 0xF4);
        assert_eq!(next(&mut k), Some(0xFA));
        assert_eq!(next(&mut k), Some(0x1E));
        cmd(&mut k, 0xAD);
        k.push_scancodes(&[0x1C]);
        assert_eq!(next(&mut k), None);
        assert_eq!(k.queue_len(), 1);
        cmd(&mut k, 0xAE);
        assert_eq!(next(&mut k), Some(0x1E));
    }

    #[test]
    fn irq1_needs_command_byte_bit_0() {
        let mut k = I8042::new();
        cmd(&mut k, 0x60);
        data(&mut k, 0x44);
        k.push_scancodes(&[0x1C]);
        assert_ne!(status(&mut k) & ST_OBF, 0);
        assert!(!k.irq1_level());
    }

    #[test]
    fn write_keyboard_output_buffer() {
        let mut k = I8042::new();
        cmd(&mut k, 0xD2);
        data(&mut k, 0x42);
        assert_eq!(next(&mut k), Some(0x42));
        cmd(&mut k, 0xD4);
        data(&mut k, 0xFF);
        assert_eq!(next(&mut k), None, "aux bytes swallowed");
    }

    #[test]
    fn reset_keeps_pushed_scancodes() {
        let mut k = I8042::new();
        k.push_scancodes(&[0x1C, 0x32]);
        cmd(&mut k, 0xDD);
        k.reset();
        assert!(k.a20_enabled());
        // The byte already in the output buffer is lost with the controller.
        assert_eq!(next(&mut k), Some(0x30));
        assert_eq!(next(&mut k), None);
    }

    #[test]
    fn garbage_never_panics() {
        let mut k = I8042::new();
        let mut x: u32 = 0x2468_ACE1;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let port = [0x60u16, 0x64, 0x61][(x % 3) as usize];
            if x & 0x100 != 0 {
                k.write(port, IoSize::Byte, x >> 16);
            } else {
                k.read(port, IoSize::Word);
            }
            if x & 0x1000 != 0 {
                k.push_scancodes(&[x as u8]);
            }
            k.advance_to(i * 20_000);
            k.next_event_ns();
            k.take_reset_request();
        }
    }
}
