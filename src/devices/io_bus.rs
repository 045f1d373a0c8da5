//! The I/O port bus: a table from port ranges to the devices that decode them.
//! It owns the devices as typed fields, so the machine and the control API can
//! reach each one directly while the CPU sees only ports.

use super::{all_ones, DebugCon, ExitPort, IoSize, PortDevice, PostCode};
use std::ops::RangeInclusive;

/// Names a device on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceId {
    DebugCon,
    ExitPort,
    PostCode,
}

#[derive(Debug, Default)]
pub struct IoBus {
    pub debugcon: DebugCon,
    pub exit: ExitPort,
    pub post: PostCode,
    map: Vec<(RangeInclusive<u16>, DeviceId)>,
}

impl IoBus {
    /// A bus with no ports decoded.
    pub fn new() -> IoBus {
        IoBus::default()
    }

    /// Decodes `ports` to `device`; the latest mapping wins where ranges overlap.
    pub fn map(&mut self, ports: RangeInclusive<u16>, device: DeviceId) {
        self.map.insert(0, (ports, device));
    }

    /// Removes every range that maps to `device`.
    pub fn unmap(&mut self, device: DeviceId) {
        self.map.retain(|(_, d)| *d != device);
    }

    fn device(&mut self, port: u16) -> Option<&mut dyn PortDevice> {
        let id = self.map.iter().find(|(r, _)| r.contains(&port))?.1;
        Some(match id {
            DeviceId::DebugCon => &mut self.debugcon,
            DeviceId::ExitPort => &mut self.exit,
            DeviceId::PostCode => &mut self.post,
        })
    }

    pub fn read(&mut self, port: u16, size: IoSize) -> u32 {
        match self.device(port) {
            Some(dev) => dev.read(port, size),
            None => all_ones(size),
        }
    }

    pub fn write(&mut self, port: u16, size: IoSize, value: u32) {
        if let Some(dev) = self.device(port) {
            dev.write(port, size, value);
        }
    }

    /// Resets every device to its power-on state (mappings stay).
    pub fn reset(&mut self) {
        self.debugcon.reset();
        self.exit.reset();
        self.post.reset();
    }
}
