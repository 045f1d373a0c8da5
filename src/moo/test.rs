//! The data a MOO file holds, as plain Rust values.
//!
//! This file owns the types only: the file header, the `META` chunk, register
//! sets (the 286 `REGS` layout and the 386 `RG32` layout share one type,
//! [`Registers`], tagged with its [`RegLayout`]), RAM entries, and one
//! [`MooTest`] per `TEST` chunk. Decoding bytes into these types is
//! `format.rs`'s job; running them is `runner.rs`'s.

use std::fmt;

/// Which register layout a register set uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegLayout {
    /// `REGS`/`RMSK`: a `u16` bitmask and `u16` values (80286 captures).
    Regs16,
    /// `RG32`/`RM32`: a `u32` bitmask and `u32` values (80386 captures).
    Regs32,
}

/// Register names of the 16-bit layout, in bitmask order.
pub const REG16_NAMES: [&str; 14] = [
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags",
];

/// Register names of the 32-bit layout, in bitmask order.
pub const REG32_NAMES: [&str; 20] = [
    "cr0", "cr3", "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "cs", "ds", "es", "fs",
    "gs", "ss", "eip", "eflags", "dr6", "dr7",
];

/// One register of either layout, by meaning rather than by bit position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reg {
    Cr0,
    Cr3,
    Eax,
    Ebx,
    Ecx,
    Edx,
    Esi,
    Edi,
    Ebp,
    Esp,
    Cs,
    Ds,
    Es,
    Fs,
    Gs,
    Ss,
    Eip,
    Eflags,
    Dr6,
    Dr7,
}

const REG16_ORDER: [Reg; 14] = [
    Reg::Eax,
    Reg::Ebx,
    Reg::Ecx,
    Reg::Edx,
    Reg::Cs,
    Reg::Ss,
    Reg::Ds,
    Reg::Es,
    Reg::Esp,
    Reg::Ebp,
    Reg::Esi,
    Reg::Edi,
    Reg::Eip,
    Reg::Eflags,
];

const REG32_ORDER: [Reg; 20] = [
    Reg::Cr0,
    Reg::Cr3,
    Reg::Eax,
    Reg::Ebx,
    Reg::Ecx,
    Reg::Edx,
    Reg::Esi,
    Reg::Edi,
    Reg::Ebp,
    Reg::Esp,
    Reg::Cs,
    Reg::Ds,
    Reg::Es,
    Reg::Fs,
    Reg::Gs,
    Reg::Ss,
    Reg::Eip,
    Reg::Eflags,
    Reg::Dr6,
    Reg::Dr7,
];

impl RegLayout {
    /// Number of registers (bitmask bits) the layout defines.
    pub fn len(self) -> usize {
        match self {
            RegLayout::Regs16 => REG16_ORDER.len(),
            RegLayout::Regs32 => REG32_ORDER.len(),
        }
    }
    /// Always false: every layout names at least one register.
    pub fn is_empty(self) -> bool {
        false
    }
    /// The register at bitmask position `bit`.
    pub fn reg(self, bit: usize) -> Option<Reg> {
        match self {
            RegLayout::Regs16 => REG16_ORDER.get(bit).copied(),
            RegLayout::Regs32 => REG32_ORDER.get(bit).copied(),
        }
    }
    /// The name of the register at bitmask position `bit`, as the format spells it.
    pub fn name(self, bit: usize) -> &'static str {
        match self {
            RegLayout::Regs16 => REG16_NAMES.get(bit).copied().unwrap_or("?"),
            RegLayout::Regs32 => REG32_NAMES.get(bit).copied().unwrap_or("?"),
        }
    }
    /// Width in bytes of one value.
    pub fn value_bytes(self) -> usize {
        match self {
            RegLayout::Regs16 => 2,
            RegLayout::Regs32 => 4,
        }
    }
}

/// A (possibly partial) register set: which registers are present, and their
/// values (zero-extended to `u32`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registers {
    pub layout: RegLayout,
    /// Bit `n` set = register `layout.reg(n)` is present.
    pub present: u32,
    /// Indexed by bitmask position; meaningful only where `present` has the bit.
    pub values: [u32; 20],
}

