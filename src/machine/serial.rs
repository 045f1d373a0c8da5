//! What the guest wrote to a serial port: the whole log since power-on, a read
//! cursor for "everything new since the last read", and an optional echo to
//! the host's stdout.

use serde::{Deserialize, Serialize};
use std::io::Write;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SerialLog {
    data: Vec<u8>,
    read_pos: usize,
    /// Echo each byte to stdout as it arrives (a host setting, not part of
    /// a snapshot).
    #[serde(skip)]
    pub echo: bool,
}

impl SerialLog {
    pub fn push(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        if self.echo {
            let mut out = std::io::stdout().lock();
            // A closed stdout must not stop the guest; the log keeps the bytes.
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
    }

    /// Everything since power-on.
    pub fn all(&self) -> &[u8] {
        &self.data
    }

    /// Everything written since the previous call.
    pub fn read_new(&mut self) -> &[u8] {
        let from = self.read_pos.min(self.data.len());
        self.read_pos = self.data.len();
        &self.data[from..]
    }
}
