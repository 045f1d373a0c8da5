//! Running one MOO test on a fresh [`Cpu`] and comparing the outcome.
//!
//! This file owns the test machine ([`TestBus`]: 16 MiB of RAM that is reset
//! between tests by undoing only the bytes that were touched, ports reading
//! all ones), loading a test's `INIT` state in real mode, stepping to the
//! closing HLT, and the comparison against `FINA` with undefined flags
//! masked. It knows nothing of files, directories or skip decisions; those
//! belong to `suite.rs` and `skips.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::AssertUnwindSafe;

use crate::cpu::{Bus, Cpu, Gpr, IoSize, Model, SegReg, Segment, StepOutcome};

use super::test::{CpuId, MooTest, Reg, RegLayout, Registers};

/// Size of the test machine's physical address space (24 address lines).
pub const RAM_SIZE: usize = 16 << 20;
const ADDR_MASK: u32 = (RAM_SIZE - 1) as u32;

/// Most `Cpu::step` calls a test may take before it counts as a runaway. A
/// test is one instruction (a REP string instruction is one step), perhaps
/// an exception delivery, then the HLT.
pub const STEP_CAP: usize = 64;

/// FLAGS bits 12-15 (IOPL, NT, and bit 15): a 286 in real mode cannot hold
/// them, so 286 tests clear them on load and never compare them.
pub const FLAGS_286_HIGH: u32 = 0xF000;

/// The machine a test runs on: flat RAM plus all-ones ports.
///
/// One bus is meant to be reused for many tests: [`TestBus::clear`] restores
/// the bytes written since the last clear to zero, so a test costs memory
/// traffic proportional to what it touched, not to the 16 MiB.
///
/// A bus made by [`TestBus::with_code_tracking`] also gives its pages
/// content stamps (`Bus::code_stamp`), so the decoded-instruction cache and
/// the JIT work on it: a write to a page holding marked code, or a clear,
/// gives the page a fresh stamp. A plain bus gives none, and the CPU then
/// neither caches decodes nor translates.
pub struct TestBus {
    ram: Vec<u8>,
    touched: Vec<u32>,
    /// Per 4 KiB page: its stamp and whether code on it was marked (empty
    /// without code tracking).
    stamps: Vec<u64>,
    marked: Vec<bool>,
}

