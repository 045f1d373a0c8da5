//! Which devices the BIOS tries to boot from, in order, spelled as QEMU's
//! `-boot order=` letters (`a` floppy, `c` hard disk, `d` CD-ROM, `n`
//! network), and whether it offers a boot menu. A PC BIOS reads the order
//! from CMOS, as QEMU's PC board writes it: register 0x3D holds the first
//! device (low nibble) and the second (high nibble), register 0x38 the third
//! (high nibble) with bit 0 set to skip the floppy boot-signature check;
//! each nibble is 1 floppy, 2 hard disk, 3 CD-ROM, 4 network, 0 none.
//! SeaBIOS and Bochs's BIOS both read these bytes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One device a PC BIOS can boot from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BootDevice {
    Floppy,
    HardDisk,
    Cdrom,
    Network,
}

impl BootDevice {
    /// QEMU's letter for the device.
    pub fn letter(self) -> char {
        match self {
            BootDevice::Floppy => 'a',
            BootDevice::HardDisk => 'c',
            BootDevice::Cdrom => 'd',
            BootDevice::Network => 'n',
        }
    }

    /// The device's code in the CMOS boot-order nibbles.
    pub fn cmos_code(self) -> u8 {
        match self {
            BootDevice::Floppy => 1,
            BootDevice::HardDisk => 2,
            BootDevice::Cdrom => 3,
            BootDevice::Network => 4,
        }
    }
}

/// The boot order: up to three distinct devices, first tried first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootOrder(Vec<BootDevice>);

/// A PC's CMOS has room for three boot devices.
pub const MAX_BOOT_DEVICES: usize = 3;

impl Default for BootOrder {
    /// QEMU's default for a PC, `cad`: hard disk, floppy, CD-ROM.
    fn default() -> Self {
        BootOrder(vec![
            BootDevice::HardDisk,
            BootDevice::Floppy,
            BootDevice::Cdrom,
        ])
    }
}

impl BootOrder {
    /// The devices, first tried first.
    pub fn devices(&self) -> &[BootDevice] {
        &self.0
    }

    /// The CMOS bytes that say this order: `(register, value)` for 0x3D and
    /// 0x38 (the floppy signature is checked, as QEMU does by default).
    pub fn cmos_bytes(&self) -> [(u8, u8); 2] {
        let code = |i: usize| self.0.get(i).map_or(0, |d| d.cmos_code());
        [(0x3D, code(1) << 4 | code(0)), (0x38, code(2) << 4)]
    }
}

impl fmt::Display for BootOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|d| write!(f, "{}", d.letter()))
    }
}

impl FromStr for BootOrder {
    type Err = String;
    /// Parses QEMU's letters: `a`/`b` floppy, `c` hard disk, `d` CD-ROM, `n`
    /// network; at most three, none twice.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut order = Vec::new();
        for c in s.chars() {
            let d = match c.to_ascii_lowercase() {
                'a' | 'b' => BootDevice::Floppy,
                'c' => BootDevice::HardDisk,
                'd' => BootDevice::Cdrom,
                'n' => BootDevice::Network,
                _ => {
                    return Err(format!(
                        "'{c}' in boot order '{s}' is not a boot device (a floppy, c hard disk, d CD-ROM, n network)"
                    ))
                }
            };
            if order.contains(&d) {
                return Err(format!("boot order '{s}' names '{c}' twice"));
            }
            order.push(d);
        }
        if order.is_empty() {
            return Err("the boot order is empty: give letters such as 'cd' (a floppy, c hard disk, d CD-ROM, n network)".into());
        }
        if order.len() > MAX_BOOT_DEVICES {
            return Err(format!(
                "boot order '{s}' has {} devices: a PC BIOS takes at most {MAX_BOOT_DEVICES}",
                order.len()
            ));
        }
        Ok(BootOrder(order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_letters_become_the_cmos_nibbles_qemu_writes() {
        let order: BootOrder = "dca".parse().unwrap();
        assert_eq!(order.cmos_bytes(), [(0x3D, 0x23), (0x38, 0x10)]);
        assert_eq!(order.to_string(), "dca");
        let cd: BootOrder = "d".parse().unwrap();
        assert_eq!(cd.cmos_bytes(), [(0x3D, 0x03), (0x38, 0x00)]);
        assert_eq!(BootOrder::default().to_string(), "cad");
        assert_eq!(
            BootOrder::default().cmos_bytes(),
            [(0x3D, 0x12), (0x38, 0x30)]
        );
        assert_eq!("N".parse::<BootOrder>().unwrap().cmos_bytes()[0], (0x3D, 4));
    }

    #[test]
    fn bad_orders_say_what_is_wrong() {
        for (s, want) in [
            ("", "empty"),
            ("x", "'x'"),
            ("cc", "twice"),
            ("ab", "twice"),
            ("cadn", "at most 3"),
        ] {
            let e = s.parse::<BootOrder>().unwrap_err();
            assert!(e.contains(want), "{s}: {e}");
        }
    }
}
