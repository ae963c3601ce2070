//! Numerical approximations on shared fixed-point values, party-local
//! (docs/PROTOCOLS.md §11): the exponential by the limit `(1 + x/2^8)^(2^8)`, the
//! reciprocal by Newton–Raphson and the natural logarithm by Newton's method on
//! `e^y = x`.
//!
//! Each function is one call at every computing party ([`Party::exp`],
//! [`Party::reciprocal`], [`Party::ln`]) on its share of a tensor encoded by a
//! [`FixedEncoder`]; it returns the party's share of the result at the same encoding.
//! The dealer serves the requests that the matching [`exp_requests`],
//! [`reciprocal_requests`] or [`ln_requests`] lists, in that order (one
//! [`serve_request`](crate::serve_request) each, or ahead of time with
//! [`preprocess`](crate::preprocess)).
//!
//! The algorithm of each function is written once, over the steps it is made of
//! (products, squares, truncations and local operations): a party runs the steps on its
//! shares, the request lists are the same steps recorded without running them, so the
//! two cannot disagree.
//!
//! The algorithms, their iteration counts and so their accuracy are those the
//! orchestrator of `syft-worker` ran op by op (`SharedTensor::exp`, `reciprocal`, `ln`).
//! Run at the parties, a product by a *public* value is local, so the first Newton
//! iteration of `reciprocal` and of `ln`, whose iterate is still the public start, sends
//! nothing; squares use square pairs (half the bytes of a product).

use crate::error::{Result, SpdzError};
use crate::material::Request;
use crate::protocols::Party;
use syft_fixed::{FixedEncoder, Rounding, divide};
use syft_ring::{Tensor, numel};

/// Squarings of [`Party::exp`]: `e^x ≈ (1 + x/2^8)^(2^8)`.
pub const EXP_SQUARINGS: u32 = 8;

/// The public start of [`Party::ln`]'s Newton iteration.
pub const LN_START: f64 = 1.5;

/// The most iterations [`Party::reciprocal`] and [`Party::ln`] accept (both converge in
/// well under ten from a suitable start; a larger count is a mistake, not a need).
pub const MAX_ITERATIONS: usize = 64;

/// The steps the approximations are made of, on values of one shape: run by a party on
/// its shares ([`OnShares`]), recorded as dealer requests ([`Planner`]) or computed in
/// the clear on a public scalar ([`Clear`]).
trait Steps {
    /// A value: a share, nothing (a plan), or a public ring element.
    type V: Clone;
    /// The public constant `c` (a raw ring element) as a value: party 0 holds it.
    fn public(&self, c: u64) -> Self::V;
    /// `x · c` for a public raw ring element `c` (no rescaling; local).
    fn mul_public(&self, x: &Self::V, c: u64) -> Self::V;
    /// `x + c` for a public raw ring element `c` (party 0 adds it; local).
    fn add_public(&self, x: Self::V, c: u64) -> Self::V;
    /// `−x` (local).
    fn neg(&self, x: &Self::V) -> Self::V;
    /// `x + y` (local).
    fn add(&self, x: &Self::V, y: &Self::V) -> Result<Self::V>;
    /// `x ⊙ x` (a square pair, one round).
    fn square(&mut self, x: &Self::V) -> Result<Self::V>;
    /// `x ⊙ y` (a Beaver triple, one round).
    fn mul(&mut self, x: &Self::V, y: &Self::V) -> Result<Self::V>;
    /// `x / scale`, to within one unit (local for two parties, a truncation pair
    /// otherwise).
    fn truncate(&mut self, x: Self::V, scale: u64) -> Result<Self::V>;
}

/// A party's shares, all of one shape.
struct OnShares<'p, 'a> {
    party: &'p mut Party<'a>,
    shape: Vec<usize>,
}

impl Steps for OnShares<'_, '_> {
    type V = Tensor<u64>;
    fn public(&self, c: u64) -> Tensor<u64> {
        Tensor::full(&self.shape, if self.party.index() == 0 { c } else { 0 })
    }
    fn mul_public(&self, x: &Tensor<u64>, c: u64) -> Tensor<u64> {
        x.map(|v| v.wrapping_mul(c))
    }
    fn add_public(&self, mut x: Tensor<u64>, c: u64) -> Tensor<u64> {
        if self.party.index() == 0 {
            x.map_inplace(|v| v.wrapping_add(c));
        }
        x
    }
    fn neg(&self, x: &Tensor<u64>) -> Tensor<u64> {
        x.neg()
    }
    fn add(&self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(x.add(y)?)
    }
    fn square(&mut self, x: &Tensor<u64>) -> Result<Tensor<u64>> {
        self.party.square(x)
    }
    fn mul(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        self.party.mul(x, y)
    }
    fn truncate(&mut self, x: Tensor<u64>, scale: u64) -> Result<Tensor<u64>> {
        self.party.truncate_owned(x, scale)
    }
}

