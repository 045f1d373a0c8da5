//! The decoder: turns instruction bytes into an [`Insn`] using the opcode
//! table (prefixes, operand and address size, segment override, REP/LOCK,
//! ModRM/SIB into a register or a memory operand, displacement, immediates,
//! length). It is pure: no machine state, no memory access beyond the byte
//! slice it is given.

use super::opcodes::{self, Mn, OpDef, Opnd};

/// The architectural limit on instruction length.
pub const MAX_INSN_LEN: usize = 15;

/// Segment registers as the decoder names them (x86 encoding order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl Seg {
    pub const fn from_index(i: u8) -> Option<Seg> {
        match i {
            0 => Some(Seg::Es),
            1 => Some(Seg::Cs),
            2 => Some(Seg::Ss),
            3 => Some(Seg::Ds),
            4 => Some(Seg::Fs),
            5 => Some(Seg::Gs),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        ["es", "cs", "ss", "ds", "fs", "gs"][self as usize]
    }
}

/// REP prefix kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rep {
    None,
    /// F3: REP / REPE.
    Rep,
    /// F2: REPNE.
    Repne,
}

/// A general register named by an address: its number in x86 encoding
/// order. A one-byte enum, so `Option<RegNum>` is one byte too and a
/// decoded instruction stays small (it is copied and cached per step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RegNum {
    R0 = 0,
    R1 = 1,
    R2 = 2,
    R3 = 3,
    R4 = 4,
    R5 = 5,
    R6 = 6,
    R7 = 7,
}

impl RegNum {
    /// Register `n & 7`.
    pub const fn new(n: u8) -> RegNum {
        match n & 7 {
            0 => RegNum::R0,
            1 => RegNum::R1,
            2 => RegNum::R2,
            3 => RegNum::R3,
            4 => RegNum::R4,
            5 => RegNum::R5,
            6 => RegNum::R6,
            _ => RegNum::R7,
        }
    }
    /// The register number, 0-7.
    pub const fn num(self) -> u8 {
        self as u8
    }
}

/// A decoded memory operand: `[base + index*scale + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRef {
    /// Base register, or none.
    pub base: Option<RegNum>,
    /// Index register, or none.
    pub index: Option<RegNum>,
    /// Scale shift (0-3).
    pub scale: u8,
    pub disp: u32,
    /// Segment to use: the override, or the default for the base register.
    pub seg: Seg,
}

/// ModRM fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModRm {
    pub md: u8,
    pub reg: u8,
    pub rm: u8,
}

/// Why bytes did not decode into an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The slice ended before the instruction did.
    Truncated,
    /// The instruction is longer than 15 bytes.
    TooLong,
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug)]
pub struct Insn {
    pub mn: Mn,
    pub ops: &'static [Opnd],
    /// Opcode, 0x0Fxx for the two-byte map.
    pub opcode: u16,
    pub len: u8,
    /// 32-bit operand size (after the 66 prefix).
    pub op32: bool,
    /// 32-bit address size (after the 67 prefix).
    pub addr32: bool,
    /// Segment override prefix.
    pub seg_override: Option<Seg>,
    pub rep: Rep,
    pub lock: bool,
    pub modrm: Option<ModRm>,
    /// The memory operand, when ModRM selects memory or for moffs forms.
    pub mem: Option<MemRef>,
    /// First immediate (sign-extended where the operand kind says so;
    /// branch displacements sign-extended to 32 bits).
    pub imm: u32,
    /// Second immediate (ENTER's level, a far pointer's selector).
    pub imm2: u32,
}

impl Insn {
    /// The segment for string sources and XLAT: the override or DS.
    pub fn data_seg(&self) -> Seg {
        self.seg_override.unwrap_or(Seg::Ds)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, DecodeError> {
        if self.pos >= MAX_INSN_LEN {
            return Err(DecodeError::TooLong);
        }
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }
    fn peek(&self) -> Result<u8, DecodeError> {
        if self.pos >= MAX_INSN_LEN {
            return Err(DecodeError::TooLong);
        }
        self.bytes
            .get(self.pos)
            .copied()
            .ok_or(DecodeError::Truncated)
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from(self.u8()?) | u16::from(self.u8()?) << 8)
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from(self.u16()?) | u32::from(self.u16()?) << 16)
    }
    fn sized(&mut self, four: bool) -> Result<u32, DecodeError> {
        if four {
            self.u32()
        } else {
            self.u16().map(u32::from)
        }
    }
}

