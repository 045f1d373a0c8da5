//! Paging: linear -> physical through the two-level page tables (4 KiB
//! pages, and 4 MiB pages with CR4.PSE), the accessed and dirty bits, the
//! U/S and R/W checks (CR0.WP honoured at supervisor level on the 486 and
//! later), page faults with their exact error code, and the TLB policy
//! (fill on a walk, flush on CR3 loads keeping global pages, INVLPG).
//! Every memory access of the CPU reaches the [`Bus`] through `read_lin`,
//! `write_lin` or the instruction fetch here; an access that crosses a page
//! boundary is translated on both pages before any byte is written.

use super::bus::Bus;
use super::fault::Fault;
use super::tlb::Entry;
use super::wide_phys::{self, PhysAddr};
use super::{Cpu, Model};

pub(crate) const CR0_PG: u32 = 1 << 31;
pub(crate) const CR0_WP: u32 = 1 << 16;
pub(crate) const CR4_PSE: u32 = 1 << 4;
pub(crate) const CR4_PAE: u32 = 1 << 5;
pub(crate) const CR4_PGE: u32 = 1 << 7;

/// Paging-structure entry bits (both entry widths).
pub(super) const P: u64 = 1 << 0;
pub(super) const RW: u64 = 1 << 1;
pub(super) const US: u64 = 1 << 2;
pub(super) const A: u64 = 1 << 5;
pub(super) const D: u64 = 1 << 6;
pub(super) const PS: u64 = 1 << 7;
pub(super) const G: u64 = 1 << 8;
/// Execute-disable (PAE entries, with EFER.NXE).
pub(super) const XD: u64 = 1 << 63;

/// #PF error-code bits.
pub(super) const PF_P: u16 = 1 << 0;
const PF_W: u16 = 1 << 1;
const PF_U: u16 = 1 << 2;
/// A present entry had a reserved bit set.
pub(super) const PF_RSVD: u16 = 1 << 3;
/// The access was an instruction fetch (reported with PAE and EFER.NXE).
const PF_ID: u16 = 1 << 4;

/// What an access does with the memory it reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
    /// An instruction fetch (a read that also needs an executable page).
    Fetch,
}

/// The leaf a walk reached, before any permission check.
pub(super) struct Found {
    /// The translation (permissions combined over the levels).
    pub entry: Entry,
    /// XD is set on the way and EFER.NXE is on.
    pub no_execute: bool,
    /// The leaf entry's low 32 bits (which hold A and D) and its address.
    pub leaf: u32,
    pub leaf_addr: PhysAddr,
    /// The directory entry that led to a page table (its address and low
    /// 32 bits); `None` for a large page, whose directory entry is the leaf.
    pub table_from: Option<(PhysAddr, u32)>,
}

impl Cpu {
    /// True while CR0.PG is set.
    pub(crate) fn paging_on(&self) -> bool {
        self.cr0 & CR0_PG != 0
    }

    /// CR0.WP applies (486 and later).
    fn wp(&self) -> bool {
        self.cr0 & CR0_WP != 0 && self.model != Model::I386 && self.model != Model::I286
    }

    fn allowed(&self, e: &Entry, write: bool, user: bool) -> bool {
        !(user && !e.user || write && !e.writable && (user || self.wp()))
    }

    /// The TLB entry `e` serves `access` as it is (a write needs the dirty
    /// bit already set, a fetch an executable page).
    fn tlb_allows(&self, e: &Entry, access: Access, user: bool) -> bool {
        self.allowed(e, access == Access::Write, user)
            && match access {
                Access::Read => true,
                Access::Write => e.dirty,
                Access::Fetch => e.executable,
            }
    }

    /// The translation of a leaf at physical `frame` (the page's base; for
    /// a large page, plus the offset of `lin`'s 4 KiB page in it), the
    /// rule both walks share: U/S and R/W must be set at every level
    /// (`upper` is the directory entry, the leaf itself for a large page),
    /// the leaf's G makes a global page under CR4.PGE, XD anywhere makes
    /// the page non-executable under EFER.NXE.
    pub(super) fn leaf_translation(
        &self,
        frame: PhysAddr,
        upper: u64,
        leaf: u64,
        write: bool,
    ) -> (Entry, bool) {
        let no_execute = self.nxe() && (upper | leaf) & XD != 0;
        let frame_high = (frame >> 32) as u8;
        let entry = Entry {
            frame: frame as u32 & 0xFFFF_F000,
            frame_high,
            user: upper & leaf & US != 0,
            writable: upper & leaf & RW != 0,
            executable: !no_execute && frame_high == 0,
            dirty: leaf & D != 0 || write,
            global: self.cr4 & CR4_PGE != 0 && leaf & G != 0,
            ..Entry::default()
        };
        (entry, no_execute)
    }

