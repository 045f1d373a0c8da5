//! The Bochs/QEMU debug console: bytes written to its port are kept as text
//! in the VM and optionally echoed to the host's stdout. The same device
//! serves the Bochs port 0xE9 and the SeaBIOS/QEMU debug port 0x402: it is
//! built for one port ([`DebugCon::new`]; `Default` is 0xE9). Reading the port
//! returns 0xE9 whichever port it sits on (QEMU's `readback` default), which
//! lets a guest (SeaBIOS among them) detect the console. Not modelled: any
//! input from the host; only the low byte of a wider write is kept.

use super::{IoSize, PortDevice};
use serde::{Deserialize, Serialize};
use std::io::Write;

/// The Bochs debug console port.
pub const DEBUGCON_PORT: u16 = 0xE9;
/// The port SeaBIOS and QEMU's `isa-debugcon` use for firmware logs.
pub const SEABIOS_DEBUG_PORT: u16 = 0x402;
/// What a read of the console's port returns.
pub const DEBUGCON_READBACK: u8 = 0xE9;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DebugCon {
    port: u16,
    text: Vec<u8>,
    /// Echo each byte to the host's stdout as it arrives (a host setting,
    /// not part of a snapshot).
    #[serde(skip)]
    pub echo: bool,
}

impl Default for DebugCon {
    fn default() -> DebugCon {
        DebugCon::new(DEBUGCON_PORT)
    }
}

impl DebugCon {
    /// A console decoding `port` (0xE9 or 0x402 on a PC).
    pub fn new(port: u16) -> DebugCon {
        DebugCon {
            port,
            text: Vec::new(),
            echo: false,
        }
    }
    /// The port this console was built for.
    pub fn port(&self) -> u16 {
        self.port
    }
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
        u32::from(DEBUGCON_READBACK)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_port_e9() {
        assert_eq!(DebugCon::default().port(), DEBUGCON_PORT);
    }

    #[test]
    fn seabios_port_keeps_text_and_reads_back_e9() {
        let mut d = DebugCon::new(SEABIOS_DEBUG_PORT);
        assert_eq!(d.port(), 0x402);
        for b in b"SeaBIOS\n" {
            d.write(SEABIOS_DEBUG_PORT, IoSize::Byte, u32::from(*b));
        }
        assert_eq!(d.text(), "SeaBIOS\n");
        assert_eq!(d.read(SEABIOS_DEBUG_PORT, IoSize::Byte), 0xE9);
        d.reset();
        assert_eq!(d.text(), "");
    }
}
