//! Targeted JIT-against-interpreter cases from review: TLB evictions inside
//! a block (the code page, a memoised data page), 16-bit IP and SP
//! wrap-around, the AH..BH registers in every translated form, and the
//! jump cache's checks (rewritten code, a remapped page, execute watches).

use moon86::cpu::{BlockRun, Cpu, Gpr, SegReg, Segment, StepOutcome};
use moon86::machine::{CpuModel, Machine, MachineConfig};

fn seg(base: u32, limit: u32, access: u16, selector: u16) -> Segment {
    Segment {
        selector,
        base,
        limit,
        access,
    }
}

const CODE: u32 = 0x10000;

/// Flat 32-bit protected mode at CODE, no IDT (a fault shuts down), the
/// stack at 0xE000.
fn flat32(cpu: &mut Cpu) {
    cpu.set_cr0(cpu.cr0() | 1);
    let c = seg(0, 0xFFFF_FFFF, 0xC09B, 0x08);
    let d = seg(0, 0xFFFF_FFFF, 0xC093, 0x10);
    for s in SegReg::ALL {
        cpu.set_segment(s, d);
    }
    cpu.set_segment(SegReg::Cs, c);
    cpu.set_eip(CODE);
    cpu.set_idtr(0, 0);
    cpu.set_gpr(Gpr::Esp, 0xE000);
}

/// Flat 32-bit PM, paging: PDE0 -> identity PT at 0x81000; PDE1 -> PT at 0x82000 mapping
/// linear 0x400000+ page i to phys 0x30000 + i*0x1000 (first 16 pages).
fn paged(code: &[u8], jit: bool) -> Machine {
    let mut m = Machine::new(&MachineConfig {
        ram_size: 1 << 20,
        ..MachineConfig::default()
    })
    .unwrap();
    m.cpu.set_jit_enabled(jit);
    m.cpu.set_jit_eager(true);
    m.board.mem.write_bytes(CODE as u64, code).unwrap();
    flat32(&mut m.cpu);
    let (pd, pt0, pt1) = (0x80000u32, 0x81000u32, 0x82000u32);
    m.board
        .mem
        .write_bytes(pd as u64, &(pt0 | 7).to_le_bytes())
        .unwrap();
    m.board
        .mem
        .write_bytes(pd as u64 + 4, &(pt1 | 7).to_le_bytes())
        .unwrap();
    for p in 0..256u32 {
        m.board
            .mem
            .write_bytes((pt0 + 4 * p) as u64, &((p << 12) | 7).to_le_bytes())
            .unwrap();
    }
    for p in 0..64u32 {
        m.board
            .mem
            .write_bytes(
                (pt1 + 4 * p) as u64,
                &((0x30000 + (p << 12)) | 7).to_le_bytes(),
            )
            .unwrap();
    }
    m.cpu.set_cr3(pd);
    m.cpu.set_cr0(m.cpu.cr0() | 0x8001_0000);
    m
}

fn regs(m: &Machine) -> String {
    let c = &m.cpu;
    let mut s = String::new();
    for g in Gpr::ALL {
        s += &format!("{}={:08x} ", g.name(), c.gpr(g));
    }
    s += &format!(
        "eip={:08x} fl={:08x} halted={}",
        c.eip(),
        c.eflags(),
        c.is_halted()
    );
    s
}

/// Runs like Machine::run's plain loop, `n` instructions.
fn run_jit(m: &mut Machine, n: u64) -> Vec<BlockRun> {
    let mut left = n;
    let mut log = vec![];
    while left > 0 && !m.cpu.is_halted() {
        let r = m.cpu.run_block(&mut m.board, left);
        log.push(r);
        let (k, step) = match r {
            BlockRun::None => (0, true),
            BlockRun::Ran(k) => (k, false),
            BlockRun::Bailed(k) => (k, true),
        };
        left -= k as u64;
        if step && left > 0 {
            left -= 1;
            if m.cpu.step(&mut m.board) == StepOutcome::Shutdown {
                break;
            }
        }
    }
    log
}
fn run_int(m: &mut Machine, n: u64) {
    for _ in 0..n {
        if m.cpu.is_halted() {
            break;
        }
        if m.cpu.step(&mut m.board) == StepOutcome::Shutdown {
            break;
        }
    }
}

fn diff(code: &[u8], n: u64, setup: impl Fn(&mut Machine)) {
    let mut a = paged(code, true);
    let mut b = paged(code, false);
    setup(&mut a);
    setup(&mut b);
    let log = run_jit(&mut a, n);
    run_int(&mut b, n);
    eprintln!("jit: {}  {:?}\nint: {}", regs(&a), log, regs(&b));
    assert_eq!(regs(&a), regs(&b));
}

#[test]
fn tlb_evicts_code_page() {
    // PTE of code page 0x10 is at 0x81000 + 0x40.
    let mut c = vec![];
    c.extend([0xC7, 0x05]);
    c.extend(0x81040u32.to_le_bytes());
    c.extend(0u32.to_le_bytes()); // mov dword [pte], 0
    c.extend([0xA1]);
    c.extend(0x410000u32.to_le_bytes()); // mov eax, [0x410000]  (TLB slot 0x10)
    c.extend([0x43, 0x41, 0x90, 0xF4]); // inc ebx; inc ecx; nop; hlt
    diff(&c, 6, |_| {});
}

#[test]
fn tlb_evicts_memo_page() {
    let mut c = vec![0x90];
    c.extend([0xA1]);
    c.extend(0x20000u32.to_le_bytes()); // mov eax, [0x20000] (DS read memo)
    c.extend([0xC7, 0x05]);
    c.extend(0x81080u32.to_le_bytes());
    c.extend(0u32.to_le_bytes()); // PTE of 0x20 = 0
    c.extend([0x26, 0x8B, 0x0D]);
    c.extend(0x420000u32.to_le_bytes()); // mov ecx, es:[0x420000] (slot 0x20)
    c.extend([0x8B, 0x15]);
    c.extend(0x20004u32.to_le_bytes()); // mov edx, [0x20004]
    c.extend([0x43, 0xF4]);
    diff(&c, 6, |_| {});
}

fn real(code_at: u32, code: &[u8], cs: u16, ip: u16, jit: bool) -> Machine {
    let mut m = Machine::new(&MachineConfig {
        ram_size: 1 << 20,
        ..MachineConfig::default()
    })
    .unwrap();
    m.cpu.set_jit_enabled(jit);
    m.cpu.set_jit_eager(true);
    m.board.mem.write_bytes(code_at as u64, code).unwrap();
    for v in 0..256u64 {
        m.board
            .mem
            .write_bytes(v * 4, &0x500u16.to_le_bytes())
            .unwrap();
        m.board
            .mem
            .write_bytes(v * 4 + 2, &0u16.to_le_bytes())
            .unwrap();
    }
    m.board.mem.write_bytes(0x500, &[0xF4]).unwrap();
    for s in SegReg::ALL {
        m.cpu.load_segment_real(s, 0);
    }
    m.cpu.load_segment_real(SegReg::Cs, cs);
    m.cpu.set_eip(ip as u32);
    m.cpu.set_gpr(Gpr::Esp, 0x8000);
    m
}

fn diff_real(code_at: u32, code: &[u8], cs: u16, ip: u16, n: u64, setup: impl Fn(&mut Machine)) {
    let mut a = real(code_at, code, cs, ip, true);
    let mut b = real(code_at, code, cs, ip, false);
    setup(&mut a);
    setup(&mut b);
    diff_machines(a, b, n);
}

#[test]
fn ip_wrap_16() {
    // CS=0x1000: IP 0xFFFC.. -> phys 0x1FFFC; then IP 0 -> phys 0x10000.
    let code = [0x40, 0x43, 0x90, 0x41]; // inc ax; inc bx; nop; inc cx  (wraps to 0)
    diff_real(0x1FFFC, &code, 0x1000, 0xFFFC, 8, |m| {
        m.board
            .mem
            .write_bytes(0x10000, &[0x42, 0x42, 0xF4])
            .unwrap();
    });
}

#[test]
fn jmp_wrap_16() {
    // jmp short backwards across 0 from IP 2 -> 0xFFF0
    let code = [0x40, 0xEB, 0xEC];
    diff_real(0x10000, &code, 0x1000, 0, 8, |m| {
        m.board.mem.write_bytes(0x1FFF0, &[0x43, 0xF4]).unwrap();
    });
}

#[test]
fn push_pop_sp_wrap_16() {
    // SP=0: push ax (wraps to 0xFFFE); pop bx; push sp; pop cx; call next; pop dx; ret-ish
    let code = [
        0x50, 0x5B, 0x54, 0x59, 0xE8, 0x00, 0x00, 0x5A, 0x66, 0x50, 0x66, 0x5E, 0xF4,
    ];
    diff_real(0x10000, &code, 0x1000, 0, 20, |m| {
        m.cpu.set_gpr(Gpr::Esp, 0x1234_0000);
        m.cpu.set_gpr(Gpr::Eax, 0xdead_beef);
    });
}

#[test]
fn high_regs() {
    // mov ah,0x80; add ah,ah; adc bh,ah; xchg ah,ch; setc dh; movzx si,bh; neg ch; sar ah,1; imul di,[bx+si],-3; test dh,ah
    let code = [
        0xB4, 0x80, 0x00, 0xE4, 0x10, 0xE7, 0x86, 0xE5, 0x0F, 0x92, 0xC6, 0x0F, 0xB6, 0xF7, 0xF6,
        0xDD, 0xD0, 0xFC, 0x6B, 0x38, 0xFD, 0x84, 0xE6, 0xF4,
    ];
    diff_real(0x10000, &code, 0x1000, 0, 20, |m| {
        m.cpu.set_gpr(Gpr::Ebx, 0x1234_5678);
        m.cpu.set_gpr(Gpr::Ecx, 0x9abc_def0);
    });
}

/// Runs both machines through `Machine::run` (so port writes reach the
/// board) and compares registers and the first 2 MiB.
fn diff_run(mut a: Machine, mut b: Machine, n: u64) {
    a.cpu.set_jit_enabled(true);
    a.cpu.set_jit_eager(true);
    b.cpu.set_jit_enabled(false);
    let ra = a.run(n);
    let rb = b.run(n);
    eprintln!("jit: {} {:?}\nint: {} {:?}", regs(&a), ra, regs(&b), rb);
    assert_eq!(regs(&a), regs(&b));
    assert_eq!(ra, rb);
    let mut ba = vec![0u8; 2 << 20];
    let mut bb = ba.clone();
    a.board.mem.read_bytes(0, &mut ba).unwrap();
    b.board.mem.read_bytes(0, &mut bb).unwrap();
    assert!(ba == bb, "memory differs");
}

#[test]
fn a20_closing_drops_host_pointers() {
    // Real mode, DS=FFFF: [0x10] is 0x100000 with A20 open and 0 with it
    // closed. A loop reads it (the JIT learns the page), port 0x92 and the
    // keyboard controller close the gate, a second loop reads it again.
    let code = [
        0xE4, 0x92, 0x0C, 0x02, 0xE6, 0x92, // in al,92h; or al,2; out 92h,al
        0xB8, 0xFF, 0xFF, 0x8E, 0xD8, // mov ax,0FFFFh; mov ds,ax
        0xB9, 0x64, 0x00, // mov cx,100
        0x03, 0x1E, 0x10, 0x00, 0x49, 0x75, 0xF9, // add bx,[10h]; dec cx; jnz
        0xE4, 0x92, 0x24, 0xFD, 0xE6, 0x92, // in al,92h; and al,0FDh; out 92h,al
        0xB0, 0xD1, 0xE6, 0x64, 0xB0, 0xDD, 0xE6, 0x60, // 8042: output port, A20 off
        0xB9, 0x64, 0x00, // mov cx,100
        0x03, 0x16, 0x10, 0x00, 0x49, 0x75, 0xF9, // add dx,[10h]; dec cx; jnz
        0xF4,
    ];
    let make = || {
        let mut m = Machine::new(&MachineConfig {
            ram_size: 2 << 20,
            ..MachineConfig::default()
        })
        .unwrap();
        m.board.mem.write_bytes(0x10000, &code).unwrap();
        m.board.mem.write_bytes(0x100000, &[0x11, 0x11]).unwrap();
        m.board.mem.write_bytes(0, &[0x22, 0x22]).unwrap();
        for s in SegReg::ALL {
            m.cpu.load_segment_real(s, 0);
        }
        m.cpu.load_segment_real(SegReg::Cs, 0x1000);
        m.cpu.set_eip(0);
        m.cpu.set_gpr(Gpr::Esp, 0x8000);
        m
    };
    let (a, b) = (make(), make());
    diff_run(a, b, 1000);
    let mut m = make();
    m.run(1000);
    assert_eq!(
        m.cpu.gpr(Gpr::Edx) as u16,
        0x0303u16.wrapping_add(0x2222u16.wrapping_mul(100))
    );
}

