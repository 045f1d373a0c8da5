//! Model-specific registers (Pentium and later): RDMSR and WRMSR. Only the
//! MSRs a guest probes exist; any other raises #GP(0).
//!
//! | MSR    | name                      | read                    | write                 |
//! |--------|---------------------------|-------------------------|-----------------------|
//! | 0x10   | IA32_TIME_STAMP_COUNTER   | the TSC                 | sets the TSC (offset) |
//! | 0x17   | IA32_PLATFORM_ID          | 0                       | #GP(0)                |
//! | 0x1B   | IA32_APIC_BASE            | #GP(0): no APIC         | #GP(0)                |
//! | 0x2A   | EBL_CR_POWERON            | 0                       | ignored               |
//! | 0x79   | IA32_BIOS_UPDT_TRIG       | 0                       | ignored (no microcode)|
//! | 0x8B   | IA32_BIOS_SIGN_ID         | 0 (no microcode loaded) | ignored               |
//! | 0xC1, 0xC2 | PerfCtr0/1            | the counter (`perf_counters.rs`) | low 32 bits, sign-extended |
//! | 0x174  | IA32_SYSENTER_CS          | stored (low 32 bits)    | stored                |
//! | 0x175  | IA32_SYSENTER_ESP         | stored (low 32 bits)    | stored                |
//! | 0x176  | IA32_SYSENTER_EIP         | stored (low 32 bits)    | stored                |
//! | 0x186, 0x187 | PerfEvtSel0/1       | stored                  | stored; reserved bits #GP(0) |
//! | 0xFE   | IA32_MTRRCAP              | 0: no variable or fixed MTRRs, no WC | #GP(0)   |
//! | 0x179  | IA32_MCG_CAP              | 0: no machine-check banks | #GP(0)              |
//! | 0x17A  | IA32_MCG_STATUS           | 0                       | stored                |
//! | 0x2FF  | IA32_MTRR_DEF_TYPE        | stored (0 at reset)     | stored                |
//! | 0x1A0  | IA32_MISC_ENABLE (NX models only) | BTS and PEBS unavailable (bits 11, 12), XD disable (34) | XD disable stored, the rest ignored |
//! | 0xC0000080 | IA32_EFER (NX models only) | stored: NXE (bit 11) alone | NXE (#GP(0) while XD is disabled); any other bit #GP(0) |
//!
//! IA32_MISC_ENABLE's XD-disable bit hides NX from CPUID and keeps EFER.NXE
//! clear, as on the processors that have it; Linux clears it early (in
//! `verify_cpu`, on family 6 from model 13 on, with a RDMSR it expects to
//! succeed).
//!
//! CPUID does not report MCE or MCA, yet Linux reads MCG_CAP only when it
//! does; MTRRCAP reads as "no MTRRs" because CPUID does not set MTRR.

use super::fault::Fault;
use super::perf_counters::PerfCounters;
use super::Cpu;
use serde::{Deserialize, Serialize};

pub(crate) const IA32_TSC: u32 = 0x10;
/// The extended feature enable register (models with NX).
pub(crate) const IA32_EFER: u32 = 0xC000_0080;
/// EFER.NXE: PAE's bit 63 is execute-disable (XD) instead of reserved.
pub(crate) const EFER_NXE: u64 = 1 << 11;
/// IA32_MISC_ENABLE (models with NX).
const IA32_MISC_ENABLE: u32 = 0x1A0;
/// Its read-only bits: branch trace store and PEBS unavailable.
const MISC_ENABLE_FIXED: u64 = (1 << 11) | (1 << 12);
/// Its XD-disable bit: NX hidden and unusable while set.
pub(crate) const MISC_ENABLE_XD_DISABLE: u64 = 1 << 34;

/// The stored MSR state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Msrs {
    /// Added to the instruction count to give the TSC: what WRMSR set,
    /// plus the clock ticks slept in HLT.
    pub tsc_offset: u64,
    pub mtrr_def_type: u64,
    pub mcg_status: u64,
    /// SYSENTER's code selector, stack and entry point (the MSRs are 32
    /// bits wide on a processor without 64-bit mode).
    pub sysenter_cs: u32,
    pub sysenter_esp: u32,
    pub sysenter_eip: u32,
    pub perf: PerfCounters,
    /// IA32_EFER (only NXE can be set, on a model with NX).
    pub efer: u64,
    /// IA32_MISC_ENABLE's writable bits (XD disable alone).
    pub misc_enable: u64,
}

impl Cpu {
    /// EFER.NXE is set: PAE entries' bit 63 disables instruction fetches.
    pub(crate) fn nxe(&self) -> bool {
        self.msr.efer & EFER_NXE != 0
    }

    /// The model has NX and IA32_MISC_ENABLE does not disable it.
    pub(crate) fn nx_available(&self) -> bool {
        self.model.has_nx() && self.msr.misc_enable & MISC_ENABLE_XD_DISABLE == 0
    }

    /// RDMSR of `index`.
    pub(crate) fn read_msr(&self, index: u32) -> Result<u64, Fault> {
        if let Some(v) = self.read_perf_msr(index) {
            return Ok(v);
        }
        Ok(match index {
            IA32_TSC => self.tsc(),
            0x17 | 0x2A | 0x79 | 0x8B | 0xFE | 0x179 => 0,
            0x17A => self.msr.mcg_status,
            0x2FF => self.msr.mtrr_def_type,
            0x174 => self.msr.sysenter_cs.into(),
            0x175 => self.msr.sysenter_esp.into(),
            0x176 => self.msr.sysenter_eip.into(),
            IA32_EFER if self.model.has_nx() => self.msr.efer,
            IA32_MISC_ENABLE if self.model.has_nx() => MISC_ENABLE_FIXED | self.msr.misc_enable,
            _ => return Err(Fault::Gp(0)),
        })
    }

    /// WRMSR of `index` with `value`.
    pub(crate) fn write_msr(&mut self, index: u32, value: u64) -> Result<(), Fault> {
        if let Some(done) = self.write_perf_msr(index, value) {
            return done;
        }
        match index {
            IA32_TSC => self.msr.tsc_offset = value.wrapping_sub(self.icount),
            0x2A | 0x79 | 0x8B => {}
            0x17A => self.msr.mcg_status = value,
            // Type in bits 0-7, FE bit 10, E bit 11; the rest is reserved.
            0x2FF if value & !0xCFF == 0 => self.msr.mtrr_def_type = value,
            0x174 => self.msr.sysenter_cs = value as u32,
            0x175 => self.msr.sysenter_esp = value as u32,
            0x176 => self.msr.sysenter_eip = value as u32,
            IA32_MISC_ENABLE if self.model.has_nx() => {
                self.msr.misc_enable = value & MISC_ENABLE_XD_DISABLE;
            }
            IA32_EFER
                if self.model.has_nx()
                    && value & !EFER_NXE == 0
                    && (value == 0 || self.nx_available()) =>
            {
                // Cached translations were made under the old meaning of
                // bit 63 (reserved or XD).
                if value != self.msr.efer {
                    self.flush_tlb(false);
                }
                self.msr.efer = value;
            }
            _ => return Err(Fault::Gp(0)),
        }
        Ok(())
    }
}
