//! The Rust functions generated code calls: guest memory reads and writes
//! (segment checks, paging, the bus), the arithmetic the interpreter
//! computes best itself (shifts, multiplies), and whole instructions run
//! by the interpreter's own handler (`interp`). Each is an
//! `extern "sysv64"` function taking the CPU and the bus as raw pointers,
//! monomorphised per bus type.
//!
//! A memory helper never raises a guest exception: when an access would
//! fault, cross a page, or touch a watched address, it does nothing and
//! reports "bail", and the generated code leaves the block with EIP on the
//! instruction, so the interpreter runs it (and raises the fault, or
//! reports the watched access) exactly as it would have without the JIT.

use super::block::Calc;
use crate::cpu::bus::Bus;
use crate::cpu::exec::Flow;
use crate::cpu::paging::Access;
use crate::cpu::segment::Use;
use crate::cpu::{Cpu, SegReg};
use crate::x86::{Insn, Mn, Rep};

/// A read helper's result when the access must be left to the interpreter.
pub(super) const READ_BAIL: u64 = 1 << 32;
/// Write helper results.
pub(super) const WRITE_OK: u32 = 0;
pub(super) const WRITE_BAIL: u32 = 1;
/// The write went through and changed the code of the running block.
pub(super) const WRITE_SMC: u32 = 2;
/// A handler's instruction ran and changed what the block was compiled
/// for: the block leaves after it.
pub(super) const LEAVE: u32 = 3;

/// Packs a segment and an access size into a helper's third argument.
pub(super) fn seg_size(seg: SegReg, bytes: u8) -> u32 {
    seg as u32 | u32::from(bytes) << 8
}

fn unpack(seg_size: u32) -> (SegReg, u8) {
    (
        SegReg::ALL[(seg_size & 7) as usize % 6],
        (seg_size >> 8) as u8,
    )
}

/// A segment's base and limit as generated code checks them: an access of
/// `n` bytes at offset `off` is in bounds when `off + n - 1 <= limit`
/// (computed without wrapping). Only expand-up segments whose access kind
/// the slow path has already allowed get an entry.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(crate) struct SegFast {
    pub(super) base: u32,
    pub(super) limit: u32,
}

impl Cpu {
    /// After the slow path found `seg:off` good for `how` at `phys`: lets
    /// generated code make such accesses itself, through `seg_fast` for the
    /// segment and the TLB's host entry for the page, where it may.
    fn host_fill<B: Bus>(&mut self, bus: &mut B, seg: SegReg, off: u32, phys: u32, how: Use) {
        const AM: u32 = 1 << 18;
        let s = self.segs[seg as usize];
        let expand_down = s.access & 0x1C == 0x14;
        let align_checks = self.cr0 & AM != 0 && self.eflags & AM != 0;
        if expand_down || align_checks {
            return;
        }
        let write = how == Use::Write;
        self.jit.seg_fast[seg as usize] = SegFast {
            base: s.base,
            limit: s.limit,
        };
        self.jit_near.seg_live |= 1 << (seg as usize * 2 + usize::from(write));
        if let Some(page) = bus.host_page(phys, write) {
            let lin = s.base.wrapping_add(off);
            self.tlb.host_fill(lin, write, self.jit_near.host_key, page);
        }
    }

    /// The physical address of `bytes` at `seg:off` for a JIT access, when
    /// it needs no exception and lies on one page, and whether it may
    /// touch something watched (`Bus::watched`); `None` leaves the access
    /// to the interpreter.
    #[inline]
    fn jit_physical<B: Bus>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
        bytes: u8,
        how: Use,
    ) -> Option<(u32, bool)> {
        let lin = self.linear_for(seg, off, u32::from(bytes), how).ok()?;
        if (lin & 0xFFF) + u32::from(bytes) > 0x1000 {
            return None;
        }
        self.check_alignment(lin, bytes).ok()?;
        // Only a TLB hit: a walk (accessed and dirty bits, a fill that may
        // evict the entry of the block's own code page or of a memo page)
        // is left to the interpreter, whose step also clears the memo.
        let phys = if self.paging_on() {
            self.translate_hit(
                lin,
                if how == Use::Write {
                    Access::Write
                } else {
                    Access::Read
                },
                self.user(),
            )?
        } else {
            lin
        };
        Some((phys, bus.watched(phys, u32::from(bytes), how == Use::Write)))
    }
}

