//! Unit tests of the interpreter on a tiny in-memory bus: flags of the
//! carry-chained and shift instructions, division edges, strings with DF,
//! limit faults and exception return addresses, the 386-only forms (66/67
//! prefixes, the 0F map), HLT, external interrupts and single-stepping.

use super::{Bus, Cpu, Gpr, IoSize, SegReg, StepOutcome};

const CODE: u32 = 0x10000; // CS = 0x1000, IP = 0
const HANDLERS: u16 = 0x3000; // vector v's handler at 3000:v*2, a HLT each

struct Ram(Vec<u8>);

impl Bus for Ram {
    fn read_u8(&mut self, addr: u32) -> u8 {
        self.0.get(addr as usize).copied().unwrap_or(0xFF)
    }
    fn write_u8(&mut self, addr: u32, value: u8) {
        if let Some(b) = self.0.get_mut(addr as usize) {
            *b = value;
        }
    }
    fn io_read(&mut self, port: u16, _size: IoSize) -> u32 {
        u32::from(port) ^ 0x5A5A
    }
    fn io_write(&mut self, _port: u16, _size: IoSize, _value: u32) {}
}

fn machine(code: &[u8]) -> (Cpu, Ram) {
    let mut ram = Ram(vec![0; 0x11_0000]);
    for v in 0..256u32 {
        let ip = (v * 2) as u16;
        ram.write_u16(v * 4, ip);
        ram.write_u16(v * 4 + 2, HANDLERS);
        ram.write_u8((u32::from(HANDLERS) << 4) + v * 2, 0xF4);
    }
    for (i, &b) in code.iter().enumerate() {
        ram.write_u8(CODE + i as u32, b);
    }
    let mut cpu = Cpu::new();
    cpu.load_segment_real(SegReg::Cs, 0x1000);
    cpu.set_eip(0);
    for s in [SegReg::Ds, SegReg::Es, SegReg::Ss] {
        cpu.load_segment_real(s, 0x2000);
    }
    cpu.set_gpr(Gpr::Esp, 0x100);
    (cpu, ram)
}

/// Runs one instruction.
fn run1(code: &[u8], setup: impl FnOnce(&mut Cpu, &mut Ram)) -> (Cpu, Ram, StepOutcome) {
    let (mut cpu, mut ram) = machine(code);
    setup(&mut cpu, &mut ram);
    let out = cpu.step(&mut ram);
    (cpu, ram, out)
}

/// The vector whose handler the CPU entered, and the pushed IP.
fn entered(cpu: &Cpu, ram: &mut Ram) -> Option<(u8, u16)> {
    let cs = cpu.segment(SegReg::Cs).selector;
    if cs != HANDLERS {
        return None;
    }
    let sp = cpu.gpr(Gpr::Esp) & 0xFFFF;
    let ip = ram.read_u16(cpu.segment(SegReg::Ss).base + sp);
    Some(((cpu.eip() / 2) as u8, ip))
}

const CF: u32 = 1;
const PF: u32 = 4;
const AF: u32 = 0x10;
const ZF: u32 = 0x40;
const SF: u32 = 0x80;
const OF: u32 = 0x800;

#[test]
fn adc_sbb_flags() {
    let (cpu, ..) = run1(&[0x14, 0x00], |c, _| {
        c.set_gpr(Gpr::Eax, 0xFF);
        c.set_eflags(CF);
    });
    assert_eq!(cpu.gpr(Gpr::Eax), 0);
    assert_eq!(
        cpu.eflags() & (CF | ZF | AF | OF | SF | PF),
        CF | ZF | AF | PF
    );
    let (cpu, ..) = run1(&[0x1C, 0x00], |c, _| c.set_eflags(CF));
    assert_eq!(cpu.gpr(Gpr::Eax), 0xFF);
    assert_eq!(cpu.eflags() & (CF | ZF | AF | OF | SF), CF | AF | SF);
    // 0x7F + 0 + carry overflows into the sign.
    let (cpu, ..) = run1(&[0x14, 0x00], |c, _| {
        c.set_gpr(Gpr::Eax, 0x7F);
        c.set_eflags(CF);
    });
    assert_eq!(cpu.eflags() & (OF | SF | CF), OF | SF);
}