/// Records the dealer requests of the steps, without running them.
struct Planner {
    shape: Vec<usize>,
    parties: usize,
    requests: Vec<Request>,
}

impl Steps for Planner {
    type V = ();
    fn public(&self, _: u64) {}
    fn mul_public(&self, (): &(), _: u64) {}
    fn add_public(&self, (): (), _: u64) {}
    fn neg(&self, (): &()) {}
    fn add(&self, (): &(), (): &()) -> Result<()> {
        Ok(())
    }
    fn square(&mut self, (): &()) -> Result<()> {
        self.requests.push(Request::Square { shape: self.shape.clone() });
        Ok(())
    }
    fn mul(&mut self, (): &(), (): &()) -> Result<()> {
        self.requests.push(Request::Triple(crate::material::Product::Mul { shape: self.shape.clone() }));
        Ok(())
    }
    fn truncate(&mut self, (): (), scale: u64) -> Result<()> {
        if self.parties > 2 {
            self.requests.push(Request::Trunc { shape: self.shape.clone(), scale });
        }
        Ok(())
    }
}

/// A public scalar, with products rounded to the nearest unit (what a shared truncation
/// returns on average).
struct Clear;

impl Steps for Clear {
    type V = u64;
    fn public(&self, c: u64) -> u64 {
        c
    }
    fn mul_public(&self, x: &u64, c: u64) -> u64 {
        x.wrapping_mul(c)
    }
    fn add_public(&self, x: u64, c: u64) -> u64 {
        x.wrapping_add(c)
    }
    fn neg(&self, x: &u64) -> u64 {
        x.wrapping_neg()
    }
    fn add(&self, x: &u64, y: &u64) -> Result<u64> {
        Ok(x.wrapping_add(*y))
    }
    fn square(&mut self, x: &u64) -> Result<u64> {
        Ok(x.wrapping_mul(*x))
    }
    fn mul(&mut self, x: &u64, y: &u64) -> Result<u64> {
        Ok(x.wrapping_mul(*y))
    }
    fn truncate(&mut self, x: u64, scale: u64) -> Result<u64> {
        Ok(divide(x, scale, Rounding::Nearest))
    }
}

// ---------------------------------------------------------------------------------------
// The algorithms, once.

/// `e^x ≈ (1 + x/2^8)^(2^8)`: one truncation by `2^8`, a public 1 added, eight squarings
/// each truncated by the scale.
fn exp_steps<S: Steps>(s: &mut S, x: &S::V, enc: FixedEncoder) -> Result<S::V> {
    let scale = enc.scale();
    let t = s.truncate(x.clone(), 1 << EXP_SQUARINGS)?;
    let mut t = s.add_public(t, scale);
    for _ in 0..EXP_SQUARINGS {
        let sq = s.square(&t)?;
        t = s.truncate(sq, scale)?;
    }
    Ok(t)
}

/// Newton–Raphson `y ← y·(2 − x·y)` from the public `y0` (raw): the first iteration
/// multiplies by the public start and is local.
fn reciprocal_steps<S: Steps>(s: &mut S, x: &S::V, enc: FixedEncoder, y0: u64, iterations: usize) -> Result<S::V> {
    let scale = enc.scale();
    let two = scale.wrapping_mul(2);
    if iterations == 0 {
        return Ok(s.public(y0));
    }
    let xy = s.truncate(s.mul_public(x, y0), scale)?;
    let u = s.add_public(s.neg(&xy), two);
    let mut y = s.truncate(s.mul_public(&u, y0), scale)?;
    for _ in 1..iterations {
        let xy = s.mul(x, &y)?;
        let xy = s.truncate(xy, scale)?;
        let u = s.add_public(s.neg(&xy), two);
        let yu = s.mul(&y, &u)?;
        y = s.truncate(yu, scale)?;
    }
    Ok(y)
}

