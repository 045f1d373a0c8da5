//! The debugger's view of the guest, for the gdb stub and the monitor:
//! linear addresses translated through the CPU's current paging exactly as
//! the guest would see them, but without side effects on the guest (no
//! page fault, no accessed or dirty bit, no TLB fill, no hook event from
//! the page-table walk), and memory read or written through that view.
//! Writes go through guest memory's ordinary write path, so decoded
//! instructions and translated blocks of the bytes written are dropped as
//! for any other write (a debugger may patch code).

use super::action::Action;
use super::vm::Vm;
use super::ControlError;

/// The size of a page of the paging unit.
const PAGE: u64 = 4096;

impl Vm {
    /// The physical address `linear` maps to now (the identity when paging
    /// is off), or `None` when its page is not mapped.
    pub fn debug_translate(&mut self, linear: u32) -> Result<Option<u32>, ControlError> {
        self.guard(Action::MemRead)?;
        Ok(self.machine_mut()?.debug_translate(linear))
    }

    /// The pieces `len` bytes from `linear` occupy: (physical address,
    /// length) per page, up to the first page that is not mapped.
    pub fn debug_pieces(&mut self, linear: u32, len: u64) -> Result<Vec<(u64, u64)>, ControlError> {
        let mut pieces = Vec::new();
        let mut lin = u64::from(linear);
        let end = lin + len;
        while lin < end && lin < 1 << 32 {
            let n = (PAGE - lin % PAGE).min(end - lin);
            match self.debug_translate(lin as u32)? {
                Some(phys) => pieces.push((u64::from(phys), n)),
                None => break,
            }
            lin += n;
        }
        Ok(pieces)
    }

    /// Reads guest memory at linear address `linear` into `buf` as the CPU
    /// would see it now, stopping at the first byte that is not mapped (by
    /// paging) or not memory; returns the number of bytes read.
    pub fn debug_read(&mut self, linear: u32, buf: &mut [u8]) -> Result<usize, ControlError> {
        self.guard(Action::MemRead)?;
        let pieces = self.debug_pieces(linear, buf.len() as u64)?;
        let mem = &self.machine()?.board.mem;
        let mut done = 0usize;
        for (phys, n) in pieces {
            let dst = &mut buf[done..done + n as usize];
            if mem.read_bytes(phys, dst).is_err() {
                // A piece that leaves memory part-way: byte by byte.
                for (i, b) in dst.iter_mut().enumerate() {
                    if mem
                        .read_bytes(phys + i as u64, std::slice::from_mut(b))
                        .is_err()
                    {
                        return Ok(done + i);
                    }
                }
            }
            done += n as usize;
        }
        Ok(done)
    }

