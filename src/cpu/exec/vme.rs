//! The virtual-8086 mode extensions (CR4.VME) and protected-mode virtual
//! interrupts (CR4.PVI) of the Pentium and later, as the SDM's chapter on
//! 8086 emulation describes them. Where IOPL would make CLI, STI, PUSHF,
//! POPF and IRET trap to the monitor, they work on EFLAGS.VIF instead:
//! CLI and STI in virtual-8086 mode with VME, and at ring 3 of protected
//! mode with PVI; the 16-bit PUSHF, POPF and IRET in virtual-8086 mode with
//! VME, which show the task a FLAGS image with IF taken from VIF and IOPL
//! as 3. Setting VIF while VIP says a virtual interrupt is pending (STI,
//! or POPF/IRET restoring IF) raises #GP(0) so the monitor can deliver it;
//! a popped TF does too. INT n in virtual-8086 mode with VME consults the
//! TSS's interrupt redirection bitmap (the 32 bytes below the I/O
//! permission bitmap): a clear bit sends the interrupt to the task's own
//! real-mode vector table at linear 0 without leaving virtual-8086 mode.
//! External interrupts and exceptions never look at VIF, VIP or the
//! bitmap: they go through the IDT as always.

use super::super::bus::Bus;
use super::super::descriptor::v86_segment;
use super::super::fault::Fault;
use super::super::flags::{DF, IF, IOPL, NT, RF, STATUS, TF, VIF, VIP, VM};
use super::super::interrupt::{Delivery, Source};
use super::super::{Cpu, SegReg};

/// CR4.VME: virtual-8086 mode extensions.
pub(crate) const CR4_VME: u32 = 1 << 0;
/// CR4.PVI: protected-mode virtual interrupts (CLI/STI at ring 3).
pub(crate) const CR4_PVI: u32 = 1 << 1;

/// The TSS offset of the I/O map base word.
const TSS_IO_MAP_BASE: u32 = 0x66;
/// The interrupt redirection bitmap lies this many bytes below the I/O
/// permission bitmap.
const REDIRECTION_BITMAP_BYTES: u32 = 32;

/// The FLAGS bits a virtual-8086 task's 16-bit POPF or IRET changes under
/// VME with IOPL < 3 (IF goes to VIF; IOPL stays).
const VIRTUAL_POP_FLAGS: u32 = STATUS | TF | DF | NT;

impl Cpu {
    /// True when CLI and STI, denied by IOPL, act on VIF instead: in
    /// virtual-8086 mode with CR4.VME, or at CPL 3 of protected mode with
    /// CR4.PVI. The caller has found CPL > IOPL.
    pub(super) fn cli_sti_use_vif(&self) -> bool {
        if self.eflags & VM != 0 {
            self.cr4 & CR4_VME != 0
        } else {
            self.cr4 & CR4_PVI != 0 && self.cpl() == 3
        }
    }

    /// CLI (`set` false) or STI on VIF; STI with VIP set raises #GP(0).
    /// Unlike STI on IF it opens no interrupt shadow.
    pub(super) fn set_virtual_interrupt_flag(&mut self, set: bool) -> Result<(), Fault> {
        if set && self.flag(VIP) {
            return Err(Fault::Gp(0));
        }
        self.set_flag(VIF, set);
        Ok(())
    }

    /// Whether PUSHF, POPF or IRET of `bytes` width works on the virtual
    /// FLAGS image: false outside virtual-8086 mode or at IOPL 3; true for
    /// a 16-bit operand with CR4.VME; #GP(0) otherwise (the monitor
    /// emulates the instruction).
    pub(super) fn v86_flags_are_virtual(&self, bytes: u8) -> Result<bool, Fault> {
        if self.eflags & VM == 0 || self.iopl() == 3 {
            return Ok(false);
        }
        if self.cr4 & CR4_VME != 0 && bytes == 2 {
            return Ok(true);
        }
        Err(Fault::Gp(0))
    }