/// Newton's method on `e^y = x`: `y ← y − 1 + x·e^{−y}` from the public `y0` (raw). The
/// first iteration's `e^{−y0}` is public (computed by [`exp_steps`] in the clear) and its
/// product with `x` local.
fn ln_steps<S: Steps>(s: &mut S, x: &S::V, enc: FixedEncoder, y0: u64, iterations: usize) -> Result<S::V> {
    let scale = enc.scale();
    let minus_one = scale.wrapping_neg();
    if iterations == 0 {
        return Ok(s.public(y0));
    }
    let inv0 = exp_steps(&mut Clear, &y0.wrapping_neg(), enc)?;
    let p = s.truncate(s.mul_public(x, inv0), scale)?;
    let mut y = s.add_public(p, y0.wrapping_add(minus_one));
    for _ in 1..iterations {
        let minus_y = s.neg(&y);
        let inv = exp_steps(s, &minus_y, enc)?;
        let p = s.mul(x, &inv)?;
        let p = s.truncate(p, scale)?;
        y = s.add_public(s.add(&y, &p)?, minus_one);
    }
    Ok(y)
}

// ---------------------------------------------------------------------------------------
// Arguments.

/// The encoder must have a fractional part: truncation divides by its scale.
fn check_encoder(op: &'static str, enc: FixedEncoder) -> Result<()> {
    if enc.scale() < 2 {
        return Err(SpdzError::InvalidArgument {
            op,
            reason: format!("needs a fixed-point encoding with a fractional part, got {enc}"),
        });
    }
    Ok(())
}

fn check_iterations(op: &'static str, iterations: usize) -> Result<()> {
    if iterations > MAX_ITERATIONS {
        return Err(SpdzError::InvalidArgument {
            op,
            reason: format!("{iterations} iterations, at most {MAX_ITERATIONS} are allowed"),
        });
    }
    Ok(())
}

fn check_parties(parties: usize) -> Result<()> {
    if parties < 2 {
        return Err(SpdzError::TooFewParties { parties });
    }
    Ok(())
}

/// Checks `reciprocal`'s arguments; returns the encoded start.
fn reciprocal_start(enc: FixedEncoder, init: f64, iterations: usize) -> Result<u64> {
    check_encoder("reciprocal", enc)?;
    check_iterations("reciprocal", iterations)?;
    let invalid = |reason: String| SpdzError::InvalidArgument { op: "reciprocal", reason };
    if !(init.is_finite() && init > 0.0) {
        return Err(invalid(format!("the start {init} must be a positive number")));
    }
    let y0 = enc.encode_value(init, 0)?;
    if y0 == 0 {
        return Err(invalid(format!("the start {init} is zero at {enc}")));
    }
    Ok(y0)
}

/// Checks `ln`'s arguments; returns the encoded start.
fn ln_start(enc: FixedEncoder, iterations: usize) -> Result<u64> {
    check_encoder("ln", enc)?;
    check_iterations("ln", iterations)?;
    Ok(enc.encode_value(LN_START, 0)?)
}

/// Records what `steps` asks of the dealer for a tensor of `shape` among `parties`.
fn plan(shape: &[usize], parties: usize, steps: impl FnOnce(&mut Planner) -> Result<()>) -> Result<Vec<Request>> {
    check_parties(parties)?;
    let mut planner = Planner { shape: shape.to_vec(), parties, requests: Vec::new() };
    if numel(shape) > 0 {
        steps(&mut planner)?;
    }
    Ok(planner.requests)
}

// ---------------------------------------------------------------------------------------
// The party's side.

