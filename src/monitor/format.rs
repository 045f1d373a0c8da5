//! Text for people: registers in QEMU's `info registers` layout, memory in
//! gdb's `x` layout for each format and unit, hook lists, page mappings
//! and hook events. Pure functions of values the control API returned.

use super::disasm;
use super::parse::Format;
use crate::control::hooks::{Event, HookInfo};
use crate::control::{mode_name, Mapping, Registers};

/// True when CS holds a 32-bit code segment (D bit) outside real and V86 mode.
pub fn code32(regs: &Registers) -> bool {
    regs.mode == crate::control::hooks::CpuMode::Protected && regs.segs[1].access & 0x4000 != 0
}

/// An offset as wide as the code size: `7c00` or `00107c00`.
pub fn offset(eip: u32, code32: bool) -> String {
    if code32 {
        format!("{eip:08x}")
    } else {
        format!("{:04x}", eip & 0xFFFF)
    }
}

pub fn hex_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

const FLAGS: [(u32, char); 9] = [
    (1 << 11, 'O'),
    (1 << 10, 'D'),
    (1 << 9, 'I'),
    (1 << 8, 'T'),
    (1 << 7, 'S'),
    (1 << 6, 'Z'),
    (1 << 4, 'A'),
    (1 << 2, 'P'),
    (1, 'C'),
];

/// `info registers`.
pub fn registers(r: &Registers) -> String {
    let g = &r.gpr;
    let flags: String = FLAGS
        .iter()
        .map(|&(bit, c)| if r.eflags & bit != 0 { c } else { '-' })
        .collect();
    let mut s = format!(
        "EAX={:08x} EBX={:08x} ECX={:08x} EDX={:08x}\n\
         ESI={:08x} EDI={:08x} EBP={:08x} ESP={:08x}\n\
         EIP={:08x} EFL={:08x} [{flags}] CPL={} mode={}{}{}\n",
        g[0],
        g[3],
        g[1],
        g[2],
        g[6],
        g[7],
        g[5],
        g[4],
        r.eip,
        r.eflags,
        r.cpl,
        mode_name(r.mode),
        if r.paging { " paging" } else { "" },
        if r.halted { " halted" } else { "" },
    );
    for (name, seg) in ["ES", "CS", "SS", "DS", "FS", "GS"].iter().zip(&r.segs) {
        s += &format!(
            "{name} ={:04x} {:08x} {:08x} {:04x}\n",
            seg.selector, seg.base, seg.limit, seg.access
        );
    }
    for (name, seg) in [("LDT", &r.ldtr), ("TR ", &r.tr)] {
        s += &format!(
            "{name}={:04x} {:08x} {:08x} {:04x}\n",
            seg.selector, seg.base, seg.limit, seg.access
        );
    }
    s += &format!(
        "GDT=     {:08x} {:08x}\nIDT=     {:08x} {:08x}\n",
        r.gdtr.base, r.gdtr.limit, r.idtr.base, r.idtr.limit
    );
    s += &format!(
        "CR0={:08x} CR2={:08x} CR3={:08x} CR4={:08x}\nicount={}",
        r.cr0, r.cr2, r.cr3, r.cr4, r.icount
    );
    s
}

/// One item of `x` in format `f`.
fn item(bytes: &[u8], f: Format) -> String {
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(*b) << (8 * i);
    }
    let bits = 8 * u32::from(f.unit);
    match f.letter {
        'x' => format!("0x{v:0w$x}", w = usize::from(f.unit) * 2),
        'd' => {
            let shift = 64 - bits;
            (((v << shift) as i64) >> shift).to_string()
        }
        'u' => v.to_string(),
        'o' => format!("0{v:o}"),
        't' => format!("{v:0w$b}", w = bits as usize),
        'a' => format!("0x{v:x}"),
        'c' => {
            let c = bytes[0];
            if c.is_ascii_graphic() || c == b' ' {
                format!("{c:3} '{}'", c as char)
            } else {
                format!("{c:3} '\\x{c:02x}'")
            }
        }
        _ => format!("0x{v:x}"),
    }
}

fn per_line(f: Format) -> usize {
    match (f.letter, f.unit) {
        ('c', _) => 8,
        ('t', 8) => 1,
        ('t', 4) => 2,
        ('t', _) => 4,
        (_, 1) => 8,
        (_, 2) => 8,
        (_, 4) => 4,
        _ => 2,
    }
}

/// `x`/`xp` for every format but `i` and `s`: `count` items of `unit`
/// bytes from `data`, which was read at `addr`.
pub fn memory(addr: u64, data: &[u8], f: Format) -> String {
    let unit = usize::from(f.unit);
    let n = per_line(f);
    let mut lines = Vec::new();
    for (row, chunk) in data.chunks(unit * n).enumerate() {
        let items: Vec<String> = chunk.chunks(unit).map(|b| item(b, f)).collect();
        lines.push(format!(
            "{:08x}: {}",
            addr + (row * unit * n) as u64,
            items.join(" ")
        ));
    }
    lines.join("\n")
}

