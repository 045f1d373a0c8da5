//! The Rust functions generated code calls: guest memory reads and writes
//! (segment checks, paging, the bus) and the arithmetic the interpreter
//! computes best itself (shifts, multiplies). Each is an `extern "sysv64"`
//! function taking the CPU and the bus as raw pointers, monomorphised per
//! bus type.
//!
//! A memory helper never raises a guest exception: when an access would
//! fault, cross a page, or touch a watched address, it does nothing and
//! reports "bail", and the generated code leaves the block with EIP on the
//! instruction, so the interpreter runs it (and raises the fault, or
//! reports the watched access) exactly as it would have without the JIT.

use super::block::Calc;
use crate::cpu::bus::Bus;
use crate::cpu::segment::Use;
use crate::cpu::{Cpu, SegReg};
use crate::x86::Mn;

/// A read helper's result when the access must be left to the interpreter.
pub(super) const READ_BAIL: u64 = 1 << 32;
/// Write helper results.
pub(super) const WRITE_OK: u32 = 0;
pub(super) const WRITE_BAIL: u32 = 1;
/// The write went through and changed the code of the running block.
pub(super) const WRITE_SMC: u32 = 2;

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

/// One memo entry: offsets `lo..=lo + span` of its segment reach, for its
/// access kind, the plain-RAM page whose byte for offset `lo` is at host
/// address `host`, with every check the slow path makes passed. Generated
/// code reads the three fields directly (`emit.rs`), hence `repr(C)`.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(crate) struct Memo {
    pub(super) lo: u32,
    pub(super) span: u32,
    pub(super) host: usize,
}

impl Cpu {
    /// The host address of `bytes` at `seg:off` when the memo for `kind`
    /// (0 read, 1 write) covers them.
    #[inline(always)]
    fn memo_hit(&self, seg: SegReg, off: u32, bytes: u8, kind: usize) -> Option<*mut u8> {
        let i = seg as usize * 2 + kind;
        if self.jit.memo_live & (1 << i) == 0 {
            return None;
        }
        let m = &self.jit.memo[i];
        let rel = off.wrapping_sub(m.lo);
        (u64::from(rel) + u64::from(bytes) - 1 <= u64::from(m.span))
            .then(|| (m.host + rel as usize) as *mut u8)
    }

    /// After the slow path found `seg:off` good for `how` at `phys`:
    /// remembers the rest of the page's offsets when the page may be
    /// accessed directly.
    fn memo_fill<B: Bus>(&mut self, bus: &mut B, seg: SegReg, off: u32, phys: u32, how: Use) {
        const AM: u32 = 1 << 18;
        let s = self.segs[seg as usize];
        let expand_down = s.access & 0x1C == 0x14;
        let align_checks = self.cr0 & AM != 0 && self.eflags & AM != 0;
        if expand_down || align_checks {
            return;
        }
        let write = how == Use::Write;
        let Some(page) = bus.host_page(phys, write) else {
            return;
        };
        let page_off = phys & 0xFFF;
        let lo = off - off.min(page_off);
        let hi = u64::from(off) + u64::from(0xFFF - page_off);
        let hi = hi.min(u64::from(s.limit)) as u32;
        let i = seg as usize * 2 + usize::from(write);
        self.jit.memo[i] = Memo {
            lo,
            span: hi - lo,
            host: page as usize + (page_off - (off - lo)) as usize,
        };
        self.jit.memo_live |= 1 << i;
    }

    /// The physical address of `bytes` at `seg:off` for a JIT access, when
    /// it needs no exception, lies on one page, and touches nothing
    /// watched; `None` leaves the access to the interpreter.
    #[inline]
    fn jit_physical<B: Bus>(
        &mut self,
        bus: &mut B,
        seg: SegReg,
        off: u32,
        bytes: u8,
        how: Use,
    ) -> Option<u32> {
        let lin = self.linear_for(seg, off, u32::from(bytes), how).ok()?;
        if (lin & 0xFFF) + u32::from(bytes) > 0x1000 {
            return None;
        }
        self.check_alignment(lin, bytes).ok()?;
        // Only a TLB hit: a walk (accessed and dirty bits, a fill that may
        // evict the entry of the block's own code page or of a memo page)
        // is left to the interpreter, whose step also clears the memo.
        let phys = if self.paging_on() {
            self.translate_hit(lin, how == Use::Write, self.user())?
        } else {
            lin
        };
        (!bus.watched(phys, u32::from(bytes))).then_some(phys)
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
    if let Some(host) = cpu.memo_hit(seg, off, bytes, 0) {
        // SAFETY: the memo entry points into a page of the guest's RAM
        // mapping, which lives as long as the machine, and `memo_hit`
        // checked that all `bytes` lie on that page.
        return u64::from(unsafe {
            match bytes {
                1 => u32::from(host.read()),
                2 => u32::from(host.cast::<u16>().read_unaligned()),
                _ => host.cast::<u32>().read_unaligned(),
            }
        });
    }
    let Some(p) = cpu.jit_physical(bus, seg, off, bytes, Use::Read) else {
        return READ_BAIL;
    };
    cpu.memo_fill(bus, seg, off, p, Use::Read);
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
    if let Some(host) = cpu.memo_hit(seg, off, bytes, 1) {
        // SAFETY: as in `read`; the page holds no cached code, so the
        // write needs no code-page bookkeeping.
        unsafe {
            match bytes {
                1 => host.write(value as u8),
                2 => host.cast::<u16>().write_unaligned(value as u16),
                _ => host.cast::<u32>().write_unaligned(value),
            }
        }
        return WRITE_OK;
    }
    let Some(p) = cpu.jit_physical(bus, seg, off, bytes, Use::Write) else {
        return WRITE_BAIL;
    };
    cpu.memo_fill(bus, seg, off, p, Use::Write);
    match bytes {
        1 => bus.write_u8(p, value as u8),
        2 => bus.write_u16(p, value as u16),
        _ => bus.write_u32(p, value),
    }
    let running = cpu.jit.running;
    if bus.code_stamp(running.0) != Some(running.1) {
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
