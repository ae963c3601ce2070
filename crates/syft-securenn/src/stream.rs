//! Sampling of the protocols' fields from the normative PRG streams
//! (docs/PROTOCOLS.md §3.2): `Z_L` from a word, `Z_(L-1)` as `w mod (2^64-1)` (and
//! `Z_(2^k-1)` as `w mod (2^k-1)` for a width `k`), `Z_p` as `w mod 67`, `Z_p*` as
//! `1 + w mod 66`, a bit as `w & 1`, and a permutation of `k` positions by Fisher–Yates
//! from `k − 1` words.
//!
//! Per-element work runs over flat buffers filled a chunk at a time, so that the
//! `3k − 1` words PrivateCompare needs per element (191 for `k = 64`) stay in cache.

use crate::arith::Odd;
use syft_ring::{Prg, Seed};

/// `n` words of `Stream(seed, req, label)`.
pub(crate) fn words(seed: &Seed, req: u64, label: u16, n: usize) -> Vec<u64> {
    let mut out = vec![0u64; n];
    Prg::stream(seed, req, label).fill_u64(&mut out);
    out
}

/// `n` uniform elements of the odd ring `odd` (canonical representatives; `Z_(2^64-1)`
/// for the full width).
pub(crate) fn odd_words(seed: &Seed, req: u64, label: u16, n: usize, odd: Odd) -> Vec<u64> {
    let mut out = words(seed, req, label, n);
    for w in &mut out {
        *w = odd.sample_word(*w);
    }
    out
}

/// `n` uniform bits (as `u64` 0/1).
pub(crate) fn bit_words(seed: &Seed, req: u64, label: u16, n: usize) -> Vec<u64> {
    let mut out = words(seed, req, label, n);
    for w in &mut out {
        *w &= 1;
    }
    out
}

/// `w mod 67`.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "w % 67 < 67")]
pub(crate) fn zp(w: u64) -> u8 {
    (w % 67) as u8
}

/// `1 + w mod 66`.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "1 + w % 66 <= 66")]
pub(crate) fn zp_star(w: u64) -> u8 {
    (1 + w % 66) as u8
}

/// A buffered reader of one stream, handing out `n` words at a time.
pub(crate) struct WordReader {
    prg: Prg,
    buf: Vec<u64>,
}

impl WordReader {
    /// A reader of `Stream(seed, req, label)`.
    pub(crate) fn new(seed: &Seed, req: u64, label: u16) -> Self {
        Self { prg: Prg::stream(seed, req, label), buf: Vec::new() }
    }

    /// The next `n` words of the stream.
    pub(crate) fn take(&mut self, n: usize) -> &[u64] {
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        let out = &mut self.buf[..n];
        self.prg.fill_u64(out);
        out
    }
}

/// Invokes a Fisher–Yates macro with the steps `t => i` (word `t` picks the partner of
/// position `i = 63 − t`), so that each divisor `i + 1` is a compile-time constant.
macro_rules! fisher_yates_steps {
    ($m:ident!($($args:tt)*)) => {
        $m!($($args)*;
        0 => 63, 1 => 62, 2 => 61, 3 => 60, 4 => 59, 5 => 58, 6 => 57, 7 => 56, 8 => 55, 9 => 54,
        10 => 53, 11 => 52, 12 => 51, 13 => 50, 14 => 49, 15 => 48, 16 => 47, 17 => 46, 18 => 45,
        19 => 44, 20 => 43, 21 => 42, 22 => 41, 23 => 40, 24 => 39, 25 => 38, 26 => 37, 27 => 36,
        28 => 35, 29 => 34, 30 => 33, 31 => 32, 32 => 31, 33 => 30, 34 => 29, 35 => 28, 36 => 27,
        37 => 26, 38 => 25, 39 => 24, 40 => 23, 41 => 22, 42 => 21, 43 => 20, 44 => 19, 45 => 18,
        46 => 17, 47 => 16, 48 => 15, 49 => 14, 50 => 13, 51 => 12, 52 => 11, 53 => 10, 54 => 9,
        55 => 8, 56 => 7, 57 => 6, 58 => 5, 59 => 4, 60 => 3, 61 => 2, 62 => 1,
        )
    };
}

/// The steps of [`fisher_yates_steps`] for 32 positions.
macro_rules! fisher_yates_steps32 {
    ($m:ident!($($args:tt)*)) => {
        $m!($($args)*;
        0 => 31, 1 => 30, 2 => 29, 3 => 28, 4 => 27, 5 => 26, 6 => 25, 7 => 24, 8 => 23, 9 => 22,
        10 => 21, 11 => 20, 12 => 19, 13 => 18, 14 => 17, 15 => 16, 16 => 15, 17 => 14, 18 => 13,
        19 => 12, 20 => 11, 21 => 10, 22 => 9, 23 => 8, 24 => 7, 25 => 6, 26 => 5, 27 => 4,
        28 => 3, 29 => 2, 30 => 1,
        )
    };
}

