//! QEMU's firmware configuration interface (`fw_cfg`), the I/O-port form
//! SeaBIOS looks for on a PC: a 16-bit selector written to port 0x510 picks
//! an item, and byte reads of port 0x511 return its contents from the start,
//! then zeros past its end. Items are the fixed legacy keys (signature
//! "QEMU", interface ID, RAM size, CPU count, boot menu) and named files
//! listed in the file directory (key 0x19: a big-endian count, then per file
//! its big-endian size and key and a 56-byte name), numbered from 0x20.
//! QEMU's docs/specs/fw_cfg.rst describes the protocol. Not modelled: the
//! DMA interface (ID bit 1 stays clear, so the firmware reads by port) and
//! writes to items.
//!
//! The items are the machine's configuration, not guest state: a snapshot
//! keeps the selector and the read position, and the items are rebuilt from
//! the configuration (see `IoBus::restore_devices`).

use super::{IoSize, PortDevice};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The selector port; the data port is the next one.
pub const FW_CFG_PORT: u16 = 0x510;
/// The data port.
pub const FW_CFG_DATA_PORT: u16 = 0x511;

/// Legacy item keys.
pub mod key {
    pub const SIGNATURE: u16 = 0x00;
    pub const ID: u16 = 0x01;
    pub const RAM_SIZE: u16 = 0x03;
    pub const NB_CPUS: u16 = 0x05;
    pub const KERNEL_ADDR: u16 = 0x07;
    pub const KERNEL_SIZE: u16 = 0x08;
    pub const INITRD_ADDR: u16 = 0x0A;
    pub const INITRD_SIZE: u16 = 0x0B;
    pub const BOOT_MENU: u16 = 0x0E;
    pub const KERNEL_DATA: u16 = 0x11;
    pub const INITRD_DATA: u16 = 0x12;
    pub const CMDLINE_ADDR: u16 = 0x13;
    pub const CMDLINE_SIZE: u16 = 0x14;
    pub const CMDLINE_DATA: u16 = 0x15;
    pub const SETUP_ADDR: u16 = 0x16;
    pub const SETUP_SIZE: u16 = 0x17;
    pub const SETUP_DATA: u16 = 0x18;
    pub const MAX_CPUS: u16 = 0x0F;
    pub const FILE_DIR: u16 = 0x19;
    /// The first key given to a named file.
    pub const FILE_FIRST: u16 = 0x20;
}

/// The longest file name, with its terminating zero.
const NAME_LEN: usize = 56;

/// The items the firmware can read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FwCfgItems {
    items: BTreeMap<u16, Arc<[u8]>>,
    files: Vec<(String, u16)>,
}

impl FwCfgItems {
    /// The items every machine has: the signature, the interface ID
    /// (traditional port access only), `ram_size`, one CPU, and the file
    /// directory (empty).
    pub fn new(ram_size: u64) -> FwCfgItems {
        let mut s = FwCfgItems::default();
        s.set(key::SIGNATURE, b"QEMU".to_vec());
        s.set(key::ID, 1u32.to_le_bytes().to_vec());
        s.set(key::RAM_SIZE, ram_size.to_le_bytes().to_vec());
        s.set(key::NB_CPUS, 1u16.to_le_bytes().to_vec());
        s.set(key::MAX_CPUS, 1u16.to_le_bytes().to_vec());
        s.set(key::BOOT_MENU, 0u16.to_le_bytes().to_vec());
        s.set(key::FILE_DIR, 0u32.to_be_bytes().to_vec());
        s
    }

    /// Sets a legacy item.
    pub fn set(&mut self, key: u16, data: impl Into<Arc<[u8]>>) {
        self.items.insert(key, data.into());
    }

    /// Adds the named file (or replaces its contents) and rewrites the
    /// directory. Names longer than 55 bytes are cut, as QEMU refuses them.
    pub fn add_file(&mut self, name: &str, data: impl Into<Arc<[u8]>>) {
        let name: String = name.chars().take(NAME_LEN - 1).collect();
        let key = match self.files.iter().find(|(n, _)| *n == name) {
            Some(&(_, k)) => k,
            None => {
                let k = key::FILE_FIRST + self.files.len() as u16;
                self.files.push((name, k));
                k
            }
        };
        self.items.insert(key, data.into());
        self.items.insert(key::FILE_DIR, self.directory().into());
    }