#[test]
fn code_on_a_written_page_drops_host_pointers() {
    // Two writes to page 0x20000 (the second through the JIT, which learns
    // the page for writing), a call there (its translation marks the page
    // as code), a write changing that code, and a second call, which must
    // run the new code. The push and pop first put the stack page in the
    // TLB, so that no instruction from the second write to the third is
    // left to the interpreter (whose steps would hide a stale pointer).
    let mut c = vec![0x50, 0x58];
    for _ in 0..2 {
        c.extend([0xC7, 0x05]);
        c.extend(0x20000u32.to_le_bytes());
        c.extend(0x0000_C340u32.to_le_bytes()); // mov dword [0x20000], (inc eax; ret)
    }
    let call = |c: &mut Vec<u8>| {
        let next = CODE + c.len() as u32 + 5;
        c.push(0xE8);
        c.extend(0x20000u32.wrapping_sub(next).to_le_bytes());
    };
    call(&mut c);
    c.extend([0xC6, 0x05]);
    c.extend(0x20000u32.to_le_bytes());
    c.push(0x43); // mov byte [0x20000], 0x43 (inc ebx)
    call(&mut c);
    c.push(0xF4);
    diff(&c, 40, |_| {});
    let mut m = paged(&c, true);
    run_jit(&mut m, 40);
    assert_eq!((m.cpu.gpr(Gpr::Eax), m.cpu.gpr(Gpr::Ebx)), (1, 1));
}

#[test]
fn privilege_change_drops_host_pointers() {
    // Page 0x20000 made supervisor-only, page 0x21000 left to users.
    // Supervisor code reads both twice (the JIT learns them), then the
    // same code runs at CPL 3: the read of the user page lets generated
    // code check the segment inline, and the read of the supervisor page
    // must then fault as it does in the interpreter.
    let mut c = vec![];
    for _ in 0..2 {
        c.push(0xA1);
        c.extend(0x21000u32.to_le_bytes()); // mov eax, [0x21000]
        c.push(0xA1);
        c.extend(0x20000u32.to_le_bytes()); // mov eax, [0x20000]
    }
    c.extend([0x43, 0xEB, 0xFE]); // inc ebx; jmp $
    let setup = |m: &mut Machine| {
        // PTE of page 0x20 at 0x81000 + 0x80: present, writable, supervisor.
        m.board
            .mem
            .write_bytes(0x81080, &(0x20000u32 | 3).to_le_bytes())
            .unwrap();
        m.board.mem.write_bytes(0x20000, &[0x5A; 4]).unwrap();
    };
    let mut a = paged(&c, true);
    let mut b = paged(&c, false);
    setup(&mut a);
    setup(&mut b);
    let log = run_jit(&mut a, 12);
    run_int(&mut b, 12);
    eprintln!("at CPL 0: {log:?}");
    for m in [&mut a, &mut b] {
        let mut cs = m.cpu.segment(SegReg::Cs);
        cs.selector |= 3;
        m.cpu.set_segment(SegReg::Cs, cs);
        m.cpu.set_eip(CODE);
        m.cpu.set_gpr(Gpr::Eax, 0);
    }
    let log = run_jit(&mut a, 10);
    run_int(&mut b, 10);
    eprintln!("jit: {}  {:?}\nint: {}", regs(&a), log, regs(&b));
    assert_eq!(regs(&a), regs(&b));
    assert_ne!(
        a.cpu.gpr(Gpr::Eax),
        0x5A5A_5A5A,
        "the user-mode read must not succeed"
    );
}

#[test]
fn a_one_block_loop_keeps_the_flags_its_exits_and_next_round_see() {
    // Loops of one block whose flags the JIT keeps out of EFLAGS round the
    // loop, or captures once for two instructions (an ADD's CF with the
    // next DEC's flags), stopped after every budget: the registers and
    // EFLAGS are the interpreter's.
    let loops: [&[u8]; 3] = [
        // mov edx, 6 / top: mov ecx, eax / add eax, ebx / dec edx / jnz top
        // / adc ecx, 0 / hlt (ADD's CF survives DEC to the ADC)
        &[
            0xBA, 6, 0, 0, 0, 0x89, 0xC1, 0x01, 0xD8, 0x4A, 0x75, 0xF9, 0x83, 0xD1, 0x00, 0xF4,
        ],
        // mov edx, 6 / top: inc eax / adc ecx, ebx / sub ebx, 0x40000000 /
        // dec edx / jnz top / hlt (CF is live at the loop's start: INC
        // keeps it, ADC reads it)
        &[
            0xBA, 6, 0, 0, 0, 0x40, 0x11, 0xD9, 0x81, 0xEB, 0, 0, 0, 0x40, 0x4A, 0x75, 0xF4, 0xF4,
        ],
        // mov edx, 6 / top: xor eax, ebx / not ebx / test eax, 3 / neg ecx
        // / dec edx / jnz top / setc al / hlt
        &[
            0xBA, 6, 0, 0, 0, 0x31, 0xD8, 0xF7, 0xD3, 0xA9, 3, 0, 0, 0, 0xF7, 0xD9, 0x4A, 0x75,
            0xF2, 0x0F, 0x92, 0xC0, 0xF4,
        ],
    ];
    for code in loops {
        for n in 1..40 {
            diff(code, n, |m| {
                m.cpu.set_gpr(Gpr::Eax, 0x9000_0001);
                m.cpu.set_gpr(Gpr::Ebx, 0xB000_0003);
                m.cpu.set_gpr(Gpr::Ecx, 7);
                // Translate first (and link), then run `n` from the start.
                if m.cpu.jit_enabled() {
                    run_jit(m, 100);
                    m.cpu.set_halted(false);
                    m.cpu.set_eip(CODE);
                    m.cpu.set_eflags(0x2);
                    m.cpu.set_gpr(Gpr::Eax, 0x9000_0001);
                    m.cpu.set_gpr(Gpr::Ebx, 0xB000_0003);
                    m.cpu.set_gpr(Gpr::Ecx, 7);
                }
            });
        }
    }
}