#[test]
fn shifts_and_rotates() {
    // shl ax, cl with cl = 33 behaves as a shift by 1.
    let (cpu, ..) = run1(&[0xD3, 0xE0], |c, _| {
        c.set_gpr(Gpr::Eax, 0xC001);
        c.set_gpr(Gpr::Ecx, 33);
    });
    assert_eq!(cpu.gpr(Gpr::Eax), 0x8002);
    assert_eq!(cpu.eflags() & (CF | OF | SF), CF | SF);
    // rcr al, 1 with CF set.
    let (cpu, ..) = run1(&[0xD0, 0xD8], |c, _| {
        c.set_gpr(Gpr::Eax, 0x01);
        c.set_eflags(CF);
    });
    assert_eq!(cpu.gpr(Gpr::Eax), 0x80);
    assert_eq!(cpu.eflags() & (CF | OF), CF | OF);
    // sar with a zero count leaves the flags alone.
    let (cpu, ..) = run1(&[0xD2, 0xF8], |c, _| {
        c.set_gpr(Gpr::Eax, 0x80);
        c.set_eflags(ZF | CF);
    });
    assert_eq!(cpu.eflags() & (ZF | CF), ZF | CF);
    // shld eax, ebx, 4 (66 0F A4 D8 04).
    let (cpu, ..) = run1(&[0x66, 0x0F, 0xA4, 0xD8, 0x04], |c, _| {
        c.set_gpr(Gpr::Eax, 0x1234_5678);
        c.set_gpr(Gpr::Ebx, 0x9ABC_DEF0);
    });
    assert_eq!(cpu.gpr(Gpr::Eax), 0x2345_6789);
}

#[test]
fn division_edges_and_fault_addresses() {
    // cs: div bx with bx = 0: #DE, pushed IP points at the prefix.
    let (cpu, mut ram, _) = run1(&[0x2E, 0xF7, 0xF3], |_, _| {});
    assert_eq!(entered(&cpu, &mut ram), Some((0, 0)));
    // idiv by 1 giving -128 fits.
    let (cpu, mut ram, _) = run1(&[0xF6, 0xFB], |c, _| {
        c.set_gpr(Gpr::Eax, 0xFF80);
        c.set_gpr(Gpr::Ebx, 1);
    });
    assert_eq!(entered(&cpu, &mut ram), None);
    assert_eq!(cpu.gpr(Gpr::Eax) & 0xFF, 0x80);
    // -32768 / -1 does not fit a byte.
    let (cpu, mut ram, _) = run1(&[0xF6, 0xFB], |c, _| {
        c.set_gpr(Gpr::Eax, 0x8000);
        c.set_gpr(Gpr::Ebx, 0xFF);
    });
    assert_eq!(entered(&cpu, &mut ram), Some((0, 0)));
    // 32-bit idiv of i64::MIN-like values by -1 must not panic.
    let (cpu, mut ram, _) = run1(&[0x66, 0xF7, 0xFB], |c, _| {
        c.set_gpr(Gpr::Edx, 0x8000_0000);
        c.set_gpr(Gpr::Eax, 0);
        c.set_gpr(Gpr::Ebx, u32::MAX);
    });
    assert_eq!(entered(&cpu, &mut ram), Some((0, 0)));
    // AAM 0 is #DE.
    let (cpu, mut ram, _) = run1(&[0xD4, 0x00], |_, _| {});
    assert_eq!(entered(&cpu, &mut ram), Some((0, 0)));
}

