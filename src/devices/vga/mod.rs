//! VGA text-mode state: the CRTC (index/data at 0x3D4/0x3D5, with 0x3B4/0x3B5
//! as aliases whatever the misc output register says), input status 1 at
//! 0x3DA/0x3BA, and enough of the attribute controller (0x3C0/0x3C1), misc
//! output (0x3C2 write, 0x3CC read), sequencer (0x3C4/0x3C5), DAC (0x3C6-
//! 0x3C9), feature control (0x3CA read, 0x3DA write) and graphics controller
//! (0x3CE/0x3CF) to store what the guest writes and read it back. Registers
//! and the DAC start with the standard mode 3 (80x25 colour text) values,
//! as a BIOS would leave them.
//!
//! Input status 1 follows virtual time (the board calls
//! [`Vga::advance_to`] before port access): a 70 Hz frame of 449 lines of
//! 31.778 us, vertical retrace (bit 3) during the first 2 lines of each
//! frame, display-disabled (bit 0) during vertical retrace and the last
//! 3.8 us of every line. Reading it resets the attribute flip-flop.
//!
//! [`Vga::text_lines`] renders the 80x25 screen from the 32 KiB at 0xB8000,
//! honouring the start address and the CRTC offset (row pitch), mapping code
//! page 437 to Unicode (`cp437.rs`); [`Vga::cursor`] gives the cursor's row
//! and column. [`Vga::render_text`] (`render.rs`) draws the same screen as
//! pixels into a [`Frame`] (`frame.rs`) with the built-in font (`font/`)
//! and the colours of the palette registers and the DAC (`palette.rs`).
//! Not modelled: video memory itself (the board owns it), graphics modes,
//! planar memory access, fonts loaded by the guest, other resolutions
//! (always 80x25), the line compare split screen, CRTC write protection,
//! and retrace interrupts.

mod cp437;
pub mod font;
mod frame;
mod palette;
mod render;

pub use cp437::cp437_char;
pub use frame::Frame;

use serde::{Deserialize, Serialize};

/// The text-mode window's address and size.
pub const VGA_TEXT_BASE: u32 = 0xB8000;
pub const VGA_TEXT_SIZE: usize = 0x8000;
pub const TEXT_COLS: usize = 80;
pub const TEXT_ROWS: usize = 25;

const FRAME_NS: u64 = 14_268_000;
const LINE_NS: u64 = 31_778;
const VRETRACE_NS: u64 = 2 * LINE_NS;
const HBLANK_NS: u64 = 3_800;

const MODE3_CRTC: [u8; 25] = [
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00,
    0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
];
const MODE3_SEQ: [u8; 5] = [0x03, 0x00, 0x03, 0x00, 0x02];
const MODE3_GC: [u8; 9] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF];
const MODE3_ATTR: [u8; 21] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0x0C, 0x00, 0x0F, 0x08, 0x00,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vga {
    crtc_index: u8,
    crtc: [u8; 25],
    seq_index: u8,
    seq: [u8; 5],
    gc_index: u8,
    gc: [u8; 9],
    /// Attribute index register (bits 0-4 index, bit 5 palette address source).
    attr_index: u8,
    attr: [u8; 21],
    /// The attribute port's flip-flop: true when the next write is data.
    attr_data_next: bool,
    misc: u8,
    feature: u8,
    dac_mask: u8,
    dac_read_index: u8,
    dac_write_index: u8,
    /// Which of R, G, B the next DAC data access touches.
    #[serde(deserialize_with = "super::serde_checks::below::<_, 3>")]
    dac_component: u8,
    /// 0 after a read-index write (DAC state 0x03 reads), 3 after a write index.
    dac_state: u8,
    /// 256 entries of R, G, B.
    #[serde(
        serialize_with = "super::serde_checks::byte_vec",
        deserialize_with = "super::serde_checks::exactly::<_, 768>"
    )]
    dac: Vec<u8>,
    now_ns: u64,
}

impl Default for Vga {
    fn default() -> Vga {
        Vga::new()
    }
}

impl Vga {
    /// A VGA in mode 3.
    pub fn new() -> Vga {
        Vga {
            crtc_index: 0,
            crtc: MODE3_CRTC,
            seq_index: 0,
            seq: MODE3_SEQ,
            gc_index: 0,
            gc: MODE3_GC,
            attr_index: 0x20,
            attr: MODE3_ATTR,
            attr_data_next: false,
            misc: 0x67,
            feature: 0,
            dac_mask: 0xFF,
            dac_read_index: 0,
            dac_write_index: 0,
            dac_component: 0,
            dac_state: 0,
            dac: palette::mode3_dac(),
            now_ns: 0,
        }
    }

    pub fn advance_to(&mut self, now_ns: u64) {
        self.now_ns = self.now_ns.max(now_ns);
    }

