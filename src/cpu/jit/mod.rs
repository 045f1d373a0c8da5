//! The JIT: guest code translated block by block into x86-64 machine code
//! (dynasm-rs), with the interpreter as the reference and the fallback.
//!
//! [`Cpu::run_block`] looks up the block at CS:EIP (by physical address,
//! EIP, code size and stack size, and trusted only while its page's content
//! stamp is unchanged, the same exact invalidation the decoded-instruction
//! cache uses), translates it on a miss, and runs it when it fits the
//! caller's instruction budget. Each instruction's opcode row says how the
//! JIT runs it (`x86/facts.rs`): with code of its own, by calling the
//! interpreter's handler from the block (`helpers::interp`), or not at
//! all: that instruction ends the block and the interpreter runs it. Any
//! instruction whose memory access would fault, cross a page or touch a
//! watched address, and any handler call that faults, "bails": the block
//! leaves with the guest as it was before the instruction, and the
//! interpreter runs it. So exceptions, interrupts, I/O, segment loads and
//! mode changes all happen in the interpreter, at the same instruction
//! boundaries as without the JIT.
//!
//! Layout: `block.rs` (which instructions, the `Op` form), `emit.rs` (code
//! generation), `helpers.rs` (the memory and arithmetic helpers generated
//! code calls), `chain.rs` (direct exits going on into the next block on
//! the same page), `jump.rs` (going on after returns, indirect jumps and
//! jumps to other pages), `liveness.rs` (which flags each instruction must
//! compute), `arena.rs` (W^X code memory).

mod arena;
mod block;
mod budget;
mod chain;
mod emit;
mod helpers;
mod jump;
mod lazy_flags;
mod liveness;
mod perf_map;
mod regs;
mod reloc;

use super::bus::Bus;
use super::flags::TF;
use super::segment::ACCESS_DB;
use super::tlb::Tlb;
use super::{Cpu, SegReg, Segment};
use crate::x86;
use arena::Arena;
use block::{Item, Op, MAX_INSNS};
use emit::Origin;
use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::offset_of;

/// Counters of the JIT's work (host-side; not machine state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Blocks translated.
    pub blocks_compiled: u64,
    /// Blocks made by copying a translation of the same bytes at another
    /// EIP (`reloc.rs`).
    pub blocks_copied: u64,
    /// Bytes of generated code in the arena now.
    pub code_bytes: u64,
    /// Blocks dropped because their page was written.
    pub invalidations: u64,
    /// Times the whole cache was dropped (the arena filled, the bus type
    /// or the CPU model changed, or on request).
    pub flushes: u64,
    /// Block runs.
    pub entries: u64,
    /// Guest instructions retired inside blocks.
    pub instructions: u64,
    /// Exits by reason: the block's end or control transfer.
    pub exits_end: u64,
    /// Exits to let the interpreter run an instruction (a fault, a page
    /// crossing or a watched address).
    pub exits_bail: u64,
    /// Calls of the interpreter's handlers from blocks (counted when the
    /// block is translated: one per instruction that runs that way).
    pub handler_insns: u64,
    /// Exits after a write changed the running block's code.
    pub exits_smc: u64,
    /// Direct exits that went straight on into the next block (chaining;
    /// a one-block loop going round is not counted).
    pub chained: u64,
    /// Exits that went straight on through the jump cache (returns,
    /// indirect jumps, jumps to another page).
    pub jumped: u64,
}

/// What [`Cpu::run_block`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRun {
    /// Nothing ran: the interpreter must run the next instruction.
    None,
    /// `n` instructions retired and the block ended normally.
    Ran(u32),
    /// `n` instructions retired, then one was left to the interpreter: run
    /// it with [`Cpu::step`] before the next block.
    Bailed(u32),
}

/// One entry of the block table.
#[derive(Clone, Copy, Default)]
struct Slot {
    phys: u32,
    eip: u32,
    /// CS base + EIP when translated: the execute watches a block ends
    /// before are those of its linear addresses (`Bus::exec_watched`).
    lin: u32,
    /// Bit 0: 32-bit code, bit 1: 32-bit stack, bit 2: flat data
    /// segments, bit 3: CS's limit is 4 GiB (`emit::Shape`), bit 7: in
    /// use.
    key: u8,
    stamp: u64,
    /// The code's address; 0 when the first instruction is left to the
    /// interpreter.
    code: usize,
    /// Where the jump cache enters it (past the prologue).
    body: usize,
    /// Where chained exits enter it (its own CS-limit and budget check,
    /// then `body`).
    chained: usize,
    insns: u32,
    /// The highest CS offset the block uses (its last byte, its targets).
    last_needed: u32,
    /// Seen once and left to the interpreter (see [`Cold`]): not yet
    /// translated, `code` is 0.
    cold: bool,
}

/// A block seen for the first time runs in the interpreter, and is
/// translated only when it comes round again: most code of a boot
/// (firmware, a kernel's initialisation) runs once, and translating it
/// costs far more than interpreting it. While the interpreter works
/// through such a block, `run_block` leaves it alone: the block's other
/// instructions (physical `from` < address < `to`, with the same key)
/// are not block starts, for at most `left` more instructions.
#[derive(Clone, Copy)]
struct Cold {
    from: u32,
    to: u32,
    key: u8,
    left: u32,
}

