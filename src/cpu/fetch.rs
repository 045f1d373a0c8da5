//! Instruction fetch: CS:EIP -> the decoded instruction. The fast route
//! asks the decoded-instruction cache (`icache.rs`) for the instruction at
//! the physical address the TLB gives for CS:EIP, and takes it when the
//! page's content stamp is unchanged and the instruction still lies within
//! CS's limit; otherwise the bytes are fetched through segmentation and
//! paging (the second page translated only when the decoder needs it),
//! decoded, and cached when the instruction lies within one page. Both
//! routes give the same instruction, the same faults and the same side
//! effects (accessed bits are set only on a TLB miss, which always takes
//! the slow route).

use super::bus::Bus;
use super::exec::Form;
use super::fault::Fault;
use super::paging::Access;
use super::wide_phys::{self, PhysAddr};
use super::{Cpu, Model, SegReg, Segment};
use crate::x86::{self, Insn};

/// Where CS:EIP lies: its offset (wrapped to the code size), physical
/// address through the TLB, and the code size.
pub(super) struct CodeAt {
    pub off: u32,
    pub lin: u32,
    pub phys: u32,
    pub code32: bool,
    /// The last offset an instruction may use: CS's limit, or less where
    /// 16-bit IP would wrap.
    pub last: u32,
}

impl Cpu {
    /// The cached instruction at CS:`eip`, when the cache is enabled and
    /// holds it with its page unchanged, and it still lies within CS's
    /// limit. `None` sends the step to [`Cpu::fetch_decode`].
    #[inline(always)]
    pub(crate) fn fetch_cached<B: Bus + ?Sized>(
        &self,
        bus: &mut B,
        eip: u32,
    ) -> Option<(&Insn, Form)> {
        let cache = &self.icache;
        if !cache.enabled {
            return None;
        }
        let at = self.code_at(eip)?;
        let stamp = bus.code_stamp(at.phys)?;
        let (insn, form) = cache.get(at.phys, at.code32, stamp)?;
        (u64::from(at.off) + u64::from(insn.len) <= u64::from(at.last) + 1).then_some((insn, form))
    }

    /// Locates CS:`eip` without side effects: `None` when the offset is
    /// past CS's limit or the page is not in the TLB with read permission
    /// at the current privilege (the slow route then decides).
    #[inline]
    pub(super) fn code_at(&self, eip: u32) -> Option<CodeAt> {
        let cs = &self.segs[SegReg::Cs as usize];
        let code32 = self.code32();
        let wrap = if code32 { u32::MAX } else { 0xFFFF };
        let off = eip & wrap;
        let last = cs.limit.min(wrap);
        if off > last {
            return None;
        }
        let lin = cs.base.wrapping_add(off);
        let phys = if self.paging_on() {
            self.translate_hit(lin, Access::Fetch, self.user())?
        } else {
            lin
        };
        Some(CodeAt {
            off,
            lin,
            phys,
            code32,
            last,
        })
    }

    /// Caches `insn`, just decoded at CS:`eip`, when all of it lies within
    /// one page and within CS's limit without wrapping.
    pub(crate) fn fill<B: Bus + ?Sized>(&mut self, bus: &mut B, eip: u32, insn: &Insn) {
        if !self.icache.enabled {
            return;
        }
        let Some(at) = self.code_at(eip) else {
            return;
        };
        let len = u32::from(insn.len);
        let in_page = (at.lin & 0xFFF) + len <= 0x1000;
        let in_limit = u64::from(at.off) + u64::from(len) <= u64::from(at.last) + 1;
        if !in_page || !in_limit {
            return;
        }
        if let Some(stamp) = bus.mark_code(at.phys, len) {
            let form = Form::of(self, insn);
            self.icache.insert(at.phys, at.code32, stamp, insn, form);
        }
    }

    /// Decodes the instruction at CS:EIP into the decoded-instruction
    /// cache without running it, so that the next [`Cpu::step`] takes the
    /// cached route and the instruction's fast form (`exec/fast.rs`), as
    /// it would on a second visit. For tests that check that route one
    /// instruction at a time; returns whether the instruction has a fast
    /// form (nothing is cached where the bus keeps no code stamps).
    pub fn prime_icache<B: Bus + ?Sized>(&mut self, bus: &mut B) -> bool {
        let start = self.eip;
        if let Ok(insn) = self.fetch_decode(bus, start) {
            self.fill(bus, start, &insn);
        }
        self.fetch_cached(bus, start)
            .is_some_and(|(_, form)| form.is_fast())
    }