/// Stamps are unique across every test bus of the process.
static NEXT_STAMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn fresh_stamp() -> u64 {
    NEXT_STAMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for TestBus {
    fn default() -> Self {
        Self::new()
    }
}

impl TestBus {
    /// 16 MiB of zeroed RAM (committed lazily by the OS).
    pub fn new() -> TestBus {
        TestBus {
            ram: vec![0; RAM_SIZE],
            touched: Vec::new(),
            stamps: Vec::new(),
            marked: Vec::new(),
        }
    }

    /// The same with content stamps per page, for runs with the
    /// decoded-instruction cache or the JIT.
    pub fn with_code_tracking() -> TestBus {
        let pages = RAM_SIZE >> 12;
        TestBus {
            stamps: (0..pages).map(|_| fresh_stamp()).collect(),
            marked: vec![false; pages],
            ..TestBus::new()
        }
    }

    /// Zeroes every byte written since the last clear.
    pub fn clear(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        for &a in &touched {
            self.ram[a as usize] = 0;
            self.renew((a >> 12) as usize);
        }
        touched.clear();
        self.touched = touched;
    }

    /// A fresh stamp for page `page` when code on it was marked.
    fn renew(&mut self, page: usize) {
        if let Some(m) = self.marked.get_mut(page) {
            if *m {
                *m = false;
                self.stamps[page] = fresh_stamp();
            }
        }
    }

    /// Reads a byte without going through the CPU's view.
    pub fn peek(&self, addr: u32) -> u8 {
        self.ram[(addr & ADDR_MASK) as usize]
    }

    /// Writes a byte, remembering it for [`TestBus::clear`].
    pub fn poke(&mut self, addr: u32, value: u8) {
        let a = addr & ADDR_MASK;
        self.touched.push(a);
        self.ram[a as usize] = value;
        self.renew((a >> 12) as usize);
    }
}

impl Bus for TestBus {
    fn read_u8(&mut self, addr: u32) -> u8 {
        self.peek(addr)
    }
    fn write_u8(&mut self, addr: u32, value: u8) {
        self.poke(addr, value)
    }
    fn io_read(&mut self, _port: u16, size: IoSize) -> u32 {
        match size {
            IoSize::Byte => 0xFF,
            IoSize::Word => 0xFFFF,
            IoSize::Dword => 0xFFFF_FFFF,
        }
    }
    fn io_write(&mut self, _port: u16, _size: IoSize, _value: u32) {}
    fn code_stamp(&mut self, addr: u32) -> Option<u64> {
        self.stamps
            .get(((addr & ADDR_MASK) >> 12) as usize)
            .copied()
    }
    fn mark_code(&mut self, addr: u32, _len: u32) -> Option<u64> {
        let page = ((addr & ADDR_MASK) >> 12) as usize;
        *self.marked.get_mut(page)? = true;
        self.stamps.get(page).copied()
    }
    fn code_stamp_at(&mut self, addr: u32) -> Option<*const u64> {
        self.stamps
            .get(((addr & ADDR_MASK) >> 12) as usize)
            .map(|s| s as *const u64)
    }
    fn host_epoch(&self) -> u64 {
        0
    }
}

/// Runs one step with the JIT: the translated block at CS:IP when there is
/// one of a single instruction, else the interpreter's step (the closing
/// HLT, an instruction the JIT leaves alone, or one it bailed on). Needs a
/// bus with code tracking; counts the instructions the JIT ran in `jitted`.
pub fn jit_step(
    cpu: &mut Cpu,
    bus: &mut TestBus,
    jitted: &std::sync::atomic::AtomicU64,
) -> StepOutcome {
    if !cpu.jit_enabled() {
        cpu.set_jit_enabled(true);
        cpu.set_jit_eager(true);
    }
    match cpu.run_block(bus, 1) {
        crate::cpu::BlockRun::Ran(n) => {
            jitted.fetch_add(u64::from(n), std::sync::atomic::Ordering::Relaxed);
            StepOutcome::Executed
        }
        _ => cpu.step(bus),
    }
}

/// Runs one step the way the interpreter runs an instruction it has seen
/// before: decoded into its cache first (`Cpu::prime_icache`), then run
/// from there, through the instruction's fast form where it has one. Needs
/// a bus with code tracking; counts the instructions that had a fast form
/// in `fast`.
pub fn cached_step(
    cpu: &mut Cpu,
    bus: &mut TestBus,
    fast: &std::sync::atomic::AtomicU64,
) -> StepOutcome {
    if cpu.prime_icache(bus) {
        fast.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    cpu.step(bus)
}

/// What a file tells the runner about all of its tests.
#[derive(Clone, Debug)]
pub struct FileContext {
    /// The processor that recorded the file.
    pub cpu: CpuId,
    /// 286 tests: the opcode's defined-flags mask from `metadata.json`
    /// (a set bit is compared). Ignored for 32-bit register sets.
    pub flags_mask_286: u16,
    /// File-level `RMSK`/`RM32` masks.
    pub masks: Option<Registers>,
}

impl FileContext {
    /// A context that compares every flag.
    pub fn new(cpu: CpuId) -> FileContext {
        FileContext {
            cpu,
            flags_mask_286: 0xFFFF,
            masks: None,
        }
    }
}

/// Why a test did not reach its closing HLT cleanly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopProblem {
    /// `step` reported a shutdown.
    Shutdown { steps: usize },
    /// [`STEP_CAP`] steps went by without a HLT.
    NoHalt { steps: usize },
}

/// One difference between the expected and the actual final state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Diff {
    Register {
        name: &'static str,
        expected: u32,
        got: u32,
        /// Bits compared (all ones unless some are undefined).
        mask: u32,
    },
    /// A segment register's hidden base is not selector * 16.
    SegmentBase {
        name: &'static str,
        expected: u32,
        got: u32,
    },
    Ram {
        address: u32,
        expected: u8,
        got: u8,
        mask: u8,
    },
    Stop(StopProblem),
    /// The CPU (or the stepper) panicked; the message is kept.
    Panic(String),
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Diff::Register {
                name,
                expected,
                got,
                mask,
            } => {
                let w = if expected > 0xFFFF || got > 0xFFFF {
                    8
                } else {
                    4
                };
                write!(f, "{name}: expected {expected:0w$x}, got {got:0w$x}")?;
                if mask != u32::MAX {
                    write!(
                        f,
                        " (compared bits {:0w$x})",
                        mask & (u32::MAX >> (32 - 4 * w))
                    )?;
                }
                Ok(())
            }
            Diff::SegmentBase {
                name,
                expected,
                got,
            } => write!(f, "{name}.base: expected {expected:08x}, got {got:08x}"),
            Diff::Ram {
                address,
                expected,
                got,
                mask,
            } => {
                write!(
                    f,
                    "ram[{address:06x}]: expected {expected:02x}, got {got:02x}"
                )?;
                if mask != 0xFF {
                    write!(f, " (compared bits {mask:02x})")?;
                }
                Ok(())
            }
            Diff::Stop(StopProblem::Shutdown { steps }) => {
                write!(f, "cpu shut down after {steps} step(s)")
            }
            Diff::Stop(StopProblem::NoHalt { steps }) => {
                write!(f, "no HLT within {steps} steps")
            }
            Diff::Panic(ref msg) => write!(f, "panicked: {msg}"),
        }
    }
}