/// Reads `bytes` at `seg:off`: the value, or [`READ_BAIL`].
pub(super) extern "sysv64" fn read<B: Bus>(
    cpu: *mut Cpu,
    bus: *mut B,
    seg_size: u32,
    off: u32,
) -> u64 {
    // SAFETY: generated code passes the pointers `Cpu::run_block` gave it,
    // which come from live exclusive references held for the whole call;
    // nothing else touches the CPU or the bus while the block runs.
    let (cpu, bus) = unsafe { (&mut *cpu, &mut *bus) };
    let (seg, bytes) = unpack(seg_size);
    let Some((p, watched)) = cpu.jit_physical(bus, seg, off, bytes, Use::Read) else {
        return READ_BAIL;
    };
    if watched {
        // Only a read no watch reports stays here: the interpreter's step
        // reports the others.
        return bus
            .read_unreported(p, u32::from(bytes))
            .map_or(READ_BAIL, u64::from);
    }
    cpu.host_fill(bus, seg, off, p, Use::Read);
    u64::from(match bytes {
        1 => u32::from(bus.read_u8(p)),
        2 => u32::from(bus.read_u16(p)),
        _ => bus.read_u32(p),
    })
}

/// Writes the low `bytes` of `value` at `seg:off`: [`WRITE_OK`],
/// [`WRITE_BAIL`] (nothing written) or [`WRITE_SMC`].
pub(super) extern "sysv64" fn write<B: Bus>(
    cpu: *mut Cpu,
    bus: *mut B,
    seg_size: u32,
    off: u32,
    value: u32,
) -> u32 {
    // SAFETY: as in `read`.
    let (cpu, bus) = unsafe { (&mut *cpu, &mut *bus) };
    let (seg, bytes) = unpack(seg_size);
    let Some((p, watched)) = cpu.jit_physical(bus, seg, off, bytes, Use::Write) else {
        return WRITE_BAIL;
    };
    if watched {
        // Only a write no watch reports is made here: the interpreter's
        // step reports the others.
        if !bus.write_unreported(p, u32::from(bytes), value) {
            return WRITE_BAIL;
        }
    } else {
        cpu.host_fill(bus, seg, off, p, Use::Write);
        match bytes {
            1 => bus.write_u8(p, value as u8),
            2 => bus.write_u16(p, value as u16),
            _ => bus.write_u32(p, value),
        }
    }
    if bus.code_stamp(cpu.jit_near.running_page) != Some(cpu.jit_near.running_stamp) {
        return WRITE_SMC;
    }
    WRITE_OK
}

/// Packs a [`Calc`] and an operand size into a helper argument.
pub(super) fn calc_code(calc: Calc, bytes: u8) -> u32 {
    let mn = match calc {
        Calc::Imul => 0,
        Calc::Shift(Mn::Rol) => 1,
        Calc::Shift(Mn::Ror) => 2,
        Calc::Shift(Mn::Rcl) => 3,
        Calc::Shift(Mn::Rcr) => 4,
        Calc::Shift(Mn::Shl | Mn::Sal) => 5,
        Calc::Shift(Mn::Shr) => 6,
        Calc::Shift(_) => 7,
    };
    mn | u32::from(bytes) << 8
}

/// Computes `a op b` as the interpreter does, setting its flags in EFLAGS.
pub(super) extern "sysv64" fn calc(cpu: *mut Cpu, code: u32, a: u32, b: u32) -> u32 {
    // SAFETY: as in `read`; the bus is not needed.
    let cpu = unsafe { &mut *cpu };
    let bytes = (code >> 8) as u8;
    let mn = match code & 0xFF {
        0 => return cpu.imul2(a, b, bytes),
        1 => Mn::Rol,
        2 => Mn::Ror,
        3 => Mn::Rcl,
        4 => Mn::Rcr,
        5 => Mn::Shl,
        6 => Mn::Shr,
        _ => Mn::Sar,
    };
    cpu.shift(mn, a, b, bytes)
}

/// Runs the instruction `insn`, fetched at `start`, with `after` more of
/// its block after it, with the interpreter's handler: [`WRITE_OK`], [`WRITE_SMC`] when it changed the running
/// block's code, or [`WRITE_BAIL`] when it faulted, having committed
/// nothing (`Cpu::undo`), or when it touches memory while some memory is
/// watched (the machine must see each watched access as its instruction
/// makes it, which the interpreter's step does).
pub(super) extern "sysv64" fn interp<B: Bus>(
    cpu: *mut Cpu,
    bus: *mut B,
    insn: *const Insn,
    start: u32,
    after: u32,
) -> u32 {
    // SAFETY: as in `read`; `insn` is a decode `Jit::handler_insns` keeps
    // for as long as the block's code exists.
    let (cpu, bus, insn) = unsafe { (&mut *cpu, &mut *bus, &*insn) };
    run_handler(cpu, bus, insn, start, after)
}

