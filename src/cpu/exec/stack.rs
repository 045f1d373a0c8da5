//! Stack instructions: PUSH/POP of registers, memory, immediates and
//! segment registers, PUSHA/POPA, PUSHF/POPF (on the virtual flags image
//! under CR4.VME, see `vme.rs`), ENTER/LEAVE.

use super::super::bus::Bus;
use super::super::fault::Fault;
use super::super::flags::{RF, VIF, VIP, VM};
use super::super::interrupt::Frame;
use super::super::{Cpu, SegReg};
use crate::x86::{Insn, Mn, Opnd};

fn fixed_seg(o: Opnd) -> Option<SegReg> {
    Some(match o {
        Opnd::SEs => SegReg::Es,
        Opnd::SCs => SegReg::Cs,
        Opnd::SSs => SegReg::Ss,
        Opnd::SDs => SegReg::Ds,
        Opnd::SFs => SegReg::Fs,
        Opnd::SGs => SegReg::Gs,
        _ => return None,
    })
}

impl Cpu {
    /// Writes FLAGS/EFLAGS as POPF and IRET do: VM, VIF and VIP never
    /// change, and IOPL and IF only where the privilege level allows.
    pub(crate) fn load_flags(&mut self, v: u32, bytes: u8) {
        let mut keep = if bytes == 2 {
            0xFFFF_0000
        } else {
            VM | RF | VIF | VIP
        };
        keep |= self.protected_flags();
        let new = (self.eflags & keep) | (v & !keep);
        self.eflags = (new & self.writable_flags() & !RF) | 2 | (self.eflags & VM);
    }

    pub(super) fn exec_stack<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        insn: &Insn,
    ) -> Result<(), Fault> {
        let v = Self::vsize(insn);
        match insn.mn {
            Mn::Push => {
                let val = self.read_op(bus, insn, 0)?;
                self.push(bus, v, val)
            }
            Mn::Pop => {
                if let Some(s) = fixed_seg(insn.ops[0]) {
                    // SP moves by the old stack's width, after the load.
                    let val = self.peek_stack(bus, 0, v)?;
                    let (old, m) = (self.gpr[4], self.sp_mask());
                    self.load_seg(bus, s, val as u16)?;
                    self.gpr[4] = (old & !m) | (old.wrapping_add(u32::from(v)) & m);
                    return Ok(());
                }
                let val = self.pop(bus, v)?;
                self.write_op(bus, insn, 0, val)
            }
            Mn::Pusha => {
                let sp = self.reg(4, v);
                for n in 0..8u8 {
                    let val = if n == 4 { sp } else { self.reg(n, v) };
                    self.push(bus, v, val)?;
                }
                Ok(())
            }
            Mn::Popa => {
                // The whole frame is read first, so that a fault at any of
                // its elements (one may wrap past the top of a 16-bit
                // stack) leaves nothing popped. DI is at the stack's top,
                // AX deepest; the SP image is skipped.
                let mut frame = [0u32; 8];
                for (k, val) in frame.iter_mut().enumerate() {
                    *val = self.peek_stack(bus, k as u32 * u32::from(v), v)?;
                }
                for (k, val) in frame.into_iter().enumerate() {
                    let n = 7 - k as u8;
                    if n != 4 {
                        self.set_reg(n, v, val);
                    }
                }
                self.set_sp(self.gpr[4].wrapping_add(8 * u32::from(v)));
                Ok(())
            }
            Mn::Pushf => {
                let f = if self.v86_flags_are_virtual(v)? {
                    self.virtual_flags_image()
                } else {
                    self.eflags() & !(VM | RF)
                };
                self.push(bus, v, f)
            }
            Mn::Popf => {
                let virtual_flags = self.v86_flags_are_virtual(v)?;
                let f = self.pop(bus, v)?;
                if virtual_flags {
                    return self.load_virtual_flags(f);
                }
                self.load_flags(f, v);
                Ok(())
            }
            Mn::Enter => self.enter(bus, insn),
            _ => {
                // LEAVE: (E)SP = (E)BP, then pop (E)BP.
                let m = self.sp_mask();
                let bp = self.gpr[5] & m;
                let val = self.peek_stack_at(bus, bp, v)?;
                self.set_sp(bp.wrapping_add(u32::from(v)));
                self.set_reg(5, v, val);
                Ok(())
            }
        }
    }

    fn peek_stack_at<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sp: u32,
        bytes: u8,
    ) -> Result<u32, Fault> {
        self.read_mem(bus, SegReg::Ss, sp, bytes)
    }

    /// ENTER as the SDM's pseudocode has it: the frame pointer is the
    /// whole of ESP after the first push (only BP for a 16-bit operand),
    /// the nested frame pointers are read through BP on a 16-bit stack, and
    /// the stack pointer moves within the stack's width. Every push and the
    /// final stack top are checked (limit and paging) before anything is
    /// written, so a fault leaves memory and registers as they were.
    fn enter<B: Bus + ?Sized>(&mut self, bus: &mut B, insn: &Insn) -> Result<(), Fault> {
        let v = Self::vsize(insn);
        let size = insn.imm & 0xFFFF;
        let level = insn.imm2 & 31;
        let m = self.sp_mask();
        let esp = self.gpr[4];
        let mut frame = Frame::new();
        let bp = self.reg(5, v);
        self.enter_slot(bus, &mut frame, esp, v, bp)?;
        let frame_temp = (esp & !m) | (esp.wrapping_sub(u32::from(v)) & m);
        if level > 0 {
            let mut ebp = self.gpr[5];
            for _ in 1..level {
                ebp = (ebp & !m) | (ebp.wrapping_sub(u32::from(v)) & m);
                let val = self.read_mem(bus, SegReg::Ss, ebp & m, v)?;
                self.enter_slot(bus, &mut frame, esp, v, val)?;
            }
            self.enter_slot(bus, &mut frame, esp, v, frame_temp)?;
        }
        let pushed = u32::from(v) * frame.values().len() as u32;
        let new_sp = esp.wrapping_sub(pushed).wrapping_sub(size) & m;
        // A write at the final stack top must be possible.
        self.check_write(bus, SegReg::Ss, new_sp, 1)?;
        for (i, &val) in frame.values().iter().enumerate() {
            let off = Self::enter_slot_offset(esp, v, i, m);
            self.write_mem(bus, SegReg::Ss, off, v, val)?;
        }
        self.set_reg(5, v, frame_temp);
        self.set_sp(new_sp);
        Ok(())
    }

    /// The stack offset of ENTER's push number `i` (0 = first) from `esp`.
    fn enter_slot_offset(esp: u32, v: u8, i: usize, mask: u32) -> u32 {
        esp.wrapping_sub(u32::from(v) * (i as u32 + 1)) & mask
    }

    /// Checks that ENTER's next push (after those in `frame`) can be
    /// written, then records `val` for it.
    fn enter_slot<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        frame: &mut Frame,
        esp: u32,
        v: u8,
        val: u32,
    ) -> Result<(), Fault> {
        let off = Self::enter_slot_offset(esp, v, frame.values().len(), self.sp_mask());
        self.check_write(bus, SegReg::Ss, off, v)?;
        frame.push(val);
        Ok(())
    }
}
