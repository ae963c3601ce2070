//! Property tests of the encoder and of `Fixed` arithmetic against an exact integer oracle.

use proptest::prelude::*;
use syft_fixed::{Fixed, FixedEncoder, FixedError, IntBackend, PlainRing, Rounding};
use syft_ring::{Tensor, from_signed, signed};

fn encoders() -> impl Strategy<Value = FixedEncoder> {
    prop::sample::select(vec![(10u64, 3u32), (10, 4), (2, 13), (2, 16), (10, 0)])
        .prop_filter_map("valid encoder", |(base, precision)| FixedEncoder::new(base, precision).ok())
}

fn roundings() -> impl Strategy<Value = Rounding> {
    prop::sample::select(vec![Rounding::Floor, Rounding::Nearest])
}

/// The exact quotient a/s of the oracle, in i128, rounded as `r`.
fn oracle_div(a: i128, s: i128, r: Rounding) -> i128 {
    let (q, rem) = (a.div_euclid(s), a.rem_euclid(s));
    match r {
        Rounding::Floor => q,
        Rounding::Nearest => {
            if 2 * rem > s || (2 * rem == s && q >= 0) {
                q + 1
            } else {
                q
            }
        }
    }
}

proptest! {
    #[test]
    fn decode_encode_is_within_half_a_unit(enc in encoders(), v in -1.0e6f64..1.0e6) {
        let z = enc.encode_value(v, 0).unwrap();
        let back = enc.decode_value(z);
        // Half a unit, plus the f64 rounding of v · s and of the division.
        let tol = 0.5 / enc.scale() as f64 + 4.0 * f64::EPSILON * v.abs().max(1.0);
        prop_assert!((back - v).abs() <= tol, "{v} -> {z} -> {back}");
        // Exact integers multiples of the resolution round-trip exactly.
        let k = (v * enc.scale() as f64).trunc();
        let exact = k / enc.scale() as f64;
        prop_assert_eq!(signed(enc.encode_value(exact, 0).unwrap()) as f64, k);
    }

    #[test]
    fn encoding_tensors_and_f32(enc in encoders(), vs in prop::collection::vec(-1.0e4f32..1.0e4, 0..20)) {
        let t = Tensor::from_vec(vs.clone());
        let z = enc.encode(&t).unwrap();
        let back: Tensor<f32> = enc.decode(&z);
        for (&v, &b) in vs.iter().zip(back.data()) {
            // Half a unit from encoding, plus the f32 rounding of the decoded value.
            let tol = 0.5 / enc.scale() as f64 + f64::from(f32::EPSILON) * f64::from(v.abs());
            prop_assert!((f64::from(b) - f64::from(v)).abs() <= tol, "{v} -> {b}");
        }
    }

    #[test]
    fn products_are_within_one_unit(
        enc in encoders(), rounding in roundings(),
        a in prop::collection::vec(-1.0e3f64..1.0e3, 1..12), b_seed in -1.0e3f64..1.0e3,
    ) {
        // Oracle: exact integer product of the encoded operands, divided in i128.
        let mut ring = PlainRing::new(rounding);
        let xs = Tensor::from_vec(a.clone());
        let ys = Tensor::from_vec(a.iter().map(|v| (v * 0.37 + b_seed) % 1.0e3).collect::<Vec<_>>());
        let x = Fixed::encode(&xs, enc).unwrap();
        let y = Fixed::encode(&ys, enc).unwrap();
        let z = x.mul(&y, &mut ring).unwrap();
        let s = i128::from(enc.scale());
        for i in 0..a.len() {
            let (xi, yi) = (i128::from(signed(x.raw().data()[i])), i128::from(signed(y.raw().data()[i])));
            let expect = oracle_div(xi * yi, s, rounding);
            prop_assert_eq!(i128::from(signed(z.raw().data()[i])), expect);
            // In real terms: within one unit (half with Nearest) of the product of the operands.
            let exact = enc.decode_value(x.raw().data()[i]) * enc.decode_value(y.raw().data()[i]);
            let unit = 1.0 / enc.scale() as f64;
            let bound = if rounding == Rounding::Floor { unit } else { unit / 2.0 };
            let got = enc.decode_value(z.raw().data()[i]);
            prop_assert!((got - exact).abs() <= bound * (1.0 + 1e-9) + 1e-9 * exact.abs(), "{got} vs {exact}");
        }
        // Multiplying by a public value is the same as by an encoded one.
        let zp = x.mul_public(&ys, &mut ring).unwrap();
        prop_assert_eq!(zp.raw(), z.raw());
    }

    #[test]
    fn matmul_matches_the_integer_oracle(
        enc in encoders(), rounding in roundings(), m in 1usize..4, k in 1usize..5, n in 1usize..4, seed in 0u64..1000,
    ) {
        let mut ring = PlainRing::new(rounding);
        let val = |i: usize, j: usize, t: u64| (((i * 31 + j * 17) as u64 + seed * 7 + t) % 2001) as f64 / 10.0 - 100.0;
        let a = Tensor::from_fn(&[m, k], |ix| val(ix[0], ix[1], 1));
        let b = Tensor::from_fn(&[k, n], |ix| val(ix[0], ix[1], 2));
        let (fa, fb) = (Fixed::encode(&a, enc).unwrap(), Fixed::encode(&b, enc).unwrap());
        let c = fa.matmul(&fb, &mut ring).unwrap();
        prop_assert_eq!(c.raw().shape(), &[m, n]);
        let s = i128::from(enc.scale());
        for i in 0..m {
            for j in 0..n {
                let dot: i128 = (0..k)
                    .map(|p| {
                        i128::from(signed(fa.raw().get(&[i, p]).unwrap())) * i128::from(signed(fb.raw().get(&[p, j]).unwrap()))
                    })
                    .sum();
                prop_assert_eq!(i128::from(signed(c.raw().get(&[i, j]).unwrap())), oracle_div(dot, s, rounding));
            }
        }
    }

    #[test]
    fn linear_operations_are_exact(enc in encoders(), a in prop::collection::vec(-1.0e6f64..1.0e6, 1..10), c in -1.0e3f64..1.0e3) {
        let mut ring = PlainRing::default();
        let xs = Tensor::from_vec(a.clone());
        let x = Fixed::encode(&xs, enc).unwrap();
        let y = Fixed::encode(&xs.map(|v| v / 3.0), enc).unwrap();
        let raw = |f: &Fixed<Tensor<u64>>| f.raw().data().iter().map(|&v| signed(v)).collect::<Vec<i64>>();
        let (rx, ry) = (raw(&x), raw(&y));
        let sum = x.add(&y, &mut ring).unwrap();
        prop_assert_eq!(raw(&sum), rx.iter().zip(&ry).map(|(a, b)| a + b).collect::<Vec<_>>());
        let diff = x.sub(&y, &mut ring).unwrap();
        prop_assert_eq!(raw(&diff), rx.iter().zip(&ry).map(|(a, b)| a - b).collect::<Vec<_>>());
        prop_assert_eq!(raw(&x.neg(&mut ring).unwrap()), rx.iter().map(|a| -a).collect::<Vec<_>>());
        prop_assert_eq!(raw(&x.sum(&mut ring).unwrap()), vec![rx.iter().sum::<i64>()]);
        prop_assert_eq!(raw(&x.scale_int(-3, &mut ring).unwrap()), rx.iter().map(|a| -3 * a).collect::<Vec<_>>());
        let cz = signed(enc.encode_value(c, 0).unwrap());
        let shifted = x.add_public(&Tensor::scalar(c), &mut ring).unwrap();
        prop_assert_eq!(raw(&shifted), rx.iter().map(|a| a + cz).collect::<Vec<_>>());
        let back = shifted.sub_public(&Tensor::scalar(c), &mut ring).unwrap();
        prop_assert_eq!(back.raw(), x.raw());
        let halves = x.div_int(2, &mut ring).unwrap();
        prop_assert_eq!(raw(&halves), rx.iter().map(|a| a.div_euclid(2)).collect::<Vec<_>>());
    }

    #[test]
    fn encoder_rejects_values_at_the_range_limits(enc in encoders(), f in 1.0f64..1.0e3) {
        let max = enc.max_abs();
        prop_assert!(matches!(enc.encode_value(max * f, 0), Err(FixedError::OutOfRange { .. })), "rejects beyond");
        prop_assert!(matches!(enc.encode_value(-max * f, 0), Err(FixedError::OutOfRange { .. })), "rejects beyond");
        // Just inside the limit is fine and decodes to (almost) the same magnitude.
        let inside = max * (1.0 - 1e-12);
        let z = enc.encode_value(-inside, 0).unwrap();
        prop_assert!(signed(z) < 0);
        prop_assert!((enc.decode_value(z) + inside).abs() <= inside * 1e-12 + 1.0);
    }
}

