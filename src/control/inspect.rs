//! Looking at guest memory the way the CPU sees it, for debuggers (the
//! monitor, later the gdb stub): a linear address translated through the
//! current page tables, linear reads, and the page tables summarised as
//! mapped ranges. Nothing here changes the machine: no accessed or dirty
//! bits, no TLB fill, no fault.

use super::action::Action;
use super::vm::Vm;
use super::ControlError;

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
    /// first; `None` while paging is off (linear addresses are physical).
    pub fn page_map(&self) -> Result<Option<Vec<Mapping>>, ControlError> {
        self.guard(Action::MemRead)?;
        let regs = self.registers()?;
        if !regs.paging {
            return Ok(None);
        }
        let pse = regs.cr4 & 0x10 != 0;
        let dir = u64::from(regs.cr3 & 0xFFFF_F000);
        let read = |addr: u64| self.mem_read_int(addr, 4).unwrap_or(0);
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
        for i in 0..1024u64 {
            let pde = read(dir + i * 4);
            if pde & 1 == 0 {
                continue;
            }
            let (u1, w1) = (pde & 4 != 0, pde & 2 != 0);
            if pse && pde & 0x80 != 0 {
                push(i << 22, u64::from(pde & 0xFFC0_0000), 1 << 22, u1, w1);
                continue;
            }
            let table = u64::from(pde & 0xFFFF_F000);
            for j in 0..1024u64 {
                let pte = read(table + j * 4);
                if pte & 1 == 0 {
                    continue;
                }
                push(
                    (i << 22) | (j << 12),
                    u64::from(pte & 0xFFFF_F000),
                    1 << 12,
                    u1 && pte & 4 != 0,
                    w1 && pte & 2 != 0,
                );
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
