//! A rendered screen: `width` x `height` pixels, 8-bit RGB, row by row from
//! the top left. The VGA renders into it; the control API encodes it (PNG).

/// An RGB image of the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Frame {
    /// A black frame.
    pub fn new(width: usize, height: usize) -> Frame {
        Frame {
            width,
            height,
            rgb: vec![0; width * height * 3],
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixels, three bytes (red, green, blue) each, row by row.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The pixel at (`x`, `y`), or `None` outside the frame.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let at = (y * self.width + x) * 3;
        Some([self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]])
    }

    /// Sets the pixel at (`x`, `y`); outside the frame it does nothing.
    pub fn set(&mut self, x: usize, y: usize, colour: [u8; 3]) {
        if x < self.width && y < self.height {
            let at = (y * self.width + x) * 3;
            self.rgb[at..at + 3].copy_from_slice(&colour);
        }
    }
}
