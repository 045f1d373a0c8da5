//! What the board tells its firmware through QEMU's `fw_cfg` interface
//! (`devices/fw_cfg.rs`): the items every machine has, the RAM layout as
//! `etc/e820`, and the files a loaded image adds (the VGA BIOS as
//! `vgaroms/...`). They follow from the configuration and the images, so
//! they are rebuilt, never saved in a snapshot.

use super::Machine;
use crate::devices::FwCfgItems;
use std::sync::Arc;

/// An `etc/e820` entry's type for usable RAM.
const E820_RAM: u32 = 1;

/// The items of a machine with `ram_size` bytes of RAM: the legacy keys and
/// `etc/e820`, which lists the RAM from address 0 (SeaBIOS takes its own
/// reservations out of it).
pub fn firmware_items(ram_size: u64) -> FwCfgItems {
    let mut items = FwCfgItems::new(ram_size);
    let mut e820 = Vec::with_capacity(20);
    e820.extend(0u64.to_le_bytes());
    e820.extend(ram_size.to_le_bytes());
    e820.extend(E820_RAM.to_le_bytes());
    items.add_file("etc/e820", e820);
    items
}

impl Machine {
    /// Gives the firmware the file `name` through `fw_cfg`.
    pub fn add_firmware_file(&mut self, name: &str, data: impl Into<Arc<[u8]>>) {
        Arc::make_mut(&mut self.board.io.fw_cfg.items).add_file(name, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_e820_file_lists_all_of_ram() {
        let items = firmware_items(64 << 20);
        let e820 = items.file("etc/e820").unwrap();
        assert_eq!(e820.len(), 20);
        assert_eq!(e820[8..16], (64u64 << 20).to_le_bytes());
        assert_eq!(e820[16..20], 1u32.to_le_bytes());
    }
}
