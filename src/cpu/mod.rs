//! The i386-class CPU: architectural state and the interpreter.
//!
//! `cpu/` owns registers, flags, segmentation, exceptions and instruction
//! semantics. It sees the world only through [`Bus`] (physical memory and
//! ports) and never knows about devices, the control API or Lua. The public
//! surface below is what the machine, the control API and the test harnesses
//! use; everything else is private to this module tree.
//!
//! Layout: `segment.rs` (segment:offset -> linear, the stack),
//! `descriptor.rs` (descriptors and segment-register loads), `paging.rs`
//! and `tlb.rs` (linear -> physical), `fetch.rs` and `icache.rs` (CS:EIP
//! -> a decoded instruction, through a cache of decodes), `operand.rs` (operand access by
//! encoding form), `flags.rs`, `fault.rs` (exceptions, #DF and shutdown),
//! `interrupt.rs` (delivery through the IVT or IDT), `task.rs` (the TSS and
//! task switches), `cpuid.rs` and `msr.rs` (processor identification and
//! model-specific registers), `exec/` (instruction semantics).

mod bus;
mod cached_run;
mod cpuid;
mod descriptor;
mod exec;
mod fault;
mod fetch;
mod flags;
mod flat_ram;
pub mod fpu;
mod icache;
mod interrupt;
mod jit;
mod msr;
mod operand;
mod pae;
mod paging;
mod perf_counters;
mod segment;
mod shutdown;
mod task;
mod tlb;
mod traces;
mod wide_phys;

pub use crate::x86::{Gpr, SegReg};

/// What an instruction's fault puts back (see [`Cpu::undo`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Undo {
    eip: u32,
    esp: u32,
    eflags: u32,
}
pub use bus::{Bus, IoSize};
pub use fault::Fault;
pub use flags::mask as operand_mask;
pub use flat_ram::FlatRam;
pub use interrupt::{Delivery, Source as InterruptSource};
pub use jit::{BlockRun, JitStats};
pub use pae::ADDRESS as PAE_ADDRESS;
pub use shutdown::{exception_name, Raised, ShutdownCause};

use crate::x86;
use exec::Flow;
use flags::{TF, VM};
use interrupt::Source;
use serde::{Deserialize, Serialize};
use wide_phys::PhysAddr;

/// A segment register with its hidden descriptor cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Segment {
    pub selector: u16,
    pub base: u32,
    /// Byte-granular limit (the last valid offset).
    pub limit: u32,
    /// Descriptor access rights: bits 0-7 are the access byte (type, S, DPL,
    /// P), bits 12-15 the flags nibble (AVL, L, D/B, G), as in a descriptor's
    /// bytes 5-6.
    pub access: u16,
}

impl Segment {
    /// A flat 4 GiB segment (base 0, 4 KiB granular, 32-bit) with access
    /// byte `access` (type, S, DPL, P).
    pub fn flat(selector: u16, access: u8) -> Segment {
        Segment {
            selector,
            base: 0,
            limit: 0xFFFF_FFFF,
            access: 0xC000 | u16::from(access),
        }
    }
}

/// What one call to [`Cpu::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// An instruction retired, or an exception or interrupt was delivered.
    Executed,
    /// HLT executed: EIP points past it and the CPU waits for an interrupt.
    Halted,
    /// The CPU shut down (a fault while delivering a double fault).
    Shutdown,
}

