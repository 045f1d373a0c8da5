//! Board devices reached through I/O ports.
//!
//! Each device is a plain struct (its whole state serialisable with serde
//! for snapshots; `serde_checks.rs` refuses values a device cannot hold) implementing [`PortDevice`]. Devices never call up into the
//! machine or the control API: an effect on the machine (the exit port
//! halting it) is recorded in the device and collected by the machine after
//! the instruction. [`IoBus`] maps port ranges to the devices it owns.

pub mod ata;
mod byte_io;
mod debugcon;
pub mod disk_time;
pub mod dma;
mod exit_port;
pub mod floppy;
mod fpu_error;
mod fw_cfg;
mod i8042;
mod io_bus;
pub mod keymap;
mod pic;
mod pit;
mod port92;
mod post_code;
mod reset_control;
mod rtc;
mod serde_checks;
mod uart;
mod vga;

pub use crate::cpu::IoSize;
pub use byte_io::ByteDevice;
pub use debugcon::{DebugCon, DEBUGCON_PORT, SEABIOS_DEBUG_PORT};
pub use dma::{Dma, DmaDevice, DmaMemory, FLOPPY_DMA_CHANNEL};
pub use exit_port::{ExitPort, DEFAULT_EXIT_PORT};
pub use floppy::{Fdc, FloppyDrive, FLOPPY_IRQ, FLOPPY_PORTS};
pub use fpu_error::{FpuErrorPort, FPU_ERROR_PORT};
pub use fw_cfg::{key as fw_cfg_key, FwCfg, FwCfgItems, FW_CFG_DATA_PORT, FW_CFG_PORT};
pub use i8042::{BYTE_GAP_NS, I8042, I8042_DATA, I8042_STATUS};
pub use io_bus::{DeviceId, IoBus};
pub use pic::{Pic, ELCR_PORTS, PIC_MASTER_PORTS, PIC_SLAVE_PORTS};
pub use pit::{ns_to_ticks, ticks_to_ns, Pit, PIT_HZ, PIT_PORTS, PORT_B, REFRESH_TOGGLE_NS};
pub use port92::{Port92, PORT92};
pub use post_code::{PostCode, POST_PORTS};
pub use reset_control::{ResetControl, RESET_CONTROL_PORT};
pub use rtc::{Rtc, RTC_PORTS};
pub use uart::{Uart, COM1_BASE, COM2_BASE};
pub use vga::{cp437_char, font, Frame, Vga, TEXT_COLS, TEXT_ROWS, VGA_TEXT_BASE, VGA_TEXT_SIZE};

/// A device on the I/O port bus.
pub trait PortDevice {
    /// Reads `size` bytes from `port`, which lies in one of the device's ranges.
    fn read(&mut self, port: u16, size: IoSize) -> u32;
    /// Writes `value` (`size` bytes) to `port`.
    fn write(&mut self, port: u16, size: IoSize, value: u32);
    /// Returns the device to its power-on state.
    fn reset(&mut self);
}

/// The value an undecoded port, or the undecoded part of one, reads as.
pub fn all_ones(size: IoSize) -> u32 {
    match size {
        IoSize::Byte => 0xFF,
        IoSize::Word => 0xFFFF,
        IoSize::Dword => 0xFFFF_FFFF,
    }
}
