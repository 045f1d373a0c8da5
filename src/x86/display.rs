//! Intel-syntax text for a decoded [`Insn`] (NASM flavour:
//! `add byte [bx+si+0x10], al`). Branch targets are shown relative to the
//! instruction's first byte (`$+0x12`), since an `Insn` has no address.

use std::fmt::{self, Display, Formatter, Write};

use super::decode::{Insn, MemRef, Rep};
use super::opcodes::{Mn, Opnd};

const REG8: [&str; 8] = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
const REG16: [&str; 8] = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const REG32: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const SREG: [&str; 8] = ["es", "cs", "ss", "ds", "fs", "gs", "?s", "?s"];
/// Condition-code suffixes in encoding order.
pub const CC: [&str; 16] = [
    "o", "no", "b", "ae", "z", "nz", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
];

fn reg_name(n: u8, bytes: u8) -> &'static str {
    let n = usize::from(n & 7);
    match bytes {
        1 => REG8[n],
        2 => REG16[n],
        _ => REG32[n],
    }
}

fn write_mem(f: &mut Formatter<'_>, insn: &Insn, m: &MemRef, size: &str) -> fmt::Result {
    if !size.is_empty() {
        write!(f, "{size} ")?;
    }
    f.write_char('[')?;
    if let Some(s) = insn.seg_override {
        write!(f, "{}:", s.name())?;
    }
    let aw = if insn.addr32 { 4 } else { 2 };
    let mut any = false;
    if let Some(b) = m.base {
        f.write_str(reg_name(b.num(), aw))?;
        any = true;
    }
    if let Some(i) = m.index {
        if any {
            f.write_char('+')?;
        }
        f.write_str(reg_name(i.num(), aw))?;
        if m.scale != 0 {
            write!(f, "*{}", 1 << m.scale)?;
        }
        any = true;
    }
    if !any {
        write!(f, "0x{:x}", m.disp)?;
    } else {
        let d = if insn.addr32 {
            m.disp as i32
        } else {
            i32::from(m.disp as i16)
        };
        if d > 0 {
            write!(f, "+0x{d:x}")?;
        } else if d < 0 {
            write!(f, "-0x{:x}", d.unsigned_abs())?;
        }
    }
    f.write_char(']')
}

impl Insn {
    fn vbytes(&self) -> u8 {
        if self.op32 {
            4
        } else {
            2
        }
    }

