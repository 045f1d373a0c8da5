//! The I/O port bus: a table from port ranges to the devices that decode them.
//! It owns the board's devices as typed fields, so the machine and the control
//! API reach each one directly while the CPU sees only ports. Timed devices are
//! brought to the current virtual time before every access.

use super::ata::{AtaChannel, ATA_IRQS};
use super::{
    all_ones, DebugCon, Dma, DmaMemory, ExitPort, Fdc, FwCfg, IoSize, Pic, Pit, Port92, PortDevice,
    PostCode, ResetControl, Rtc, Uart, Vga, I8042,
};
use super::{
    FpuErrorPort, COM1_BASE, COM2_BASE, FLOPPY_DMA_CHANNEL, FLOPPY_IRQ, SEABIOS_DEBUG_PORT,
};
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// Names a device on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceId {
    DebugCon,
    SeabiosDebug,
    ExitPort,
    PostCode,
    Pic,
    Pit,
    Rtc,
    Com1,
    Com2,
    Keyboard,
    Port92,
    Vga,
    FpuError,
    FwCfg,
    ResetControl,
    /// The primary ATA channel.
    Ata0,
    /// The secondary ATA channel.
    Ata1,
    /// The 8237 DMA controllers and the page registers.
    Dma,
    /// The floppy disk controller.
    Floppy,
}

/// The devices serialise as a whole for snapshots; the port map is wiring
/// that follows from the machine's configuration and is not part of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IoBus {
    pub debugcon: DebugCon,
    pub seabios_debug: DebugCon,
    pub exit: ExitPort,
    pub post: PostCode,
    pub pic: Pic,
    pub pit: Pit,
    pub rtc: Rtc,
    pub com: [Uart; 2],
    pub keyboard: I8042,
    pub port92: Port92,
    pub vga: Vga,
    pub fpu_error: FpuErrorPort,
    pub fw_cfg: FwCfg,
    pub reset_control: ResetControl,
    /// The primary and secondary ATA channels (their media's host files
    /// are kept over a restore, see [`AtaChannel::restore`]).
    pub ata: [AtaChannel; 2],
    pub dma: Dma,
    /// The floppy controller (its media's host files are kept over a
    /// restore, see [`Fdc::restore`]).
    pub fdc: Fdc,
    #[serde(skip)]
    map: Vec<(RangeInclusive<u16>, DeviceId)>,
}

impl Default for IoBus {
    fn default() -> Self {
        IoBus::new()
    }
}

impl IoBus {
    /// Every device in its power-on state and no port decoded yet.
    pub fn new() -> IoBus {
        IoBus {
            debugcon: DebugCon::default(),
            seabios_debug: DebugCon::new(SEABIOS_DEBUG_PORT),
            exit: ExitPort::default(),
            post: PostCode::default(),
            pic: Pic::new(),
            pit: Pit::new(),
            rtc: Rtc::new(0),
            com: [Uart::new(COM1_BASE), Uart::new(COM2_BASE)],
            keyboard: I8042::new(),
            port92: Port92::new(),
            vga: Vga::new(),
            fpu_error: FpuErrorPort::default(),
            fw_cfg: FwCfg::default(),
            reset_control: ResetControl::default(),
            ata: Default::default(),
            dma: Dma::new(),
            fdc: Fdc::new(),
            map: Vec::new(),
        }
    }

    /// Decodes `ports` to `device`; the latest mapping wins where ranges overlap.
    pub fn map(&mut self, ports: RangeInclusive<u16>, device: DeviceId) {
        self.map.insert(0, (ports, device));
    }

    /// Takes every device's state from `other` (a snapshot's), keeping this
    /// bus's port map and the host-side echo settings of the debug consoles.
    /// The pattern names every field, so a new one must be placed here: a
    /// device (restored) or host-side (kept, and `#[serde(skip)]`).
    pub fn restore_devices(&mut self, other: &IoBus) {
        let IoBus {
            debugcon,
            seabios_debug,
            exit,
            post,
            pic,
            pit,
            rtc,
            com,
            keyboard,
            port92,
            vga,
            fpu_error,
            fw_cfg,
            reset_control,
            ata,
            dma,
            fdc,
            map: _,
        } = other.clone();
        let echo = (self.debugcon.echo, self.seabios_debug.echo);
        self.debugcon = debugcon;
        self.seabios_debug = seabios_debug;
        (self.debugcon.echo, self.seabios_debug.echo) = echo;
        self.exit = exit;
        self.post = post;
        self.pic = pic;
        self.pit = pit;
        self.rtc = rtc;
        self.com = com;
        self.keyboard = keyboard;
        self.port92 = port92;
        self.vga = vga;
        self.fpu_error = fpu_error;
        // The firmware's items are configuration: this bus's stay.
        let items = self.fw_cfg.items.clone();
        self.fw_cfg = fw_cfg;
        self.fw_cfg.items = items;
        self.reset_control = reset_control;
        for (mine, saved) in self.ata.iter_mut().zip(ata) {
            mine.restore(saved);
        }
        self.dma = dma;
        self.fdc.restore(fdc);
    }

    /// Removes every range that maps to `device`.
    pub fn unmap(&mut self, device: DeviceId) {
        self.map.retain(|(_, d)| *d != device);
    }