#[test]
fn strings_with_df() {
    // std is set through EFLAGS; rep movsb copies 3 bytes downwards.
    let (cpu, mut ram, _) = run1(&[0xF3, 0xA4], |c, r| {
        c.set_eflags(0x400);
        c.set_gpr(Gpr::Ecx, 3);
        c.set_gpr(Gpr::Esi, 0x12);
        c.set_gpr(Gpr::Edi, 0x22);
        for i in 0..3 {
            r.write_u8(0x20010 + i, 0xA0 + i as u8);
        }
    });
    assert_eq!(cpu.gpr(Gpr::Ecx), 0);
    assert_eq!(cpu.gpr(Gpr::Esi), 0x0F);
    assert_eq!(cpu.gpr(Gpr::Edi), 0x1F);
    assert_eq!(ram.read_u8(0x20020), 0xA0);
    assert_eq!(ram.read_u8(0x20022), 0xA2);
    assert_eq!(cpu.eip(), 2);
    // repne scasb stops on the match.
    let (cpu, ..) = run1(&[0xF2, 0xAE], |c, r| {
        c.set_gpr(Gpr::Eax, 0x42);
        c.set_gpr(Gpr::Ecx, 10);
        r.write_u8(0x20003, 0x42);
    });
    assert_eq!(cpu.gpr(Gpr::Ecx), 6);
    assert_eq!(cpu.gpr(Gpr::Edi), 4);
}

#[test]
fn limit_faults_and_shutdown() {
    // mov ax, [0xFFFF]: a word past the limit is #GP at the instruction.
    let (cpu, mut ram, _) = run1(&[0x90, 0x8B, 0x06, 0xFF, 0xFF], |c, _| c.set_eip(1));
    assert_eq!(entered(&cpu, &mut ram), Some((13, 1)));
    // Segment wrap of a byte access is fine: [bx+si] = 0xFFFF + 1 = 0.
    let (cpu, ..) = run1(&[0x8A, 0x00], |c, r| {
        c.set_gpr(Gpr::Ebx, 0xFFFF);
        c.set_gpr(Gpr::Esi, 1);
        r.write_u8(0x20000, 0x77);
    });
    assert_eq!(cpu.gpr(Gpr::Eax) & 0xFF, 0x77);
    // POPA with SP = 0xFFF5: its sixth word (DX) straddles the limit at
    // the top of the stack, while its last wraps to 0x0003: #SS with
    // nothing popped.
    let (cpu, mut ram, _) = run1(&[0x61], |c, _| {
        c.set_gpr(Gpr::Esp, 0xFFF5);
        for (g, v) in [(Gpr::Edi, 0x1111), (Gpr::Esi, 0x2222), (Gpr::Ebp, 0x3333)] {
            c.set_gpr(g, v);
        }
        c.set_gpr(Gpr::Ebx, 0x4444);
    });
    assert_eq!(entered(&cpu, &mut ram), Some((12, 0)));
    let kept = [Gpr::Edi, Gpr::Esi, Gpr::Ebp, Gpr::Ebx].map(|g| cpu.gpr(g));
    assert_eq!(kept, [0x1111, 0x2222, 0x3333, 0x4444]);
    // push with SP = 1: #SS, whose delivery faults again -> #DF -> shutdown.
    let (cpu, _, out) = run1(&[0x50], |c, _| c.set_gpr(Gpr::Esp, 1));
    assert_eq!(out, StepOutcome::Shutdown);
    assert!(cpu.is_shutdown());
    // 16 prefixes: over the 15-byte limit.
    let mut long = vec![0x26; 15];
    long.push(0x90);
    let (cpu, mut ram, _) = run1(&long, |_, _| {});
    assert_eq!(entered(&cpu, &mut ram), Some((13, 0)));
}

#[test]
fn lock_and_undefined() {
    let (cpu, mut ram, _) = run1(&[0xF0, 0x88, 0x07], |_, _| {});
    assert_eq!(entered(&cpu, &mut ram), Some((6, 0)));
    let (cpu, mut ram, _) = run1(&[0xF0, 0x00, 0x07], |_, _| {});
    assert_eq!(entered(&cpu, &mut ram), None);
    let (cpu, mut ram, _) = run1(&[0x0F, 0xFF], |_, _| {});
    assert_eq!(entered(&cpu, &mut ram), Some((6, 0)));
    // lea with a register operand.
    let (cpu, mut ram, _) = run1(&[0x8D, 0xC0], |_, _| {});
    assert_eq!(entered(&cpu, &mut ram), Some((6, 0)));
}

