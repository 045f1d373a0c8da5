//! Looking at guest memory the way the CPU sees it, for debuggers (the
//! monitor, later the gdb stub): a linear address translated through the
//! current page tables, linear reads, and the page tables summarised as
//! mapped ranges. Nothing here changes the machine: no accessed or dirty
//! bits, no TLB fill, no fault.

use super::action::Action;
use super::vm::Vm;
use super::ControlError;
use crate::cpu::PAE_ADDRESS;

/// One run of linear pages mapped to contiguous physical pages with the
/// same permissions (`info mem`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First linear address.
    pub linear: u64,
    /// First physical address.
    pub physical: u64,
    /// Bytes mapped.
    pub len: u64,
    /// User-accessible (U/S set at both levels).
    pub user: bool,
    /// Writable (R/W set at both levels).
    pub writable: bool,
}

fn unmapped(lin: u64) -> ControlError {
    ControlError::BadValue {
        name: "addr".into(),
        reason: format!("linear address 0x{lin:x} is not mapped by the page tables"),
    }
}

impl Vm {
    /// The physical address linear address `lin` maps to now, or `None`
    /// when the page tables do not map it (with paging off, `lin` itself).
    pub fn translate(&mut self, lin: u32) -> Result<Option<u32>, ControlError> {
        self.guard(Action::MemRead)?;
        let m = self.machine_mut()?;
        Ok(m.cpu.linear_to_physical(&mut m.board, lin))
    }

    /// Reads `len` bytes from linear address `addr`, page by page through
    /// the current page tables; an unmapped page is an error naming it.
    pub fn read_linear(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, ControlError> {
        self.guard(Action::MemRead)?;
        if len > super::MAX_TRANSFER || addr + len > 1 << 32 {
            return Err(ControlError::BadValue {
                name: "len".into(),
                reason: format!(
                    "0x{addr:x}+{len} leaves the 4 GiB linear address space (or moves too much)"
                ),
            });
        }
        let mut out = Vec::with_capacity(len as usize);
        let mut lin = addr;
        while lin < addr + len {
            let page_end = ((lin | 0xFFF) + 1).min(addr + len);
            let phys = self.translate(lin as u32)?.ok_or_else(|| unmapped(lin))?;
            let chunk = self.mem_read(u64::from(phys), page_end - lin)?;
            out.extend_from_slice(&chunk);
            lin = page_end;
        }
        Ok(out)
    }

    /// The current page tables as mapped ranges, lowest linear address
    /// first (32-bit or PAE paging, as CR4.PAE says; under PAE, through
    /// the PDPTEs the CPU loaded); `None` while paging is off (linear
    /// addresses are physical).
    pub fn page_map(&self) -> Result<Option<Vec<Mapping>>, ControlError> {
        self.guard(Action::MemRead)?;
        let regs = self.registers()?;
        if !regs.paging {
            return Ok(None);
        }
        let pse = regs.cr4 & 0x10 != 0;
        // An entry of `width` bytes (4 or 8); unreadable memory reads as 0.
        let read = |addr: u64, width: u64| {
            let dword = |at: u64| u64::from(self.mem_read_int(at, 4).unwrap_or(0));
            dword(addr) | if width == 8 { dword(addr + 4) << 32 } else { 0 }
        };
        let mut out: Vec<Mapping> = Vec::new();
        let mut push = |linear: u64, physical: u64, len: u64, user: bool, writable: bool| {
            if let Some(last) = out.last_mut() {
                if last.linear + last.len == linear
                    && last.physical + last.len == physical
                    && last.user == user
                    && last.writable == writable
                {
                    last.len += len;
                    return;
                }
            }
            out.push(Mapping {
                linear,
                physical,
                len,
                user,
                writable,
            });
        };
        // The directories to walk: (linear base, table address, entry
        // width, entries, large-page size, large pages in effect). PAE
        // paging walks the four directories the CPU's PDPTEs name.
        let directories: Vec<(u64, u64, u64, u64, u64, bool)> = if self.machine()?.cpu.pae_paging()
        {
            let m = self.machine()?;
            m.cpu
                .pdptes()
                .iter()
                .enumerate()
                .filter(|(_, e)| *e & 1 != 0)
                .map(|(i, e)| ((i as u64) << 30, e & PAE_ADDRESS, 8, 512, 1 << 21, true))
                .collect()
        } else {
            vec![(0, u64::from(regs.cr3 & 0xFFFF_F000), 4, 1024, 1 << 22, pse)]
        };
        for (base, dir, width, entries, large, large_pages) in directories {
            let address = if width == 8 { PAE_ADDRESS } else { 0xFFFF_F000 };
            for i in 0..entries {
                let pde = read(dir + i * width, width);
                if pde & 1 == 0 {
                    continue;
                }
                let (u1, w1) = (pde & 4 != 0, pde & 2 != 0);
                let linear = base + i * large;
                if large_pages && pde & 0x80 != 0 {
                    push(linear, pde & address & !(large - 1), large, u1, w1);
                    continue;
                }
                let table = pde & address;
                for j in 0..entries {
                    let pte = read(table + j * width, width);
                    if pte & 1 == 0 {
                        continue;
                    }
                    push(
                        linear | (j << 12),
                        pte & address,
                        1 << 12,
                        u1 && pte & 4 != 0,
                        w1 && pte & 2 != 0,
                    );
                }
            }
        }
        Ok(Some(out))
    }

    /// The hooks' fires waiting to be taken (after [`super::StopReason::Hook`]),
    /// without taking them: a front end that owns some hooks looks, then
    /// hands the rest on.
    pub fn pending_fires(&self) -> Vec<super::hooks::Fire> {
        self.hooks_table().fires().to_vec()
    }
}
