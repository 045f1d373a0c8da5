//! The sectors a guest wrote to an image that is not written through: a
//! sorted map from sector number to its bytes, in memory. It is plain data,
//! so it serialises into snapshots and a restore gives the disk back as it
//! was. A sector read from a crafted snapshot may have the wrong length;
//! readers copy what fits and zero the rest, so nothing trusts it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlay {
    sectors: BTreeMap<u64, Vec<u8>>,
}

impl Overlay {
    /// The written copy of sector `lba`, if the guest wrote it.
    pub fn get(&self, lba: u64) -> Option<&[u8]> {
        self.sectors.get(&lba).map(Vec::as_slice)
    }
    /// Keeps `data` as sector `lba`.
    pub fn put(&mut self, lba: u64, data: &[u8]) {
        match self.sectors.get_mut(&lba) {
            Some(v) => {
                v.clear();
                v.extend_from_slice(data);
            }
            None => {
                self.sectors.insert(lba, data.to_vec());
            }
        }
    }
    /// How many sectors were written.
    pub fn len(&self) -> usize {
        self.sectors.len()
    }
    pub fn is_empty(&self) -> bool {
        self.sectors.is_empty()
    }
    /// The written sectors in `first..first+count`, in order.
    pub fn range(&self, first: u64, count: u64) -> impl Iterator<Item = (u64, &[u8])> {
        self.sectors
            .range(first..first.saturating_add(count))
            .map(|(k, v)| (*k, v.as_slice()))
    }
    /// The highest sector written, if any.
    pub fn last_sector(&self) -> Option<u64> {
        self.sectors.keys().next_back().copied()
    }
    /// Forgets every written sector.
    pub fn clear(&mut self) {
        self.sectors.clear();
    }
}