#[test]
fn traps_and_interrupts() {
    // into with OF set: vector 4, return address after the instruction.
    let (cpu, mut ram, _) = run1(&[0xCE], |c, _| c.set_eflags(OF));
    assert_eq!(entered(&cpu, &mut ram), Some((4, 1)));
    // bound: #BR points at the instruction.
    let (cpu, mut ram, _) = run1(&[0x62, 0x07], |c, r| {
        c.set_gpr(Gpr::Eax, 9);
        r.write_u16(0x20000, 1);
        r.write_u16(0x20002, 8);
    });
    assert_eq!(entered(&cpu, &mut ram), Some((5, 0)));
    // Single-step: TF set, a NOP, then #DB after it with BS in DR6.
    let (cpu, mut ram, _) = run1(&[0x90], |c, _| c.set_eflags(0x100));
    assert_eq!(entered(&cpu, &mut ram), Some((1, 1)));
    assert!(cpu.dr[6] & (1 << 14) != 0);
    assert_eq!(cpu.eflags() & 0x300, 0, "TF and IF cleared");
    // HLT, then an external interrupt wakes the CPU.
    let (mut cpu, mut ram, out) = run1(&[0xF4], |_, _| {});
    assert_eq!(out, StepOutcome::Halted);
    assert_eq!(cpu.eip(), 1);
    assert!(cpu.is_halted());
    assert_eq!(cpu.step(&mut ram), StepOutcome::Halted);
    assert_eq!(cpu.interrupt(&mut ram, 0x20), StepOutcome::Executed);
    assert!(!cpu.is_halted());
    assert_eq!(entered(&cpu, &mut ram), Some((0x20, 1)));
}

