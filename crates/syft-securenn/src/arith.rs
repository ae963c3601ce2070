//! Scalar arithmetic on raw `u64` words: the odd ring `Z_(2^64-1)` on canonical
//! representatives, wrap bits, and XOR of a public bit with a shared bit
//! (docs/PROTOCOLS.md §0.2). Hot loops work on `&[u64]` with these inlined helpers.

/// `a + b` in `Z_(2^64-1)` (end-around carry; canonical inputs and output).
#[inline]
pub(crate) fn odd_add(a: u64, b: u64) -> u64 {
    let (s, c) = a.overflowing_add(b);
    let s = s.wrapping_add(u64::from(c));
    if s == u64::MAX { 0 } else { s }
}

/// `−a` in `Z_(2^64-1)`.
#[inline]
pub(crate) fn odd_neg(a: u64) -> u64 {
    if a == 0 { 0 } else { u64::MAX - a }
}

/// `a − b` in `Z_(2^64-1)`.
#[inline]
pub(crate) fn odd_sub(a: u64, b: u64) -> u64 {
    odd_add(a, odd_neg(b))
}

/// `v mod (2^64 − 1)` for `v ∈ Z_L`.
#[inline]
pub(crate) fn odd_from_ring(v: u64) -> u64 {
    if v == u64::MAX { 0 } else { v }
}

/// `wrap(a, b) = 1` iff `a + b ≥ 2^64`.
#[inline]
pub(crate) fn wrap(a: u64, b: u64) -> u64 {
    u64::from(a.overflowing_add(b).1)
}

/// Party `index`'s share of `bit ⊕ g` over `Z_L`, from its share `g` of a shared bit and
/// a public bit: `ι·bit + (1 − 2·bit)·g`.
#[inline]
pub(crate) fn xor_public(g: u64, bit: u64, index: usize) -> u64 {
    let iota = u64::from(index == 0);
    if bit & 1 == 1 { (iota).wrapping_sub(g) } else { g }
}

/// The same over `Z_(2^64-1)`.
#[inline]
pub(crate) fn odd_xor_public(g: u64, bit: u64, index: usize) -> u64 {
    let iota = u64::from(index == 0);
    if bit & 1 == 1 { odd_sub(iota, g) } else { g }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syft_ring::{OddRing, Scalar};

    #[test]
    fn odd_ring_agrees_with_syft_ring() {
        let vals = [0u64, 1, 2, 1 << 63, (1 << 63) - 1, u64::MAX - 1, 12345, u64::MAX - 7];
        for &a in &vals {
            for &b in &vals {
                let (x, y) = (OddRing::new(a), OddRing::new(b));
                assert_eq!(odd_add(x.get(), y.get()), x.add(y).get());
                assert_eq!(odd_sub(x.get(), y.get()), x.sub(y).get());
            }
            assert_eq!(odd_neg(OddRing::new(a).get()), OddRing::new(a).neg().get());
            assert_eq!(odd_from_ring(a), OddRing::new(a).get());
        }
        assert_eq!(odd_from_ring(u64::MAX), 0);
    }

    #[test]
    fn xor_with_public_bit() {
        for secret in 0..2u64 {
            for bit in 0..2u64 {
                let g0 = 0xdead_beef_u64;
                let g1 = secret.wrapping_sub(g0);
                let r = xor_public(g0, bit, 0).wrapping_add(xor_public(g1, bit, 1));
                assert_eq!(r, secret ^ bit);
                let o0 = 77u64;
                let o1 = odd_sub(secret, o0);
                assert_eq!(odd_add(odd_xor_public(o0, bit, 0), odd_xor_public(o1, bit, 1)), secret ^ bit);
            }
        }
    }
}
