//! The decoder: turns instruction bytes into an [`Insn`] using the opcode
//! table (prefixes, operand and address size, segment override, REP/LOCK,
//! ModRM/SIB into a register or a memory operand, displacement, immediates,
//! length). It is pure: no machine state, no memory access beyond the byte
//! slice it is given.

use super::facts::Facts;
use super::opcodes::{self, Mn, OpDef, Opnd};
use super::registers::{Gpr, SegReg};

/// The architectural limit on instruction length.
pub const MAX_INSN_LEN: usize = 15;

/// REP prefix kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rep {
    None,
    /// F3: REP / REPE.
    Rep,
    /// F2: REPNE.
    Repne,
}

/// A decoded memory operand: `[base + index*scale + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRef {
    /// Base register, or none.
    pub base: Option<Gpr>,
    /// Index register, or none.
    pub index: Option<Gpr>,
    /// Scale shift (0-3).
    pub scale: u8,
    pub disp: u32,
    /// Segment to use: the override, or the default for the base register.
    pub seg: SegReg,
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
    /// The row's facts: lockability, first model, privilege.
    pub facts: Facts,
    /// Opcode, 0x0Fxx for the two-byte map.
    pub opcode: u16,
    pub len: u8,
    /// 32-bit operand size (after the 66 prefix).
    pub op32: bool,
    /// 32-bit address size (after the 67 prefix).
    pub addr32: bool,
    /// Segment override prefix.
    pub seg_override: Option<SegReg>,
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
    pub fn data_seg(&self) -> SegReg {
        self.seg_override.unwrap_or(SegReg::Ds)
    }

    /// The segment register a MOV or POP loads, when its destination is
    /// one (a MOV to a register number past GS names none: #UD).
    pub fn loads_segment(&self) -> Option<SegReg> {
        if !matches!(self.mn, Mn::Mov | Mn::Pop) {
            return None;
        }
        match self.ops.first()? {
            Opnd::Sw => SegReg::ALL.get(usize::from(self.modrm?.reg)).copied(),
            Opnd::SEs => Some(SegReg::Es),
            Opnd::SCs => Some(SegReg::Cs),
            Opnd::SSs => Some(SegReg::Ss),
            Opnd::SDs => Some(SegReg::Ds),
            Opnd::SFs => Some(SegReg::Fs),
            Opnd::SGs => Some(SegReg::Gs),
            _ => None,
        }
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
            0x26 => seg_override = Some(SegReg::Es),
            0x2E => seg_override = Some(SegReg::Cs),
            0x36 => seg_override = Some(SegReg::Ss),
            0x3E => seg_override = Some(SegReg::Ds),
            0x64 => seg_override = Some(SegReg::Fs),
            0x65 => seg_override = Some(SegReg::Gs),
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
        facts: Mn::Ud.facts(),
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
    insn.facts = def.facts;
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
                    seg: seg_override.unwrap_or(SegReg::Ds),
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
        SegReg::Ss
    } else {
        SegReg::Ds
    };
    insn.mem = Some(MemRef {
        base: base.map(Gpr::from_num),
        index: index.map(Gpr::from_num),
        scale,
        disp,
        seg: ovr.unwrap_or(default),
    });
    Ok(())
}