    /// The two-level walk of 32-bit paging (4 KiB pages, 4 MiB pages with
    /// CR4.PSE). Errors are the #PF error-code bits the walk decides (0:
    /// an entry was not present).
    fn walk_32<B: Bus + ?Sized>(&self, bus: &mut B, lin: u32, write: bool) -> Result<Found, u16> {
        let pde_addr = (self.cr3 & 0xFFFF_F000) | ((lin >> 22) << 2);
        let pde = bus.read_u32(pde_addr);
        if u64::from(pde) & P == 0 {
            return Err(0);
        }
        if u64::from(pde) & PS != 0 && self.cr4 & CR4_PSE != 0 {
            let frame = (pde & 0xFFC0_0000) | (lin & 0x003F_F000);
            let (entry, no_execute) =
                self.leaf_translation(frame.into(), pde.into(), pde.into(), write);
            return Ok(Found {
                entry,
                no_execute,
                leaf: pde,
                leaf_addr: pde_addr.into(),
                table_from: None,
            });
        }
        let pte_addr = (pde & 0xFFFF_F000) | (((lin >> 12) & 0x3FF) << 2);
        let pte = bus.read_u32(pte_addr);
        if u64::from(pte) & P == 0 {
            return Err(0);
        }
        let (entry, no_execute) =
            self.leaf_translation((pte & 0xFFFF_F000).into(), pde.into(), pte.into(), write);
        Ok(Found {
            entry,
            no_execute,
            leaf: pte,
            leaf_addr: pte_addr.into(),
            table_from: Some((pde_addr.into(), pde)),
        })
    }

    /// The #PF error code's access bits for `access` at user level `user`.
    fn fault_code(&self, access: Access, user: bool) -> u16 {
        let id = access == Access::Fetch && self.pae_paging() && self.nxe();
        (if user { PF_U } else { 0 })
            | if access == Access::Write { PF_W } else { 0 }
            | if id { PF_ID } else { 0 }
    }

    /// Walks the page tables for `lin` (PAE or 32-bit paging, as CR4.PAE
    /// says). With `commit`, a walk that succeeds sets the accessed bits
    /// of the entries used (and the dirty bit on a write) and one that
    /// faults sets none; without, only looks. Errors are the #PF error
    /// code.
    fn walk<B: Bus + ?Sized>(
        &self,
        bus: &mut B,
        lin: u32,
        access: Access,
        user: bool,
        commit: bool,
    ) -> Result<Entry, u16> {
        let code = self.fault_code(access, user);
        let write = access == Access::Write;
        let found = if self.pae_paging() {
            self.walk_pae(bus, lin, write)
        } else {
            self.walk_32(bus, lin, write)
        }
        .map_err(|bits| code | bits)?;
        let e = found.entry;
        if !self.allowed(&e, write, user) || access == Access::Fetch && found.no_execute {
            return Err(code | PF_P);
        }
        // Only a walk that succeeded sets accessed bits (Intel processors
        // walk first, then update; so does Bochs): the directory entry that
        // led to the table, then the leaf, dirty too on a write. Both sit
        // in an entry's low 32 bits, whatever its width.
        if !commit {
            return Ok(e);
        }
        if let Some((addr, pde)) = found.table_from {
            if u64::from(pde) & A == 0 {
                wide_phys::write(bus, addr, 4, pde | A as u32);
            }
        }
        let new = found.leaf | A as u32 | if write { D as u32 } else { 0 };
        if new != found.leaf {
            wide_phys::write(bus, found.leaf_addr, 4, new);
        }
        Ok(e)
    }