#[test]
fn exact_limits_of_the_default_encoder() {
    let enc = FixedEncoder::default();
    // Near the largest magnitude (2^63/1000 ≈ 9.223372036854776e15) encoding still works;
    // v · s is an f64 there, so it is exact only to the f64 spacing (1024).
    let top = 9.223_372_036_854_774e15;
    let z = signed(enc.encode_value(top, 0).unwrap());
    assert!(z > 0 && (z as f64 - top * 1000.0).abs() <= 1024.0);
    assert_eq!(signed(enc.encode_value(-top, 0).unwrap()), -z);
    // 2^63 / 1000 itself lands on 2^63 after scaling: rejected (it would wrap to −2^63).
    assert!(matches!(
        enc.encode_value(9_223_372_036_854_775_808.0 / 1000.0, 7),
        Err(FixedError::OutOfRange { index: 7, .. })
    ));
    assert!(matches!(enc.encode_value(f64::NEG_INFINITY, 0), Err(FixedError::NotFinite { .. })));
    assert!(enc.max_product_abs() > 9.2e12 && enc.max_product_abs() < 9.3e12);
    assert!((enc.resolution() - 1e-3).abs() < 1e-18);
}

#[test]
fn mixing_encoders_is_a_typed_error() {
    let mut ring = PlainRing::default();
    let a = Fixed::encode(&Tensor::<f64>::scalar(1.0), FixedEncoder::default()).unwrap();
    let b = Fixed::encode(&Tensor::<f64>::scalar(1.0), FixedEncoder::new(10, 4).unwrap()).unwrap();
    for r in [a.add(&b, &mut ring), a.sub(&b, &mut ring), a.mul(&b, &mut ring), a.matmul(&b, &mut ring)] {
        assert!(matches!(r, Err(FixedError::PrecisionMismatch { .. })), "{r:?}");
    }
    // Same scale, different base and precision: still a mismatch (the encoders differ).
    let c = Fixed::from_raw(a.raw().clone(), FixedEncoder::new(1000, 1).unwrap());
    assert!(matches!(a.add(&c, &mut ring), Err(FixedError::PrecisionMismatch { op: "add", .. })));
    // Unencodable public operands and shape errors are typed too.
    assert!(matches!(a.add_public(&Tensor::<f64>::scalar(f64::NAN), &mut ring), Err(FixedError::NotFinite { .. })));
    assert!(matches!(a.div_int(0, &mut ring), Err(FixedError::InvalidArgument { .. })));
    let v = Fixed::encode(&Tensor::<f64>::from_vec(vec![1.0, 2.0]), FixedEncoder::default()).unwrap();
    let w = Fixed::encode(&Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0]), FixedEncoder::default()).unwrap();
    assert!(matches!(v.add(&w, &mut ring), Err(FixedError::Ring(_))));
    assert!(matches!(v.matmul(&v, &mut ring), Err(FixedError::Ring(_))));
    assert!(matches!(v.sum_axis(1, false, &mut ring), Err(FixedError::Ring(_))));
}

