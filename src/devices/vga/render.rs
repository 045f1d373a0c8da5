//! Text mode drawn as pixels, as a VGA monitor would show it: 80x25 cells
//! of 9x16 pixels (720x400), or 8x16 (640x400) when the sequencer's
//! clocking mode register selects 8-dot characters. Cells are read from
//! the text buffer the way [`Vga::text_lines`] reads them (start address,
//! row pitch, wrapping within the buffer), glyphs come from the built-in
//! `font/` and colours from `palette.rs`.
//!
//! The attribute byte's low nibble is the foreground colour and its high
//! nibble the background. With blinking enabled (attribute mode control
//! bit 3, set in mode 3) bit 7 makes the character blink and the background
//! has only 8 colours; a frame always shows the blink phase in which the
//! characters are visible, so a screenshot does not depend on the moment
//! it is taken. With blinking disabled bit 7 is background intensity. In
//! 9-dot cells the ninth column is background, except for 0xC0-0xDF when
//! line graphics are enabled (mode control bit 2), where it repeats the
//! eighth so box-drawing lines and blocks join. The cursor (CRTC 0x0A-0x0F)
//! is drawn in its visible phase, in the cell's foreground colour, over the
//! scan lines from its start to its end register (none when start > end).
//! The screen is black while the sequencer turns it off (clocking mode bit
//! 5) or the attribute controller's palette address source bit is clear.
//! Not modelled: character heights other than 16, underline, the
//! overscan border, fonts loaded by the guest, character map select.

use super::font::{FONT, GLYPH_HEIGHT};
use super::{Frame, Vga, TEXT_COLS, TEXT_ROWS};

impl Vga {
    /// Width of a character cell in pixels: 9, or 8 in 8-dot mode.
    pub fn cell_width(&self) -> usize {
        if self.seq[1] & 0x01 != 0 {
            8
        } else {
            9
        }
    }

    /// The text screen from `vram` (the 32 KiB at 0xB8000) as pixels.
    /// Offsets wrap within `vram`; an empty slice gives a black screen.
    pub fn render_text(&self, vram: &[u8]) -> Frame {
        let cell_w = self.cell_width();
        let mut frame = Frame::new(TEXT_COLS * cell_w, TEXT_ROWS * GLYPH_HEIGHT);
        let screen_off = self.seq[1] & 0x20 != 0;
        let palette_to_display = self.attr_index & 0x20 != 0;
        if vram.is_empty() || screen_off || !palette_to_display {
            return frame;
        }
        let colours: Vec<[u8; 3]> = (0..16).map(|c| self.text_colour(c)).collect();
        let mode = self.attr[0x10];
        let blink = mode & 0x08 != 0;
        let line_graphics = mode & 0x04 != 0;
        let start = usize::from(self.start_address()) * 2;
        let pitch = self.pitch();
        let (cursor_row, cursor_col) = self.cursor();
        let (cursor_start, cursor_end) = self.cursor_shape();
        for row in 0..TEXT_ROWS {
            for col in 0..TEXT_COLS {
                let at = (start + (row * pitch + col) * 2) % vram.len();
                let code = vram[at];
                let attr = vram[(at + 1) % vram.len()];
                let fg = colours[usize::from(attr & 0x0F)];
                let bg = colours[usize::from(if blink { attr >> 4 & 7 } else { attr >> 4 })];
                let glyph = &FONT[usize::from(code)];
                let ninth = line_graphics && (0xC0..=0xDF).contains(&code);
                let cursor_here = self.cursor_visible()
                    && (row, col) == (cursor_row, cursor_col)
                    && cursor_start <= cursor_end;
                for (y, &bits) in glyph.iter().enumerate() {
                    let in_cursor = cursor_here
                        && usize::from(cursor_start) <= y
                        && y <= usize::from(cursor_end);
                    for x in 0..cell_w {
                        let lit = match x {
                            0..=7 => bits & (0x80 >> x) != 0,
                            _ => ninth && bits & 1 != 0,
                        };
                        let colour = if lit || in_cursor { fg } else { bg };
                        frame.set(col * cell_w + x, row * GLYPH_HEIGHT + y, colour);
                    }
                }
            }
        }
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice, VGA_TEXT_SIZE};

    const BLUE: [u8; 3] = [0x00, 0x00, 0xAA];
    const WHITE: [u8; 3] = [0xFF, 0xFF, 0xFF];
    const BLACK: [u8; 3] = [0, 0, 0];

    fn vram_with(cells: &[(usize, u8, u8)]) -> Vec<u8> {
        let mut vram = vec![0u8; VGA_TEXT_SIZE];
        for &(cell, code, attr) in cells {
            vram[cell * 2] = code;
            vram[cell * 2 + 1] = attr;
        }
        vram
    }