#[test]
fn flags_left_as_a_recipe_are_the_interpreters_wherever_they_are_seen() {
    // Blocks whose flags only their exits see leave them as a recipe
    // (`jit/lazy_flags.rs`); the next block's first instruction reads
    // them, a fault reads them, or the run stops with them pending:
    //   mov edx, 6
    //   top: cmp eax, ebx / jb skip          (a Jcc on the host's flags)
    //   add eax, 0x30000000                  (runs into skip)
    //   skip: adc ecx, 0                     (reads CF first thing)
    //   sub ebx, 0x11111111 / jmp next
    //   next: setc bh                        (reads CF first thing)
    //   xor esi, ebx / dec edx / jnz top     (DEC with XOR's CF)
    //   sub ebx, 1 / mov eax, [0x7FFFF000]   (a page fault: no IDT)
    let code: &[u8] = &[
        0xBA, 6, 0, 0, 0, // mov edx, 6
        0x39, 0xD8, // top: cmp eax, ebx
        0x72, 0x05, // jb skip
        0x05, 0, 0, 0, 0x30, // add eax, 0x30000000
        0x83, 0xD1, 0x00, // skip: adc ecx, 0
        0x81, 0xEB, 0x11, 0x11, 0x11, 0x11, // sub ebx, 0x11111111
        0xEB, 0x00, // jmp next
        0x0F, 0x92, 0xC7, // next: setc bh
        0x31, 0xDE, // xor esi, ebx
        0x4A, // dec edx
        0x75, 0xE4, // jnz top
        0x83, 0xEB, 0x01, // sub ebx, 1
        0xA1, 0x00, 0xF0, 0xFF, 0x7F, // mov eax, [0x7FFFF000]
        0xF4, // hlt
    ];
    // And flags left in the host's flags register: ADC/SBB chains taking
    // CF from the instruction before, a Jcc after a MOV and a LEA:
    //   mov edx, 5
    //   top: add eax, ebx / adc ecx, esi / adc edi, 7
    //   sub ebx, eax / sbb esi, 3
    //   cmp eax, ecx / mov ebp, eax / mov ebp, [esp]
    //   lea esi, [esi+ebx*2+1] / jb skip
    //   inc edi / nop
    //   skip: dec edx / jnz top / hlt
    let host: &[u8] = &[
        0xBA, 5, 0, 0, 0, // mov edx, 5
        0x01, 0xD8, // top: add eax, ebx
        0x11, 0xF1, // adc ecx, esi
        0x83, 0xD7, 0x07, // adc edi, 7
        0x29, 0xC3, // sub ebx, eax
        0x83, 0xDE, 0x03, // sbb esi, 3
        0x39, 0xC8, // cmp eax, ecx
        0x89, 0xC5, // mov ebp, eax
        0x8B, 0x2C, 0x24, // mov ebp, [esp] (its access changes the host's flags)
        0x8D, 0x74, 0x5E, 0x01, // lea esi, [esi+ebx*2+1]
        0x72, 0x02, // jb skip
        0x47, // inc edi
        0x90, // nop
        0x4A, // skip: dec edx
        0x75, 0xE2, // jnz top
        0xF4, // hlt
    ];
    // An INC/DEC at a block's start takes CF from the recipe a block
    // before it left, not from EFLAGS (which STC or an earlier round set):
    //   stc / mov edx, 3 / top: add eax, ebx / jmp next
    //   next: dec edx / jnz top / hlt
    let chained: &[u8] = &[
        0xF9, // stc
        0xBA, 3, 0, 0, 0, // mov edx, 3
        0x01, 0xD8, // top: add eax, ebx (CF 1, 0, 1 from the first state)
        0xEB, 0x00, // jmp next
        0x4A, // next: dec edx
        0x75, 0xF9, // jnz top
        0xF4, // hlt
    ];
    // An ADC takes CF from the recipe of an ADD a store separates it
    // from:
    //   mov edx, 4 / top: add eax, ebx / mov [esp-4], eax / adc ecx, esi
    //   dec edx / jnz top / hlt
    let stored: &[u8] = &[
        0xBA, 4, 0, 0, 0, // mov edx, 4
        0x01, 0xD8, // top: add eax, ebx
        0x89, 0x44, 0x24, 0xFC, // mov [esp-4], eax
        0x11, 0xF1, // adc ecx, esi
        0x4A, // dec edx
        0x75, 0xF5, // jnz top
        0xF4, // hlt
    ];
    // Shifts, multiplies and INC of memory leave recipes too, read first
    // thing by the next block; an INC of memory whose write faults (the
    // page is read-only) leaves the recipe before it:
    //   mov ebp, 3 / top: shl eax, 3 / jmp n1 / n1: setc bl
    //   imul ecx, eax, 7 / jmp n2 / n2: sbb esi, 0 / mul ebx / jmp n3
    //   n3: seto bh / inc dword [esp-4] / jmp n4 / n4: adc edi, 1
    //   dec ebp / jnz top / mov edx, [0x40F000] / sar ecx, 2
    //   inc dword [0x40F000] / jmp next
    //   next: hlt
    let more: &[u8] = &[
        0xBD, 3, 0, 0, 0, // mov ebp, 3
        0xC1, 0xE0, 0x03, // top: shl eax, 3
        0xEB, 0x00, // jmp n1
        0x0F, 0x92, 0xC3, // n1: setc bl
        0x6B, 0xC8, 0x07, // imul ecx, eax, 7
        0xEB, 0x00, // jmp n2
        0x83, 0xDE, 0x00, // n2: sbb esi, 0
        0xF7, 0xE3, // mul ebx
        0xEB, 0x00, // jmp n3
        0x0F, 0x90, 0xC7, // n3: seto bh
        0xFF, 0x44, 0x24, 0xFC, // inc dword [esp-4]
        0xEB, 0x00, // jmp n4
        0x83, 0xD7, 0x01, // n4: adc edi, 1
        0x4D, // dec ebp
        0x75, 0xDD, // jnz top
        0x8B, 0x15, 0x00, 0xF0, 0x40, 0x00, // mov edx, [0x40F000] (fills the TLB)
        0xC1, 0xF9, 0x02, // sar ecx, 2
        0xFF, 0x05, 0x00, 0xF0, 0x40, 0x00, // inc dword [0x40F000] (read-only)
        0xEB, 0x00, // jmp next
        0xF4, // next: hlt
    ];
    // An INC or DEC whose flags are captured (a Jcc follows its write)
    // takes CF out of the recipe before it, from this block or the one
    // before, without settling it; when its write faults (a read-only
    // page), the recipe before it stays whole:
    //   mov edx, 3 / top: add eax, ebx / mov [esp-8], eax
    //   dec dword [esp-4] / jnz n1 / n1: adc ecx, 0 / add esi, edi
    //   jmp n2 / n2: inc dword [esp-4] / js n3 / n3: setc bh
    //   dec edx / jnz top / mov edi, [0x40F000] / add eax, ebx
    //   dec dword [0x40F000] / jz next / next: hlt
    let kept_cf: &[u8] = &[
        0xBA, 3, 0, 0, 0, // mov edx, 3
        0x01, 0xD8, // top: add eax, ebx
        0x89, 0x44, 0x24, 0xF8, // mov [esp-8], eax
        0xFF, 0x4C, 0x24, 0xFC, // dec dword [esp-4]
        0x75, 0x00, // jnz n1
        0x83, 0xD1, 0x00, // n1: adc ecx, 0
        0x01, 0xFE, // add esi, edi
        0xEB, 0x00, // jmp n2
        0xFF, 0x44, 0x24, 0xFC, // n2: inc dword [esp-4]
        0x78, 0x00, // js n3
        0x0F, 0x92, 0xC7, // n3: setc bh
        0x4A, // dec edx
        0x75, 0xE1, // jnz top
        0x8B, 0x3D, 0x00, 0xF0, 0x40, 0x00, // mov edi, [0x40F000] (fills the TLB)
        0x01, 0xD8, // add eax, ebx
        0xFF, 0x0D, 0x00, 0xF0, 0x40, 0x00, // dec dword [0x40F000] (read-only)
        0x74, 0x00, // jz next
        0xF4, // next: hlt
    ];
    // The same at a block's start with no recipe pending (STC settled
    // it): CF is EFLAGS's, not the stale one of the recipe before:
    //   add eax, ebx / jmp n1 / n1: stc / jmp n2
    //   n2: dec dword [esp-4] / jnz n3 / n3: setc bh / hlt
    let no_recipe: &[u8] = &[
        0x01, 0xD8, // add eax, ebx
        0xEB, 0x00, // jmp n1
        0xF9, // n1: stc
        0xEB, 0x00, // jmp n2
        0xFF, 0x4C, 0x24, 0xFC, // n2: dec dword [esp-4]
        0x75, 0x00, // jnz n3
        0x0F, 0x92, 0xC7, // n3: setc bh
        0xF4, // hlt
    ];
    // The recipes a settle stub redoes on the host (32-bit ADD, SUB,
    // CMP, AND, TEST), each read first thing by the next block (PUSHFD
    // sees every status flag, AF included):
    //   mov edx, 2 / top: add eax, ebx / jmp n1
    //   n1: pushfd / pop esi / sub eax, ebx / jmp n2
    //   n2: pushfd / pop edi / cmp eax, ebx / jmp n3
    //   n3: pushfd / pop ebp / and eax, ebx / jmp n4
    //   n4: pushfd / pop ecx / test eax, ebx / jmp n5
    //   n5: seta cl / dec edx / jnz top / hlt
    let on_host: &[u8] = &[
        0xBA, 2, 0, 0, 0, // mov edx, 2
        0x01, 0xD8, 0xEB, 0x00, // top: add eax, ebx / jmp n1
        0x9C, 0x5E, 0x29, 0xD8, 0xEB, 0x00, // n1: pushfd / pop esi / sub eax, ebx / jmp n2
        0x9C, 0x5F, 0x39, 0xD8, 0xEB, 0x00, // n2: pushfd / pop edi / cmp eax, ebx / jmp n3
        0x9C, 0x5D, 0x21, 0xD8, 0xEB, 0x00, // n3: pushfd / pop ebp / and eax, ebx / jmp n4
        0x9C, 0x59, 0x85, 0xD8, 0xEB, 0x00, // n4: pushfd / pop ecx / test eax, ebx / jmp n5
        0x0F, 0x97, 0xC1, // n5: seta cl
        0x4A, // dec edx
        0x75, 0xDE, // jnz top
        0xF4, // hlt
    ];
    // ADC and SBB leave recipes too, with the CF they took: from the
    // recipe before (a store between), from EFLAGS, at each width; and
    // one pending when a write faults (the page is read-only). Each is
    // read first thing by the next block (SETZ settles it, by the settle
    // stub's own code for 32-bit ones; then PUSHFD, which the
    // interpreter runs, sees every status flag):
    //   mov edx, 2 / top: cmp eax, ebx / mov [esp-4], eax / adc ecx, esi
    //   jmp n1 / n1: setz ah / pushfd / pop edi / sbb ecx, 7 / jmp n2
    //   n2: setz ah / pushfd / pop ebp / adc cl, bl / jmp n3
    //   n3: setz ah / pushfd / pop esi / adc ax, bx / jmp n4
    //   n4: setc bh / dec edx / jnz top / mov edi, [0x40F000]
    //   adc ecx, esi / mov [0x40F000], ecx / hlt
    let carries: &[u8] = &[
        0xBA, 2, 0, 0, 0, // mov edx, 2
        0x39, 0xD8, // top: cmp eax, ebx (CF 1 each time from the first state)
        0x89, 0x44, 0x24, 0xFC, // mov [esp-4], eax
        0x11, 0xF1, // adc ecx, esi
        0xEB, 0x00, // jmp n1
        0x0F, 0x94, 0xC4, // n1: setz ah
        0x9C, 0x5F, // pushfd / pop edi
        0x83, 0xD9, 0x07, // sbb ecx, 7
        0xEB, 0x00, // jmp n2
        0x0F, 0x94, 0xC4, // n2: setz ah
        0x9C, 0x5D, // pushfd / pop ebp
        0x10, 0xD9, // adc cl, bl
        0xEB, 0x00, // jmp n3
        0x0F, 0x94, 0xC4, // n3: setz ah
        0x9C, 0x5E, // pushfd / pop esi
        0x66, 0x11, 0xD8, // adc ax, bx
        0xEB, 0x00, // jmp n4
        0x0F, 0x92, 0xC7, // n4: setc bh
        0x4A, // dec edx
        0x75, 0xD3, // jnz top
        0x8B, 0x3D, 0x00, 0xF0, 0x40, 0x00, // mov edi, [0x40F000] (fills the TLB)
        0x11, 0xF1, // adc ecx, esi
        0x89, 0x0D, 0x00, 0xF0, 0x40, 0x00, // mov [0x40F000], ecx (read-only)
        0xF4, // hlt
    ];
    for code in [
        code, host, chained, stored, more, kept_cf, no_recipe, on_host, carries,
    ] {
        flags_match_after_every_budget(code);
    }
}

#[test]
fn setcc_and_cmovcc_take_the_recipe_for_every_condition() {
    // As the Jcc case below, for SETcc (right after the operation, and
    // after a store) and CMOVcc (after a store, from memory), each
    // outcome summed into EDI:
    //   op al/ax/eax, bl/bx/ebx / setcc dl / add edi, edx / rol edi, 1
    //   op / mov [esp-4], ecx / setcc dl / add edi, edx / rol edi, 1
    //   op / mov [esp-4], ecx / cmovcc esi, [esp-4] / add edi, esi
    //   rol edi, 1 / inc ecx
    let snippets: [&[u8]; 3] = [
        &[0x0F, 0x90, 0xC2, 0x01, 0xD7, 0xD1, 0xC7],
        &[
            0x89, 0x4C, 0x24, 0xFC, 0x0F, 0x90, 0xC2, 0x01, 0xD7, 0xD1, 0xC7,
        ],
        &[
            0x89, 0x4C, 0x24, 0xFC, 0x0F, 0x40, 0x74, 0x24, 0xFC, 0x01, 0xF7, 0xD1, 0xC7, 0x41,
        ],
    ];
    for (k, snippet) in snippets.into_iter().enumerate() {
        // (Where the condition code goes in the snippet.)
        let at = if k == 0 { 1 } else { 5 };
        let mut code = Vec::new();
        for (prefix, op) in every_redone_operation() {
            for cc in 0..16u8 {
                code.extend(prefix);
                code.extend([op, 0xD8]);
                let mut s = snippet.to_vec();
                s[at] += cc;
                code.extend(s);
            }
        }
        code.push(0xF4);
        for (eax, ebx) in REDONE_STATES {
            diff(&code, 10_000, |m| {
                m.cpu.set_gpr(Gpr::Eax, eax);
                m.cpu.set_gpr(Gpr::Ebx, ebx);
                m.cpu.set_gpr(Gpr::Ecx, 0x5555_AAAA);
            });
        }
    }
}

/// The operations whose recipe a Jcc, SETcc or CMOVcc redoes (ADD, SUB,
/// CMP, AND, TEST of EAX by EBX), at each width: (prefix, opcode).
fn every_redone_operation() -> Vec<(&'static [u8], u8)> {
    let mut ops = Vec::new();
    for (prefix, base) in [(&[][..], 1u8), (&[0x66][..], 1), (&[][..], 0)] {
        for row in [0x00u8, 0x28, 0x38, 0x20, 0x84] {
            ops.push((prefix, row + base));
        }
    }
    ops
}

/// EAX and EBX that make each condition go both ways after those
/// operations: equal, unsigned and signed order, overflow, zero and sign
/// results, at each width.
const REDONE_STATES: [(u32, u32); 11] = [
    (5, 5),
    (3, 7),
    (7, 3),
    (0x7FFF_FFFF, 0xFFFF_FFFF),
    (0x8000_0000, 1),
    (0x8000_0000, 0x8000_0000),
    (0xFFFF_FFFF, 1),
    (0x1234_5678, 0xF0F0_F0F0),
    (0x0000_7F05, 0x0000_FF05),
    (0x0000_8080, 0x0000_0101),
    (0x0000_00FF, 0x0000_0001),
];

#[test]
fn a_jcc_after_a_store_branches_on_the_recipe_for_every_condition() {
    // For each operation whose recipe a Jcc redoes on the host (ADD,
    // SUB, CMP, AND, TEST), at each width, and each of the 16
    // conditions: the operation, a store between it and the Jcc (whose
    // inline check changes the host's flags), then the Jcc over an INC,
    // and EDI rotated so each branch's outcome keeps its place:
    //   op al/ax/eax, bl/bx/ebx / mov [esp-4], ecx / jcc +1 / inc edi
    //   rol edi, 1
    // From states that make each condition go both ways (equal,
    // unsigned and signed order, overflow, zero and sign results, at
    // each width).
    let mut code = Vec::new();
    for (prefix, op) in every_redone_operation() {
        for cc in 0..16u8 {
            code.extend(prefix);
            code.extend([
                op,
                0xD8,
                0x89,
                0x4C,
                0x24,
                0xFC,
                0x70 + cc,
                0x01,
                0x47,
                0xD1,
                0xC7,
            ]);
        }
    }
    code.push(0xF4);
    for (eax, ebx) in REDONE_STATES {
        diff(&code, 10_000, |m| {
            m.cpu.set_gpr(Gpr::Eax, eax);
            m.cpu.set_gpr(Gpr::Ebx, ebx);
            m.cpu.set_gpr(Gpr::Ecx, 0x5555_AAAA);
        });
    }
}

