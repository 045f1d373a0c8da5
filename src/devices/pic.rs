//! The 8259A programmable interrupt controller pair of a PC/AT: the master at
//! ports 0x20/0x21, the slave at 0xA0/0xA1 cascaded on the master's IR2, and
//! the PIIX edge/level control registers (ELCR) at 0x4D0/0x4D1.
//!
//! Modelled: ICW1-ICW4 initialisation, OCW1 (IMR), OCW2 (non-specific and
//! specific EOI, rotate on EOI, rotate in auto-EOI mode, set priority), OCW3
//! (read IRR/ISR, poll mode, special mask mode), priority resolution with
//! rotation, fully nested and special fully nested modes, auto-EOI, edge and
//! level triggering (ICW1.LTIM or a per-line ELCR bit), and the spurious
//! interrupt: when a request vanishes between INTR and INTA the chip answers
//! with its IR7 vector (IRQ7 or IRQ15) without setting an ISR bit (for a
//! slave spurious the master's ISR bit 2 is set, as on hardware).
//!
//! Edge-triggered requests are latched in IRR on a rising edge and stay
//! latched when the line falls (the datasheet asks the line to stay high
//! until INTA; a latched request is what PC guests expect). Level-triggered
//! IRR bits follow the line. The board sets input levels with
//! [`Pic::set_irq`], polls [`Pic::intr`] and runs the INTA cycle with
//! [`Pic::acknowledge`]. IRQ2 is the cascade input and cannot be driven from
//! outside. Not modelled: MCS-80/85 mode (ICW4.uPM = 0 behaves as 8086
//! mode), buffered mode, and poll mode through the cascade (a poll reads the
//! addressed chip only).

use serde::{Deserialize, Serialize};

pub const PIC_MASTER_PORTS: [u16; 2] = [0x20, 0x21];
pub const PIC_SLAVE_PORTS: [u16; 2] = [0xA0, 0xA1];
pub const ELCR_PORTS: [u16; 2] = [0x4D0, 0x4D1];

/// The master input the slave's INT output drives.
const CASCADE_LINE: u8 = 2;
/// ELCR bits that exist (PIIX: IRQ0, 1, 2, 8 and 13 are always edge).
const ELCR_MASK: [u8; 2] = [0xF8, 0xDE];

/// Where an ICW sequence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum InitStep {
    #[default]
    Ready,
    Icw2,
    Icw3,
    Icw4,
}

/// One 8259A.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Chip {
    /// Input line levels as last set.
    lines: u8,
    irr: u8,
    isr: u8,
    imr: u8,
    /// Per-line level triggering from the ELCR.
    elcr: u8,
    /// ICW1.LTIM: every line level triggered.
    ltim: bool,
    vector_base: u8,
    icw3: u8,
    single: bool,
    icw4_needed: bool,
    auto_eoi: bool,
    rotate_on_aeoi: bool,
    special_fully_nested: bool,
    special_mask: bool,
    /// The IR with the highest priority (0 after initialisation; rotation
    /// moves it).
    top: u8,
    read_isr: bool,
    poll: bool,
    init: InitStep,
}

/// The highest-priority set bit of `bits` when IR `top` ranks first.
fn highest(bits: u8, top: u8) -> Option<u8> {
    (0..8u8)
        .map(|i| top.wrapping_add(i) & 7)
        .find(|&ir| bits & (1 << ir) != 0)
}

/// Priority rank of `ir` (0 = highest) when IR `top` ranks first.
fn rank(ir: u8, top: u8) -> u8 {
    ir.wrapping_sub(top) & 7
}

impl Chip {
    fn level_mask(&self) -> u8 {
        if self.ltim {
            0xFF
        } else {
            self.elcr
        }
    }

