//! What a PC's firmware leaves set up that a kernel entered directly (the
//! Linux 32-bit boot protocol, Multiboot) may rely on, since no BIOS ran:
//! PIT channel 0 counting in mode 3 with a count of 65536 (18.2 Hz), as
//! every BIOS programs it. Linux's decompressor reads that counter back
//! for KASLR entropy on a CPU without a TSC (an i486) and waits until a
//! count has been loaded; on an unprogrammed PIT it would wait forever.

use crate::devices::IoSize;
use crate::machine::Machine;

/// The PIT's mode/command port and channel 0's counter.
const PIT_COMMAND: u16 = 0x43;
const PIT_COUNTER0: u16 = 0x40;
/// Channel 0, low byte then high byte, mode 3 (square wave), binary.
const CHANNEL0_MODE3: u32 = 0x36;

/// Programs the devices as a BIOS would have before booting.
pub fn leave_as_firmware_does(m: &mut Machine) {
    let now = m.board.clock.now_ns();
    let io = &mut m.board.io;
    io.write(PIT_COMMAND, IoSize::Byte, CHANNEL0_MODE3, now);
    io.write(PIT_COUNTER0, IoSize::Byte, 0, now);
    io.write(PIT_COUNTER0, IoSize::Byte, 0, now);
}