/// The block table's hash: a multiply-and-rotate of the key's integers
/// (the FxHash scheme). The keys are addresses the guest chooses, but a
/// guest that made them collide would only slow its own lookups.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// The CS offset after an instruction of `len` bytes at `at`, or `None`
/// when the instruction runs past the end of the offset space (4 GiB, or
/// 64 KiB for 16-bit code).
fn next_eip(at: u32, len: u8, code32: bool) -> Option<u32> {
    let end = u64::from(at) + u64::from(len);
    let wrap = if code32 { 1u64 << 32 } else { 1 << 16 };
    (end <= wrap).then_some((end % wrap) as u32)
}

/// A block's instructions as [`Cpu::form`] decoded them.
struct Formed {
    items: Vec<Item>,
    /// Their length in bytes.
    bytes: usize,
    /// The highest CS offset they use (their last byte, their targets).
    last_needed: u32,
    /// The length of what ended them because the JIT leaves it to the
    /// interpreter: an instruction it does not translate, or bytes that do
    /// not decode within the page (an instruction crossing into the next
    /// page that cannot be a handler call, an invalid opcode).
    refused: Option<u32>,
    /// The last item's bytes on the next page, when it runs into it.
    cross: Option<helpers::Cross>,
    /// An instruction running into the next page ended them, as a handler
    /// call or not: what they are then depends on that page, as mapped at
    /// their linear address, so a copy at another is not theirs
    /// (`reloc.rs`).
    page_cut: bool,
    /// An execute watch ended them.
    watched: bool,
}

/// At most this many instructions in one chain of blocks.
const MAX_CHAIN: u64 = 1 << 24;
// (Its hops fit below the budget's instructions, and a block's cost is a
// positive 32-bit immediate: `budget.rs`.)
const _: () = assert!(
    MAX_CHAIN <= budget::MAX
        && MAX_CHAIN < (1 << budget::SHIFT) - 1
        && ((MAX_INSNS as u64) << budget::SHIFT) < 1 << 31
);

/// Block table entries (a power of two).
const SLOTS: usize = 1 << 15;
const KEY_CODE32: u8 = 0x01;
const KEY_SS32: u8 = 0x02;
const KEY_FLAT: u8 = 0x04;
/// CS's limit is 4 GiB (every offset is within it).
const KEY_CS_4G: u8 = 0x08;
const KEY_USED: u8 = 0x80;

/// The JIT's fields that generated code uses most, kept in the `Cpu`
/// right after the registers, EIP and EFLAGS (`Cpu::jit_near`; both
/// `repr(C)`), so that they lie within a one-byte displacement of the
/// `Cpu` pointer (`layout`): short code runs faster. Host-side only,
/// never serialised, and, like the rest of the JIT's state, meaningful
/// only while blocks run.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Near {
    /// Status flags generated code left as a recipe (`lazy_flags.rs`);
    /// settled before `run_block` returns.
    pub(super) lazy: lazy_flags::LazyFlags,
    /// The TLB's host key for the running code (generation and privilege;
    /// `Tlb::host_key`), set before each block.
    pub(crate) host_key: u32,
    /// Which `seg_fast` entries may be used, by access kind (bit
    /// `2 * segment + write`). Cleared whenever the interpreter runs an
    /// instruction or delivers an interrupt, or a run starts: the only
    /// times a segment register can change.
    pub(super) seg_live: u16,
    /// The instructions blocks may still retire in this run after the
    /// current one (packed with the chained hops: `budget.rs`).
    pub(super) budget: u64,
    /// The bus of the running block, for generated code's helper calls.
    pub(super) bus: usize,
    /// The running block's page (physical address) and stamp, for the write
    /// helper's self-modification check and the chaining check.
    pub(super) running_page: u32,
    pub(super) running_stamp: u64,
}

/// A copy starts afresh, as a copy of the `Jit` does: the segment bounds
/// its live bits vouch for are the `Jit`'s, which a copy does not keep.
impl Clone for Near {
    fn clone(&self) -> Self {
        Near::default()
    }
}

/// The JIT's state inside a [`Cpu`]: host-side only, never serialised.
/// The default is off and empty. (Its busiest fields are in [`Near`].)
#[derive(Default)]
pub(crate) struct Jit {
    /// The budget at the chain's entry (plain), and the cell of the exit
    /// that last returned unlinked (0: none; `chain.rs`).
    budget_top: u64,
    link_from: usize,
    /// Per segment register, its base and limit for generated code's
    /// inline checks (see `helpers.rs`).
    pub(super) seg_fast: [helpers::SegFast; 6],
    /// The key jump cache entries must carry now: (generation + 1) * 2,
    /// plus 1 at user privilege.
    jump_key: u64,
    /// The TLB's entries for the jump cache's checks.
    tlb_entries: usize,
    /// The jump cache (`jump.rs`).
    jump: jump::JumpCache,
    pub enabled: bool,
    /// Every instruction a block runs by calling its handler, none inline
    /// (for the differential tests).
    handlers_only: bool,
    /// Translate a block the first time it runs rather than the second
    /// (see [`Cold`]; for tests that run code once).
    eager: bool,
    /// The block the interpreter is working through untranslated.
    cold: Option<Cold>,
    /// The decodes handler calls pass to the interpreter, kept (at fixed
    /// addresses) as long as the code that names them.
    handler_insns: Vec<Box<[x86::Insn]>>,
    /// The same for handler calls of instructions that run into the next
    /// page (boxed one by one: generated code holds their addresses while
    /// the vector grows).
    #[allow(clippy::vec_box)]
    cross_insns: Vec<Box<helpers::Cross>>,
    arena: Option<Arena>,
    /// A direct-mapped front table over `blocks`.
    slots: Vec<Slot>,
    /// Every translated block (and every "interpreter here" entry) since
    /// the last flush, by physical address, EIP and key.
    blocks: HashMap<(u32, u32, u8), Slot, BuildHasherDefault<KeyHasher>>,
    /// Translations to copy for the same bytes at another EIP
    /// (`reloc.rs`), by physical address and key.
    templates: HashMap<(u32, u8), reloc::Template, BuildHasherDefault<KeyHasher>>,
    /// Check every copy against a fresh translation (for tests).
    check_copies: bool,
    pub stats: JitStats,
    /// The bus type the blocks' helper addresses were taken for.
    bus_type: Option<TypeId>,
    /// Chaining (`chain.rs`): the exits' cells.
    cells: chain::Cells,
    /// The bus's `host_epoch` and address when the host entries were made.
    host_epoch: u64,
    host_bus: usize,
    /// The jump cache's generation (moved with every forgetting of host
    /// state).
    jump_gen: u64,
}