    fn device(&mut self, port: u16, now_ns: u64) -> Option<&mut dyn PortDevice> {
        let id = self.map.iter().find(|(r, _)| r.contains(&port))?.1;
        Some(match id {
            DeviceId::DebugCon => &mut self.debugcon,
            DeviceId::SeabiosDebug => &mut self.seabios_debug,
            DeviceId::ExitPort => &mut self.exit,
            DeviceId::PostCode => &mut self.post,
            DeviceId::Pic => &mut self.pic,
            DeviceId::Pit => {
                self.pit.advance_to(now_ns);
                &mut self.pit
            }
            DeviceId::Rtc => {
                self.rtc.advance_to(now_ns);
                &mut self.rtc
            }
            DeviceId::Com1 => {
                self.com[0].advance_to(now_ns);
                &mut self.com[0]
            }
            DeviceId::Com2 => {
                self.com[1].advance_to(now_ns);
                &mut self.com[1]
            }
            DeviceId::Keyboard => {
                self.keyboard.advance_to(now_ns);
                &mut self.keyboard
            }
            DeviceId::Port92 => &mut self.port92,
            DeviceId::FpuError => &mut self.fpu_error,
            DeviceId::FwCfg => &mut self.fw_cfg,
            DeviceId::ResetControl => &mut self.reset_control,
            DeviceId::Ata0 => &mut self.ata[0],
            DeviceId::Ata1 => &mut self.ata[1],
            DeviceId::Dma => &mut self.dma,
            DeviceId::Floppy => &mut self.fdc,
            DeviceId::Vga => {
                self.vga.advance_to(now_ns);
                &mut self.vga
            }
        })
    }

    pub fn read(&mut self, port: u16, size: IoSize, now_ns: u64) -> u32 {
        match self.device(port, now_ns) {
            Some(dev) => dev.read(port, size),
            None => all_ones(size),
        }
    }

    pub fn write(&mut self, port: u16, size: IoSize, value: u32, now_ns: u64) {
        if let Some(dev) = self.device(port, now_ns) {
            dev.write(port, size, value);
        }
    }

    /// Brings every timed device to `now_ns`.
    pub fn advance_to(&mut self, now_ns: u64) {
        self.pit.advance_to(now_ns);
        self.rtc.advance_to(now_ns);
        for u in &mut self.com {
            u.advance_to(now_ns);
        }
        self.keyboard.advance_to(now_ns);
        self.vga.advance_to(now_ns);
    }

    /// The earliest time at which a timed device changes on its own.
    pub fn next_event_ns(&self) -> Option<u64> {
        [
            self.pit.next_event_ns(),
            self.rtc.next_event_ns(),
            self.com[0].next_event_ns(),
            self.com[1].next_event_ns(),
            self.keyboard.next_event_ns(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Takes the virtual time the disk work started since the last call
    /// takes, on every channel and the floppy controller together (see
    /// `devices/disk_time.rs`).
    pub fn take_disk_busy_ns(&mut self) -> u64 {
        self.ata
            .iter_mut()
            .map(crate::devices::ata::AtaChannel::take_busy_ns)
            .fold(self.fdc.take_busy_ns(), u64::saturating_add)
    }

    /// Feeds the devices' interrupt outputs to the PIC, wired as on a PC/AT.
    pub fn route_irqs(&mut self, fpu_error: bool) {
        let lines = [
            (0, self.pit.irq0_level()),
            (1, self.keyboard.irq1_level()),
            (3, self.com[1].irq_level()),
            (4, self.com[0].irq_level()),
            (8, self.rtc.irq_level()),
            (13, fpu_error),
        ];
        for (line, level) in lines {
            self.pic.set_irq(line, level);
        }
        for (line, ch) in ATA_IRQS.into_iter().zip(&self.ata) {
            self.pic.set_irq(line, ch.irq_level());
        }
        self.pic.set_irq(FLOPPY_IRQ, self.fdc.irq_level());
    }

    /// Serves the devices' DMA requests (the floppy controller's, on
    /// channel 2) with `mem`; a transfer the DMA controller is not set up
    /// for waits, its request still raised, for a later call.
    pub fn run_dma(&mut self, mem: &mut dyn DmaMemory) {
        if self.fdc.dreq() {
            self.dma.serve(FLOPPY_DMA_CHANNEL, &mut self.fdc, mem);
        }
    }

    /// True when the keyboard controller and port 0x92 both leave A20 enabled
    /// (either one can enable it).
    pub fn a20_enabled(&self) -> bool {
        self.keyboard.a20_enabled() || self.port92.a20_enabled()
    }

    /// True (once) when the guest asked for a reset through the keyboard
    /// controller or port 0x92.
    pub fn take_reset_request(&mut self) -> bool {
        let kbd = self.keyboard.take_reset_request();
        let rcr = self.reset_control.take_reset_request();
        self.port92.take_reset_request() || kbd || rcr
    }

    /// Resets every device to its power-on state (mappings stay).
    pub fn reset(&mut self) {
        self.debugcon.reset();
        self.seabios_debug.reset();
        self.exit.reset();
        self.post.reset();
        self.pic.reset();
        self.pit.reset();
        self.rtc.reset();
        for u in &mut self.com {
            u.reset();
        }
        self.keyboard.reset();
        self.port92.reset();
        self.vga.reset();
        self.fpu_error.reset();
        self.fw_cfg.reset();
        self.reset_control.reset();
        for ch in &mut self.ata {
            ch.reset();
        }
        self.dma.reset();
        PortDevice::reset(&mut self.fdc);
    }
}
