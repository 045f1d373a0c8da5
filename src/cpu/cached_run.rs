//! Runs of cached fast forms: the interpreter's inner loop for code it has
//! seen before. One call translates CS:EIP and reads the page's content
//! stamp once, then runs trace after trace (`traces.rs`: the fast forms of
//! the decoded-instruction cache laid out in order) while CS:EIP stays on
//! that page, within CS's limit, and the page's stamp holds. Each
//! instruction is called through its handler (`exec/handlers.rs`); a trace
//! is left as soon as EIP is not the next instruction's. The run ends
//! before an instruction that is not a fast form or not yet cached, when
//! control leaves the page, after a fault (delivered as a step delivers
//! it), after a write that changed the page's stamp (code written over),
//! or at the budget. Fast forms touch only registers and memory: none does
//! port I/O, loads a segment register, or changes CS, the paging
//! registers, the privilege level, IF, TF or AC, so the page's
//! translation, the code size, the interrupt state and the segment checks
//! the caller saw at the start hold throughout (as they do through a
//! translated block), and what a step clears before each instruction is
//! cleared once. The caller advances the machine's clock by the count
//! returned, as it does after a block.

use super::bus::Bus;
use super::exec::{handler_index, Handlers};
use super::fault::Fault;
use super::flags::TF;
use super::segment::{expand_down, Use};
use super::traces::{Op, Traces};
use super::SegReg;
use super::{Cpu, StepOutcome, Undo};

/// Facts about the segments and alignment checking that hold for a whole
/// run, since no fast form loads a segment register or changes CR0, the
/// privilege level or EFLAGS.AC: each access then checks only what can
/// differ from one access to the next, its offset against the limit.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RunFacts {
    /// Bit `2 * segment + write`: the segment's type and presence allow
    /// that use and it is not expand-down, so an access needs only the
    /// limit check.
    seg_ok: u16,
    /// Misaligned accesses may raise #AC.
    align: bool,
}

impl Cpu {
    /// The [`RunFacts`] of the CPU's state now.
    fn run_facts(&self) -> RunFacts {
        let mut seg_ok = 0;
        for seg in SegReg::ALL {
            // (Expand-down segments keep the whole check.)
            if expand_down(&self.segs[seg as usize]) {
                continue;
            }
            for (how, bit) in [(Use::Read, 0), (Use::Write, 1)] {
                if self.segment_allows(seg, how) {
                    seg_ok |= 1u16 << (2 * seg as u16 + bit);
                }
            }
        }
        RunFacts {
            seg_ok,
            align: self.alignment_checked(),
        }
    }

    /// The linear address of `N` bytes at `seg:off` for reading or
    /// writing inside a run: [`Cpu::linear_for`] and
    /// [`Cpu::check_alignment`] with what the run settled left out.
    #[inline(always)]
    pub(crate) fn run_linear<const N: u8>(
        &self,
        seg: SegReg,
        off: u32,
        write: bool,
    ) -> Result<u32, Fault> {
        let s = &self.segs[seg as usize];
        let bit = 1u16 << (2 * seg as u16 + u16::from(write));
        let last = u64::from(off) + u64::from(N) - 1;
        let lin = if self.run.seg_ok & bit != 0 && last <= u64::from(s.limit) {
            s.base.wrapping_add(off)
        } else {
            let how = if write { Use::Write } else { Use::Read };
            self.linear_for(seg, off, u32::from(N), how)?
        };
        if self.run.align {
            self.check_alignment(lin, N)?;
        }
        Ok(lin)
    }

    /// Runs at most `max` cached fast-form instructions from CS:EIP (see
    /// the module comment); returns how many retired and the outcome of
    /// the last (a delivered fault is `Executed`, a triple fault
    /// `Shutdown`). Zero retired means the next instruction needs a
    /// [`Cpu::step`].
    pub fn run_cached<B: Bus + ?Sized>(&mut self, bus: &mut B, max: u64) -> (u64, StepOutcome) {
        let none = (0, StepOutcome::Executed);
        if self.halted || self.eflags & TF != 0 || !self.icache.enabled {
            return none;
        }
        let Some(at) = self.code_at(self.eip) else {
            return none;
        };
        let Some(stamp) = bus.code_stamp(at.phys) else {
            return none;
        };
        // The traces are set aside for the run, so that their instructions
        // can be read while the CPU runs them; fast forms never touch the
        // decoded-instruction cache.
        let mut traces = std::mem::take(&mut self.icache.traces);
        let ran = self.run_traces(bus, max, &at, stamp, &mut traces);
        self.icache.traces = traces;
        ran
    }

