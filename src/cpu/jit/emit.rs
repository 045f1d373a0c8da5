//! Code generation: one block of [`Item`]s to x86-64 machine code with
//! dynasm-rs. The generated function is
//! `extern "sysv64" fn(cpu: *mut Cpu, bus: *mut B) -> u32` and returns the
//! number of the last block's instructions it did not retire (low 16 bits;
//! the chain's retired count is the budget it took, less those) and why it
//! left (the `EXIT_*` code, above). The guest registers `regs.rs` chooses live in
//! host registers while the block runs (rsi, rdi, r8-r10), the others and
//! EFLAGS stay in the `Cpu` struct and are read and written in place; EIP
//! is stored at every exit.
//!
//! Host registers: r11 = the instruction budget and the chained hops
//! (`Near::budget`, packed as `budget.rs` says; loaded by the prologue,
//! kept across chained blocks and the jump cache, stored around helper
//! calls and when the code returns, so neither count is a chain of memory
//! read-modify-writes), r15 = the CPU, r14 = the
//! TLB's host table (the bus
//! pointer is in the `Jit`, for helper calls), r12d = the effective
//! address, ebx = the first operand and the result, r13d = a second value
//! (the other operand, a stack offset), ebp = host flags just captured (or
//! EFLAGS saved before a helper changed them), `[rsp]` = the write status
//! for [`Emitter::smc_check`]: `WRITE_OK` from block entry on, set only by
//! a write helper (the inline fast path never writes code pages), so a
//! status of `WRITE_SMC` lasts until the next check, which leaves.
//! Everything an instruction changes is committed only
//! after its last memory access succeeded, so leaving for the interpreter
//! ("bail") at any helper call leaves the guest exactly as it was before
//! the instruction.

use super::block::{Calc, Item, Loc, Op};
use super::budget;
use super::chain::Cell;
use super::helpers::{calc_code, seg_size, SegFast, LEAVE, WRITE_BAIL, WRITE_OK, WRITE_SMC};
use super::lazy_flags::{self, LazyFlags};
use super::liveness::{self, native_imul, native_shift, CF, STATUS};
use super::regs::{self, Cache};
use super::reloc::Reloc;
use crate::cpu::tlb::{HostEntry, SIZE as TLB_SIZE};
use crate::cpu::SegReg;
use crate::x86::facts::MemoryWrites;
use crate::x86::{Insn, Mn};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use std::mem::{offset_of, size_of};

type Asm = VecAssembler<X64Relocation>;

/// The block ran to its end (or its control transfer).
pub(super) const EXIT_END: u32 = 0;
/// An instruction was left to the interpreter; EIP is on it.
pub(super) const EXIT_BAIL: u32 = 1;
/// A write changed the block's own code; EIP is after the writing instruction.
pub(super) const EXIT_SMC: u32 = 2;

/// Where the CPU's fields are, as byte offsets from the `Cpu` pointer.
/// The ones generated code uses most are bytes: they lie within a one-byte
/// displacement (`jit::layout`), which keeps the code short.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    pub gpr: i8,
    pub eip: i8,
    pub eflags: i8,
    pub cs_limit: i8,
    /// The segments' inline bounds (`[helpers::SegFast; 6]`) and their
    /// live bits, the TLB host key, and the TLB's host-table pointer.
    pub seg_fast: i32,
    pub seg_live: i32,
    pub host_key: i8,
    pub host_table: i32,
    /// The bus pointer for helper calls (`Near::bus`).
    pub bus: i8,
    /// The jump cache (`jump.rs`): CS's base, CR0, the running page, the
    /// table's pointer, the TLB entries' pointer and the `jumped`
    /// statistic.
    pub cs_base: i8,
    pub cr0: i32,
    pub running_page: i32,
    pub jump_table: i32,
    pub tlb_entries: i32,
    pub jump_count: i32,
    pub jump_key: i32,
    /// For RDTSC: the instruction count (at the block chain's entry), the
    /// TSC offset and CR4.
    pub icount: i32,
    pub tsc_offset: i32,
    pub cr4: i32,
    /// Chaining (`chain.rs`): the running page's stamp, the budget (packed:
    /// `budget.rs`), the budget at the chain's entry (plain) and the
    /// unlinked cell.
    pub running_stamp: i32,
    pub budget: i8,
    pub budget_top: i32,
    pub link_from: i32,
    /// The flags recipe (`lazy_flags::LazyFlags`).
    pub lazy: i8,
}

/// Addresses of the helpers for the bus type being run.
#[derive(Clone, Copy, Debug)]
pub(super) struct Helpers {
    pub read: usize,
    pub write: usize,
    pub calc: usize,
    /// `helpers::interp`: an instruction run by the interpreter's handler.
    pub interp: usize,
    /// `helpers::interp_cross`: the same for one that runs into the next
    /// page.
    pub interp_cross: usize,
    /// `lazy_flags::settle`: a flags recipe into EFLAGS.
    pub settle: usize,
}

const AF: i32 = 0x10;

/// Host register numbers used with dynasm's dynamic registers.
const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const RBX: u8 = 3;
const RBP: u8 = 5;
const R13: u8 = 13;
/// The guest's stack pointer (a guest register number).
const ESP: u8 = 4;
/// The most PUSHes or POPs [`Emitter::stack_run`] does at once (their
/// slots' last byte within a one-byte displacement).
const MAX_STACK_RUN: usize = 8;

struct Emitter<'c> {
    ops: Asm,
    /// A cell for a direct exit to a CS offset, when it can be chained;
    /// for `None`, a set of cells for an indirect exit (`chain.rs`).
    cell_for: &'c mut dyn FnMut(Option<u32>) -> Option<usize>,
    /// The block's first byte: its physical address, EIP and linear
    /// address (an indirect exit names its cells from them).
    origin: Origin,
    /// `Code::unlinked`.
    unlinked: Vec<(usize, usize)>,
    /// `Code::relocs`.
    relocs: Vec<Reloc>,
    l: Layout,
    h: Helpers,
    ss32: bool,
    /// DS, ES and SS are flat (see [`Shape`]).
    flat: bool,
    cs_4g: bool,
    /// The block's key (for the jump cache's check, and the names of an
    /// indirect exit's cells).
    key: u8,
    done: DynamicLabel,
    /// The block's first EIP, the label past its body's register loads
    /// and its length: a direct exit back to its own start goes straight
    /// there (a loop), its cached registers still in place.
    own_start: (u32, DynamicLabel, u32),
    /// For a block that jumps back to its own start, the loop's head: the
    /// budget for another round taken, then on into the body with the
    /// cached registers in place, so that a Jcc back to the start jumps
    /// there itself (one taken branch a round) when no flags are pending.
    loop_head: Option<DynamicLabel>,
    /// The guest registers held in host registers (`regs.rs`), and those
    /// of them changed since they were last stored in the `Cpu` struct.
    cache: Cache,
    dirty: u8,
    /// Out-of-line exits, emitted after the block body.
    stubs: Vec<(DynamicLabel, Stub)>,
    /// Exits made only once something jumps to them (see [`Bail`]).
    lazy: Vec<(Stub, Option<DynamicLabel>)>,
    /// Per instruction, the status flags something may see after it, and
    /// those a jump back to the block's start must have in EFLAGS
    /// (`liveness.rs`).
    live: Vec<i32>,
    live_in: i32,
    /// Per instruction, whether its flags are left in the host's flags
    /// register for the next one to capture with its own (see
    /// [`carries_cf`]).
    defer: Vec<bool>,
    /// This instruction leaves its CF, which something may see, in the
    /// host's flags register for the next (see [`carries_cf`]); and the
    /// previous one left it there for this one (an INC or DEC to capture,
    /// an ADC or SBB to use).
    carry: bool,
    carry_in: bool,
    /// This instruction (an ADC or SBB) takes CF from the recipe this
    /// block left.
    cf_in_recipe: bool,
    /// This instruction (a SETcc or CMOVcc) takes its condition from the
    /// recipe this block left, redone on the host.
    redo: bool,
    /// Whether the instruction being emitted computes its flags.
    capture: bool,
    /// Flags computed but not yet in EFLAGS (see [`Pending`]).
    pending: Option<Pending>,
    /// Per instruction, whether its flags may be left as a recipe
    /// ([`by_recipe`]), and what generated code knows of the recipe here.
    by_recipe: Vec<bool>,
    recipe: Recipe,
    /// The kind of the recipe this block set last (meaningful while
    /// `recipe` is [`Recipe::Set`]).
    recipe_kind: u32,
    /// The status flags the host's own flags register holds as the guest
    /// computed them, right after an instruction that left them there
    /// (0 once anything else is emitted): a Jcc right after it branches
    /// on them.
    host_flags: i32,
    /// Where the RET that ends a run of POPs ([`Emitter::stack_run`])
    /// leaves with its target in ebx and ESP moved: the run's fast path
    /// jumps there too.
    ret_exit: Option<DynamicLabel>,
}

/// Status flags an instruction computed that are not yet in EFLAGS: the
/// `clear` bits of EFLAGS are stale, and their values are the `keep` bits
/// of ebp (bits of `clear` outside `keep` are zero). They go into EFLAGS
/// when something may see them: a reader, an exit (every stub that leaves
/// carries the state of its point in the block), or an instruction that
/// writes only some of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    keep: i32,
    clear: i32,
}

/// Whether a flags recipe (`lazy_flags.rs`) may be pending at a point of
/// the block: while one may be, EFLAGS's status flags are stale and a
/// reader must settle it first. A recipe is only ever pending with no
/// [`Pending`] flags (an instruction captured with the host's flags clears
/// the recipe, or settles it first when it writes only some flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recipe {
    /// None pending: EFLAGS (with any [`Pending`] flags) is the truth.
    Clear,
    /// The block's start: a block before it may have left one.
    Unknown,
    /// This block left one.
    Set,
}

/// An out-of-line exit (a [`Stub`]) that is assembled only if some code
/// jumps to it ([`Emitter::bail_to`]): most instructions never bail, and
/// their exits would only take room.
#[derive(Clone, Copy)]
struct Bail(usize);

#[derive(Clone, Copy)]
enum Stub {
    /// Leave with EIP = `eip`, `retired` instructions done, for `why`,
    /// after putting `flags` into EFLAGS and storing the `dirty` cached
    /// registers.
    Exit {
        eip: u32,
        retired: u32,
        why: u32,
        flags: Option<Pending>,
        dirty: u8,
    },
    /// Put EFLAGS back from ebp, then go to the exit.
    Restore(Bail),
    /// Settle a pending flags recipe (around it, the `dirty` cached
    /// registers stored and all of them reloaded), then go back.
    Settle { back: DynamicLabel, dirty: u8 },
    /// A memory access the inline check did not cover: call the helper
    /// (around it, the `dirty` cached registers stored and all of them
    /// reloaded), then go back (or to `bail`).
    Access {
        acc: Access,
        bail: Bail,
        back: DynamicLabel,
        dirty: u8,
    },
    /// A direct exit's way out while its cell is unlinked (the cell's
    /// jump target until then; rax = the cell): leave for the dispatcher
    /// with EIP = `target`, `retired` instructions done, naming the cell.
    Unlinked {
        cell: usize,
        target: u32,
        retired: u32,
    },
}

/// One guest memory access: segment, width, the host register holding the
/// offset, and for a write the one holding the value and, when the write
/// ends its instruction, the exit to take when it changed the block's
/// code (`Emitter::store_last`).
#[derive(Clone, Copy)]
struct Access {
    seg: SegReg,
    bytes: u8,
    off: u8,
    write: Option<u8>,
    smc: Option<DynamicLabel>,
}

/// What a block's code may assume of the segments, fixed when it is
/// translated and part of its key (so it holds whenever the block runs:
/// segment registers change only in the interpreter, between blocks).
#[derive(Clone, Copy, Debug)]
pub(super) struct Shape {
    /// SS is a 32-bit stack (B set).
    pub ss32: bool,
    /// DS, ES and SS each have base 0 and limit 4 GiB, allow reads and
    /// writes, and alignment checking is off: an offset is then its own
    /// linear address, and only the page needs checking.
    pub flat: bool,
    /// CS's limit is 4 GiB: a chained block needs no limit check.
    pub cs_4g: bool,
    /// The block's key in the table (`Slot::key`).
    pub key: u8,
    pub origin: Origin,
    /// The highest CS offset the block needs (`Slot::last_needed`).
    pub last_needed: u32,
}

/// A block's code, as [`block`] assembles it.
pub(super) struct Code {
    pub bytes: Vec<u8>,
    /// The offset where the jump cache enters it (past the prologue, at
    /// its register loads).
    pub body: usize,
    /// The offset where a chained exit enters it: its own CS-limit and
    /// budget check (`budget.rs`), then `body`.
    pub chained: usize,
    /// Each direct exit's cell, with the offset of the code that leaves
    /// unlinked, the cell's jump target until it is linked.
    pub unlinked: Vec<(usize, usize)>,
    /// Where the code depends on the block's EIP (`reloc.rs`), in the
    /// order it asked `cell_for`.
    pub relocs: Vec<Reloc>,
}

/// Where a block starts: the physical address of its first byte, its EIP
/// and its linear address (CS base + EIP) when translated.
#[derive(Clone, Copy, Debug)]
pub(super) struct Origin {
    pub phys: u32,
    pub eip: u32,
    pub lin: u32,
}

/// The ModRM extension of shift or rotate `mn` in the host's C0/C1/D3
/// group (ROL, ROR, SHL, SHR, SAR).
fn shift_ext(mn: Mn) -> u8 {
    match mn {
        Mn::Rol => 0,
        Mn::Ror => 1,
        Mn::Shl | Mn::Sal => 4,
        Mn::Shr => 5,
        _ => 7,
    }
}

/// True when instruction `i` of `items` may leave its flags in the host's
/// flags register for the next: it is an arithmetic or logic operation on
/// a register (no memory access after its host instruction, which
/// computes every status flag, CF exactly as the guest's), and the next is
/// an INC or DEC of a register, whose host instruction keeps CF as the
/// guest's does (the one capture then serves both: the common
/// `sub`/`xor`...; `dec`; `jnz` ending of a loop), or an ADC or SBB of a
/// register and a register or constant, which takes CF from the host's
/// flags (multiword arithmetic: `add`; `adc`).
fn carries_cf(items: &[Item], i: usize) -> bool {
    let alu = matches!(items[i].op, Op::Alu { mn, dst: Loc::Reg(_), .. }
        if i32::from(mn.flags().written) == STATUS);
    alu && items.get(i + 1).is_some_and(|n| {
        matches!(
            n.op,
            Op::Unary {
                mn: Mn::Inc | Mn::Dec,
                dst: Loc::Reg(_),
            }
        ) || adc_of_registers(n)
    })
}

/// True when `it` is an ADC or SBB of a register and a register or
/// constant: its code can take CF from anywhere just before the host's
/// instruction (the host's flags, a recipe) and never bails.
fn adc_of_registers(it: &Item) -> bool {
    matches!(it.op, Op::Alu {
        mn: Mn::Adc | Mn::Sbb,
        dst: Loc::Reg(_),
        src,
    } if src != Loc::Mem)
}

/// True when `it` is an INC or DEC run inline, which keeps CF as the
/// guest's: its flags capture can take CF out of a recipe pending before
/// it instead of settling it first (`Emitter::cf_out_of_recipe`), and a
/// recipe of its own takes the CF before it.
fn inc_dec(it: &Item) -> bool {
    matches!(
        it.op,
        Op::Unary {
            mn: Mn::Inc | Mn::Dec,
            ..
        }
    )
}