/// Which processor the interpreter is: its instruction set (the 486,
/// Pentium and P6 additions raise #UD on earlier models), what CPUID
/// reports, and the observable quirks where the 80286 and the 80386 differ
/// in real mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Model {
    /// An 80386: LOCK on an illegal instruction is #UD (as on the 486 and
    /// P6), a 15-byte limit, faults leave string registers untouched.
    #[default]
    I386,
    /// 80286 behaviour where it is visible in real mode: LOCK is never #UD,
    /// instructions over 10 bytes raise #GP(0), and a string instruction
    /// faulting at a segment's end has already advanced SI/DI (and CX).
    I286,
    /// An i486: adds BSWAP, XADD, CMPXCHG, INVD/WBINVD, INVLPG, CR0.WP/AM,
    /// EFLAGS.AC.
    I486,
    /// A P6-family processor without MMX/SSE (a Pentium Pro): adds
    /// CPUID, RDTSC, RDMSR/WRMSR, CMPXCHG8B, CMOVcc, CR4 (VME, PVI, TSD,
    /// DE, PSE, PAE, PGE), EFLAGS.VIF/VIP, 4 MiB and global pages, PAE
    /// paging.
    I686,
    /// A later family-6 processor (a Pentium M class, without the MMX and
    /// SSE moon86 does not emulate): the I686 model plus the extended
    /// CPUID leaves and EFER, whose NXE bit enables PAE's execute-disable
    /// bit.
    PentiumM,
}

impl Model {
    /// At least a 486 (BSWAP, XADD, CMPXCHG, INVLPG, ...).
    pub fn is_486_plus(self) -> bool {
        matches!(self, Model::I486 | Model::I686 | Model::PentiumM)
    }
    /// At least a Pentium (CPUID, RDTSC, MSRs, CMPXCHG8B).
    pub fn is_586_plus(self) -> bool {
        self.is_p6()
    }
    /// A P6-family processor (CMOVcc, SYSENTER, CR4, PAE).
    pub fn is_p6(self) -> bool {
        matches!(self, Model::I686 | Model::PentiumM)
    }
    /// Has EFER and the execute-disable bit (NX).
    pub fn has_nx(self) -> bool {
        self == Model::PentiumM
    }
    /// Whether the model has the instructions that arrived with `since`.
    pub fn has(self, since: crate::x86::facts::Since) -> bool {
        use crate::x86::facts::Since;
        match since {
            Since::I386 => true,
            Since::I486 => self.is_486_plus(),
            Since::Pentium | Since::P6 => self.is_p6(),
        }
    }
}

/// The processor's operating mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuMode {
    /// CR0.PE clear.
    Real,
    /// CR0.PE set, EFLAGS.VM clear.
    Protected,
    /// CR0.PE and EFLAGS.VM set.
    Virtual8086,
}

/// The architectural state of one i386-class processor. It serialises
/// whole (snapshots) except the decoded-instruction cache, which is not
/// state: a restored CPU starts with an empty cache. A host-side field
/// added here must be `#[serde(skip)]` and carried over by
/// `Machine::restore_state`.
///
/// `repr(C)`, the registers, EIP, EFLAGS and the JIT's busiest fields
/// first: generated code reaches them with one-byte displacements
/// (`jit::layout`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[repr(C)]
pub struct Cpu {
    gpr: [u32; 8],
    eip: u32,
    eflags: u32,
    /// The JIT's busiest fields (see `jit::Near`): host side.
    #[serde(skip)]
    jit_near: jit::Near,
    /// What a run of cached fast forms settled once for all its accesses
    /// (see `cached_run.rs`); meaningful only during a run.
    #[serde(skip)]
    run: cached_run::RunFacts,
    segs: [Segment; 6],
    cr0: u32,
    cr2: u32,
    cr3: u32,
    cr4: u32,
    /// The PDPTEs PAE paging loaded from CR3 (see `pae.rs`).
    pdpte: [u64; 4],
    /// Debug registers DR0-DR7, kept as storage.
    pub dr: [u32; 8],
    halted: bool,
    /// Set with `halted` when the CPU shut down (fault during #DF).
    shutdown: bool,
    /// What led to the shutdown, while `shutdown` is set.
    shutdown_cause: Option<ShutdownCause>,
    idtr_base: u32,
    idtr_limit: u32,
    gdtr_base: u32,
    gdtr_limit: u32,
    /// LDTR and TR with their descriptor caches.
    ldtr: Segment,
    tr: Segment,
    /// Current privilege level (0 in real mode, 3 in V86 mode).
    cpl: u8,
    /// Cached page translations.
    tlb: tlb::Tlb,
    /// Decoded instructions by physical address (see `icache.rs`).
    #[serde(skip)]
    icache: icache::ICache,
    /// Instructions attempted so far: the time-stamp counter's clock.
    icount: u64,
    /// Model-specific registers (TSC offset and the stored ones).
    msr: msr::Msrs,
    /// Set during a step once a task switch has loaded the new task, so a
    /// fault is raised in the new task's context.
    task_switched: bool,
    /// The last instruction loaded SS: no trap or interrupt before the next.
    shadow_ss: bool,
    /// The last instruction was an STI that set IF: no interrupt before the next.
    shadow_sti: bool,
    model: Model,
    /// The x87 (absent under [`Model::I286`]).
    fpu: fpu::Fpu,
    /// Record each delivered interrupt in `deliveries` (for hooks): host
    /// side, not machine state (the VM sets it again after a restore).
    #[serde(skip)]
    record_deliveries: bool,
    #[serde(skip)]
    deliveries: Vec<interrupt::Delivery>,
    /// Translated blocks (see `jit/`): host side, off until enabled.
    #[serde(skip)]
    jit: jit::Jit,
}