/// The result of one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(Vec<Diff>),
    /// Not run; the reason comes from the skip list.
    Skipped(&'static str),
}

impl Outcome {
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }
}

fn seg_of(reg: Reg) -> Option<SegReg> {
    Some(match reg {
        Reg::Cs => SegReg::Cs,
        Reg::Ss => SegReg::Ss,
        Reg::Ds => SegReg::Ds,
        Reg::Es => SegReg::Es,
        Reg::Fs => SegReg::Fs,
        Reg::Gs => SegReg::Gs,
        _ => return None,
    })
}

fn gpr_of(reg: Reg) -> Option<Gpr> {
    Some(match reg {
        Reg::Eax => Gpr::Eax,
        Reg::Ebx => Gpr::Ebx,
        Reg::Ecx => Gpr::Ecx,
        Reg::Edx => Gpr::Edx,
        Reg::Esi => Gpr::Esi,
        Reg::Edi => Gpr::Edi,
        Reg::Ebp => Gpr::Ebp,
        Reg::Esp => Gpr::Esp,
        _ => return None,
    })
}

fn write_reg(cpu: &mut Cpu, reg: Reg, value: u32, layout: RegLayout) {
    if let Some(g) = gpr_of(reg) {
        cpu.set_gpr(g, value);
    } else if let Some(s) = seg_of(reg) {
        let old = cpu.segment(s);
        let selector = value as u16;
        cpu.set_segment(
            s,
            Segment {
                selector,
                base: u32::from(selector) << 4,
                limit: 0xFFFF,
                access: old.access,
            },
        );
    } else {
        match reg {
            Reg::Eip => cpu.set_eip(value),
            Reg::Eflags => {
                let v = match layout {
                    RegLayout::Regs16 => value & !FLAGS_286_HIGH,
                    RegLayout::Regs32 => value,
                };
                cpu.set_eflags(v);
            }
            Reg::Cr0 => cpu.set_cr0(value),
            Reg::Cr3 => cpu.set_cr3(value),
            Reg::Dr6 => cpu.dr[6] = value,
            Reg::Dr7 => cpu.dr[7] = value,
            _ => {}
        }
    }
}

