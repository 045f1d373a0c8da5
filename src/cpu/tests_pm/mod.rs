//! Unit tests of protected mode, paging, task switching, virtual-8086 mode
//! (with the Pentium's extensions) and the 486/Pentium/P6 instructions. Each test builds its machine
//! programmatically on a small in-memory bus: a flat GDT, an IDT whose
//! every vector enters a one-`hlt` handler at ring 0 (so a test can see
//! which exception was delivered and with which error code), a TSS, and
//! on demand identity-mapped page tables.

mod commit;
mod enter;
mod fast_syscall;
mod lock;
mod newer;
mod pae;
mod paging;
mod segments;
mod string_bulk;
mod string_faults;
mod tasks;
mod vectors;
mod vme;

use super::{Bus, Cpu, Gpr, IoSize, Model, SegReg, Segment, StepOutcome};

pub const GDT: u32 = 0x1000;
pub const IDT: u32 = 0x2000;
pub const TSS: u32 = 0x3000;
pub const TSS2: u32 = 0x3200;
pub const LDT: u32 = 0x3400;
pub const HANDLERS: u32 = 0x4000;
pub const GATE_TARGET: u32 = 0x5000;
pub const STACK0: u32 = 0x9000;
pub const STACK3: u32 = 0x8000;
pub const CODE: u32 = 0x10000;
pub const DATA: u32 = 0x20000;
pub const PD: u32 = 0x100000;
pub const PT: u32 = 0x101000;

pub const KCODE: u16 = 0x08;
pub const KDATA: u16 = 0x10;
pub const UCODE: u16 = 0x1B;
pub const UDATA: u16 = 0x23;
pub const TSS_SEL: u16 = 0x28;
pub const RODATA: u16 = 0x30;
pub const NOTPRESENT: u16 = 0x38;
pub const EXPDOWN: u16 = 0x40;
pub const CALLGATE: u16 = 0x4B;
pub const XONLY: u16 = 0x50;
pub const TSS2_SEL: u16 = 0x58;
pub const TASKGATE: u16 = 0x60;
pub const LDT_SEL: u16 = 0x68;

pub struct Ram {
    pub mem: Vec<u8>,
    pub io: Vec<(u16, u32)>,
    /// Offers its pages to direct host access (`Bus::host_page`), as a
    /// board's plain RAM does, and counts the pages it handed out.
    pub direct: bool,
    pub host_pages: u32,
}

impl Bus for Ram {
    fn read_u8(&mut self, addr: u32) -> u8 {
        self.mem.get(addr as usize).copied().unwrap_or(0xFF)
    }
    fn write_u8(&mut self, addr: u32, value: u8) {
        if let Some(b) = self.mem.get_mut(addr as usize) {
            *b = value;
        }
    }
    fn io_read(&mut self, port: u16, _size: IoSize) -> u32 {
        u32::from(port)
    }
    fn io_write(&mut self, port: u16, _size: IoSize, value: u32) {
        self.io.push((port, value));
    }
    fn host_page(&mut self, addr: u32, _write: bool) -> Option<*mut u8> {
        let page = (addr & !0xFFF) as usize;
        if !self.direct || page + 0x1000 > self.mem.len() {
            return None;
        }
        self.host_pages += 1;
        // SAFETY: the page lies within `mem`, which is never resized.
        Some(unsafe { self.mem.as_mut_ptr().add(page) })
    }
}

/// A code or data descriptor: `access` is the access byte, `flags` the
/// G/DB nibble; `limit` is the 20-bit field.
pub fn seg_desc(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    let mut d = u64::from(limit & 0xFFFF) | (u64::from(base & 0xFF_FFFF) << 16);
    d |= u64::from(access) << 40;
    d |= u64::from((limit >> 16) & 0xF) << 48;
    d |= u64::from(flags & 0xF) << 52;
    d |= u64::from(base >> 24) << 56;
    d
}

/// A gate descriptor: `access` is P/DPL/type, `params` the call gate's count.
pub fn gate_desc(sel: u16, off: u32, access: u8, params: u8) -> u64 {
    u64::from(off & 0xFFFF)
        | (u64::from(sel) << 16)
        | (u64::from(params & 0x1F) << 32)
        | (u64::from(access) << 40)
        | (u64::from(off >> 16) << 48)
}

/// The cache a segment register holds for flat descriptor `sel`.
pub fn flat(sel: u16, access: u16) -> Segment {
    Segment::flat(sel, access as u8)
}

pub struct Pm {
    pub cpu: Cpu,
    pub ram: Ram,
}

