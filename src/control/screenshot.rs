//! Screenshots: the screen as the VGA shows it ([`Machine::screen_frame`])
//! encoded as an 8-bit RGB PNG, written to a file whole or not at all.
//!
//! [`Machine::screen_frame`]: crate::machine::Machine::screen_frame

use super::action::Action;
use super::output_file::write_whole;
use super::vm::Vm;
use super::ControlError;
use crate::devices::Frame;
use std::path::Path;

/// `frame` as the bytes of a PNG file.
pub fn encode_png(frame: &Frame) -> Result<Vec<u8>, ControlError> {
    let mut out = Vec::new();
    let too_big = |_| ControlError::EncodePng("the frame is too large".into());
    let width = u32::try_from(frame.width()).map_err(too_big)?;
    let height = u32::try_from(frame.height()).map_err(too_big)?;
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let encode_err = |e: png::EncodingError| ControlError::EncodePng(e.to_string());
    let mut writer = encoder.write_header().map_err(encode_err)?;
    writer.write_image_data(frame.rgb()).map_err(encode_err)?;
    writer.finish().map_err(encode_err)?;
    Ok(out)
}

impl Vm {
    /// The screen as pixels.
    pub fn screen_frame(&self) -> Result<Frame, ControlError> {
        self.guard(Action::ScreenPng)?;
        Ok(self.machine()?.screen_frame())
    }

    /// Writes the screen to `path` as a PNG, whole or not at all.
    pub fn screen_png(&self, path: &Path) -> Result<(), ControlError> {
        self.guard(Action::ScreenPng)?;
        let png = encode_png(&self.machine()?.screen_frame())?;
        write_whole(path, &png)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips() {
        let mut frame = Frame::new(3, 2);
        frame.set(1, 0, [1, 2, 3]);
        frame.set(2, 1, [255, 0, 128]);
        let bytes = encode_png(&frame).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buf[..info.buffer_size()], frame.rgb());
    }
}