#[test]
fn products_beyond_the_product_limit_wrap() {
    // Documented hazard: |v1·v2| ≥ 2^63/s² wraps before truncation.
    let enc = FixedEncoder::default();
    let mut ring = PlainRing::default();
    let big = (enc.max_product_abs() * 2.0).sqrt();
    let a = Fixed::encode(&Tensor::<f64>::scalar(big), enc).unwrap();
    let sq = a.mul(&a, &mut ring).unwrap().decode::<f64>().item().unwrap();
    assert!((sq - big * big).abs() > 1.0, "expected garbage, got {sq}");
    // Just under the limit it is right.
    let ok = (enc.max_product_abs() * 0.5).sqrt();
    let b = Fixed::encode(&Tensor::<f64>::scalar(ok), enc).unwrap();
    let sq = b.mul(&b, &mut ring).unwrap().decode::<f64>().item().unwrap();
    assert!((sq - ok * ok).abs() / (ok * ok) < 1e-9);
}

/// A toy backend that counts truncations: shows the trait is implementable with state
/// and its own error type, as a shared backend will be.
#[derive(Debug, thiserror::Error)]
enum ToyError {
    #[error(transparent)]
    Fixed(#[from] FixedError),
}

#[derive(Default)]
struct Counting {
    inner: PlainRing,
    truncations: usize,
}

impl IntBackend for Counting {
    type Tensor = Tensor<u64>;
    type Error = ToyError;
    fn shape<'t>(&self, t: &'t Tensor<u64>) -> &'t [usize] {
        t.shape()
    }
    fn add(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.add(a, b)?)
    }
    fn sub(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.sub(a, b)?)
    }
    fn neg(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.neg(a)?)
    }
    fn mul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.mul(a, b)?)
    }
    fn matmul(&mut self, a: &Tensor<u64>, b: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.matmul(a, b)?)
    }
    fn sum(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.sum(a)?)
    }
    fn sum_axis(&mut self, a: &Tensor<u64>, axis: usize, keepdim: bool) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.sum_axis(a, axis, keepdim)?)
    }
    fn mul_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.mul_public(a, c)?)
    }
    fn add_public(&mut self, a: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.add_public(a, c)?)
    }
    fn truncate(&mut self, a: &Tensor<u64>, scale: u64) -> Result<Tensor<u64>, ToyError> {
        self.truncations += 1;
        Ok(self.inner.truncate(a, scale)?)
    }
    fn reshape(&mut self, a: &Tensor<u64>, shape: &[usize]) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.reshape(a, shape)?)
    }
    fn transpose(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>, ToyError> {
        Ok(self.inner.transpose(a)?)
    }
}

