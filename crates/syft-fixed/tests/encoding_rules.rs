//! The precision rules of fixed-point arithmetic: one encoding per sum, one truncation per
//! fixed × fixed product, none for a product with an integer.

#![allow(clippy::unwrap_used, reason = "test code")]

use syft_fixed::{Fixed, FixedEncoder, FixedError, PlainRing};
use syft_ring::Tensor;

#[test]
fn products_with_integers_keep_the_fixed_encoding_without_truncation() {
    let mut ring = PlainRing::default();
    let enc = FixedEncoder::PYSYFT;
    let x = Fixed::encode(&Tensor::<f64>::new(&[3], vec![0.5, -1.25, 2.0]).unwrap(), enc).unwrap();
    let bits = Fixed::encode(&Tensor::<f64>::new(&[3], vec![1.0, 0.0, 3.0]).unwrap(), FixedEncoder::INTEGER).unwrap();
    assert_eq!(bits.raw().data(), &[1, 0, 3]);
    for y in [x.mul(&bits, &mut ring).unwrap(), bits.mul(&x, &mut ring).unwrap()] {
        assert_eq!(y.encoder(), enc);
        assert_eq!(y.float_precision().data(), &[0.5, 0.0, 6.0]);
    }
    let sq = x.mul(&x, &mut ring).unwrap();
    assert_eq!(sq.encoder(), enc);
    // 1.5625 truncated to three decimal digits.
    assert_eq!(sq.float_precision().data(), &[0.25, 1.562, 4.0]);
    let count = bits.add(&bits, &mut ring).unwrap();
    assert_eq!(count.encoder(), FixedEncoder::INTEGER);
    assert_eq!(count.float_precision().data(), &[2.0, 0.0, 6.0]);
}

#[test]
fn mixed_encodings_are_refused_with_both_named() {
    let mut ring = PlainRing::default();
    let a = Fixed::encode(&Tensor::<f64>::scalar(1.0), FixedEncoder::PYSYFT).unwrap();
    let b = Fixed::encode(&Tensor::<f64>::scalar(1.0), FixedEncoder::binary(16).unwrap()).unwrap();
    let i = Fixed::encode(&Tensor::<f64>::scalar(1.0), FixedEncoder::INTEGER).unwrap();
    for e in [a.add(&b, &mut ring).unwrap_err(), a.mul(&b, &mut ring).unwrap_err(), a.sub(&i, &mut ring).unwrap_err()] {
        assert!(matches!(e, FixedError::PrecisionMismatch { .. }), "{e:?}");
    }
    assert_eq!(
        FixedEncoder::sum_encoding("add", FixedEncoder::INTEGER, FixedEncoder::binary(0).unwrap()).unwrap(),
        FixedEncoder::INTEGER
    );
    assert_eq!(FixedEncoder::product_encoding("mul", a.encoder(), a.encoder()).unwrap(), (a.encoder(), 1000));
}
