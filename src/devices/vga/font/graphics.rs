//! The block graphics of code page 437, computed rather than drawn: the
//! shades 0xB0-0xB2 (a quarter, half and three quarters of the pixels lit,
//! in regular dither patterns), the single and double box-drawing lines
//! 0xB3-0xDA (described by which of their four arms exist and how heavy
//! each is), the blocks 0xDB-0xDF, and the small square and dots 0xF9,
//! 0xFA and 0xFE. Lines run through column 3 and row 7 (columns 2 and 4,
//! rows 6 and 8 when double) and reach the cell's edges, so neighbouring
//! cells join; the renderer's ninth column continues them across 9-dot cells.

use super::Glyph;

/// The single vertical line's column and horizontal line's row.
const CX: usize = 3;
const CY: usize = 7;

/// The arms of 0xB3..=0xDA in code order: up, down, left, right, each 0
/// (none), 1 (single line) or 2 (double line).
const BOX_ARMS: [[u8; 4]; 40] = [
    [1, 1, 0, 0], // B3 │
    [1, 1, 1, 0], // B4 ┤
    [1, 1, 2, 0], // B5 ╡
    [2, 2, 1, 0], // B6 ╢
    [0, 2, 1, 0], // B7 ╖
    [0, 1, 2, 0], // B8 ╕
    [2, 2, 2, 0], // B9 ╣
    [2, 2, 0, 0], // BA ║
    [0, 2, 2, 0], // BB ╗
    [2, 0, 2, 0], // BC ╝
    [2, 0, 1, 0], // BD ╜
    [1, 0, 2, 0], // BE ╛
    [0, 1, 1, 0], // BF ┐
    [1, 0, 0, 1], // C0 └
    [1, 0, 1, 1], // C1 ┴
    [0, 1, 1, 1], // C2 ┬
    [1, 1, 0, 1], // C3 ├
    [0, 0, 1, 1], // C4 ─
    [1, 1, 1, 1], // C5 ┼
    [1, 1, 0, 2], // C6 ╞
    [2, 2, 0, 1], // C7 ╟
    [2, 0, 0, 2], // C8 ╚
    [0, 2, 0, 2], // C9 ╔
    [2, 0, 2, 2], // CA ╩
    [0, 2, 2, 2], // CB ╦
    [2, 2, 0, 2], // CC ╠
    [0, 0, 2, 2], // CD ═
    [2, 2, 2, 2], // CE ╬
    [1, 0, 2, 2], // CF ╧
    [2, 0, 1, 1], // D0 ╨
    [0, 1, 2, 2], // D1 ╤
    [0, 2, 1, 1], // D2 ╥
    [2, 0, 0, 1], // D3 ╙
    [1, 0, 0, 2], // D4 ╘
    [0, 1, 0, 2], // D5 ╒
    [0, 2, 0, 1], // D6 ╓
    [2, 2, 1, 1], // D7 ╫
    [1, 1, 2, 2], // D8 ╪
    [1, 0, 1, 0], // D9 ┘
    [0, 1, 0, 1], // DA ┌
];

/// The glyph of a block-graphics code, or `None` for other codes.
pub(super) const fn glyph(code: u8) -> Option<Glyph> {
    Some(match code {
        0xB0 => shade(1),
        0xB1 => shade(2),
        0xB2 => shade(3),
        0xB3..=0xDA => box_lines(BOX_ARMS[(code - 0xB3) as usize]),
        0xDB => rect(0, 7, 0, 15),
        0xDC => rect(0, 7, 8, 15),
        0xDD => rect(0, 3, 0, 15),
        0xDE => rect(4, 7, 0, 15),
        0xDF => rect(0, 7, 0, 7),
        0xF9 => rect(3, 4, 7, 8),
        0xFA => rect(3, 4, 8, 8),
        0xFE => rect(1, 5, 5, 10),
        _ => return None,
    })
}

/// `quarters` of every four pixels lit: 1 and 3 alternate the lit (or
/// dark) pixel by two columns from row to row, 2 is a checkerboard.
const fn shade(quarters: u8) -> Glyph {
    let mut g = [0u8; 16];
    let mut y = 0;
    while y < 16 {
        g[y] = match quarters {
            1 if y % 2 == 0 => 0x88,
            1 => 0x22,
            2 if y % 2 == 0 => 0xAA,
            2 => 0x55,
            _ if y % 2 == 0 => !0x88,
            _ => !0x22,
        };
        y += 1;
    }
    g
}

/// A filled rectangle, columns `x0..=x1` and rows `y0..=y1`.
const fn rect(x0: usize, x1: usize, y0: usize, y1: usize) -> Glyph {
    let mut g = [0u8; 16];
    let mut y = y0;
    while y <= y1 {
        g[y] = row_bits(x0, x1);
        y += 1;
    }
    g
}

const fn row_bits(x0: usize, x1: usize) -> u8 {
    let mut bits = 0u8;
    let mut x = x0;
    while x <= x1 {
        bits |= 0x80 >> x;
        x += 1;
    }
    bits
}

const fn hline(g: &mut Glyph, y: usize, x0: usize, x1: usize) {
    g[y] |= row_bits(x0, x1);
}

const fn vline(g: &mut Glyph, x: usize, y0: usize, y1: usize) {
    let mut y = y0;
    while y <= y1 {
        g[y] |= 0x80 >> x;
        y += 1;
    }
}

const fn max(a: u8, b: u8) -> u8 {
    if a > b {
        a
    } else {
        b
    }
}

