//! The P6 performance-monitoring counters: PerfEvtSel0/1 (MSRs 0x186,
//! 0x187), PerfCtr0/1 (MSRs 0xC1, 0xC2, 40 bits wide) and RDPMC. A counter
//! counts while PerfEvtSel0's EN bit (22; it enables both on the P6) is
//! set and its own select names an event moon86 can count exactly:
//! instructions retired (0xC0) or unhalted cycles (0x79, one per
//! instruction: moon86's clock ticks once per instruction, and a halted
//! CPU has no unhalted cycles). The USR and OS bits (16, 17) must not
//! both be clear; moon86 does not split the count by privilege level, so
//! a select with only one of them set counts at every level. Any other
//! event reads back what was written and does not move. There is no
//! overflow interrupt: the board has no local APIC to deliver it.

use super::fault::Fault;
use super::Cpu;
use serde::{Deserialize, Serialize};

const WIDTH_MASK: u64 = (1 << 40) - 1;
const EN: u32 = 1 << 22;
const USR_OS: u32 = 3 << 16;
const INST_RETIRED: u32 = 0xC0;
const CPU_CLK_UNHALTED: u32 = 0x79;

/// The two counters and their event selects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PerfCounters {
    select: [u32; 2],
    /// Each counter's value when it last stopped or was written.
    value: [u64; 2],
    /// The instruction count at which each counter started counting.
    since: [Option<u64>; 2],
}

impl PerfCounters {
    fn counts(&self, i: usize) -> bool {
        let sel = self.select[i];
        self.select[0] & EN != 0
            && sel & USR_OS != 0
            && matches!(sel & 0xFF, INST_RETIRED | CPU_CLK_UNHALTED)
    }

    /// Counter `i` at instruction count `icount`.
    fn read(&self, i: usize, icount: u64) -> u64 {
        let run = self.since[i].map_or(0, |s| icount.wrapping_sub(s));
        self.value[i].wrapping_add(run) & WIDTH_MASK
    }

    /// Folds what each counter counted into its value, changes the state
    /// with `f`, and starts the counters that count now.
    fn update(&mut self, icount: u64, f: impl FnOnce(&mut Self)) {
        for i in 0..2 {
            self.value[i] = self.read(i, icount);
            self.since[i] = None;
        }
        f(self);
        for i in 0..2 {
            if self.counts(i) {
                self.since[i] = Some(icount);
            }
        }
    }
}

impl Cpu {
    /// RDMSR of a performance-monitoring MSR, if `index` is one.
    pub(crate) fn read_perf_msr(&self, index: u32) -> Option<u64> {
        let p = &self.msr.perf;
        match index {
            0xC1 | 0xC2 => Some(p.read((index - 0xC1) as usize, self.icount)),
            0x186 | 0x187 => Some(p.select[(index - 0x186) as usize].into()),
            _ => None,
        }
    }

    /// WRMSR of a performance-monitoring MSR; `None` if `index` is not
    /// one. A counter takes the low 32 bits sign-extended to 40, as on
    /// the P6; an event select's reserved bit 21 must be clear.
    pub(crate) fn write_perf_msr(&mut self, index: u32, value: u64) -> Option<Result<(), Fault>> {
        let icount = self.icount;
        let p = &mut self.msr.perf;
        match index {
            0xC1 | 0xC2 => {
                let v = i64::from(value as u32 as i32) as u64 & WIDTH_MASK;
                p.update(icount, |p| p.value[(index - 0xC1) as usize] = v);
            }
            0x186 | 0x187 if value >> 32 != 0 || value & (1 << 21) != 0 => {
                return Some(Err(Fault::Gp(0)))
            }
            0x186 | 0x187 => {
                p.update(icount, |p| {
                    p.select[(index - 0x186) as usize] = value as u32
                });
            }
            _ => return None,
        }
        Some(Ok(()))
    }

    /// RDPMC of counter `ecx` (0 or 1).
    pub(crate) fn read_pmc(&self, ecx: u32) -> Result<u64, Fault> {
        match ecx {
            0 | 1 => Ok(self.msr.perf.read(ecx as usize, self.icount)),
            _ => Err(Fault::Gp(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_read_back_count_retired_instructions_and_stop() {
        let mut p = PerfCounters::default();
        p.update(100, |p| p.value[0] = 0xABCD);
        assert_eq!(p.read(0, 500), 0xABCD, "no select: it holds");
        p.update(500, |p| p.select[1] = INST_RETIRED | USR_OS);
        p.update(500, |p| p.select[0] = CPU_CLK_UNHALTED | USR_OS | EN);
        assert_eq!(p.read(0, 600), 0xABCD + 100);
        assert_eq!(p.read(1, 600), 100, "EN in select 0 enables counter 1");
        p.update(700, |p| p.select[0] &= !EN);
        assert_eq!((p.read(0, 900), p.read(1, 900)), (0xABCD + 200, 200));
        p.update(900, |p| p.value[1] = WIDTH_MASK);
        p.update(900, |p| p.select[0] |= EN);
        assert_eq!(p.read(1, 901), 0, "40 bits wrap");
    }
}
