//! Unit tests of the arithmetic core.

use super::arith::*;
use super::float80::F80;
use super::round::*;

fn f(v: f64) -> F80 {
    F80::from_f64(v)
}

#[test]
fn add_basic() {
    let mut c = Ctx::new(0x037F);
    assert_eq!(arith(&mut c, Op::Add, f(1.5), f(2.25)), Some(f(3.75)));
    assert_eq!(c.flags, 0);
}
