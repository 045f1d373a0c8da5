//! The keyboard's key names and characters as AT scancode set 2 make codes
//! (what the keyboard sends on its wire), and the press/release sequences
//! for typed text and key combinations. The 8042 (see `i8042.rs`) queues
//! these and translates them to set 1 when the guest asks for it.

/// A key: its set 2 make code, `E0`-prefixed when `extended`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: u8,
    pub extended: bool,
}

const fn k(code: u8) -> Key {
    Key {
        code,
        extended: false,
    }
}
const fn e(code: u8) -> Key {
    Key {
        code,
        extended: true,
    }
}

pub const LEFT_SHIFT: Key = k(0x12);

/// Named keys (lower case), as `keyboard:press` and the monitor's
/// `sendkey` spell them.
const NAMED: &[(&str, Key)] = &[
    ("ctrl", k(0x14)),
    ("control", k(0x14)),
    ("lctrl", k(0x14)),
    ("ctrl_r", e(0x14)),
    ("rctrl", e(0x14)),
    ("alt", k(0x11)),
    ("lalt", k(0x11)),
    ("alt_r", e(0x11)),
    ("ralt", e(0x11)),
    ("altgr", e(0x11)),
    ("shift", k(0x12)),
    ("lshift", k(0x12)),
    ("shift_r", k(0x59)),
    ("rshift", k(0x59)),
    ("meta", e(0x1F)),
    ("super", e(0x1F)),
    ("win", e(0x1F)),
    ("menu", e(0x2F)),
    ("esc", k(0x76)),
    ("escape", k(0x76)),
    ("enter", k(0x5A)),
    ("ret", k(0x5A)),
    ("return", k(0x5A)),
    ("kp_enter", e(0x5A)),
    ("tab", k(0x0D)),
    ("backspace", k(0x66)),
    ("space", k(0x29)),
    ("spc", k(0x29)),
    ("capslock", k(0x58)),
    ("caps_lock", k(0x58)),
    ("numlock", k(0x77)),
    ("num_lock", k(0x77)),
    ("scrolllock", k(0x7E)),
    ("scroll_lock", k(0x7E)),
    ("insert", e(0x70)),
    ("ins", e(0x70)),
    ("delete", e(0x71)),
    ("del", e(0x71)),
    ("home", e(0x6C)),
    ("end", e(0x69)),
    ("pgup", e(0x7D)),
    ("pageup", e(0x7D)),
    ("pgdn", e(0x7A)),
    ("pagedown", e(0x7A)),
    ("up", e(0x75)),
    ("down", e(0x72)),
    ("left", e(0x6B)),
    ("right", e(0x74)),
    ("f1", k(0x05)),
    ("f2", k(0x06)),
    ("f3", k(0x04)),
    ("f4", k(0x0C)),
    ("f5", k(0x03)),
    ("f6", k(0x0B)),
    ("f7", k(0x83)),
    ("f8", k(0x0A)),
    ("f9", k(0x01)),
    ("f10", k(0x09)),
    ("f11", k(0x78)),
    ("f12", k(0x07)),
    ("minus", k(0x4E)),
    ("equal", k(0x55)),
    ("comma", k(0x41)),
    ("dot", k(0x49)),
    ("slash", k(0x4A)),
];

/// The unshifted characters of the US layout and their keys.
const PLAIN: &[(char, u8)] = &[
    ('a', 0x1C),
    ('b', 0x32),
    ('c', 0x21),
    ('d', 0x23),
    ('e', 0x24),
    ('f', 0x2B),
    ('g', 0x34),
    ('h', 0x33),
    ('i', 0x43),
    ('j', 0x3B),
    ('k', 0x42),
    ('l', 0x4B),
    ('m', 0x3A),
    ('n', 0x31),
    ('o', 0x44),
    ('p', 0x4D),
    ('q', 0x15),
    ('r', 0x2D),
    ('s', 0x1B),
    ('t', 0x2C),
    ('u', 0x3C),
    ('v', 0x2A),
    ('w', 0x1D),
    ('x', 0x22),
    ('y', 0x35),
    ('z', 0x1A),
    ('1', 0x16),
    ('2', 0x1E),
    ('3', 0x26),
    ('4', 0x25),
    ('5', 0x2E),
    ('6', 0x36),
    ('7', 0x3D),
    ('8', 0x3E),
    ('9', 0x46),
    ('0', 0x45),
    ('`', 0x0E),
    ('-', 0x4E),
    ('=', 0x55),
    ('[', 0x54),
    (']', 0x5B),
    ('\\', 0x5D),
    (';', 0x4C),
    ('\'', 0x52),
    (',', 0x41),
    ('.', 0x49),
    ('/', 0x4A),
    (' ', 0x29),
    ('\n', 0x5A),
    ('\t', 0x0D),
    ('\u{8}', 0x66),
    ('\u{1b}', 0x76),
];

/// Shifted characters and the unshifted character on the same key.
const SHIFTED: &[(char, char)] = &[
    ('!', '1'),
    ('@', '2'),
    ('#', '3'),
    ('$', '4'),
    ('%', '5'),
    ('^', '6'),
    ('&', '7'),
    ('*', '8'),
    ('(', '9'),
    (')', '0'),
    ('~', '`'),
    ('_', '-'),
    ('+', '='),
    ('{', '['),
    ('}', ']'),
    ('|', '\\'),
    (':', ';'),
    ('"', '\''),
    ('<', ','),
    ('>', '.'),
    ('?', '/'),
];

