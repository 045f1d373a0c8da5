//! CPUID (Pentium and later): what the processor says it is. The I686
//! model is a GenuineIntel family 6, model 3 (a Pentium II "Klamath"-class
//! signature without MMX), stepping 3, reporting only what moon86
//! emulates: FPU, VME (CR4.VME and PVI), DE (CR4.DE; debug registers are
//! storage only, so I/O breakpoints never fire), PSE, TSC, MSR, PAE, CX8,
//! SEP (SYSENTER/SYSEXIT), PGE and CMOV. It never reports APIC, MTRR,
//! MCE/MCA, MMX or SSE, and has no extended leaves. The PentiumM model
//! reports the same features under a family 6, model 13, stepping 8
//! signature (a Pentium M "Dothan" C0, the first with NX), plus the
//! extended leaves 0x80000000 (the highest, 0x80000001) and 0x80000001
//! (EDX: NX, bit 20, unless IA32_MISC_ENABLE disables XD). Its caches are a Pentium II's, described by leaf 2's
//! descriptors and leaf 4's parameters alike: 16 KiB L1 instruction and
//! data caches and a 512 KiB L2, each 4-way with 32-byte lines. moon86
//! models no cache; the figures are what software that sizes its work by
//! them (memtest86+, Linux's cache info) expects of such a processor.

use super::Cpu;

/// EDX feature bits of leaf 1.
const FPU: u32 = 1 << 0;
const VME: u32 = 1 << 1;
const DE: u32 = 1 << 2;
const PSE: u32 = 1 << 3;
const TSC: u32 = 1 << 4;
const MSR: u32 = 1 << 5;
const PAE: u32 = 1 << 6;
const CX8: u32 = 1 << 8;
const SEP: u32 = 1 << 11;
const PGE: u32 = 1 << 13;
const CMOV: u32 = 1 << 15;

/// The leaf-1 EDX feature set.
pub(crate) const FEATURES: u32 = FPU | VME | DE | PSE | TSC | MSR | PAE | CX8 | SEP | PGE | CMOV;

/// Family 6, model 3, stepping 3.
const SIGNATURE: u32 = (6 << 8) | (3 << 4) | 3;
/// The PentiumM model's: family 6, model 13, stepping 8.
const SIGNATURE_PENTIUM_M: u32 = (6 << 8) | (13 << 4) | 8;

/// The highest extended leaf of a model with extended leaves.
const MAX_EXTENDED_LEAF: u32 = 0x8000_0001;
/// Leaf 0x80000001's EDX: execute-disable (NX).
pub(crate) const EXT_NX: u32 = 1 << 20;

/// The highest standard leaf.
const MAX_LEAF: u32 = 4;

/// Leaf 2: AL = 1 (one call gives every descriptor), then descriptors 01
/// (instruction TLB, 4 KiB pages), 02 (instruction TLB, 4 MiB), 03 (data
/// TLB, 4 KiB); in EDX 43 (L2, 512 KiB), 08 (L1 instruction, 16 KiB), 04
/// (data TLB, 4 MiB) and 0C (L1 data, 16 KiB). Zero bytes are null
/// descriptors.
const CACHE_DESCRIPTORS: [u32; 4] = [0x0302_0101, 0, 0, 0x0C04_0843];

/// One cache of leaf 4: type (1 data, 2 instruction, 3 unified), level,
/// ways, line size and total size in bytes; EAX, EBX, ECX and EDX as
/// CPUID returns them (self-initialising, one thread and core sharing it).
fn cache_parameters(kind: u32, level: u32, ways: u32, line: u32, size: u32) -> [u32; 4] {
    let sets = size / (ways * line);
    [
        kind | level << 5 | 1 << 8,
        (ways - 1) << 22 | (line - 1),
        sets - 1,
        0,
    ]
}

impl Cpu {
    /// EAX, EBX, ECX, EDX for leaf `eax` (subleaf `ecx` where one counts).
    pub(crate) fn cpuid(&self, eax: u32, ecx: u32) -> [u32; 4] {
        match eax {
            // Highest standard leaf, and the vendor "GenuineIntel".
            0 => [MAX_LEAF, 0x756E_6547, 0x6C65_746E, 0x4965_6E69],
            1 if self.model.has_nx() => [SIGNATURE_PENTIUM_M, 0, 0, FEATURES],
            1 => [SIGNATURE, 0, 0, FEATURES],
            2 => CACHE_DESCRIPTORS,
            // No serial number (leaf 3 reads as zeros without PSN).
            3 => [0; 4],
            4 => match ecx {
                0 => cache_parameters(1, 1, 4, 32, 16 << 10),
                1 => cache_parameters(2, 1, 4, 32, 16 << 10),
                2 => cache_parameters(3, 2, 4, 32, 512 << 10),
                // Type 0: no more caches.
                _ => [0; 4],
            },
            0x8000_0000 if self.model.has_nx() => [MAX_EXTENDED_LEAF, 0, 0, 0],
            0x8000_0001 if self.model.has_nx() => {
                [0, 0, 0, if self.nx_available() { EXT_NX } else { 0 }]
            }
            // Past the highest leaf (or any extended leaf on a model without
            // them): the highest standard leaf's data, as Intel processors
            // give.
            _ => self.cpuid(MAX_LEAF, ecx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_4_describes_the_caches_leaf_2_names() {
        let cpu = Cpu::new();
        let size = |l: [u32; 4]| {
            let ways = (l[1] >> 22) + 1;
            let line = (l[1] & 0xFFF) + 1;
            let sets = l[2] + 1;
            (l[0] & 0x1F, (l[0] >> 5) & 7, ways * line * sets)
        };
        assert_eq!(size(cpu.cpuid(4, 0)), (1, 1, 16 << 10));
        assert_eq!(size(cpu.cpuid(4, 1)), (2, 1, 16 << 10));
        assert_eq!(size(cpu.cpuid(4, 2)), (3, 2, 512 << 10));
        assert_eq!(cpu.cpuid(4, 3)[0] & 0x1F, 0, "the list ends");
        assert_eq!(cpu.cpuid(2, 0)[0] & 0xFF, 1);
        assert_eq!(cpu.cpuid(0, 0)[0], 4);
        assert_eq!(cpu.cpuid(0x8000_0000, 0), cpu.cpuid(4, 0));
    }

    #[test]
    fn only_the_pentium_m_reports_nx() {
        let mut cpu = Cpu::new();
        cpu.set_model(super::super::Model::I686);
        assert_ne!(cpu.cpuid(1, 0)[3] & PAE, 0);
        assert_eq!(cpu.cpuid(0x8000_0001, 0), cpu.cpuid(4, 0));
        cpu.set_model(super::super::Model::PentiumM);
        assert_eq!(cpu.cpuid(0x8000_0000, 0)[0], MAX_EXTENDED_LEAF);
        assert_eq!(cpu.cpuid(0x8000_0001, 0)[3], EXT_NX);
        assert_eq!(cpu.cpuid(1, 0)[0] >> 4 & 0xF, 13);
        assert_eq!(cpu.cpuid(1, 0)[3], FEATURES);
    }
}
