//! Unit tests for the 8254 model (`pit.rs`), checked against the datasheet's
//! timing for each mode.

use super::*;
use crate::devices::{IoSize, PortDevice};

fn out(p: &mut Pit, port: u16, v: u8) {
    p.write(port, IoSize::Byte, u32::from(v));
}
fn inb(p: &mut Pit, port: u16) -> u8 {
    p.read(port, IoSize::Byte) as u8
}
/// Moves to the first nanosecond of tick `t`.
fn at(p: &mut Pit, t: u64) {
    p.advance_to(ticks_to_ns(t));
}
fn program(p: &mut Pit, ch: u8, mode: u8, count: u16) {
    out(p, 0x43, ch << 6 | 0x30 | mode << 1);
    out(p, 0x40 + u16::from(ch), count as u8);
    out(p, 0x40 + u16::from(ch), (count >> 8) as u8);
}
fn read_count(p: &mut Pit, ch: u8) -> u16 {
    out(p, 0x43, ch << 6);
    let lo = inb(p, 0x40 + u16::from(ch));
    let hi = inb(p, 0x40 + u16::from(ch));
    u16::from(lo) | u16::from(hi) << 8
}

#[test]
fn tick_conversion_is_exact_and_round_trips() {
    assert_eq!(ns_to_ticks(1_000_000_000), PIT_HZ);
    assert_eq!(ns_to_ticks(0), 0);
    for t in [1u64, 2, 65536, 1_193_181, 1_193_182, 10_000_000_000] {
        let ns = ticks_to_ns(t);
        assert_eq!(ns_to_ticks(ns), t);
        assert_eq!(ns_to_ticks(ns - 1), t - 1);
    }
    // One hour of ticks lands on the exact count: no drift.
    assert_eq!(ns_to_ticks(3_600_000_000_000), 3600 * PIT_HZ);
}

#[test]
fn mode0_interrupt_on_terminal_count() {
    let mut p = Pit::new();
    at(&mut p, 100);
    out(&mut p, 0x43, 0x30);
    assert!(!p.irq0_level(), "OUT low after the mode is set");
    out(&mut p, 0x40, 0x10);
    assert!(!p.irq0_level());
    out(&mut p, 0x40, 0x00); // count 16
    assert_eq!(p.next_event_ns(), Some(ticks_to_ns(116)));
    at(&mut p, 110);
    assert_eq!(read_count(&mut p, 0), 6);
    assert!(!p.irq0_level());
    at(&mut p, 116);
    assert!(p.irq0_level());
    assert_eq!(p.next_event_ns(), None, "stays high");
    at(&mut p, 118);
    assert_eq!(
        read_count(&mut p, 0),
        0xFFFE,
        "keeps counting down and wraps"
    );
}

#[test]
fn mode0_first_byte_stops_count_and_lowers_out() {
    let mut p = Pit::new();
    program(&mut p, 0, 0, 5);
    at(&mut p, 10);
    assert!(p.irq0_level());
    out(&mut p, 0x40, 0x20);
    assert!(!p.irq0_level());
    assert_eq!(p.next_event_ns(), None);
    out(&mut p, 0x40, 0x00);
    at(&mut p, 10 + 0x20);
    assert!(p.irq0_level());
}

#[test]
fn mode2_rate_generator_pulses_low_one_clock() {
    let mut p = Pit::new();
    program(&mut p, 0, 2, 100);
    assert!(p.irq0_level());
    assert_eq!(p.next_event_ns(), Some(ticks_to_ns(99)));
    at(&mut p, 99);
    assert!(!p.irq0_level());
    assert_eq!(read_count(&mut p, 0), 1);
    assert_eq!(p.next_event_ns(), Some(ticks_to_ns(100)));
    at(&mut p, 100);
    assert!(p.irq0_level());
    assert_eq!(read_count(&mut p, 0), 100);
    at(&mut p, 1050);
    assert_eq!(read_count(&mut p, 0), 50);
    assert_eq!(p.next_event_ns(), Some(ticks_to_ns(1099)));
}

#[test]
fn mode2_count_zero_is_65536_and_irq_rate_matches_pc() {
    let mut p = Pit::new();
    program(&mut p, 0, 2, 0);
    // Walk the events for one second: the BIOS tick rate, 18.2 Hz.
    let mut rises = 0;
    let mut level = p.irq0_level();
    while let Some(t) = p.next_event_ns() {
        if t > 1_000_000_000 {
            break;
        }
        p.advance_to(t);
        let now = p.irq0_level();
        if now && !level {
            rises += 1;
        }
        level = now;
    }
    assert_eq!(rises, PIT_HZ / 65536);
}

#[test]
fn mode2_new_count_loads_at_end_of_period() {
    let mut p = Pit::new();
    program(&mut p, 0, 2, 100);
    at(&mut p, 30);
    out(&mut p, 0x40, 10);
    out(&mut p, 0x40, 0);
    at(&mut p, 60);
    assert_eq!(read_count(&mut p, 0), 40, "old period continues");
    at(&mut p, 100);
    assert_eq!(read_count(&mut p, 0), 10);
    at(&mut p, 109);
    assert!(!p.irq0_level());
    at(&mut p, 110);
    assert!(p.irq0_level());
}