#[test]
fn forms_of_the_386() {
    // mov ax, [eax+ecx*4] (67 8B 04 88).
    let (cpu, ..) = run1(&[0x67, 0x8B, 0x04, 0x88], |c, r| {
        c.set_gpr(Gpr::Eax, 0x10);
        c.set_gpr(Gpr::Ecx, 2);
        r.write_u16(0x20018, 0xBEEF);
    });
    assert_eq!(cpu.gpr(Gpr::Eax), 0xBEEF);
    // movsx eax, byte [bx] (66 0F BE 07).
    let (cpu, ..) = run1(&[0x66, 0x0F, 0xBE, 0x07], |_, r| r.write_u8(0x20000, 0x80));
    assert_eq!(cpu.gpr(Gpr::Eax), 0xFFFF_FF80);
    // bts word [bx], ax with ax = 17: sets bit 1 of the word at [bx+2].
    let (cpu, ram, _) = run1(&[0x0F, 0xAB, 0x07], |c, _| c.set_gpr(Gpr::Eax, 17));
    let mut ram = ram;
    assert_eq!(ram.read_u16(0x20002), 2);
    assert_eq!(cpu.eflags() & CF, 0);
    // bt with a negative offset reaches below [bx].
    let (cpu, ..) = run1(&[0x0F, 0xA3, 0x07], |c, r| {
        c.set_gpr(Gpr::Ebx, 0x10);
        c.set_gpr(Gpr::Eax, 0xFFFF); // -1: bit 15 of the word at [bx-2]
        r.write_u16(0x2000E, 0x8000);
    });
    assert_eq!(cpu.eflags() & CF, CF);
    // bsf / bsr.
    let (cpu, ..) = run1(&[0x0F, 0xBC, 0xC3], |c, _| c.set_gpr(Gpr::Ebx, 0x0810));
    assert_eq!(cpu.gpr(Gpr::Eax), 4);
    let (cpu, ..) = run1(&[0x0F, 0xBD, 0xC3], |c, _| c.set_gpr(Gpr::Ebx, 0x0810));
    assert_eq!(cpu.gpr(Gpr::Eax), 11);
    // setc al; imul ax, bx; jz rel16.
    let (cpu, ..) = run1(&[0x0F, 0x92, 0xC0], |c, _| c.set_eflags(CF));
    assert_eq!(cpu.gpr(Gpr::Eax), 1);
    let (cpu, ..) = run1(&[0x0F, 0xAF, 0xC3], |c, _| {
        c.set_gpr(Gpr::Eax, 0x100);
        c.set_gpr(Gpr::Ebx, 0x100);
    });
    assert_eq!(cpu.gpr(Gpr::Eax), 0);
    assert_eq!(cpu.eflags() & (CF | OF), CF | OF);
    let (cpu, ..) = run1(&[0x0F, 0x84, 0x00, 0x10], |c, _| c.set_eflags(ZF));
    assert_eq!(cpu.eip(), 0x1004);
    // push fs / pop gs with a 32-bit operand size.
    let (cpu, mut ram, _) = run1(&[0x66, 0x0F, 0xA0], |c, _| {
        c.load_segment_real(SegReg::Fs, 0x1234)
    });
    assert_eq!(cpu.gpr(Gpr::Esp), 0xFC);
    assert_eq!(ram.read_u32(0x200FC), 0x1234);
    // lfs ax, [bx].
    let (cpu, ..) = run1(&[0x0F, 0xB4, 0x07], |_, r| {
        r.write_u16(0x20000, 0x5678);
        r.write_u16(0x20002, 0x9000);
    });
    assert_eq!(cpu.gpr(Gpr::Eax), 0x5678);
    assert_eq!(cpu.segment(SegReg::Fs).base, 0x90000);
    // mov eax, cr0; smsw; lmsw cannot clear PE; clts.
    let (cpu, ..) = run1(&[0x0F, 0x20, 0xC0], |c, _| c.set_cr0(0x6000_0010));
    assert_eq!(cpu.gpr(Gpr::Eax), 0x6000_0010);
    let (cpu, ..) = run1(&[0x0F, 0x01, 0xF0], |c, _| {
        c.set_cr0(0x19);
        c.set_gpr(Gpr::Eax, 0);
    });
    assert_eq!(cpu.cr0(), 0x11);
    let (cpu, ..) = run1(&[0x0F, 0x06], |c, _| c.set_cr0(0x18));
    assert_eq!(cpu.cr0(), 0x10);
    // 66 push imm32; enter 8, 1; leave.
    let (cpu, mut ram, _) = run1(&[0x66, 0x68, 1, 2, 3, 4], |_, _| {});
    assert_eq!(ram.read_u32(0x200FC), 0x0403_0201);
    assert_eq!(cpu.gpr(Gpr::Esp), 0xFC);
    let (mut cpu, mut ram) = machine(&[0xC8, 8, 0, 1, 0xC9]);
    cpu.set_gpr(Gpr::Ebp, 0x50);
    cpu.step(&mut ram);
    assert_eq!(cpu.gpr(Gpr::Ebp), 0xFE);
    assert_eq!(cpu.gpr(Gpr::Esp), 0xFC - 8);
    cpu.step(&mut ram);
    assert_eq!(cpu.gpr(Gpr::Ebp), 0x50);
    assert_eq!(cpu.gpr(Gpr::Esp), 0x100);
}

/// Random bytes and registers never make the host panic (16- and 32-bit code).
#[test]
fn random_bytes_never_panic() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..20_000 {
        let code: Vec<u8> = (0..16).map(|_| next() as u8).collect();
        let (mut cpu, mut ram) = machine(&code);
        for r in Gpr::ALL {
            let v = next() as u32;
            cpu.set_gpr(r, if round % 3 == 0 { v } else { v & 0xFFFF });
        }
        cpu.set_eflags(next() as u32 & !0x100);
        if round % 2 == 0 {
            let mut cs = cpu.segment(SegReg::Cs);
            cs.access |= 1 << 14;
            cs.limit = u32::MAX;
            cpu.set_segment(SegReg::Cs, cs);
        }
        for _ in 0..4 {
            if cpu.step(&mut ram) != StepOutcome::Executed {
                break;
            }
        }
        let _ = cpu.disassemble_current(&mut ram);
    }
}