/// True when the code for `it` leaves the host's flags register alone
/// (register and constant moves, LEA): a Jcc after it may still branch on
/// the flags an instruction before it left there.
fn keeps_host_flags(it: &Item) -> bool {
    match it.op {
        Op::Mov { dst, src } => dst != Loc::Mem && src != Loc::Mem,
        Op::Lea { .. } | Op::Nop => true,
        _ => false,
    }
}

/// The operations whose recipe a Jcc, SETcc or CMOVcc redoes on the
/// host (`Emitter::redo_recipe`): ADD, SUB, CMP, AND and TEST of any
/// width, which leave a recipe whenever they leave their flags for later
/// (a write to memory never does).
const REDONE: [Mn; 5] = [Mn::Add, Mn::Sub, Mn::Cmp, Mn::And, Mn::Test];

/// The operation and width of recipe `kind`, if it is one of [`REDONE`].
fn redone_op(kind: u32) -> Option<(Mn, u8)> {
    lazy_flags::op_of(kind).filter(|(mn, _)| REDONE.contains(mn))
}

/// Whether `it`'s recipe is one a Jcc, SETcc or CMOVcc redoes.
fn redone(it: &Item) -> bool {
    matches!(it.op, Op::Alu { mn, .. } if REDONE.contains(&mn))
}

/// True when the flags instruction `i` of `items` computes (`live` as
/// `liveness::live_after` gives) are seen, before later instructions
/// overwrite them all, only by leaving the block, or by a Jcc right after
/// it (after only instructions that keep the host's flags) that branches
/// on the host's flags (`host`, the flags its host instruction leaves
/// there as the guest's): generated code may then
/// leave them as a recipe (`lazy_flags.rs`) instead of capturing them.
fn by_recipe(items: &[Item], live: &[i32], i: usize, host: i32) -> bool {
    let redo = redone(&items[i]);
    let mut host_kept = true;
    for (k, it) in items.iter().enumerate().skip(i + 1) {
        if let Op::Jcc { cc, .. } = it.op {
            if host_kept && cond_flags(cc) & !host == 0 {
                return true;
            }
            // (A Jcc after instructions that clobber the host's flags
            // redoes the recipe's operation: `Emitter::redo_recipe`.)
            if redo || host_kept {
                return redo;
            }
        }
        if redo && matches!(it.op, Op::Setcc { .. } | Op::Cmov { .. }) {
            return true;
        }
        host_kept &= keeps_host_flags(it);
        let fx = liveness::effects(it, live[k]);
        if fx.reads == CF && adc_of_registers(it) {
            // It takes CF from the recipe and writes every flag.
            return true;
        }
        if inc_dec(it) {
            // It keeps CF: with flags something sees, it makes its own
            // recipe with this one's CF when it may; with dead ones,
            // only CF goes on.
            if fx.writes & live[k] != 0 {
                return by_recipe(items, live, k, STATUS & !CF);
            }
            continue;
        }
        if fx.reads != 0 || (fx.writes != 0 && fx.writes != STATUS) {
            return false;
        }
        if fx.writes == STATUS || it.ends_block() {
            return true;
        }
    }
    true
}

/// Assembles `items` for execution at address `base`, with its entries
/// and its exits' unlinked code ([`Code`]). `cell_for` gives a chaining
/// cell for a direct exit's target, or a set of cells for an indirect
/// exit.
pub(super) fn block(
    items: &[Item],
    base: usize,
    l: Layout,
    h: Helpers,
    shape: Shape,
    cell_for: &mut dyn FnMut(Option<u32>) -> Option<usize>,
) -> Option<Code> {
    // Room for a typical block from the start (growing the buffers as
    // it is assembled was about a third of the assembler's time).
    let n = items.len();
    let mut ops = Asm::new_with_capacity(base, 512 + 256 * n, 0, 0, 8 + 4 * n, 0, 8 + 4 * n);
    let (live, live_in) = liveness::live_after(items);
    let done = ops.new_dynamic_label();
    let body_label = ops.new_dynamic_label();
    let cached_label = ops.new_dynamic_label();
    let by_recipe = (0..items.len())
        .map(|i| {
            // (Asked only when `Emitter::capture`, never of an
            // instruction that writes no flags.)
            if liveness::effects(&items[i], live[i]).writes == 0 {
                return false;
            }
            // The flags its host instruction leaves as the guest's, for a
            // Jcc right after it (none from a multiply: `host_flags`).
            let host = match items[i].op {
                // (Writing memory, the write's checks come after it.)
                Op::Alu {
                    mn, dst: Loc::Mem, ..
                } if mn.memory_writes() == MemoryWrites::First => 0,
                Op::Unary { dst: Loc::Mem, .. } => 0,
                Op::Unary {
                    mn: Mn::Inc | Mn::Dec,
                    ..
                } if i == 0 || !carries_cf(items, i - 1) => STATUS & !CF,
                Op::Alu { .. } | Op::Unary { .. } => STATUS,
                _ => 0,
            };
            by_recipe(items, &live, i, host)
        })
        .collect();
    // A block that jumps back to its own start keeps its cached registers
    // in place round the loop, unstored: it counts all of them changed
    // from its start on (a changed register is stored at every exit; one
    // stored unchanged costs only the store).
    let start = items.first()?.eip;
    let loops = items
        .iter()
        .any(|it| matches!(it.op, Op::Jmp { target } | Op::Jcc { target, .. } if target == start));
    let cache = regs::choose(items);
    let dirty = match loops {
        true => (0..8u8)
            .filter(|&n| cache.host[usize::from(n)].is_some())
            .fold(0, |d, n| d | 1 << n),
        false => 0,
    };
    let loop_head = loops.then(|| ops.new_dynamic_label());
    let mut e = Emitter {
        ops,
        cell_for,
        origin: shape.origin,
        unlinked: Vec::new(),
        relocs: Vec::new(),
        l,
        h,
        ss32: shape.ss32,
        flat: shape.flat,
        cs_4g: shape.cs_4g,
        key: shape.key,
        done,
        own_start: (start, cached_label, items.len() as u32),
        loop_head,
        cache,
        dirty,
        stubs: Vec::new(),
        lazy: Vec::new(),
        live,
        live_in,
        defer: (0..items.len()).map(|i| carries_cf(items, i)).collect(),
        carry: false,
        carry_in: false,
        cf_in_recipe: false,
        redo: false,
        capture: true,
        pending: None,
        by_recipe: Vec::new(),
        recipe: Recipe::Unknown,
        recipe_kind: 0,
        host_flags: 0,
        ret_exit: None,
    };
    dynasm!(e.ops
        ; .arch x64
        ; push rbx
        ; push rbp
        ; push r12
        ; push r13
        ; push r14
        ; push r15
        ; push WRITE_OK as i32
        ; mov r15, rdi
        ; mov r14, QWORD [rdi + l.host_table]
        ; mov r11, QWORD [BYTE rdi + l.budget]
        ; jmp =>body_label
    );
    // The chained entry: the CS limit (unless 4 GiB) and the budget, which
    // the dispatcher has checked for a block it enters itself; neither
    // fitting, back to the dispatcher, EIP at the block's start and none
    // of its instructions retired.
    let chained = e.ops.offset().0;
    let (no_room, outside) = (e.ops.new_dynamic_label(), e.ops.new_dynamic_label());
    if !shape.cs_4g {
        dynasm!(e.ops ; cmp DWORD [BYTE r15 + l.cs_limit], shape.last_needed as i32);
        e.eip_imm(shape.last_needed);
        dynasm!(e.ops ; jb =>outside);
    }
    let cost = budget::cost(e.own_start.2, true) as i32;
    dynasm!(e.ops
        ; sub r11, cost
        ; jb =>no_room
    );
    let body = e.ops.offset().0;
    dynasm!(e.ops ; =>body_label);
    e.by_recipe = by_recipe;
    e.reload();
    let loop_cost = budget::cost(e.own_start.2, false) as i32;
    let loop_no_room = e.ops.new_dynamic_label();
    if let Some(head) = e.loop_head {
        dynasm!(e.ops
            ; jmp =>cached_label
            ; =>head
            ; sub r11, loop_cost
            ; jb =>loop_no_room
        );
    }
    dynasm!(e.ops ; =>cached_label);
    let mut ended = false;
    let mut i = 0;
    while i < items.len() {
        let run = e.stack_run_len(&items[i..]);
        if run > 0 {
            e.stack_run(i as u32, &items[i..i + run]);
            ended = items[i + run - 1].ends_block();
            i += run;
            continue;
        }
        e.item(i as u32, &items[i]);
        ended = items[i].ends_block();
        i += 1;
    }
    if !ended {
        let last = items.last()?;
        e.direct_exit(last.next, items.len() as u32);
    }
    // Stubs may ask for more stubs (a helper call's bail), so by index.
    let mut k = 0;
    while let Some(&(label, stub)) = e.stubs.get(k) {
        k += 1;
        dynasm!(e.ops ; =>label);
        match stub {
            Stub::Exit {
                eip,
                retired,
                why,
                flags,
                dirty,
            } => {
                e.pending = flags;
                e.flush_flags();
                e.spill(dirty);
                e.exit(eip, retired, why);
            }
            Stub::Settle { back, dirty } => {
                e.settle_on_host(back);
                e.spill(dirty);
                let f = e.h.settle as i64;
                dynasm!(e.ops
                    ; mov rdi, r15
                );
                e.call_out(f);
                e.reload();
                dynasm!(e.ops ; jmp =>back);
            }
            Stub::Restore(to) => {
                let to = e.bail_to(to);
                let ef = e.l.eflags;
                dynasm!(e.ops
                    ; mov DWORD [BYTE r15 + ef], ebp
                    ; jmp =>to
                );
            }
            Stub::Access {
                acc,
                bail,
                back,
                dirty,
            } => {
                e.call_helper(acc, bail, dirty);
                dynasm!(e.ops ; jmp =>back);
            }
            Stub::Unlinked {
                cell,
                target,
                retired,
            } => e.unlinked_exit(cell, target, retired),
        }
    }
    dynasm!(e.ops
        ; =>done
        ; mov QWORD [BYTE r15 + l.budget], r11
        ; add rsp, 8
        ; pop r15
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbp
        ; pop rbx
        ; ret
    );
    // (The chained entry's way back, out of line.)
    dynasm!(e.ops
        ; =>no_room
        ; add r11, cost
        ; =>outside
    );
    e.exit(start, e.own_start.2, EXIT_END);
    if e.loop_head.is_some() {
        // (The loop head's way back: every cached register counts as
        // changed in a loop.)
        dynasm!(e.ops
            ; =>loop_no_room
            ; add r11, loop_cost
        );
        e.spill(dirty);
        e.exit(start, e.own_start.2, EXIT_END);
    }
    let unlinked = std::mem::take(&mut e.unlinked);
    let relocs = std::mem::take(&mut e.relocs);
    Some(Code {
        bytes: e.ops.finalize().ok()?,
        body,
        chained,
        unlinked,
        relocs,
    })
}

/// The status flags condition `cc` (the Jcc/SETcc encoding) reads.
fn cond_flags(cc: u8) -> i32 {
    const ZF: i32 = 0x40;
    const SF: i32 = 0x80;
    const PF: i32 = 0x04;
    const OF: i32 = 0x800;
    match cc >> 1 {
        0 => OF,
        1 => CF,
        2 => ZF,
        3 => CF | ZF,
        4 => SF,
        5 => PF,
        6 => SF | OF,
        _ => ZF | SF | OF,
    }
}

/// Offset of guest register `n` at width `bytes` (AH..BH for 4-7 at 1).
fn gpr_at(l: &Layout, n: u8, bytes: u8) -> i8 {
    let n = (n & 7) as i8;
    if bytes == 1 && n >= 4 {
        l.gpr + 4 * (n - 4) + 1
    } else {
        l.gpr + 4 * n
    }
}