/// The key that types `c` on a US keyboard, and whether Shift is needed.
pub fn char_key(c: char) -> Option<(Key, bool)> {
    let plain = |c: char| {
        PLAIN
            .iter()
            .find(|(p, _)| *p == c)
            .map(|&(_, code)| k(code))
    };
    if c.is_ascii_uppercase() {
        return plain(c.to_ascii_lowercase()).map(|key| (key, true));
    }
    if let Some(&(_, base)) = SHIFTED.iter().find(|(s, _)| *s == c) {
        return plain(base).map(|key| (key, true));
    }
    plain(c).map(|key| (key, false))
}

/// The key called `name` (case-insensitive): a named key or a single
/// unshifted character.
pub fn named_key(name: &str) -> Option<Key> {
    let lower = name.to_ascii_lowercase();
    if let Some(&(_, key)) = NAMED.iter().find(|(n, _)| *n == lower) {
        return Some(key);
    }
    let mut chars = lower.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => char_key(c).filter(|&(_, shift)| !shift).map(|(key, _)| key),
        _ => None,
    }
}

/// Every key name [`named_key`] knows (for suggestions).
pub fn key_names() -> impl Iterator<Item = &'static str> {
    NAMED.iter().map(|(n, _)| *n)
}

/// Appends the make code of `key` to `out`.
pub fn push_make(out: &mut Vec<u8>, key: Key) {
    if key.extended {
        out.push(0xE0);
    }
    out.push(key.code);
}

/// Appends the break code of `key` to `out`.
pub fn push_break(out: &mut Vec<u8>, key: Key) {
    if key.extended {
        out.push(0xE0);
    }
    out.extend([0xF0, key.code]);
}

/// The scancodes that type `text`, or the first character no key types.
pub fn type_text(text: &str) -> Result<Vec<u8>, char> {
    let mut out = Vec::new();
    for c in text.chars() {
        let (key, shift) = char_key(c).ok_or(c)?;
        if shift {
            push_make(&mut out, LEFT_SHIFT);
        }
        push_make(&mut out, key);
        push_break(&mut out, key);
        if shift {
            push_break(&mut out, LEFT_SHIFT);
        }
    }
    Ok(out)
}

/// Why [`press_combo`] refused a combination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComboError {
    /// The combination is empty or blank.
    Empty,
    /// Part `index` (from 1) between the `+` signs is empty, as in `"ctrl+"`
    /// or `"+++"`.
    EmptyKey { index: usize },
    /// No key has this name.
    Unknown(String),
}

/// The scancodes of a combination like "ctrl+alt+del": every key down in
/// order, then up in reverse order. Names are joined by `+`; the plus key
/// itself is written as a trailing `++` ("ctrl++") or alone ("+"). Any
/// other empty name ("ctrl+", "+++", "ctrl++alt") is refused.
pub fn press_combo(combo: &str) -> Result<Vec<u8>, ComboError> {
    let combo = combo.trim();
    if combo.is_empty() {
        return Err(ComboError::Empty);
    }
    // The '+' key is on the '=' key (shifted); as a last key it is written
    // "++" after the modifiers, or "+" alone.
    let (rest, plus) = if combo == "+" {
        ("", true)
    } else if let Some(rest) = combo.strip_suffix("++") {
        (rest, true)
    } else {
        (combo, false)
    };
    let mut keys = Vec::new();
    if !rest.is_empty() || !plus {
        for (i, part) in rest.split('+').enumerate() {
            let name = part.trim();
            if name.is_empty() {
                return Err(ComboError::EmptyKey { index: i + 1 });
            }
            keys.push(named_key(name).ok_or_else(|| ComboError::Unknown(name.to_string()))?);
        }
    }
    if plus {
        keys.push(named_key("=").ok_or_else(|| ComboError::Unknown("+".into()))?);
    }
    let mut out = Vec::new();
    for &key in &keys {
        push_make(&mut out, key);
    }
    for &key in keys.iter().rev() {
        push_break(&mut out, key);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_uses_shift_for_capitals_and_symbols() {
        assert_eq!(type_text("a").unwrap(), [0x1C, 0xF0, 0x1C]);
        assert_eq!(
            type_text("A").unwrap(),
            [0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12]
        );
        assert_eq!(type_text("!\n").unwrap()[..2], [0x12, 0x16]);
        assert_eq!(type_text("é"), Err('é'));
    }

    #[test]
    fn combinations_release_in_reverse() {
        assert_eq!(
            press_combo("ctrl+alt+del").unwrap(),
            [0x14, 0x11, 0xE0, 0x71, 0xE0, 0xF0, 0x71, 0xF0, 0x11, 0xF0, 0x14]
        );
        assert_eq!(press_combo("Enter").unwrap(), [0x5A, 0xF0, 0x5A]);
        assert_eq!(
            press_combo("ctrl+frob"),
            Err(ComboError::Unknown("frob".into()))
        );
        assert_eq!(press_combo(""), Err(ComboError::Empty));
    }

    #[test]
    fn empty_key_names_are_refused_and_plus_is_spelled_plus_plus() {
        assert_eq!(press_combo("+++"), Err(ComboError::EmptyKey { index: 1 }));
        assert_eq!(press_combo("ctrl+"), Err(ComboError::EmptyKey { index: 2 }));
        assert_eq!(
            press_combo("ctrl++alt"),
            Err(ComboError::EmptyKey { index: 2 })
        );
        let ctrl_plus = press_combo("ctrl++").unwrap();
        assert_eq!(ctrl_plus, [0x14, 0x55, 0xF0, 0x55, 0xF0, 0x14]);
        assert_eq!(press_combo("+").unwrap(), press_combo("=").unwrap());
    }
}