    /// The cell's pixels as '#' (equal to `fg`) and '.' (anything else).
    fn cell_art(f: &Frame, cell: usize, fg: [u8; 3], w: usize) -> Vec<String> {
        let (cx, cy) = (cell % 80 * w, cell / 80 * 16);
        (0..16)
            .map(|y| {
                (0..w)
                    .map(|x| {
                        if f.pixel(cx + x, cy + y) == Some(fg) {
                            '#'
                        } else {
                            '.'
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn hide_cursor(v: &mut Vga) {
        v.write(0x3D4, IoSize::Word, 0x0A | 0x20 << 8);
    }

    #[test]
    fn size_follows_the_dot_clock() {
        let mut v = Vga::new();
        let f = v.render_text(&[]);
        assert_eq!((f.width(), f.height()), (720, 400));
        assert_eq!(f.rgb().len(), 720 * 400 * 3);
        v.write(0x3C4, IoSize::Word, 0x01 | 0x01 << 8);
        assert_eq!(v.render_text(&[]).width(), 640);
    }

    #[test]
    fn glyph_in_its_colours() {
        let mut v = Vga::new();
        hide_cursor(&mut v);
        let f = v.render_text(&vram_with(&[(0, b'A', 0x1F)]));
        assert_eq!(f.pixel(0, 0), Some(BLUE), "background");
        assert_eq!(f.pixel(8, 5), Some(BLUE), "ninth column");
        let art = cell_art(&f, 0, WHITE, 9);
        let expected: Vec<String> = FONT[usize::from(b'A')]
            .iter()
            .map(|r| {
                (0..9)
                    .map(|x| {
                        if x < 8 && r & (0x80 >> x) != 0 {
                            '#'
                        } else {
                            '.'
                        }
                    })
                    .collect()
            })
            .collect();
        assert_eq!(art, expected);
        assert_eq!(f.pixel(9, 0), Some(BLACK), "next cell: attribute 0");
    }

    #[test]
    fn blink_bit_is_blink_or_intensity() {
        let mut v = Vga::new();
        hide_cursor(&mut v);
        let vram = vram_with(&[(0, b' ', 0x9F)]);
        assert_eq!(
            v.render_text(&vram).pixel(0, 0),
            Some(BLUE),
            "blinking, dark bg"
        );
        v.read(0x3DA, IoSize::Byte);
        v.write(0x3C0, IoSize::Byte, 0x30); // mode control, palette to display
        v.write(0x3C0, IoSize::Byte, 0x04); // blink off, line graphics on
        assert_eq!(
            v.render_text(&vram).pixel(0, 0),
            Some([0x55, 0x55, 0xFF]),
            "bright blue background"
        );
    }

    #[test]
    fn ninth_column_for_line_graphics_only() {
        let mut v = Vga::new();
        hide_cursor(&mut v);
        let f = v.render_text(&vram_with(&[(0, 0xC4, 0x07), (1, b'-', 0x07)]));
        let grey = [0xAA; 3];
        assert_eq!(f.pixel(8, 7), Some(grey), "─ continues into column 9");
        assert_eq!(f.pixel(9 + 8, 7), Some(BLACK), "'-' does not");
    }

    #[test]
    fn cursor_drawn_from_its_registers() {
        let mut v = Vga::new();
        let loc: u32 = 80 + 2;
        v.write(0x3D4, IoSize::Word, 0x0E | (loc >> 8) << 8);
        v.write(0x3D4, IoSize::Word, 0x0F | (loc & 0xFF) << 8);
        let f = v.render_text(&vram_with(&[(loc as usize, b' ', 0x1E)]));
        let yellow = [0xFF, 0xFF, 0x55];
        let art = cell_art(&f, loc as usize, yellow, 9);
        assert_eq!(art[12], ".........");
        assert_eq!(art[13], "#########");
        assert_eq!(art[14], "#########");
        assert_eq!(art[15], ".........");
        hide_cursor(&mut v);
        let f = v.render_text(&vram_with(&[(loc as usize, b' ', 0x1E)]));
        assert!(cell_art(&f, loc as usize, yellow, 9)
            .iter()
            .all(|r| !r.contains('#')));
    }

    #[test]
    fn start_address_scrolls() {
        let mut v = Vga::new();
        hide_cursor(&mut v);
        let vram = vram_with(&[(80, 0xDB, 0x0F)]);
        v.write(0x3D4, IoSize::Word, 0x0D | 80 << 8);
        let f = v.render_text(&vram);
        assert_eq!(f.pixel(0, 0), Some(WHITE), "row 1 shown at the top");
    }

    #[test]
    fn blanked_screen_is_black() {
        let mut v = Vga::new();
        let vram = vram_with(&[(0, 0xDB, 0x0F)]);
        v.read(0x3DA, IoSize::Byte);
        v.write(0x3C0, IoSize::Byte, 0x00); // palette address source cleared
        assert_eq!(v.render_text(&vram).pixel(0, 0), Some(BLACK));
        v.write(0x3C0, IoSize::Byte, 0x00); // data write to register 0
        v.write(0x3C0, IoSize::Byte, 0x20);
        assert_eq!(v.render_text(&vram).pixel(0, 0), Some(WHITE));
        v.write(0x3C4, IoSize::Word, 0x01 | 0x20 << 8);
        assert_eq!(v.render_text(&vram).pixel(0, 0), Some(BLACK));
    }

    #[test]
    fn odd_buffers_and_registers_never_panic() {
        let mut v = Vga::new();
        for (reg, value) in [(0x0Cu32, 0xFFu32), (0x0D, 0xFF), (0x13, 0xFF), (0x0E, 0xFF)] {
            v.write(0x3D4, IoSize::Word, reg | value << 8);
        }
        v.write(0x3D4, IoSize::Word, 0x0B | 0x1F << 8);
        v.write(0x3D4, IoSize::Word, 0x0A);
        for len in [1usize, 2, 3, 101] {
            let f = v.render_text(&vec![0xC5; len]);
            assert_eq!(f.width() * f.height() * 3, f.rgb().len());
        }
    }
}