/// One Fisher–Yates step with a compile-time divisor.
macro_rules! fisher_yates {
    ($p:ident, $w:ident; $($t:literal => $i:literal),* $(,)?) => {
        $(
            {
                #[allow(clippy::cast_possible_truncation, reason = "the index is below 64")]
                let j = ($w[$t] % ($i + 1)) as usize;
                $p.swap($i, j);
            }
        )*
    };
}

/// The permutation of 64 positions drawn from 63 words: start from the identity; for
/// `i = 63` down to `1`, swap `π[i]` and `π[w_t mod (i+1)]` with `t = 63 − i`.
#[cfg(test)]
pub(crate) fn perm64(w: &[u64]) -> [u8; 64] {
    let mut p = [0u8; 64];
    for (i, v) in (0u8..).zip(p.iter_mut()) {
        *v = i;
    }
    let w: &[u64; 63] = match w.get(..63).and_then(|s| s.try_into().ok()) {
        Some(w) => w,
        None => return p,
    };
    fisher_yates_steps!(fisher_yates!(p, w));
    p
}

/// `v` permuted by the permutation [`perm64`] draws from the same 63 words, without
/// building it: `permute64(v, w)[k] == v[perm64(w)[k]]`. The Fisher–Yates swaps that build
/// the permutation from the identity are applied to `v` itself.
#[inline]
pub(crate) fn permute64(p: &mut [u8; 64], w: &[u64]) {
    let w: &[u64; 63] = match w.get(..63).and_then(|s| s.try_into().ok()) {
        Some(w) => w,
        None => return,
    };
    fisher_yates_steps!(fisher_yates!(p, w));
}

/// Fisher–Yates steps applied to two arrays, each with its own words.
macro_rules! fisher_yates2 {
    ($p:ident, $q:ident, $w:ident, $v:ident; $($t:literal => $i:literal),* $(,)?) => {
        $(
            {
                #[allow(clippy::cast_possible_truncation, reason = "the index is below 64")]
                let (j, k) = (($w[$t] % ($i + 1)) as usize, ($v[$t] % ($i + 1)) as usize);
                $p.swap($i, j);
                $q.swap($i, k);
            }
        )*
    };
}

/// [`permute64`] of two arrays, `p` with `w[..63]` and `q` with `w[63..126]`, interleaved:
/// the two swap chains are independent, so their loads and stores overlap.
#[inline]
pub(crate) fn permute64x2(p: &mut [u8; 64], q: &mut [u8; 64], w: &[u64]) {
    let (Some(w), Some(v)) = (
        w.get(..63).and_then(|s| <&[u64; 63]>::try_from(s).ok()),
        w.get(63..126).and_then(|s| <&[u64; 63]>::try_from(s).ok()),
    ) else {
        return;
    };
    fisher_yates_steps!(fisher_yates2!(p, q, w, v));
}

/// [`permute64`] for 32 positions from 31 words.
#[inline]
pub(crate) fn permute32(p: &mut [u8; 32], w: &[u64]) {
    let w: &[u64; 31] = match w.get(..31).and_then(|s| s.try_into().ok()) {
        Some(w) => w,
        None => return,
    };
    fisher_yates_steps32!(fisher_yates!(p, w));
}

/// [`permute64x2`] for 32 positions: `p` with `w[..31]`, `q` with `w[31..62]`.
#[inline]
pub(crate) fn permute32x2(p: &mut [u8; 32], q: &mut [u8; 32], w: &[u64]) {
    let (Some(w), Some(v)) = (
        w.get(..31).and_then(|s| <&[u64; 31]>::try_from(s).ok()),
        w.get(31..62).and_then(|s| <&[u64; 31]>::try_from(s).ok()),
    ) else {
        return;
    };
    fisher_yates_steps32!(fisher_yates2!(p, q, w, v));
}