    /// The FLAGS a virtual-8086 task sees under VME at IOPL < 3: IF is
    /// VIF, IOPL reads as 3.
    pub(super) fn virtual_flags_image(&self) -> u32 {
        let mut image = (self.eflags & 0xFFFF & !IF) | IOPL;
        if self.flag(VIF) {
            image |= IF;
        }
        image
    }

    /// Loads a FLAGS image popped by a virtual-8086 task's 16-bit POPF or
    /// IRET under VME at IOPL < 3: IF goes to VIF, IOPL and IF stay. An
    /// image with TF set, or with IF set while VIP is, raises #GP(0) and
    /// changes nothing.
    pub(super) fn load_virtual_flags(&mut self, image: u32) -> Result<(), Fault> {
        if image & TF != 0 || (image & IF != 0 && self.flag(VIP)) {
            return Err(Fault::Gp(0));
        }
        self.put_flags(VIRTUAL_POP_FLAGS, image);
        self.set_flag(VIF, image & IF != 0);
        Ok(())
    }

    /// A 32-bit IRET at CPL 0 also restores VIF and VIP (the monitor's way
    /// to set them for the task it returns to). `old_cpl` is the CPL the
    /// IRET ran at.
    pub(super) fn iret_restores_virtual_flags(&mut self, image: u32, bytes: u8, old_cpl: u8) {
        if bytes == 4 && old_cpl == 0 {
            self.put_flags((VIF | VIP) & self.writable_flags(), image);
        }
    }

    /// INT n in virtual-8086 mode with CR4.VME: looks up `vector` in the
    /// TSS's interrupt redirection bitmap and, where its bit is clear,
    /// calls the task's own handler from the vector table at linear 0
    /// (pushing FLAGS, CS and `ret_ip` on the task's stack) and returns
    /// true. False leaves the interrupt to the IDT (or to #GP at IOPL < 3).
    /// The bitmap must lie within the TSS's limit, else #GP(0).
    pub(super) fn redirect_v86_interrupt<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        vector: u8,
        ret_ip: u32,
    ) -> Result<bool, Fault> {
        if self.cr4 & CR4_VME == 0 {
            return Ok(false);
        }
        if self.tr.limit < TSS_IO_MAP_BASE + 1 {
            return Err(Fault::Gp(0));
        }
        let io_map_base =
            self.read_lin(bus, self.tr.base.wrapping_add(TSS_IO_MAP_BASE), 2, false)?;
        let byte = io_map_base
            .wrapping_sub(REDIRECTION_BITMAP_BYTES)
            .wrapping_add(u32::from(vector >> 3));
        if byte > self.tr.limit {
            return Err(Fault::Gp(0));
        }
        let bits = self.read_lin(bus, self.tr.base.wrapping_add(byte), 1, false)?;
        if bits & (1 << (vector & 7)) != 0 {
            return Ok(false);
        }
        let entry = u32::from(vector) * 4;
        let new_ip = self.read_lin(bus, entry, 2, false)?;
        let new_cs = self.read_lin(bus, entry + 2, 2, false)?;
        let virtual_if = self.iopl() < 3;
        let flags = if virtual_if {
            self.virtual_flags_image()
        } else {
            self.eflags & 0xFFFF
        };
        let cs = self.segs[SegReg::Cs as usize].selector;
        self.push(bus, 2, flags)?;
        self.push(bus, 2, u32::from(cs))?;
        self.push(bus, 2, ret_ip & 0xFFFF)?;
        self.segs[SegReg::Cs as usize] = v86_segment(new_cs as u16);
        self.eip = new_ip;
        self.eflags &= !(TF | RF);
        self.set_flag(if virtual_if { VIF } else { IF }, false);
        if self.record_deliveries {
            self.deliveries.push(Delivery {
                vector,
                error: None,
                source: Source::Software,
            });
        }
        Ok(true)
    }
}