impl Party<'_> {
    /// Runs `steps` on this party's share `x`; nothing is sent for an empty tensor.
    fn approx(
        &mut self,
        x: &Tensor<u64>,
        steps: impl FnOnce(&mut OnShares<'_, '_>, &Tensor<u64>) -> Result<Tensor<u64>>,
    ) -> Result<Tensor<u64>> {
        if x.is_empty() {
            return Ok(x.clone());
        }
        let mut on = OnShares { party: self, shape: x.shape().to_vec() };
        steps(&mut on, x)
    }

    /// `e^x` elementwise, for `x` encoded by `enc` (the result too), by the limit
    /// `(1 + x/2^8)^(2^8)` (CrypTen's method): `t = x/2^8 + 1` (a truncation by `2^8`),
    /// then [`EXP_SQUARINGS`] squarings, each truncated by the scale `s`.
    ///
    /// **Accuracy.** The limit's own relative error is `1 − e^{−x²/2^9}` to first order
    /// (`x²/2^9`: 0.2 % at `|x| = 1`, 3 % at `|x| = 4`). Each truncation is off by less than
    /// a unit: the first (`x/2^8`) moves the result by a relative `2^8/s` at most, and each
    /// later one by half the one before, below `2^9/s` in all (5.1 % at `s = 10^4`, 0.8 %
    /// at `s = 2^16`; results below a few units are only good to a few units). Valid for
    /// `x ≥ −2^8` (below, `1 + x/2^8` is negative and the result no longer decays); above,
    /// the last square `≈ e^x·s²` must fit (`e^x < 2^63/s²`, `x < 25` at `s = 10^4`), and its
    /// truncation fails with probability about `e^x·s²/2^64` per element
    /// (docs/PROTOCOLS.md §5.2).
    ///
    /// **Cost** for `N` elements. Two parties: 8 rounds (one per square), `64N` bytes to
    /// the peer, the dealer `64N` bytes to the last party. `n ≥ 3` parties: 17 rounds
    /// (each of the 9 truncations takes a round), `136N` bytes to each peer, the dealer
    /// `136N` bytes. The dealer's side: [`exp_requests`].
    pub fn exp(&mut self, x: &Tensor<u64>, enc: FixedEncoder) -> Result<Tensor<u64>> {
        check_encoder("exp", enc)?;
        self.approx(x, |s, x| exp_steps(s, x, enc))
    }

    /// `1/x` elementwise, for `x` encoded by `enc` (the result too), by Newton–Raphson
    /// `y ← y·(2 − x·y)` from the public start `y = init`, `iterations` times.
    ///
    /// It converges when `0 < init < 2/x`, quadratically: the relative error
    /// `1 − x·y` is squared by every iteration, so from `init = 1/k` for `x ∈ [1, k]` eight
    /// iterations reach the fixed-point resolution for `k` up to about 30 (`(1 − 1/k)^256`).
    /// After convergence the result is within a few units of `1/x`.
    ///
    /// The first iteration multiplies by the public start and is local. **Cost** for `N`
    /// elements and `I ≥ 1` iterations: two parties: `2(I − 1)` rounds, `32N(I − 1)`
    /// bytes to the peer, the dealer `16N(I − 1)`. `n ≥ 3` parties: `2 + 4(I − 1)` rounds,
    /// `16N + 48N(I − 1)` bytes to each peer, the dealer `16N + 32N(I − 1)`. Zero
    /// iterations return the start. The dealer's side: [`reciprocal_requests`].
    ///
    /// Errors, before any message: `init` not a positive number or zero at `enc`, more
    /// than [`MAX_ITERATIONS`], an encoder without a fractional part.
    pub fn reciprocal(
        &mut self,
        x: &Tensor<u64>,
        enc: FixedEncoder,
        init: f64,
        iterations: usize,
    ) -> Result<Tensor<u64>> {
        let y0 = reciprocal_start(enc, init, iterations)?;
        self.approx(x, |s, x| reciprocal_steps(s, x, enc, y0, iterations))
    }

    /// `ln(x)` elementwise, for `x` encoded by `enc` (the result too), by Newton's method
    /// on `e^y = x`: `y ← y − 1 + x·e^{−y}` from `y = 1.5` ([`LN_START`]), `iterations`
    /// times, with [`exp`](Self::exp)'s approximation of `e^{−y}`.
    ///
    /// **Accuracy.** The iteration converges to the root of `x·E(−y) = 1` for the
    /// approximated exponential `E`: `ln x − (ln x)²/2^9` to first order for the limit,
    /// moved by up to `2^9/s` by `E`'s truncations. After 6 iterations the result is within
    /// `(ln x)²/2^9 + 2^9/s + 0.005` of `ln x` for `x ∈ [0.2, 25]` (0.08 at `s = 10^4`,
    /// 0.035 at `s = 2^16`). Far above that range 6 iterations do not converge (from
    /// `y = 1.5` the iterate overshoots to about `0.22·x` and then decreases by about 1 per
    /// iteration): `x = 40` gives 4.6 instead of 3.7.
    ///
    /// The first iteration's `e^{−1.5}` is public (the same limit, computed in the clear
    /// with products rounded to the nearest unit) and its product with `x` is local.
    /// **Cost** for `N` elements and `I ≥ 1` iterations: two parties: `9(I − 1)` rounds
    /// (an exponential and a product per iteration), `80N(I − 1)` bytes to the peer, the
    /// dealer `72N(I − 1)`. `n ≥ 3` parties: `1 + 19(I − 1)` rounds, `8N + 160N(I − 1)`
    /// bytes to each peer, the dealer `8N + 152N(I − 1)`. The dealer's side:
    /// [`ln_requests`].
    ///
    /// Errors, before any message: more than [`MAX_ITERATIONS`], an encoder without a
    /// fractional part.
    pub fn ln(&mut self, x: &Tensor<u64>, enc: FixedEncoder, iterations: usize) -> Result<Tensor<u64>> {
        let y0 = ln_start(enc, iterations)?;
        self.approx(x, |s, x| ln_steps(s, x, enc, y0, iterations))
    }
}