    fn write_operand(&self, f: &mut Formatter<'_>, o: Opnd, idx: usize) -> fmt::Result {
        let m = self.modrm.unwrap_or(super::decode::ModRm {
            md: 0,
            reg: 0,
            rm: 0,
        });
        let v = self.vbytes();
        let rm = |f: &mut Formatter<'_>, bytes: u8, size: &str| match &self.mem {
            Some(mem) => write_mem(f, self, mem, size),
            None => f.write_str(reg_name(m.rm, bytes)),
        };
        let size_word = |b: u8| match b {
            1 => "byte",
            2 => "word",
            _ => "dword",
        };
        let nth = self.ops[..idx].iter().filter(|o| is_imm(**o)).count();
        let imm = if nth == 0 { self.imm } else { self.imm2 };
        match o {
            Opnd::Eb => rm(f, 1, "byte"),
            Opnd::Ew => rm(f, 2, "word"),
            Opnd::Ev => rm(f, v, size_word(v)),
            Opnd::Ex | Opnd::M | Opnd::Ma | Opnd::Ms | Opnd::Mp => rm(f, v, ""),
            Opnd::Mq => rm(f, v, "qword"),
            Opnd::Gb => f.write_str(reg_name(m.reg, 1)),
            Opnd::Gw => f.write_str(reg_name(m.reg, 2)),
            Opnd::Gv => f.write_str(reg_name(m.reg, v)),
            Opnd::Sw => f.write_str(SREG[usize::from(m.reg)]),
            Opnd::Rd => f.write_str(reg_name(m.rm, 4)),
            Opnd::Cd => write!(f, "cr{}", m.reg),
            Opnd::Dd => write!(f, "dr{}", m.reg),
            Opnd::Ib | Opnd::Iw => write!(f, "0x{imm:x}"),
            Opnd::Iv | Opnd::Ibs => {
                let mask = if self.op32 { u32::MAX } else { 0xFFFF };
                write!(f, "0x{:x}", imm & mask)
            }
            Opnd::Jb | Opnd::Jv => {
                let rel = (self.imm as i32).wrapping_add(i32::from(self.len));
                if rel < 0 {
                    write!(f, "$-0x{:x}", rel.unsigned_abs())
                } else {
                    write!(f, "$+0x{rel:x}")
                }
            }
            Opnd::Ap => write!(f, "0x{:x}:0x{:x}", self.imm2, self.imm),
            Opnd::Ob => match &self.mem {
                Some(mem) => write_mem(f, self, mem, "byte"),
                None => Ok(()),
            },
            Opnd::Ov => match &self.mem {
                Some(mem) => write_mem(f, self, mem, size_word(v)),
                None => Ok(()),
            },
            Opnd::Xb | Opnd::Xv | Opnd::Yb | Opnd::Yv => Ok(()),
            Opnd::Zb => f.write_str(reg_name((self.opcode & 7) as u8, 1)),
            Opnd::Zv => f.write_str(reg_name((self.opcode & 7) as u8, v)),
            Opnd::AL => f.write_str("al"),
            Opnd::CL => f.write_str("cl"),
            Opnd::DX => f.write_str("dx"),
            Opnd::EAX => f.write_str(reg_name(0, v)),
            Opnd::One => f.write_str("1"),
            Opnd::SEs => f.write_str("es"),
            Opnd::SCs => f.write_str("cs"),
            Opnd::SSs => f.write_str("ss"),
            Opnd::SDs => f.write_str("ds"),
            Opnd::SFs => f.write_str("fs"),
            Opnd::SGs => f.write_str("gs"),
        }
    }
}

fn is_imm(o: Opnd) -> bool {
    matches!(
        o,
        Opnd::Ib | Opnd::Iw | Opnd::Iv | Opnd::Ibs | Opnd::Jb | Opnd::Jv
    )
}

impl Display for Insn {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.lock {
            f.write_str("lock ")?;
        }
        let string = self.mn.is_string();
        if string {
            match (self.rep, self.mn) {
                (Rep::None, _) => {}
                (Rep::Rep, Mn::Cmps | Mn::Scas) => f.write_str("repe ")?,
                (Rep::Rep, _) => f.write_str("rep ")?,
                (Rep::Repne, _) => f.write_str("repne ")?,
            }
        }
        let d = if self.op32 { "d" } else { "" };
        match self.mn {
            Mn::Jcc | Mn::Setcc | Mn::Cmovcc => {
                write!(f, "{}{}", self.mn.name(), CC[usize::from(self.opcode & 15)])?
            }
            Mn::Cbw => f.write_str(if self.op32 { "cwde" } else { "cbw" })?,
            Mn::Cwd => f.write_str(if self.op32 { "cdq" } else { "cwd" })?,
            Mn::Pusha | Mn::Popa | Mn::Pushf | Mn::Popf | Mn::Iret => {
                write!(f, "{}{d}", self.mn.name())?
            }
            Mn::Jcxz => f.write_str(if self.addr32 { "jecxz" } else { "jcxz" })?,
            _ if string => {
                let wide = self.ops.iter().any(|o| matches!(o, Opnd::Xv | Opnd::Yv));
                let suffix = if !wide {
                    "b"
                } else if self.op32 {
                    "d"
                } else {
                    "w"
                };
                return write!(f, "{}{suffix}", self.mn.name());
            }
            Mn::Esc => write!(f, "esc 0x{:x},", self.opcode & 0xFF)?,
            Mn::Ud => return write!(f, "(bad 0x{:x})", self.opcode),
            _ => f.write_str(self.mn.name())?,
        }
        for (i, &o) in self.ops.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            self.write_operand(f, o, i)?;
        }
        Ok(())
    }
}