/// An instruction that starts on the block's page and runs into the next
/// one: its decode, and the bytes it had on the next page when the block
/// was translated. Only the first page's bytes are covered by the block's
/// stamp, so the rest are compared before each run.
pub(super) struct Cross {
    pub insn: Insn,
    /// Its bytes on the first page.
    pub first: u32,
    /// Its bytes on the next page.
    pub tail: [u8; crate::x86::MAX_INSN_LEN],
    pub tail_len: usize,
}

impl Cross {
    /// True when the instruction at CS:`start` still has the recorded bytes
    /// on the next page, which is plain RAM with the translation for a
    /// fetch already in the TLB (no walk here: that is the interpreter's).
    pub fn holds<B: Bus>(&self, cpu: &Cpu, bus: &mut B, start: u32) -> bool {
        let Some(next_page) = cpu.code_at(start.wrapping_add(self.first)) else {
            return false;
        };
        let phys = next_page.phys;
        if bus.host_page(phys, false).is_none() {
            return false;
        }
        let mut now = [0u8; crate::x86::MAX_INSN_LEN];
        bus.read_block(phys, &mut now[..self.tail_len]);
        now[..self.tail_len] == self.tail[..self.tail_len]
    }
}

/// [`interp`] for an instruction that runs into the next page: bails
/// unless its bytes there are still those it was decoded from.
pub(super) extern "sysv64" fn interp_cross<B: Bus>(
    cpu: *mut Cpu,
    bus: *mut B,
    cross: *const Cross,
    start: u32,
    after: u32,
) -> u32 {
    // SAFETY: as in `interp`; `cross` is boxed in `Jit::cross_insns` for as
    // long as the block's code exists.
    let (cpu, bus, cross) = unsafe { (&mut *cpu, &mut *bus, &*cross) };
    if !cross.holds(cpu, bus, start) {
        return WRITE_BAIL;
    }
    run_handler(cpu, bus, &cross.insn, start, after)
}

/// The body of [`interp`] and [`interp_cross`].
fn run_handler<B: Bus>(cpu: &mut Cpu, bus: &mut B, insn: &Insn, start: u32, after: u32) -> u32 {
    if bus.watches_memory() && insn.touches_memory() {
        return WRITE_BAIL;
    }
    // REP MOVS/STOS within a page each side that the host entries reach,
    // at once (a plain write: never on cached code).
    if insn.rep != Rep::None && cpu.rep_on_host_pages(insn, start) {
        return WRITE_OK;
    }
    // A REP string instruction only when none of its iterations can
    // fault (`exec/string_whole.rs`): a bail must leave nothing done.
    if insn.rep != Rep::None && insn.mn.is_string() && !cpu.rep_runs_whole(insn) {
        return WRITE_BAIL;
    }
    let undo = cpu.advance(insn.len, start);
    // (An x87 instruction sets the last-instruction pointers before its
    // memory operand may fault: a bail puts them back too.)
    let fpu = matches!(insn.mn, Mn::Esc | Mn::Wait).then(|| cpu.fpu.clone());
    // The instruction count as the interpreter has it while the
    // instruction runs (the TSC and the performance counters read it):
    // the count at the chain's entry and the chain's instructions up to
    // and including this one.
    let icount = cpu.icount;
    cpu.icount = icount.wrapping_add(u64::from(cpu.chain_retired(after)));
    let loads = insn.loads_segment().is_some();
    let flat = loads && cpu.flat_data();
    let result = cpu.execute(bus, insn);
    cpu.icount = icount;
    match result {
        Ok(Flow::Next) => {
            // A segment loaded: generated code forgets the bounds it knew,
            // and the block leaves when its data segments' flatness, part
            // of its key, changed.
            if loads {
                cpu.jit_near.seg_live = 0;
                if cpu.flat_data() != flat {
                    return LEAVE;
                }
            }
            if bus.code_stamp(cpu.jit_near.running_page) != Some(cpu.jit_near.running_stamp) {
                return WRITE_SMC;
            }
            WRITE_OK
        }
        // A fault, or anything but going on to the next instruction (an
        // x87 instruction that freezes on a pending unmasked exception
        // reports a halt, having changed nothing but EIP): the interpreter
        // runs the instruction again from here.
        _ => {
            cpu.undo(insn, undo);
            if let Some(fpu) = fpu {
                cpu.fpu = fpu;
            }
            WRITE_BAIL
        }
    }
}
