//! Host keys to the guest's keyboard: SDL scancodes (which are USB HID
//! usage IDs, the position of a key whatever the host's layout) to the
//! AT keyboard's scancode set 2, as a real keyboard sends them. The 8042
//! translates them to set 1 when the guest's command byte asks for it (as
//! every PC BIOS and OS does), so the guest sees the set-1 codes it
//! expects. Print Screen and Pause, whose sequences are odd, are not sent.

/// A set-2 make code and whether it is `E0`-prefixed.
type Key = (u8, bool);

/// The set-2 key at USB HID usage `usage`, if the guest's keyboard has it.
pub fn set2_key(usage: u32) -> Option<Key> {
    const LETTERS: [u8; 26] = [
        0x1C, 0x32, 0x21, 0x23, 0x24, 0x2B, 0x34, 0x33, 0x43, 0x3B, 0x42, 0x4B, 0x3A, 0x31, 0x44,
        0x4D, 0x15, 0x2D, 0x1B, 0x2C, 0x3C, 0x2A, 0x1D, 0x22, 0x35, 0x1A,
    ];
    // HID 30..=39: 1..9, 0.
    const DIGITS: [u8; 10] = [0x16, 0x1E, 0x26, 0x25, 0x2E, 0x36, 0x3D, 0x3E, 0x46, 0x45];
    // HID 58..=69: F1..F12.
    const FKEYS: [u8; 12] = [
        0x05, 0x06, 0x04, 0x0C, 0x03, 0x0B, 0x83, 0x0A, 0x01, 0x09, 0x78, 0x07,
    ];
    // HID 89..=99: keypad 1..9, 0, dot.
    const KEYPAD: [u8; 11] = [
        0x69, 0x72, 0x7A, 0x6B, 0x73, 0x74, 0x6C, 0x75, 0x7D, 0x70, 0x71,
    ];
    let plain = |c| Some((c, false));
    let ext = |c| Some((c, true));
    match usage {
        4..=29 => plain(LETTERS[(usage - 4) as usize]),
        30..=39 => plain(DIGITS[(usage - 30) as usize]),
        40 => plain(0x5A),      // Enter
        41 => plain(0x76),      // Escape
        42 => plain(0x66),      // Backspace
        43 => plain(0x0D),      // Tab
        44 => plain(0x29),      // Space
        45 => plain(0x4E),      // -
        46 => plain(0x55),      // =
        47 => plain(0x54),      // [
        48 => plain(0x5B),      // ]
        49 | 50 => plain(0x5D), // \ (and the non-US # key in its place)
        51 => plain(0x4C),      // ;
        52 => plain(0x52),      // '
        53 => plain(0x0E),      // `
        54 => plain(0x41),      // ,
        55 => plain(0x49),      // .
        56 => plain(0x4A),      // /
        57 => plain(0x58),      // Caps Lock
        58..=69 => plain(FKEYS[(usage - 58) as usize]),
        71 => plain(0x7E), // Scroll Lock
        73 => ext(0x70),   // Insert
        74 => ext(0x6C),   // Home
        75 => ext(0x7D),   // Page Up
        76 => ext(0x71),   // Delete
        77 => ext(0x69),   // End
        78 => ext(0x7A),   // Page Down
        79 => ext(0x74),   // Right
        80 => ext(0x6B),   // Left
        81 => ext(0x72),   // Down
        82 => ext(0x75),   // Up
        83 => plain(0x77), // Num Lock
        84 => ext(0x4A),   // keypad /
        85 => plain(0x7C), // keypad *
        86 => plain(0x7B), // keypad -
        87 => plain(0x79), // keypad +
        88 => ext(0x5A),   // keypad Enter
        89..=99 => plain(KEYPAD[(usage - 89) as usize]),
        100 => plain(0x61), // the non-US \ key beside left Shift
        101 => ext(0x2F),   // Application (menu)
        224 => plain(0x14), // left Ctrl
        225 => plain(0x12), // left Shift
        226 => plain(0x11), // left Alt
        227 => ext(0x1F),   // left GUI
        228 => ext(0x14),   // right Ctrl
        229 => plain(0x59), // right Shift
        230 => ext(0x11),   // right Alt
        231 => ext(0x27),   // right GUI
        _ => None,
    }
}

/// The set-2 bytes for pressing (`pressed`) or releasing the key at HID
/// usage `usage`: `[E0] code` or `[E0] F0 code`.
pub fn scancodes(usage: u32, pressed: bool) -> Option<Vec<u8>> {
    let (code, extended) = set2_key(usage)?;
    let mut out = Vec::with_capacity(3);
    if extended {
        out.push(0xE0);
    }
    if !pressed {
        out.push(0xF0);
    }
    out.push(code);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_press_and_release_in_set_2() {
        assert_eq!(scancodes(4, true), Some(vec![0x1C])); // A
        assert_eq!(scancodes(4, false), Some(vec![0xF0, 0x1C]));
        assert_eq!(scancodes(40, true), Some(vec![0x5A])); // Enter
        assert_eq!(scancodes(82, false), Some(vec![0xE0, 0xF0, 0x75])); // Up
        assert_eq!(scancodes(39, true), Some(vec![0x45])); // 0
        assert_eq!(scancodes(69, true), Some(vec![0x07])); // F12
        assert_eq!(scancodes(98, true), Some(vec![0x70])); // keypad 0
        assert_eq!(scancodes(72, true), None); // Pause
    }
}