fn read_reg(cpu: &Cpu, reg: Reg) -> u32 {
    if let Some(g) = gpr_of(reg) {
        return cpu.gpr(g);
    }
    if let Some(s) = seg_of(reg) {
        return u32::from(cpu.segment(s).selector);
    }
    match reg {
        Reg::Eip => cpu.eip(),
        Reg::Eflags => cpu.eflags(),
        Reg::Cr0 => cpu.cr0(),
        Reg::Cr3 => cpu.cr3(),
        Reg::Dr6 => cpu.dr[6],
        Reg::Dr7 => cpu.dr[7],
        _ => 0,
    }
}

/// EFLAGS bits an 80386 defines (CF through VM, reserved bits 1, 3, 5 and
/// 15 included since they read as fixed values). The 386EX capture reports
/// the reserved bits 18-31 as ones; AC (bit 18) and later bits belong to
/// later processors, so they are not compared.
pub const EFLAGS_386_DEFINED: u32 = 0x0003_FFFF;

/// The bits of register `bit` to compare, from every mask source.
fn compare_mask(test: &MooTest, ctx: &FileContext, bit: usize, reg: Reg) -> u32 {
    let layout = test.init.regs.layout;
    let mut mask = u32::MAX;
    match (reg, layout) {
        // 286: bits 12-15 cannot be held in real mode; the upper half must stay 0.
        (Reg::Eflags, RegLayout::Regs16) => {
            mask = (u32::from(ctx.flags_mask_286) & !FLAGS_286_HIGH) | 0xFFFF_0000;
        }
        (Reg::Eflags, RegLayout::Regs32) => mask = EFLAGS_386_DEFINED,
        // RG32 segment registers: "the upper two bytes should be ignored".
        (Reg::Cs | Reg::Ds | Reg::Es | Reg::Fs | Reg::Gs | Reg::Ss, RegLayout::Regs32) => {
            mask = 0xFFFF;
        }
        _ => {}
    }
    for m in [&ctx.masks, &test.init.masks, &test.fina.masks]
        .into_iter()
        .flatten()
    {
        if m.layout == layout && m.present & (1 << bit) != 0 {
            mask &= m.values[bit];
        }
    }
    mask
}

/// Loads `test`'s INIT state into a fresh CPU and into `bus` (which must be
/// clear), steps to the HLT, compares, and clears `bus` again.
pub fn run_test(test: &MooTest, ctx: &FileContext, bus: &mut TestBus) -> Outcome {
    run_test_with(test, ctx, bus, &|_, cpu, bus| cpu.step(bus))
}

/// How a test advances the CPU by one step: normally `Cpu::step`, but a
/// harness self-check (or a tracing wrapper) may substitute its own.
pub type Stepper = dyn Fn(&MooTest, &mut Cpu, &mut TestBus) -> StepOutcome + Sync;

/// [`run_test`] with `step` in place of `Cpu::step`.
pub fn run_test_with(
    test: &MooTest,
    ctx: &FileContext,
    bus: &mut TestBus,
    step: &Stepper,
) -> Outcome {
    // A panicking interpreter fails this test only, not the whole run.
    let run = std::panic::catch_unwind(AssertUnwindSafe(|| run_inner(test, ctx, bus, step)));
    let outcome =
        run.unwrap_or_else(|payload| Outcome::Fail(vec![Diff::Panic(panic_text(&payload))]));
    bus.clear();
    outcome
}

fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Loads a register set into `cpu` the way a test's INIT state is loaded:
/// segment registers in real mode (base = selector * 16, limit 0xFFFF), and
/// for 16-bit (286) sets FLAGS bits 12-15 cleared.
pub fn load_registers(cpu: &mut Cpu, regs: &Registers) {
    for (_, reg, value) in regs.iter() {
        write_reg(cpu, reg, value, regs.layout);
    }
}