// ---------------------------------------------------------------------------------------
// The dealer's side.

/// The dealer requests of [`Party::exp`] on a tensor of `shape` among `parties`
/// computing parties, in order: the dealer serves each with
/// [`serve_request`](crate::serve_request). None for an empty tensor.
pub fn exp_requests(shape: &[usize], parties: usize, enc: FixedEncoder) -> Result<Vec<Request>> {
    check_encoder("exp", enc)?;
    plan(shape, parties, |p| exp_steps(p, &(), enc))
}

/// The dealer requests of [`Party::reciprocal`] (same arguments, same errors), in order.
pub fn reciprocal_requests(
    shape: &[usize],
    parties: usize,
    enc: FixedEncoder,
    init: f64,
    iterations: usize,
) -> Result<Vec<Request>> {
    let y0 = reciprocal_start(enc, init, iterations)?;
    plan(shape, parties, |p| reciprocal_steps(p, &(), enc, y0, iterations))
}

/// The dealer requests of [`Party::ln`] (same arguments, same errors), in order.
pub fn ln_requests(shape: &[usize], parties: usize, enc: FixedEncoder, iterations: usize) -> Result<Vec<Request>> {
    let y0 = ln_start(enc, iterations)?;
    plan(shape, parties, |p| ln_steps(p, &(), enc, y0, iterations))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn enc() -> FixedEncoder {
        FixedEncoder::new(10, 4).unwrap()
    }

    #[test]
    fn plans_list_the_steps() {
        let shape = [3, 2];
        let two = exp_requests(&shape, 2, enc()).unwrap();
        assert_eq!(two, vec![Request::Square { shape: shape.to_vec() }; 8]);
        let three = exp_requests(&shape, 3, enc()).unwrap();
        assert_eq!(three.len(), 17);
        assert_eq!(three[0], Request::Trunc { shape: shape.to_vec(), scale: 256 });
        let r = reciprocal_requests(&shape, 2, enc(), 0.1, 8).unwrap();
        assert_eq!(r.len(), 14);
        assert_eq!(reciprocal_requests(&shape, 3, enc(), 0.1, 8).map(|r| r.len()).ok(), Some(2 + 4 * 7));
        assert_eq!(ln_requests(&shape, 2, enc(), 6).map(|r| r.len()).ok(), Some(9 * 5));
        assert_eq!(ln_requests(&shape, 3, enc(), 6).map(|r| r.len()).ok(), Some(1 + 19 * 5));
        assert_eq!(ln_requests(&[0, 4], 2, enc(), 6).map(|r| r.len()).ok(), Some(0));
    }

    #[test]
    fn bad_arguments_are_errors() {
        let e = enc();
        assert!(reciprocal_requests(&[2], 2, e, 0.0, 8).is_err());
        assert!(reciprocal_requests(&[2], 2, e, -1.0, 8).is_err());
        assert!(reciprocal_requests(&[2], 2, e, f64::NAN, 8).is_err());
        assert!(reciprocal_requests(&[2], 2, e, 1e-9, 8).is_err(), "zero at the scale");
        assert!(reciprocal_requests(&[2], 2, e, 0.1, MAX_ITERATIONS + 1).is_err());
        assert!(ln_requests(&[2], 2, e, MAX_ITERATIONS + 1).is_err());
        assert!(exp_requests(&[2], 1, e).is_err());
        let integers = FixedEncoder::new(10, 0).unwrap();
        assert!(exp_requests(&[2], 2, integers).is_err());
        assert!(ln_requests(&[2], 2, integers, 6).is_err());
    }

    #[test]
    fn the_public_exponential_is_the_limit() {
        let e = enc();
        for v in [-1.5f64, -0.5, 0.0, 1.0] {
            let raw = e.encode_value(v, 0).unwrap();
            let got = e.decode_value(exp_steps(&mut Clear, &raw, e).unwrap());
            let limit = (1.0 + v / 256.0).powi(256);
            // Rounding t = 1 + x/256 to a unit is a relative error below 256/s.
            assert!((got - limit).abs() <= 0.03 * limit, "e^{v}: {got} vs {limit}");
        }
    }
}