    /// A file's contents, by name.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        let (_, k) = self.files.iter().find(|(n, _)| n == name)?;
        self.items.get(k).map(|d| &d[..])
    }

    /// The file names, in directory order.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(n, _)| n.as_str())
    }

    fn directory(&self) -> Vec<u8> {
        let mut d = (self.files.len() as u32).to_be_bytes().to_vec();
        for (name, k) in &self.files {
            let size = self.items.get(k).map_or(0, |v| v.len()) as u32;
            d.extend(size.to_be_bytes());
            d.extend(k.to_be_bytes());
            d.extend([0, 0]);
            let mut n = [0u8; NAME_LEN];
            n[..name.len()].copy_from_slice(name.as_bytes());
            d.extend(n);
        }
        d
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FwCfg {
    selector: u16,
    offset: u32,
    /// What the firmware can read: configuration, rebuilt rather than saved.
    #[serde(skip)]
    pub items: Arc<FwCfgItems>,
}

impl FwCfg {
    /// The byte at the read position of the selected item (0 past its end).
    fn next_byte(&mut self) -> u8 {
        let b = self
            .items
            .items
            .get(&self.selector)
            .and_then(|d| d.get(self.offset as usize).copied())
            .unwrap_or(0);
        self.offset = self.offset.saturating_add(1);
        b
    }
}

impl PortDevice for FwCfg {
    fn read(&mut self, port: u16, size: IoSize) -> u32 {
        match port {
            FW_CFG_DATA_PORT => {
                // A wider read of the data port takes as many bytes, in order.
                let n = match size {
                    IoSize::Byte => 1,
                    IoSize::Word => 2,
                    IoSize::Dword => 4,
                };
                (0..n).fold(0, |v, i| v | u32::from(self.next_byte()) << (8 * i))
            }
            _ => 0,
        }
    }

    fn write(&mut self, port: u16, _size: IoSize, value: u32) {
        if port == FW_CFG_PORT {
            self.selector = value as u16;
            self.offset = 0;
        }
    }

    fn reset(&mut self) {
        self.selector = 0;
        self.offset = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dev: &mut FwCfg, key: u16, n: usize) -> Vec<u8> {
        dev.write(FW_CFG_PORT, IoSize::Word, u32::from(key));
        (0..n)
            .map(|_| dev.read(FW_CFG_DATA_PORT, IoSize::Byte) as u8)
            .collect()
    }

    #[test]
    fn signature_items_and_the_file_directory() {
        let mut items = FwCfgItems::new(32 << 20);
        items.add_file("etc/boot-menu-wait", vec![0x10, 0x27]);
        items.add_file("vgaroms/vgabios-isavga.bin", vec![0x55, 0xAA, 1]);
        let mut dev = FwCfg {
            items: Arc::new(items),
            ..FwCfg::default()
        };
        assert_eq!(read(&mut dev, key::SIGNATURE, 4), b"QEMU");
        assert_eq!(read(&mut dev, key::ID, 4), [1, 0, 0, 0]);
        assert_eq!(
            read(&mut dev, key::RAM_SIZE, 8),
            (32u64 << 20).to_le_bytes()
        );
        let dir = read(&mut dev, key::FILE_DIR, 4 + 2 * 64);
        assert_eq!(dir[..4], [0, 0, 0, 2]);
        // size 2, key 0x20, reserved, name
        assert_eq!(dir[4..12], [0, 0, 0, 2, 0, 0x20, 0, 0]);
        assert_eq!(&dir[12..30], b"etc/boot-menu-wait");
        assert_eq!(dir[30], 0);
        assert_eq!(dir[68..76], [0, 0, 0, 3, 0, 0x21, 0, 0]);
        assert_eq!(
            read(&mut dev, 0x21, 5),
            [0x55, 0xAA, 1, 0, 0],
            "zeros past the end"
        );
        // A word read of the data port takes two bytes in order.
        dev.write(FW_CFG_PORT, IoSize::Word, u32::from(key::SIGNATURE));
        assert_eq!(dev.read(FW_CFG_DATA_PORT, IoSize::Word), 0x4551);
        assert_eq!(
            read(&mut dev, 0x1234, 2),
            [0, 0],
            "an unknown key reads as zeros"
        );
    }

    #[test]
    fn replacing_a_file_keeps_its_key() {
        let mut items = FwCfgItems::new(1 << 20);
        items.add_file("bootorder", b"a".to_vec());
        items.add_file("bootorder", b"bc".to_vec());
        assert_eq!(items.file("bootorder"), Some(&b"bc"[..]));
        assert_eq!(items.file_names().count(), 1);
    }
}