/// A copy has the same setting and an empty cache.
impl Clone for Jit {
    fn clone(&self) -> Self {
        Jit {
            enabled: self.enabled,
            handlers_only: self.handlers_only,
            eager: self.eager,
            check_copies: self.check_copies,
            ..Jit::default()
        }
    }
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jit(enabled: {}, {:?})", self.enabled, self.stats)
    }
}

impl Cpu {
    /// The instructions the running chain of blocks has retired, less
    /// `after` of the current block's: the budget its blocks took (each
    /// takes all its instructions as it starts), less those.
    pub(super) fn chain_retired(&self, after: u32) -> u32 {
        (self.jit.budget_top - budget::left(self.jit_near.budget)) as u32 - after
    }
}

impl Jit {
    /// Drops every block.
    pub fn flush(&mut self) {
        self.host_bus = 0;
        self.jump.clear();
        self.cells.clear();
        self.link_from = 0;
        if !self.slots.is_empty() || !self.blocks.is_empty() {
            self.slots = Vec::new();
            self.blocks = HashMap::default();
            self.templates = HashMap::default();
            self.stats.flushes += 1;
        }
        if let Some(a) = &mut self.arena {
            a.clear();
        }
        self.handler_insns = Vec::new();
        self.cross_insns = Vec::new();
        self.cold = None;
        self.stats.code_bytes = 0;
    }
}

/// The offset from the CPU of a field at `off` in its `Jit`.
fn jit(off: usize) -> i32 {
    (offset_of!(Cpu, jit) + off) as i32
}

/// The offset from the CPU of the `Near` field at `off`.
fn near(off: usize) -> i32 {
    (NEAR + off) as i32
}

/// The offset of a field of `len` bytes at `off` from the `Cpu` pointer,
/// which generated code reaches with a one-byte displacement: evaluated
/// for the constants below, so a field that moved out of reach (`Cpu`
/// and `Near` are `repr(C)` for this) fails the build.
const fn near_field(off: usize, len: usize) -> i8 {
    assert!(off + len <= 128, "out of a one-byte displacement's reach");
    off as i8
}

const NEAR: usize = offset_of!(Cpu, jit_near);
const CS: usize = offset_of!(Cpu, segs) + SegReg::Cs as usize * std::mem::size_of::<Segment>();
const NEAR_GPR: i8 = near_field(offset_of!(Cpu, gpr), 32);
const NEAR_EIP: i8 = near_field(offset_of!(Cpu, eip), 4);
const NEAR_EFLAGS: i8 = near_field(offset_of!(Cpu, eflags), 4);
const NEAR_HOST_KEY: i8 = near_field(NEAR + offset_of!(Near, host_key), 4);
const NEAR_BUS: i8 = near_field(NEAR + offset_of!(Near, bus), 8);
const NEAR_BUDGET: i8 = near_field(NEAR + offset_of!(Near, budget), 8);
const NEAR_LAZY: i8 = near_field(
    NEAR + offset_of!(Near, lazy),
    std::mem::size_of::<lazy_flags::LazyFlags>(),
);
const NEAR_CS_BASE: i8 = near_field(CS + offset_of!(Segment, base), 4);
const NEAR_CS_LIMIT: i8 = near_field(CS + offset_of!(Segment, limit), 4);

fn layout() -> emit::Layout {
    emit::Layout {
        gpr: NEAR_GPR,
        eip: NEAR_EIP,
        eflags: NEAR_EFLAGS,
        cs_limit: NEAR_CS_LIMIT,
        seg_fast: (offset_of!(Cpu, jit) + offset_of!(Jit, seg_fast)) as i32,
        seg_live: near(offset_of!(Near, seg_live)),
        host_key: NEAR_HOST_KEY,
        host_table: (offset_of!(Cpu, tlb) + Tlb::host_table_offset()) as i32,
        bus: NEAR_BUS,
        cs_base: NEAR_CS_BASE,
        cr0: offset_of!(Cpu, cr0) as i32,
        running_page: near(offset_of!(Near, running_page)),
        jump_table: jit(offset_of!(Jit, jump) + offset_of!(jump::JumpCache, base)),
        tlb_entries: jit(offset_of!(Jit, tlb_entries)),
        jump_count: jit(offset_of!(Jit, stats) + offset_of!(JitStats, jumped)),
        jump_key: jit(offset_of!(Jit, jump_key)),
        icount: offset_of!(Cpu, icount) as i32,
        tsc_offset: (offset_of!(Cpu, msr) + offset_of!(super::msr::Msrs, tsc_offset)) as i32,
        cr4: offset_of!(Cpu, cr4) as i32,
        running_stamp: near(offset_of!(Near, running_stamp)),
        budget: NEAR_BUDGET,
        budget_top: jit(offset_of!(Jit, budget_top)),
        link_from: jit(offset_of!(Jit, link_from)),
        lazy: NEAR_LAZY,
    }
}

