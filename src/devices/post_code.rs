//! The POST-code ports (0x80 and 0x190): firmware writes progress codes here.
//! The last code and the history (the most recent [`POST_HISTORY_LEN`] codes)
//! are kept for the control API.

use super::{all_ones, IoSize, PortDevice};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub const POST_PORTS: [u16; 2] = [0x80, 0x190];
pub const POST_HISTORY_LEN: usize = 4096;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct PostCode {
    history: VecDeque<u8>,
}

impl PostCode {
    /// The last code written, if any.
    pub fn last(&self) -> Option<u8> {
        self.history.back().copied()
    }
    /// The codes written, oldest first.
    pub fn history(&self) -> impl Iterator<Item = u8> + '_ {
        self.history.iter().copied()
    }
}

impl PortDevice for PostCode {
    fn read(&mut self, _port: u16, size: IoSize) -> u32 {
        match self.last() {
            Some(code) if size == IoSize::Byte => u32::from(code),
            _ => all_ones(size),
        }
    }
    fn write(&mut self, _port: u16, _size: IoSize, value: u32) {
        if self.history.len() == POST_HISTORY_LEN {
            self.history.pop_front();
        }
        self.history.push_back(value as u8);
    }
    fn reset(&mut self) {
        self.history.clear();
    }
}
