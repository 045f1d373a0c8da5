//! The PC/AT board: the CPU wired to guest memory and the I/O port bus, the
//! virtual clock, the run loop that executes instructions, delivers
//! interrupts and reports why it stopped, the image loaders, and the
//! machine's whole state for snapshots (`snapshot.rs`). `machine/`
//! knows nothing of lifecycle states, properties or Lua; those belong to
//! `control/`.

mod board;
mod boot_order;
pub mod clock;
mod config;
mod drives;
mod firmware;
pub mod loader;
mod run;
mod serial;
mod snapshot;
mod watch;

pub use board::Board;
pub use boot_order::{BootDevice, BootOrder};
pub use clock::{VirtualClock, DEFAULT_IPS};
pub use config::{CpuModel, MachineConfig};
pub use drives::{media_name, DriveConfig, DriveId, DriveInterface, FLOPPY_DRIVES, IDE_DRIVES};
pub use run::{HaltReason, RunExit};
pub use serial::SerialLog;
pub use snapshot::{MachineState, StateError};
pub use watch::{AccessFilter, Event, EventRecord, MemRange, ModeBits, PortRange, WatchSet};

use crate::cpu::Cpu;
use crate::devices::{DeviceId, Frame, IoBus, VGA_TEXT_BASE, VGA_TEXT_SIZE};
use crate::mem::{GuestMemory, MemError};

/// A CPU on a board, with the count of instructions it has retired.
#[derive(Debug)]
pub struct Machine {
    pub cpu: Cpu,
    pub board: Board,
    /// Instructions retired since power-on or reset (a REP string instruction counts once).
    pub icount: u64,
    /// What the guest wrote to COM1 and COM2.
    pub serial: [SerialLog; 2],
    /// The PIC is asking for an interrupt (refreshed whenever devices are polled).
    intr: bool,
    /// The clock tick at which a device next changes on its own.
    next_event_tick: Option<u64>,
    /// The clock tick at which `run` returns [`RunExit::Deadline`] (hook
    /// timers, script timeouts).
    pub deadline_tick: Option<u64>,
    /// What is watched for the hooks, and what the watches saw.
    watches: Watches,
}

/// The run loop's side of the watch set.
#[derive(Debug)]
struct Watches {
    /// The set this was compiled from.
    set: WatchSet,
    /// Anything at all is watched: the run loop takes its checked path.
    any: bool,
    mode: bool,
    serial: bool,
    disk: bool,
    /// Events seen and not yet collected by `take_events`.
    events: Vec<EventRecord>,
    /// The linear address of an execute event just reported: the next
    /// instruction, if it is there, runs without reporting it again.
    exec_resume: Option<u32>,
    /// A linear page number (address >> 12) known to hold no execute
    /// watch, so instructions on it skip the lookup; [`NO_PAGE`] when none.
    /// Only set while there are no physical execute watches (a page's
    /// physical address can change under the same linear one).
    exec_clear_page: u32,
}

/// No page: linear page numbers are below 2^20.
const NO_PAGE: u32 = u32::MAX;

impl Default for Watches {
    fn default() -> Watches {
        Watches {
            set: WatchSet::default(),
            any: false,
            mode: false,
            serial: false,
            disk: false,
            events: Vec::new(),
            exec_resume: None,
            exec_clear_page: NO_PAGE,
        }
    }
}

/// The PC/AT port map.
const PORTS: &[(u16, u16, DeviceId)] = &[
    (0x20, 0x21, DeviceId::Pic),
    (0xA0, 0xA1, DeviceId::Pic),
    (0x4D0, 0x4D1, DeviceId::Pic),
    (0x40, 0x43, DeviceId::Pit),
    (0x61, 0x61, DeviceId::Pit),
    (0x60, 0x60, DeviceId::Keyboard),
    (0x64, 0x64, DeviceId::Keyboard),
    (0x70, 0x71, DeviceId::Rtc),
    (0x80, 0x80, DeviceId::PostCode),
    (0x190, 0x190, DeviceId::PostCode),
    (0x92, 0x92, DeviceId::Port92),
    (0xE9, 0xE9, DeviceId::DebugCon),
    (0x402, 0x402, DeviceId::SeabiosDebug),
    (0x3F8, 0x3FF, DeviceId::Com1),
    (0x2F8, 0x2FF, DeviceId::Com2),
    (0x3B4, 0x3B5, DeviceId::Vga),
    (0x3BA, 0x3BA, DeviceId::Vga),
    (0x3C0, 0x3CF, DeviceId::Vga),
    (0x3D4, 0x3D5, DeviceId::Vga),
    (0x3DA, 0x3DA, DeviceId::Vga),
    (0xF0, 0xF0, DeviceId::FpuError),
    (0x510, 0x511, DeviceId::FwCfg),
    (0xCF9, 0xCF9, DeviceId::ResetControl),
    (0x1F0, 0x1F7, DeviceId::Ata0),
    (0x3F6, 0x3F6, DeviceId::Ata0),
    (0x170, 0x177, DeviceId::Ata1),
    (0x376, 0x376, DeviceId::Ata1),
    // The DMA controllers and page registers; 0x80 stays the POST code.
    (0x00, 0x0F, DeviceId::Dma),
    (0xC0, 0xDF, DeviceId::Dma),
    (0x81, 0x8F, DeviceId::Dma),
    (0x3F0, 0x3F5, DeviceId::Floppy),
    (0x3F7, 0x3F7, DeviceId::Floppy),
];