/// Decodes one instruction from `bytes`; `code32` is the code segment's
/// default size (D bit). Undefined opcodes decode to [`Mn::Ud`].
pub fn decode(bytes: &[u8], code32: bool) -> Result<Insn, DecodeError> {
    let mut rd = Reader { bytes, pos: 0 };
    let mut op32 = code32;
    let mut addr32 = code32;
    let mut seg_override = None;
    let mut rep = Rep::None;
    let mut lock = false;
    let opcode = loop {
        match rd.u8()? {
            0x26 => seg_override = Some(Seg::Es),
            0x2E => seg_override = Some(Seg::Cs),
            0x36 => seg_override = Some(Seg::Ss),
            0x3E => seg_override = Some(Seg::Ds),
            0x64 => seg_override = Some(Seg::Fs),
            0x65 => seg_override = Some(Seg::Gs),
            0x66 => op32 = !code32,
            0x67 => addr32 = !code32,
            0xF0 => lock = true,
            0xF2 => rep = Rep::Repne,
            0xF3 => rep = Rep::Rep,
            0x0F => break 0x100 | u16::from(rd.u8()?),
            b => break u16::from(b),
        }
    };
    let mut insn = Insn {
        mn: Mn::Ud,
        ops: &[],
        opcode: if opcode >= 0x100 {
            opcode | 0x0F00
        } else {
            opcode
        },
        len: 0,
        op32,
        addr32,
        seg_override,
        rep,
        lock,
        modrm: None,
        mem: None,
        imm: 0,
        imm2: 0,
    };
    let idx = usize::from(opcode);
    let def: Option<&OpDef> = match opcodes::lookup(idx, None) {
        Ok(d) => Some(d),
        Err(true) => opcodes::lookup(idx, Some((rd.peek()? >> 3) & 7)).ok(),
        Err(false) => None,
    };
    let Some(def) = def else {
        // Undefined: consume a ModRM for groups so the length is plausible.
        if opcodes::is_group(idx) {
            let m = rd.u8()?;
            decode_modrm(&mut rd, &mut insn, m, false)?;
        }
        insn.len = rd.pos as u8;
        return Ok(insn);
    };
    insn.mn = def.mn;
    insn.ops = def.ops;
    if def.ops.iter().any(|o| o.uses_modrm()) {
        let m = rd.u8()?;
        let reg_only = def.ops.contains(&Opnd::Rd);
        decode_modrm(&mut rd, &mut insn, m, reg_only)?;
    }
    let mut first = true;
    for &o in def.ops {
        let v = match o {
            Opnd::Ib => u32::from(rd.u8()?),
            Opnd::Ibs | Opnd::Jb => rd.u8()? as i8 as i32 as u32,
            Opnd::Iw => u32::from(rd.u16()?),
            Opnd::Iv => rd.sized(op32)?,
            Opnd::Jv => {
                if op32 {
                    rd.u32()?
                } else {
                    rd.u16()? as i16 as i32 as u32
                }
            }
            Opnd::Ap => {
                insn.imm = rd.sized(op32)?;
                insn.imm2 = u32::from(rd.u16()?);
                continue;
            }
            Opnd::Ob | Opnd::Ov => {
                let disp = rd.sized(addr32)?;
                insn.mem = Some(MemRef {
                    base: None,
                    index: None,
                    scale: 0,
                    disp,
                    seg: seg_override.unwrap_or(Seg::Ds),
                });
                continue;
            }
            _ => continue,
        };
        if first {
            insn.imm = v;
            first = false;
        } else {
            insn.imm2 = v;
        }
    }
    insn.len = rd.pos as u8;
    Ok(insn)
}

fn decode_modrm(
    rd: &mut Reader<'_>,
    insn: &mut Insn,
    m: u8,
    reg_only: bool,
) -> Result<(), DecodeError> {
    let modrm = ModRm {
        md: m >> 6,
        reg: (m >> 3) & 7,
        rm: m & 7,
    };
    insn.modrm = Some(modrm);
    if modrm.md == 3 || reg_only {
        return Ok(());
    }
    let ovr = insn.seg_override;
    let (base, index, scale, disp);
    if insn.addr32 {
        let mut b = Some(modrm.rm);
        let mut ix = None;
        let mut sc = 0;
        if modrm.rm == 4 {
            let sib = rd.u8()?;
            sc = sib >> 6;
            let i = (sib >> 3) & 7;
            ix = (i != 4).then_some(i);
            b = Some(sib & 7);
            if sib & 7 == 5 && modrm.md == 0 {
                b = None;
            }
        } else if modrm.rm == 5 && modrm.md == 0 {
            b = None;
        }
        disp = match (modrm.md, b) {
            (0, None) => rd.u32()?,
            (0, _) => 0,
            (1, _) => rd.u8()? as i8 as i32 as u32,
            _ => rd.u32()?,
        };
        base = b;
        index = ix;
        scale = sc;
    } else {
        // 16-bit forms: bx+si, bx+di, bp+si, bp+di, si, di, bp, bx.
        const B: [Option<u8>; 8] = [
            Some(3),
            Some(3),
            Some(5),
            Some(5),
            None,
            None,
            Some(5),
            Some(3),
        ];
        const I: [Option<u8>; 8] = [
            Some(6),
            Some(7),
            Some(6),
            Some(7),
            Some(6),
            Some(7),
            None,
            None,
        ];
        let r = usize::from(modrm.rm);
        let mut b = B[r];
        let ix = I[r];
        disp = match modrm.md {
            0 if modrm.rm == 6 => {
                b = None;
                u32::from(rd.u16()?)
            }
            0 => 0,
            1 => rd.u8()? as i8 as i32 as u32,
            _ => u32::from(rd.u16()?),
        };
        base = b;
        index = ix;
        scale = 0;
    }
    let default = if matches!(base, Some(4) | Some(5)) {
        Seg::Ss
    } else {
        Seg::Ds
    };
    insn.mem = Some(MemRef {
        base: base.map(RegNum::new),
        index: index.map(RegNum::new),
        scale,
        disp,
        seg: ovr.unwrap_or(default),
    });
    Ok(())
}