/// The helpers' addresses for bus type `B`.
fn helper_addrs<B: Bus + 'static>() -> emit::Helpers {
    emit::Helpers {
        read: helpers::read::<B> as *const () as usize,
        write: helpers::write::<B> as *const () as usize,
        calc: helpers::calc as *const () as usize,
        interp: helpers::interp::<B> as *const () as usize,
        interp_cross: helpers::interp_cross::<B> as *const () as usize,
        settle: lazy_flags::settle as *const () as usize,
    }
}

/// What the block at `at` (CS:`eip`) with `key` may assume.
fn shape(key: u8, at: &super::fetch::CodeAt, eip: u32, last_needed: u32) -> emit::Shape {
    emit::Shape {
        ss32: key & KEY_SS32 != 0,
        flat: key & KEY_FLAT != 0,
        cs_4g: key & KEY_CS_4G != 0,
        key,
        origin: Origin {
            phys: at.phys,
            eip,
            lin: at.lin,
        },
        last_needed,
    }
}

/// The lowest CS offset a block at `eip` names (its start or a branch
/// target), when every target is an offset from `eip` that does not wrap
/// (so it moves with the block: `reloc.rs`).
fn lowest_named(items: &[Item], eip: u32) -> Option<u32> {
    let mut low = eip;
    for it in items {
        if let Op::Jmp { target } | Op::Jcc { target, .. } | Op::Call { target } = it.op {
            let off = target.wrapping_sub(eip) as i32;
            if !it.insn.op32 || i64::from(eip) + i64::from(off) != i64::from(target) {
                return None;
            }
            low = low.min(target);
        }
    }
    Some(low)
}

fn index(phys: u32) -> usize {
    (phys ^ (phys >> 15)) as usize & (SLOTS - 1)
}

impl Cpu {
    /// Turns the JIT on or off; either way the guest sees the same thing.
    pub fn set_jit_enabled(&mut self, on: bool) {
        self.jit.flush();
        self.jit.enabled = on;
    }
    /// Makes blocks run every instruction by calling the interpreter's
    /// handler (`true`) instead of inline code where the JIT has some: the
    /// differential tests compare the two.
    pub fn set_jit_handlers_only(&mut self, on: bool) {
        self.jit.flush();
        self.jit.handlers_only = on;
    }
    /// Translates blocks the first time they run (`true`) instead of the
    /// second, for tests whose code runs once (either way the guest sees
    /// the same thing).
    pub fn set_jit_eager(&mut self, on: bool) {
        self.jit.flush();
        self.jit.eager = on;
    }
    /// Checks every block made by copying another's translation
    /// (`reloc.rs`) against a fresh translation, panicking on a
    /// difference: for tests.
    pub fn set_jit_check_copies(&mut self, on: bool) {
        self.jit.flush();
        self.jit.check_copies = on;
    }
    /// True while blocks are translated and run.
    pub fn jit_enabled(&self) -> bool {
        self.jit.enabled
    }
    /// The JIT's counters.
    pub fn jit_stats(&self) -> JitStats {
        self.jit.stats
    }
    /// Drops every translated block.
    pub fn flush_jit(&mut self) {
        self.jit.flush();
    }
    /// Forgets what generated code knows of segments and of where guest
    /// pages are in host memory; a caller that changes the CPU or the board
    /// from outside (between runs) calls it.
    #[inline]
    pub fn forget_jit_host_state(&mut self) {
        self.jit_near.seg_live = 0;
        self.jit.jump_gen += 1;
        self.tlb.host_forget();
    }

    /// Readies the TLB's host entries for a run of generated code or of
    /// the interpreter's fast forms on `bus`: they lapse when the bus says
    /// its pages changed (code marked by a translation or by the
    /// interpreter, A20, watches) or when this is another bus; the key of
    /// entries valid now is set for the current privilege.
    pub(crate) fn sync_host_entries<B: Bus + ?Sized>(&mut self, bus: &mut B) {
        let (epoch, bus_at) = (bus.host_epoch(), bus as *mut B as *mut u8 as usize);
        if epoch != self.jit.host_epoch || bus_at != self.jit.host_bus {
            self.tlb.host_forget();
            self.jit.jump_gen += 1;
            self.jit.host_epoch = epoch;
            self.jit.host_bus = bus_at;
        }
        self.jit_near.host_key = self.tlb.host_key(self.user());
    }