/// Whether a new machine runs with the JIT: yes, unless the environment
/// variable `MOON86_JIT` is `off` (so a whole test suite can be run on the
/// interpreter alone; the `jit` property and `--jit` override it).
pub fn jit_by_default() -> bool {
    std::env::var("MOON86_JIT").map_or(true, |v| v != "off")
}

impl Machine {
    /// Builds the board described by `config`, in its power-on state.
    pub fn new(config: &MachineConfig) -> Result<Machine, MemError> {
        let mut io = IoBus::new();
        for &(first, last, dev) in PORTS {
            io.map(first..=last, dev);
        }
        io.map(config.exit_port..=config.exit_port, DeviceId::ExitPort);
        io.rtc = crate::devices::Rtc::new(config.rtc_start);
        io.fw_cfg.items = std::sync::Arc::new(firmware::firmware_items(config));
        let board = Board::new(
            GuestMemory::new(config.ram_size)?,
            io,
            VirtualClock::new(config.ips),
        );
        let mut m = Machine {
            cpu: Cpu::new(),
            board,
            icount: 0,
            serial: Default::default(),
            intr: false,
            next_event_tick: None,
            deadline_tick: None,
            watches: Watches::default(),
        };
        m.write_firmware_cmos(config);
        m.cpu.set_model(config.cpu_model.cpu_model());
        m.cpu.set_jit_enabled(jit_by_default());
        m.sync();
        Ok(m)
    }

    /// Moves the exit port to `port`.
    pub fn set_exit_port(&mut self, port: u16) {
        self.board.io.unmap(DeviceId::ExitPort);
        self.board.io.map(port..=port, DeviceId::ExitPort);
    }

    /// The RESET line: CPU and devices to their power-on state; RAM, the
    /// clock and the serial logs are kept.
    pub fn reset(&mut self) {
        let model = self.cpu.model();
        self.cpu.reset();
        self.cpu.set_model(model);
        self.board.io.reset();
        self.icount = 0;
        self.sync();
    }

    /// Replaces what the run loop watches; takes effect at the next
    /// instruction, whatever was cached before.
    pub fn set_watches(&mut self, set: &WatchSet) {
        // The front ends resend the set after every batch of hook calls;
        // an unchanged one keeps the compiled form (and its 128 KiB page
        // bitmaps) as it is.
        if *set == self.watches.set {
            return;
        }
        let w = &mut self.watches;
        let b = &self.board;
        if b.exec_linear.ranges() != set.exec_linear
            || b.exec_physical.ranges() != set.exec_physical
        {
            // Blocks end before the watched instructions of their time.
            self.board.exec_linear = watch::AddrSet::new(&set.exec_linear);
            self.board.exec_physical = watch::AddrSet::new(&set.exec_physical);
            self.cpu.flush_jit();
        }
        w.set = set.clone();
        w.any = set.needs_checked_loop();
        w.exec_clear_page = NO_PAGE;
        w.mode = set.mode;
        w.serial = set.serial;
        w.disk = set.disk;
        let screen = (
            u64::from(VGA_TEXT_BASE),
            u64::from(VGA_TEXT_BASE) + VGA_TEXT_SIZE as u64,
        );
        self.board.set_mem_watch(watch::MemWatch::new(set, screen));
        self.board.io_watch = set.io.clone();
        if !set.screen {
            self.board.screen_dirty = false;
        }
        self.cpu.set_record_deliveries(set.interrupts);
    }

    /// Drops the events seen and not collected, and the compiled watches
    /// (after a restore).
    pub fn forget_events(&mut self) {
        // A restored CPU does not record deliveries: the next
        // `set_watches` must compile the set again, not keep it.
        self.watches.set = WatchSet::default();
        self.watches.events.clear();
        self.watches.exec_resume = None;
        self.board.events.clear();
    }

    /// The events the watches saw since the previous call, oldest first.
    pub fn take_events(&mut self) -> Vec<EventRecord> {
        std::mem::take(&mut self.watches.events)
    }