/// Runs `code` (at CODE, flat and paged) for every budget up to 80 from
/// two starting states, translated and linked first; the registers and
/// EFLAGS must be the interpreter's.
fn flags_match_after_every_budget(code: &[u8]) {
    for n in 1..80 {
        for (eax, ebx) in [(0x9000_0001u32, 0xB000_0003u32), (0x1000_0000, 0x0800_0000)] {
            diff(code, n, |m| {
                let start = |m: &mut Machine| {
                    m.cpu.set_eip(CODE);
                    m.cpu.set_halted(false);
                    for (g, v) in [(Gpr::Eax, eax), (Gpr::Ebx, ebx)] {
                        m.cpu.set_gpr(g, v);
                    }
                    for g in [Gpr::Ecx, Gpr::Edx, Gpr::Esi, Gpr::Edi, Gpr::Ebp] {
                        m.cpu.set_gpr(g, 0);
                    }
                    m.cpu.set_eflags(0x8D7);
                    // (The word below the stack, which one case increments,
                    // and a read-only page at 0x40F000.)
                    m.board.mem.write_bytes(0xDFFC, &[0xFF, 0, 0, 0]).unwrap();
                    let pte = (0x30000u32 + (15 << 12)) | 5;
                    m.board
                        .mem
                        .write_bytes(0x82000 + 4 * 15, &pte.to_le_bytes())
                        .unwrap();
                };
                // Translate first (and link; short of the fault), then
                // run `n` from the start.
                if m.cpu.jit_enabled() {
                    start(m);
                    run_jit(m, 40);
                }
                start(m);
            });
        }
    }
}

#[test]
fn shifts_by_cl_match_the_interpreter_for_every_kind_of_count() {
    // shl eax, cl / ror ebx, cl / sar edx, cl / shr esi, cl / add edi, 1
    // / hlt: the shifts' flags are dead (the host's shift runs them); then
    // the same with SETC after the SHR, whose flags are then seen.
    let quiet: &[u8] = &[
        0xD3, 0xE0, 0xD3, 0xCB, 0xD3, 0xFA, 0xD3, 0xEE, 0x83, 0xC7, 0x01, 0xF4,
    ];
    let seen: &[u8] = &[
        0xD3, 0xE0, 0xD3, 0xCB, 0xD3, 0xFA, 0xD3, 0xEE, 0x0F, 0x92, 0xC7, 0xF4,
    ];
    for code in [quiet, seen] {
        for count in [0u32, 1, 5, 31, 32, 33, 255, 0x1234_5621] {
            diff(code, 6, |m| {
                m.cpu.set_gpr(Gpr::Ecx, count);
                m.cpu.set_gpr(Gpr::Eax, 0x8765_4321);
                m.cpu.set_gpr(Gpr::Ebx, 0x8000_0001);
                m.cpu.set_gpr(Gpr::Edx, 0x8000_0000);
                m.cpu.set_gpr(Gpr::Esi, 0xF0F0_1234);
                m.cpu.set_eflags(0x8D7);
            });
        }
    }
}

#[test]
fn shifts_and_rotates_by_cl_leave_the_interpreters_flags_where_they_are_seen() {
    // SHL, SHR, SAR, ROL and ROR of EAX by CL, then PUSHFD / POP EBX: the
    // flags (OF and AF included, which the JIT fixes up after the host's
    // instruction) go where the registers are compared, for counts of 0
    // (nothing changes), 1 (SHR's OF), more, and past 31 (masked). The
    // JIT's machine runs the code once first, so that all of it is
    // translated when the compared run starts.
    for ext in [4u8, 5, 7, 0, 1] {
        let code = [0xD3, 0xC0 | ext << 3, 0x9C, 0x5B, 0xF4];
        for count in [0u32, 1, 2, 30, 31, 32, 33, 255] {
            for eax in [0x8765_4321u32, 0x4000_0000, 0xC000_0001, 1] {
                diff(&code, 4, |m| {
                    let start = |m: &mut Machine| {
                        m.cpu.set_eip(CODE);
                        m.cpu.set_halted(false);
                        m.cpu.set_gpr(Gpr::Esp, 0xE000);
                        m.cpu.set_gpr(Gpr::Ecx, count);
                        m.cpu.set_gpr(Gpr::Eax, eax);
                        m.cpu.set_eflags(0x8D7);
                    };
                    if m.cpu.jit_enabled() {
                        start(m);
                        run_jit(m, 4);
                    }
                    start(m);
                });
            }
        }
    }
}

#[test]
fn divisions_match_the_interpreter_and_leave_the_flags_before_them() {
    // CMP ESI, EDI (flags something sees only after the division), then
    // DIV or IDIV of EDX:EAX by ECX (then four NOPs) or by the dword at
    // 0x9000, then PUSHFD / POP EBX / HLT, run whole as one block. Ordinary quotients, negative ones, and each
    // way to #DE (a zero divisor; a quotient too large, unsigned and
    // signed, including -2^63 / -1 of the 64-bit dividend), which the
    // interpreter raises (no IDT: shutdown) with nothing changed.
    for div in [
        [0xF7u8, 0xF1, 0x90, 0x90, 0x90, 0x90],
        [0xF7, 0xF9, 0x90, 0x90, 0x90, 0x90],
    ]
    .into_iter()
    .chain([
        [0xF7, 0x35, 0x00, 0x90, 0x00, 0x00],
        [0xF7, 0x3D, 0x00, 0x90, 0x00, 0x00],
    ]) {
        let mut code = vec![0x39, 0xFE];
        code.extend(div);
        code.extend([0x9C, 0x5B, 0xF4]);
        for (edx, eax, by) in [
            (0u32, 100u32, 7u32),
            (5, 0x1234, 7),
            (7, 0, 7),
            (0, 5, 0),
            (0xFFFF_FFFF, 0xFFFF_FF9C, 7),
            (0x8000_0000, 0, 0xFFFF_FFFF),
            (0xFFFF_FFFF, 0x8000_0000, 0xFFFF_FFFF),
            (0, 0x7FFF_FFFF, 0xFFFF_FFFF),
            (0xFFFF_FFFF, 0x8000_0000, 1),
            (0x1234_5678, 0x9ABC_DEF0, 0x7FFF_FFFF),
            (0x3FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000),
        ] {
            diff(&code, 12, |m| {
                let start = |m: &mut Machine| {
                    m.cpu.set_eip(CODE);
                    m.cpu.set_halted(false);
                    m.cpu.set_gpr(Gpr::Esp, 0xE000);
                    for (g, v) in [(Gpr::Edx, edx), (Gpr::Eax, eax), (Gpr::Ecx, by)] {
                        m.cpu.set_gpr(g, v);
                    }
                    m.cpu.set_gpr(Gpr::Esi, 3);
                    m.cpu.set_gpr(Gpr::Edi, 5);
                    m.cpu.set_eflags(0x002);
                    m.board.mem.write_bytes(0x9000, &by.to_le_bytes()).unwrap();
                };
                if m.cpu.jit_enabled() {
                    start(m);
                    run_jit(m, 12);
                }
                start(m);
            });
        }
    }
}

#[test]
fn chained_blocks_keep_the_budget() {
    // Three blocks on one page chained in a loop: for every budget the
    // JIT stops on exactly the instruction the interpreter reaches.
    let code = [
        0x41, 0xEB, 0x00, // inc ecx; jmp $+2 (a block of 2)
        0x43, 0x43, 0xEB, 0x00, // inc ebx; inc ebx; jmp $+2 (3)
        0x48, 0x75, 0xF6, // dec eax; jnz -10 (2)
        0xF4,
    ];
    for n in 1..60 {
        let mut a = paged(&code, true);
        let mut b = paged(&code, false);
        for m in [&mut a, &mut b] {
            m.cpu.set_gpr(Gpr::Eax, 8);
        }
        // Warm up (translate and link), then run `n` from the start again.
        run_jit(&mut a, 100);
        a.cpu.set_halted(false);
        a.cpu.set_eflags(b.cpu.eflags());
        a.cpu.set_eip(CODE);
        a.cpu.set_gpr(Gpr::Eax, 8);
        for g in [Gpr::Ebx, Gpr::Ecx] {
            a.cpu.set_gpr(g, 0);
        }
        let (a0, b0) = (a.cpu.tsc(), b.cpu.tsc());
        let log = run_jit(&mut a, n);
        run_int(&mut b, n);
        assert_eq!(regs(&a), regs(&b), "budget {n}: {log:?}");
        assert_eq!(a.cpu.tsc() - a0, b.cpu.tsc() - b0, "budget {n}");
        assert_eq!(b.cpu.tsc() - b0, n.min(57), "budget {n}");
    }
    let mut a = paged(&code, true);
    a.cpu.set_gpr(Gpr::Eax, 8);
    run_jit(&mut a, 100);
    assert!(a.cpu.jit_stats().chained > 0, "{:?}", a.cpu.jit_stats());
}

#[test]
fn a_chained_block_past_cs_limit_is_not_entered() {
    // CS limit 0x10011 (byte granular): the block at 0x1000C (dec ecx / jz
    // 0x10020) needs an offset past it, so it never runs translated, and
    // the jump into it is never chained, even once its cell is linked; its
    // JZ raises #GP (no IDT: shutdown) when finally taken, on the third
    // round.
    let code: &[u8] = &[
        0xB9, 3, 0, 0, 0, // mov ecx, 3
        0xEB, 0x05, // jmp 0x1000C
        0x90, 0x90, 0x90, 0x90, 0x90, // (never run)
        0x49, // 0x1000C: dec ecx
        0x74, 0x11, // jz 0x10020
        0xEB, 0xF4, // jmp 0x10005
    ];
    for n in 1..30 {
        diff(code, n, |m| {
            m.cpu.set_segment(SegReg::Cs, seg(0, 0x10011, 0x409B, 0x08));
        });
    }
}

#[test]
fn chained_block_rewritten_is_not_entered() {
    // A loop whose second block is rewritten between runs (from outside,
    // as a loader or DMA would): the link must not lead to the old code.
    let code = [
        0x41, 0xEB, 0x00, // inc ecx; jmp $+2
        0x43, 0x90, // inc ebx; nop   (rewritten to inc edx; nop)
        0x48, 0x75, 0xF8, // dec eax; jnz -8
        0xF4,
    ];
    let mut a = paged(&code, true);
    let mut b = paged(&code, false);
    for m in [&mut a, &mut b] {
        m.cpu.set_gpr(Gpr::Eax, 4);
    }
    run_jit(&mut a, 200);
    run_int(&mut b, 200);
    for m in [&mut a, &mut b] {
        m.board.mem.write_bytes(CODE as u64 + 3, &[0x42]).unwrap();
        m.cpu.forget_jit_host_state();
        m.cpu.set_halted(false);
        m.cpu.set_eip(CODE);
        m.cpu.set_gpr(Gpr::Eax, 4);
    }
    run_jit(&mut a, 200);
    run_int(&mut b, 200);
    assert_eq!(regs(&a), regs(&b));
    assert_eq!(a.cpu.gpr(Gpr::Edx), 0x0000_0303 + 4);
}

/// A little assembler for the jump-cache cases: bytes placed at absolute
/// addresses, with rel32 CALLs and rel8 JNZs computed from them.
struct Asm {
    at: u32,
    out: Vec<u8>,
}

