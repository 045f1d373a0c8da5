//! CPUID (Pentium and later): what the processor says it is. The I686
//! model is a GenuineIntel family 6, model 3 (a Pentium II "Klamath"-class
//! signature without MMX), stepping 3, reporting only what moon86
//! emulates: FPU, DE (CR4.DE; debug registers are storage only, so I/O
//! breakpoints never fire), PSE, TSC, MSR, CX8, PGE and CMOV. It never
//! reports VME (not implemented), APIC, SEP, PAE, MTRR, MCE/MCA, MMX or SSE.

use super::Cpu;

/// EDX feature bits of leaf 1.
const FPU: u32 = 1 << 0;
const DE: u32 = 1 << 2;
const PSE: u32 = 1 << 3;
const TSC: u32 = 1 << 4;
const MSR: u32 = 1 << 5;
const CX8: u32 = 1 << 8;
const PGE: u32 = 1 << 13;
const CMOV: u32 = 1 << 15;

/// The leaf-1 EDX feature set.
pub(crate) const FEATURES: u32 = FPU | DE | PSE | TSC | MSR | CX8 | PGE | CMOV;

/// Family 6, model 3, stepping 3.
const SIGNATURE: u32 = (6 << 8) | (3 << 4) | 3;

impl Cpu {
    /// EAX, EBX, ECX, EDX for leaf `eax`.
    pub(crate) fn cpuid(&self, eax: u32) -> [u32; 4] {
        match eax {
            // Highest standard leaf, and the vendor "GenuineIntel".
            0 => [1, 0x756E_6547, 0x6C65_746E, 0x4965_6E69],
            1 => [SIGNATURE, 0, 0, FEATURES],
            // No extended leaves: report the highest standard leaf's data,
            // as Intel processors do for leaves above the maximum.
            _ => [SIGNATURE, 0, 0, FEATURES],
        }
    }
}
