//! Test kit for this crate and the crates above it (feature `dev`): the approximations of
//! [`approx`](crate::approx) evaluated in real arithmetic, with a first-order bound on
//! what the truncations of a shared run can add.
//!
//! A truncation on shares returns the exact quotient rounded down or up (§5.2–5.3 of
//! docs/PROTOCOLS.md): it adds an error `ε` with `|ε| < 1` unit. A [`Rounded`] value is
//! the result of the same formula in real arithmetic, with the derivative of that result
//! with respect to each truncation's `ε`; [`Rounded::bound`] is `Σ |∂/∂ε_i|`, the
//! largest first-order deviation any run of the formula with such truncations can show.
//! A shared result outside `value ± bound` (plus a second-order margin) did not compute
//! the formula.

use std::collections::BTreeMap;
use syft_fixed::FixedEncoder;

/// A value of a fixed-point formula: its exact value and its sensitivity to every
/// truncation error so far (in real units per unit of error).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rounded {
    value: f64,
    partials: BTreeMap<u64, f64>,
}

impl Rounded {
    /// An exactly known value (an input, a public constant).
    #[must_use]
    pub fn exact(value: f64) -> Self {
        Self { value, partials: BTreeMap::new() }
    }

    /// The value in real arithmetic.
    #[must_use]
    pub fn value(&self) -> f64 {
        self.value
    }

    /// `Σ |∂value/∂ε_i|` over the truncations, each error at most one unit.
    #[must_use]
    pub fn bound(&self) -> f64 {
        self.partials.values().map(|d| d.abs()).sum()
    }

    fn combine(&self, a: f64, other: &Self, b: f64, value: f64) -> Self {
        let mut partials = BTreeMap::new();
        for (&k, &d) in &self.partials {
            *partials.entry(k).or_insert(0.0) += a * d;
        }
        for (&k, &d) in &other.partials {
            *partials.entry(k).or_insert(0.0) += b * d;
        }
        Self { value, partials }
    }

    /// `self + other`.
    #[must_use]
    pub fn add(&self, other: &Self) -> Self {
        self.combine(1.0, other, 1.0, self.value + other.value)
    }

    /// `self − other`.
    #[must_use]
    pub fn sub(&self, other: &Self) -> Self {
        self.combine(1.0, other, -1.0, self.value - other.value)
    }

    /// `self · other` (exact; a shared product is followed by [`Roundings::round`]).
    #[must_use]
    pub fn mul(&self, other: &Self) -> Self {
        self.combine(other.value, other, self.value, self.value * other.value)
    }

    /// `self · c` for a constant.
    #[must_use]
    pub fn scale(&self, c: f64) -> Self {
        self.combine(c, &Self::default(), 0.0, self.value * c)
    }

    /// `self + c` for a constant.
    #[must_use]
    pub fn add_const(&self, c: f64) -> Self {
        let mut out = self.clone();
        out.value += c;
        out
    }
}

/// Hands out the truncation errors of one computation, at one encoding.
#[derive(Clone, Debug)]
pub struct Roundings {
    enc: FixedEncoder,
    next: u64,
}

impl Roundings {
    /// Truncations to units of `enc`.
    #[must_use]
    pub fn new(enc: FixedEncoder) -> Self {
        Self { enc, next: 0 }
    }

    /// The encoder.
    #[must_use]
    pub fn encoder(&self) -> FixedEncoder {
        self.enc
    }

    /// `x` after a truncation: a fresh error of at most one unit.
    pub fn round(&mut self, x: &Rounded) -> Rounded {
        let mut out = x.clone();
        out.partials.insert(self.next, self.enc.resolution());
        self.next += 1;
        out
    }

    /// A public constant as the parties hold it: its encoding, decoded.
    #[must_use]
    pub fn constant(&self, c: f64) -> Rounded {
        Rounded::exact(self.enc.encode_value(c, 0).map_or(c, |z| self.enc.decode_value(z)))
    }
}

/// [`Party::exp`](crate::Party::exp)'s formula: `t = round(x/2^8) + 1`, then eight
/// rounded squarings.
pub fn exp(r: &mut Roundings, x: &Rounded) -> Rounded {
    let mut t = r.round(&x.scale(1.0 / f64::from(1u32 << crate::approx::EXP_SQUARINGS))).add_const(1.0);
    for _ in 0..crate::approx::EXP_SQUARINGS {
        t = r.round(&t.mul(&t));
    }
    t
}

/// [`Party::reciprocal`](crate::Party::reciprocal)'s formula:
/// `y ← round(y·(2 − round(x·y)))` from the encoded `init`.
pub fn reciprocal(r: &mut Roundings, x: &Rounded, init: f64, iterations: usize) -> Rounded {
    let mut y = r.constant(init);
    for _ in 0..iterations {
        let xy = r.round(&x.mul(&y));
        let u = xy.scale(-1.0).add_const(2.0);
        y = r.round(&y.mul(&u));
    }
    y
}

/// [`Party::ln`](crate::Party::ln)'s formula: `y ← y + round(x·exp(−y)) − 1` from
/// `y = 1.5`.
pub fn ln(r: &mut Roundings, x: &Rounded, iterations: usize) -> Rounded {
    let mut y = r.constant(crate::approx::LN_START);
    for _ in 0..iterations {
        let inv = exp(r, &y.scale(-1.0));
        y = y.add(&r.round(&x.mul(&inv))).add_const(-1.0);
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_follow_the_derivatives() {
        let mut r = Roundings::new(FixedEncoder::PYSYFT);
        let x = Rounded::exact(3.0);
        // round(x·x): one error, coefficient 1 unit.
        let a = r.round(&x.mul(&x));
        assert!((a.bound() - 0.001).abs() < 1e-12);
        // a·a doubles a's error (2a·δ) and the new truncation adds one unit.
        let b = r.round(&a.mul(&a));
        assert!((b.bound() - (2.0 * 9.0 * 0.001 + 0.001)).abs() < 1e-9);
        // a − a cancels exactly.
        assert_eq!(a.sub(&a).bound(), 0.0);
        assert_eq!(exp(&mut r, &Rounded::exact(0.0)).value(), 1.0);
    }
}