    /// Runs the translated block at CS:EIP when there is one of at most
    /// `max` instructions (translating it first if needed). Returns
    /// [`BlockRun::None`] when the interpreter must run the next
    /// instruction instead: the JIT is off, the CPU is halted, single-step
    /// trapping or in an interrupt shadow, CS:EIP is not in the TLB or not
    /// in RAM, or the instruction there is one the JIT leaves alone.
    pub fn run_block<B: Bus + 'static>(&mut self, bus: &mut B, max: u64) -> BlockRun {
        if !self.jit.enabled
            || self.halted
            || self.eflags & TF != 0
            || self.interrupt_shadow()
            || max == 0
        {
            return BlockRun::None;
        }
        let eip = self.eip;
        let Some(at) = self.code_at(eip) else {
            return BlockRun::None;
        };
        let Some(stamp) = bus.code_stamp(at.phys) else {
            return BlockRun::None;
        };
        if self.jit.bus_type != Some(TypeId::of::<B>()) {
            self.jit.flush();
            self.jit.bus_type = Some(TypeId::of::<B>());
        }
        let key = KEY_USED
            | if at.code32 { KEY_CODE32 } else { 0 }
            | if self.segs[SegReg::Ss as usize].access & ACCESS_DB != 0 {
                KEY_SS32
            } else {
                0
            }
            | if self.flat_data() { KEY_FLAT } else { 0 }
            | if self.segs[SegReg::Cs as usize].limit == u32::MAX {
                KEY_CS_4G
            } else {
                0
            };
        if let Some(c) = &mut self.jit.cold {
            if c.left > 0 && c.key == key && at.phys > c.from && at.phys < c.to {
                c.left -= 1;
                return BlockRun::None;
            }
            self.jit.cold = None;
        }
        let i = index(at.phys);
        let slot = match self.jit.slots.get(i) {
            Some(s)
                if s.key == key
                    && s.phys == at.phys
                    && s.eip == eip
                    && s.lin == at.lin
                    && s.stamp == stamp =>
            {
                *s
            }
            _ => {
                let id = (at.phys, eip, key);
                let s = match self.jit.blocks.get(&id) {
                    Some(s) if s.stamp == stamp && s.lin == at.lin && !s.cold => *s,
                    found => {
                        let seen = found.is_some_and(|s| s.stamp == stamp && s.lin == at.lin);
                        if found.is_some_and(|s| s.stamp != 0 && !s.cold) {
                            self.jit.stats.invalidations += 1;
                        }
                        if !seen && !self.jit.eager {
                            if let Some(c) = self.cold_block(bus, &at, eip, key) {
                                let s = Slot {
                                    phys: at.phys,
                                    eip,
                                    lin: at.lin,
                                    key,
                                    stamp,
                                    cold: true,
                                    ..Slot::default()
                                };
                                self.jit.blocks.insert(id, s);
                                self.jit.cold = Some(c);
                                return BlockRun::None;
                            }
                        }
                        let s = match self.copy_block(bus, &at, eip, key, stamp) {
                            Some(s) => s,
                            None => self.compile(bus, &at, eip, key),
                        };
                        self.jit.blocks.insert(id, s);
                        s
                    }
                };
                if self.jit.slots.is_empty() {
                    self.jit.slots = vec![Slot::default(); SLOTS];
                }
                self.jit.slots[i] = s;
                s
            }
        };
        let link = std::mem::take(&mut self.jit.link_from);
        if link != 0 && slot.code != 0 {
            self.jit.cells.link(
                link,
                &chain::Cell {
                    body: slot.chained,
                    stamp: slot.stamp,
                    phys: slot.phys,
                    eip: slot.eip,
                    lin: slot.lin,
                    key: slot.key,
                },
            );
        }
        if slot.code == 0 || u64::from(slot.insns) > max || slot.last_needed > at.last {
            return BlockRun::None;
        }
        self.jit_near.running_page = at.phys;
        self.jit_near.running_stamp = slot.stamp;
        // Chained blocks may retire up to `max` in all (capped so that the
        // count fits the return value).
        self.jit.budget_top = max.min(MAX_CHAIN);
        self.jit_near.budget = budget::pack(self.jit.budget_top - u64::from(slot.insns));
        self.task_switched = false;
        self.sync_host_entries(bus);
        self.jit_near.bus = self.jit.host_bus;
        self.jit.tlb_entries = self.tlb.entries_ptr() as usize;
        self.jit.jump.ensure();
        self.jit.jump_key = (self.jit.jump_gen + 1) << 1 | u64::from(self.user());
        self.record_jump(bus, &at, &slot);
        // SAFETY: `slot.code` is the entry of a block assembled by
        // `emit::block` for this bus type (the table is flushed when the
        // type changes) and still in the arena (cleared together with the
        // table); the arena is mapped read-execute. The function follows
        // the sysv64 ABI and saves every callee-saved register it uses.
        // Through the CPU pointer it touches the CPU's own fields and the
        // `Jit`'s; through pointers set just above it reads the TLB's
        // entries and host table and the jump cache's table (all owned by
        // this CPU and not resized while it runs), and through a jump
        // cache entry's `stamp_at` a page stamp of this bus, valid while
        // the entry's generation is current (`jump.rs`); guest memory only
        // through the helpers or a host entry's page of RAM; the bus only
        // through the helpers.
        let f: extern "sysv64" fn(*mut Cpu, *mut B) -> u32 =
            unsafe { std::mem::transmute::<usize, _>(slot.code) };
        let r = f(self, bus);
        self.settle_flags();
        let (retired, why) = (self.chain_retired(r & 0xFFFF), r >> 16);
        self.icount = self.icount.wrapping_add(u64::from(retired));
        let st = &mut self.jit.stats;
        st.chained += budget::hops(self.jit_near.budget);
        st.entries += 1;
        st.instructions += u64::from(retired);
        match why {
            emit::EXIT_BAIL => {
                st.exits_bail += 1;
                BlockRun::Bailed(retired)
            }
            emit::EXIT_SMC => {
                st.exits_smc += 1;
                BlockRun::Ran(retired)
            }
            _ => {
                st.exits_end += 1;
                BlockRun::Ran(retired)
            }
        }
    }

    /// Records the block about to run in the jump cache, with what was
    /// checked to run it (see `jump.rs`).
    fn record_jump<B: Bus>(&mut self, bus: &mut B, at: &super::fetch::CodeAt, slot: &Slot) {
        let Some(stamp_at) = bus.code_stamp_at(at.phys) else {
            return;
        };
        let paged = self.paging_on();
        let tlb = if paged {
            match self.tlb.slot_entry(at.lin >> 12) {
                Some(e) => e,
                None => return,
            }
        } else {
            Default::default()
        };
        self.jit.jump.record(jump::Entry {
            eip: slot.eip,
            lin: at.lin,
            last_needed: slot.last_needed,
            insns: slot.insns,
            phys: slot.phys,
            key: slot.key,
            paged: u8::from(paged),
            tlb_access: tlb.fetch_access(),
            tlb: u64::from(tlb.tag) | u64::from(tlb.frame) << 32,
            stamp: slot.stamp,
            stamp_at: stamp_at as usize,
            body: slot.body,
            gen: self.jit.jump_key,
        });
    }

    /// True when DS, ES and SS are flat as `emit::Shape::flat` means it:
    /// base 0, limit 4 GiB, reads and writes allowed (in protected mode a
    /// present, writable, expand-up data segment), and no alignment
    /// checking.
    fn flat_data(&self) -> bool {
        const AM: u32 = 1 << 18;
        if self.cr0 & AM != 0 && self.eflags & AM != 0 {
            return false;
        }
        let protected = self.protected();
        [SegReg::Ds, SegReg::Es, SegReg::Ss].iter().all(|&r| {
            let s = &self.segs[r as usize];
            s.base == 0 && s.limit == u32::MAX && (!protected || s.access & 0x9E == 0x92)
        })
    }

    /// Decodes the block at `at` (CS:`eip`): up to [`MAX_INSNS`]
    /// instructions, to the first that ends a block, the page's end, the
    /// first the JIT leaves to the interpreter or the first an execute
    /// watch covers (which, as the first, is refused).
    fn form<B: Bus>(&self, bus: &mut B, at: &super::fetch::CodeAt, eip: u32) -> Formed {
        let (phys, code32) = (at.phys, at.code32);
        let cs_base = at.lin.wrapping_sub(eip);
        // The most a block can span, up to the page's end.
        let mut buf = [0u8; MAX_INSNS * x86::MAX_INSN_LEN];
        let page =
            &mut buf[..((0x1000 - (phys & 0xFFF)) as usize).min(MAX_INSNS * x86::MAX_INSN_LEN)];
        bus.read_block(phys, page);
        let mut f = Formed {
            items: Vec::with_capacity(16),
            bytes: 0,
            last_needed: 0,
            refused: None,
            cross: None,
            page_cut: false,
            watched: false,
        };
        while f.items.len() < MAX_INSNS && f.bytes < page.len() {
            let at = eip.wrapping_add(f.bytes as u32);
            if bus.exec_watched(cs_base.wrapping_add(at), phys + f.bytes as u32) {
                f.watched = true;
                if f.items.is_empty() {
                    // (Whatever the bytes: the address is watched.)
                    f.refused = Some(1);
                }
                break;
            }
            let Ok(insn) = x86::decode(&page[f.bytes..], code32) else {
                // Invalid, or cut by the page's end: an instruction that
                // runs into the next page ends the block as a handler call
                // that checks its bytes there, where it can.
                let to_end = (0x1000 - (phys & 0xFFF)) as usize;
                f.page_cut = page.len() == to_end;
                let cross = if f.page_cut {
                    self.cross_at(bus, at, &page[f.bytes..], code32)
                } else {
                    Some(None)
                };
                match cross {
                    Some(Some((item, cross))) => {
                        f.last_needed = f.last_needed.max(at + (u32::from(item.insn.len) - 1));
                        f.bytes += usize::from(item.insn.len);
                        f.items.push(item);
                        f.cross = Some(cross);
                    }
                    Some(None) => {
                        f.refused = Some((page.len() - f.bytes).min(x86::MAX_INSN_LEN) as u32);
                    }
                    // (Not cached: the interpreter's fetch fills the TLB.)
                    None => {}
                }
                break;
            };
            let Some(next) = next_eip(at, insn.len, code32) else {
                break;
            };
            let Some(op) = block::translate(&insn, next, self.model, !self.jit.handlers_only)
            else {
                f.refused = Some(u32::from(insn.len));
                break;
            };
            f.last_needed = f.last_needed.max(at + (u32::from(insn.len) - 1));
            if let Op::Jmp { target } | Op::Jcc { target, .. } | Op::Call { target } = op {
                f.last_needed = f.last_needed.max(target);
            }
            let bytes = block::op_bytes(&insn, &op);
            f.items.push(Item {
                insn,
                op,
                eip: at,
                next,
                bytes,
            });
            f.bytes += usize::from(insn.len);
            if insn.mn.ends_block() || next == 0 {
                break;
            }
        }
        f
    }

    /// The instruction at CS:`at` whose first bytes, `head`, end the page,
    /// as a block's last item, when the next page is plain RAM and the
    /// instruction is one a handler runs inside a block without ending it
    /// (else `Some(None)`); `None` while the next page's translation for a
    /// fetch is not in the TLB (no walk here: the interpreter's fetch makes
    /// it).
    fn cross_at<B: Bus>(
        &self,
        bus: &mut B,
        at: u32,
        head: &[u8],
        code32: bool,
    ) -> Option<Option<(Item, helpers::Cross)>> {
        let next_page = self.code_at(at.wrapping_add(head.len() as u32))?;
        Some(self.cross_decode(bus, next_page.phys, at, head, code32))
    }

    /// [`Cpu::cross_at`] once the next page is found at physical `phys`.
    fn cross_decode<B: Bus>(
        &self,
        bus: &mut B,
        phys: u32,
        at: u32,
        head: &[u8],
        code32: bool,
    ) -> Option<(Item, helpers::Cross)> {
        bus.host_page(phys, false)?;
        let mut bytes = [0u8; x86::MAX_INSN_LEN];
        bytes[..head.len()].copy_from_slice(head);
        bus.read_block(phys, &mut bytes[head.len()..]);
        let insn = x86::decode(&bytes, code32).ok()?;
        let len = usize::from(insn.len);
        let next = next_eip(at, insn.len, code32)?;
        if len <= head.len() || insn.mn.ends_block() || insn.mn.branches() {
            return None;
        }
        block::translate(&insn, next, self.model, false)?;
        let mut tail = [0u8; x86::MAX_INSN_LEN];
        tail[..len - head.len()].copy_from_slice(&bytes[head.len()..len]);
        let op = Op::Interp {
            insn: 0,
            cross: true,
        };
        let item = Item {
            insn,
            op,
            eip: at,
            next,
            bytes: block::op_bytes(&insn, &op),
        };
        let cross = helpers::Cross {
            insn,
            first: head.len() as u32,
            tail,
            tail_len: len - head.len(),
        };
        Some((item, cross))
    }

    /// The extent of the block at physical `phys` (CS:`eip`) for the
    /// interpreter to work through once ([`Cold`]), or `None` when there
    /// is nothing to translate there.
    fn cold_block<B: Bus>(
        &self,
        bus: &mut B,
        at: &super::fetch::CodeAt,
        eip: u32,
        key: u8,
    ) -> Option<Cold> {
        let f = self.form(bus, at, eip);
        (!f.items.is_empty()).then(|| Cold {
            from: at.phys,
            to: at.phys + f.bytes as u32,
            key,
            left: f.items.len() as u32 - 1,
        })
    }

    /// The block at `at` (CS:`eip`, with `key`, its page at `stamp`) as a
    /// copy of the translation of the same bytes at another EIP
    /// (`reloc.rs`), when there is one to copy.
    fn copy_block<B: Bus + 'static>(
        &mut self,
        bus: &mut B,
        at: &super::fetch::CodeAt,
        eip: u32,
        key: u8,
        stamp: u64,
    ) -> Option<Slot> {
        let Jit {
            templates,
            cells,
            arena,
            stats,
            ..
        } = &mut self.jit;
        let t = templates.get(&(at.phys, key))?;
        if t.stamp != stamp || t.origin.eip == eip || !t.fits(eip, at.lin) {
            return None;
        }
        if (0..t.extent.bytes).any(|k| bus.exec_watched(at.lin.wrapping_add(k), at.phys + k)) {
            return None;
        }
        let arena = arena.as_mut()?;
        let delta = eip.wrapping_sub(t.origin.eip);
        let cs_base = at.lin.wrapping_sub(eip);
        let mut new_cells = Vec::new();
        for r in t.relocs.iter() {
            new_cells.push(match *r {
                reloc::Reloc::Cell { target, .. } => {
                    let target = target.wrapping_add(delta);
                    let to = chain::same_page(at.phys, eip, target)?;
                    cells.alloc(to, target, cs_base.wrapping_add(target), key, stamp)?
                }
                reloc::Reloc::Set { .. } => cells.alloc_set(stamp, eip ^ 0x8000_0000)?,
                reloc::Reloc::Eip { .. } => continue,
            });
        }
        let code = t.relocate(arena.code(t.code, t.len)?, eip, &new_cells)?;
        if !arena.fits(code.len()) {
            return None;
        }
        let addr = arena.append(&code)?;
        let offset = arena.used() - code.len();
        perf_map::record(&code, addr, offset, at.phys, eip, t.extent.insns as usize);
        for &(k, off) in t.unlinked.iter() {
            cells.leave_unlinked(new_cells[k], addr + off);
        }
        let slot = Slot {
            phys: at.phys,
            eip,
            lin: at.lin,
            key,
            stamp,
            code: addr,
            body: addr + t.body,
            chained: addr + t.chained,
            insns: t.extent.insns,
            last_needed: t.last_needed_at(eip),
            cold: false,
        };
        stats.blocks_copied += 1;
        stats.code_bytes = arena.used() as u64;
        if self.jit.check_copies {
            self.check_copy(bus, at, eip, key, &code, addr, new_cells);
        }
        Some(slot)
    }

    /// Panics unless `code`, a copy made for the block at `at` (CS:`eip`)
    /// at host address `addr` with `new_cells`, is what translating the
    /// block there gives.
    #[allow(clippy::too_many_arguments)]
    fn check_copy<B: Bus + 'static>(
        &self,
        bus: &mut B,
        at: &super::fetch::CodeAt,
        eip: u32,
        key: u8,
        code: &[u8],
        addr: usize,
        new_cells: Vec<usize>,
    ) {
        let f = self.form(bus, at, eip);
        let mut given = new_cells.into_iter();
        let mut cell_for = |target: Option<u32>| match target {
            Some(target) => chain::same_page(at.phys, eip, target).and_then(|_| given.next()),
            None => given.next(),
        };
        let fresh = emit::block(
            &f.items,
            addr,
            layout(),
            helper_addrs::<B>(),
            shape(key, at, eip, f.last_needed),
            &mut cell_for,
        )
        .expect("the copied block translates");
        assert!(
            fresh.bytes == code,
            "the copy of the block at {eip:#x} (physical {:#x}) differs from its translation",
            at.phys
        );
    }

    /// Translates the block at physical `phys` (CS:`eip`).
    fn compile<B: Bus + 'static>(
        &mut self,
        bus: &mut B,
        at: &super::fetch::CodeAt,
        eip: u32,
        key: u8,
    ) -> Slot {
        let phys = at.phys;
        let mut slot = Slot {
            phys,
            eip,
            lin: at.lin,
            key,
            ..Slot::default()
        };
        let Formed {
            mut items,
            bytes: pos,
            last_needed,
            refused,
            cross,
            page_cut,
            watched,
        } = self.form(bus, at, eip);
        if items.is_empty() {
            if let Some(len) = refused {
                // Remember "interpreter here" until these bytes change
                // (whatever the next page holds, the interpreter is right
                // to run an instruction that crosses into it).
                if let Some(stamp) = bus.mark_code(phys, len) {
                    slot.stamp = stamp;
                }
            }
            return slot;
        }
        // (Of an instruction that runs into the next page, the bytes there
        // are checked at each run instead.)
        let on_page = (pos as u32).min(0x1000 - (phys & 0xFFF));
        let Some(stamp) = bus.mark_code(phys, on_page) else {
            return slot;
        };
        slot.stamp = stamp;
        // The decodes the block's handler calls name, at addresses that
        // stay put (the box moves into `handler_insns` once the code is in
        // the arena).
        let mut handlers: Box<[x86::Insn]> = items
            .iter()
            .filter(|it| matches!(it.op, Op::Interp { cross: false, .. }))
            .map(|it| it.insn)
            .collect();
        let mut cross = cross.map(Box::new);
        let mut named = handlers.iter();
        for it in &mut items {
            match &mut it.op {
                Op::Interp { insn, cross: false } => {
                    let decode = named.next().expect("one decode per handler call");
                    *insn = decode as *const x86::Insn as usize;
                }
                Op::Interp { insn, cross: true } => {
                    let c = cross.as_deref().expect("the crossing instruction's bytes");
                    *insn = c as *const helpers::Cross as usize;
                }
                _ => {}
            }
        }
        // A copy at another EIP is what translating there would give
        // (`reloc.rs`).
        let low = (key & KEY_CODE32 != 0
            && handlers.is_empty()
            && cross.is_none()
            && !page_cut
            && !watched
            && reloc::far_from_top(eip, pos as u32))
        .then(|| lowest_named(&items, eip))
        .flatten();
        if self.jit.arena.is_none() {
            self.jit.arena = Arena::new();
        }
        for _ in 0..2 {
            let Jit {
                arena,
                cells,
                stats,
                handler_insns,
                cross_insns,
                templates,
                ..
            } = &mut self.jit;
            let Some(arena) = arena else {
                return slot;
            };
            let stamp = slot.stamp;
            // (Whether a cell was refused: a copy would then differ from
            // a later translation, which might get one.)
            let mut short = false;
            let mut cell_for = |target: Option<u32>| {
                let cell = match target {
                    Some(target) => cells.alloc(
                        chain::same_page(phys, eip, target)?,
                        target,
                        at.lin.wrapping_sub(eip).wrapping_add(target),
                        key,
                        stamp,
                    ),
                    // (An EIP half the address space away is off the page.)
                    None => cells.alloc_set(stamp, eip ^ 0x8000_0000),
                };
                short |= cell.is_none();
                cell
            };
            let Some(code) = emit::block(
                &items,
                arena.next_addr(),
                layout(),
                helper_addrs::<B>(),
                shape(key, at, eip, last_needed),
                &mut cell_for,
            ) else {
                return slot;
            };
            let emit::Code {
                bytes: code,
                body,
                chained,
                unlinked,
                relocs,
            } = code;
            if !arena.fits(code.len()) {
                // (The cells just made go with the flush.)
                self.jit.flush();
                continue;
            }
            match arena.append(&code) {
                Some(addr) => {
                    let offset = arena.used() - code.len();
                    perf_map::record(&code, addr, offset, phys, eip, items.len());
                    slot.code = addr;
                    slot.body = addr + body;
                    slot.chained = addr + chained;
                    for &(cell, at) in &unlinked {
                        cells.leave_unlinked(cell, addr + at);
                    }
                    if let (Some(low), false) = (low, short) {
                        templates.insert(
                            (phys, key),
                            reloc::Template::new(
                                addr,
                                code.len(),
                                Origin {
                                    phys,
                                    eip,
                                    lin: at.lin,
                                },
                                stamp,
                                reloc::Extent {
                                    bytes: pos as u32,
                                    insns: items.len() as u32,
                                    low,
                                    last_needed,
                                },
                                (body, chained),
                                &unlinked,
                                relocs,
                            ),
                        );
                    }
                    slot.insns = items.len() as u32;
                    slot.last_needed = last_needed;
                    stats.blocks_compiled += 1;
                    stats.code_bytes = arena.used() as u64;
                    stats.handler_insns += handlers.len() as u64;
                    if !handlers.is_empty() {
                        handler_insns.push(std::mem::take(&mut handlers));
                    }
                    if let Some(c) = cross.take() {
                        stats.handler_insns += 1;
                        cross_insns.push(c);
                    }
                }
                None => {
                    // The protection could not be changed: no JIT from now on.
                    self.jit.arena = None;
                    self.jit.flush();
                    self.jit.enabled = false;
                }
            }
            break;
        }
        slot
    }
}
