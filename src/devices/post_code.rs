//! The POST-code ports (0x80 and 0x190): firmware writes progress codes here.
//! For the control API the device keeps the first [`POST_HEAD_LEN`] codes
//! written since power-on (a BIOS's early progress), the last
//! [`POST_TAIL_LEN`] (where it stopped), and how many were written in all, so
//! memory stays bounded however long a guest writes (Linux uses port 0x80 as
//! an I/O delay). All of it is device state and goes into snapshots.

use super::{all_ones, IoSize, PortDevice};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub const POST_PORTS: [u16; 2] = [0x80, 0x190];
/// How many of the first codes are kept.
pub const POST_HEAD_LEN: usize = 4096;
/// How many of the last codes are kept (after the first ones).
pub const POST_TAIL_LEN: usize = 4096;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct PostCode {
    /// The first codes written, up to [`POST_HEAD_LEN`].
    head: Vec<u8>,
    /// The codes after the head, the most recent [`POST_TAIL_LEN`] of them.
    tail: VecDeque<u8>,
    /// Every code written since power-on or reset.
    count: u64,
}

impl PostCode {
    /// The last code written, if any.
    pub fn last(&self) -> Option<u8> {
        self.tail.back().or(self.head.last()).copied()
    }
    /// The codes kept, oldest first: the first [`POST_HEAD_LEN`] written,
    /// then the last [`POST_TAIL_LEN`] (the ones between are dropped when
    /// more than both were written; [`PostCode::count`] tells).
    pub fn history(&self) -> impl Iterator<Item = u8> + '_ {
        self.head.iter().chain(self.tail.iter()).copied()
    }
    /// How many codes were written since power-on or reset.
    pub fn count(&self) -> u64 {
        self.count
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
        let code = value as u8;
        self.count += 1;
        if self.head.len() < POST_HEAD_LEN {
            self.head.push(code);
            return;
        }
        // `while`: a state read from a crafted snapshot may hold more.
        while self.tail.len() >= POST_TAIL_LEN {
            self.tail.pop_front();
        }
        self.tail.push_back(code);
    }
    fn reset(&mut self) {
        self.head.clear();
        self.tail.clear();
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_and_the_last_codes_are_kept() {
        let mut p = PostCode::default();
        assert_eq!(p.last(), None);
        assert_eq!(p.read(0x80, IoSize::Byte), 0xFF);
        let n = 3 * (POST_HEAD_LEN + POST_TAIL_LEN) + 5;
        for i in 0..n {
            p.write(0x80, IoSize::Byte, (i % 251) as u32);
        }
        let kept: Vec<u8> = p.history().collect();
        assert_eq!(kept.len(), POST_HEAD_LEN + POST_TAIL_LEN);
        let want: Vec<u8> = (0..POST_HEAD_LEN)
            .chain(n - POST_TAIL_LEN..n)
            .map(|i| (i % 251) as u8)
            .collect();
        assert_eq!(kept, want);
        assert_eq!(p.count(), n as u64);
        assert_eq!(p.last(), Some(((n - 1) % 251) as u8));
        assert_eq!(p.read(0x80, IoSize::Byte), u32::from(p.last().unwrap()));
        p.reset();
        assert_eq!((p.history().count(), p.count(), p.last()), (0, 0, None));
    }

    #[test]
    fn a_short_history_is_whole() {
        let mut p = PostCode::default();
        for code in [1u32, 2, 3] {
            p.write(0x80, IoSize::Byte, code);
        }
        assert_eq!(p.history().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(p.last(), Some(3));
    }
}
