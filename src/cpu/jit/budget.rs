//! The instruction budget as generated code keeps it in r11: the
//! instructions the running chain of blocks may still retire in the bits
//! from [`SHIFT`] up, and the chained hops taken so far (the `chained`
//! statistic) in the bits below. Going on into a block of `n`
//! instructions subtracts its cost, `n << SHIFT`, less 1 for a counted
//! hop (a chained block's own entry does, with its cost as an immediate):
//! the subtraction then adds the hop to the low bits, so counting costs no
//! memory read-modify-write. It borrows (`r11 < cost`) exactly when `n`
//! does not fit, and the entry then adds the cost back: the low bits never
//! all become ones, as a chain retires at most `MAX_CHAIN` (`mod.rs`)
//! instructions and every hop at least one. [`SHIFT`] is small enough for
//! a block's cost to be a 32-bit immediate (`sub r11, imm32`, shorter code
//! than a 64-bit constant in a register).

/// Where the instructions left start in a packed budget.
pub(super) const SHIFT: u32 = 25;

/// The largest budget a chain may be given.
pub(super) const MAX: u64 = 1 << 31;

/// The packed budget of `left` instructions and no hops.
pub(super) fn pack(left: u64) -> u64 {
    debug_assert!(left <= MAX);
    left << SHIFT
}

/// The instructions a packed budget leaves.
pub(super) fn left(packed: u64) -> u64 {
    packed >> SHIFT
}

/// The hops a packed budget has counted.
pub(super) fn hops(packed: u64) -> u64 {
    packed & ((1 << SHIFT) - 1)
}

/// What going on into a block of `insns` instructions takes from a packed
/// budget, counting a hop with `hop`.
pub(super) fn cost(insns: u32, hop: bool) -> u64 {
    (u64::from(insns) << SHIFT) - u64::from(hop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Taking a cost where it fits, as generated code does, leaves the
    /// instructions less and counts the hops; a cost that does not fit is
    /// refused, hops or none.
    #[test]
    fn a_packed_budget_counts_down_and_counts_hops() {
        let mut b = pack(10);
        for (insns, hop) in [(3, true), (1, false), (4, true), (2, true)] {
            let c = cost(insns, hop);
            assert!(b >= c);
            b -= c;
        }
        assert_eq!((left(b), hops(b)), (0, 3));
        assert!(b < cost(1, true) && b < cost(1, false));
        let b = pack(5) - cost(2, true);
        assert!(b >= cost(3, true) && b < cost(4, true));
        assert!(b >= cost(3, false) && b < cost(4, false));
    }
}
