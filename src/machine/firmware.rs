//! What the board tells its firmware: in CMOS, the memory sizes and the boot
//! order; through QEMU's `fw_cfg` interface (`devices/fw_cfg.rs`), the items
//! every machine has, whether to offer a boot menu, the RAM layout as
//! `etc/e820`, and the files a loaded image adds (the VGA BIOS as
//! `vgaroms/...`). The `fw_cfg` items follow from the configuration and the
//! images, so they are rebuilt, never saved in a snapshot; the CMOS bytes
//! are the guest's to change and are saved with the RTC.

use super::{Machine, MachineConfig};
use crate::devices::fw_cfg_key as key;
use crate::devices::FwCfgItems;
use std::sync::Arc;

/// An `etc/e820` entry's type for usable RAM.
const E820_RAM: u32 = 1;

/// The items of a machine built from `config`: the legacy keys, the boot
/// menu switch and `etc/e820`, which lists the RAM from address 0 (SeaBIOS
/// takes its own reservations out of it).
pub fn firmware_items(config: &MachineConfig) -> FwCfgItems {
    let ram_size = config.ram_size;
    let mut items = FwCfgItems::new(ram_size);
    boot_menu_items(&mut items, config);
    let mut e820 = Vec::with_capacity(20);
    e820.extend(0u64.to_le_bytes());
    e820.extend(ram_size.to_le_bytes());
    e820.extend(E820_RAM.to_le_bytes());
    items.add_file("etc/e820", e820);
    items
}

/// The boot menu switch and how long the menu waits (`etc/boot-menu-wait`).
fn boot_menu_items(items: &mut FwCfgItems, config: &MachineConfig) {
    items.set(
        key::BOOT_MENU,
        u16::from(config.boot_menu).to_le_bytes().to_vec(),
    );
    items.add_file(
        "etc/boot-menu-wait",
        config.boot_menu_wait.to_le_bytes().to_vec(),
    );
}

impl Machine {
    /// Writes everything the BIOS reads from CMOS: the memory sizes, the
    /// boot order (from `config`), the floppy types and the disks'
    /// translation (from the drives on the board), with the checksum. The
    /// one place CMOS is filled: at power-on, when the RTC is rebuilt, when
    /// a drive is attached and when the boot settings change.
    pub fn write_firmware_cmos(&mut self, config: &MachineConfig) {
        let rtc = &mut self.board.io.rtc;
        rtc.set_memory_size(config.ram_size);
        for (register, value) in config.boot_order.cmos_bytes() {
            rtc.write_cmos(register, value);
        }
        self.set_floppy_cmos();
        self.set_disk_cmos();
    }

    /// Applies a changed boot order and menu switch (while off).
    pub fn set_boot_config(&mut self, config: &MachineConfig) {
        self.write_firmware_cmos(config);
        boot_menu_items(Arc::make_mut(&mut self.board.io.fw_cfg.items), config);
    }

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
        let items = firmware_items(&MachineConfig {
            ram_size: 64 << 20,
            ..Default::default()
        });
        let wait = items.file("etc/boot-menu-wait").unwrap();
        assert_eq!(wait, 2500u16.to_le_bytes());
        let e820 = items.file("etc/e820").unwrap();
        assert_eq!(e820.len(), 20);
        assert_eq!(e820[8..16], (64u64 << 20).to_le_bytes());
        assert_eq!(e820[16..20], 1u32.to_le_bytes());
    }
}