impl Asm {
    fn new(at: u32) -> Asm {
        Asm { at, out: vec![] }
    }
    fn here(&self) -> u32 {
        self.at + self.out.len() as u32
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Asm {
        self.out.extend(b);
        self
    }
    fn call(&mut self, target: u32) -> &mut Asm {
        let rel = target.wrapping_sub(self.here() + 5);
        self.bytes(&[0xE8]).bytes(&rel.to_le_bytes())
    }
    /// `mov ecx, 5` then `call target; dec ecx; jnz` back to the call.
    fn call_five_times(&mut self, target: u32) -> &mut Asm {
        self.bytes(&[0xB9, 5, 0, 0, 0]);
        let top = self.here();
        self.call(target).bytes(&[0x49]);
        let rel = top.wrapping_sub(self.here() + 2) as u8;
        self.bytes(&[0x75, rel])
    }
}

/// Runs `a` with the JIT and `b` without for `n` instructions and compares
/// registers and RAM; returns the JIT machine's counters.
fn diff_machines(mut a: Machine, mut b: Machine, n: u64) -> moon86::cpu::JitStats {
    run_both(&mut a, &mut b, n)
}

/// [`diff_machines`], leaving the machines to the caller.
fn run_both(a: &mut Machine, b: &mut Machine, n: u64) -> moon86::cpu::JitStats {
    let log = run_jit(a, n);
    run_int(b, n);
    eprintln!("jit: {}  {:?}\nint: {}", regs(a), log, regs(b));
    assert_eq!(regs(a), regs(b));
    let mut ba = vec![0u8; 1 << 20];
    let mut bb = ba.clone();
    a.board.mem.read_bytes(0, &mut ba).unwrap();
    b.board.mem.read_bytes(0, &mut bb).unwrap();
    assert!(ba == bb, "memory differs");
    a.cpu.jit_stats()
}

#[test]
fn jump_cache_sees_rewritten_code_on_another_page() {
    // Calls to a function on the next page (and its returns) go through
    // the jump cache; then the function's first byte is rewritten (INC EAX
    // becomes INC EBX) and the calls must run the new code.
    let f = CODE + 0x1000;
    let code = calls_around_a_rewrite(f, |a| {
        a.call_five_times(f);
    });
    let jumped = diff_machines(inc_eax_at(&code, f, true), inc_eax_at(&code, f, false), 80).jumped;
    assert!(jumped > 0, "the jump cache was not used");
}

/// Code that calls the function at `f` five times (`calls`), rewrites
/// the function's first byte to INC EBX, calls it five times again and
/// halts.
fn calls_around_a_rewrite(f: u32, calls: impl Fn(&mut Asm)) -> Vec<u8> {
    let mut a = Asm::new(CODE);
    calls(&mut a);
    a.bytes(&[0xC6, 0x05])
        .bytes(&f.to_le_bytes())
        .bytes(&[0x43]); // mov byte [f], 0x43
    calls(&mut a);
    a.bytes(&[0xF4]);
    a.out
}

/// `paged(code, jit)` with the function INC EAX / RET at `f`.
fn inc_eax_at(code: &[u8], f: u32, jit: bool) -> Machine {
    let mut m = paged(code, jit);
    m.board
        .mem
        .write_bytes(u64::from(f), &[0x40, 0xC3])
        .unwrap();
    m
}

#[test]
fn jump_cache_sees_a_remapped_page() {
    // The called function is at linear 0x401000 (PTE at 0x82004), first
    // on the frame at 0x31000 (INC EAX), then, after the PTE changes and
    // INVLPG, on the frame at 0x32000 (INC EBX).
    let f = 0x40_1000u32;
    let mut a = Asm::new(CODE);
    a.call_five_times(f);
    a.bytes(&[0xC7, 0x05])
        .bytes(&0x82004u32.to_le_bytes())
        .bytes(&0x32007u32.to_le_bytes());
    a.bytes(&[0x0F, 0x01, 0x3D]).bytes(&f.to_le_bytes()); // invlpg [f]
    a.call_five_times(f).bytes(&[0xF4]);
    let make = |jit| {
        let mut m = paged(&a.out, jit);
        m.board.mem.write_bytes(0x31000, &[0x40, 0xC3]).unwrap();
        m.board.mem.write_bytes(0x32000, &[0x43, 0xC3]).unwrap();
        m
    };
    let jumped = diff_machines(make(true), make(false), 80).jumped;
    assert!(jumped > 0, "the jump cache was not used");
}

#[test]
fn exec_watch_on_another_page_is_seen_through_returns_and_calls() {
    use moon86::machine::{RunExit, WatchSet};
    // The same loop of calls to the next page; an execute watch on the
    // function stops the run before its first instruction each time,
    // with the JIT on (setting the watch drops the blocks, and no block
    // starts at a watched instruction, so neither the jump cache nor a
    // chain enters one).
    let f = CODE + 0x1000;
    let mut a = Asm::new(CODE);
    a.call_five_times(f).bytes(&[0xF4]);
    let mut m = paged(&a.out, true);
    m.board
        .mem
        .write_bytes(u64::from(f), &[0x40, 0xC3])
        .unwrap();
    m.run(4); // mov, call, inc, ret
    m.set_watches(&WatchSet {
        exec_linear: vec![(u64::from(f), u64::from(f) + 1)],
        ..WatchSet::default()
    });
    let mut stops = 0;
    for _ in 0..10 {
        let (exit, _) = m.run(1000);
        match exit {
            RunExit::Events => {
                stops += 1;
                assert_eq!(m.cpu.eip(), f, "stopped before the watched instruction");
                m.take_events();
            }
            _ => break,
        }
    }
    assert_eq!(stops, 4, "the four remaining calls each stop at the watch");
    assert_eq!(m.cpu.gpr(Gpr::Eax), 5);
}

/// A loop at linear 0x400000 (physical 0x30000): INC EAX, BTS [0x20000]
/// (a handler call that writes memory), ADD [0x20100], EAX (an inline
/// write), INC EBX, DEC ECX, JNZ, 40 times, then HLT; and the offset of
/// its INC EBX.
fn watched_loop() -> (Vec<u8>, u32) {
    let mut code = vec![0xB9, 40, 0, 0, 0]; // mov ecx, 40
    code.extend([0x40]); // top: inc eax
    code.extend([0x0F, 0xAB, 0x05, 0x00, 0x00, 0x02, 0x00]); // bts [0x20000], eax
    code.extend([0x01, 0x05, 0x00, 0x01, 0x02, 0x00]); // add [0x20100], eax
    let inc_ebx = code.len() as u32;
    code.extend([0x43, 0x49, 0x75]); // inc ebx / dec ecx / jnz top
    code.push((5i32 - code.len() as i32 - 1) as u8);
    code.push(0xF4);
    (code, inc_ebx)
}

/// Runs `watched_loop` at linear 0x400000 with the JIT on or off: 30
/// instructions unwatched (the JIT translates the loop), then to the HLT
/// under `watches`, resuming after every event. Returns the events, the
/// registers and the instructions the JIT ran while watched.
fn run_watched(jit: bool, watches: &moon86::machine::WatchSet) -> (Vec<String>, String, u64) {
    use moon86::machine::RunExit;
    let (code, _) = watched_loop();
    let mut m = paged(&[0xE9, 0xFB, 0xFF, 0x3E, 0x00], jit); // jmp 0x400000
    m.board.mem.write_bytes(0x30000, &code).unwrap();
    m.run(30);
    let before = m.cpu.jit_stats().instructions;
    m.set_watches(watches);
    let mut events = vec![];
    for _ in 0..1000 {
        let (exit, _) = m.run(100_000);
        events.extend(m.take_events().iter().map(|e| format!("{e:?}")));
        if exit != RunExit::Events {
            break;
        }
    }
    assert!(m.cpu.is_halted(), "the loop ran to its HLT");
    (events, regs(&m), m.cpu.jit_stats().instructions - before)
}

/// The events of `run_watched` with the JIT on, after checking them and
/// the registers against the interpreter's, and that at least `jitted`
/// instructions ran as translated code while watched.
fn watched_like_the_interpreter(watches: &moon86::machine::WatchSet, jitted: u64) -> Vec<String> {
    let (events, regs, ran) = run_watched(true, watches);
    let (want, want_regs, _) = run_watched(false, watches);
    assert_eq!(events, want, "the JIT's events are the interpreter's");
    assert_eq!(regs, want_regs);
    assert!(ran >= jitted, "only {ran} instructions ran translated");
    events
}

#[test]
fn an_exec_watch_inside_a_translated_loop_stops_there_and_the_rest_stays_translated() {
    use moon86::machine::WatchSet;
    let (_, inc_ebx) = watched_loop();
    let (lin, phys) = (
        u64::from(0x40_0000 + inc_ebx),
        u64::from(0x3_0000 + inc_ebx),
    );
    for watches in [
        WatchSet {
            exec_linear: vec![(lin, lin + 1)],
            ..WatchSet::default()
        },
        WatchSet {
            exec_physical: vec![(phys, phys + 1)],
            ..WatchSet::default()
        },
    ] {
        // The first 30 instructions made 5 iterations of 6 (and INC EAX
        // of a sixth); the other 35 each stop at INC EBX, and the rest of
        // each iteration (less the handler call) runs translated.
        let events = watched_like_the_interpreter(&watches, 35 * 3);
        assert_eq!(events.len(), 35, "{events:?}");
    }
}

#[test]
fn memory_watches_see_translated_and_handler_accesses_as_the_interpreter_does() {
    use moon86::machine::{MemRange, WatchSet};
    // A write watch on BTS's first dword (a handler call) and a read
    // watch on ADD's (inline code): they report at the same instructions
    // and counts as without the JIT: ADD's read in each of the 35
    // watched iterations, BTS's write while its bit (EAX = 6, 7, ...)
    // is in that dword (26 times).
    let watches = WatchSet {
        mem_write: vec![MemRange::all(0x20000, 0x20004)],
        mem_read: vec![MemRange::all(0x20100, 0x20104)],
        ..WatchSet::default()
    };
    let events = watched_like_the_interpreter(&watches, 35 * 3);
    let count = |kind: &str| events.iter().filter(|e| e.contains(kind)).count();
    assert_eq!((count("Read"), count("Write")), (35, 26), "{events:?}");
}

#[test]
fn a_filtered_watch_reports_only_the_accesses_its_filter_accepts() {
    use moon86::machine::{AccessFilter, MemRange, WatchSet};
    // ADD's dword is written 35 times while watched. A filter on the low
    // bit of what it holds after the write keeps the odd sums: the same
    // events, in the same order, as the unfiltered watch's odd ones, with
    // the JIT as without it; a size no access has reports nothing. A
    // write the filter refuses stays in generated code (it goes through
    // the write helper rather than to the interpreter), and so does a
    // refused read: with all refused,
    // ADD runs translated in each of the 35 iterations, as INC, INC, DEC
    // and JNZ do (only BTS, a handler call, goes to the interpreter while
    // memory is watched).
    let range = MemRange::all(0x20100, 0x20104);
    let watch = |only: AccessFilter| WatchSet {
        mem_write: vec![MemRange { only, ..range }],
        ..WatchSet::default()
    };
    let all = watched_like_the_interpreter(&watch(AccessFilter::ANY), 35 * 3);
    let new_value = |e: &String| -> u32 {
        let tail = &e[e.find("new: ").expect("a write event") + 5..];
        tail[..tail.find(|c: char| !c.is_ascii_digit()).unwrap()]
            .parse()
            .unwrap()
    };
    let odd: Vec<String> = all
        .iter()
        .filter(|e| new_value(e) & 1 == 1)
        .cloned()
        .collect();
    assert!(!odd.is_empty() && odd.len() < all.len(), "{all:?}");
    let only_odd = AccessFilter {
        size: Some(4),
        mask: 1,
        value: Some(1),
    };
    assert_eq!(watched_like_the_interpreter(&watch(only_odd), 35 * 3), odd);
    let bytes = AccessFilter {
        size: Some(1),
        ..AccessFilter::ANY
    };
    assert!(watched_like_the_interpreter(&watch(bytes), 35 * 5).is_empty());
    let reads = WatchSet {
        mem_read: vec![MemRange {
            only: bytes,
            ..range
        }],
        ..WatchSet::default()
    };
    assert!(watched_like_the_interpreter(&reads, 35 * 5).is_empty());
}

#[test]
fn a_watch_of_one_kind_leaves_the_other_kind_its_direct_path() {
    use moon86::cpu::Bus;
    use moon86::machine::{MemRange, WatchSet};
    // A write watch on ADD's dword (read, then written, by inline code):
    // its 35 writes are reported as without the JIT, its reads are not
    // watched, and reads of its page keep generated code's direct path
    // to RAM, as writes of a page with only a read watch do.
    let watches = WatchSet {
        mem_write: vec![MemRange::all(0x20100, 0x20104)],
        ..WatchSet::default()
    };
    let events = watched_like_the_interpreter(&watches, 35 * 3);
    let count = |kind: &str| events.iter().filter(|e| e.contains(kind)).count();
    assert_eq!((count("Read"), count("Write")), (0, 35), "{events:?}");
    let mut m = paged(&[0xF4], true);
    m.set_watches(&WatchSet {
        mem_write: vec![MemRange::all(0x20100, 0x20104)],
        mem_read: vec![MemRange::all(0x21100, 0x21104)],
        ..WatchSet::default()
    });
    let b = &mut m.board;
    assert!(b.host_page(0x20000, false).is_some() && b.host_page(0x20000, true).is_none());
    assert!(b.host_page(0x21000, true).is_some() && b.host_page(0x21000, false).is_none());
    assert!(b.watched(0x200FE, 4, true) && !b.watched(0x200FE, 4, false));
    assert!(b.watched(0x21100, 1, false) && !b.watched(0x21100, 1, true));
}

#[test]
fn a_port_watch_leaves_the_loop_translated() {
    use moon86::machine::{PortRange, WatchSet};
    let watches = WatchSet {
        io: vec![PortRange::all(0x2E8, 0x2E8)],
        ..WatchSet::default()
    };
    assert!(watched_like_the_interpreter(&watches, 35 * 5).is_empty());
}

/// Found by `tests/jit_diff.rs` (`MOON86_JIT_DIFF_SCALE=10`) against the
/// JIT at c5121a9 (lazy flags and flag liveness), in Flat32, Stack16,
/// Paged32 and V86 programs alike: a store that changes the running
/// block's page ends the block right after the storing instruction (the
/// self-modifying-code exit), but when the next instruction in the block
/// writes every arithmetic flag, the storing instruction's own flags were
/// treated as dead and never written, so the block returns with the flags
/// of an earlier instruction. Here `add [0x2002], al` (AL=0xFE plus the
/// byte 0x02 of its own displacement: 0, CF ZF PF AF set) is followed by
/// `add al, 1`; the JIT returns `Ran(1)` with EFLAGS still 0x002, the
/// interpreter has 0x057. Fixed: an instruction that writes memory may
/// leave the block right after itself, so its flags count as seen
/// (`liveness.rs`).
#[test]
fn self_modifying_store_keeps_its_flags_when_the_next_instruction_overwrites_them() {
    // 0:2000 add [0x2002], al / add al, 1 / hlt
    let code = [0x00, 0x06, 0x02, 0x20, 0x04, 0x01, 0xF4];
    let mut a = real(0x2000, &code, 0, 0x2000, true);
    let mut b = real(0x2000, &code, 0, 0x2000, false);
    for m in [&mut a, &mut b] {
        m.cpu.set_gpr(Gpr::Eax, 0xFE);
        m.cpu.set_eflags(0x002);
    }
    let ran = a.cpu.run_block(&mut a.board, 16);
    eprintln!("the JIT: {ran:?}, EFLAGS {:#x}", a.cpu.eflags());
    assert_eq!(b.cpu.step(&mut b.board), StepOutcome::Executed);
    assert_eq!(b.cpu.eflags() & 0x8D5, 0x055, "the interpreter's flags");
    let n = match ran {
        BlockRun::Ran(n) | BlockRun::Bailed(n) => n,
        BlockRun::None => 0,
    };
    // Wherever the block stopped, the interpreter catches up to it.
    for _ in 1..n {
        b.cpu.step(&mut b.board);
    }
    assert_eq!(regs(&a), regs(&b), "after {ran:?}");
}

#[test]
fn a_mov_that_rewrites_the_rest_of_its_block_leaves_it() {
    // Three MOVs to memory (a byte immediate, a dword from a register,
    // a word immediate) each rewrite an instruction later in the same
    // block; the block must leave after each (`Emitter::store_last`: the
    // helper's path checks, since only the helper writes code pages), so
    // the new instructions run:
    //   mov byte [p1+1], 5 / p1: mov eax, 1
    //   mov [p2+1], ecx / p2: mov ebx, 2
    //   mov word [p3+1], 0x0707 / p3: mov edx, 3 / hlt
    let mut code = Vec::new();
    let at = |code: &Vec<u8>, extra: usize| CODE + (code.len() + extra) as u32;
    let p1 = at(&code, 7) + 1;
    code.extend([0xC6, 0x05]);
    code.extend(p1.to_le_bytes());
    code.push(5);
    code.extend([0xB8, 1, 0, 0, 0]);
    let p2 = at(&code, 6) + 1;
    code.extend([0x89, 0x0D]);
    code.extend(p2.to_le_bytes());
    code.extend([0xBB, 2, 0, 0, 0]);
    let p3 = at(&code, 9) + 1;
    code.extend([0x66, 0xC7, 0x05]);
    code.extend(p3.to_le_bytes());
    code.extend([0x07, 0x07]);
    code.extend([0xBA, 3, 0, 0, 0]);
    code.push(0xF4);
    diff(&code, 20, |m| m.cpu.set_gpr(Gpr::Ecx, 0x1234_5678));
    let mut m = paged(&code, true);
    m.cpu.set_gpr(Gpr::Ecx, 0x1234_5678);
    run_jit(&mut m, 20);
    assert_eq!(
        (
            m.cpu.gpr(Gpr::Eax),
            m.cpu.gpr(Gpr::Ebx),
            m.cpu.gpr(Gpr::Edx)
        ),
        (5, 0x1234_5678, 0x0707)
    );
}

/// A pentium-m machine in flat 32-bit PM under PAE paging, running `code`
/// at CODE: the PDPT at 0x80000, its first directory at 0x81000, whose
/// first entry leads to the table at 0x82000, identity-mapping the first
/// MiB with 4 KiB user, writable pages.
fn pae_paged(code: &[u8], jit: bool) -> Machine {
    let mut m = Machine::new(&MachineConfig {
        ram_size: 1 << 20,
        cpu_model: CpuModel::PentiumM,
        ..MachineConfig::default()
    })
    .unwrap();
    m.cpu.set_jit_enabled(jit);
    m.cpu.set_jit_eager(true);
    m.board.mem.write_bytes(CODE as u64, code).unwrap();
    let (pdpt, pd, pt) = (0x80000u64, 0x81000u64, 0x82000u64);
    let entry =
        |m: &mut Machine, at: u64, v: u64| m.board.mem.write_bytes(at, &v.to_le_bytes()).unwrap();
    entry(&mut m, pdpt, pd | 1);
    entry(&mut m, pd, pt | 7);
    for p in 0..256u64 {
        entry(&mut m, pt + 8 * p, p << 12 | 7);
    }
    flat32(&mut m.cpu);
    let cpu = &mut m.cpu;
    cpu.set_cr3(pdpt as u32);
    cpu.set_cr4(0x20);
    cpu.set_cr0(cpu.cr0() | 0x8000_0000);
    m.cpu.load_pdptes(&mut m.board).unwrap();
    m
}

/// Code the JIT translated and reached through its jump cache stops
/// running once its page is made execute-disable: EFER.NXE on, a function
/// on page 0x11000 called 50 times (an indirect call: the jump cache), then
/// XD set in its PTE, INVLPG, and a data read that refills the TLB slot
/// with the same tag, frame and privilege but no execute permission; the
/// next call must fault on the fetch (#PF with I/D, CR2 = 0x11000; no IDT,
/// so it ends in a shutdown), exactly as the interpreter does.
#[test]
fn an_execute_disabled_page_stops_jitted_code_reached_through_the_jump_cache() {
    let mut c = vec![];
    c.extend([0xB9, 0x80, 0x00, 0x00, 0xC0]); // mov ecx, 0xC0000080 (EFER)
    c.extend([0xB8, 0x00, 0x08, 0x00, 0x00]); // mov eax, 0x800 (NXE)
    c.extend([0x31, 0xD2, 0x0F, 0x30]); // xor edx, edx; wrmsr
    c.extend([0xBB, 0x00, 0x10, 0x01, 0x00]); // mov ebx, 0x11000
    c.extend([0xBE, 50, 0, 0, 0]); // mov esi, 50
    c.extend([0xFF, 0xD3, 0x4E, 0x75, 0xFB]); // loop: call ebx; dec esi; jnz loop
    c.extend([0xC7, 0x05]);
    c.extend(0x8208Cu32.to_le_bytes());
    c.extend(0x8000_0000u32.to_le_bytes()); // mov dword [PTE(0x11000) + 4], XD
    c.extend([0x0F, 0x01, 0x3B]); // invlpg [ebx]
    c.extend([0x8B, 0x03]); // mov eax, [ebx]
    c.extend([0xFF, 0xD3, 0xF4]); // call ebx; hlt
    let setup = |m: &mut Machine| m.board.mem.write_bytes(0x11000, &[0x47, 0xC3]).unwrap(); // inc edi; ret
    let mut a = pae_paged(&c, true);
    let mut b = pae_paged(&c, false);
    setup(&mut a);
    setup(&mut b);
    let log = run_jit(&mut a, 400);
    run_int(&mut b, 400);
    eprintln!("jit: {}  {:?}\nint: {}", regs(&a), log, regs(&b));
    assert_eq!(regs(&a), regs(&b));
    for m in [&a, &b] {
        assert_eq!(m.cpu.gpr(Gpr::Edi), 50, "the function ran 50 times, not 51");
        assert_eq!(m.cpu.cr2(), 0x11000);
        assert!(m.cpu.is_halted(), "shut down by the unhandled #PF");
    }
    assert!(a.cpu.jit_stats().blocks_compiled > 0);
}

/// A block is translated the second time it starts, not the first (code
/// that runs once stays in the interpreter), and the guest sees the same
/// either way.
#[test]
fn a_block_is_translated_when_it_starts_again() {
    let code = [
        0xB9, 0x05, 0x00, 0x00, 0x00, // mov ecx,5
        0xB8, 0x00, 0x00, 0x00, 0x00, // mov eax,0
        0x01, 0xC8, // l: add eax,ecx
        0x49, // dec ecx
        0x75, 0xFB, // jnz l
        0xF4, // hlt
    ];
    let mut int = paged(&code, false);
    run_int(&mut int, 100);
    for (eager, compiled) in [(false, 1), (true, 2)] {
        let mut m = paged(&code, true);
        m.cpu.set_jit_eager(eager);
        let log = run_jit(&mut m, 100);
        assert_eq!(regs(&m), regs(&int), "eager {eager}: {log:?}");
        assert_eq!(m.cpu.gpr(Gpr::Eax), 15);
        let st = m.cpu.jit_stats();
        // Lazily: the loop body only (the straight code before it ran once,
        // and so did the first pass through the loop).
        assert_eq!(st.blocks_compiled, compiled, "eager {eager}: {st:?}");
        assert!(st.instructions > 0, "{st:?}");
    }
}

/// The loop of `an_instruction_across_the_page_end_*`: its first
/// instruction, a MOV, has 3 bytes on the first page and 4 on the next.
fn crossing_loop() -> Vec<u8> {
    let l = 0x1000 - 3;
    let mut code = vec![0x90u8; l + 16];
    code[..5].copy_from_slice(&[0xB9, 50, 0, 0, 0]); // mov ecx,50
    let rel = (l as i32 - 10).to_le_bytes(); // jmp l (from offset 10)
    code[5..10].copy_from_slice(&[0xE9, rel[0], rel[1], rel[2], rel[3]]);
    code[l..l + 13].copy_from_slice(&[
        0x8B, 0x04, 0x8D, 0x00, 0x00, 0x02, 0x00, // l: mov eax,[ecx*4+0x20000]
        0x01, 0xC2, // add edx,eax
        0x49, // dec ecx
        0x75, 0xF4, // jnz l
        0xF4, // hlt
    ]);
    code
}

fn fill_table(m: &mut Machine) {
    for i in 0..64u32 {
        m.board
            .mem
            .write_bytes(0x20000 + 4 * u64::from(i), &(i * 7 + 1).to_le_bytes())
            .unwrap();
    }
}

/// A loop whose first instruction runs into the next page: blocks run it
/// through its handler after checking its bytes there, and the guest sees
/// what the interpreter alone computes.
#[test]
fn an_instruction_across_the_page_end_starts_a_loop() {
    let code = crossing_loop();
    diff(&code, 400, fill_table);
    let mut m = paged(&code, true);
    fill_table(&mut m);
    let edx = m.cpu.gpr(Gpr::Edx); // (the reset signature)
    run_jit(&mut m, 400);
    assert!(m.cpu.is_halted());
    let sum: u32 = (1..=50u32).map(|i| i * 7 + 1).sum();
    assert_eq!(m.cpu.gpr(Gpr::Edx), edx + sum);
    let st = m.cpu.jit_stats();
    assert!(st.instructions > 0 && st.handler_insns > 0, "{st:?}");
}

/// The crossing instruction's bytes on the next page change while its
/// block stays valid (they are not under the block's page stamp): the
/// block sees it and leaves the new instruction to the interpreter.
#[test]
fn an_instruction_across_the_page_end_is_rechecked_on_the_next_page() {
    let code = crossing_loop();
    let (mut a, mut b) = (paged(&code, true), paged(&code, false));
    let tail = 0x11000u64 + 1; // the displacement's second byte
    for m in [&mut a, &mut b] {
        fill_table(m);
    }
    let log = run_jit(&mut a, 60);
    run_int(&mut b, 60);
    assert_eq!(regs(&a), regs(&b));
    assert!(a.cpu.jit_stats().handler_insns > 0, "{log:?}");
    for m in [&mut a, &mut b] {
        m.board.mem.write_bytes(tail, &[0x01]).unwrap(); // disp 0x20000 -> 0x20100
    }
    run_jit(&mut a, 400);
    run_int(&mut b, 400);
    assert!(b.cpu.is_halted());
    assert_eq!(regs(&a), regs(&b));
}

/// The cell an indirect exit's target EIP takes in its set (`chain.rs`).
fn set_cell(eip: u32) -> u32 {
    (eip ^ eip >> 4) & 7
}

/// A dispatch loop on one page: `jmp [table + (ecx & 3) * 4]` to four
/// targets (the first two taking the same cell of the jump's set when
/// `collide`), the last calling a function on the page (a return to the
/// page), each going back to `dec ecx / jnz`, 40 rounds, then HLT.
fn dispatch_loop(collide: bool) -> Vec<u8> {
    let table = CODE + 0x800;
    let f = CODE + 0x700;
    let mut a = Asm::new(CODE);
    a.bytes(&[0xBE]).bytes(&table.to_le_bytes()); // mov esi, table
    a.bytes(&[0xB9, 40, 0, 0, 0]); // mov ecx, 40
    let top = a.here();
    a.bytes(&[0x89, 0xC8, 0x83, 0xE0, 0x03]); // mov eax, ecx / and eax, 3
    a.bytes(&[0xFF, 0x24, 0x86]); // jmp [esi + eax*4]
    let back = CODE + 0x600;
    let mut targets = vec![];
    for k in 0..4 {
        // Pad until the second target's cell is (or is not) the first's.
        while k == 1 && (set_cell(a.here()) == set_cell(targets[0])) != collide {
            a.bytes(&[0x90]);
        }
        targets.push(a.here());
        match k {
            0 => a.bytes(&[0x43]),             // inc ebx
            1 => a.bytes(&[0x83, 0xC3, 0x02]), // add ebx, 2
            2 => a.bytes(&[0xD1, 0xE3]),       // shl ebx, 1
            _ => a.call(f),
        };
        let rel = back.wrapping_sub(a.here() + 5);
        a.bytes(&[0xE9]).bytes(&rel.to_le_bytes()); // jmp back
    }
    let mut code = a.out;
    let put = |code: &mut Vec<u8>, at: u32, bytes: &[u8]| {
        let at = (at - CODE) as usize;
        if code.len() < at + bytes.len() {
            code.resize(at + bytes.len(), 0x90);
        }
        code[at..at + bytes.len()].copy_from_slice(bytes);
    };
    // back: dec ecx / jnz top / hlt
    let rel = top.wrapping_sub(back + 7);
    put(&mut code, back, &[0x49, 0x0F, 0x85]);
    put(&mut code, back + 3, &rel.to_le_bytes());
    put(&mut code, back + 7, &[0xF4]);
    put(&mut code, f, &[0x42, 0xC3]); // f: inc edx / ret
    for (k, t) in targets.iter().enumerate() {
        put(&mut code, table + 4 * k as u32, &t.to_le_bytes());
    }
    code
}

#[test]
fn returns_and_indirect_jumps_on_their_own_page_chain_through_their_cells() {
    // Every budget, the JIT as the interpreter; two targets sharing a
    // cell (the second goes on through the jump cache) included.
    for collide in [false, true] {
        let code = dispatch_loop(collide);
        for n in (1..200).step_by(7).chain([400]) {
            diff_machines(paged(&code, true), paged(&code, false), n);
        }
    }
    // With no two targets sharing a cell, every return and indirect jump
    // goes straight on through its cell, never through the jump cache.
    let code = dispatch_loop(false);
    let jumped = diff_machines(paged(&code, true), paged(&code, false), 400).jumped;
    assert_eq!(jumped, 0, "a same-page target went through the jump cache");
    let jumped = diff_machines(
        paged(&dispatch_loop(true), true),
        paged(&dispatch_loop(true), false),
        400,
    )
    .jumped;
    assert!(
        jumped > 0,
        "the target whose cell was held did not go on through the jump cache"
    );
}

#[test]
fn an_indirect_call_to_rewritten_code_on_the_next_page_runs_the_new_code() {
    // `call edx` to a function on the next page, whose first byte is then
    // rewritten (INC EAX becomes INC EBX): the target is off the caller's
    // page, so no cell of the caller's set may lead to the old code (the
    // page check sends it to the jump cache; were a cell claimed for it,
    // the caller's page stamp in its names would keep it unlinked).
    let f = CODE + 0x1000;
    let code = calls_around_a_rewrite(f, |a| {
        a.bytes(&[0xB9, 5, 0, 0, 0]); // mov ecx, 5
        let top = a.here();
        a.bytes(&[0xBA]).bytes(&f.to_le_bytes()); // mov edx, f
        a.bytes(&[0xFF, 0xD2, 0x49]); // call edx / dec ecx
        let rel = top.wrapping_sub(a.here() + 2) as u8;
        a.bytes(&[0x75, rel]);
    });
    let make = |jit| inc_eax_at(&code, f, jit);
    diff_machines(make(true), make(false), 80);
    let mut m = make(true);
    run_jit(&mut m, 80);
    assert_eq!((m.cpu.gpr(Gpr::Eax), m.cpu.gpr(Gpr::Ebx)), (5, 5));
}

/// A function on the physical page at 0x30000, which `paged` maps at
/// linear 0x30000 and at 0x400000 (and the page after it likewise): a
/// loop calling a function on its page, storing to memory, then jumping
/// to the next page and back before it returns.
fn function_mapped_twice(m: &mut Machine) {
    let mut f = Asm::new(0x30000);
    f.bytes(&[0xB9, 3, 0, 0, 0]); // mov ecx, 3
    let top = f.here();
    let g = 0x30000 + 0x40;
    f.call(g);
    f.bytes(&[0x01, 0x05]).bytes(&0x9000u32.to_le_bytes()); // add [0x9000], eax
    f.bytes(&[0x49]); // dec ecx
    let rel = top.wrapping_sub(f.here() + 2) as u8;
    f.bytes(&[0x75, rel]); // jnz top
    let h = 0x31000u32;
    let rel = h.wrapping_sub(f.here() + 5);
    f.bytes(&[0xE9]).bytes(&rel.to_le_bytes()); // jmp h
    let back = f.here();
    f.bytes(&[0xC3]); // ret
    f.out.resize(0x40, 0x90);
    f.bytes(&[0x40, 0xC3]); // g: inc eax; ret
    m.board.mem.write_bytes(0x30000, &f.out).unwrap();
    let mut h_code = Asm::new(h);
    h_code.bytes(&[0x83, 0xC0, 0x02]); // add eax, 2
    let rel = back.wrapping_sub(h_code.here() + 5);
    h_code.bytes(&[0xE9]).bytes(&rel.to_le_bytes()); // jmp back
    m.board.mem.write_bytes(u64::from(h), &h_code.out).unwrap();
}

#[test]
fn code_mapped_at_two_addresses_is_translated_once_and_copied() {
    // Called through both mappings in turn: the blocks at 0x400000 are
    // copies of those made at 0x30000 (every copy checked, byte for byte,
    // against translating it there), and the guest sees what the
    // interpreter gives: the return addresses, the jumps' EIPs and the
    // exits' all belong to the mapping that runs.
    let mut main = Asm::new(CODE);
    for f in [0x30000, 0x40_0000, 0x30000, 0x40_0000] {
        main.call(f);
    }
    main.bytes(&[0xF4]);
    let make = |jit: bool| {
        let mut m = paged(&main.out, jit);
        m.cpu.set_jit_check_copies(true);
        function_mapped_twice(&mut m);
        m
    };
    let st = diff_machines(make(true), make(false), 400);
    assert!(st.blocks_copied >= 4, "{st:?}");
    assert!(st.chained > 0, "{st:?}");
}

#[test]
fn a_block_cut_by_an_unmapped_next_page_is_not_copied_where_that_page_is_mapped() {
    // Physical page 0x30000 ends with TEST and then MOV EBX, imm32
    // running into the next page; `paged` maps the pair at 0x30000 and at
    // 0x400000. A RET at 0x30F00 puts page 0x30000 in the TLB (the JIT
    // compiles only on pages the TLB holds; the interpreter takes the
    // first instruction elsewhere); then the call at 0x30FFD finds page
    // 0x31000 not in it, so its block ends before the MOV, which the
    // interpreter then runs. Through the other mapping, RETs at 0x400F00
    // and 0x401004 put both pages in the TLB first, so translating at
    // 0x400FFD takes the MOV into the block: a copy of the first block
    // would not be its translation, and the copy check (on here) would
    // say so.
    let mut main = Asm::new(CODE);
    for f in [0x30F00, 0x30FFD, 0x40_0F00, 0x40_1004, 0x40_0FFD] {
        main.call(f);
    }
    main.bytes(&[0xF4]);
    let make = |jit: bool| {
        let mut m = paged(&main.out, jit);
        m.cpu.set_jit_check_copies(true);
        m.board.mem.write_bytes(0x30F00, &[0xC3]).unwrap();
        let tail = [0x85, 0xC0, 0xBB, 0x11, 0x22, 0x33, 0x44, 0xC3];
        m.board.mem.write_bytes(0x30FFD, &tail).unwrap();
        m
    };
    let st = diff_machines(make(true), make(false), 100);
    let mut m = make(true);
    run_jit(&mut m, 100);
    assert_eq!(m.cpu.gpr(Gpr::Ebx), 0x4433_2211);
    assert!(m.cpu.is_halted());
    assert!(
        st.handler_insns >= 1,
        "the MOV ran inside the block at 0x400FFD: {st:?}"
    );
}

#[test]
fn rep_string_instructions_run_inside_blocks_unless_one_could_fault() {
    // Twice round a loop, REP STOSD fills and REPE CMPSB stops at the
    // first difference; then REP MOVSD copies from identity-mapped memory
    // towards linear 0x440000, which is not mapped: its 65th dword faults
    // (#PF, no IDT: shutdown) after 64 were copied. A REP runs by its
    // handler inside the block when none of its iterations can fault: the
    // second time round (the first, its pages are not in the TLB yet, so
    // it bails before it starts). REP MOVSD bails likewise, and the
    // interpreter runs it whole (a part done by the handler could not be
    // taken back), so the registers, CR2 and memory are its own.
    let code = [
        0xBB, 0x02, 0x00, 0x00, 0x00, // mov ebx, 2
        0xBF, 0x00, 0x90, 0x00, 0x00, // top: mov edi, 0x9000
        0xB8, 0x11, 0x22, 0x33, 0x44, // mov eax, 0x44332211
        0xB9, 0x40, 0x00, 0x00, 0x00, // mov ecx, 0x40
        0xF3, 0xAB, // rep stosd
        0xBE, 0x00, 0x90, 0x00, 0x00, // mov esi, 0x9000
        0xBF, 0x00, 0xA0, 0x00, 0x00, // mov edi, 0xA000
        0xB9, 0x00, 0x01, 0x00, 0x00, // mov ecx, 0x100
        0xF3, 0xA6, // repe cmpsb
        0x4B, // dec ebx
        0x75, 0xDB, // jnz top
        0xBE, 0x00, 0x90, 0x00, 0x00, // mov esi, 0x9000
        0xBF, 0x00, 0xFF, 0x43, 0x00, // mov edi, 0x43FF00
        0xB9, 0x00, 0x01, 0x00, 0x00, // mov ecx, 0x100
        0xF3, 0xA5, // rep movsd
        0xF4, // hlt
    ];
    let make = |jit: bool| {
        let mut m = paged(&code, jit);
        // 0xA000 holds what the fill writes, but for its 6th byte.
        let mut same = 0x4433_2211u32.to_le_bytes().repeat(0x40);
        same[5] = 0;
        m.board.mem.write_bytes(0xA000, &same).unwrap();
        m
    };
    let (mut a, mut b) = (make(true), make(false));
    let st = run_both(&mut a, &mut b, 100);
    assert_eq!(a.cpu.cr2(), b.cpu.cr2());
    assert_eq!(a.cpu.cr2(), 0x44_0000);
    assert_eq!(
        a.cpu.gpr(Gpr::Ecx),
        0xC0,
        "64 dwords copied before the fault"
    );
    assert!(a.cpu.shutdown_cause().is_some() && b.cpu.shutdown_cause().is_some());
    assert!(
        st.handler_insns >= 3,
        "the REP instructions ran outside blocks: {st:?}"
    );
    assert_eq!(st.exits_bail, 3, "the second round's REPs bailed: {st:?}");
}

#[test]
fn rep_movs_and_stos_on_host_pages_match_the_interpreter() {
    // Twice round a loop (the first round's accesses put the pages in the
    // TLB and its host entries; the second round's REPs then run at once
    // from the block, `Cpu::rep_on_host_pages`): an overlapping forward
    // byte copy (each byte copies the one before), an overlapping dword
    // copy two bytes up, a word fill, a dword fill that crosses into the
    // next page (left to the general way) and a byte copy with DF set
    // (likewise). EBP sums the pointers and counts each REP leaves.
    // Registers and all of memory must be the interpreter's.
    let code = [
        0xBB, 0x02, 0x00, 0x00, 0x00, // mov ebx, 2
        0xBE, 0x00, 0x90, 0x00, 0x00, // top: mov esi, 0x9000
        0xBF, 0x01, 0x90, 0x00, 0x00, // mov edi, 0x9001
        0x8B, 0x06, // mov eax, [esi]
        0x89, 0x07, // mov [edi], eax
        0xB9, 0x80, 0x00, 0x00, 0x00, // mov ecx, 0x80
        0xF3, 0xA4, // rep movsb
        0x01, 0xF5, // add ebp, esi
        0x01, 0xFD, // add ebp, edi
        0xBE, 0x00, 0x91, 0x00, 0x00, // mov esi, 0x9100
        0xBF, 0x02, 0x91, 0x00, 0x00, // mov edi, 0x9102
        0xB9, 0x20, 0x00, 0x00, 0x00, // mov ecx, 0x20
        0xF3, 0xA5, // rep movsd
        0x01, 0xF5, // add ebp, esi
        0x01, 0xFD, // add ebp, edi
        0x01, 0xCD, // add ebp, ecx
        0xBF, 0x00, 0xA0, 0x00, 0x00, // mov edi, 0xA000
        0x89, 0x07, // mov [edi], eax
        0x66, 0xB8, 0xEF, 0xBE, // mov ax, 0xBEEF
        0xB9, 0x10, 0x00, 0x00, 0x00, // mov ecx, 0x10
        0x66, 0xF3, 0xAB, // rep stosw
        0x01, 0xFD, // add ebp, edi
        0xBF, 0xFC, 0xAF, 0x00, 0x00, // mov edi, 0xAFFC
        0xB9, 0x02, 0x00, 0x00, 0x00, // mov ecx, 2
        0xB8, 0x78, 0x56, 0x34, 0x12, // mov eax, 0x12345678
        0xF3, 0xAB, // rep stosd
        0xFD, // std
        0xBE, 0x0F, 0xA0, 0x00, 0x00, // mov esi, 0xA00F
        0xBF, 0x0F, 0xA1, 0x00, 0x00, // mov edi, 0xA10F
        0xB9, 0x04, 0x00, 0x00, 0x00, // mov ecx, 4
        0xF3, 0xA4, // rep movsb
        0xFC, // cld
        0x4B, // dec ebx
        0x0F, 0x85, 0x00, 0x00, 0x00, 0x00, // jnz top (patched below)
        0xF4, // hlt
    ];
    let mut code = code.to_vec();
    let jnz = code.len() - 5;
    let back = 5i32 - (jnz as i32 + 4);
    code[jnz..jnz + 4].copy_from_slice(&back.to_le_bytes());
    let make = |jit: bool| {
        let mut m = paged(&code, jit);
        let bytes: Vec<u8> = (0..0x300u32).map(|k| (k * 7 + 3) as u8).collect();
        m.board.mem.write_bytes(0x9000, &bytes).unwrap();
        m
    };
    let (mut a, mut b) = (make(true), make(false));
    let st = run_both(&mut a, &mut b, 200);
    assert!(a.cpu.is_halted(), "{}", regs(&a));
    assert!(st.handler_insns >= 5, "{st:?}");
    let mut copied = [0u8; 4];
    a.board.mem.read_bytes(0x9070, &mut copied).unwrap();
    assert_eq!(copied, [3; 4], "the byte copy repeats the first byte");
}

#[test]
fn x87_instructions_run_inside_blocks_and_a_frozen_one_is_left_to_the_interpreter() {
    // x87 instructions are handler calls inside the block. FDIVP by zero
    // with the zero-divide exception unmasked leaves it pending; the next
    // waiting instruction (FLD1), with CR0.NE clear, freezes before it
    // runs until IRQ 13 (a halt, EIP on it): its handler call reports that
    // and the block bails, so the interpreter freezes there as it would
    // alone. FST's store and the whole x87 state match the interpreter's.
    let code = [
        0xDB, 0xE3, // fninit
        0xD9, 0xE8, // fld1
        0xD9, 0xE8, // fld1
        0xDE, 0xC1, // faddp st1, st0
        0xD9, 0x15, 0x00, 0x90, 0x00, 0x00, // fst dword [0x9000]
        0xD9, 0x2D, 0x10, 0x90, 0x00, 0x00, // fldcw [0x9010]
        0xD9, 0xEE, // fldz
        0xDE, 0xF9, // fdivp st1, st0
        0xD9, 0xE8, // fld1 (frozen here)
        0xF4, // hlt
    ];
    let make = |jit: bool| {
        let mut m = paged(&code, jit);
        // The default control word with ZM (bit 2) clear.
        m.board
            .mem
            .write_bytes(0x9010, &0x037Bu16.to_le_bytes())
            .unwrap();
        m
    };
    let (mut a, mut b) = (make(true), make(false));
    let st = run_both(&mut a, &mut b, 20);
    assert!(a.cpu.fpu() == b.cpu.fpu(), "the x87 state differs");
    assert!(a.cpu.is_halted(), "FLD1 did not freeze");
    assert_eq!(a.cpu.eip(), CODE + 24, "frozen before FLD1");
    assert_eq!(a.cpu.fpu().status_word() & 0x84, 0x84, "ZE pending");
    let mut two = [0u8; 4];
    a.board.mem.read_bytes(0x9000, &mut two).unwrap();
    assert_eq!(f32::from_le_bytes(two), 2.0);
    assert!(
        st.handler_insns >= 8,
        "the x87 instructions ran outside blocks: {st:?}"
    );
    assert_eq!(st.exits_bail, 1, "{st:?}");
}

/// Runs `code` (at CODE, paged) for `n` instructions with the JIT and
/// without, after `setup` on each: the registers and the first MiB of
/// memory must match ([`run_both`]). Returns the JIT's machine.
fn diff_with_memory(code: &[u8], n: u64, setup: impl Fn(&mut Machine), what: &str) -> Machine {
    let mut a = paged(code, true);
    let mut b = paged(code, false);
    setup(&mut a);
    setup(&mut b);
    eprintln!("{what}, budget {n}");
    run_both(&mut a, &mut b, n);
    a
}

#[test]
fn runs_of_pushes_and_pops_match_the_interpreter_on_and_across_pages() {
    // Twice (the first time through fills the TLB): push eax / push ebx /
    // push 0x12345678 / push ecx / pop edx / pop esi / pop edi / pop ebp /
    // pop ecx; then hlt. Runs of four PUSHes and of five POPs, which the
    // JIT does at once when their slots share a page.
    let run = [
        0x50, 0x53, 0x68, 0x78, 0x56, 0x34, 0x12, 0x51, 0x5A, 0x5E, 0x5F, 0x5D, 0x59,
    ];
    let code = [&run[..], &run, &[0xF4]].concat();
    // ESP: every slot on one page; the PUSHes' on one, the POPs' across
    // two; both across two pages, contiguous and not (linear 0x411000 is
    // physical 0x50000); the third PUSH to an absent page (linear
    // 0x3FF000); the third to a read-only one (0x40F000).
    for esp in [0xE800u32, 0xE000, 0xE008, 0x41_1008, 0x40_0008, 0x41_0008] {
        for n in 1..21 {
            let setup = |m: &mut Machine| {
                for (g, v) in [
                    (Gpr::Eax, 0xA0A0_A0A0u32),
                    (Gpr::Ebx, 0xB0B0_B0B0),
                    (Gpr::Ecx, 0xC0C0_C0C0),
                    (Gpr::Esp, esp),
                ] {
                    m.cpu.set_gpr(g, v);
                }
                for (page, pte) in [(15, (0x30000u32 + (15 << 12)) | 5), (17, 0x50000 | 7)] {
                    m.board
                        .mem
                        .write_bytes(0x82000 + 4 * page, &pte.to_le_bytes())
                        .unwrap();
                }
            };
            let a = diff_with_memory(&code, n, setup, &format!("esp {esp:#x}"));
            if n == 20 && esp == 0xE800 {
                assert!(
                    a.cpu.jit_stats().instructions >= 17,
                    "{:?}",
                    a.cpu.jit_stats()
                );
            }
        }
    }
}

#[test]
fn an_epilogue_of_pops_and_ret_matches_the_interpreter_on_and_across_pages() {
    // Twice (the first call fills the TLB for reads): push 1 / push 2 /
    // call f; then hlt; f: push ebx / push esi / push edi / mov ebx,
    // 0x11111111 / mov esi, 0x22222222 / mov edi, 0x33333333 / pop edi /
    // pop esi / pop ebx / ret or ret 8. The POPs and the RET make one run,
    // done at once when their slots share a page.
    for ret in [&[0xC3u8][..], &[0xC2, 8, 0]] {
        let mut code = vec![0x6A, 1, 0x6A, 2, 0xE8, 10, 0, 0, 0];
        code.extend([0x6A, 1, 0x6A, 2, 0xE8, 1, 0, 0, 0, 0xF4]);
        code.extend([0x53, 0x56, 0x57]);
        for (op, v) in [
            (0xBBu8, 0x1111_1111u32),
            (0xBE, 0x2222_2222),
            (0xBF, 0x3333_3333),
        ] {
            code.push(op);
            code.extend(v.to_le_bytes());
        }
        code.extend([0x5F, 0x5E, 0x5B]);
        code.extend(ret);
        // ESP: every slot on one page; the return address the first slot
        // of the next page; the saved registers across two pages.
        for esp in [0xE800u32, 0xE00C, 0xE014, 0xE01C] {
            for n in 1..30 {
                let setup = |m: &mut Machine| {
                    for (g, v) in [
                        (Gpr::Ebx, 0xB0B0_B0B0u32),
                        (Gpr::Esi, 0x5151_5151),
                        (Gpr::Edi, 0xD1D1_D1D1),
                        (Gpr::Esp, esp),
                    ] {
                        m.cpu.set_gpr(g, v);
                    }
                };
                diff_with_memory(&code, n, setup, &format!("esp {esp:#x}"));
            }
        }
    }
}