    /// Translates `lin` for `access` (at user level when `user`), through
    /// the TLB; a miss walks the tables and fills it.
    #[inline]
    pub(crate) fn translate<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        access: Access,
        user: bool,
    ) -> Result<PhysAddr, Fault> {
        if !self.paging_on() {
            return Ok(lin.into());
        }
        if let Some(e) = self.tlb.get(lin >> 12) {
            if self.tlb_allows(e, access, user) {
                return Ok(e.physical(lin));
            }
        }
        self.translate_miss(bus, lin, access, user)
    }

    /// The TLB could not serve `lin`: walk the tables, fill or drop the entry.
    #[inline(never)]
    fn translate_miss<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        access: Access,
        user: bool,
    ) -> Result<PhysAddr, Fault> {
        let page = lin >> 12;
        match self.walk(bus, lin, access, user, true) {
            Ok(e) => {
                self.tlb.insert(page, e);
                Ok(e.physical(lin))
            }
            Err(code) => {
                self.tlb.invalidate(page);
                Err(Fault::Pf { addr: lin, code })
            }
        }
    }

    /// Translates `lin` through the TLB alone, with paging on, to a bus
    /// address: `None` when the TLB has no entry that allows the access as
    /// is (a walk is needed) or the page lies above 4 GiB.
    #[inline]
    pub(crate) fn translate_hit(&self, lin: u32, access: Access, user: bool) -> Option<u32> {
        let e = self.tlb.get(lin >> 12)?;
        (self.tlb_allows(e, access, user) && e.frame_high == 0).then_some(e.frame | (lin & 0xFFF))
    }

    /// Translates `lin` for reading without side effects (no accessed
    /// bits, no TLB fill, no fault): for the disassembler and debuggers.
    /// A page above 4 GiB gives `None` (nothing is there).
    pub(crate) fn peek_physical<B: Bus + ?Sized>(&self, bus: &mut B, lin: u32) -> Option<u32> {
        if !self.paging_on() {
            return Some(lin);
        }
        let e = match self.tlb.get(lin >> 12) {
            Some(e) => *e,
            None => self.walk(bus, lin, Access::Read, false, false).ok()?,
        };
        wide_phys::on_bus(e.physical(lin))
    }

    /// Translates both pages of a `bytes`-wide access at `lin` that crosses
    /// a page boundary; returns the physical addresses of its first byte
    /// and of the first byte on the second page.
    fn translate_split<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        access: Access,
        user: bool,
    ) -> Result<(PhysAddr, PhysAddr), Fault> {
        let first = self.translate(bus, lin, access, user)?;
        let second_lin = (lin | 0xFFF).wrapping_add(1);
        let second = self.translate(bus, second_lin, access, user)?;
        Ok((first, second))
    }

    fn crosses(&self, lin: u32, bytes: u8) -> bool {
        self.paging_on() && (lin & 0xFFF) + u32::from(bytes) > 0x1000
    }

    /// Reads `bytes` (1, 2 or 4) at linear address `lin`.
    #[inline]
    pub(crate) fn read_lin<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        bytes: u8,
        user: bool,
    ) -> Result<u32, Fault> {
        if self.crosses(lin, bytes) {
            let (p1, p2) = self.translate_split(bus, lin, Access::Read, user)?;
            let mut v = 0u32;
            for i in 0..u32::from(bytes) {
                let b = split_addr(lin, i, p1, p2);
                v |= wide_phys::read(bus, b, 1) << (8 * i);
            }
            return Ok(v);
        }
        let p = self.translate(bus, lin, Access::Read, user)?;
        Ok(wide_phys::read(bus, p, bytes))
    }

    /// Writes `bytes` (1, 2 or 4) at linear address `lin`.
    #[inline]
    pub(crate) fn write_lin<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        bytes: u8,
        value: u32,
        user: bool,
    ) -> Result<(), Fault> {
        if self.crosses(lin, bytes) {
            let (p1, p2) = self.translate_split(bus, lin, Access::Write, user)?;
            for i in 0..u32::from(bytes) {
                wide_phys::write(bus, split_addr(lin, i, p1, p2), 1, value >> (8 * i));
            }
            return Ok(());
        }
        let p = self.translate(bus, lin, Access::Write, user)?;
        wide_phys::write(bus, p, bytes, value);
        Ok(())
    }

    /// Checks that a write of `bytes` at `lin` would not fault (setting
    /// the accessed and dirty bits as the write would).
    pub(crate) fn check_lin_write<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        bytes: u8,
        user: bool,
    ) -> Result<(), Fault> {
        if self.crosses(lin, bytes) {
            self.translate_split(bus, lin, Access::Write, user)?;
        } else {
            self.translate(bus, lin, Access::Write, user)?;
        }
        Ok(())
    }

    /// Drops cached translations: all of them, or all but the global pages
    /// (a CR3 load with CR4.PGE set).
    pub(crate) fn flush_tlb(&mut self, keep_global: bool) {
        self.tlb.flush(keep_global);
    }

    /// INVLPG: drops the translation of the page holding `lin`.
    pub(crate) fn invalidate_page(&mut self, lin: u32) {
        self.tlb.invalidate(lin >> 12);
    }
}

/// Physical address of byte `i` of a split access at `lin` whose pages
/// start at `p1` (first byte) and `p2` (second page).
fn split_addr(lin: u32, i: u32, p1: PhysAddr, p2: PhysAddr) -> PhysAddr {
    let into_first = 0x1000 - (lin & 0xFFF);
    if i < into_first {
        p1 + u64::from(i)
    } else {
        p2 + u64::from(i - into_first)
    }
}