    /// A CRTC register (0x00-0x18; others read 0xFF).
    pub fn crtc(&self, index: u8) -> u8 {
        self.crtc.get(usize::from(index)).copied().unwrap_or(0xFF)
    }

    /// The display start address, in character cells.
    pub fn start_address(&self) -> u16 {
        u16::from(self.crtc[0x0C]) << 8 | u16::from(self.crtc[0x0D])
    }

    fn cursor_address(&self) -> u16 {
        u16::from(self.crtc[0x0E]) << 8 | u16::from(self.crtc[0x0F])
    }

    /// Characters from one row to the next (CRTC offset register, in words).
    fn pitch(&self) -> usize {
        match usize::from(self.crtc[0x13]) * 2 {
            0 => TEXT_COLS,
            p => p,
        }
    }

    /// The cursor's (row, column) on the screen, relative to the start
    /// address. It may lie off the 80x25 screen.
    pub fn cursor(&self) -> (usize, usize) {
        let offset = usize::from(self.cursor_address().wrapping_sub(self.start_address()));
        (offset / self.pitch(), offset % self.pitch())
    }

    /// Whether the cursor is shown (CRTC 0x0A bit 5 clear).
    pub fn cursor_visible(&self) -> bool {
        self.crtc[0x0A] & 0x20 == 0
    }

    /// Cursor start and end scan lines (CRTC 0x0A and 0x0B, bits 0-4).
    pub fn cursor_shape(&self) -> (u8, u8) {
        (self.crtc[0x0A] & 0x1F, self.crtc[0x0B] & 0x1F)
    }

    /// The 80x25 text screen from `vram` (the 32 KiB at 0xB8000), one
    /// string per row with trailing spaces trimmed. Offsets wrap within
    /// `vram`; an empty slice gives blank lines.
    pub fn text_lines(&self, vram: &[u8]) -> Vec<String> {
        let start = usize::from(self.start_address()) * 2;
        let pitch = self.pitch();
        (0..TEXT_ROWS)
            .map(|row| {
                let line: String = (0..TEXT_COLS)
                    .map(|col| {
                        if vram.is_empty() {
                            return ' ';
                        }
                        let at = (start + (row * pitch + col) * 2) % vram.len();
                        cp437_char(vram[at])
                    })
                    .collect();
                line.trim_end_matches(' ').to_string()
            })
            .collect()
    }

    fn input_status_1(&mut self) -> u8 {
        self.attr_data_next = false;
        let in_frame = self.now_ns % FRAME_NS;
        let vretrace = in_frame < VRETRACE_NS;
        let hblank = in_frame % LINE_NS >= LINE_NS - HBLANK_NS;
        u8::from(vretrace) << 3 | u8::from(vretrace || hblank)
    }

    fn dac_read(&mut self) -> u8 {
        let at = usize::from(self.dac_read_index) * 3 + usize::from(self.dac_component);
        let v = self.dac[at];
        self.dac_component += 1;
        if self.dac_component == 3 {
            self.dac_component = 0;
            self.dac_read_index = self.dac_read_index.wrapping_add(1);
        }
        v
    }

    fn dac_write(&mut self, value: u8) {
        let at = usize::from(self.dac_write_index) * 3 + usize::from(self.dac_component);
        self.dac[at] = value & 0x3F;
        self.dac_component += 1;
        if self.dac_component == 3 {
            self.dac_component = 0;
            self.dac_write_index = self.dac_write_index.wrapping_add(1);
        }
    }
}

