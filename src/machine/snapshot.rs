//! The whole state of a machine at an instruction boundary
//! ([`MachineState`]): the CPU (registers, FPU, MSRs, TLB), every device,
//! the virtual clock, the pending-event tick, the interrupt line, the A20
//! gate, the instruction count, the serial logs, and RAM and ROM as a
//! [`MemImage`]. Taking it reads the machine; restoring it checks that it
//! fits (memory size, CPU model, clock rate) before changing anything, then
//! replaces the state in place, so what is not machine state stays as it
//! is: host-side settings (serial and debug-console echo, the
//! decoded-instruction cache switch), the port wiring, and anything a front
//! end keeps on the machine. The decoded-instruction cache is left out and
//! starts empty after a restore, and every code-page stamp is renewed, so
//! no decode made before the restore is ever used. The file format lives
//! in `control/`.

use super::clock::VirtualClock;
use super::serial::SerialLog;
use super::Machine;
use crate::cpu::{Cpu, Model};
use crate::devices::IoBus;
use crate::mem::{MemError, MemImage};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A machine's state, as [`Machine::save_state`] takes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MachineState {
    cpu: Cpu,
    devices: IoBus,
    clock: VirtualClock,
    a20: bool,
    icount: u64,
    intr: bool,
    next_event_tick: Option<u64>,
    serial: [SerialLog; 2],
    memory: MemImage,
}

impl MachineState {
    /// Instructions retired when the state was taken.
    pub fn icount(&self) -> u64 {
        self.icount
    }
    /// The memory part (RAM pages and ROM mappings).
    pub fn memory(&self) -> &MemImage {
        &self.memory
    }
}

/// Why a state cannot be restored into a machine; the machine is unchanged.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StateError {
    #[error("the state is of a {state:?} CPU, this machine has a {machine:?}")]
    CpuModel { state: Model, machine: Model },
    #[error(
        "the state's clock runs at {state} instructions per second, this machine's at {machine}"
    )]
    ClockRate { state: u64, machine: u64 },
    #[error(transparent)]
    Memory(#[from] MemError),
}

impl Machine {
    /// The machine's whole state, at the current instruction boundary.
    pub fn save_state(&self) -> MachineState {
        let mut cpu = self.cpu.clone();
        cpu.flush_icache();
        MachineState {
            cpu,
            devices: self.board.io.clone(),
            clock: self.board.clock.clone(),
            a20: self.board.a20(),
            icount: self.icount,
            intr: self.intr,
            next_event_tick: self.next_event_tick,
            serial: self.serial.clone(),
            memory: self.board.mem.image(),
        }
    }

    /// Puts `state` back. On error nothing has changed.
    pub fn restore_state(&mut self, state: &MachineState) -> Result<(), StateError> {
        if state.cpu.model() != self.cpu.model() {
            return Err(StateError::CpuModel {
                state: state.cpu.model(),
                machine: self.cpu.model(),
            });
        }
        if state.clock.ips() != self.board.clock.ips() {
            return Err(StateError::ClockRate {
                state: state.clock.ips(),
                machine: self.board.clock.ips(),
            });
        }
        // Every field is named, so a new one cannot be forgotten here.
        let MachineState {
            cpu,
            devices,
            clock,
            a20,
            icount,
            intr,
            next_event_tick,
            serial,
            memory,
        } = state;
        // The last fallible step; everything after it only assigns.
        self.board.mem.restore_image(memory)?;

        let icache = self.cpu.icache_enabled();
        let jit = self.cpu.jit_enabled();
        self.cpu = cpu.clone();
        self.cpu.set_icache_enabled(icache);
        self.cpu.set_jit_enabled(jit);
        self.board.io.restore_devices(devices);
        self.board.clock = clock.clone();
        self.board.set_a20(*a20);
        self.board.io_touched = false;
        self.icount = *icount;
        self.intr = *intr;
        self.next_event_tick = *next_event_tick;
        for (log, saved) in self.serial.iter_mut().zip(serial) {
            let echo = log.echo;
            *log = saved.clone();
            log.echo = echo;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::MachineConfig;

    /// A real-mode loop at 0:0x1000 that counts in EAX and writes AL to
    /// COM1 and the debug console on every pass.
    fn counting_machine() -> Machine {
        let mut m = Machine::new(&MachineConfig::default()).unwrap();
        let code = [
            0x66, 0x40, // inc eax
            0xBA, 0xF8, 0x03, // mov dx, 0x3f8
            0xEE, // out dx, al
            0xE6, 0xE9, // out 0xe9, al
            0xEB, 0xF6, // jmp short back to the start
        ];
        m.board.mem.write_bytes(0x1000, &code).unwrap();
        m.cpu.load_segment_real(crate::cpu::SegReg::Cs, 0);
        m.cpu.set_eip(0x1000);
        m
    }

    #[test]
    fn a_restored_machine_continues_exactly_as_the_original() {
        let mut m = counting_machine();
        m.run(1000);
        let state = m.save_state();
        m.run(5000);
        let after = (m.icount, m.cpu.gpr(crate::cpu::Gpr::Eax), m.now_ns());
        let serial = m.serial[0].all().to_vec();
        let text = m.board.io.debugcon.text();

        // Through the serialised form, into a machine that ran elsewhere.
        let bytes = postcard::to_allocvec(&state).unwrap();
        let back: MachineState = postcard::from_bytes(&bytes).unwrap();
        let mut other = counting_machine();
        other.run(77);
        other.restore_state(&back).unwrap();
        assert_eq!(other.icount, 1000);
        other.run(5000);
        assert_eq!(
            (
                other.icount,
                other.cpu.gpr(crate::cpu::Gpr::Eax),
                other.now_ns()
            ),
            after
        );
        assert_eq!(other.serial[0].all(), serial.as_slice());
        assert_eq!(other.board.io.debugcon.text(), text);
    }

    #[test]
    fn a_restore_replaces_code_the_cache_has_seen() {
        let mut m = counting_machine();
        m.run(100);
        let state = m.save_state();
        // Change the code the cache holds decodes of: inc eax -> dec eax.
        m.board.mem.write_bytes(0x1001, &[0x48]).unwrap();
        m.run(100);
        m.restore_state(&state).unwrap();
        let eax = m.cpu.gpr(crate::cpu::Gpr::Eax);
        m.run(50); // 10 passes of 5 instructions
        assert_eq!(m.cpu.gpr(crate::cpu::Gpr::Eax), eax + 10);
    }

    #[test]
    fn a_state_of_another_machine_is_refused_and_changes_nothing() {
        let small = Machine::new(&MachineConfig {
            ram_size: 1 << 20,
            ..MachineConfig::default()
        })
        .unwrap();
        let mut m = counting_machine();
        m.run(10);
        let e = m.restore_state(&small.save_state()).unwrap_err();
        assert!(
            matches!(e, StateError::Memory(MemError::BadImage { .. })),
            "{e}"
        );
        let mut i386 = counting_machine();
        i386.cpu.set_model(Model::I386);
        let e = m.restore_state(&i386.save_state()).unwrap_err();
        assert!(matches!(e, StateError::CpuModel { .. }), "{e}");
        assert_eq!(m.icount, 10);
        m.run(10);
        assert_eq!(m.icount, 20);
    }
}