impl Registers {
    /// An empty set of the given layout.
    pub fn empty(layout: RegLayout) -> Registers {
        Registers {
            layout,
            present: 0,
            values: [0; 20],
        }
    }

    /// The value of register `reg`, when present.
    pub fn get(&self, reg: Reg) -> Option<u32> {
        (0..self.layout.len())
            .find(|&bit| self.layout.reg(bit) == Some(reg))
            .filter(|&bit| self.present & (1 << bit) != 0)
            .map(|bit| self.values[bit])
    }

    /// Present registers as (bit position, register, value), in bitmask order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Reg, u32)> + '_ {
        (0..self.layout.len()).filter_map(move |bit| {
            if self.present & (1 << bit) == 0 {
                return None;
            }
            self.layout.reg(bit).map(|r| (bit, r, self.values[bit]))
        })
    }
}

/// One `RAM ` entry: a physical address and the byte stored there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamEntry {
    pub address: u32,
    pub value: u8,
}

/// The `INIT` or `FINA` state of a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuState {
    pub regs: Registers,
    /// Per-test `RM32` (or `RMSK`) masks, applied to both sides of a compare.
    pub masks: Option<Registers>,
    pub ram: Vec<RamEntry>,
    /// `QUEU` payload (prefetch queue); kept raw, empty in the shipped data.
    pub queue: Vec<u8>,
}

/// The `EXCP` chunk: an exception was raised and FLAGS were pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    pub vector: u8,
    /// Physical address of the pushed FLAGS word.
    pub flags_address: u32,
}

/// One `TEST` chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MooTest {
    pub index: u32,
    /// Disassembly text from `NAME`.
    pub name: String,
    /// Instruction bytes from `BYTS`, the trailing HLT (`F4`) included.
    pub bytes: Vec<u8>,
    pub init: CpuState,
    pub fina: CpuState,
    pub exception: Option<Exception>,
    /// SHA-1 from `HASH`, the test's identity.
    pub hash: Option<[u8; 20]>,
}

impl MooTest {
    /// Length of the instruction under test: `BYTS` without the trailing HLT.
    pub fn instruction_len(&self) -> usize {
        match self.bytes.last() {
            Some(0xF4) => self.bytes.len() - 1,
            _ => self.bytes.len(),
        }
    }

    /// The hash as 40 lower-case hex digits, or an empty string when absent.
    pub fn hash_hex(&self) -> String {
        self.hash.map(|h| hex(&h)).unwrap_or_default()
    }
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which processor recorded a file, from the header's `cpu_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuId {
    /// `C286`: a (Harris) 80C286.
    I286,
    /// `386E`: an Intel 80386EX.
    I386Ex,
    /// Anything else, kept verbatim.
    Other([u8; 4]),
}

impl CpuId {
    pub fn from_bytes(id: [u8; 4]) -> CpuId {
        match &id {
            b"C286" => CpuId::I286,
            b"386E" => CpuId::I386Ex,
            _ => CpuId::Other(id),
        }
    }
}

impl fmt::Display for CpuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuId::I286 => f.write_str("C286"),
            CpuId::I386Ex => f.write_str("386E"),
            CpuId::Other(id) => write!(f, "{}", String::from_utf8_lossy(id)),
        }
    }
}

/// The `MOO ` header chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub major: u8,
    pub minor: u8,
    pub test_count: u32,
    pub cpu: CpuId,
}

/// The `META` chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Version of the test collection (not of the MOO format).
    pub set_major: u8,
    pub set_minor: u8,
    /// The exact processor model (6 = 80286, 7 = 80386 in the shipped data).
    pub cpu_type: u8,
    pub opcode: u32,
    /// The mnemonic with its space padding removed.
    pub mnemonic: String,
    /// Upstream's test count; not reliable, use [`Header::test_count`].
    pub test_count: u32,
    pub seed: u64,
    /// 0 = real mode.
    pub cpu_mode: u8,
}

/// A whole MOO file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MooFile {
    pub header: Header,
    pub meta: Option<Meta>,
    /// File-level `RMSK`/`RM32` masks, applied to every test.
    pub masks: Option<Registers>,
    pub tests: Vec<MooTest>,
}