impl super::ByteDevice for Vga {
    fn read_byte(&mut self, port: u16) -> u8 {
        fn get(regs: &[u8], index: u8) -> u8 {
            regs.get(usize::from(index)).copied().unwrap_or(0xFF)
        }
        match port {
            0x3B4 | 0x3D4 => self.crtc_index,
            0x3B5 | 0x3D5 => get(&self.crtc, self.crtc_index),
            0x3BA | 0x3DA => self.input_status_1(),
            0x3C0 => self.attr_index,
            0x3C1 => get(&self.attr, self.attr_index & 0x1F),
            0x3C2 => 0x00, // input status 0
            0x3C4 => self.seq_index,
            0x3C5 => get(&self.seq, self.seq_index),
            0x3C6 => self.dac_mask,
            0x3C7 => self.dac_state,
            0x3C8 => self.dac_write_index,
            0x3C9 => self.dac_read(),
            0x3CA => self.feature,
            0x3CC => self.misc,
            0x3CE => self.gc_index,
            0x3CF => get(&self.gc, self.gc_index),
            _ => 0xFF,
        }
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        fn set(regs: &mut [u8], index: u8, value: u8) {
            if let Some(r) = regs.get_mut(usize::from(index)) {
                *r = value;
            }
        }
        match port {
            0x3B4 | 0x3D4 => self.crtc_index = value,
            0x3B5 | 0x3D5 => set(&mut self.crtc, self.crtc_index, value),
            0x3BA | 0x3DA => self.feature = value,
            0x3C0 => {
                if self.attr_data_next {
                    set(&mut self.attr, self.attr_index & 0x1F, value);
                } else {
                    self.attr_index = value & 0x3F;
                }
                self.attr_data_next = !self.attr_data_next;
            }
            0x3C2 => self.misc = value,
            0x3C3 => {}
            0x3C4 => self.seq_index = value,
            0x3C5 => set(&mut self.seq, self.seq_index, value),
            0x3C6 => self.dac_mask = value,
            0x3C7 => {
                self.dac_read_index = value;
                self.dac_component = 0;
                self.dac_state = 0x03;
            }
            0x3C8 => {
                self.dac_write_index = value;
                self.dac_component = 0;
                self.dac_state = 0x00;
            }
            0x3C9 => self.dac_write(value),
            0x3CE => self.gc_index = value,
            0x3CF => set(&mut self.gc, self.gc_index, value),
            _ => {}
        }
    }
    fn reset(&mut self) {
        let now_ns = self.now_ns;
        *self = Vga::new();
        self.now_ns = now_ns;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice};

    fn out(v: &mut Vga, port: u16, value: u8) {
        v.write(port, IoSize::Byte, u32::from(value));
    }
    fn inb(v: &mut Vga, port: u16) -> u8 {
        v.read(port, IoSize::Byte) as u8
    }
    fn put(vram: &mut [u8], cell: usize, text: &str) {
        for (i, b) in text.bytes().enumerate() {
            vram[(cell + i) * 2] = b;
            vram[(cell + i) * 2 + 1] = 0x07;
        }
    }

    #[test]
    fn crtc_index_data_and_mono_alias() {
        let mut v = Vga::new();
        out(&mut v, 0x3D4, 0x0E);
        out(&mut v, 0x3D5, 0x01);
        assert_eq!(inb(&mut v, 0x3D4), 0x0E);
        out(&mut v, 0x3B4, 0x0F);
        out(&mut v, 0x3B5, 0x40);
        assert_eq!(v.crtc(0x0E), 0x01);
        assert_eq!(v.crtc(0x0F), 0x40);
        out(&mut v, 0x3D4, 0x0E);
        assert_eq!(inb(&mut v, 0x3B5), 0x01);
        // A word write sets index and data at once, as BIOSes do.
        v.write(0x3D4, IoSize::Word, 0x2A0C);
        assert_eq!(v.crtc(0x0C), 0x2A);
        out(&mut v, 0x3D4, 0x40);
        assert_eq!(inb(&mut v, 0x3D5), 0xFF, "no such register");
        out(&mut v, 0x3D5, 0x12);
    }

    #[test]
    fn mode3_defaults() {
        let v = Vga::new();
        assert_eq!(v.crtc(0x13), 0x28);
        assert_eq!(v.cursor_shape(), (0x0D, 0x0E));
        assert!(v.cursor_visible());
        assert_eq!(v.cursor(), (0, 0));
    }

    #[test]
    fn cursor_position_relative_to_start() {
        let mut v = Vga::new();
        let loc: u16 = 5 * 80 + 17;
        v.write(0x3D4, IoSize::Word, 0x0E | u32::from(loc >> 8) << 8);
        v.write(0x3D4, IoSize::Word, 0x0F | u32::from(loc & 0xFF) << 8);
        assert_eq!(v.cursor(), (5, 17));
        v.write(0x3D4, IoSize::Word, 0x0D | 80 << 8); // start one row down
        assert_eq!(v.cursor(), (4, 17));
        v.write(0x3D4, IoSize::Word, 0x0A | 0x20 << 8);
        assert!(!v.cursor_visible());
    }

    #[test]
    fn text_lines_trim_and_start_address() {
        let mut v = Vga::new();
        let mut vram = vec![0u8; VGA_TEXT_SIZE];
        for cell in 0..(VGA_TEXT_SIZE / 2) {
            vram[cell * 2] = b' ';
        }
        put(&mut vram, 0, "Linux version");
        put(&mut vram, 80 + 78, "AB");
        put(&mut vram, 25 * 80, "below");
        let lines = v.text_lines(&vram);
        assert_eq!(lines.len(), 25);
        assert_eq!(lines[0], "Linux version");
        assert_eq!(lines[1], format!("{}AB", " ".repeat(78)));
        assert_eq!(lines[24], "");
        v.write(0x3D4, IoSize::Word, 0x0D | 80 << 8);
        let lines = v.text_lines(&vram);
        assert_eq!(lines[23], "", "row 24 scrolled up");
        assert_eq!(lines[24], "below");
    }

