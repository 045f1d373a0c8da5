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
use super::{Cpu, Model};

pub(crate) const CR0_PG: u32 = 1 << 31;
pub(crate) const CR0_WP: u32 = 1 << 16;
pub(crate) const CR4_PSE: u32 = 1 << 4;
pub(crate) const CR4_PGE: u32 = 1 << 7;

/// Page-table entry bits.
const P: u32 = 1 << 0;
const RW: u32 = 1 << 1;
const US: u32 = 1 << 2;
const A: u32 = 1 << 5;
const D: u32 = 1 << 6;
const PS: u32 = 1 << 7;
const G: u32 = 1 << 8;

/// #PF error-code bits.
const PF_P: u16 = 1 << 0;
const PF_W: u16 = 1 << 1;
const PF_U: u16 = 1 << 2;

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

    /// Walks the page tables for `lin`. With `commit`, a walk that
    /// succeeds sets the accessed bits of the entries used (and the dirty
    /// bit on a write) and one that faults sets none; without, only looks.
    /// Errors are the #PF error code.
    fn walk<B: Bus + ?Sized>(
        &self,
        bus: &mut B,
        lin: u32,
        write: bool,
        user: bool,
        commit: bool,
    ) -> Result<Entry, u16> {
        let code = if user { PF_U } else { 0 } | if write { PF_W } else { 0 };
        let pge = self.cr4 & CR4_PGE != 0;
        let pde_addr = (self.cr3 & 0xFFFF_F000) | ((lin >> 22) << 2);
        let pde = bus.read_u32(pde_addr);
        if pde & P == 0 {
            return Err(code);
        }
        // The leaf entry: the directory entry itself for a 4 MiB page, else
        // the page-table entry it leads to.
        let four_mib = pde & PS != 0 && self.cr4 & CR4_PSE != 0;
        let (e, leaf, leaf_addr) = if four_mib {
            let e = Entry {
                frame: (pde & 0xFFC0_0000) | (lin & 0x003F_F000),
                user: pde & US != 0,
                writable: pde & RW != 0,
                dirty: pde & D != 0 || write,
                global: pge && pde & G != 0,
                ..Entry::default()
            };
            (e, pde, pde_addr)
        } else {
            let pte_addr = (pde & 0xFFFF_F000) | (((lin >> 12) & 0x3FF) << 2);
            let pte = bus.read_u32(pte_addr);
            if pte & P == 0 {
                return Err(code);
            }
            let e = Entry {
                frame: pte & 0xFFFF_F000,
                user: pde & pte & US != 0,
                writable: pde & pte & RW != 0,
                dirty: pte & D != 0 || write,
                global: pge && pte & G != 0,
                ..Entry::default()
            };
            (e, pte, pte_addr)
        };
        if !self.allowed(&e, write, user) {
            return Err(code | PF_P);
        }
        // Only a walk that succeeded sets accessed bits (Intel processors
        // walk first, then update; so does Bochs): the directory entry that
        // led to the table, then the leaf, dirty too on a write.
        if commit && !four_mib && pde & A == 0 {
            bus.write_u32(pde_addr, pde | A);
        }
        let new = leaf | A | if write { D } else { 0 };
        if commit && new != leaf {
            bus.write_u32(leaf_addr, new);
        }
        Ok(e)
    }

    /// Translates `lin` for an access (`write`, at user level when `user`),
    /// through the TLB; a miss walks the tables and fills it.
    #[inline]
    pub(crate) fn translate<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        write: bool,
        user: bool,
    ) -> Result<u32, Fault> {
        if !self.paging_on() {
            return Ok(lin);
        }
        if let Some(p) = self.translate_hit(lin, write, user) {
            return Ok(p);
        }
        self.translate_miss(bus, lin, write, user)
    }

    /// The TLB could not serve `lin`: walk the tables, fill or drop the entry.
    #[inline(never)]
    fn translate_miss<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        write: bool,
        user: bool,
    ) -> Result<u32, Fault> {
        let page = lin >> 12;
        match self.walk(bus, lin, write, user, true) {
            Ok(e) => {
                self.tlb.insert(page, e);
                Ok(e.frame | (lin & 0xFFF))
            }
            Err(code) => {
                self.tlb.invalidate(page);
                Err(Fault::Pf { addr: lin, code })
            }
        }
    }

    /// Translates `lin` through the TLB alone, with paging on: `None` when
    /// the TLB has no entry that allows the access as is (a walk is needed).
    #[inline]
    pub(crate) fn translate_hit(&self, lin: u32, write: bool, user: bool) -> Option<u32> {
        let e = self.tlb.get(lin >> 12)?;
        (self.allowed(e, write, user) && (!write || e.dirty)).then_some(e.frame | (lin & 0xFFF))
    }

    /// Translates `lin` for reading without side effects (no accessed
    /// bits, no TLB fill, no fault): for the disassembler and debuggers.
    pub(crate) fn peek_physical<B: Bus + ?Sized>(&self, bus: &mut B, lin: u32) -> Option<u32> {
        if !self.paging_on() {
            return Some(lin);
        }
        if let Some(e) = self.tlb.get(lin >> 12) {
            return Some(e.frame | (lin & 0xFFF));
        }
        let e = self.walk(bus, lin, false, false, false).ok()?;
        Some(e.frame | (lin & 0xFFF))
    }

    /// Translates both pages of a `bytes`-wide access at `lin` that crosses
    /// a page boundary; returns the physical addresses of its first byte
    /// and of the first byte on the second page.
    fn translate_split<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        write: bool,
        user: bool,
    ) -> Result<(u32, u32), Fault> {
        let first = self.translate(bus, lin, write, user)?;
        let second_lin = (lin | 0xFFF).wrapping_add(1);
        let second = self.translate(bus, second_lin, write, user)?;
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
            let (p1, p2) = self.translate_split(bus, lin, false, user)?;
            let mut v = 0u32;
            for i in 0..u32::from(bytes) {
                let b = split_addr(lin, i, p1, p2);
                v |= u32::from(bus.read_u8(b)) << (8 * i);
            }
            return Ok(v);
        }
        let p = self.translate(bus, lin, false, user)?;
        Ok(match bytes {
            1 => u32::from(bus.read_u8(p)),
            2 => u32::from(bus.read_u16(p)),
            _ => bus.read_u32(p),
        })
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
            let (p1, p2) = self.translate_split(bus, lin, true, user)?;
            for i in 0..u32::from(bytes) {
                bus.write_u8(split_addr(lin, i, p1, p2), (value >> (8 * i)) as u8);
            }
            return Ok(());
        }
        let p = self.translate(bus, lin, true, user)?;
        match bytes {
            1 => bus.write_u8(p, value as u8),
            2 => bus.write_u16(p, value as u16),
            _ => bus.write_u32(p, value),
        }
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
            self.translate_split(bus, lin, true, user)?;
        } else {
            self.translate(bus, lin, true, user)?;
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
fn split_addr(lin: u32, i: u32, p1: u32, p2: u32) -> u32 {
    let into_first = 0x1000 - (lin & 0xFFF);
    if i < into_first {
        p1.wrapping_add(i)
    } else {
        p2.wrapping_add(i - into_first)
    }
}