fn run_inner(test: &MooTest, ctx: &FileContext, bus: &mut TestBus, step: &Stepper) -> Outcome {
    let layout = test.init.regs.layout;
    let mut cpu = Cpu::new();
    if ctx.cpu == CpuId::I286 {
        cpu.set_model(Model::I286);
    }
    load_registers(&mut cpu, &test.init.regs);
    for e in &test.init.ram {
        bus.poke(e.address, e.value);
    }

    let mut diffs = Vec::new();
    let mut steps = 0;
    loop {
        if steps == STEP_CAP {
            diffs.push(Diff::Stop(StopProblem::NoHalt { steps }));
            break;
        }
        steps += 1;
        match step(test, &mut cpu, bus) {
            StepOutcome::Executed => {}
            StepOutcome::Halted => break,
            StepOutcome::Shutdown => {
                diffs.push(Diff::Stop(StopProblem::Shutdown { steps }));
                break;
            }
        }
    }

    // Registers: FINA lists only what changed.
    for bit in 0..layout.len() {
        let Some(reg) = layout.reg(bit) else { continue };
        let has = |r: &Registers| r.present & (1 << bit) != 0;
        let expected = if has(&test.fina.regs) {
            test.fina.regs.values[bit]
        } else if has(&test.init.regs) {
            test.init.regs.values[bit]
        } else {
            continue;
        };
        let mask = compare_mask(test, ctx, bit, reg);
        let got = read_reg(&cpu, reg);
        if (expected ^ got) & mask != 0 {
            diffs.push(Diff::Register {
                name: layout.name(bit),
                expected,
                got,
                mask,
            });
        }
        if let Some(s) = seg_of(reg) {
            let base = cpu.segment(s).base;
            let want = (expected & 0xFFFF) << 4;
            if base != want {
                diffs.push(Diff::SegmentBase {
                    name: layout.name(bit),
                    expected: want,
                    got: base,
                });
            }
        }
    }

    // RAM: INIT bytes keep their value unless FINA lists a new one.
    let mut expected: BTreeMap<u32, u8> = BTreeMap::new();
    for e in test.init.ram.iter().chain(&test.fina.ram) {
        expected.insert(e.address & ADDR_MASK, e.value);
    }
    let flags_bit = (0..layout.len()).find(|&b| layout.reg(b) == Some(Reg::Eflags));
    let pushed_flags_mask = flags_bit.map_or(u32::MAX, |b| compare_mask(test, ctx, b, Reg::Eflags));
    // Where the exception pushed FLAGS: EXCP's flags_address is the bus
    // address of an aligned word cycle, one byte low when SP was odd, so
    // locate the two bytes from the final SS:SP (FLAGS, CS, IP were pushed).
    let final_reg = |want: Reg| {
        let value = |r: &Registers| r.iter().find(|&(_, reg, _)| reg == want).map(|(_, _, v)| v);
        value(&test.fina.regs).or_else(|| value(&test.init.regs))
    };
    let flag_bytes = test
        .exception
        .map(|x| match (final_reg(Reg::Ss), final_reg(Reg::Esp)) {
            (Some(ss), Some(sp)) => {
                let at =
                    |d: u32| ((ss << 4).wrapping_add((sp.wrapping_add(d)) & 0xFFFF)) & ADDR_MASK;
                (at(4), at(5))
            }
            _ => (
                x.flags_address & ADDR_MASK,
                (x.flags_address + 1) & ADDR_MASK,
            ),
        });
    for (&address, &want) in &expected {
        let mut mask = 0xFFu8;
        if let Some((lo, hi)) = flag_bytes {
            if address == lo {
                mask = pushed_flags_mask as u8;
            } else if address == hi {
                mask = (pushed_flags_mask >> 8) as u8;
            }
        }
        let got = bus.peek(address);
        if (want ^ got) & mask != 0 {
            diffs.push(Diff::Ram {
                address,
                expected: want,
                got,
                mask,
            });
        }
    }

    if diffs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(diffs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moo::test::{CpuState, Exception, RamEntry};

    fn state(layout: RegLayout, regs: &[(usize, u32)], ram: &[(u32, u8)]) -> CpuState {
        let mut r = Registers::empty(layout);
        for &(bit, v) in regs {
            r.present |= 1 << bit;
            r.values[bit] = v;
        }
        CpuState {
            regs: r,
            masks: None,
            ram: ram
                .iter()
                .map(|&(address, value)| RamEntry { address, value })
                .collect(),
            queue: Vec::new(),
        }
    }

    #[test]
    fn a_panicking_step_fails_only_its_test() {
        let l = RegLayout::Regs16;
        let test = MooTest {
            index: 0,
            name: String::new(),
            bytes: vec![0xF4],
            init: state(l, &[(0, 1)], &[(0x10, 0xF4)]),
            fina: state(l, &[], &[]),
            exception: None,
            hash: None,
        };
        let mut bus = TestBus::new();
        let boom = |_: &MooTest, _: &mut Cpu, _: &mut TestBus| -> StepOutcome {
            panic!("opcode not implemented")
        };
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let out = run_test_with(&test, &FileContext::new(CpuId::I286), &mut bus, &boom);
        std::panic::set_hook(prev);
        assert_eq!(
            out,
            Outcome::Fail(vec![Diff::Panic("opcode not implemented".into())])
        );
        assert_eq!(bus.peek(0x10), 0, "bus cleared after a panic");
    }

    #[test]
    fn bus_clear_undoes_only_touched_bytes() {
        let mut bus = TestBus::new();
        bus.poke(0x12345, 7);
        bus.poke(0xFF_FFFF, 9);
        assert_eq!(bus.peek(0x12345), 7);
        assert_eq!(bus.peek(0x1FF_FFFF), 9, "addresses wrap at 16 MiB");
        bus.clear();
        assert_eq!(bus.peek(0x12345), 0);
        assert_eq!(bus.peek(0xFF_FFFF), 0);
        assert_eq!(bus.io_read(0x60, IoSize::Word), 0xFFFF);
    }

    /// A test that only executes its closing HLT and whose expected final
    /// state differs from the initial one in undefined flag bits (in the
    /// FLAGS register and in the "pushed" FLAGS image found from SS:SP+4):
    /// checks loading, masking and the bus.
    #[test]
    fn unchanged_state_with_masked_flags_passes() {
        let l = RegLayout::Regs16;
        // ip = bit 12, flags = bit 13, cs = bit 4, sp = bit 8.
        let init = state(
            l,
            &[
                (0, 0x1234),
                (4, 0x1000),
                (8, 0x4FC),
                (12, 0x10),
                (13, 0xF0D7),
            ],
            &[(0x10010, 0xF4), (0x500, 0xAA), (0x501, 0xBB)],
        );
        // Expected flags differ in AF (bit 4, masked below) and in bit 15.
        let fina = state(l, &[(12, 0x11), (13, 0x80C7)], &[(0x500, 0xBA)]);
        let test = MooTest {
            index: 0,
            name: String::new(),
            bytes: vec![0xF4],
            init,
            fina,
            exception: Some(Exception {
                vector: 0,
                flags_address: 0x500,
            }),
            hash: None,
        };
        let mut ctx = FileContext::new(CpuId::I286);
        ctx.flags_mask_286 = 0xFFEF;
        let mut bus = TestBus::new();
        assert_eq!(run_test(&test, &ctx, &mut bus), Outcome::Pass);
        assert_eq!(bus.peek(0x500), 0, "bus is cleared after the run");

        ctx.flags_mask_286 = 0xFFFF;
        match run_test(&test, &ctx, &mut bus) {
            Outcome::Fail(d) => {
                assert_eq!(d.len(), 2, "{d:?}");
                assert!(d[0]
                    .to_string()
                    .starts_with("flags: expected 80c7, got 00d7"));
                assert!(d[1]
                    .to_string()
                    .starts_with("ram[000500]: expected ba, got aa"));
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