    fn set_line(&mut self, ir: u8, level: bool) {
        let bit = 1u8 << (ir & 7);
        let was = self.lines & bit != 0;
        if level {
            self.lines |= bit;
        } else {
            self.lines &= !bit;
        }
        if self.level_mask() & bit != 0 {
            if level {
                self.irr |= bit;
            } else {
                self.irr &= !bit;
            }
        } else if level && !was {
            self.irr |= bit;
        }
    }

    /// The IR this chip would present on INTR now, if any.
    fn pending(&self, is_master: bool) -> Option<u8> {
        let requests = self.irr & !self.imr;
        if self.special_mask {
            // Every unmasked level not in service may interrupt.
            return highest(requests & !self.isr, self.top);
        }
        let candidate = highest(requests, self.top)?;
        let mut in_service = self.isr;
        if is_master && self.special_fully_nested {
            in_service &= !(1 << CASCADE_LINE);
        }
        match highest(in_service, self.top) {
            Some(current) if rank(current, self.top) <= rank(candidate, self.top) => None,
            _ => Some(candidate),
        }
    }

    /// The INTA (or poll) of `ir`: ISR set (unless auto-EOI), edge IRR cleared.
    fn ack(&mut self, ir: u8) {
        let bit = 1u8 << ir;
        if self.level_mask() & bit == 0 {
            self.irr &= !bit;
        }
        if self.auto_eoi {
            if self.rotate_on_aeoi {
                self.top = (ir + 1) & 7;
            }
        } else {
            self.isr |= bit;
        }
    }

    fn non_specific_eoi(&mut self) -> Option<u8> {
        let mut in_service = self.isr;
        if self.special_mask {
            in_service &= !self.imr;
        }
        let ir = highest(in_service, self.top)?;
        self.isr &= !(1 << ir);
        Some(ir)
    }

    fn write_command(&mut self, value: u8) {
        if value & 0x10 != 0 {
            self.icw1(value);
        } else if value & 0x08 == 0 {
            self.ocw2(value);
        } else {
            self.ocw3(value);
        }
    }

    fn icw1(&mut self, value: u8) {
        self.icw4_needed = value & 0x01 != 0;
        self.single = value & 0x02 != 0;
        self.ltim = value & 0x08 != 0;
        self.imr = 0;
        self.isr = 0;
        // The edge sense circuit is reset: only level requests survive.
        self.irr = self.lines & self.level_mask();
        self.top = 0;
        self.special_mask = false;
        self.read_isr = false;
        self.poll = false;
        self.auto_eoi = false;
        self.rotate_on_aeoi = false;
        self.special_fully_nested = false;
        self.init = InitStep::Icw2;
    }

    fn ocw2(&mut self, value: u8) {
        let level = value & 7;
        match value >> 5 {
            0b001 => {
                self.non_specific_eoi();
            }
            0b011 => self.isr &= !(1 << level),
            0b101 => {
                if let Some(ir) = self.non_specific_eoi() {
                    self.top = (ir + 1) & 7;
                }
            }
            0b100 => self.rotate_on_aeoi = true,
            0b000 => self.rotate_on_aeoi = false,
            0b111 => {
                self.isr &= !(1 << level);
                self.top = (level + 1) & 7;
            }
            0b110 => self.top = (level + 1) & 7,
            _ => {} // 0b010: no operation
        }
    }

    fn ocw3(&mut self, value: u8) {
        if value & 0x02 != 0 {
            self.read_isr = value & 0x01 != 0;
        }
        if value & 0x04 != 0 {
            self.poll = true;
        }
        if value & 0x40 != 0 {
            self.special_mask = value & 0x20 != 0;
        }
    }