impl Emitter<'_> {
    fn stub(&mut self, stub: Stub) -> DynamicLabel {
        let label = self.ops.new_dynamic_label();
        self.stubs.push((label, stub));
        label
    }

    /// A stub made only if something jumps to it.
    fn lazy(&mut self, stub: Stub) -> Bail {
        self.lazy.push((stub, None));
        Bail(self.lazy.len() - 1)
    }

    /// The label of a lazy stub, which is assembled from now on.
    fn bail_to(&mut self, b: Bail) -> DynamicLabel {
        let (stub, label) = self.lazy[b.0];
        label.unwrap_or_else(|| {
            let label = self.stub(stub);
            self.lazy[b.0].1 = Some(label);
            label
        })
    }

    /// The exit that leaves instruction `i` (at `eip`) to the interpreter.
    fn bail(&mut self, i: u32, eip: u32) -> Bail {
        self.lazy(Stub::Exit {
            eip,
            retired: i,
            why: EXIT_BAIL,
            flags: self.pending,
            dirty: self.dirty,
        })
    }

    /// Stores the cached registers in `dirty` into the `Cpu` struct
    /// (leaves the host's flags alone).
    fn spill(&mut self, dirty: u8) {
        for n in 0..8u8 {
            if let (Some(h), true) = (self.cache.host[usize::from(n)], dirty & 1 << n != 0) {
                let off = gpr_at(&self.l, n, 4);
                dynasm!(self.ops ; mov DWORD [BYTE r15 + off], Rd(h));
            }
        }
    }

    /// Loads every cached register from the `Cpu` struct (leaves the
    /// host's flags alone).
    fn reload(&mut self) {
        for n in 0..8u8 {
            if let Some(h) = self.cache.host[usize::from(n)] {
                let off = gpr_at(&self.l, n, 4);
                dynasm!(self.ops ; mov Rd(h), DWORD [BYTE r15 + off]);
            }
        }
    }

    /// The host register caching guest register `n` (0-7), if any.
    fn host(&self, n: u8) -> Option<u8> {
        self.cache.host[usize::from(n & 7)]
    }

    /// The host register an operation on `loc`, `bytes` wide, may work on
    /// in place: a 32-bit guest register the block caches.
    fn cached32(&self, loc: Loc, bytes: u8) -> Option<u8> {
        match loc {
            Loc::Reg(n) if bytes == 4 => self.host(n),
            _ => None,
        }
    }

    /// The code a block returns when it leaves after `retired` of its
    /// instructions, for `why`: the instructions it did not retire (so
    /// the dispatcher counts the chain's from the budget left: see
    /// `Cpu::run_block`) and the reason.
    fn code(&self, retired: u32, why: u32) -> i32 {
        ((self.own_start.2 - retired) | why << 16) as i32
    }

    /// The instructions retired in the chain so far, less those of this
    /// block after its `i`-th, into rax (uses rcx).
    fn chain_retired(&mut self, i: u32) {
        let l = self.l;
        let after = self.own_start.2 - i - 1;
        dynasm!(self.ops
            ; mov rcx, r11
            ; shr rcx, budget::SHIFT as i8
            ; mov rax, QWORD [r15 + l.budget_top]
            ; sub rax, rcx
            ; sub rax, after as i32
        );
    }

    /// Records that the 32-bit immediate just assembled (the last four
    /// bytes) is `value`, an EIP of the block's (`reloc.rs`).
    fn eip_imm(&mut self, value: u32) {
        let at = (self.ops.offset().0 - 4) as u32;
        self.relocs.push(Reloc::Eip { at, value });
    }

    /// Records that the 64-bit immediate just assembled is `cell`, the
    /// cell of a direct exit to `target`, or (`None`) a set of cells.
    fn cell_imm(&mut self, cell: usize, target: Option<u32>) {
        let at = (self.ops.offset().0 - 8) as u32;
        self.relocs.push(match target {
            Some(target) => Reloc::Cell { at, cell, target },
            None => Reloc::Set { at, set: cell },
        });
    }

    fn exit(&mut self, eip: u32, retired: u32, why: u32) {
        let (at, code, done) = (self.l.eip, self.code(retired, why), self.done);
        dynasm!(self.ops ; mov DWORD [BYTE r15 + at], eip as i32);
        self.eip_imm(eip);
        dynasm!(self.ops
            ; mov eax, code
            ; jmp =>done
        );
    }

    /// Leaves for CS offset `target` after `retired` instructions: straight
    /// into the target's block when its cell is linked and still valid
    /// (see `chain.rs`), else back to the dispatcher, naming the cell.
    fn direct_exit(&mut self, target: u32, retired: u32) {
        if let Some(head) = self.back_edge(target, retired) {
            dynasm!(self.ops ; jmp =>head);
            return;
        }
        let (start, body, insns) = self.own_start;
        if target == start {
            // Back to this block's own start: it is valid (a write to its
            // page would have left it) and within CS (it is running), so
            // only the budget is checked. Pending flags the block
            // overwrites before anything sees them stay out of EFLAGS,
            // and the cached registers stay in place (the block counts
            // them all changed from its start: see `block`).
            if self.pending.is_some_and(|p| p.clear & self.live_in != 0) {
                self.flush_flags();
            }
            let not_now = self.ops.new_dynamic_label();
            let cost = budget::cost(insns, false) as i32;
            dynasm!(self.ops
                ; cmp r11, cost
                ; jb =>not_now
                ; sub r11, cost
            );
            dynasm!(self.ops
                ; jmp =>body
                ; =>not_now
            );
        }
        self.flush_flags();
        self.spill(self.dirty);
        let Some(cell) = (self.cell_for)(Some(target)) else {
            dynasm!(self.ops ; mov ebx, target as i32);
            self.eip_imm(target);
            return self.leave_to_ebx(retired);
        };
        // Through the cell's body: the target's chained entry once linked
        // (valid whenever this block runs: see `chain.rs`; it checks the
        // CS limit and the budget itself), until then the stub's code,
        // which leaves for the dispatcher to link it. EIP is stored only
        // when leaving: blocks store it at every exit and need it nowhere
        // else.
        debug_assert_eq!(offset_of!(Cell, body), 0);
        dynasm!(self.ops ; mov rax, QWORD cell as i64);
        self.cell_imm(cell, Some(target));
        dynasm!(self.ops ; jmp QWORD [rax]);
        // (Out of line, so that the code that runs stays dense.)
        self.stub(Stub::Unlinked {
            cell,
            target,
            retired,
        });
    }

    /// The loop head, for a jump to `target` after `retired` of the
    /// block's instructions when that is back to its start from its end
    /// with no flags pending (pending flags go into EFLAGS on the way
    /// back, or stay out of it: [`Emitter::direct_exit`]).
    fn back_edge(&self, target: u32, retired: u32) -> Option<DynamicLabel> {
        let (start, _, insns) = self.own_start;
        let head = self.loop_head?;
        (target == start && retired == insns && self.pending.is_none()).then_some(head)
    }

    /// [`Stub::Unlinked`]'s code, which it records as the cell's code
    /// that leaves unlinked.
    fn unlinked_exit(&mut self, cell: usize, target: u32, retired: u32) {
        let l = self.l;
        let (at, done, code) = (l.eip, self.done, self.code(retired, EXIT_END));
        self.unlinked.push((cell, self.ops.offset().0));
        dynasm!(self.ops ; mov DWORD [BYTE r15 + at], target as i32);
        self.eip_imm(target);
        dynasm!(self.ops
            ; mov QWORD [r15 + l.link_from], rax
            ; mov eax, code
            ; jmp =>done
        );
    }

    /// Going on into a next block whose cost (`budget::cost`) is in host
    /// `cost`: leaves for `no` unless it fits the budget, else takes it.
    fn take_budget(&mut self, cost: u8, no: DynamicLabel) {
        dynasm!(self.ops
            ; cmp r11, Rq(cost)
            ; jb =>no
            ; sub r11, Rq(cost)
        );
    }

    /// Loads guest register `n` at width `bytes`, zero-extended, into host
    /// `r` (leaves the host's flags alone).
    fn load_reg(&mut self, r: u8, n: u8, bytes: u8) {
        let high = bytes == 1 && n >= 4;
        let whole = if high { n - 4 } else { n & 7 };
        match (self.host(whole), high) {
            (Some(h), false) => {
                match bytes {
                    1 => dynasm!(self.ops ; movzx Rd(r), Rb(h)),
                    2 => dynasm!(self.ops ; movzx Rd(r), Rw(h)),
                    _ => dynasm!(self.ops ; mov Rd(r), Rd(h)),
                }
                return;
            }
            // AH..BH of a cached register: through its slot.
            (Some(_), true) => self.spill(self.dirty & 1 << whole),
            _ => {}
        }
        let off = gpr_at(&self.l, n, bytes);
        match bytes {
            1 => dynasm!(self.ops ; movzx Rd(r), BYTE [BYTE r15 + off]),
            2 => dynasm!(self.ops ; movzx Rd(r), WORD [BYTE r15 + off]),
            _ => dynasm!(self.ops ; mov Rd(r), DWORD [BYTE r15 + off]),
        }
    }

    /// Stores the low `bytes` of host `r` into guest register `n` (leaves
    /// the host's flags alone).
    fn store_reg(&mut self, r: u8, n: u8, bytes: u8) {
        let high = bytes == 1 && n >= 4;
        let whole = if high { n - 4 } else { n & 7 };
        let cached = self.host(whole);
        let slot = gpr_at(&self.l, whole, 4);
        if let Some(h) = cached {
            self.dirty |= 1 << whole;
            if !high {
                match bytes {
                    1 => dynasm!(self.ops ; mov Rb(h), Rb(r)),
                    2 => dynasm!(self.ops ; mov Rw(h), Rw(r)),
                    _ => dynasm!(self.ops ; mov Rd(h), Rd(r)),
                }
                return;
            }
            // AH..BH of a cached register: through its slot.
            dynasm!(self.ops ; mov DWORD [BYTE r15 + slot], Rd(h));
        }
        let off = gpr_at(&self.l, n, bytes);
        match bytes {
            1 => dynasm!(self.ops ; mov BYTE [BYTE r15 + off], Rb(r)),
            2 => dynasm!(self.ops ; mov WORD [BYTE r15 + off], Rw(r)),
            _ => dynasm!(self.ops ; mov DWORD [BYTE r15 + off], Rd(r)),
        }
        if let Some(h) = cached {
            dynasm!(self.ops ; mov Rd(h), DWORD [BYTE r15 + slot]);
        }
    }

    /// Loads a register or immediate operand into host `r` (memory
    /// operands are read separately).
    fn load(&mut self, r: u8, loc: Loc, bytes: u8) {
        match loc {
            Loc::Reg(n) => self.load_reg(r, n, bytes),
            Loc::Imm(v) => dynasm!(self.ops ; mov Rd(r), v as i32),
            Loc::Mem => {}
        }
    }

    /// Any operand into host `r`: memory read at `seg`:r12d (or a bail),
    /// registers and immediates loaded.
    fn load_any(&mut self, r: u8, loc: Loc, bytes: u8, seg: SegReg, bail: Bail) {
        if loc != Loc::Mem {
            return self.load(r, loc, bytes);
        }
        self.read(seg, bytes, 12, bail);
        if r != RAX {
            dynasm!(self.ops ; mov Rd(r), eax);
        }
    }

    /// True when the block's data segments are flat and `seg` is one of
    /// them: an offset is then the linear address.
    fn flat_seg(&self, seg: SegReg) -> bool {
        self.flat && matches!(seg, SegReg::Ds | SegReg::Es | SegReg::Ss)
    }

    /// The effective address's offset into r12d.
    fn ea(&mut self, insn: &Insn) {
        self.ea_to(insn, 12);
    }

    /// [`Emitter::ea`] into host register `r`.
    fn ea_to(&mut self, insn: &Insn, r: u8) {
        let Some(m) = insn.mem else { return };
        let disp = m.disp as i32;
        // The base and the index in host registers (a cached register
        // where there is one, r12 and rax otherwise), then one LEA.
        let base = m.base.map(|b| {
            self.host(b as u8).unwrap_or_else(|| {
                self.load_reg(12, b as u8, 4);
                12
            })
        });
        let index = m.index.map(|x| {
            self.host(x as u8).unwrap_or_else(|| {
                self.load_reg(RAX, x as u8, 4);
                RAX
            })
        });
        // (A displacement that fits a byte takes one: the code's size
        // counts.)
        match (base, index, i8::try_from(disp).ok()) {
            (None, None, _) => dynasm!(self.ops ; mov Rd(r), disp),
            // (The base already where the address goes, or a move.)
            (Some(b), None, Some(0)) if b == r => {}
            (Some(b), None, Some(0)) => dynasm!(self.ops ; mov Rd(r), Rd(b)),
            (Some(b), None, Some(d)) => dynasm!(self.ops ; lea Rd(r), [BYTE Rq(b) + d]),
            (Some(b), None, None) => dynasm!(self.ops ; lea Rd(r), [Rq(b) + disp]),
            (None, Some(x), _) => match m.scale {
                0 => dynasm!(self.ops ; lea Rd(r), [Rq(x) + disp]),
                1 => dynasm!(self.ops ; lea Rd(r), [Rq(x) * 2 + disp]),
                2 => dynasm!(self.ops ; lea Rd(r), [Rq(x) * 4 + disp]),
                _ => dynasm!(self.ops ; lea Rd(r), [Rq(x) * 8 + disp]),
            },
            (Some(b), Some(x), Some(d)) => match m.scale {
                0 => dynasm!(self.ops ; lea Rd(r), [BYTE Rq(b) + Rq(x) + d]),
                1 => dynasm!(self.ops ; lea Rd(r), [BYTE Rq(b) + Rq(x) * 2 + d]),
                2 => dynasm!(self.ops ; lea Rd(r), [BYTE Rq(b) + Rq(x) * 4 + d]),
                _ => dynasm!(self.ops ; lea Rd(r), [BYTE Rq(b) + Rq(x) * 8 + d]),
            },
            (Some(b), Some(x), None) => match m.scale {
                0 => dynasm!(self.ops ; lea Rd(r), [Rq(b) + Rq(x) + disp]),
                1 => dynasm!(self.ops ; lea Rd(r), [Rq(b) + Rq(x) * 2 + disp]),
                2 => dynasm!(self.ops ; lea Rd(r), [Rq(b) + Rq(x) * 4 + disp]),
                _ => dynasm!(self.ops ; lea Rd(r), [Rq(b) + Rq(x) * 8 + disp]),
            },
        }
        if !insn.addr32 {
            dynasm!(self.ops ; movzx Rd(r), Rw(r));
        }
    }

    /// Reads `bytes` at `seg`:(host `off`) into eax, or bails.
    fn read(&mut self, seg: SegReg, bytes: u8, off: u8, bail: Bail) {
        self.access(
            Access {
                seg,
                bytes,
                off,
                write: None,
                smc: None,
            },
            bail,
        );
    }

    /// Writes host `val` at `seg`:(host `off`), or bails; a helper's status
    /// goes to `[rsp]` for [`Emitter::smc_check`].
    fn write(&mut self, seg: SegReg, bytes: u8, off: u8, val: u8, bail: Bail) {
        self.write_or_leave(seg, bytes, off, val, bail, None);
    }

    /// [`Emitter::write`] of ebx for a write that ends instruction `i`
    /// (which changes nothing after it): only the helper can write this
    /// block's code (the inline path never writes a code page), so the
    /// helper's path checks its status and leaves, and the inline path
    /// checks nothing (as [`Emitter::smc_check`] would after it).
    fn store_last(&mut self, seg: SegReg, bytes: u8, off: u8, bail: Bail, i: u32, next: u32) {
        let smc = self.smc_exit(i, next);
        self.write_or_leave(seg, bytes, off, RBX, bail, Some(smc));
    }

    /// [`Emitter::write`], the helper's path going to `smc` (if any) when
    /// the write changed the block's code.
    fn write_or_leave(
        &mut self,
        seg: SegReg,
        bytes: u8,
        off: u8,
        val: u8,
        bail: Bail,
        smc: Option<DynamicLabel>,
    ) {
        debug_assert!(val > RDX, "the fast path uses rax, rcx and rdx");
        self.access(
            Access {
                seg,
                bytes,
                off,
                write: Some(val),
                smc,
            },
            bail,
        );
    }

    /// The access inline when the segment's bounds are known (or the
    /// block's segments are flat) and the TLB's host entry for the page
    /// matches (the page, the generation and the privilege), the helper
    /// out of line otherwise. Uses rax, rcx and rdx; a read leaves its
    /// value in eax.
    fn access(&mut self, acc: Access, bail: Bail) {
        let back = self.ops.new_dynamic_label();
        let slow = self.stub(Stub::Access {
            acc,
            bail,
            back,
            dirty: self.dirty,
        });
        let kind = i32::from(acc.write.is_some());
        let (off, last) = (acc.off, i32::from(acc.bytes) - 1);
        let flat = self.flat_seg(acc.seg);
        // (An offset in eax is only ever a flat segment's: `Op::Mov`.)
        debug_assert!(flat || off != RAX);
        if flat {
            if off != RAX {
                dynasm!(self.ops ; mov eax, Rd(off));
            }
        } else {
            let live_bit = 1i16 << (acc.seg as i32 * 2 + kind);
            let sf = self.l.seg_fast + acc.seg as i32 * size_of::<SegFast>() as i32;
            let (base, limit) = (
                sf + offset_of!(SegFast, base) as i32,
                sf + offset_of!(SegFast, limit) as i32,
            );
            let live = self.l.seg_live;
            dynasm!(self.ops
                // The segment: offset .. offset + n - 1 within the limit.
                ; test WORD [r15 + live], live_bit
                ; jz =>slow
                ; mov eax, Rd(off)
                ; lea rcx, [rax + last]
                ; mov edx, DWORD [r15 + limit]
                ; cmp rcx, rdx
                ; ja =>slow
                ; add eax, DWORD [r15 + base]
            );
        }
        self.host_pointer(kind, last, slow);
        match (acc.write, acc.bytes) {
            (None, 1) => dynasm!(self.ops ; movzx eax, BYTE [rax]),
            (None, 2) => dynasm!(self.ops ; movzx eax, WORD [rax]),
            (None, _) => dynasm!(self.ops ; mov eax, DWORD [rax]),
            (Some(v), 1) => dynasm!(self.ops ; mov BYTE [rax], Rb(v)),
            (Some(v), 2) => dynasm!(self.ops ; mov WORD [rax], Rw(v)),
            (Some(v), _) => dynasm!(self.ops ; mov DWORD [rax], Rd(v)),
        }
        dynasm!(self.ops ; =>back);
    }

    /// The host pointer for the linear address in eax into rax, when the
    /// TLB's host entry for its page (reads for `kind` 0, writes for 1)
    /// matches and the byte `last` bytes on lies on the same page; else
    /// to `slow`. Uses rax, rcx and rdx.
    fn host_pointer(&mut self, kind: i32, last: i32, slow: DynamicLabel) {
        debug_assert!((0..128).contains(&last));
        let key = self.l.host_key;
        // (Short displacements, as the code's size counts: the fields of
        // a host entry and the last byte's offset all fit a byte.)
        let tag = (offset_of!(HostEntry, tags) as i32 + kind * 4) as i8;
        let addend = offset_of!(HostEntry, addend) as i8;
        const _: () = assert!(offset_of!(HostEntry, addend) < 128 && size_of::<HostEntry>() <= 128);
        let shift = size_of::<HostEntry>().trailing_zeros() as i8;
        debug_assert!(size_of::<HostEntry>().is_power_of_two() && shift <= 12);
        dynasm!(self.ops
            // The page: the entry of the first byte's page must carry the
            // last byte's page (so the access stays on one page; a flat
            // offset wrapping past 4 GiB names page 0, never in the entry
            // of page 0xFFFFF's slot) and the key.
            // The slot (`tlb::slot_of`), scaled to the entry size.
            ; mov ecx, eax
            ; shr ecx, 12 - shift
            ; and ecx, ((TLB_SIZE as i32 - 1) << shift)
        );
        if last == 0 {
            dynasm!(self.ops ; mov edx, eax);
        } else {
            dynasm!(self.ops ; lea edx, [BYTE rax + last as i8]);
        }
        dynasm!(self.ops
            ; and edx, !0xFFF
            ; or edx, DWORD [BYTE r15 + key]
            ; cmp edx, DWORD [BYTE r14 + rcx + tag]
            ; jne =>slow
            ; add rax, QWORD [BYTE r14 + rcx + addend]
        );
    }

    /// The helper call for an access (the slow path): a read's value in
    /// eax, a write's status in `[rsp]`; bails when the helper says so.
    fn call_helper(&mut self, acc: Access, bail: Bail, dirty: u8) {
        let (arg, off, bus) = (seg_size(acc.seg, acc.bytes) as i32, acc.off, self.l.bus);
        let bail = self.bail_to(bail);
        self.spill(dirty);
        match acc.write {
            None => {
                let f = self.h.read as i64;
                dynasm!(self.ops
                    ; mov rdi, r15
                    ; mov rsi, QWORD [BYTE r15 + bus]
                    ; mov edx, arg
                    ; mov ecx, Rd(off)
                );
                self.call_out(f);
                dynasm!(self.ops
                    ; mov rcx, rax
                    ; shr rcx, 32
                );
                self.reload();
                dynasm!(self.ops ; jnz =>bail);
            }
            Some(val) => {
                let f = self.h.write as i64;
                dynasm!(self.ops
                    ; mov r8d, Rd(val)
                    ; mov rdi, r15
                    ; mov rsi, QWORD [BYTE r15 + bus]
                    ; mov edx, arg
                    ; mov ecx, Rd(off)
                );
                self.call_out(f);
                dynasm!(self.ops
                    ; cmp eax, WRITE_BAIL as i32
                );
                self.reload();
                dynasm!(self.ops
                    ; je =>bail
                    ; mov DWORD [rsp], eax
                );
                if let Some(smc) = acc.smc {
                    dynasm!(self.ops
                        ; cmp eax, WRITE_SMC as i32
                        ; je =>smc
                    );
                }
            }
        }
    }

    /// After an instruction that wrote memory: leave when the write changed
    /// this block's code.
    fn smc_check(&mut self, i: u32, next: u32) {
        let smc = self.smc_exit(i, next);
        // (`cmp DWORD [rsp], imm8`, which dynasm would encode with a
        // 32-bit immediate.)
        const _: () = assert!(WRITE_SMC < 128);
        self.ops.extend([0x83, 0x3C, 0x24, WRITE_SMC as u8]);
        dynasm!(self.ops ; je =>smc);
    }

    /// The exit after instruction `i` when a write changed the block's
    /// code: EIP = `next`, with the state as it is now.
    fn smc_exit(&mut self, i: u32, next: u32) -> DynamicLabel {
        self.exit_after(i, next, EXIT_SMC)
    }

    /// The exit after instruction `i` for `why`: EIP = `next`, with the
    /// state as it is now.
    fn exit_after(&mut self, i: u32, next: u32, why: u32) -> DynamicLabel {
        self.stub(Stub::Exit {
            eip: next,
            retired: i + 1,
            why,
            flags: self.pending,
            dirty: self.dirty,
        })
    }

    /// Host flags into ebp (unless the instruction's flags are dead).
    fn capture_flags(&mut self) {
        if self.capture {
            dynasm!(self.ops ; pushfq ; pop rbp);
        }
    }

    /// The instruction's flags: EFLAGS bits in `clear` are to become the
    /// host bits of ebp in `keep` (the others of `clear` zero). They stay
    /// pending until something may see them; dead flags are not computed
    /// at all, and any pending ones they overwrite are dropped. Returns
    /// true when the code it adds changes the host's flags (taking CF out
    /// of a recipe), which then no longer hold the instruction's.
    fn set_flags(&mut self, keep: i32, clear: i32) -> bool {
        let mut host_lost = false;
        if self.capture {
            debug_assert!(self.pending.is_none_or(|p| p.clear & !clear == 0));
            if self.recipe != Recipe::Clear {
                // Only an instruction that writes every status flag, or
                // every one but CF, captures with a recipe possibly
                // pending (`flags_before`).
                if clear & STATUS == STATUS {
                    let kind = self.lazy_at(offset_of!(LazyFlags, kind));
                    dynasm!(self.ops ; mov DWORD [BYTE r15 + kind], 0);
                } else {
                    debug_assert_eq!(clear & STATUS, STATUS & !CF);
                    self.cf_out_of_recipe();
                    host_lost = true;
                }
                self.recipe = Recipe::Clear;
            }
            self.pending = Some(Pending { keep, clear });
        } else if let Some(p) = self.pending {
            self.pending = (p.clear & !clear != 0).then_some(Pending {
                keep: p.keep & !clear,
                clear: p.clear & !clear,
            });
        }
        host_lost
    }

    /// Puts pending flags into EFLAGS (uses eax and ebp).
    fn flush_flags(&mut self) {
        let Some(Pending { keep, clear }) = self.pending.take() else {
            return;
        };
        let ef = self.l.eflags;
        dynasm!(self.ops
            ; and ebp, keep
            ; mov eax, DWORD [BYTE r15 + ef]
            ; and eax, !clear
            ; or eax, ebp
            ; mov DWORD [BYTE r15 + ef], eax
        );
    }

    /// Before instruction `i`: whether it computes its flags, and the
    /// pending flags put into EFLAGS first where they must be: it reads
    /// flags, it leaves the block, it would overwrite only some of them,
    /// or it may still bail after computing its own (a memory
    /// destination), which would lose them from ebp.
    fn flags_before(&mut self, i: u32, it: &Item) {
        let fx = liveness::effects(it, self.live[i as usize]);
        self.capture = fx.writes & self.live[i as usize] != 0;
        self.carry_in = std::mem::take(&mut self.carry);
        // (An INC or DEC capturing the CF of the instruction before it
        // writes every status flag; an ADC or SBB using it reads none
        // from EFLAGS.)
        let (written, mut reads) = match self.carry_in {
            true => (fx.writes | CF, fx.reads & !CF),
            false => (fx.writes, fx.reads),
        };
        // (An ADC or SBB takes CF from a recipe this block left.)
        self.cf_in_recipe = reads == CF && self.recipe == Recipe::Set && adc_of_registers(it);
        if self.cf_in_recipe {
            reads = 0;
        }
        // (A SETcc or CMOVcc redoes a recipe this block set.)
        self.redo = matches!(it.op, Op::Setcc { .. } | Op::Cmov { .. })
            && !self.carry_in
            && self.recipe_redone();
        if self.redo {
            reads = 0;
        }
        if reads != 0
            || (self.capture && written != STATUS && !self.inc_dec_by_recipe(i, it) && !inc_dec(it))
        {
            self.settle_recipe();
        }
        if self.defer[i as usize] {
            // The next instruction captures this one's CF with its flags.
            self.carry = std::mem::replace(&mut self.capture, false);
        }
        let bail_after = fx.writes != 0 && fx.exits && liveness::writes_guest_memory(it);
        let partial = self.pending.is_some_and(|p| p.clear & !fx.writes != 0);
        if reads != 0 || it.ends_block() || (self.capture && (bail_after || partial)) {
            self.flush_flags();
        }
    }

    /// True when instruction `i`, an INC or DEC whose flags are seen,
    /// leaves them as a recipe (with the CF before it).
    fn inc_dec_by_recipe(&self, i: u32, it: &Item) -> bool {
        inc_dec(it) && self.capture && self.by_recipe[i as usize]
    }

    /// Before an INC/DEC's recipe: its CF (which it keeps) into the
    /// recipe's `cf`: a pending recipe's CF is there already, else it is
    /// EFLAGS's (any pending flags hold no CF: `flags_before` put those
    /// into EFLAGS). Uses eax.
    fn cf_from_before(&mut self) {
        let (kind, cf, ef) = (
            self.lazy_at(offset_of!(LazyFlags, kind)),
            self.lazy_at(offset_of!(LazyFlags, cf)),
            self.l.eflags,
        );
        debug_assert!(self.pending.is_none_or(|p| p.clear & CF == 0));
        let done = self.ops.new_dynamic_label();
        match self.recipe {
            Recipe::Set => return,
            Recipe::Unknown => dynasm!(self.ops
                ; cmp DWORD [BYTE r15 + kind], 0
                ; jne =>done
            ),
            Recipe::Clear => {}
        }
        dynasm!(self.ops
            ; mov eax, DWORD [BYTE r15 + ef]
            ; and eax, CF
            ; mov BYTE [BYTE r15 + cf], al
            ; =>done
        );
    }

    /// Before an INC or DEC's captured flags (every status flag but CF)
    /// replace a recipe that may be pending: the recipe's CF into EFLAGS,
    /// and the recipe dropped, instead of settling it all (its other flags
    /// are about to be overwritten; the INC or DEC can no longer bail).
    /// Uses eax.
    fn cf_out_of_recipe(&mut self) {
        let (kind, cf, ef) = (
            self.lazy_at(offset_of!(LazyFlags, kind)),
            self.lazy_at(offset_of!(LazyFlags, cf)),
            self.l.eflags,
        );
        let none = self.ops.new_dynamic_label();
        if self.recipe == Recipe::Unknown {
            dynasm!(self.ops
                ; cmp DWORD [BYTE r15 + kind], 0
                ; je =>none
            );
        }
        dynasm!(self.ops
            ; movzx eax, BYTE [BYTE r15 + cf]
            ; and DWORD [BYTE r15 + ef], !CF
            ; or DWORD [BYTE r15 + ef], eax
            ; mov DWORD [BYTE r15 + kind], 0
            ; =>none
        );
    }

    /// Where a recipe may be pending, puts it into EFLAGS (through
    /// [`lazy_flags::settle`], out of line, when one is).
    fn settle_recipe(&mut self) {
        if self.recipe == Recipe::Clear {
            return;
        }
        debug_assert!(!self.carry_in, "the check would lose the host's CF");
        let back = self.ops.new_dynamic_label();
        let stub = self.stub(Stub::Settle {
            back,
            dirty: self.dirty,
        });
        let kind = self.lazy_at(offset_of!(LazyFlags, kind));
        dynasm!(self.ops
            ; cmp DWORD [BYTE r15 + kind], 0
            ; jne =>stub
            ; =>back
        );
        self.recipe = Recipe::Clear;
    }

    /// The start of a settle stub: the commonest recipes (32-bit ADD,
    /// SUB, CMP, AND, TEST, ADC and SBB) redone by the host, whose flags
    /// for them are the interpreter's (AF cleared for the logic ones, as
    /// `Cpu::alu` does), merged into EFLAGS; then on to `back`. Any other
    /// recipe falls through to the call of `lazy_flags::settle`. Uses eax
    /// and ecx (free here, as around that call).
    fn settle_on_host(&mut self, back: DynamicLabel) {
        let code = |mn| lazy_flags::kind(mn, 4).unwrap_or(0) as i32;
        let (kind, ef) = (self.lazy_at(offset_of!(LazyFlags, kind)), self.l.eflags);
        let [host, merge, general] = [(); 3].map(|_| self.ops.new_dynamic_label());
        // Each operation redone, with its code's label; SUB is redone as
        // CMP and TEST as AND (the same flags).
        let ops = [Mn::Cmp, Mn::Add, Mn::Adc, Mn::Sbb, Mn::And]
            .map(|mn| (mn, self.ops.new_dynamic_label()));
        let label = |mn| ops.iter().find(|&&(m, _)| m == mn).map(|&(_, l)| l);
        dynasm!(self.ops ; mov eax, DWORD [BYTE r15 + kind]);
        for (mn, as_mn) in [
            (Mn::Cmp, Mn::Cmp),
            (Mn::Sub, Mn::Cmp),
            (Mn::Add, Mn::Add),
            (Mn::Adc, Mn::Adc),
            (Mn::Sbb, Mn::Sbb),
            (Mn::Test, Mn::And),
            (Mn::And, Mn::And),
        ] {
            let to = label(as_mn).unwrap_or(general);
            dynasm!(self.ops
                ; cmp eax, code(mn)
                ; je =>to
            );
        }
        dynasm!(self.ops ; jmp =>general);
        for (mn, at) in ops {
            dynasm!(self.ops ; =>at);
            self.redo_op(mn, 4);
            match mn {
                Mn::And => dynasm!(self.ops
                    ; pushfq
                    ; pop rax
                    ; and eax, STATUS & !AF
                    ; jmp =>merge
                ),
                _ => dynasm!(self.ops ; jmp =>host),
            }
        }
        dynasm!(self.ops
            ; =>host
            ; pushfq
            ; pop rax
            ; and eax, STATUS
            ; =>merge
            ; mov ecx, DWORD [BYTE r15 + ef]
            ; and ecx, !STATUS
            ; or ecx, eax
            ; mov DWORD [BYTE r15 + ef], ecx
            ; mov DWORD [BYTE r15 + kind], 0
            ; jmp =>back
            ; =>general
        );
    }

    /// Calls the helper at `f` (its arguments in place), with the budget
    /// in `Near::budget` around the call (helpers read it, and r11 is
    /// theirs to clobber).
    fn call_out(&mut self, f: i64) {
        let budget = self.l.budget;
        dynasm!(self.ops
            ; mov rax, QWORD f
            ; mov QWORD [BYTE r15 + budget], r11
            ; call rax
            ; mov r11, QWORD [BYTE r15 + budget]
        );
    }

    /// The offset from the CPU of the recipe's field at `field`.
    fn lazy_at(&self, field: usize) -> i8 {
        self.l.lazy + field as i8
    }

    /// Leaves the flags of `mn` (`bytes` wide) on host `a` and `b` (a
    /// host register or an immediate), about to run as the host's
    /// instruction, as a recipe instead of capturing them: stores the
    /// operands and the code (the host's flags register is left alone);
    /// [`Emitter::recipe_cf`] stores its CF after it.
    fn store_recipe(&mut self, kind: u32, a: u8, b: Option<Result<u8, u32>>) {
        let (ka, kb, kk) = (
            self.lazy_at(offset_of!(LazyFlags, a)),
            self.lazy_at(offset_of!(LazyFlags, b)),
            self.lazy_at(offset_of!(LazyFlags, kind)),
        );
        dynasm!(self.ops ; mov DWORD [BYTE r15 + ka], Rd(a));
        match b {
            Some(Ok(r)) => dynasm!(self.ops ; mov DWORD [BYTE r15 + kb], Rd(r)),
            Some(Err(v)) => dynasm!(self.ops ; mov DWORD [BYTE r15 + kb], v as i32),
            None => {}
        }
        dynasm!(self.ops ; mov DWORD [BYTE r15 + kk], kind as i32);
        // It replaces every status flag: nothing is pending any more.
        self.pending = None;
        self.recipe = Recipe::Set;
        self.recipe_kind = kind;
    }

    /// Right after a multiply's host instruction (computing no flags of its
    /// own: `capture` off), its flags as a recipe: the low half of the
    /// product in host `lo` and CF (= OF), whether the high half was
    /// needed.
    fn mul_recipe(&mut self, lo: u8, bytes: u8) {
        let kind = lazy_flags::kind(Mn::Mul, bytes).unwrap_or(0);
        self.recipe_cf();
        self.store_recipe(kind, lo, None);
    }

    /// Right after the host's instruction of a recipe's operation: its CF
    /// into the recipe.
    fn recipe_cf(&mut self) {
        let cf = self.lazy_at(offset_of!(LazyFlags, cf));
        dynasm!(self.ops ; setc BYTE [BYTE r15 + cf]);
    }

    /// Whether a recipe this block set is pending and a Jcc, SETcc or
    /// CMOVcc may redo it ([`REDONE`]).
    fn recipe_redone(&self) -> bool {
        self.recipe == Recipe::Set && redone_op(self.recipe_kind).is_some()
    }

    /// For a Jcc, SETcc or CMOVcc while [`Emitter::recipe_redone`]: its
    /// operation again at its width on the recipe's operands, leaving the
    /// guest's status flags (but AF, which no condition reads) in the
    /// host's. The recipe stays pending. Uses eax.
    fn redo_recipe(&mut self) {
        let op = redone_op(self.recipe_kind);
        debug_assert!(op.is_some());
        let (mn, bytes) = op.unwrap_or((Mn::Cmp, 4));
        self.redo_op(mn, bytes);
    }

    /// A recipe's operation `mn` (ADD, SUB/CMP, AND/TEST, ADC or SBB),
    /// `bytes` wide, on its operands in `Near::lazy` (ADC and SBB with the
    /// CF they took): the result in eax, the guest's status flags in the
    /// host's (AF too, but for the logic operations, whose AF the
    /// interpreter clears). Uses eax and ecx.
    fn redo_op(&mut self, mn: Mn, bytes: u8) {
        let (a, b, carry_in) = (
            self.lazy_at(offset_of!(LazyFlags, a)),
            self.lazy_at(offset_of!(LazyFlags, b)),
            self.lazy_at(offset_of!(LazyFlags, carry_in)),
        );
        if matches!(mn, Mn::Adc | Mn::Sbb) {
            debug_assert_eq!(bytes, 4);
            dynasm!(self.ops
                ; movzx ecx, BYTE [BYTE r15 + carry_in]
                ; shr ecx, 1
            );
        }
        dynasm!(self.ops ; mov eax, DWORD [BYTE r15 + a]);
        match (mn, bytes) {
            (Mn::Add, 1) => dynasm!(self.ops ; add al, BYTE [BYTE r15 + b]),
            (Mn::Add, 2) => dynasm!(self.ops ; add ax, WORD [BYTE r15 + b]),
            (Mn::Add, _) => dynasm!(self.ops ; add eax, DWORD [BYTE r15 + b]),
            (Mn::Adc, _) => dynasm!(self.ops ; adc eax, DWORD [BYTE r15 + b]),
            (Mn::Sbb, _) => dynasm!(self.ops ; sbb eax, DWORD [BYTE r15 + b]),
            (Mn::And | Mn::Test, 1) => dynasm!(self.ops ; and al, BYTE [BYTE r15 + b]),
            (Mn::And | Mn::Test, 2) => dynasm!(self.ops ; and ax, WORD [BYTE r15 + b]),
            (Mn::And | Mn::Test, _) => dynasm!(self.ops ; and eax, DWORD [BYTE r15 + b]),
            (_, 1) => dynasm!(self.ops ; cmp al, BYTE [BYTE r15 + b]),
            (_, 2) => dynasm!(self.ops ; cmp ax, WORD [BYTE r15 + b]),
            _ => dynasm!(self.ops ; cmp eax, DWORD [BYTE r15 + b]),
        }
    }

    /// Jcc `cc` right after an instruction that left the flags it reads in
    /// the host's flags register (`host_flags`): the host's own Jcc picks
    /// the path, and each path puts the pending flags into EFLAGS as it
    /// leaves.
    fn jcc_on_host_flags(&mut self, i: u32, it: &Item, cc: u8, target: u32) {
        if let Some(head) = self.back_edge(target, i + 1) {
            self.host_jcc(cc, head);
            return self.direct_exit(it.next, i + 1);
        }
        let taken = self.ops.new_dynamic_label();
        self.host_jcc(cc, taken);
        let pending = self.pending;
        self.direct_exit(it.next, i + 1);
        self.pending = pending;
        dynasm!(self.ops ; =>taken);
        self.direct_exit(target, i + 1);
    }

    /// The host's Jcc `cc` to `to`, on the host's flags.
    fn host_jcc(&mut self, cc: u8, to: DynamicLabel) {
        match cc {
            0 => dynasm!(self.ops ; jo =>to),
            1 => dynasm!(self.ops ; jno =>to),
            2 => dynasm!(self.ops ; jb =>to),
            3 => dynasm!(self.ops ; jae =>to),
            4 => dynasm!(self.ops ; je =>to),
            5 => dynasm!(self.ops ; jne =>to),
            6 => dynasm!(self.ops ; jbe =>to),
            7 => dynasm!(self.ops ; ja =>to),
            8 => dynasm!(self.ops ; js =>to),
            9 => dynasm!(self.ops ; jns =>to),
            10 => dynasm!(self.ops ; jp =>to),
            11 => dynasm!(self.ops ; jnp =>to),
            12 => dynasm!(self.ops ; jl =>to),
            13 => dynasm!(self.ops ; jge =>to),
            14 => dynasm!(self.ops ; jle =>to),
            _ => dynasm!(self.ops ; jg =>to),
        }
    }

    /// Condition `cc` of the guest flags into eax (0 or 1), by bit
    /// arithmetic on EFLAGS (no POPF).
    fn cond(&mut self, cc: u8) {
        let ef = self.l.eflags;
        dynasm!(self.ops ; mov eax, DWORD [BYTE r15 + ef]);
        match cc >> 1 {
            0 => dynasm!(self.ops ; shr eax, 11),
            1 => {}
            2 => dynasm!(self.ops ; shr eax, 6),
            3 => dynasm!(self.ops
                ; mov ecx, eax
                ; shr ecx, 6
                ; or eax, ecx),
            4 => dynasm!(self.ops ; shr eax, 7),
            5 => dynasm!(self.ops ; shr eax, 2),
            6 => dynasm!(self.ops
                ; mov ecx, eax
                ; shr ecx, 4
                ; xor eax, ecx
                ; shr eax, 7),
            _ => dynasm!(self.ops
                ; mov ecx, eax
                ; shr ecx, 4
                ; xor ecx, eax
                ; shr ecx, 7
                ; shr eax, 6
                ; or eax, ecx),
        }
        dynasm!(self.ops ; and eax, 1);
        if cc & 1 != 0 {
            dynasm!(self.ops ; xor eax, 1);
        }
    }

    /// Jumps to `to` when condition `cc` of the guest flags in EFLAGS
    /// holds (uses eax and ecx): one TEST of EFLAGS for a condition of
    /// flags set, [`Emitter::cond`]'s arithmetic for SF != OF.
    fn jump_if(&mut self, cc: u8, to: DynamicLabel) {
        let ef = self.l.eflags;
        let mask = match cc >> 1 {
            0 => Some(0x800),
            1 => Some(CF),
            2 => Some(0x40),
            3 => Some(CF | 0x40),
            4 => Some(0x80),
            5 => Some(0x04),
            _ => None,
        };
        match mask {
            Some(m) => dynasm!(self.ops ; test DWORD [BYTE r15 + ef], m),
            None => {
                self.cond(cc & !1);
                dynasm!(self.ops ; test al, al);
            }
        }
        match cc & 1 {
            0 => dynasm!(self.ops ; jnz =>to),
            _ => dynasm!(self.ops ; jz =>to),
        }
    }

    /// SP - `bytes` (wrapped to the stack width) into r13d.
    fn push_slot(&mut self, bytes: u8) {
        self.load_reg(R13, ESP, 4);
        dynasm!(self.ops ; sub r13d, i32::from(bytes));
        if !self.ss32 {
            dynasm!(self.ops ; movzx r13d, r13w);
        }
    }

    /// SP (wrapped to the stack width) into r13d.
    fn pop_slot(&mut self) {
        self.load_reg(R13, ESP, 4);
        if !self.ss32 {
            dynasm!(self.ops ; movzx r13d, r13w);
        }
    }

    /// Stores host `r` as the new stack pointer (the low half only on a
    /// 16-bit stack).
    fn set_sp(&mut self, r: u8) {
        let width = if self.ss32 { 4 } else { 2 };
        self.store_reg(r, 4, width);
    }

    /// Pushes host ebx (`bytes` wide): the write, then SP.
    fn push_ebx(&mut self, bytes: u8, bail: Bail) {
        self.push_slot(bytes);
        self.write(SegReg::Ss, bytes, R13, RBX, bail);
        self.set_sp(R13);
    }

    /// How many of `items` from the first make a run of PUSHes, or of
    /// POPs, of whole 32-bit registers (not ESP) or constants on a flat
    /// 32-bit stack that [`Emitter::stack_run`] may do at once: none
    /// unless at least two.
    fn stack_run_len(&self, items: &[Item]) -> usize {
        if !(self.flat && self.ss32) {
            return 0;
        }
        let push = |it: &Item| match it.op {
            Op::Push { src: Loc::Reg(n) } if it.bytes == 4 && n != ESP => Some(true),
            Op::Push { src: Loc::Imm(_) } if it.bytes == 4 => Some(true),
            Op::Pop { dst } if it.bytes == 4 && dst != ESP => Some(false),
            _ => None,
        };
        let Some(first) = items.first().and_then(push) else {
            return 0;
        };
        let n = items
            .iter()
            .take(MAX_STACK_RUN)
            .take_while(|it| push(it) == Some(first))
            .count();
        // POPs may take a near RET after them (an epilogue) when its
        // target needs no CS-limit check and no flags are pending, so
        // that it cannot bail.
        let ret = !first
            && n < MAX_STACK_RUN
            && self.cs_4g
            && self.pending.is_none()
            && items
                .get(n)
                .is_some_and(|it| matches!(it.op, Op::Ret { .. }) && it.bytes == 4);
        match n + usize::from(ret) {
            n if n >= 2 => n,
            _ => 0,
        }
    }

    /// A run of PUSHes or POPs ([`Emitter::stack_run_len`]) from item
    /// `i`: when the stack's slots for all of them lie on one page that
    /// the TLB's host entry covers for the access, they go through one
    /// check and move the stack pointer once (a function's prologue and
    /// epilogue); otherwise each runs as on its own, out of line. Nothing
    /// in the fast path can fault, write code or bail, so doing the run
    /// at once is the same as doing it in order.
    fn stack_run(&mut self, i: u32, run: &[Item]) {
        debug_assert!(!self.carry && run.len() >= 2);
        self.host_flags = 0;
        let (slow, done) = (self.ops.new_dynamic_label(), self.ops.new_dynamic_label());
        let push = matches!(run[0].op, Op::Push { .. });
        let span = 4 * run.len() as i32;
        self.load_reg(RAX, ESP, 4);
        if push {
            dynasm!(self.ops ; sub eax, span);
        }
        self.host_pointer(i32::from(push), span - 1, slow);
        // The first PUSH takes the highest slot; POPs and a RET go up.
        for (j, it) in run.iter().enumerate() {
            let at = 4 * j as i8;
            match it.op {
                Op::Push { src } => {
                    self.load(RBX, src, 4);
                    let at = span as i8 - 4 - at;
                    dynasm!(self.ops ; mov DWORD [BYTE rax + at], ebx);
                }
                Op::Pop { dst } => {
                    dynasm!(self.ops ; mov ebx, DWORD [BYTE rax + at]);
                    self.store_reg(RBX, dst, 4);
                }
                Op::Ret { .. } => dynasm!(self.ops ; mov ebx, DWORD [BYTE rax + at]),
                _ => unreachable!("stack_run_len takes only PUSH, POP and RET"),
            }
        }
        let ret = match run.last().map(|it| it.op) {
            Some(Op::Ret { extra }) => Some(extra as i32),
            _ => None,
        };
        let moved = span + ret.unwrap_or(0);
        let moved = if push { -moved } else { moved };
        match self.host(ESP) {
            Some(h) => {
                dynasm!(self.ops ; add Rd(h), moved);
                self.dirty |= 1 << ESP;
            }
            None => {
                let slot = gpr_at(&self.l, ESP, 4);
                dynasm!(self.ops ; add DWORD [BYTE r15 + slot], moved);
            }
        }
        // (A RET's exit is assembled once, by the RET below.)
        let to = match ret {
            Some(_) => *self.ret_exit.insert(self.ops.new_dynamic_label()),
            None => done,
        };
        dynasm!(self.ops
            ; jmp =>to
            ; =>slow
        );
        for (j, it) in run.iter().enumerate() {
            self.item(i + j as u32, it);
        }
        debug_assert!(self.ret_exit.is_none());
        dynasm!(self.ops ; =>done);
    }

    fn item(&mut self, i: u32, it: &Item) {
        let host_flags = self.host_flags;
        self.item_code(i, it);
        if keeps_host_flags(it) {
            self.host_flags = host_flags;
        }
    }

    /// [`Emitter::item`]'s code.
    fn item_code(&mut self, i: u32, it: &Item) {
        let host_flags = std::mem::take(&mut self.host_flags);
        if let Op::Jcc { cc, target } = it.op {
            let needs = cond_flags(cc);
            if host_flags & needs == needs {
                return self.jcc_on_host_flags(i, it, cc, target);
            }
            if self.recipe_redone() && !self.carry {
                self.redo_recipe();
                return self.jcc_on_host_flags(i, it, cc, target);
            }
        }
        let b = it.bytes;
        let seg = it.insn.mem.map_or(SegReg::Ds, |m| m.seg);
        self.flags_before(i, it);
        let bail = self.bail(i, it.eip);
        match it.op {
            Op::Alu { mn, dst, src } => {
                // The row: whether the destination is written, CF read,
                // the flags written (AF, undefined for the logic
                // operations, is cleared as the interpreter does).
                let row = mn.flags();
                let writes = mn.memory_writes() == MemoryWrites::First;
                // A 32-bit operation on a register the block keeps in a
                // host register works on that register in place.
                let in_place = match src {
                    Loc::Reg(_) | Loc::Imm(_) => self.cached32(dst, b),
                    Loc::Mem => None,
                };
                // (The address into eax where it may, as `Op::Mov` does,
                // unless the write back needs it after the read.)
                let ea = match self.flat_seg(seg) && !(writes && dst == Loc::Mem) {
                    true => RAX,
                    false => 12,
                };
                self.ea_to(&it.insn, ea);
                match (dst, src) {
                    _ if in_place.is_some() => {}
                    (Loc::Mem, _) => {
                        self.read(seg, b, ea, bail);
                        dynasm!(self.ops ; mov ebx, eax);
                        self.load(RCX, src, b);
                    }
                    (_, Loc::Mem) => {
                        self.read(seg, b, ea, bail);
                        self.load(RBX, dst, b);
                        dynasm!(self.ops ; mov ecx, eax);
                    }
                    _ => {
                        self.load(RBX, dst, b);
                        self.load(RCX, src, b);
                    }
                }
                let base: u8 = match mn {
                    Mn::Add => 0x00,
                    Mn::Or => 0x08,
                    Mn::Adc => 0x10,
                    Mn::Sbb => 0x18,
                    Mn::And => 0x20,
                    Mn::Sub => 0x28,
                    Mn::Xor => 0x30,
                    Mn::Cmp => 0x38,
                    _ => 0x84,
                };
                let src_host = match (in_place, src) {
                    (Some(_), Loc::Reg(m)) => Some(self.host(m).unwrap_or_else(|| {
                        self.load_reg(RCX, m, 4);
                        RCX
                    })),
                    _ => None,
                };
                // (CF is in the host's flags already after an instruction
                // that left it there.)
                if i32::from(row.read) & CF != 0 && !std::mem::take(&mut self.carry_in) {
                    if std::mem::take(&mut self.cf_in_recipe) {
                        let cf = self.lazy_at(offset_of!(LazyFlags, cf));
                        dynasm!(self.ops
                            ; mov al, BYTE [BYTE r15 + cf]
                            ; shr al, 1
                        );
                    } else {
                        let ef = self.l.eflags;
                        dynasm!(self.ops ; bt DWORD [BYTE r15 + ef], 0);
                    }
                }
                let recipe = lazy_flags::kind(mn, b).filter(|_| {
                    self.capture && self.by_recipe[i as usize] && !(writes && dst == Loc::Mem)
                });
                if let Some(kind) = recipe {
                    let (a, second) = match (in_place, src_host, src) {
                        (Some(h), Some(r), _) => (h, Ok(r)),
                        (Some(h), None, Loc::Imm(v)) => (h, Err(v)),
                        _ => (RBX, Ok(RCX)),
                    };
                    self.store_recipe(kind, a, Some(second));
                    if i32::from(row.read) & CF != 0 {
                        // (ADC and SBB: the host's CF is the one it takes.)
                        let carry_in = self.lazy_at(offset_of!(LazyFlags, carry_in));
                        dynasm!(self.ops ; setc BYTE [BYTE r15 + carry_in]);
                    }
                }
                match (in_place, src_host, src) {
                    (Some(h), Some(r), _) => self.raw_rr32(base, h, r),
                    (Some(h), None, Loc::Imm(v)) => self.raw_ri32(base, h, v),
                    _ => self.raw_rr(base, b),
                }
                match recipe {
                    Some(_) => self.recipe_cf(),
                    None => self.capture_flags(),
                }
                if writes && dst == Loc::Mem {
                    self.write(seg, b, 12, RBX, bail);
                }
                let (written, undefined) = (i32::from(row.written), i32::from(row.undefined));
                if recipe.is_none() {
                    self.set_flags(written & !(undefined & AF), written);
                }
                if writes {
                    match dst {
                        Loc::Reg(n) if in_place.is_some() => self.dirty |= 1 << n,
                        Loc::Reg(n) => self.store_reg(RBX, n, b),
                        _ => self.smc_check(i, it.next),
                    }
                }
                if self.capture && !(writes && dst == Loc::Mem) {
                    self.host_flags = written;
                }
            }
            Op::Unary { mn, dst } => {
                let in_place = self.cached32(dst, b);
                self.ea(&it.insn);
                if in_place.is_none() {
                    self.load_any(RBX, dst, b, seg, bail);
                }
                let (opc, ext) = match mn {
                    Mn::Inc => (0xFE, 0),
                    Mn::Dec => (0xFE, 1),
                    Mn::Not => (0xF6, 2),
                    _ => (0xF6, 3),
                };
                // (INC and DEC leave the host's CF alone, as the guest's.)
                let carried = if std::mem::take(&mut self.carry_in) {
                    self.capture = true;
                    CF
                } else {
                    0
                };
                // A recipe for an INC or DEC takes the CF it keeps from the
                // instruction before it (stored with SETC after), or from
                // the recipe or EFLAGS before it.
                // (Of memory, once the write went through: a bail leaves
                // the recipe before it as it was.)
                let recipe = lazy_flags::kind(mn, b).filter(|_| self.inc_dec_by_recipe(i, it));
                if let (Some(kind), true) = (recipe, dst != Loc::Mem) {
                    if carried == 0 {
                        self.cf_from_before();
                    }
                    self.store_recipe(kind, in_place.unwrap_or(RBX), None);
                }
                match in_place {
                    Some(h) => self.raw_unary32(opc, ext, h),
                    None => self.raw_unary(opc, ext, b),
                }
                let written = i32::from(mn.flags().written);
                if recipe.is_some() {
                    if carried != 0 {
                        self.recipe_cf();
                    }
                } else if written != 0 {
                    self.capture_flags();
                }
                if dst == Loc::Mem {
                    self.write(seg, b, 12, RBX, bail);
                    if let Some(kind) = recipe {
                        // The operand: the result less the step.
                        self.cf_from_before();
                        let step = if mn == Mn::Inc { -1 } else { 1 };
                        dynasm!(self.ops ; lea eax, [rbx + step]);
                        self.store_recipe(kind, RAX, None);
                    }
                }
                // (A Jcc right after may branch on the host's flags only
                // while they are still the INC's or DEC's.)
                let host_lost = written != 0
                    && recipe.is_none()
                    && self.set_flags(written | carried, written | carried);
                match dst {
                    Loc::Reg(n) if in_place.is_some() => self.dirty |= 1 << n,
                    Loc::Reg(n) => self.store_reg(RBX, n, b),
                    _ => self.smc_check(i, it.next),
                }
                if self.capture && written != 0 && dst != Loc::Mem && !host_lost {
                    self.host_flags = written | carried;
                }
            }
            Op::Mov { dst, src } => {
                if let (Loc::Reg(n), Loc::Reg(m), Some(h)) = (dst, src, self.cached32(dst, b)) {
                    // Straight into the host register that keeps it.
                    self.load_reg(h, m, 4);
                    self.dirty |= 1 << n;
                    return;
                }
                // The address straight into eax, where the inline check
                // of a flat segment wants it (the helper, when called,
                // takes it from there too), else into r12d.
                let ea = match self.flat_seg(seg) {
                    true => RAX,
                    false => 12,
                };
                self.ea_to(&it.insn, ea);
                // A load goes from eax (where the read leaves it) to the
                // register; a store writes ebx.
                let via = if dst == Loc::Mem { RBX } else { RAX };
                if src == Loc::Mem {
                    self.read(seg, b, ea, bail);
                } else {
                    self.load(via, src, b);
                }
                match dst {
                    Loc::Reg(n) => self.store_reg(via, n, b),
                    _ => self.store_last(seg, b, ea, bail, i, it.next),
                }
            }
            Op::Extend {
                signed,
                dst,
                src,
                src_bytes,
            } => {
                // (The address into eax where it may, as `Op::Mov` does.)
                let ea = match self.flat_seg(seg) {
                    true => RAX,
                    false => 12,
                };
                self.ea_to(&it.insn, ea);
                match src {
                    Loc::Mem => self.read(seg, src_bytes, ea, bail),
                    _ => self.load(RAX, src, src_bytes),
                }
                // Straight into the host register that keeps a 32-bit
                // destination, else through ebx.
                let (to, cached) = match self.cached32(Loc::Reg(dst), b) {
                    Some(h) => (h, true),
                    None => (RBX, false),
                };
                match (signed, src_bytes) {
                    (true, 1) => dynasm!(self.ops ; movsx Rd(to), al),
                    (false, 1) => dynasm!(self.ops ; movzx Rd(to), al),
                    (true, _) => dynasm!(self.ops ; movsx Rd(to), ax),
                    (false, _) => dynasm!(self.ops ; movzx Rd(to), ax),
                }
                match cached {
                    true => self.dirty |= 1 << dst,
                    false => self.store_reg(RBX, dst, b),
                }
            }
            Op::Lea { dst } => match self.cached32(Loc::Reg(dst), b) {
                // Straight into the host register that keeps it.
                Some(h) => {
                    self.ea_to(&it.insn, h);
                    self.dirty |= 1 << dst;
                }
                _ => {
                    self.ea(&it.insn);
                    self.store_reg(12, dst, b);
                }
            },
            Op::Push { src } => {
                self.ea(&it.insn);
                self.load_any(RBX, src, b, seg, bail);
                self.push_ebx(b, bail);
                self.smc_check(i, it.next);
            }
            Op::Pop { dst } => {
                self.pop_slot();
                self.read(SegReg::Ss, b, R13, bail);
                dynasm!(self.ops
                    ; mov ebx, eax
                    ; lea eax, [r13 + i32::from(b)]
                );
                self.set_sp(RAX);
                self.store_reg(RBX, dst, b);
            }
            Op::Xchg { a, b: other } => match (a, other) {
                (Loc::Reg(x), Loc::Reg(y)) => {
                    self.load_reg(RBX, x, b);
                    self.load_reg(R13, y, b);
                    self.store_reg(R13, x, b);
                    self.store_reg(RBX, y, b);
                }
                (Loc::Reg(r), _) | (_, Loc::Reg(r)) => {
                    self.ea(&it.insn);
                    self.read(seg, b, 12, bail);
                    dynasm!(self.ops ; mov ebx, eax);
                    self.load_reg(R13, r, b);
                    self.write(seg, b, 12, R13, bail);
                    self.store_reg(RBX, r, b);
                    self.smc_check(i, it.next);
                }
                _ => {}
            },
            Op::Setcc { cc, dst } => {
                self.ea(&it.insn);
                if self.redo {
                    self.redo_recipe();
                    // SETcc al, on the host's flags.
                    dynasm!(self.ops ; .bytes [0x0F, 0x90 | cc, 0xC0]);
                } else {
                    self.cond(cc);
                }
                dynasm!(self.ops ; movzx ebx, al);
                match dst {
                    Loc::Reg(n) => self.store_reg(RBX, n, 1),
                    _ => {
                        self.write(seg, 1, 12, RBX, bail);
                        self.smc_check(i, it.next);
                    }
                }
            }
            Op::Flags(mn) => {
                let ef = self.l.eflags;
                match mn {
                    Mn::Clc => dynasm!(self.ops ; and DWORD [BYTE r15 + ef], !CF),
                    Mn::Stc => dynasm!(self.ops ; or DWORD [BYTE r15 + ef], CF),
                    Mn::Cmc => dynasm!(self.ops ; xor DWORD [BYTE r15 + ef], CF),
                    Mn::Cld => dynasm!(self.ops ; and DWORD [BYTE r15 + ef], !0x400),
                    _ => dynasm!(self.ops ; or DWORD [BYTE r15 + ef], 0x400),
                }
            }
            Op::Convert { widen } => {
                // CBW/CWDE: (E)AX from the half below it; CWD/CDQ:
                // (E)DX from (E)AX's sign.
                self.load_reg(RAX, 0, if widen { b / 2 } else { b });
                match (widen, b) {
                    (true, 2) => dynasm!(self.ops ; movsx eax, al),
                    (_, 2) | (true, _) => dynasm!(self.ops ; movsx eax, ax),
                    _ => {}
                }
                if !widen {
                    dynasm!(self.ops ; sar eax, 31);
                }
                self.store_reg(RAX, if widen { 0 } else { 2 }, b);
            }
            Op::Calc {
                calc: Calc::Shift(mn),
                dst,
                a,
                b: Loc::Imm(count),
            } if native_shift(mn, count, b) => {
                // Flags left as a recipe (SHL, SHR, SAR of a register);
                // in place on a 32-bit register kept in a host register,
                // when its flags are not computed from the host's.
                let recipe = lazy_flags::kind(mn, b)
                    .filter(|_| self.capture && self.by_recipe[i as usize] && dst != Loc::Mem);
                self.capture &= recipe.is_none();
                let in_place = (dst == a && !self.capture)
                    .then(|| self.cached32(dst, b))
                    .flatten();
                self.ea(&it.insn);
                if in_place.is_none() {
                    self.load_any(RBX, a, b, seg, bail);
                }
                let r = in_place.unwrap_or(RBX);
                let count = (count & 31) as u8;
                if let Some(kind) = recipe {
                    self.store_recipe(kind, r, Some(Err(u32::from(count))));
                }
                let clear = self.shift_imm(r, mn, count, b);
                if dst == Loc::Mem {
                    self.write(seg, b, 12, RBX, bail);
                }
                match recipe {
                    Some(_) => self.recipe_cf(),
                    None => {
                        self.set_flags(-1, clear);
                    }
                }
                match dst {
                    Loc::Reg(n) if in_place.is_some() => self.dirty |= 1 << n,
                    Loc::Reg(n) => self.store_reg(RBX, n, b),
                    _ => self.smc_check(i, it.next),
                }
            }
            Op::Calc {
                calc: Calc::Shift(mn),
                dst: Loc::Reg(n),
                ..
            } if liveness::quiet_cl_shift(it, self.live[i as usize]) => {
                // The host's shift by CL, in place on a cached register.
                let cached = self.host(n);
                let r = cached.unwrap_or(RBX);
                if cached.is_none() {
                    self.load_reg(RBX, n, 4);
                }
                self.load_reg(RCX, 1, 1);
                let ext = shift_ext(mn);
                if r >= 8 {
                    self.ops.push(0x41);
                }
                self.ops.extend([0xD3, 0xC0 | ext << 3 | (r & 7)]);
                match cached {
                    Some(_) => self.dirty |= 1 << n,
                    None => self.store_reg(RBX, n, 4),
                }
            }
            Op::Calc {
                calc: Calc::Imul,
                dst: Loc::Reg(n),
                a,
                b: second,
            } if native_imul(Loc::Reg(n), b) => {
                self.ea(&it.insn);
                self.load_any(RBX, a, b, seg, bail);
                self.load_any(R13, second, b, seg, bail);
                let recipe = self.capture && self.by_recipe[i as usize];
                self.capture &= !recipe;
                self.imul(b);
                match recipe {
                    true => self.mul_recipe(RBX, b),
                    false => {
                        self.set_flags(-1, STATUS);
                    }
                }
                self.store_reg(RBX, n, b);
            }
            Op::Calc {
                calc,
                dst,
                a,
                b: second,
            } => {
                let b2 = if matches!(calc, Calc::Shift(_)) { 1 } else { b };
                self.ea(&it.insn);
                self.load_any(RBX, a, b, seg, bail);
                self.load_any(R13, second, b2, seg, bail);
                let restore = if dst == Loc::Mem {
                    let ef = self.l.eflags;
                    dynasm!(self.ops ; mov ebp, DWORD [BYTE r15 + ef]);
                    Some(self.lazy(Stub::Restore(bail)))
                } else {
                    None
                };
                match calc {
                    Calc::Shift(mn) if b == 4 && mn != Mn::Rcl && mn != Mn::Rcr => {
                        self.shift_by_r13(mn);
                    }
                    _ => {
                        let (code, f) = (calc_code(calc, b) as i32, self.h.calc as i64);
                        self.spill(self.dirty);
                        self.dirty = 0;
                        dynasm!(self.ops
                            ; mov rdi, r15
                            ; mov esi, code
                            ; mov edx, ebx
                            ; mov ecx, r13d
                        );
                        self.call_out(f);
                        dynasm!(self.ops
                            ; mov ebx, eax
                        );
                        self.reload();
                    }
                }
                match (dst, restore) {
                    (Loc::Reg(n), _) => self.store_reg(RBX, n, b),
                    (_, Some(restore)) => {
                        self.write(seg, b, 12, RBX, restore);
                        self.smc_check(i, it.next);
                    }
                    _ => {}
                }
            }
            Op::MulWide { signed, src } => {
                self.ea(&it.insn);
                self.load_any(R13, src, b, seg, bail);
                self.load_reg(RAX, 0, b);
                let recipe = self.capture && self.by_recipe[i as usize];
                self.capture &= !recipe;
                self.mul_wide(signed, b);
                match recipe {
                    true => self.mul_recipe(RAX, b),
                    false => {
                        self.set_flags(-1, STATUS);
                    }
                }
                self.store_reg(RAX, 0, b);
                self.store_reg(RDX, 2, b);
            }
            Op::Div { signed, src } => {
                self.ea(&it.insn);
                self.load_any(R13, src, 4, seg, bail);
                self.load_reg(RAX, 0, 4);
                self.load_reg(RDX, 2, 4);
                let bail = self.bail_to(bail);
                self.div(signed, bail);
                self.store_reg(RAX, 0, 4);
                self.store_reg(RDX, 2, 4);
            }
            Op::Nop => {}
            Op::Cmov { cc, dst, src } => {
                let skip = self.ops.new_dynamic_label();
                self.ea(&it.insn);
                self.load_any(RBX, src, b, seg, bail);
                if self.redo {
                    self.redo_recipe();
                    self.host_jcc(cc ^ 1, skip);
                } else {
                    self.jump_if(cc ^ 1, skip);
                }
                self.store_reg(RBX, dst, b);
                dynasm!(self.ops ; =>skip);
            }
            Op::Bswap { reg } => {
                if b == 4 {
                    self.load_reg(RBX, reg, 4);
                    dynasm!(self.ops ; bswap ebx);
                    self.store_reg(RBX, reg, 4);
                } else {
                    dynasm!(self.ops ; xor ebx, ebx);
                    self.store_reg(RBX, reg, 2);
                }
            }
            Op::Leave => {
                self.load_reg(R13, 5, 4);
                if !self.ss32 {
                    dynasm!(self.ops ; movzx r13d, r13w);
                }
                self.read(SegReg::Ss, b, R13, bail);
                dynasm!(self.ops
                    ; mov ebx, eax
                    ; lea eax, [r13 + i32::from(b)]
                );
                self.set_sp(RAX);
                self.store_reg(RBX, 5, b);
            }
            Op::Str { mn, src_seg } => self.string(i, it, mn, src_seg, bail),
            Op::Rdtsc => {
                // The interpreter counts an instruction before running it:
                // the count at the chain's entry, the instructions of the
                // blocks before this one, and this block's up to and
                // including this instruction.
                const TSD: i32 = 1 << 2;
                let (l, bail) = (self.l, self.bail_to(bail));
                dynasm!(self.ops
                    ; test DWORD [r15 + l.cr4], TSD
                    ; jnz =>bail
                );
                self.chain_retired(i);
                dynasm!(self.ops
                    ; add rax, QWORD [r15 + l.icount]
                    ; add rax, QWORD [r15 + l.tsc_offset]
                );
                self.store_reg(RAX, 0, 4);
                dynasm!(self.ops ; shr rax, 32);
                self.store_reg(RAX, 2, 4);
            }
            Op::Jmp { target } => self.direct_exit(target, i + 1),
            Op::Jcc { cc, target } => match self.back_edge(target, i + 1) {
                Some(head) => {
                    self.jump_if(cc, head);
                    self.direct_exit(it.next, i + 1);
                }
                None => {
                    let taken = self.ops.new_dynamic_label();
                    self.jump_if(cc, taken);
                    self.direct_exit(it.next, i + 1);
                    dynasm!(self.ops ; =>taken);
                    self.direct_exit(target, i + 1);
                }
            },
            Op::Call { target } => {
                dynasm!(self.ops ; mov ebx, it.next as i32);
                self.eip_imm(it.next);
                self.push_ebx(b, bail);
                self.direct_exit(target, i + 1);
            }
            Op::JmpInd { src, call } => {
                self.ea(&it.insn);
                self.load_any(RBX, src, b, seg, bail);
                self.check_target(bail);
                if call {
                    // The target waits in r12d while the return address is pushed.
                    dynasm!(self.ops
                        ; mov r12d, ebx
                        ; mov ebx, it.next as i32
                    );
                    self.eip_imm(it.next);
                    self.push_ebx(b, bail);
                    dynasm!(self.ops ; mov ebx, r12d);
                }
                self.exit_indirect(i + 1);
            }
            Op::Interp { insn, cross } => {
                // The handler reads and writes the registers in the `Cpu`
                // struct.
                let f = if cross {
                    self.h.interp_cross
                } else {
                    self.h.interp
                };
                let (l, f) = (self.l, f as i64);
                self.spill(self.dirty);
                self.dirty = 0;
                dynasm!(self.ops
                    ; mov rdi, r15
                    ; mov rsi, QWORD [BYTE r15 + l.bus]
                    ; mov rdx, QWORD insn as i64
                    ; mov ecx, it.eip as i32
                );
                self.eip_imm(it.eip);
                dynasm!(self.ops ; mov r8d, (self.own_start.2 - i - 1) as i32);
                self.call_out(f);
                dynasm!(self.ops
                    ; cmp eax, WRITE_BAIL as i32
                );
                self.reload();
                let bail = self.bail_to(bail);
                dynasm!(self.ops ; je =>bail);
                if it.insn.mn.branches() {
                    // The handler has set EIP.
                    dynasm!(self.ops ; mov ebx, DWORD [BYTE r15 + l.eip]);
                    self.exit_to_ebx(i + 1);
                } else if it.ends_block() {
                    // Back to the run loop, which looks at IF and TF (the
                    // registers were stored before the call).
                    self.exit(it.next, i + 1, EXIT_END);
                } else if liveness::writes_guest_memory(it) {
                    dynasm!(self.ops ; mov DWORD [rsp], eax);
                    self.smc_check(i, it.next);
                } else if it.insn.loads_segment().is_some() {
                    let leave = self.exit_after(i, it.next, EXIT_END);
                    dynasm!(self.ops
                        ; cmp eax, LEAVE as i32
                        ; je =>leave
                    );
                }
            }
            Op::Ret { extra } => {
                self.pop_slot();
                self.read(SegReg::Ss, b, R13, bail);
                dynasm!(self.ops ; mov ebx, eax);
                self.check_target(bail);
                dynasm!(self.ops ; lea eax, [r13 + (i32::from(b) + extra as i32)]);
                self.set_sp(RAX);
                if let Some(at) = self.ret_exit.take() {
                    dynasm!(self.ops ; =>at);
                }
                self.exit_indirect(i + 1);
            }
        }
    }

    /// Shifts or rotates host register `r` (`bytes` wide) by `count` with
    /// the host's instruction, leaving in ebp the guest flags it defines,
    /// computed as the interpreter does (`exec/shift.rs`: OF from the
    /// result for every count, AF clear), when they are captured (only for
    /// ebx); returns the EFLAGS bits those replace.
    fn shift_imm(&mut self, r: u8, mn: Mn, count: u8, bytes: u8) -> i32 {
        debug_assert!(r == RBX || !self.capture);
        let top = (bytes * 8 - 1) as i8;
        let ext = shift_ext(mn);
        let clear = i32::from(mn.flags().written);
        if mn == Mn::Shr && self.capture {
            // OF is the operand's top bit for a count of 1.
            dynasm!(self.ops ; mov r13d, ebx);
        }
        if bytes == 2 {
            self.ops.push(0x66);
        }
        if r >= 8 {
            self.ops.push(0x41);
        }
        self.ops.extend([
            0xC0 | u8::from(bytes != 1),
            0xC0 | ext << 3 | (r & 7),
            count,
        ]);
        if !self.capture {
            return clear;
        }
        self.capture_flags();
        self.shift_flags_fixup(mn, top, RBP, RAX, RCX);
        if mn == Mn::Shr && count == 1 {
            self.shr_of(top, RBP, R13, RAX);
        }
        clear
    }

    /// After the host's shift or rotate of ebx by a count of 1 or more,
    /// its flags in host `fl`: leaves in `fl` the status flags the
    /// interpreter defines (`exec/shift.rs`): a shift's SF, ZF, PF and CF
    /// as the host's, a rotate's CF; AF clear; OF from the result, `top`
    /// being its top bit (SHL: against CF; ROL: against bit 0; ROR:
    /// against the bit below the top; SAR: clear; SHR: clear here, see
    /// [`Emitter::shr_of`]). Uses hosts `t` and `t2`.
    fn shift_flags_fixup(&mut self, mn: Mn, top: i8, fl: u8, t: u8, t2: u8) {
        const SZPC: i32 = 0x80 | 0x40 | 0x04 | CF;
        match mn {
            Mn::Shl | Mn::Sal => dynasm!(self.ops
                ; and Rd(fl), SZPC
                ; mov Rd(t), ebx
                ; shr Rd(t), top
                ; xor Rd(t), Rd(fl)),
            Mn::Shr | Mn::Sar => {
                dynasm!(self.ops ; and Rd(fl), SZPC);
                return;
            }
            Mn::Rol => dynasm!(self.ops
                ; and Rd(fl), CF
                ; mov Rd(t), ebx
                ; shr Rd(t), top
                ; xor Rd(t), ebx),
            _ => dynasm!(self.ops
                ; and Rd(fl), CF
                ; mov Rd(t), ebx
                ; shr Rd(t), top
                ; mov Rd(t2), ebx
                ; shr Rd(t2), top - 1
                ; xor Rd(t), Rd(t2)),
        }
        self.or_of(fl, t);
    }

    /// SHR's OF for a count of 1: the top bit (`top`) of the operand, in
    /// host `operand`, into host `fl` (uses host `t`).
    fn shr_of(&mut self, top: i8, fl: u8, operand: u8, t: u8) {
        dynasm!(self.ops
            ; mov Rd(t), Rd(operand)
            ; shr Rd(t), top
        );
        self.or_of(fl, t);
    }

    /// Bit 0 of host `t` into host `fl` as OF (changes `t`).
    fn or_of(&mut self, fl: u8, t: u8) {
        const OF_SHIFT: i8 = 11;
        dynasm!(self.ops
            ; and Rd(t), 1
            ; shl Rd(t), OF_SHIFT
            ; or Rd(fl), Rd(t)
        );
    }

    /// A 32-bit SHL, SHR, SAR, ROL or ROR of ebx by r13d (masked to 5
    /// bits, as the CPU masks it) with the host's instruction, its flags
    /// put into EFLAGS as the interpreter's `Cpu::shift` defines them (what
    /// the `calc` helper would do, without the call): a count of 0 changes
    /// nothing; else CF, SF, ZF and PF are the host's, AF is clear, and OF
    /// is SHL's top bit of the result against CF, SHR's operand top bit
    /// for a count of 1 (else clear), SAR's clear; a rotate changes only CF
    /// (the host's) and OF (ROL: the result's top bit against CF; ROR: its
    /// two top bits against each other). Uses eax, ecx and edx; ebp is
    /// left alone (it may hold EFLAGS for a bail's restore).
    fn shift_by_r13(&mut self, mn: Mn) {
        let (done, ef) = (self.ops.new_dynamic_label(), self.l.eflags);
        dynasm!(self.ops
            ; mov ecx, r13d
            ; and ecx, 31
            ; jz =>done
            ; mov edx, ebx
        );
        match mn {
            Mn::Shl | Mn::Sal => dynasm!(self.ops ; shl ebx, cl),
            Mn::Shr => dynasm!(self.ops ; shr ebx, cl),
            Mn::Sar => dynasm!(self.ops ; sar ebx, cl),
            Mn::Rol => dynasm!(self.ops ; rol ebx, cl),
            _ => dynasm!(self.ops ; ror ebx, cl),
        }
        dynasm!(self.ops ; pushfq ; pop rax);
        // (The operand stays in edx for SHR, whose fix-up leaves it.)
        self.shift_flags_fixup(mn, 31, RAX, RDX, RCX);
        if mn == Mn::Shr {
            let not_one = self.ops.new_dynamic_label();
            dynasm!(self.ops
                ; cmp ecx, 1
                ; jne =>not_one
            );
            self.shr_of(31, RAX, RDX, RDX);
            dynasm!(self.ops ; =>not_one);
        }
        let clear = i32::from(mn.flags().written);
        dynasm!(self.ops
            ; mov ecx, DWORD [BYTE r15 + ef]
            ; and ecx, !clear
            ; or ecx, eax
            ; mov DWORD [BYTE r15 + ef], ecx
            ; =>done
        );
    }

    /// eax, edx = edx:eax / r13d, remainder, with the host's DIV or (as
    /// 64 bits by 64) IDIV, going to `bail` first where the guest's
    /// instruction raises #DE: a zero divisor, or a quotient that does not
    /// fit 32 bits (and, signed, the one dividend whose 64-bit quotient
    /// would not fit either). Leaves the guest's flags alone (uses rcx).
    fn div(&mut self, signed: bool, bail: DynamicLabel) {
        if !signed {
            dynasm!(self.ops
                ; test r13d, r13d
                ; jz =>bail
                ; cmp edx, r13d
                ; jae =>bail
                ; div r13d
            );
            return;
        }
        let fits = self.ops.new_dynamic_label();
        dynasm!(self.ops
            ; shl rdx, 32
            ; or rax, rdx
            ; movsxd rcx, r13d
            ; test rcx, rcx
            ; jz =>bail
            ; cmp rcx, -1
            ; jne =>fits
            ; mov rdx, QWORD i64::MIN
            ; cmp rax, rdx
            ; je =>bail
            ; =>fits
            ; cqo
            ; idiv rcx
            ; movsxd rcx, eax
            ; cmp rcx, rax
            ; jne =>bail
        );
    }

    /// ebx = ebx * r13d (`bytes` 2 or 4 wide, signed, truncated) with the
    /// host's IMUL, leaving in ebp the flags the interpreter defines
    /// (`Cpu::imul2`): CF = OF = the product did not fit, SF, ZF and PF
    /// from the truncated result, AF clear.
    fn imul(&mut self, bytes: u8) {
        if !self.capture {
            if bytes == 2 {
                dynasm!(self.ops ; imul bx, r13w);
            } else {
                dynasm!(self.ops ; imul ebx, r13d);
            }
            return;
        }
        if bytes == 2 {
            dynasm!(self.ops
                ; imul bx, r13w
                ; seto al
                ; test bx, bx);
        } else {
            dynasm!(self.ops
                ; imul ebx, r13d
                ; seto al
                ; test ebx, ebx);
        }
        self.capture_flags();
        dynasm!(self.ops
            ; and ebp, 0xC4
            ; movzx eax, al
            ; imul eax, eax, CF | 0x800
            ; or ebp, eax);
    }

    /// edx:eax = eax * r13d (dx:ax = ax * r13w when `bytes` is 2), signed
    /// or not, with the host's one-operand MUL or IMUL, leaving in ebp
    /// the flags the interpreter defines (`exec/arith.rs`): CF = OF = the
    /// high half is needed, SF, ZF and PF from the low half, AF clear.
    fn mul_wide(&mut self, signed: bool, bytes: u8) {
        match (signed, bytes) {
            (false, 2) => dynasm!(self.ops ; mul r13w),
            (false, _) => dynasm!(self.ops ; mul r13d),
            (true, 2) => dynasm!(self.ops ; imul r13w),
            (true, _) => dynasm!(self.ops ; imul r13d),
        }
        if !self.capture {
            return;
        }
        dynasm!(self.ops ; seto cl);
        if bytes == 2 {
            dynasm!(self.ops ; test ax, ax);
        } else {
            dynasm!(self.ops ; test eax, eax);
        }
        self.capture_flags();
        dynasm!(self.ops
            ; and ebp, 0xC4
            ; movzx ecx, cl
            ; imul ecx, ecx, CF | 0x800
            ; or ebp, ecx);
    }

    /// One string instruction without REP, as `exec/string.rs` runs it
    /// (not the 286's variant): the source at `src_seg`:(E)SI in r12d, the
    /// destination at ES:(E)DI in r13d, then the index registers step by
    /// the operand size, down when DF is set, once every access succeeded.
    fn string(&mut self, i: u32, it: &Item, mn: Mn, src_seg: SegReg, bail: Bail) {
        let b = it.bytes;
        let addr32 = it.insn.addr32;
        self.load_reg(12, 6, 4);
        self.load_reg(R13, 7, 4);
        if !addr32 {
            dynasm!(self.ops
                ; movzx r12d, r12w
                ; movzx r13d, r13w
            );
        }
        let (uses_si, uses_di) = match mn {
            Mn::Movs | Mn::Cmps => (true, true),
            Mn::Lods => (true, false),
            _ => (false, true),
        };
        match mn {
            Mn::Movs => {
                self.read(src_seg, b, 12, bail);
                dynasm!(self.ops ; mov ebx, eax);
                self.write(SegReg::Es, b, R13, RBX, bail);
            }
            Mn::Stos => {
                self.load_reg(RBX, 0, b);
                self.write(SegReg::Es, b, R13, RBX, bail);
            }
            Mn::Lods => {
                self.read(src_seg, b, 12, bail);
                dynasm!(self.ops ; mov ebx, eax);
                self.store_reg(RBX, 0, b);
            }
            _ => {
                if mn == Mn::Cmps {
                    self.read(src_seg, b, 12, bail);
                    dynasm!(self.ops ; mov ebx, eax);
                } else {
                    self.load_reg(RBX, 0, b);
                }
                self.read(SegReg::Es, b, R13, bail);
                dynasm!(self.ops ; mov ecx, eax);
                self.raw_rr(0x38, b);
                self.capture_flags();
                self.set_flags(STATUS, STATUS);
            }
        }
        // The step: +/-1 from DF (bit 10), times the operand size.
        let ef = self.l.eflags;
        dynasm!(self.ops
            ; mov ecx, DWORD [BYTE r15 + ef]
            ; shl ecx, 21
            ; sar ecx, 31
            ; or ecx, 1
        );
        match b {
            2 => dynasm!(self.ops ; add ecx, ecx),
            4 => dynasm!(self.ops ; shl ecx, 2),
            _ => {}
        }
        for (used, n) in [(uses_si, 6), (uses_di, 7)] {
            if !used {
                continue;
            }
            match (self.host(n), addr32) {
                (Some(h), true) => dynasm!(self.ops ; add Rd(h), ecx),
                (Some(h), false) => dynasm!(self.ops ; add Rw(h), cx),
                (None, true) => {
                    let off = gpr_at(&self.l, n, 4);
                    dynasm!(self.ops ; add DWORD [BYTE r15 + off], ecx);
                }
                (None, false) => {
                    let off = gpr_at(&self.l, n, 4);
                    dynasm!(self.ops ; add WORD [BYTE r15 + off], cx);
                }
            }
            if self.host(n).is_some() {
                self.dirty |= 1 << n;
            }
        }
        if matches!(mn, Mn::Movs | Mn::Stos) {
            self.smc_check(i, it.next);
        }
    }

    /// The jump cache's lookup for EIP = ebx at the block's end: jumps into
    /// the recorded block's body when every check of `jump.rs` holds, else
    /// falls through. Uses rax, rcx and rdx.
    fn jump_on(&mut self) {
        use super::jump::{Entry, ENTRIES};
        let l = self.l;
        let miss = self.ops.new_dynamic_label();
        let unpaged = self.ops.new_dynamic_label();
        // (An entry's fields lie within a byte's displacement.)
        const _: () = assert!(size_of::<Entry>() <= 128);
        let o = |f: usize| f as i8;
        let (j_eip, j_lin, j_gen, j_last, j_insns, j_key, j_paged, j_user, j_tlb) = (
            o(offset_of!(Entry, eip)),
            o(offset_of!(Entry, lin)),
            o(offset_of!(Entry, gen)),
            o(offset_of!(Entry, last_needed)),
            o(offset_of!(Entry, insns)),
            o(offset_of!(Entry, key)),
            o(offset_of!(Entry, paged)),
            o(offset_of!(Entry, tlb_access)),
            o(offset_of!(Entry, tlb)),
        );
        let (j_stamp, j_stamp_at, j_body, j_phys) = (
            o(offset_of!(Entry, stamp)),
            o(offset_of!(Entry, stamp_at)),
            o(offset_of!(Entry, body)),
            o(offset_of!(Entry, phys)),
        );
        let entry_shift = size_of::<Entry>().trailing_zeros() as i8;
        debug_assert!(size_of::<Entry>().is_power_of_two());
        let tlb_size = size_of::<crate::cpu::tlb::Entry>() as i32;
        debug_assert_eq!(tlb_size, 16);
        let key = i32::from(self.key);
        dynasm!(self.ops
            // The entry for ebx (`jump::index`).
            ; mov eax, ebx
            ; mov ecx, ebx
            ; shr ecx, 12
            ; xor eax, ecx
            ; and eax, (ENTRIES - 1) as i32
            ; shl eax, entry_shift
            ; mov rdx, QWORD [r15 + l.jump_table]
            ; add rdx, rax
            ; cmp ebx, DWORD [BYTE rdx + j_eip]
            ; jne =>miss
            ; mov rax, QWORD [r15 + l.jump_key]
            ; cmp rax, QWORD [BYTE rdx + j_gen]
            ; jne =>miss
            ; cmp BYTE [BYTE rdx + j_key], key as i8
            ; jne =>miss
        );
        if !self.cs_4g {
            // (Under a 4 GiB CS limit, which the key says, every block
            // fits.)
            dynasm!(self.ops
                ; mov eax, DWORD [BYTE rdx + j_last]
                ; cmp eax, DWORD [BYTE r15 + l.cs_limit]
                ; ja =>miss
            );
        }
        dynasm!(self.ops
            ; mov eax, DWORD [BYTE r15 + l.cs_base]
            ; add eax, ebx
            ; cmp eax, DWORD [BYTE rdx + j_lin]
            ; jne =>miss
            // Paging as it was; with paging on, the same TLB slot contents.
            ; mov ecx, DWORD [r15 + l.cr0]
            ; shr ecx, 31
            ; cmp cl, BYTE [BYTE rdx + j_paged]
            ; jne =>miss
            ; test cl, cl
            ; jz =>unpaged
            // The slot (`tlb::slot_of`), scaled to the entry size.
            ; shr eax, 12
            ; and eax, (TLB_SIZE - 1) as i32
            ; shl eax, tlb_size.trailing_zeros() as i8
            ; mov rcx, QWORD [r15 + l.tlb_entries]
            ; add rcx, rax
            ; mov rax, QWORD [rcx]
            ; cmp rax, QWORD [BYTE rdx + j_tlb]
            ; jne =>miss
            ; mov ax, WORD [BYTE rcx + 8]
            ; cmp ax, WORD [BYTE rdx + j_user]
            ; jne =>miss
            ; =>unpaged
            // The page's bytes as translated.
            ; mov rax, QWORD [BYTE rdx + j_stamp_at]
            ; mov rax, QWORD [rax]
            ; cmp rax, QWORD [BYTE rdx + j_stamp]
            ; jne =>miss
            ; mov ecx, DWORD [BYTE rdx + j_insns]
            ; shl rcx, budget::SHIFT as i8
        );
        self.take_budget(RCX, miss);
        dynasm!(self.ops
            ; add QWORD [r15 + l.jump_count], 1
            // The block now running is on that page.
            ; mov QWORD [r15 + l.running_stamp], rax
            ; mov eax, DWORD [BYTE rdx + j_phys]
            ; mov DWORD [r15 + l.running_page], eax
            ; jmp QWORD [BYTE rdx + j_body]
            ; =>miss
        );
    }

    /// Bails unless the target in ebx lies within CS's limit (always,
    /// when the key says it is 4 GiB).
    fn check_target(&mut self, bail: Bail) {
        if self.cs_4g {
            return;
        }
        let (limit, bail) = (self.l.cs_limit, self.bail_to(bail));
        dynasm!(self.ops
            ; cmp ebx, DWORD [BYTE r15 + limit]
            ; ja =>bail
        );
    }

    /// Leaves with EIP = ebx: straight into the block the jump cache
    /// records for it when that is still valid (see `jump.rs`), else back
    /// to the dispatcher.
    fn exit_to_ebx(&mut self, retired: u32) {
        self.spill(self.dirty);
        self.leave_to_ebx(retired);
    }

    /// [`Emitter::exit_to_ebx`] for a return or an indirect jump or call:
    /// first through the exit's set of cells (`chain.rs`) when the target
    /// is on this block's page.
    fn exit_indirect(&mut self, retired: u32) {
        self.spill(self.dirty);
        self.set_exit(retired);
        self.leave_to_ebx(retired);
    }

    /// The set of cells of an indirect exit to EIP = ebx (the registers
    /// stored): a target on this block's page goes straight into its
    /// block's chained entry when its cell is linked to it; it claims its
    /// cell when that is unclaimed and leaves for `run_block` to link it;
    /// any other target falls through. Uses rax, rcx and rdx.
    fn set_exit(&mut self, retired: u32) {
        use super::chain::{Cell, SET, UNCLAIMED};
        let Some(set) = (self.cell_for)(None) else {
            return;
        };
        let (l, o) = (self.l, self.origin);
        let (other, claim, unlinked) = (
            self.ops.new_dynamic_label(),
            self.ops.new_dynamic_label(),
            self.ops.new_dynamic_label(),
        );
        let f = |f: usize| f as i32;
        let (c_body, c_phys, c_eip, c_lin, c_key) = (
            f(offset_of!(Cell, body)),
            f(offset_of!(Cell, phys)),
            f(offset_of!(Cell, eip)),
            f(offset_of!(Cell, lin)),
            f(offset_of!(Cell, key)),
        );
        let (done, code) = (self.done, self.code(retired, EXIT_END));
        dynasm!(self.ops
            // The target's offset in this block's page, from EIPs
            // (`chain::same_page`). (A cell named for a block of another
            // page would never be linked, as stamps are unique, but would
            // take a cell for nothing.)
            ; mov eax, ebx
            ; sub eax, o.eip.wrapping_sub(o.phys & 0xFFF) as i32
        );
        self.eip_imm(o.eip.wrapping_sub(o.phys & 0xFFF));
        dynasm!(self.ops
            ; cmp eax, 0x1000
            ; jae =>other
            // Its cell (`chain.rs`).
            ; mov ecx, ebx
            ; shr ecx, 4
            ; xor ecx, ebx
            ; and ecx, (SET - 1) as i32
            ; imul ecx, ecx, size_of::<Cell>() as i32
            ; mov rdx, QWORD set as i64
        );
        self.cell_imm(set, None);
        dynasm!(self.ops
            ; add rdx, rcx
            // Claimed by this target: on through its body, the target's
            // chained entry once linked, else the code below.
            ; cmp ebx, DWORD [rdx + c_eip]
            ; jne =>claim
            ; jmp QWORD [rdx + c_body]
            ; =>claim
            ; cmp BYTE [rdx + c_key], UNCLAIMED as i8
            ; jne =>other
            // The names `Cells::alloc` gives a direct exit's cell.
            ; or eax, (o.phys & !0xFFF) as i32
            ; mov DWORD [rdx + c_phys], eax
            ; mov DWORD [rdx + c_eip], ebx
            ; lea eax, [rbx + o.lin.wrapping_sub(o.eip) as i32]
            ; mov DWORD [rdx + c_lin], eax
            ; mov BYTE [rdx + c_key], self.key as i8
            ; lea rax, [=>unlinked]
            ; mov QWORD [rdx + c_body], rax
            ; =>unlinked
            ; mov DWORD [BYTE r15 + l.eip], ebx
            ; mov QWORD [r15 + l.link_from], rdx
            ; mov eax, code
            ; jmp =>done
            ; =>other
        );
    }

    /// [`Emitter::exit_to_ebx`] once the cached registers are stored.
    fn leave_to_ebx(&mut self, retired: u32) {
        debug_assert!(self.pending.is_none());
        self.jump_on();
        let (at, done) = (self.l.eip, self.done);
        dynasm!(self.ops
            ; mov DWORD [BYTE r15 + at], ebx
            ; mov eax, self.code(retired, EXIT_END)
            ; jmp =>done
        );
    }

    /// `op bl/bx/ebx, cl/cx/ecx` for a two-operand ALU opcode `base`
    /// (the r/m,reg byte form).
    fn raw_rr(&mut self, base: u8, bytes: u8) {
        if bytes == 2 {
            self.ops.push(0x66);
        }
        let w = u8::from(bytes != 1);
        self.ops.extend([base | w, 0xCB]);
    }

    /// `op Rd(dst), Rd(src)` for the ALU opcode `base` (as `raw_rr`), any
    /// two host registers.
    fn raw_rr32(&mut self, base: u8, dst: u8, src: u8) {
        let rex = 0x40 | (src >> 3) << 2 | dst >> 3;
        if rex != 0x40 {
            self.ops.push(rex);
        }
        self.ops
            .extend([base | 1, 0xC0 | (src & 7) << 3 | (dst & 7)]);
    }

    /// `op Rd(dst), imm32` for the ALU opcode `base` (as `raw_rr`).
    fn raw_ri32(&mut self, base: u8, dst: u8, imm: u32) {
        if dst >= 8 {
            self.ops.push(0x41);
        }
        if base == 0x84 {
            self.ops.extend([0xF7, 0xC0 | (dst & 7)]);
        } else if let Ok(short) = i8::try_from(imm as i32) {
            // (The sign-extended byte form: shorter, the same operation.)
            self.ops
                .extend([0x83, 0xC0 | base | (dst & 7), short as u8]);
            return;
        } else {
            self.ops.extend([0x81, 0xC0 | base | (dst & 7)]);
        }
        self.ops.extend(imm.to_le_bytes());
    }

    /// `raw_unary` on any 32-bit host register.
    fn raw_unary32(&mut self, opc: u8, ext: u8, r: u8) {
        if r >= 8 {
            self.ops.push(0x41);
        }
        self.ops.extend([opc | 1, 0xC0 | ext << 3 | (r & 7)]);
    }

    /// `op bl/bx/ebx` for group opcode `opc` (FE or F6) with extension `ext`.
    fn raw_unary(&mut self, opc: u8, ext: u8, bytes: u8) {
        if bytes == 2 {
            self.ops.push(0x66);
        }
        let w = u8::from(bytes != 1);
        self.ops.extend([opc | w, 0xC3 | ext << 3]);
    }
}