#[test]
fn mode3_square_wave_even_and_odd() {
    let mut p = Pit::new();
    program(&mut p, 0, 3, 10);
    assert!(p.irq0_level());
    assert_eq!(read_count(&mut p, 0), 10);
    at(&mut p, 2);
    assert_eq!(read_count(&mut p, 0), 6, "counts down by two");
    at(&mut p, 4);
    assert!(p.irq0_level());
    at(&mut p, 5);
    assert!(!p.irq0_level());
    at(&mut p, 9);
    assert!(!p.irq0_level());
    at(&mut p, 10);
    assert!(p.irq0_level());
    // Odd count: high for (N+1)/2, low for (N-1)/2.
    let mut q = Pit::new();
    program(&mut q, 0, 3, 7);
    at(&mut q, 3);
    assert!(q.irq0_level());
    at(&mut q, 4);
    assert!(!q.irq0_level());
    at(&mut q, 6);
    assert!(!q.irq0_level());
    at(&mut q, 7);
    assert!(q.irq0_level());
    assert_eq!(q.next_event_ns(), Some(ticks_to_ns(11)));
}

#[test]
fn modes_6_and_7_alias_2_and_3() {
    let mut p = Pit::new();
    program(&mut p, 0, 7, 10);
    at(&mut p, 5);
    assert!(!p.irq0_level(), "square wave");
    let mut q = Pit::new();
    program(&mut q, 0, 6, 10);
    at(&mut q, 9);
    assert!(!q.irq0_level(), "rate generator");
}

#[test]
fn mode4_software_strobe() {
    let mut p = Pit::new();
    program(&mut p, 0, 4, 20);
    assert!(p.irq0_level());
    at(&mut p, 19);
    assert!(p.irq0_level());
    at(&mut p, 20);
    assert!(!p.irq0_level());
    assert_eq!(p.next_event_ns(), Some(ticks_to_ns(21)));
    at(&mut p, 21);
    assert!(p.irq0_level());
    assert_eq!(p.next_event_ns(), None);
}

#[test]
fn mode1_one_shot_triggered_by_gate_and_retriggerable() {
    let mut p = Pit::new();
    out(&mut p, 0x61, 0x00);
    program(&mut p, 2, 1, 50);
    assert!(p.out(2), "OUT high until triggered");
    at(&mut p, 10);
    assert!(p.out(2));
    out(&mut p, 0x61, 0x01); // gate rises: trigger
    assert!(!p.out(2));
    at(&mut p, 40);
    out(&mut p, 0x61, 0x00);
    out(&mut p, 0x61, 0x01); // retrigger at 40
    at(&mut p, 89);
    assert!(!p.out(2));
    at(&mut p, 90);
    assert!(p.out(2));
    assert_eq!(inb(&mut p, 0x61) & 0x20, 0x20, "OUT2 on port 0x61 bit 5");
}

#[test]
fn mode5_hardware_strobe() {
    let mut p = Pit::new();
    program(&mut p, 2, 5, 8);
    at(&mut p, 100);
    assert!(p.out(2));
    p.set_gate(2, true);
    at(&mut p, 107);
    assert!(p.out(2));
    at(&mut p, 108);
    assert!(!p.out(2));
    at(&mut p, 109);
    assert!(p.out(2));
}

#[test]
fn gate_low_pauses_mode0() {
    let mut p = Pit::new();
    program(&mut p, 2, 0, 100);
    // Channel 2's gate is low after reset: loaded but not counting.
    at(&mut p, 50);
    assert_eq!(read_count(&mut p, 2), 100);
    out(&mut p, 0x61, 0x01);
    at(&mut p, 80);
    assert_eq!(read_count(&mut p, 2), 70);
    out(&mut p, 0x61, 0x00);
    at(&mut p, 500);
    assert_eq!(read_count(&mut p, 2), 70, "frozen");
    out(&mut p, 0x61, 0x01);
    at(&mut p, 569);
    assert!(!p.out(2));
    at(&mut p, 570);
    assert!(p.out(2));
}

#[test]
fn gate_low_forces_out_high_in_mode2_and_rise_reloads() {
    let mut p = Pit::new();
    out(&mut p, 0x61, 0x01);
    program(&mut p, 2, 2, 10);
    at(&mut p, 9);
    assert!(!p.out(2));
    out(&mut p, 0x61, 0x00);
    assert!(p.out(2));
    at(&mut p, 15);
    out(&mut p, 0x61, 0x01);
    at(&mut p, 20);
    assert_eq!(
        read_count(&mut p, 2),
        5,
        "restarted from the full count at 15"
    );
}

#[test]
fn latch_holds_value_until_read() {
    let mut p = Pit::new();
    program(&mut p, 0, 2, 1000);
    at(&mut p, 100);
    out(&mut p, 0x43, 0x00);
    at(&mut p, 300);
    out(&mut p, 0x43, 0x00); // a second latch is ignored
    assert_eq!(inb(&mut p, 0x40), (900u16 & 0xFF) as u8);
    at(&mut p, 400);
    assert_eq!(inb(&mut p, 0x40), (900u16 >> 8) as u8);
    // Latch released: live reads again.
    assert_eq!(read_count(&mut p, 0), 600);
}