    fn write_data(&mut self, value: u8) {
        match self.init {
            InitStep::Ready => self.imr = value,
            InitStep::Icw2 => {
                self.vector_base = value & 0xF8;
                self.init = if !self.single {
                    InitStep::Icw3
                } else if self.icw4_needed {
                    InitStep::Icw4
                } else {
                    InitStep::Ready
                };
            }
            InitStep::Icw3 => {
                self.icw3 = value;
                self.init = if self.icw4_needed {
                    InitStep::Icw4
                } else {
                    InitStep::Ready
                };
            }
            InitStep::Icw4 => {
                self.auto_eoi = value & 0x02 != 0;
                self.special_fully_nested = value & 0x10 != 0;
                self.init = InitStep::Ready;
            }
        }
    }

    /// A read of the even port: poll answer, ISR or IRR.
    fn read_command(&mut self, is_master: bool) -> u8 {
        if self.poll {
            self.poll = false;
            return match self.pending(is_master) {
                Some(ir) => {
                    self.ack(ir);
                    0x80 | ir
                }
                None => 0,
            };
        }
        if self.read_isr {
            self.isr
        } else {
            self.irr
        }
    }
}

/// The master/slave 8259A pair with its ELCR.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pic {
    chips: [Chip; 2],
}

impl Pic {
    pub fn new() -> Pic {
        Pic::default()
    }

    /// Sets input line `line` (0-15) to `level`. Line 2 is the cascade and
    /// lines above 15 do not exist: both are ignored.
    pub fn set_irq(&mut self, line: u8, level: bool) {
        match line {
            0..=7 if line != CASCADE_LINE => self.chips[0].set_line(line, level),
            8..=15 => {
                self.chips[1].set_line(line - 8, level);
                self.update_cascade();
            }
            _ => {}
        }
    }

    /// The INTR line to the CPU.
    pub fn intr(&self) -> bool {
        self.chips[0].pending(true).is_some()
    }

    /// The INTA cycle: returns the vector and moves the request from IRR to
    /// ISR. With nothing pending it returns the spurious IR7 vector.
    pub fn acknowledge(&mut self) -> u8 {
        let master = &mut self.chips[0];
        let Some(ir) = master.pending(true) else {
            return master.vector_base | 7;
        };
        master.ack(ir);
        let vector = if ir == CASCADE_LINE && !master.single {
            let slave = &mut self.chips[1];
            match slave.pending(false) {
                Some(sir) => {
                    slave.ack(sir);
                    slave.vector_base | sir
                }
                None => slave.vector_base | 7,
            }
        } else {
            master.vector_base | ir
        };
        self.update_cascade();
        vector
    }

    /// Interrupt request register, slave in the high byte.
    pub fn irr(&self) -> u16 {
        u16::from(self.chips[0].irr) | u16::from(self.chips[1].irr) << 8
    }
    /// In-service register, slave in the high byte.
    pub fn isr(&self) -> u16 {
        u16::from(self.chips[0].isr) | u16::from(self.chips[1].isr) << 8
    }
    /// Interrupt mask register, slave in the high byte.
    pub fn imr(&self) -> u16 {
        u16::from(self.chips[0].imr) | u16::from(self.chips[1].imr) << 8
    }
    /// The vector bases programmed by ICW2 (master, slave).
    pub fn vector_bases(&self) -> (u8, u8) {
        (self.chips[0].vector_base, self.chips[1].vector_base)
    }

    /// Drives the master's IR2 from the slave's INT output.
    fn update_cascade(&mut self) {
        let int = self.chips[1].pending(false).is_some();
        self.chips[0].set_line(CASCADE_LINE, int);
    }
}