/// The Fisher–Yates permutation of the `k = p.len()` positions of `p` from `k − 1` words
/// (for `i = k − 1` down to 1, swap `p[i]` and `p[w_t mod (i+1)]` with `t = k − 1 − i`),
/// for any `k`: [`permute64`] and [`permute32`] are this with compile-time divisors.
#[inline]
pub(crate) fn permute_prefix(p: &mut [u8], w: &[u64]) {
    let k = p.len();
    for (t, i) in (1..k).rev().enumerate() {
        if let Some(&wt) = w.get(t) {
            #[allow(clippy::cast_possible_truncation, reason = "the index is below 64")]
            let j = (wt % (i as u64 + 1)) as usize;
            p.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
    use super::*;

    fn kat_seed() -> Seed {
        let mut k = [0u8; 16];
        for (i, b) in (0u8..).zip(k.iter_mut()) {
            *b = i;
        }
        Seed(k)
    }

    /// docs/PROTOCOLS.md §3.2.
    #[test]
    fn known_answer_vectors() {
        let s = kat_seed();
        let zs: Vec<u8> = words(&s, 1, crate::labels::PC_S, 8).into_iter().map(zp_star).collect();
        assert_eq!(zs, vec![49, 1, 44, 56, 41, 62, 21, 34]);
        let z: Vec<u8> = words(&s, 1, crate::labels::PC_U, 8).into_iter().map(zp).collect();
        assert_eq!(z, vec![6, 46, 34, 10, 46, 59, 13, 28]);
        let p = perm64(&words(&s, 1, crate::labels::PC_PERM, 63));
        assert_eq!(&p[..16], &[48, 9, 41, 19, 50, 42, 6, 57, 63, 33, 2, 4, 30, 51, 45, 23]);
        let mut sorted = p.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0u8..64).collect::<Vec<_>>());
        let full = Odd::new(crate::Width::FULL);
        assert_eq!(odd_words(&s, 1, crate::labels::H_MSB_X, 2, full), vec![0x214021ecd8c3964c, 0xf616fe21057ea534]);
    }

    #[test]
    fn reader_is_one_stream() {
        let s = Seed::from_u64(3);
        let whole = words(&s, 7, 9, 300);
        let mut r = WordReader::new(&s, 7, 9);
        let mut got = r.take(100).to_vec();
        got.extend_from_slice(r.take(37));
        got.extend_from_slice(r.take(163));
        assert_eq!(got, whole);
    }

    #[test]
    fn permuting_in_place_equals_gathering() {
        for seed in 0..50 {
            let w = words(&Seed::from_u64(seed), 3, 4, 63);
            let perm = perm64(&w);
            let v: [u8; 64] = std::array::from_fn(|i| u8::try_from((i * 37 + 11) % 256).unwrap());
            let mut p = v;
            permute64(&mut p, &w);
            let gathered: Vec<u8> = perm.iter().map(|&k| v[usize::from(k)]).collect();
            assert_eq!(p.to_vec(), gathered);
            let w2 = words(&Seed::from_u64(seed + 1000), 3, 4, 126);
            let (mut a, mut b) = (v, v);
            permute64x2(&mut a, &mut b, &w2);
            let (mut a1, mut b1) = (v, v);
            permute64(&mut a1, &w2[..63]);
            permute64(&mut b1, &w2[63..]);
            assert_eq!((a, b), (a1, b1));
        }
    }

    #[test]
    fn fixed_and_generic_permutations_agree() {
        for seed in 0..50 {
            let w = words(&Seed::from_u64(seed), 3, 4, 126);
            let v: [u8; 64] = std::array::from_fn(|i| u8::try_from((i * 37 + 11) % 256).unwrap());
            let mut a = v;
            permute64(&mut a, &w);
            let mut b = v;
            permute_prefix(&mut b, &w);
            assert_eq!(a, b);
            let v32: [u8; 32] = std::array::from_fn(|i| v[i]);
            let (mut c, mut d) = (v32, v32);
            permute32x2(&mut c, &mut d, &w[..62]);
            let (mut e, mut f) = (v32, v32);
            permute_prefix(&mut e, &w[..31]);
            permute_prefix(&mut f, &w[31..62]);
            assert_eq!((c, d), (e, f));
            let mut g = v32;
            permute32(&mut g, &w);
            assert_eq!(g, e);
            let mut sorted = e.to_vec();
            sorted.sort_unstable();
            let mut want = v32.to_vec();
            want.sort_unstable();
            assert_eq!(sorted, want, "a permutation");
        }
    }

    #[test]
    fn generic_fisher_yates_matches() {
        let w = words(&Seed::from_u64(5), 1, 2, 63);
        let mut p: Vec<u8> = (0..64).collect();
        for (t, i) in (1..64usize).rev().enumerate() {
            let j = usize::try_from(w[t] % (i as u64 + 1)).unwrap();
            p.swap(i, j);
        }
        assert_eq!(perm64(&w).to_vec(), p);
    }
}