#[test]
fn products_truncate_once_and_linear_ops_never() {
    let mut b = Counting::default();
    let enc = FixedEncoder::default();
    let x = Fixed::encode(&Tensor::<f64>::new(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap(), enc).unwrap();
    let y = x.add(&x, &mut b).unwrap().sub(&x, &mut b).unwrap().neg(&mut b).unwrap();
    let y = y.sum_axis(0, true, &mut b).unwrap().add_public(&Tensor::<f64>::scalar(1.0), &mut b).unwrap();
    let y = y.scale_int(2, &mut b).unwrap().transpose(&mut b).unwrap().reshape(&[2], &mut b).unwrap();
    assert_eq!(b.truncations, 0);
    assert_eq!(y.decode::<f64>().data(), &[-6.0, -10.0]);
    let z =
        x.mul(&x, &mut b).unwrap().matmul(&x, &mut b).unwrap().mul_public(&Tensor::<f32>::scalar(0.5), &mut b).unwrap();
    assert_eq!(b.truncations, 3);
    // (x ⊙ x) · x · 0.5 = [[13, 18], [57, 82]] · 0.5
    assert_eq!(z.decode::<f64>().data(), &[6.5, 9.0, 28.5, 41.0]);
    assert_eq!(z.shape(&b), &[2, 2]);
    // The backend's own error type carries fixed-point errors.
    let other = Fixed::from_raw(x.raw().clone(), FixedEncoder::binary(8).unwrap());
    assert!(matches!(x.mul(&other, &mut b), Err(ToyError::Fixed(FixedError::PrecisionMismatch { .. }))));
    let _ = from_signed(0);
}
