//! The `--boot` option in QEMU's spelling: `--boot d` (the order alone) or
//! `--boot order=dc,menu=on,splash-time=MS`, turned into the machine's
//! `boot_order`, `boot_menu` and `boot_menu_wait` properties.

use crate::machine::BootOrder;
use std::str::FromStr;

/// What `--boot` asked for; unset parts keep the machine's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootFlag {
    pub order: Option<BootOrder>,
    pub menu: Option<bool>,
    /// `splash-time=MS`: how long the menu waits.
    pub menu_wait: Option<u16>,
}

impl FromStr for BootFlag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.contains('=') {
            return Ok(BootFlag {
                order: Some(s.parse()?),
                ..Default::default()
            });
        }
        let mut flag = BootFlag::default();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not KEY=VALUE"))?;
            match key {
                "order" => flag.order = Some(value.parse()?),
                "menu" => {
                    flag.menu = Some(match value {
                        "on" => true,
                        "off" => false,
                        _ => return Err(format!("menu={value}: expected on or off")),
                    })
                }
                "splash-time" => {
                    flag.menu_wait = Some(value.parse().map_err(|_| {
                        format!("splash-time={value}: expected milliseconds, 0 to 65535")
                    })?)
                }
                _ => {
                    return Err(format!(
                        "unknown key '{key}' (known: order, menu, splash-time)"
                    ))
                }
            }
        }
        Ok(flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_alone_or_keys_as_qemu_takes_them() {
        let f: BootFlag = "d".parse().unwrap();
        assert_eq!(f.order.unwrap().to_string(), "d");
        assert_eq!(f.menu, None);
        let f: BootFlag = "order=dc,menu=on".parse().unwrap();
        assert_eq!(f.order.unwrap().to_string(), "dc");
        assert_eq!(f.menu, Some(true));
        let f: BootFlag = "menu=off".parse().unwrap();
        assert_eq!((f.order, f.menu), (None, Some(false)));
        let f: BootFlag = "menu=on,splash-time=500".parse().unwrap();
        assert_eq!((f.menu, f.menu_wait), (Some(true), Some(500)));
        for (bad, want) in [
            ("once=d", "unknown key 'once'"),
            ("menu=yes", "on or off"),
            ("splash-time=-1", "milliseconds"),
            ("splash-time=70000", "milliseconds"),
            ("order=q", "'q'"),
            ("order=d,x", "'x' is not KEY=VALUE"),
            ("dd", "twice"),
        ] {
            let e = bad.parse::<BootFlag>().unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}
