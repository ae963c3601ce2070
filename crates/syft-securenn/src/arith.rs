//! Scalar arithmetic on raw `u64` words: the odd ring `Z_(2^64-1)` on canonical
//! representatives, wrap bits, and XOR of a public bit with a shared bit
//! (docs/PROTOCOLS.md §0.2); [`Odd`] and [`wrap_k`] generalise them to `Z_(2^k-1)` and
//! `Z_2^k` for the `k`-bit comparisons (§6.5). Hot loops work on `&[u64]` with these
//! inlined helpers.

/// `a + b` in `Z_(2^64-1)` (end-around carry; canonical inputs and output).
#[inline]
pub(crate) fn odd_add(a: u64, b: u64) -> u64 {
    let (s, c) = a.overflowing_add(b);
    let s = s.wrapping_add(u64::from(c));
    if s == u64::MAX { 0 } else { s }
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

/// The odd ring `Z_M`, `M = 2^k − 1` (`2 ≤ k ≤ 64`), on canonical representatives
/// `0..M`. For `k = 64` it is exactly the functions above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Odd {
    /// `M = 2^k − 1`.
    m: u64,
}

impl Odd {
    /// `Z_(2^k − 1)` for `width`.
    pub(crate) const fn new(width: crate::Width) -> Self {
        Self { m: width.mask() }
    }

    /// `a + b` (canonical inputs and output).
    #[inline]
    pub(crate) fn add(self, a: u64, b: u64) -> u64 {
        if self.m == u64::MAX {
            return odd_add(a, b);
        }
        // a, b < M ≤ 2^63 − 1: no overflow.
        let s = a + b;
        if s >= self.m { s - self.m } else { s }
    }

    /// `−a`.
    #[inline]
    pub(crate) fn neg(self, a: u64) -> u64 {
        if a == 0 { 0 } else { self.m - a }
    }

    /// `a − b`.
    #[inline]
    pub(crate) fn sub(self, a: u64, b: u64) -> u64 {
        self.add(a, self.neg(b))
    }

    /// `v mod M` for `v ∈ [0, 2^k)`.
    #[inline]
    pub(crate) fn reduce_ring(self, v: u64) -> u64 {
        if v == self.m { 0 } else { v }
    }

    /// `w mod M` for a uniform 64-bit word: a uniform element up to a statistical
    /// distance below `2^((64 mod k) − 64)` (`2^-64` when `k` divides 64), since
    /// `2^64 ≡ 2^(64 mod k) (mod M)`. For `k = 64` it is the normative `Z_(L−1)` sampling
    /// of docs/PROTOCOLS.md §3.2.
    #[inline]
    pub(crate) fn sample_word(self, w: u64) -> u64 {
        if self.m == u64::MAX {
            // `w mod (2^64 − 1)`: only the all-ones word reduces.
            if w == u64::MAX { 0 } else { w }
        } else {
            w % self.m
        }
    }

    /// The largest canonical element, `M − 1`.
    #[inline]
    pub(crate) fn max_canonical(self) -> u64 {
        self.m - 1
    }

    /// Party `index`'s share of `bit ⊕ g` from its share `g` of a shared bit.
    #[inline]
    pub(crate) fn xor_public(self, g: u64, bit: u64, index: usize) -> u64 {
        let iota = u64::from(index == 0);
        if bit & 1 == 1 { self.sub(iota, g) } else { g }
    }
}

/// `wrap_k(a, b) = 1` iff `a + b ≥ 2^k`, for `a, b < 2^k`.
#[inline]
pub(crate) fn wrap_k(a: u64, b: u64, width: crate::Width) -> u64 {
    if width.is_full() { wrap(a, b) } else { (a + b) >> width.bits() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;
    use syft_ring::{OddRing, Scalar};

    #[test]
    fn odd_ring_agrees_with_syft_ring() {
        let full = Odd::new(crate::Width::FULL);
        let vals = [0u64, 1, 2, 1 << 63, (1 << 63) - 1, u64::MAX - 1, 12345, u64::MAX - 7];
        for &a in &vals {
            for &b in &vals {
                let (x, y) = (OddRing::new(a), OddRing::new(b));
                assert_eq!(odd_add(x.get(), y.get()), x.add(y).get());
                assert_eq!(full.sub(x.get(), y.get()), x.sub(y).get());
            }
            assert_eq!(full.neg(OddRing::new(a).get()), OddRing::new(a).neg().get());
            assert_eq!(full.reduce_ring(a), OddRing::new(a).get());
        }
        assert_eq!(full.reduce_ring(u64::MAX), 0);
    }

    #[test]
    #[allow(clippy::cast_possible_truncation, reason = "values below the modulus")]
    fn odd_k_is_the_integers_mod_2k_minus_1() {
        for bits in [2u32, 3, 16, 32, 48, 63, 64] {
            let width = crate::Width::new(bits).unwrap();
            let odd = Odd::new(width);
            let m = u128::from(width.mask());
            let vals =
                [0u64, 1, 2, 3, width.mask() >> 1, (width.mask() >> 1) + 1, width.mask() - 1, 12345 % width.mask()];
            for &a in &vals {
                let a = (u128::from(a) % m) as u64;
                for &b in &vals {
                    let b = (u128::from(b) % m) as u64;
                    assert_eq!(u128::from(odd.add(a, b)), (u128::from(a) + u128::from(b)) % m, "k={bits}");
                    assert_eq!(u128::from(odd.sub(a, b)), (u128::from(a) + m - u128::from(b)) % m, "k={bits}");
                    let wrapped = u128::from(a) + u128::from(b) >= 1u128 << bits;
                    assert_eq!(wrap_k(a, b, width), u64::from(wrapped), "k={bits}");
                }
                assert!(a <= odd.max_canonical());
            }
            assert_eq!(odd.max_canonical(), width.mask() - 1);
            assert_eq!(odd.reduce_ring(width.mask()), 0);
            for w in [0u64, 1, u64::MAX, u64::MAX - 1, 0x1234_5678_9abc_def0] {
                assert_eq!(u128::from(odd.sample_word(w)), u128::from(w) % m, "k={bits}");
            }
        }
    }

    #[test]
    fn xor_with_public_bit() {
        for secret in 0..2u64 {
            for bit in 0..2u64 {
                let g0 = 0xdead_beef_u64;
                let g1 = secret.wrapping_sub(g0);
                let r = xor_public(g0, bit, 0).wrapping_add(xor_public(g1, bit, 1));
                assert_eq!(r, secret ^ bit);
                for bits in [64, 32, 5] {
                    let odd = Odd::new(crate::Width::new(bits).unwrap());
                    let o0 = 27u64;
                    let o1 = odd.sub(secret, o0);
                    assert_eq!(odd.add(odd.xor_public(o0, bit, 0), odd.xor_public(o1, bit, 1)), secret ^ bit);
                }
            }
        }
    }
}