    /// [`Cpu::prime_icache`] for up to `count` instructions one after
    /// another from CS:EIP, as a run that went straight through them would
    /// leave the cache, stopping at the first that cannot be fetched or
    /// decoded; EIP is left as it was. Returns how many were decoded.
    pub fn prime_icache_ahead<B: Bus + ?Sized>(&mut self, bus: &mut B, count: usize) -> usize {
        let start = self.eip;
        let wrap = if self.code32() { u32::MAX } else { 0xFFFF };
        let mut done = 0;
        while done < count {
            let Ok(insn) = self.fetch_decode(bus, self.eip) else {
                break;
            };
            self.fill(bus, self.eip, &insn);
            self.eip = self.eip.wrapping_add(u32::from(insn.len)) & wrap;
            done += 1;
        }
        self.eip = start;
        done
    }

    /// Fetches and decodes the instruction at CS:`eip`. The bytes on a
    /// second page are translated only when the instruction needs them;
    /// running past CS's limit or over 15 bytes is #GP(0).
    pub(crate) fn fetch_decode<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        eip: u32,
    ) -> Result<Insn, Fault> {
        let mut buf = [0u8; x86::MAX_INSN_LEN];
        let user = self.user();
        let cs = self.segs[SegReg::Cs as usize];
        let code32 = self.code32();
        let paging = self.paging_on();
        let mut second = false;
        loop {
            let (n, at_page) = fetch_bytes(
                bus,
                &cs,
                code32,
                paging,
                eip,
                &mut buf,
                second,
                |bus, lin| self.translate(bus, lin, Access::Fetch, user),
            )?;
            match x86::decode(&buf[..n], code32) {
                Ok(insn) if self.model == Model::I286 && insn.len > 10 => return Err(Fault::Gp(0)),
                Ok(insn) => return Ok(insn),
                Err(x86::DecodeError::Truncated) if at_page && !second => second = true,
                Err(_) => return Err(Fault::Gp(0)),
            }
        }
    }
}

/// Copies up to 15 instruction bytes at CS:`eip` that lie within CS's limit
/// into `buf` through `xlate` (linear -> physical, which may fault); stops
/// at the end of the first page unless `second_page`. Returns how many
/// bytes it copied and whether it stopped at a page boundary.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fetch_bytes<B: Bus + ?Sized>(
    bus: &mut B,
    cs: &Segment,
    code32: bool,
    paging: bool,
    eip: u32,
    buf: &mut [u8; x86::MAX_INSN_LEN],
    second_page: bool,
    mut xlate: impl FnMut(&mut B, u32) -> Result<PhysAddr, Fault>,
) -> Result<(usize, bool), Fault> {
    let wrap = if code32 { u32::MAX } else { 0xFFFF };
    // Fast path: all 15 bytes lie inside the limit (and one page).
    let off = eip & wrap;
    let room = u64::from(cs.limit.min(wrap)) + 1 - u64::from(off.min(cs.limit.min(wrap)));
    if off <= cs.limit && room >= buf.len() as u64 {
        let lin = cs.base.wrapping_add(off);
        if !paging {
            bus.read_block(lin, buf);
            return Ok((buf.len(), false));
        }
        if lin & 0xFFF <= 0x1000 - buf.len() as u32 {
            let p = xlate(bus, lin)?;
            wide_phys::read_block(bus, p, buf);
            return Ok((buf.len(), false));
        }
    }
    let mut page: Option<(u32, PhysAddr)> = None;
    for (i, b) in buf.iter_mut().enumerate() {
        let off = eip.wrapping_add(i as u32) & wrap;
        if off > cs.limit {
            return Ok((i, false));
        }
        let lin = cs.base.wrapping_add(off);
        let phys = if paging {
            let frame = match page {
                Some((lp, frame)) if lp == lin >> 12 => frame,
                _ => {
                    if page.is_some() && !second_page {
                        return Ok((i, true));
                    }
                    let frame = xlate(bus, lin)? & !0xFFF;
                    page = Some((lin >> 12, frame));
                    frame
                }
            };
            frame | PhysAddr::from(lin & 0xFFF)
        } else {
            lin.into()
        };
        // A block read: instruction fetch is not a data read (read watches).
        wide_phys::read_block(bus, phys, std::slice::from_mut(b));
    }
    Ok((buf.len(), false))
}