    /// True when the guest wrote the VGA text buffer since the previous call
    /// (tracked only while the watch set asks for it).
    pub fn take_screen_dirty(&mut self) -> bool {
        std::mem::take(&mut self.board.screen_dirty)
    }

    /// The CPU mode as mode-change watches see it.
    pub fn mode_bits(&self) -> ModeBits {
        ModeBits {
            mode: self.cpu.mode(),
            paging: self.cpu.paging(),
        }
    }

    /// The physical address linear address `lin` maps to now, as a
    /// debugger sees it: no accessed or dirty bit set, no TLB fill, no
    /// fault, and no memory-watch event from the page-table reads; `None`
    /// when the page is not mapped.
    pub fn debug_translate(&mut self, lin: u32) -> Option<u32> {
        let events = self.board.events.len();
        let touched = self.board.io_touched;
        let phys = self.cpu.linear_to_physical(&mut self.board, lin);
        self.board.events.truncate(events);
        self.board.io_touched = touched;
        phys
    }

    /// Virtual nanoseconds since power-on.
    pub fn now_ns(&self) -> u64 {
        self.board.clock.now_ns()
    }

    /// The VGA text screen as lines (80x25, trailing spaces trimmed).
    pub fn screen_text(&self) -> Vec<String> {
        self.board.io.vga.text_lines(&self.text_buffer())
    }

    /// The VGA text screen as pixels (see [`crate::devices::Vga::render_text`]).
    pub fn screen_frame(&self) -> Frame {
        self.board.io.vga.render_text(&self.text_buffer())
    }

    /// A copy of the text buffer. The text buffer is RAM at 0xB8000; a
    /// machine with less RAM than that has no screen and reads as blank.
    fn text_buffer(&self) -> Vec<u8> {
        let mut vram = vec![0u8; VGA_TEXT_SIZE];
        if self
            .board
            .mem
            .read_bytes(u64::from(VGA_TEXT_BASE), &mut vram)
            .is_err()
        {
            vram.fill(0);
        }
        vram
    }

    /// Moves the clock on by `busy` ns from `now` (the disk work a port
    /// access started takes that long; see `devices/disk_time.rs`), as a
    /// CPU stalled on the bus: the TSC counts the ticks, no instruction
    /// retires. The stall ends early at the next device event or the run's
    /// deadline, so neither is passed.
    fn stall_for_disk(&mut self, now: u64, busy: u64) {
        if busy == 0 {
            return;
        }
        let clock = &mut self.board.clock;
        let from = clock.ticks();
        let until = [self.next_event_tick, self.deadline_tick]
            .into_iter()
            .flatten()
            .fold(clock.tick_at_ns(now.saturating_add(busy)), u64::min)
            .max(from);
        self.cpu.sleep_ticks(until - from);
        clock.advance_to(until);
    }

    /// Polls the devices at the current virtual time: routes their interrupt
    /// lines to the PIC, updates A20, collects serial output, schedules the
    /// next device event, and reports an exit or reset the guest asked for.
    fn sync(&mut self) -> Option<HaltReason> {
        let now = self.board.clock.now_ns();
        let io = &mut self.board.io;
        io.advance_to(now);
        // A port access may have started (or unmasked) a DMA transfer;
        // it writes RAM through `GuestMemory`, so cached code is dropped.
        io.run_dma(&mut self.board.mem);
        if io.fpu_error.take_clear() {
            self.cpu.set_ignne(true);
        }
        io.route_irqs(self.cpu.ferr());
        self.intr = io.pic.intr();
        for (port, (log, uart)) in self.serial.iter_mut().zip(io.com.iter_mut()).enumerate() {
            let out = uart.take_output();
            if !out.is_empty() {
                log.push(&out);
                if self.watches.serial {
                    self.watches.events.push(EventRecord {
                        event: Event::Serial { port, bytes: out },
                        icount: self.icount,
                        cs: self.cpu.segment(crate::cpu::SegReg::Cs).selector,
                        eip: self.cpu.eip(),
                    });
                }
            }
        }
        let next = io.next_event_ns();
        let exit = io.exit.take_request();
        let reset = io.take_reset_request();
        let a20 = io.a20_enabled();
        let busy = io.take_disk_busy_ns();
        self.board.set_a20(a20);
        self.next_event_tick = next.map(|ns| self.board.clock.tick_at_ns(ns));
        self.stall_for_disk(now, busy);
        self.collect_disk_accesses();
        match (exit, reset) {
            (Some(status), _) => Some(HaltReason::Exit(status)),
            (None, true) => Some(HaltReason::Reset),
            _ => None,
        }
    }
}
