//! PAE paging (Intel SDM Vol. 3 §4.4): with CR0.PG and CR4.PAE, linear
//! addresses go through 64-bit entries in three levels. CR3 names a
//! 32-byte-aligned table of four page-directory-pointer-table entries,
//! which the processor loads into registers (`Cpu::pdpte`) when CR3 is
//! written, and when a CR0 or CR4 write changes PG, CD, NW, PAE, PGE or
//! PSE with PAE paging in effect afterwards (§4.4.1); a present PDPTE with
//! a reserved bit set makes that write raise #GP(0) and change nothing.
//! The PDPTE picks a page directory; its entry is either a 2 MiB page (PS
//! set, whatever CR4.PSE says) or leads to a page table of 4 KiB pages.
//! Physical addresses are 36 bits wide (MAXPHYADDR 36); a present entry
//! with a bit set above that, or in the other reserved positions, faults
//! with the RSVD bit in the error code. With EFER.NXE bit 63 is XD
//! (execute-disable), else it is reserved too. The permission, accessed,
//! dirty and global rules are the ones 32-bit paging has (`paging.rs`).

use super::bus::Bus;
use super::fault::Fault;
use super::paging::{Found, CR0_PG, CR4_PAE, P, PF_P, PF_RSVD, PS, XD};
use super::wide_phys::{self, PhysAddr};
use super::Cpu;

/// The physical-address bits of an entry (12-35, MAXPHYADDR 36).
pub const ADDRESS: u64 = 0x0000_000F_FFFF_F000;
/// Bits 36-62: above MAXPHYADDR, reserved in every entry.
const ABOVE_MAXPHYADDR: u64 = 0x7FFF_FFF0_0000_0000;
/// Reserved in a PDPTE beside those: bits 1-2 and 5-8, and 63 (a PDPTE
/// has no XD bit).
const PDPTE_RESERVED: u64 = ABOVE_MAXPHYADDR | XD | 0x1E6;
/// Reserved in a 2 MiB page's directory entry beside the common ones:
/// bits 13-20, below the page's base.
const LARGE_PAGE_RESERVED: u64 = 0x001F_E000;
/// A 2 MiB page's offset bits.
const LARGE_PAGE: u64 = 0x001F_FFFF;

impl Cpu {
    /// PAE paging is in effect (CR0.PG and CR4.PAE).
    pub fn pae_paging(&self) -> bool {
        self.paging_on() && self.cr4 & CR4_PAE != 0
    }

    /// PAE paging is in effect with control registers `cr0` and `cr4`.
    pub(crate) fn pae_paging_with(cr0: u32, cr4: u32) -> bool {
        cr0 & CR0_PG != 0 && cr4 & CR4_PAE != 0
    }

    /// Bits reserved in every present PAE directory or table entry: those
    /// above MAXPHYADDR, and XD unless EFER.NXE makes it execute-disable.
    fn pae_reserved(&self) -> u64 {
        ABOVE_MAXPHYADDR | if self.nxe() { 0 } else { XD }
    }

    /// The four PDPTEs at `cr3` (bits 5-31 address the table), or #GP(0)
    /// when a present one has a reserved bit set.
    pub(crate) fn read_pdptes<B: Bus + ?Sized>(
        &self,
        bus: &mut B,
        cr3: u32,
    ) -> Result<[u64; 4], Fault> {
        let table = PhysAddr::from(cr3 & 0xFFFF_FFE0);
        let mut pdptes = [0u64; 4];
        for (i, e) in pdptes.iter_mut().enumerate() {
            *e = wide_phys::read_u64(bus, table + 8 * i as u64);
            if *e & P != 0 && *e & PDPTE_RESERVED != 0 {
                return Err(Fault::Gp(0));
            }
        }
        Ok(pdptes)
    }

    /// The PAE walk for `lin` (a `write` or not). Errors are the #PF
    /// error-code bits the walk decides: 0 when an entry is not present,
    /// P and RSVD when a present one has a reserved bit set.
    pub(super) fn walk_pae<B: Bus + ?Sized>(
        &self,
        bus: &mut B,
        lin: u32,
        write: bool,
    ) -> Result<Found, u16> {
        const RESERVED_FAULT: u16 = PF_P | PF_RSVD;
        let pdpte = self.pdpte[(lin >> 30) as usize];
        if pdpte & P == 0 {
            return Err(0);
        }
        let reserved = self.pae_reserved();
        let pde_addr = (pdpte & ADDRESS) | u64::from((lin >> 21) & 0x1FF) << 3;
        let pde = wide_phys::read_u64(bus, pde_addr);
        if pde & P == 0 {
            return Err(0);
        }
        if pde & PS != 0 {
            if pde & (reserved | LARGE_PAGE_RESERVED) != 0 {
                return Err(RESERVED_FAULT);
            }
            let frame = (pde & ADDRESS & !LARGE_PAGE) | u64::from(lin) & LARGE_PAGE & !0xFFF;
            let (entry, no_execute) = self.leaf_translation(frame, pde, pde, write);
            return Ok(Found {
                entry,
                no_execute,
                leaf: pde as u32,
                leaf_addr: pde_addr,
                table_from: None,
            });
        }
        if pde & reserved != 0 {
            return Err(RESERVED_FAULT);
        }
        let pte_addr = (pde & ADDRESS) | u64::from((lin >> 12) & 0x1FF) << 3;
        let pte = wide_phys::read_u64(bus, pte_addr);
        if pte & P == 0 {
            return Err(0);
        }
        if pte & reserved != 0 {
            return Err(RESERVED_FAULT);
        }
        let (entry, no_execute) = self.leaf_translation(pte & ADDRESS, pde, pte, write);
        Ok(Found {
            entry,
            no_execute,
            leaf: pte as u32,
            leaf_addr: pte_addr,
            table_from: Some((pde_addr, pde as u32)),
        })
    }

    /// Loads the PDPTEs from CR3 as a MOV to CR3 under PAE paging does:
    /// for the control API and tests, which set CR0, CR3 and CR4 with
    /// setters that read no memory. A bad PDPTE gives #GP(0) and loads
    /// nothing.
    pub fn load_pdptes<B: Bus + ?Sized>(&mut self, bus: &mut B) -> Result<(), Fault> {
        self.pdpte = self.read_pdptes(bus, self.cr3)?;
        self.flush_tlb(false);
        Ok(())
    }

    /// The PDPTEs PAE paging loaded (for the control API's page map).
    pub fn pdptes(&self) -> [u64; 4] {
        self.pdpte
    }
}