/// Lines for the arms `[up, down, left, right]`. The two arms on one axis
/// never differ in weight (in code page 437 they do not), so a character is
/// a vertical weight and a horizontal weight. Where double lines meet
/// double lines, each of the two parallel lines stops at the other axis's
/// line on its own side, or runs on through when there is no arm there:
/// four corners for ╬, a straight outer edge for ╦. Where a single line
/// meets a double line, the single line reaches the nearer of the pair when
/// the double line runs through, and the farther one when it turns a
/// corner, so both halves of the pair are joined.
const fn box_lines(arms: [u8; 4]) -> Glyph {
    let (up, down, left, right) = (arms[0] > 0, arms[1] > 0, arms[2] > 0, arms[3] > 0);
    let v = max(arms[0], arms[1]);
    let h = max(arms[2], arms[3]);
    let mut g = [0u8; 16];
    // Vertical lines.
    if v == 1 {
        let (top, bottom) = if h == 2 {
            let through = left && right;
            (
                if up {
                    0
                } else if through {
                    CY + 1
                } else {
                    CY - 1
                },
                if down {
                    15
                } else if through {
                    CY - 1
                } else {
                    CY + 1
                },
            )
        } else {
            (if up { 0 } else { CY }, if down { 15 } else { CY })
        };
        vline(&mut g, CX, top, bottom);
    } else if v == 2 {
        let sides = [(CX - 1, left), (CX + 1, right)];
        let mut i = 0;
        while i < 2 {
            let (x, arm_on_this_side) = sides[i];
            if h == 2 && arm_on_this_side {
                if up {
                    vline(&mut g, x, 0, CY - 1);
                }
                if down {
                    vline(&mut g, x, CY + 1, 15);
                }
            } else if h == 2 {
                vline(
                    &mut g,
                    x,
                    if up { 0 } else { CY - 1 },
                    if down { 15 } else { CY + 1 },
                );
            } else {
                vline(
                    &mut g,
                    x,
                    if up { 0 } else { CY },
                    if down { 15 } else { CY },
                );
            }
            i += 1;
        }
    }
    // Horizontal lines, the same rules turned a quarter.
    if h == 1 {
        let (first, last) = if v == 2 {
            let through = up && down;
            (
                if left {
                    0
                } else if through {
                    CX + 1
                } else {
                    CX - 1
                },
                if right {
                    7
                } else if through {
                    CX - 1
                } else {
                    CX + 1
                },
            )
        } else {
            (if left { 0 } else { CX }, if right { 7 } else { CX })
        };
        hline(&mut g, CY, first, last);
    } else if h == 2 {
        let sides = [(CY - 1, up), (CY + 1, down)];
        let mut i = 0;
        while i < 2 {
            let (y, arm_on_this_side) = sides[i];
            if v == 2 && arm_on_this_side {
                if left {
                    hline(&mut g, y, 0, CX - 1);
                }
                if right {
                    hline(&mut g, y, CX + 1, 7);
                }
            } else if v == 2 {
                hline(
                    &mut g,
                    y,
                    if left { 0 } else { CX - 1 },
                    if right { 7 } else { CX + 1 },
                );
            } else {
                hline(
                    &mut g,
                    y,
                    if left { 0 } else { CX },
                    if right { 7 } else { CX },
                );
            }
            i += 1;
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(g: &Glyph) -> Vec<String> {
        g.iter()
            .map(|row| {
                (0..8)
                    .map(|x| if row & (0x80 >> x) != 0 { '#' } else { '.' })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn single_lines_cross_at_the_centre() {
        let g = glyph(0xC5).unwrap();
        let a = art(&g);
        assert_eq!(a[0], "...#....");
        assert_eq!(a[7], "########");
        assert_eq!(a[15], "...#....");
    }

    #[test]
    fn double_cross_is_four_corners() {
        let a = art(&glyph(0xCE).unwrap());
        assert_eq!(a[0], "..#.#...");
        assert_eq!(a[6], "###.####");
        assert_eq!(a[7], "........");
        assert_eq!(a[8], "###.####");
        assert_eq!(a[15], "..#.#...");
    }

    #[test]
    fn double_corner_nests() {
        let a = art(&glyph(0xC9).unwrap()); // ╔
        assert_eq!(a[5], "........");
        assert_eq!(a[6], "..######");
        assert_eq!(a[7], "..#.....");
        assert_eq!(a[8], "..#.####");
        assert_eq!(a[9], "..#.#...");
    }

    #[test]
    fn single_meets_double() {
        let a = art(&glyph(0xB7).unwrap()); // ╖: single left arm to the far line
        assert_eq!(a[7], "#####...");
        assert_eq!(a[8], "..#.#...");
        let a = art(&glyph(0xB6).unwrap()); // ╢: to the near line only
        assert_eq!(a[7], "###.#...");
        let a = art(&glyph(0xD1).unwrap()); // ╤: single down from the lower line
        assert_eq!(a[6], "########");
        assert_eq!(a[7], "........");
        assert_eq!(a[8], "########");
        assert_eq!(a[9], "...#....");
    }

    #[test]
    fn shades_and_blocks() {
        let count = |g: Glyph| g.iter().map(|r| r.count_ones()).sum::<u32>();
        assert_eq!(count(glyph(0xB0).unwrap()), 32);
        assert_eq!(count(glyph(0xB1).unwrap()), 64);
        assert_eq!(count(glyph(0xB2).unwrap()), 96);
        assert_eq!(count(glyph(0xDB).unwrap()), 128);
        assert_eq!(glyph(0xDC).unwrap()[7..9], [0x00, 0xFF]);
        assert_eq!(glyph(0xDD).unwrap()[0], 0xF0);
        assert_eq!(glyph(0xDE).unwrap()[15], 0x0F);
        assert_eq!(glyph(0x41), None);
    }
}