    #[test]
    fn text_lines_wrap_and_survive_odd_vram() {
        let mut v = Vga::new();
        v.write(0x3D4, IoSize::Word, 0x0C | 0xFF << 8);
        v.write(0x3D4, IoSize::Word, 0x0D | 0xFF << 8);
        let vram = vec![b'x'; 101];
        assert_eq!(v.text_lines(&vram).len(), 25);
        assert!(v.text_lines(&[]).iter().all(|l| l.is_empty()));
    }

    #[test]
    fn code_page_437() {
        assert_eq!(cp437_char(b'A'), 'A');
        assert_eq!(cp437_char(0x00), ' ');
        assert_eq!(cp437_char(0x01), '☺');
        assert_eq!(cp437_char(0x7F), '⌂');
        assert_eq!(cp437_char(0x80), 'Ç');
        assert_eq!(cp437_char(0xB3), '│');
        assert_eq!(cp437_char(0xC4), '─');
        assert_eq!(cp437_char(0xDB), '█');
        assert_eq!(cp437_char(0xE1), 'ß');
        assert_eq!(cp437_char(0xFE), '■');
        assert_eq!(cp437_char(0xFF), '\u{A0}');
    }

    #[test]
    fn input_status_retrace_from_virtual_time() {
        let mut v = Vga::new();
        v.advance_to(0);
        assert_eq!(inb(&mut v, 0x3DA) & 0x09, 0x09);
        v.advance_to(VRETRACE_NS + 1_000);
        assert_eq!(inb(&mut v, 0x3DA) & 0x09, 0x00);
        v.advance_to(VRETRACE_NS + LINE_NS - 100);
        assert_eq!(inb(&mut v, 0x3DA) & 0x09, 0x01, "horizontal blank");
        v.advance_to(FRAME_NS + 10);
        assert_eq!(inb(&mut v, 0x3BA) & 0x08, 0x08, "next frame");
    }

    #[test]
    fn attribute_flip_flop_reset_by_status_read() {
        let mut v = Vga::new();
        inb(&mut v, 0x3DA);
        out(&mut v, 0x3C0, 0x10);
        out(&mut v, 0x3C0, 0x01);
        assert_eq!(inb(&mut v, 0x3C0), 0x10);
        assert_eq!(inb(&mut v, 0x3C1), 0x01);
        out(&mut v, 0x3C0, 0x12); // index write
        inb(&mut v, 0x3DA); // back to index state
        out(&mut v, 0x3C0, 0x33);
        out(&mut v, 0x3C0, 0x05); // index 0x13 data
        assert_eq!(inb(&mut v, 0x3C0), 0x33);
        assert_eq!(inb(&mut v, 0x3C1), 0x05);
    }

    #[test]
    fn sequencer_graphics_misc_and_dac_read_back() {
        let mut v = Vga::new();
        out(&mut v, 0x3C4, 0x02);
        out(&mut v, 0x3C5, 0x0F);
        assert_eq!(inb(&mut v, 0x3C5), 0x0F);
        out(&mut v, 0x3CE, 0x06);
        out(&mut v, 0x3CF, 0x05);
        assert_eq!(inb(&mut v, 0x3CF), 0x05);
        assert_eq!(inb(&mut v, 0x3CC), 0x67);
        out(&mut v, 0x3C2, 0x63);
        assert_eq!(inb(&mut v, 0x3CC), 0x63);
        out(&mut v, 0x3C8, 0xFF);
        for c in [0x3F, 0x20, 0xFF] {
            out(&mut v, 0x3C9, c);
        }
        out(&mut v, 0x3C7, 0xFF);
        assert_eq!(inb(&mut v, 0x3C7), 0x03);
        assert_eq!(
            [inb(&mut v, 0x3C9), inb(&mut v, 0x3C9), inb(&mut v, 0x3C9)],
            [0x3F, 0x20, 0x3F]
        );
        assert_eq!(inb(&mut v, 0x3C8), 0x00, "write index wrapped");
    }

    #[test]
    fn garbage_never_panics() {
        let mut v = Vga::new();
        let mut x: u32 = 0x9E37_79B9;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let port = 0x3B0 + (x % 0x30) as u16;
            if x & 0x100 != 0 {
                v.write(port, IoSize::Word, x >> 16);
            } else {
                v.read(port, IoSize::Byte);
            }
            v.advance_to(i * 12_345);
            if i % 1000 == 0 {
                let f = v.render_text(&[0xC5, x as u8, 0xDB]);
                assert_eq!(f.rgb().len(), f.width() * f.height() * 3);
            }
        }
        v.text_lines(&[0xFF; 7]);
        v.cursor();
    }
}
