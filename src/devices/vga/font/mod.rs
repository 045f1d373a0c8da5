//! The built-in text-mode font: one 8x16 glyph for each of the 256 codes,
//! drawn for moon86 (no other font's bitmaps are used). Printable ASCII
//! (0x20-0x7E) is hand-drawn ASCII art in `ascii.rs`; the code page 437
//! block graphics (shades 0xB0-0xB2, single and double box drawing
//! 0xB3-0xDA, blocks 0xDB-0xDF) and the small square and dots 0xF9, 0xFA
//! and 0xFE are computed in `graphics.rs`. 0x00, 0x20 and 0xFF are blank.
//! Every other code (the 0x01-0x1F symbols, 0x7F, the accented letters,
//! Greek and mathematical signs) shows as a placeholder, a hollow box, so a
//! screenshot shows that something is there. The whole table is built at
//! compile time. Guest-loaded fonts (VGA plane 2) are not modelled.

mod ascii;
mod graphics;

/// Glyph size in pixels.
pub const GLYPH_WIDTH: usize = 8;
pub const GLYPH_HEIGHT: usize = 16;

/// One glyph: a byte per row, top first; bit 7 is the leftmost pixel.
pub type Glyph = [u8; GLYPH_HEIGHT];

/// The glyph of every code.
pub static FONT: [Glyph; 256] = build();

/// The stand-in for codes the font does not draw: a hollow box.
const PLACEHOLDER: Glyph = [
    0x00, 0x00, 0x00, 0x7C, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x7C, 0x00, 0x00, 0x00,
];

const fn build() -> [Glyph; 256] {
    let mut font = [PLACEHOLDER; 256];
    font[0x00] = [0; GLYPH_HEIGHT];
    font[0xFF] = [0; GLYPH_HEIGHT];
    let mut i = 0;
    while i < ascii::GLYPHS.len() {
        font[0x20 + i] = ascii::GLYPHS[i];
        i += 1;
    }
    let mut code = 0x80;
    while code < 0x100 {
        if let Some(g) = graphics::glyph(code as u8) {
            font[code] = g;
        }
        code += 1;
    }
    font
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_drawn_and_the_rest_has_a_placeholder() {
        assert_eq!(FONT[0x20], [0; 16]);
        for (code, glyph) in FONT.iter().enumerate().take(0x7F).skip(0x21) {
            assert!(glyph.iter().any(|&r| r != 0), "0x{code:02x} has pixels");
            assert_ne!(*glyph, PLACEHOLDER, "0x{code:02x} is drawn");
        }
        assert_eq!(FONT[0x01], PLACEHOLDER);
        assert_eq!(FONT[0x80], PLACEHOLDER);
        assert_eq!(FONT[0xE1], PLACEHOLDER);
        assert_eq!(FONT[0x00], [0; 16]);
        assert_eq!(FONT[0xFF], [0; 16]);
    }

    #[test]
    fn glyphs_are_distinct() {
        let printable = &FONT[0x21..0x7F];
        for (i, a) in printable.iter().enumerate() {
            for (j, b) in printable.iter().enumerate().skip(i + 1) {
                assert_ne!(
                    a,
                    b,
                    "0x{:02x} and 0x{:02x} look the same",
                    i + 0x21,
                    j + 0x21
                );
            }
        }
    }

    #[test]
    fn letters_keep_column_7_free() {
        for code in (b'A'..=b'Z').chain(b'a'..=b'z').chain(b'0'..=b'9') {
            assert!(
                FONT[usize::from(code)].iter().all(|r| r & 1 == 0),
                "'{}' touches column 7",
                char::from(code)
            );
        }
    }
}
