//! Runs of cached fast forms: the interpreter's inner loop for code it has
//! seen before. One call translates CS:EIP and reads the page's content
//! stamp once, then runs instruction after instruction from the
//! decoded-instruction cache while each is a fast form (`exec/fast.rs`) on
//! that same page, within CS's limit, and the page's stamp holds. The run
//! ends before an instruction that is not a fast form or not yet cached,
//! when control leaves the page, after a fault (delivered as a step
//! delivers it), after a write that changed the page's stamp (code written
//! over), or at the budget. Fast forms touch only registers and memory:
//! none does port I/O, changes CS, the paging registers, IF or TF, so the
//! page's translation, the code size and the interrupt state the caller
//! saw at the start hold throughout (as they do through a translated
//! block). The caller advances the machine's clock by the count returned,
//! as it does after a block.

use super::bus::Bus;
use super::flags::TF;
use super::{Cpu, StepOutcome};

impl Cpu {
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
        let page_lin = at.lin & !0xFFF;
        let page_phys = at.phys & !0xFFF;
        let cs_base = at.lin.wrapping_sub(at.off);
        self.sync_host_entries(bus);
        let mut n = 0;
        while n < max {
            let start = self.eip;
            // EIP is kept wrapped to the code size (`advance`, `jump_near`).
            let lin = cs_base.wrapping_add(start);
            if start > at.last || lin & !0xFFF != page_lin {
                break;
            }
            let Some((cached, form)) = self.icache.get(page_phys | (lin & 0xFFF), at.code32, stamp)
            else {
                break;
            };
            let len = cached.len;
            if !form.is_fast() || u64::from(start) + u64::from(len) > u64::from(at.last) + 1 {
                break;
            }
            let insn = *cached;
            self.icount = self.icount.wrapping_add(1);
            self.jit_near.seg_live = 0;
            self.shadow_ss = false;
            self.shadow_sti = false;
            self.task_switched = false;
            let undo = self.advance(len, start);
            n += 1;
            if let Err(f) = self.execute_form::<true, B>(bus, &insn, form) {
                if !self.task_switched {
                    self.undo(&insn, undo);
                }
                return (n, self.raise(bus, f));
            }
            if form.writes_memory() && bus.code_stamp(page_phys) != Some(stamp) {
                break;
            }
        }
        (n, StepOutcome::Executed)
    }
}