    /// Writes `data` to guest RAM at linear address `linear`, all or
    /// nothing: fails, writing nothing, when a page is not mapped or a byte
    /// is not RAM.
    pub fn debug_write(&mut self, linear: u32, data: &[u8]) -> Result<(), ControlError> {
        self.guard(Action::MemWrite)?;
        let pieces = self.debug_pieces(linear, data.len() as u64)?;
        let mapped: u64 = pieces.iter().map(|p| p.1).sum();
        if mapped < data.len() as u64 {
            return Err(ControlError::BadValue {
                name: "addr".into(),
                reason: format!(
                    "linear address 0x{:x} is not mapped",
                    u64::from(linear) + mapped
                ),
            });
        }
        let mem = &mut self.machine_mut()?.board.mem;
        for &(phys, n) in &pieces {
            mem.check_writable(phys, n)?;
        }
        let mut done = 0usize;
        for (phys, n) in pieces {
            mem.write_bytes(phys, &data[done..done + n as usize])?;
            done += n as usize;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Value;
    use crate::machine::MachineConfig;

    /// A powered-on VM with paging on: linear page 5 maps to physical page
    /// 7, linear page 6 is not present. The directory and table entries
    /// have their accessed bits clear.
    fn paged_vm() -> Vm {
        let mut vm = Vm::new(MachineConfig {
            ram_size: 1 << 20,
            ..MachineConfig::default()
        })
        .unwrap();
        vm.power_on().unwrap();
        vm.mem_write_int(0x1000, 4, 0x2003).unwrap(); // PDE 0 -> table at 0x2000
        vm.mem_write_int(0x2000 + 5 * 4, 4, 0x7003).unwrap(); // page 5 -> 0x7000
        vm.mem_write(0x7FF0, b"0123456789abcdef").unwrap();
        vm.set("cpu.cr3", Value::Int(0x1000)).unwrap();
        vm.set("cpu.cr0", Value::Int(0x8000_0011)).unwrap();
        vm
    }

    /// Setting CR0, CR3 and CR4 through properties under PAE paging loads
    /// the PDPTEs, and a PDPT with a bad entry is refused.
    #[test]
    fn pae_paging_set_through_properties_translates() {
        let mut vm = Vm::new(MachineConfig {
            ram_size: 1 << 20,
            ..MachineConfig::default()
        })
        .unwrap();
        vm.power_on().unwrap();
        vm.mem_write_int(0x1000, 4, 0x2001).unwrap(); // PDPTE 0 -> directory at 0x2000
        vm.mem_write_int(0x2000, 4, 0x3003).unwrap(); // PDE 0 -> table at 0x3000
        vm.mem_write_int(0x3000 + 5 * 8, 4, 0x7003).unwrap(); // page 5 -> 0x7000
        vm.mem_write_int(0x3000 + 6 * 8 + 4, 4, 0x1).unwrap(); // page 6 -> 4 GiB up
        vm.mem_write_int(0x3000 + 6 * 8, 4, 0x3).unwrap();
        vm.mem_write_int(0x2000 + 8, 4, 0x87).unwrap(); // PDE 1: a 2 MiB page of 0
        vm.mem_write_int(0x1100 + 8, 4, 0x2001 | 1 << 7).unwrap(); // a bad PDPTE
        vm.set("cpu.cr3", Value::Int(0x1000)).unwrap();
        vm.set("cpu.cr4", Value::Int(0x20)).unwrap();
        vm.set("cpu.cr0", Value::Int(0x8000_0011)).unwrap();
        assert_eq!(vm.debug_translate(0x5FF0).unwrap(), Some(0x7FF0));
        assert_eq!(vm.debug_translate(0x6000).unwrap(), None, "above 4 GiB");
        let map: Vec<(u64, u64, u64)> = vm
            .page_map()
            .unwrap()
            .unwrap()
            .iter()
            .map(|m| (m.linear, m.physical, m.len))
            .collect();
        assert_eq!(
            map,
            [
                (0x5000, 0x7000, 0x1000),
                (0x6000, 0x1_0000_0000, 0x1000),
                (0x20_0000, 0, 0x20_0000)
            ]
        );
        assert!(vm.set("cpu.cr3", Value::Int(0x1100)).is_err());
        assert_eq!(vm.get("cpu.cr3").unwrap(), Value::Int(0x1000));
        assert_eq!(vm.debug_translate(0x5FF0).unwrap(), Some(0x7FF0));
    }

    #[test]
    fn reads_through_paging_without_side_effects() {
        let mut vm = paged_vm();
        assert_eq!(vm.debug_translate(0x5FF0).unwrap(), Some(0x7FF0));
        assert_eq!(vm.debug_translate(0x6000).unwrap(), None);
        let mut buf = [0u8; 8];
        // Two bytes before the unmapped page, then the read stops.
        assert_eq!(vm.debug_read(0x5FFE, &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ef");
        assert_eq!(vm.debug_read(0x5FF0, &mut buf).unwrap(), 8);
        assert_eq!(&buf, b"01234567");
        // No accessed bit was set in the directory or the table.
        assert_eq!(vm.mem_read_int(0x1000, 4).unwrap(), 0x2003);
        assert_eq!(vm.mem_read_int(0x2014, 4).unwrap(), 0x7003);
    }

    #[test]
    fn writes_are_all_or_nothing() {
        let mut vm = paged_vm();
        assert!(vm.debug_write(0x5FFE, b"XYZW").is_err());
        assert_eq!(vm.mem_read(0x7FFE, 2).unwrap(), b"ef");
        vm.debug_write(0x5FF0, b"AB").unwrap();
        assert_eq!(vm.mem_read(0x7FF0, 4).unwrap(), b"AB23");
    }
}