impl Pm {
    /// A CPU at ring 0 in 32-bit protected mode running `code` at CODE.
    pub fn new(model: Model, code: &[u8]) -> Pm {
        let mut pm = Pm {
            cpu: Cpu::new(),
            ram: Ram {
                mem: vec![0; 0x40_0000],
                io: Vec::new(),
                direct: false,
                host_pages: 0,
            },
        };
        pm.cpu.set_model(model);
        let g = [
            0,
            seg_desc(0, 0xFFFFF, 0x9B, 0xC),
            seg_desc(0, 0xFFFFF, 0x93, 0xC),
            seg_desc(0, 0xFFFFF, 0xFB, 0xC),
            seg_desc(0, 0xFFFFF, 0xF3, 0xC),
            seg_desc(TSS, 0x68 + 0x81, 0x8B, 0),
            seg_desc(0, 0xFFFFF, 0x91, 0xC),
            seg_desc(0, 0xFFFFF, 0x13, 0xC),
            seg_desc(DATA, 0xFFF, 0x97, 0),
            gate_desc(KCODE, GATE_TARGET, 0xEC, 2),
            seg_desc(0, 0xFFFFF, 0x99, 0xC),
            seg_desc(TSS2, 0x67, 0x89, 0),
            gate_desc(TSS2_SEL, 0, 0x85, 0),
            seg_desc(LDT, 0x17, 0x82, 0),
        ];
        for (i, d) in g.iter().enumerate() {
            pm.w64(GDT + 8 * i as u32, *d);
        }
        for v in 0..256u32 {
            pm.w64(IDT + 8 * v, gate_desc(KCODE, HANDLERS + 16 * v, 0x8E, 0));
            pm.ram.write_u8(HANDLERS + 16 * v, 0xF4);
        }
        // TSS: ring-0 stack, and an I/O bitmap allowing all but port 0x60.
        pm.ram.write_u32(TSS + 4, STACK0);
        pm.ram.write_u32(TSS + 8, u32::from(KDATA));
        pm.ram.write_u16(TSS + 0x66, 0x68);
        pm.ram.write_u8(TSS + 0x68 + 0x60 / 8, 1);
        pm.ram.write_u8(TSS + 0x68 + 0x80, 0xFF);
        for (i, &b) in code.iter().enumerate() {
            pm.ram.write_u8(CODE + i as u32, b);
        }
        let c = &mut pm.cpu;
        c.set_cr0(0x11);
        c.set_gdtr(GDT, 0xFF);
        c.set_idtr(IDT, 0x7FF);
        c.set_segment(SegReg::Cs, flat(KCODE, 0x9B));
        for s in [SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs] {
            c.set_segment(s, flat(KDATA, 0x93));
        }
        c.tr = Segment {
            selector: TSS_SEL,
            base: TSS,
            limit: 0x68 + 0x81,
            access: 0x8B,
        };
        c.set_gpr(Gpr::Esp, STACK0);
        c.set_eip(CODE);
        pm
    }

    pub fn w64(&mut self, addr: u32, v: u64) {
        self.ram.write_u32(addr, v as u32);
        self.ram.write_u32(addr + 4, (v >> 32) as u32);
    }

    /// Drops to ring 3 with flat user segments and the ring-3 stack.
    pub fn enter_ring3(&mut self) {
        let c = &mut self.cpu;
        c.set_segment(SegReg::Cs, flat(UCODE, 0xFB));
        for s in [SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs] {
            c.set_segment(s, flat(UDATA, 0xF3));
        }
        c.set_gpr(Gpr::Esp, STACK3);
    }

    pub fn step(&mut self) -> StepOutcome {
        self.cpu.step(&mut self.ram)
    }

    /// Steps `n` instructions.
    pub fn run(&mut self, n: usize) {
        for _ in 0..n {
            self.step();
        }
    }

    /// The vector whose handler the CPU has just entered.
    pub fn vector(&self) -> Option<u8> {
        let eip = self.cpu.eip();
        let cs = self.cpu.segment(SegReg::Cs).selector;
        (cs == KCODE && (HANDLERS..HANDLERS + 0x1000).contains(&eip) && eip.is_multiple_of(16))
            .then(|| ((eip - HANDLERS) / 16) as u8)
    }

    /// Dword `i` on the stack (0 = top).
    pub fn stack(&mut self, i: u32) -> u32 {
        let ss = self.cpu.segment(SegReg::Ss);
        let esp = self.cpu.gpr(Gpr::Esp);
        self.ram
            .read_u32(ss.base.wrapping_add(esp).wrapping_add(4 * i))
    }

    /// The exception delivered by the next instruction: (vector, error code
    /// on the stack top).
    pub fn fault(&mut self) -> (u8, u32) {
        self.step();
        let v = self.vector().expect("an exception handler was entered");
        (v, self.stack(0))
    }

    /// Identity-maps the first 4 MiB with 4 KiB pages (user, writable),
    /// loads CR3 and sets CR0.PG.
    pub fn enable_paging(&mut self) {
        self.ram.write_u32(PD, PT | 7);
        for i in 0..1024u32 {
            self.ram.write_u32(PT + 4 * i, (i << 12) | 7);
        }
        self.cpu.set_cr3(PD);
        let cr0 = self.cpu.cr0();
        self.cpu.set_cr0(cr0 | 0x8000_0000);
    }

    /// Sets the page-table entry of linear page `lin`.
    pub fn pte(&mut self, lin: u32, v: u32) {
        self.ram.write_u32(PT + 4 * (lin >> 12), v);
    }
    pub fn read_pte(&mut self, lin: u32) -> u32 {
        self.ram.read_u32(PT + 4 * (lin >> 12))
    }
}

/// A `model` CPU at ring 0 about to run `iret` from a frame on the ring-0
/// stack that enters a virtual-8086 task with EFLAGS `flags` (VM added):
/// its code `code` runs at 1000:0100, its stack is 2000:0800, and ES, DS,
/// FS and GS hold 3000, 4000, 5000 and 6000.
pub fn v86_task(model: Model, flags: u32, code: &[u8]) -> Pm {
    let mut pm = Pm::new(model, &[0xcf]);
    let frame = [
        0x0100,
        0x1000,
        flags | 0x0002_0002,
        0x0800,
        0x2000,
        0x3000,
        0x4000,
        0x5000,
        0x6000,
    ];
    let sp = STACK0 - 4 * frame.len() as u32;
    for (i, v) in frame.iter().enumerate() {
        pm.ram.write_u32(sp + 4 * i as u32, *v);
    }
    pm.cpu.set_gpr(Gpr::Esp, sp);
    for (i, &b) in code.iter().enumerate() {
        pm.ram.write_u8(0x10100 + i as u32, b);
    }
    pm
}

/// Error code of an exception raised through IDT gate `v` (IDT bit set).
pub fn idt_code(v: u32, ext: bool) -> u32 {
    v * 8 + 2 + u32::from(ext)
}