#[test]
fn lsb_only_and_msb_only_access() {
    let mut p = Pit::new();
    out(&mut p, 0x43, 0x54); // ch1, LSB, mode 2
    out(&mut p, 0x41, 18);
    at(&mut p, 5);
    assert_eq!(inb(&mut p, 0x41), 13);
    assert_eq!(inb(&mut p, 0x41), 13, "no toggle in LSB mode");
    out(&mut p, 0x43, 0x64); // ch1, MSB, mode 2
    out(&mut p, 0x41, 0x02); // count 0x200
    at(&mut p, 5 + 0x100);
    assert_eq!(inb(&mut p, 0x41), 0x01);
}

#[test]
fn bcd_counting() {
    let mut p = Pit::new();
    out(&mut p, 0x43, 0x31); // ch0, lohi, mode 0, BCD
    out(&mut p, 0x40, 0x00);
    out(&mut p, 0x40, 0x10); // 1000 decimal
    at(&mut p, 1);
    assert_eq!(read_count(&mut p, 0), 0x0999);
    at(&mut p, 1000);
    assert!(p.irq0_level());
    at(&mut p, 1001);
    assert_eq!(read_count(&mut p, 0), 0x9999, "wraps in decimal");
    // BCD count 0 is 10000 clocks.
    out(&mut p, 0x43, 0x35);
    out(&mut p, 0x40, 0);
    out(&mut p, 0x40, 0);
    assert_eq!(p.next_event_ns(), Some(ticks_to_ns(1001 + 9999)));
}

#[test]
fn read_back_status_and_count() {
    let mut p = Pit::new();
    out(&mut p, 0x43, 0xB6); // ch2 lohi mode 3
    assert_eq!(p.channels[2].status(0) & 0x40, 0x40, "null count");
    out(&mut p, 0x61, 0x01);
    out(&mut p, 0x42, 0x00);
    out(&mut p, 0x42, 0x01);
    at(&mut p, 10);
    out(&mut p, 0x43, 0xC8); // read back count and status of ch2
    let status = inb(&mut p, 0x42);
    assert_eq!(status, 0x80 | 0x36, "OUT high, count loaded, control bits");
    assert_eq!(inb(&mut p, 0x42), 0xEC);
    assert_eq!(inb(&mut p, 0x42), 0x00);
    // Status only, for channels 0 and 1 at once.
    out(&mut p, 0x43, 0x34);
    out(&mut p, 0x43, 0xE6);
    assert_eq!(
        inb(&mut p, 0x40),
        0x80 | 0x40 | 0x34,
        "OUT high in mode 2, null count"
    );
    assert_eq!(
        inb(&mut p, 0x41),
        0x40 | 0x30,
        "power-on: OUT low, no count"
    );
}

#[test]
fn port_61_bits() {
    let mut p = Pit::new();
    out(&mut p, 0x61, 0xF3);
    let v = inb(&mut p, 0x61);
    assert_eq!(v & 0x0F, 0x03);
    assert_eq!(v & 0xC0, 0);
    p.advance_to(0);
    let a = inb(&mut p, 0x61) & 0x10;
    p.advance_to(REFRESH_TOGGLE_NS);
    let b = inb(&mut p, 0x61) & 0x10;
    p.advance_to(2 * REFRESH_TOGGLE_NS);
    let c = inb(&mut p, 0x61) & 0x10;
    assert_ne!(a, b);
    assert_eq!(a, c);
}

#[test]
fn speaker_follows_gate_data_and_out2() {
    let mut p = Pit::new();
    out(&mut p, 0x61, 0x03);
    program(&mut p, 2, 3, 1000);
    assert!(p.speaker_on());
    at(&mut p, 600);
    assert!(!p.speaker_on());
}

#[test]
fn time_never_goes_back_and_reset_keeps_clock() {
    let mut p = Pit::new();
    p.advance_to(1_000_000);
    p.advance_to(5);
    assert_eq!(p.now_ns, 1_000_000);
    program(&mut p, 0, 2, 10);
    p.reset();
    assert_eq!(p.now_ns, 1_000_000);
    assert_eq!(p.next_event_ns(), None);
    assert!(!p.irq0_level());
}

#[test]
fn word_access_and_garbage_never_panic() {
    let mut p = Pit::new();
    let mut x: u32 = 0xDEAD_BEEF;
    for i in 0..20_000u64 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let port = [0x40, 0x41, 0x42, 0x43, 0x61, 0x44][(x % 6) as usize];
        if x & 0x100 != 0 {
            p.write(port, IoSize::Byte, x >> 16);
        } else {
            p.read(port, IoSize::Word);
        }
        p.advance_to(i * 997);
        p.next_event_ns();
        p.irq0_level();
    }
    p.advance_to(u64::MAX);
    p.next_event_ns();
    p.read(0x40, IoSize::Dword);
}
