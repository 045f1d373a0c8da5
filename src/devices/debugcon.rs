//! The Bochs/QEMU debug console (port 0xE9): bytes written to it are kept as
//! text in the VM and optionally echoed to the host's stdout. Reading the port
//! returns 0xE9, which lets a guest detect the console.

use super::{IoSize, PortDevice};
use std::io::Write;

pub const DEBUGCON_PORT: u16 = 0xE9;

#[derive(Debug, Default, Clone)]
pub struct DebugCon {
    text: Vec<u8>,
    /// Echo each byte to the host's stdout as it arrives.
    pub echo: bool,
}

impl DebugCon {
    /// Everything the guest wrote since power-on, lossily decoded as UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }
    pub fn clear(&mut self) {
        self.text.clear();
    }
}

impl PortDevice for DebugCon {
    fn read(&mut self, _port: u16, _size: IoSize) -> u32 {
        u32::from(DEBUGCON_PORT)
    }
    fn write(&mut self, _port: u16, _size: IoSize, value: u32) {
        let byte = value as u8;
        self.text.push(byte);
        if self.echo {
            let mut out = std::io::stdout().lock();
            // A closed stdout must not stop the guest: the text is kept anyway.
            let _ = out.write_all(&[byte]);
            let _ = out.flush();
        }
    }
    fn reset(&mut self) {
        self.text.clear();
    }
}
