//! Text-mode colours as the hardware computes them: a 4-bit attribute
//! colour selects one of the attribute controller's 16 palette registers
//! (bits 4-5 replaced by the colour select register when the mode control
//! register asks, bits 6-7 always from it), the result masked by the DAC's
//! pixel mask selects a DAC entry, and the DAC gives 6-bit red, green and
//! blue, widened here to 8 bits. The DAC starts as a BIOS leaves it for
//! mode 3: entries 0-63 hold the 64 EGA colours, so with the mode 3
//! palette registers the 16 text colours are the classic CGA ones (with
//! brown, not dark yellow, for colour 6); a guest that reprograms the
//! palette registers or the DAC sees its colours in screenshots.

use super::Vga;

/// The DAC as a BIOS leaves it in mode 3. EGA colour bits: 0-2 blue,
/// green and red at two thirds of full scale, 3-5 the same at one third;
/// entries 64-255 are black.
pub(super) fn mode3_dac() -> Vec<u8> {
    let mut dac = vec![0u8; 768];
    for (i, entry) in dac.chunks_exact_mut(3).take(64).enumerate() {
        let level = |primary: usize, secondary: usize| {
            let p = (i >> primary & 1) as u8 * 0x2A;
            let s = (i >> secondary & 1) as u8 * 0x15;
            p + s
        };
        entry.copy_from_slice(&[level(2, 5), level(1, 4), level(0, 3)]);
    }
    dac
}

impl Vga {
    /// The colour (8-bit red, green, blue) that attribute colour `colour`
    /// (0-15; higher bits ignored) shows as.
    pub fn text_colour(&self, colour: u8) -> [u8; 3] {
        let palette = self.attr[usize::from(colour & 0x0F)] & 0x3F;
        let mode = self.attr[0x10];
        let select = self.attr[0x14];
        let low = if mode & 0x80 != 0 {
            palette & 0x0F | (select & 0x03) << 4
        } else {
            palette
        };
        let index = usize::from((low | (select & 0x0C) << 4) & self.dac_mask);
        let widen = |v: u8| {
            let v = v & 0x3F;
            v << 2 | v >> 4
        };
        [
            widen(self.dac[index * 3]),
            widen(self.dac[index * 3 + 1]),
            widen(self.dac[index * 3 + 2]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice};

    #[test]
    fn mode3_gives_the_cga_colours() {
        let v = Vga::new();
        assert_eq!(v.text_colour(0x0), [0x00, 0x00, 0x00]);
        assert_eq!(v.text_colour(0x1), [0x00, 0x00, 0xAA]);
        assert_eq!(v.text_colour(0x6), [0xAA, 0x55, 0x00], "brown");
        assert_eq!(v.text_colour(0x7), [0xAA, 0xAA, 0xAA]);
        assert_eq!(v.text_colour(0x8), [0x55, 0x55, 0x55]);
        assert_eq!(v.text_colour(0xC), [0xFF, 0x55, 0x55]);
        assert_eq!(v.text_colour(0xF), [0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn guest_palette_and_dac_changes_show() {
        let mut v = Vga::new();
        // Palette register 1 -> DAC entry 0x3F (white).
        v.read(0x3DA, IoSize::Byte);
        v.write(0x3C0, IoSize::Byte, 0x01);
        v.write(0x3C0, IoSize::Byte, 0x3F);
        v.write(0x3C0, IoSize::Byte, 0x20);
        assert_eq!(v.text_colour(1), [0xFF, 0xFF, 0xFF]);
        // DAC entry 0x3F -> pure green.
        v.write(0x3C8, IoSize::Byte, 0x3F);
        for c in [0x00, 0x3F, 0x00] {
            v.write(0x3C9, IoSize::Byte, c);
        }
        assert_eq!(v.text_colour(1), [0x00, 0xFF, 0x00]);
        // A pixel mask of 0 sends every colour to DAC entry 0.
        v.write(0x3C6, IoSize::Byte, 0x00);
        assert_eq!(v.text_colour(1), [0x00, 0x00, 0x00]);
    }
}