/// DR6.BS: the single-step trap's status bit.
const DR6_BS: u32 = 1 << 14;

impl Default for Cpu {
    fn default() -> Self {
        Self::new()
    }
}

impl Cpu {
    /// A CPU in its power-on reset state (CS:EIP = F000:FFF0, CS base FFFF0000).
    pub fn new() -> Cpu {
        let mut cpu = Cpu {
            gpr: [0; 8],
            eip: 0,
            eflags: 2,
            segs: [Segment::default(); 6],
            cr0: 0,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            pdpte: [0; 4],
            dr: [0; 8],
            halted: false,
            shutdown: false,
            shutdown_cause: None,
            idtr_base: 0,
            idtr_limit: 0x3FF,
            gdtr_base: 0,
            gdtr_limit: 0xFFFF,
            ldtr: Segment::default(),
            tr: Segment::default(),
            cpl: 0,
            tlb: tlb::Tlb::default(),
            icache: icache::ICache::default(),
            icount: 0,
            msr: msr::Msrs::default(),
            task_switched: false,
            shadow_ss: false,
            shadow_sti: false,
            model: Model::I386,
            fpu: fpu::Fpu::new(),
            record_deliveries: false,
            deliveries: Vec::new(),
            jit_near: jit::Near::default(),
            run: cached_run::RunFacts::default(),
            jit: jit::Jit::default(),
        };
        cpu.reset();
        cpu
    }

    /// Puts the CPU into its reset state, as the RESET pin does.
    pub fn reset(&mut self) {
        self.gpr = [0; 8];
        self.gpr[Gpr::Edx as usize] = 0x0000_0303; // 386 DX: component id + stepping
        self.eip = 0xFFF0;
        self.eflags = 2;
        let data = Segment {
            selector: 0,
            base: 0,
            limit: 0xFFFF,
            access: 0x93,
        };
        self.segs = [data; 6];
        self.segs[SegReg::Cs as usize] = Segment {
            selector: 0xF000,
            base: 0xFFFF_0000,
            limit: 0xFFFF,
            access: 0x9B,
        };
        self.cr0 = 0x0000_0010; // ET
        self.cr2 = 0;
        self.cr3 = 0;
        self.cr4 = 0;
        self.pdpte = [0; 4];
        self.dr = [0; 8];
        self.dr[6] = 0xFFFF_0FF0;
        self.dr[7] = 0x0000_0400;
        self.halted = false;
        self.shutdown = false;
        self.idtr_base = 0;
        self.idtr_limit = 0x3FF;
        self.gdtr_base = 0;
        self.gdtr_limit = 0xFFFF;
        self.ldtr = Segment {
            access: 0x82,
            limit: 0xFFFF,
            ..Segment::default()
        };
        self.tr = Segment {
            access: 0x8B,
            limit: 0xFFFF,
            ..Segment::default()
        };
        self.cpl = 0;
        self.tlb.flush(false);
        self.msr = msr::Msrs::default();
        self.task_switched = false;
        self.shadow_ss = false;
        self.shadow_sti = false;
        let p6 = self.fpu.p6;
        self.fpu = fpu::Fpu::new();
        self.fpu.p6 = p6;
    }