/// `x/s`: NUL-terminated strings from `data` read at `addr`; returns the
/// text and the bytes consumed.
pub fn strings(addr: u64, data: &[u8], count: u64) -> String {
    let mut out = Vec::new();
    let mut pos = 0usize;
    for _ in 0..count {
        if pos >= data.len() {
            break;
        }
        let end = data[pos..]
            .iter()
            .position(|&b| b == 0)
            .map_or(data.len(), |e| pos + e);
        let text: String = data[pos..end]
            .iter()
            .flat_map(|&b| std::ascii::escape_default(b))
            .map(char::from)
            .collect();
        out.push(format!("{:08x}: \"{text}\"", addr + pos as u64));
        pos = end + 1;
    }
    out.join("\n")
}

/// `x/i` and `disas`: instructions decoded from `code` at linear `addr`
/// (offset `ip` in CS); `mark` is the linear address to flag with `=>`.
pub fn instructions(
    addr: u64,
    ip: u64,
    code: &[u8],
    code32: bool,
    count: usize,
    mark: u64,
) -> String {
    let lines = disasm::decode(code, ip, code32, count);
    if lines.is_empty() {
        return format!("{addr:08x}: (not mapped or not readable)");
    }
    lines
        .iter()
        .map(|l| {
            let a = addr + l.offset as u64;
            let arrow = if a == mark { "=>" } else { "  " };
            format!("{arrow} {a:08x}: {:<20} {}", hex_bytes(&l.bytes), l.text)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `info hooks`: every hook, with who owns it.
pub fn hooks(list: &[HookInfo], owner: impl Fn(u64) -> &'static str) -> String {
    if list.is_empty() {
        return "no hooks (add one with break, watch or a vm:on_... line)".into();
    }
    let mut s = format!(
        "{:>3}  {:<10} {:<7} {:>8}  what",
        "id", "owner", "enabled", "hits"
    );
    for h in list {
        s += &format!(
            "\n{:>3}  {:<10} {:<7} {:>8}  {}",
            h.id.0,
            owner(h.id.0),
            if h.enabled { "yes" } else { "no" },
            h.hits,
            h.kind.describe()
        );
    }
    s
}

/// `info mem`: the mapped ranges.
pub fn mappings(map: Option<&[Mapping]>) -> String {
    let Some(map) = map else {
        return "paging is off: linear addresses are physical addresses".into();
    };
    if map.is_empty() {
        return "paging is on and nothing is mapped".into();
    }
    let mut s = format!(
        "{:<17} {:<8} {:>10} {}",
        "linear", "physical", "size", "flags"
    );
    for m in map {
        s += &format!(
            "\n{:08x}-{:08x} {:08x} {:>10x} {}{}",
            m.linear,
            m.linear + m.len,
            m.physical,
            m.len,
            if m.user { 'u' } else { 's' },
            if m.writable { "rw" } else { "r-" },
        );
    }
    s
}

/// A hook event in words.
pub fn event(e: &Event) -> String {
    match e {
        Event::Exec { linear, physical } => match physical {
            Some(p) if *p != *linear => format!("exec at 0x{linear:x} (physical 0x{p:x})"),
            _ => format!("exec at 0x{linear:x}"),
        },
        Event::Read { addr, size, value } => {
            format!("read of {size} byte(s) at 0x{addr:x}: 0x{value:x}")
        }
        Event::Write {
            addr,
            size,
            old,
            new,
        } => format!("write of {size} byte(s) at 0x{addr:x}: 0x{old:x} -> 0x{new:x}"),
        Event::Io {
            out,
            port,
            size,
            value,
        } => format!(
            "{} port 0x{port:x} ({size} byte(s)): 0x{value:x}",
            if *out { "out" } else { "in" }
        ),
        Event::Interrupt { vector, .. } => format!("interrupt 0x{vector:02x}"),
        Event::ModeChange { from, to } => {
            format!("mode {} -> {}", mode_name(from.mode), mode_name(to.mode))
        }
        Event::Disk {
            drive,
            lba,
            count,
            write,
            ..
        } => format!(
            "disk {drive} {} of {count} sector(s) at {lba}",
            if *write { "write" } else { "read" }
        ),
        Event::Serial { port, bytes } => {
            format!("serial{} {:?}", port + 1, String::from_utf8_lossy(bytes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_layouts() {
        let data = [0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc];
        let f = |letter, unit, count| Format {
            count,
            letter,
            unit,
        };
        assert_eq!(
            memory(0x7c00, &data[..4], f('x', 1, 4)),
            "00007c00: 0xfa 0x31 0xc0 0x8e"
        );
        assert_eq!(
            memory(0x7c00, &data, f('x', 4, 2)),
            "00007c00: 0x8ec031fa 0xbcd08ed8"
        );
        assert_eq!(memory(0, &data[..2], f('d', 1, 2)), "00000000: -6 49");
        assert_eq!(memory(0, &data[..1], f('t', 1, 1)), "00000000: 11111010");
        assert_eq!(memory(0, &data[1..2], f('c', 1, 1)), "00000000:  49 '1'");
        assert_eq!(
            strings(0x10, b"hi\0there\0", 2),
            "00000010: \"hi\"\n00000013: \"there\""
        );
    }
}