impl super::ByteDevice for Pic {
    fn read_byte(&mut self, port: u16) -> u8 {
        let v = match port {
            0x20 => self.chips[0].read_command(true),
            0x21 => self.chips[0].imr,
            0xA0 => self.chips[1].read_command(false),
            0xA1 => self.chips[1].imr,
            0x4D0 => self.chips[0].elcr,
            0x4D1 => self.chips[1].elcr,
            _ => 0xFF,
        };
        self.update_cascade();
        v
    }
    fn write_byte(&mut self, port: u16, value: u8) {
        match port {
            0x20 => self.chips[0].write_command(value),
            0x21 => self.chips[0].write_data(value),
            0xA0 => self.chips[1].write_command(value),
            0xA1 => self.chips[1].write_data(value),
            0x4D0 | 0x4D1 => {
                let i = usize::from(port - 0x4D0);
                let chip = &mut self.chips[i];
                chip.elcr = value & ELCR_MASK[i];
                // A line switched to level follows its input from now on.
                chip.irr = (chip.irr & !chip.elcr) | (chip.lines & chip.elcr);
            }
            _ => {}
        }
        self.update_cascade();
    }
    fn reset(&mut self) {
        *self = Pic::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{IoSize, PortDevice};

    fn out(p: &mut Pic, port: u16, v: u8) {
        p.write(port, IoSize::Byte, u32::from(v));
    }
    fn inb(p: &mut Pic, port: u16) -> u8 {
        p.read(port, IoSize::Byte) as u8
    }

    /// The PC BIOS initialisation: vectors 0x08 and 0x70, cascade on IR2.
    fn pc_pic() -> Pic {
        let mut p = Pic::new();
        for (cmd, data, base, icw3) in [(0x20, 0x21, 0x08, 0x04), (0xA0, 0xA1, 0x70, 0x02)] {
            out(&mut p, cmd, 0x11);
            out(&mut p, data, base);
            out(&mut p, data, icw3);
            out(&mut p, data, 0x01);
        }
        p
    }

    fn pulse(p: &mut Pic, line: u8) {
        p.set_irq(line, true);
        p.set_irq(line, false);
    }

    #[test]
    fn icw_sequence_sets_vectors_and_clears_imr() {
        let mut p = Pic::new();
        out(&mut p, 0x21, 0xFF);
        out(&mut p, 0x20, 0x11);
        assert_eq!(inb(&mut p, 0x21), 0, "ICW1 clears IMR");
        out(&mut p, 0x21, 0x20);
        out(&mut p, 0x21, 0x04);
        out(&mut p, 0x21, 0x01);
        // Initialisation over: the data port is OCW1 again.
        out(&mut p, 0x21, 0xFB);
        assert_eq!(inb(&mut p, 0x21), 0xFB);
        assert_eq!(p.vector_bases().0, 0x20);
    }

    #[test]
    fn icw2_low_bits_ignored_and_single_mode_skips_icw3() {
        let mut p = Pic::new();
        out(&mut p, 0x20, 0x13); // single, ICW4 needed
        out(&mut p, 0x21, 0x47);
        out(&mut p, 0x21, 0x01); // ICW4, not ICW3
        out(&mut p, 0x21, 0x5A); // OCW1
        assert_eq!(inb(&mut p, 0x21), 0x5A);
        assert_eq!(p.vector_bases().0, 0x40);
        // Without ICW4: ICW2 ends initialisation in single mode.
        out(&mut p, 0x20, 0x12);
        out(&mut p, 0x21, 0x80);
        out(&mut p, 0x21, 0x33);
        assert_eq!(inb(&mut p, 0x21), 0x33);
    }

    #[test]
    fn edge_request_is_delivered_with_its_vector() {
        let mut p = pc_pic();
        assert!(!p.intr());
        pulse(&mut p, 0);
        assert!(p.intr(), "edge latched after the line fell");
        assert_eq!(p.acknowledge(), 0x08);
        assert!(!p.intr());
        assert_eq!(p.isr(), 0x0001);
        assert_eq!(p.irr(), 0);
    }

    #[test]
    fn held_edge_line_interrupts_once() {
        let mut p = pc_pic();
        p.set_irq(1, true);
        assert_eq!(p.acknowledge(), 0x09);
        out(&mut p, 0x20, 0x20);
        p.set_irq(1, true);
        assert!(!p.intr(), "no new rising edge");
        p.set_irq(1, false);
        p.set_irq(1, true);
        assert!(p.intr());
    }

    #[test]
    fn masked_request_waits_in_irr() {
        let mut p = pc_pic();
        out(&mut p, 0x21, 0x01);
        pulse(&mut p, 0);
        assert!(!p.intr());
        assert_eq!(p.irr() & 1, 1);
        out(&mut p, 0x21, 0x00);
        assert!(p.intr());
        assert_eq!(p.acknowledge(), 0x08);
    }

    #[test]
    fn fixed_priority_and_nesting() {
        let mut p = pc_pic();
        pulse(&mut p, 4);
        assert_eq!(p.acknowledge(), 0x0C);
        pulse(&mut p, 6);
        assert!(!p.intr(), "lower priority than IR4 in service");
        pulse(&mut p, 1);
        assert!(p.intr(), "higher priority nests");
        assert_eq!(p.acknowledge(), 0x09);
        assert_eq!(p.isr(), 0x12);
        out(&mut p, 0x20, 0x20); // non-specific EOI clears IR1
        assert_eq!(p.isr(), 0x10);
        assert!(!p.intr());
        out(&mut p, 0x20, 0x20);
        assert_eq!(p.acknowledge(), 0x0E);
    }

    #[test]
    fn specific_eoi_clears_named_level() {
        let mut p = pc_pic();
        pulse(&mut p, 3);
        p.acknowledge();
        pulse(&mut p, 1);
        p.acknowledge();
        assert_eq!(p.isr(), 0x0A);
        out(&mut p, 0x20, 0x63); // specific EOI IR3
        assert_eq!(p.isr(), 0x02);
    }

    #[test]
    fn read_irr_and_isr_through_ocw3() {
        let mut p = pc_pic();
        out(&mut p, 0x21, 0xFF);
        pulse(&mut p, 5);
        assert_eq!(inb(&mut p, 0x20), 0x20, "IRR selected after init");
        out(&mut p, 0x21, 0x00);
        p.acknowledge();
        out(&mut p, 0x20, 0x0B);
        assert_eq!(inb(&mut p, 0x20), 0x20, "ISR");
        assert_eq!(inb(&mut p, 0x20), 0x20, "selection sticks");
        out(&mut p, 0x20, 0x0A);
        assert_eq!(inb(&mut p, 0x20), 0x00, "IRR");
    }

    #[test]
    fn poll_mode_acknowledges_highest_request() {
        let mut p = pc_pic();
        pulse(&mut p, 5);
        pulse(&mut p, 3);
        out(&mut p, 0x20, 0x0C);
        assert_eq!(inb(&mut p, 0x20), 0x83);
        assert_eq!(p.isr(), 0x08);
        // The poll is a one-shot: the next read is IRR again.
        assert_eq!(inb(&mut p, 0x20), 0x20);
        out(&mut p, 0x20, 0x20);
        out(&mut p, 0x20, 0x0C);
        assert_eq!(inb(&mut p, 0x20), 0x85);
        out(&mut p, 0x20, 0x20);
        out(&mut p, 0x20, 0x0C);
        assert_eq!(inb(&mut p, 0x20), 0x00, "no request");
    }

    #[test]
    fn rotate_on_non_specific_eoi_makes_served_level_lowest() {
        let mut p = pc_pic();
        pulse(&mut p, 2 + 1); // IR3
        assert_eq!(p.acknowledge(), 0x0B);
        out(&mut p, 0x20, 0xA0); // rotate on non-specific EOI
                                 // Now IR4 is highest, IR3 lowest: IR3 and IR5 both pending -> IR5 first.
        pulse(&mut p, 3);
        pulse(&mut p, 5);
        assert_eq!(p.acknowledge(), 0x0D);
    }

    #[test]
    fn set_priority_command() {
        let mut p = pc_pic();
        out(&mut p, 0x20, 0xC5); // IR5 lowest, IR6 highest
        pulse(&mut p, 0);
        pulse(&mut p, 7);
        assert_eq!(p.acknowledge(), 0x0F);
        // Rotate on specific EOI of IR7: IR0 becomes highest again.
        out(&mut p, 0x20, 0xE7);
        pulse(&mut p, 6);
        assert_eq!(p.acknowledge(), 0x08);
    }

    #[test]
    fn auto_eoi_leaves_isr_clear_and_can_rotate() {
        let mut p = Pic::new();
        out(&mut p, 0x20, 0x13);
        out(&mut p, 0x21, 0x08);
        out(&mut p, 0x21, 0x03); // 8086, AEOI
        pulse(&mut p, 1);
        assert_eq!(p.acknowledge(), 0x09);
        assert_eq!(p.isr(), 0);
        out(&mut p, 0x20, 0x80); // rotate in AEOI mode
        pulse(&mut p, 1);
        assert_eq!(p.acknowledge(), 0x09);
        pulse(&mut p, 0);
        pulse(&mut p, 1);
        pulse(&mut p, 3);
        assert_eq!(p.acknowledge(), 0x0B, "IR3 outranks IR0 after IR1 rotated");
    }

    #[test]
    fn slave_interrupt_cascades_through_ir2() {
        let mut p = pc_pic();
        pulse(&mut p, 8 + 6); // IRQ14
        assert!(p.intr());
        assert_eq!(p.acknowledge(), 0x76);
        assert_eq!(p.isr(), 0x4004, "slave IR6 and master IR2 in service");
        out(&mut p, 0xA0, 0x20);
        out(&mut p, 0x20, 0x20);
        assert_eq!(p.isr(), 0);
    }

    #[test]
    fn slave_masked_by_master_imr_bit_2() {
        let mut p = pc_pic();
        out(&mut p, 0x21, 0x04);
        pulse(&mut p, 8);
        assert!(!p.intr());
        out(&mut p, 0x21, 0x00);
        assert_eq!(p.acknowledge(), 0x70);
    }

    #[test]
    fn irq2_cannot_be_driven_from_outside() {
        let mut p = pc_pic();
        pulse(&mut p, 2);
        p.set_irq(16, true);
        p.set_irq(255, true);
        assert!(!p.intr());
    }

    #[test]
    fn spurious_irq7_when_level_request_vanishes() {
        let mut p = pc_pic();
        out(&mut p, 0x4D0, 0x20); // IRQ5 level triggered
        p.set_irq(5, true);
        assert!(p.intr());
        p.set_irq(5, false);
        assert!(!p.intr());
        assert_eq!(p.acknowledge(), 0x0F);
        assert_eq!(p.isr(), 0, "spurious sets no ISR bit");
    }

    #[test]
    fn level_triggered_line_reasserts_after_eoi() {
        let mut p = pc_pic();
        out(&mut p, 0x4D1, 0x04); // IRQ10 level
        assert_eq!(inb(&mut p, 0x4D1), 0x04);
        p.set_irq(10, true);
        assert_eq!(p.acknowledge(), 0x72);
        out(&mut p, 0xA0, 0x20);
        out(&mut p, 0x20, 0x20);
        assert!(p.intr(), "line still high: request again");
        // The line drops before INTA: the master latched the cascade edge,
        // the slave has nothing, so the answer is the spurious IRQ15 vector
        // with the master's IR2 in service (which the guest must EOI).
        p.set_irq(10, false);
        assert_eq!(p.acknowledge(), 0x77);
        assert_eq!(p.isr(), 0x0004);
    }

    #[test]
    fn ltim_makes_every_line_level_triggered() {
        let mut p = Pic::new();
        out(&mut p, 0x20, 0x1B); // LTIM, single, ICW4
        out(&mut p, 0x21, 0x08);
        out(&mut p, 0x21, 0x01);
        p.set_irq(3, true);
        p.set_irq(3, false);
        assert!(!p.intr(), "level request gone with the line");
    }

    #[test]
    fn elcr_reserved_bits_read_zero() {
        let mut p = pc_pic();
        out(&mut p, 0x4D0, 0xFF);
        out(&mut p, 0x4D1, 0xFF);
        assert_eq!(inb(&mut p, 0x4D0), 0xF8);
        assert_eq!(inb(&mut p, 0x4D1), 0xDE);
    }

    #[test]
    fn special_mask_mode_allows_lower_priority() {
        let mut p = pc_pic();
        pulse(&mut p, 1);
        p.acknowledge();
        out(&mut p, 0x21, 0x02); // mask IR1 (in service)
        out(&mut p, 0x20, 0x68); // set special mask mode
        pulse(&mut p, 5);
        assert!(p.intr(), "lower priority enabled by SMM");
        assert_eq!(p.acknowledge(), 0x0D);
        // A non-specific EOI ignores the masked IR1.
        out(&mut p, 0x20, 0x20);
        assert_eq!(p.isr(), 0x02);
        out(&mut p, 0x20, 0x48); // reset special mask mode
        out(&mut p, 0x21, 0x00);
        out(&mut p, 0x20, 0x20);
        assert_eq!(p.isr(), 0);
    }

    #[test]
    fn special_fully_nested_lets_slave_nest() {
        let mut p = Pic::new();
        out(&mut p, 0x20, 0x11);
        out(&mut p, 0x21, 0x08);
        out(&mut p, 0x21, 0x04);
        out(&mut p, 0x21, 0x11); // SFNM
        out(&mut p, 0xA0, 0x11);
        out(&mut p, 0xA1, 0x70);
        out(&mut p, 0xA1, 0x02);
        out(&mut p, 0xA1, 0x01);
        pulse(&mut p, 12);
        assert_eq!(p.acknowledge(), 0x74);
        pulse(&mut p, 9);
        assert!(p.intr(), "higher slave level nests under SFNM");
        assert_eq!(p.acknowledge(), 0x71);
        // Without SFNM the same would wait.
        let mut q = pc_pic();
        pulse(&mut q, 12);
        q.acknowledge();
        pulse(&mut q, 9);
        assert!(!q.intr());
    }

    #[test]
    fn icw1_resets_edge_sense_and_state() {
        let mut p = pc_pic();
        p.set_irq(0, true);
        p.acknowledge();
        out(&mut p, 0x20, 0x11);
        out(&mut p, 0x21, 0x08);
        out(&mut p, 0x21, 0x04);
        out(&mut p, 0x21, 0x01);
        assert_eq!(p.isr() & 0xFF, 0);
        assert!(!p.intr(), "the held line needs a new edge");
    }

    #[test]
    fn word_access_and_unknown_ports_do_not_panic() {
        let mut p = pc_pic();
        out(&mut p, 0x21, 0x12);
        assert_eq!(p.read(0x20, IoSize::Word), 0x1200);
        p.write(0x4D0, IoSize::Word, 0xFFFF);
        assert_eq!(p.read(0x4D0, IoSize::Word), 0xDEF8);
        for port in [0u16, 0x22, 0xFFFF] {
            for v in [0u8, 0x10, 0xFF, 0xE7] {
                out(&mut p, port, v);
                inb(&mut p, port);
            }
        }
        p.reset();
        assert_eq!(p.imr(), 0);
    }

    #[test]
    fn random_command_soup_never_panics() {
        let mut p = pc_pic();
        let mut x: u32 = 0x1234_5678;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let port = [0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1][(x % 6) as usize];
            if x & 0x100 != 0 {
                out(&mut p, port, (x >> 16) as u8);
            } else {
                inb(&mut p, port);
            }
            p.set_irq((x >> 24) as u8 & 15, x & 0x200 != 0);
            if p.intr() {
                p.acknowledge();
            }
        }
    }
}