    /// Executes one instruction (a whole REP-prefixed string instruction
    /// counts as one), delivering any exception it raises.
    pub fn step<B: Bus + ?Sized>(&mut self, bus: &mut B) -> StepOutcome {
        if self.halted {
            return if self.shutdown {
                StepOutcome::Shutdown
            } else {
                StepOutcome::Halted
            };
        }
        self.icount = self.icount.wrapping_add(1);
        self.jit_near.seg_live = 0;
        self.shadow_ss = false;
        self.shadow_sti = false;
        self.task_switched = false;
        let start = self.eip;
        if let Some((cached, form)) = self.fetch_cached(bus, start) {
            let len = cached.len;
            // One copy out of the slot (written long ago, so no store to
            // forward from); the instruction then runs by reference. The
            // length is read from the slot, not from the copy: a byte load
            // from a just-stored wide copy stalls store forwarding.
            let insn: x86::Insn = *cached;
            return self.retire(bus, &insn, len, form, start);
        }
        match self.fetch_decode(bus, start) {
            Ok(insn) => {
                self.fill(bus, start, &insn);
                self.retire(bus, &insn, insn.len, exec::Form::GENERAL, start)
            }
            Err(f) => self.raise(bus, f),
        }
    }

    /// Executes `insn`, fetched at `start`, through its fast `form` where it
    /// has one (`exec/fast.rs`): EIP past it, then the single-step
    /// trap, HLT, or the fault it raised. A fault commits nothing the
    /// instruction computed in registers: EIP, ESP and EFLAGS are put back
    /// (a read-modify-write sets its flags before its write may fault; a
    /// REP string instruction's flags are those of the iterations it
    /// completed, which its count and pointers also reflect).
    #[inline(always)]
    fn retire<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &x86::Insn,
        len: u8,
        form: exec::Form,
        start: u32,
    ) -> StepOutcome {
        let trap = self.eflags & TF != 0;
        let undo = self.advance(len, start);
        match self.execute_form(bus, insn, form) {
            Ok(Flow::SoftInt) => StepOutcome::Executed,
            Ok(flow) => {
                if trap && !self.shadow_ss {
                    self.dr[6] |= DR6_BS;
                    return self.raise(bus, Fault::Db);
                }
                if flow == Flow::Halt {
                    self.halted = true;
                    return StepOutcome::Halted;
                }
                StepOutcome::Executed
            }
            Err(f) => {
                // A fault after a task switch belongs to the new task.
                if !self.task_switched {
                    self.undo(insn, undo);
                }
                self.raise(bus, f)
            }
        }
    }

    /// Moves EIP past an instruction of `len` bytes fetched at `start`, and
    /// returns what a fault of it puts back ([`Cpu::undo`]).
    #[inline(always)]
    pub(crate) fn advance(&mut self, len: u8, start: u32) -> Undo {
        let undo = Undo {
            eip: start,
            esp: self.gpr[Gpr::Esp as usize],
            eflags: self.eflags,
        };
        let next = start.wrapping_add(u32::from(len));
        // 16-bit code: IP wraps within the 64 KiB segment.
        self.eip = if self.code32() { next } else { next & 0xFFFF };
        undo
    }

    /// Puts back EIP, ESP and EFLAGS after `insn` faulted: a fault commits
    /// nothing the instruction computed in registers (a REP string
    /// instruction's count and pointers, and a repeated compare's flags,
    /// are those of the iterations it completed).
    pub(crate) fn undo(&mut self, insn: &x86::Insn, undo: Undo) {
        self.eip = undo.eip;
        self.gpr[Gpr::Esp as usize] = undo.esp;
        let repeated_compare =
            insn.rep != x86::Rep::None && matches!(insn.mn, x86::Mn::Cmps | x86::Mn::Scas);
        if !repeated_compare {
            self.eflags = undo.eflags;
        }
    }

    /// Delivers an external (hardware) interrupt through the IVT (real mode)
    /// or the IDT (protected and V86 mode, EXT set in error codes), waking a
    /// halted CPU. The caller checks IF and [`Cpu::interrupt_shadow`].
    pub fn interrupt<B: Bus + ?Sized>(&mut self, bus: &mut B, vector: u8) -> StepOutcome {
        if self.shutdown {
            return StepOutcome::Shutdown;
        }
        self.halted = false;
        self.task_switched = false;
        self.jit_near.seg_live = 0;
        let ret = self.eip;
        match self.deliver(bus, vector, Source::External, None, ret) {
            Ok(()) => StepOutcome::Executed,
            Err(f) => {
                let outcome = self.raise(bus, f);
                if outcome == StepOutcome::Shutdown {
                    if let Some(cause) = self.shutdown_cause.as_mut() {
                        cause.interrupt = Some(vector);
                    }
                }
                outcome
            }
        }
    }

    /// True right after MOV SS/POP SS or an STI that set IF: an external
    /// interrupt must wait one more instruction.
    pub fn interrupt_shadow(&self) -> bool {
        self.shadow_ss || self.shadow_sti
    }

    /// The processor model whose quirks are followed.
    pub fn model(&self) -> Model {
        self.model
    }
    /// Selects the processor model (survives [`Cpu::reset`]).
    pub fn set_model(&mut self, model: Model) {
        self.model = model;
        // A cached decode was checked against the old model's length limit.
        self.icache.flush();
        self.jit.flush();
    }

    /// Turns the decoded-instruction cache on (the default) or off. Off,
    /// every instruction is fetched and decoded afresh: the reference the
    /// cache is checked against. Either way the guest sees the same thing.
    pub fn set_icache_enabled(&mut self, enabled: bool) {
        self.icache.enabled = enabled;
        self.icache.flush();
    }
    /// Drops every cached decode (a snapshot leaves the cache out; a
    /// restored CPU starts with it empty).
    pub fn flush_icache(&mut self) {
        self.icache.flush();
    }
    /// True while the decoded-instruction cache is in use.
    pub fn icache_enabled(&self) -> bool {
        self.icache.enabled
    }

    /// True after a shutdown (a fault while delivering a double fault).
    pub fn is_shutdown(&self) -> bool {
        self.shutdown
    }
    /// The exceptions that led to the shutdown, while shut down.
    pub fn shutdown_cause(&self) -> Option<&ShutdownCause> {
        self.shutdown_cause.as_ref().filter(|_| self.shutdown)
    }

    /// IDTR as (base, limit).
    pub fn idtr(&self) -> (u32, u32) {
        (self.idtr_base, self.idtr_limit)
    }
    pub fn set_idtr(&mut self, base: u32, limit: u32) {
        self.idtr_base = base;
        self.idtr_limit = limit;
    }
    /// GDTR as (base, limit).
    pub fn gdtr(&self) -> (u32, u32) {
        (self.gdtr_base, self.gdtr_limit)
    }
    pub fn set_gdtr(&mut self, base: u32, limit: u32) {
        self.gdtr_base = base;
        self.gdtr_limit = limit;
    }

    /// Disassembles the instruction at CS:EIP (for messages and monitors).
    /// It never faults and never sets accessed or dirty bits: bytes on a
    /// page that is not mapped end the instruction early.
    pub fn disassemble_current<B: Bus + ?Sized>(&self, bus: &mut B) -> String {
        let mut buf = [0u8; x86::MAX_INSN_LEN];
        let cs = self.segs[SegReg::Cs as usize];
        let code32 = self.code32();
        let fetched = fetch::fetch_bytes(
            bus,
            &cs,
            code32,
            self.paging_on(),
            self.eip,
            &mut buf,
            true,
            |bus, lin| {
                self.peek_physical(bus, lin)
                    .map(PhysAddr::from)
                    .ok_or(Fault::Pf { addr: lin, code: 0 })
            },
        );
        let n = fetched.map_or(0, |(n, _)| n);
        x86::disassemble(&buf[..n], code32).0
    }

    /// Starts or stops recording the interrupts and exceptions delivered
    /// (hardware, software and exceptions alike); stopping drops the record.
    pub fn set_record_deliveries(&mut self, on: bool) {
        self.record_deliveries = on;
        self.deliveries.clear();
    }

    /// True while deliveries are recorded (see `set_record_deliveries`).
    #[inline]
    pub fn records_deliveries(&self) -> bool {
        self.record_deliveries
    }

    /// True when deliveries were recorded and not yet taken.
    #[inline]
    pub fn has_deliveries(&self) -> bool {
        !self.deliveries.is_empty()
    }

    /// The deliveries recorded since the previous call, oldest first.
    pub fn take_deliveries(&mut self) -> impl Iterator<Item = interrupt::Delivery> + '_ {
        self.deliveries.drain(..)
    }

    /// The linear address of the next instruction (CS base + EIP).
    #[inline]
    pub fn linear_pc(&self) -> u32 {
        self.segs[SegReg::Cs as usize].base.wrapping_add(self.eip)
    }

    /// The physical address linear address `lin` maps to now, found without
    /// side effects (no accessed bits, no TLB fill, no fault); `None` when
    /// it is not mapped.
    pub fn linear_to_physical<B: Bus + ?Sized>(&self, bus: &mut B, lin: u32) -> Option<u32> {
        self.peek_physical(bus, lin)
    }

    /// The operating mode: real, protected or virtual-8086.
    pub fn mode(&self) -> CpuMode {
        if self.cr0 & 1 == 0 {
            CpuMode::Real
        } else if self.eflags & VM != 0 {
            CpuMode::Virtual8086
        } else {
            CpuMode::Protected
        }
    }

    /// True while paging is enabled (CR0.PG).
    pub fn paging(&self) -> bool {
        self.paging_on()
    }

    /// The current privilege level: 0 in real mode, 3 in virtual-8086 mode.
    pub fn cpl(&self) -> u8 {
        match self.mode() {
            CpuMode::Real => 0,
            CpuMode::Virtual8086 => 3,
            CpuMode::Protected => self.cpl,
        }
    }

    /// LDTR with its descriptor cache.
    pub fn ldtr(&self) -> Segment {
        self.ldtr
    }
    /// TR with its descriptor cache.
    pub fn tr(&self) -> Segment {
        self.tr
    }

    /// The time-stamp counter: one tick per instruction the CPU has
    /// attempted (a whole REP string instruction is one) and per virtual
    /// clock tick it slept in HLT (see [`Cpu::sleep_ticks`]), plus the offset
    /// a WRMSR to IA32_TIME_STAMP_COUNTER set. It therefore runs at the
    /// virtual clock's rate, `ips` ticks per virtual second, awake or asleep.
    pub fn tsc(&self) -> u64 {
        self.icount.wrapping_add(self.msr.tsc_offset)
    }

    /// Virtual time passed while the CPU slept in HLT: `ticks` clock ticks,
    /// which the TSC counts as it counts instructions (it is kept in the
    /// offset, so a later WRMSR to the TSC still sets exactly what it says).
    pub fn sleep_ticks(&mut self, ticks: u64) {
        self.msr.tsc_offset = self.msr.tsc_offset.wrapping_add(ticks);
    }

    /// Drops every cached page translation (for callers that change page
    /// tables behind the guest's back).
    pub fn flush_tlb_all(&mut self) {
        self.flush_tlb(false);
    }

    pub fn gpr(&self, r: Gpr) -> u32 {
        self.gpr[r as usize]
    }
    pub fn set_gpr(&mut self, r: Gpr, value: u32) {
        self.gpr[r as usize] = value;
    }
    pub fn eip(&self) -> u32 {
        self.eip
    }
    pub fn set_eip(&mut self, value: u32) {
        self.eip = value;
    }
    /// EFLAGS with every lazily computed flag materialised.
    pub fn eflags(&self) -> u32 {
        self.eflags
    }
    /// Sets EFLAGS; bit 1 reads as one and reserved bits (and VM) as zero.
    pub fn set_eflags(&mut self, value: u32) {
        self.eflags = (value & flags::WRITABLE) | 2;
    }
    pub fn segment(&self, s: SegReg) -> Segment {
        self.segs[s as usize]
    }
    /// Sets a segment register and its cache as is; setting CS also sets
    /// CPL to the selector's RPL (used in protected mode only).
    pub fn set_segment(&mut self, s: SegReg, seg: Segment) {
        self.segs[s as usize] = seg;
        if s == SegReg::Cs {
            self.cpl = (seg.selector & 3) as u8;
        }
    }
    /// Loads a segment register as real mode does: base = selector * 16, the
    /// limit and access rights are left as they are.
    pub fn load_segment_real(&mut self, s: SegReg, selector: u16) {
        let seg = &mut self.segs[s as usize];
        seg.selector = selector;
        seg.base = u32::from(selector) << 4;
    }
    pub fn cr0(&self) -> u32 {
        self.cr0
    }
    pub fn set_cr0(&mut self, value: u32) {
        self.cr0 = value;
        self.flush_tlb(false);
    }
    pub fn cr2(&self) -> u32 {
        self.cr2
    }
    pub fn set_cr2(&mut self, value: u32) {
        self.cr2 = value;
    }
    pub fn cr3(&self) -> u32 {
        self.cr3
    }
    pub fn set_cr3(&mut self, value: u32) {
        self.cr3 = value;
        self.flush_tlb(false);
    }
    pub fn cr4(&self) -> u32 {
        self.cr4
    }
    pub fn set_cr4(&mut self, value: u32) {
        self.cr4 = value;
        self.flush_tlb(false);
    }
    /// The x87's state, read-only (registers, control/status/tag words).
    pub fn fpu(&self) -> &fpu::Fpu {
        &self.fpu
    }
    /// The x87's state, for the control API and tests.
    pub fn fpu_mut(&mut self) -> &mut fpu::Fpu {
        &mut self.fpu
    }
    /// The FPU's FERR# output: an unmasked exception is pending (status
    /// word ES). A PC board routes it to IRQ13 (through the latch that a
    /// write to port 0xF0 clears, which also asserts IGNNE#).
    pub fn ferr(&self) -> bool {
        self.model != Model::I286 && self.fpu.error_pending()
    }
    /// Drives the IGNNE# input. A PC asserts it on a write to port 0xF0;
    /// it drops by itself when the pending exception is cleared.
    pub fn set_ignne(&mut self, asserted: bool) {
        self.fpu.ignne = asserted && self.fpu.error_pending();
    }

    /// True after HLT until an interrupt (or a reset) wakes the CPU.
    pub fn is_halted(&self) -> bool {
        self.halted
    }
    pub fn set_halted(&mut self, halted: bool) {
        self.halted = halted;
        if !halted {
            self.shutdown = false;
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pm;