    /// The body of [`Cpu::run_cached`]: trace after trace from CS:EIP
    /// while CS:EIP stays on the page of `at`, whose stamp is `stamp`.
    #[inline(always)]
    fn run_traces<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        max: u64,
        at: &super::fetch::CodeAt,
        stamp: u64,
        traces: &mut Traces,
    ) -> (u64, StepOutcome) {
        let page_lin = at.lin & !0xFFF;
        let page_phys = at.phys & !0xFFF;
        let cs_base = at.lin.wrapping_sub(at.off);
        self.sync_host_entries(bus);
        self.run = self.run_facts();
        // What a step clears before each instruction, cleared once: no
        // fast form sets any of it (the segment-use bits are the JIT's,
        // and a run only happens with the JIT off).
        self.jit_near.seg_live = 0;
        self.shadow_ss = false;
        self.shadow_sti = false;
        self.task_switched = false;
        // The instruction count, kept here and stored on the way out: no
        // fast form reads it.
        let icount = self.icount;
        let ip_mask = if at.code32 { u32::MAX } else { 0xFFFF };
        let mut n = 0;
        'traces: while n < max {
            let start = self.eip;
            // EIP is kept wrapped to the code size (`advance`, `jump_near`).
            let lin = cs_base.wrapping_add(start);
            if start > at.last || lin & !0xFFF != page_lin {
                break;
            }
            let phys = page_phys | (lin & 0xFFF);
            if !traces.has(phys, at.code32, stamp) {
                self.build_trace(phys, at.code32, stamp, traces);
            }
            let Some(trace) = traces.get(phys, at.code32, stamp) else {
                break;
            };
            if u64::from(start) + u64::from(trace.span) > u64::from(at.last) + 1 {
                break;
            }
            for op in trace.ops {
                if n == max {
                    break 'traces;
                }
                let start = self.eip;
                // 16-bit IP wraps only after the last byte of the range
                // (`at.last` is at most 0xFFFF there).
                let next = start.wrapping_add(u32::from(op.insn.len)) & ip_mask;
                let undo = Undo {
                    eip: start,
                    esp: self.gpr[4],
                    eflags: self.eflags,
                };
                self.eip = next;
                n += 1;
                let Some(handler) = Handlers::<B>::TABLE.get(usize::from(op.handler)) else {
                    break 'traces;
                };
                if let Err(f) = handler(self, bus, &op.insn, op.form) {
                    self.icount = icount.wrapping_add(n);
                    self.undo(&op.insn, undo);
                    return (n, self.raise(bus, f));
                }
                if op.writes && bus.code_stamp(page_phys) != Some(stamp) {
                    break 'traces;
                }
                if self.eip != next {
                    continue 'traces;
                }
            }
        }
        self.icount = icount.wrapping_add(n);
        (n, StepOutcome::Executed)
    }

    /// Builds the trace that starts at `phys` from the decoded-instruction
    /// cache's slots of `stamp` (see `traces.rs`); none when the
    /// instruction there is not cached or has no fast form.
    #[inline(never)]
    fn build_trace(&self, phys: u32, code32: bool, stamp: u64, traces: &mut Traces) {
        let first = traces.start();
        let mut at = phys;
        while let Some((insn, form)) = self.icache.get(at, code32, stamp) {
            let Some(handler) = handler_index(form).filter(|_| form.is_fast()) else {
                break;
            };
            let op = Op {
                insn: *insn,
                form,
                writes: form.writes_memory(),
                handler,
            };
            at = at.wrapping_add(u32::from(insn.len));
            if !traces.push(first, op) || form.ends_trace() || at & 0xFFF == 0 {
                break;
            }
        }
        traces.finish(first, phys, code32, stamp);
    }
}
