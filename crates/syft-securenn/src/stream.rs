//! Sampling of the protocols' fields from the normative PRG streams
//! (docs/PROTOCOLS.md §3.2): `Z_L` from a word, `Z_(L-1)` as `w mod (2^64-1)` (and
//! `Z_(2^k-1)` as `w mod (2^k-1)` for a width `k`), `Z_p` as `w mod 67`, `Z_p*` as
//! `1 + w mod 66`, a bit as `w & 1`, and a permutation of 64 positions by Fisher–Yates
//! from 63 words.
//!
//! PrivateCompare below 64 bits packs its values instead: a word `w`, read as the fraction
//! `w / 2^64`, yields `⌊w·n / 2^64⌋` for a range `n` and leaves `w·n mod 2^64` for the next
//! value, a new word starting whenever the product of the ranges drawn from the current
//! one would exceed `2^20` ([`PACK_BOUND`]): three values of `Z_p` or `Z_p*` per word
//! ([`packed_lanes`]). The values of one word are jointly within statistical distance
//! `2^-45` of uniform. Its slots are shuffled by a uniform cyclic shift, one value below `k`
//! from one word ([`rotation`]), rather than by a permutation (docs/PROTOCOLS.md §6.2 says
//! why that hides as much).
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

/// The bound on the product of the ranges of the values drawn from one word by the packed
/// samplers (docs/PROTOCOLS.md §3.2): the values drawn from one word are jointly within
/// statistical distance `N·2^-65 ≤ 2^-45` of uniform, `N` that product.
pub(crate) const PACK_BOUND: u64 = 1 << 20;

// Three values of `Z_67` per word, and a shift below `k ≤ 64` alone in its word, stay
// within the bound; a fourth value of `Z_67` would not.
const _: () = assert!(67 * 67 * 67 <= PACK_BOUND && 67 * 67 * 67 * 67 > PACK_BOUND && 64 <= PACK_BOUND);

/// Words of a packed draw of `k` values of `Z_67` or `Z_67*`: three per word
/// (`67^3 ≤ 2^20 < 67^4`).
#[inline]
pub(crate) const fn packed_words(k: usize) -> usize {
    k.div_ceil(3)
}

/// `out.len() ≤ 64` packed values of `Z_67` ([`packed_lanes`]; docs/PROTOCOLS.md §3.2,
/// widths `k < 64`).
#[cfg(test)]
pub(crate) fn zp_packed(out: &mut [u8], words: &[u64]) {
    let n = out.len().min(64);
    out[..n].copy_from_slice(&packed_lanes::<64>(words, n, 67, 0)[..n]);
}

/// `out.len() ≤ 64` packed values of `Z_67*`: `1 + v` with `v` a packed value below 66.
#[cfg(test)]
pub(crate) fn zp_star_packed(out: &mut [u8], words: &[u64]) {
    let n = out.len().min(64);
    out[..n].copy_from_slice(&packed_lanes::<64>(words, n, 66, 1)[..n]);
}

/// `⌊w·n / 2^64⌋`.
#[inline(always)]
#[allow(clippy::cast_possible_truncation, reason = "the high half of a 128-bit product")]
const fn mul_high(w: u64, n: u64) -> u64 {
    (((w as u128) * (n as u128)) >> 64) as u64
}

/// `K` lanes of packed values below `n ≤ 67` plus `offset` from `words`, lanes `k..K` zero:
/// three per word, from each word `w`, as a fraction `w / 2^64` of the unit interval,
/// `v = ⌊w·n / 2^64⌋`, then `w ← w·n mod 2^64`, three times. Computed without the chain
/// through `w`: with `V_p = ⌊w·n^p / 2^64⌋`, the `p`-th value is `V_p − n·V_(p−1)`, and the
/// three products are independent. `words` needs `packed_words(k)` words.
#[inline(always)]
#[allow(clippy::cast_possible_truncation, reason = "the values are below 67")]
pub(crate) fn packed_lanes<const K: usize>(words: &[u64], k: usize, n: u64, offset: u8) -> [u8; K] {
    let k = k.min(K);
    let mut buf = [0u8; 66];
    for (c, &w) in buf.chunks_exact_mut(3).zip(&words[..packed_words(k).min(words.len())]) {
        let v1 = mul_high(w, n);
        let v2 = mul_high(w, n * n);
        let v3 = mul_high(w, n * n * n);
        c[0] = v1 as u8 + offset;
        c[1] = v2.wrapping_sub(n * v1) as u8 + offset;
        c[2] = v3.wrapping_sub(n * v2) as u8 + offset;
    }
    let mut out = [0u8; K];
    if k == K {
        out.copy_from_slice(&buf[..K]);
    } else {
        out[..k].copy_from_slice(&buf[..k]);
    }
    out
}

/// The cyclic shift of PrivateCompare's `k` slots at a width `k < 64`
/// (docs/PROTOCOLS.md §3.2, §6.2): one packed value below `k` from the element's word of
/// `PC_PERM`, `ρ = ⌊w·k / 2^64⌋`. Slot `j` then carries the digit of position
/// `(j + ρ) mod k`.
#[inline(always)]
#[allow(clippy::cast_possible_truncation, reason = "the shift is below k <= 64")]
pub(crate) fn rotation(w: u64, k: usize) -> usize {
    mul_high(w, k as u64) as usize
}

/// The first `k` lanes of `p` rotated by `rho < k`: lane `j` of the result holds
/// `p[(j + rho) mod k]`; lanes `k..K` are zero. `K ≤ 64`.
#[inline(always)]
pub(crate) fn rotate<const K: usize>(p: &[u8; K], rho: usize, k: usize) -> [u8; K] {
    let mut out = [0u8; K];
    let mut twice = [0u8; 128];
    if k == K && K <= 64 {
        // Compile-time lengths: two stores and one (unaligned) load.
        twice[..K].copy_from_slice(p);
        twice[K..2 * K].copy_from_slice(p);
        let rho = rho % K;
        out.copy_from_slice(&twice[rho..rho + K]);
    } else {
        let k = k.min(K);
        for (j, o) in out[..k].iter_mut().enumerate() {
            *o = p[(j + rho) % k];
        }
    }
    out
}

/// A reader of one stream: parts of it are handed out by position ([`at`](Self::at)) and
/// the reader moves past what was read ([`skip`](Self::skip)).
pub(crate) struct WordReader {
    prg: Prg,
}

impl WordReader {
    /// A reader of `Stream(seed, req, label)`.
    pub(crate) fn new(seed: &Seed, req: u64, label: u16) -> Self {
        Self { prg: Prg::stream(seed, req, label) }
    }

    /// The stream from `ahead` words past this reader's position on (the reader does not
    /// move).
    pub(crate) fn at(&self, ahead: usize) -> Prg {
        let mut p = self.prg.clone();
        p.seek_word(p.word_position() + ahead as u64);
        p
    }

    /// Moves the reader `n` words on.
    pub(crate) fn skip(&mut self, n: usize) {
        let to = self.prg.word_position() + n as u64;
        self.prg.seek_word(to);
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

/// `v` permuted by the permutation `perm64` (test code) draws from the same 63 words, without
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

/// The Fisher–Yates permutation of the `k = p.len()` positions of `p` from `k − 1` words
/// (for `i = k − 1` down to 1, swap `p[i]` and `p[w_t mod (i+1)]` with `t = k − 1 − i`),
/// for any `k`: [`permute64`] is this with compile-time divisors.
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

    /// The `p`-th value (from 0) drawn from `w` by a packed sampler whose ranges so far in
    /// this word are `ranges[..=p]`, straight from the definition: with `N` their product,
    /// `⌊w·N / 2^64⌋ mod ranges[p]`.
    fn packed_value(w: u64, ranges: &[u64], p: usize) -> u64 {
        let big_n: u128 = ranges[..=p].iter().map(|&n| u128::from(n)).product();
        let top = (u128::from(w) * big_n) >> 64;
        u64::try_from(top % u128::from(ranges[p])).unwrap()
    }

    /// `k` packed values below `n` from `words`, from the definition.
    fn packed_reference(words: &[u64], k: usize, n: u64) -> Vec<u64> {
        (0..k).map(|i| packed_value(words[i / 3], &[n; 3], i % 3)).collect()
    }

    /// The shifts of the first four elements at `k = 32` (`PC_PERM`, request 1). The first
    /// is also the first packed Fisher–Yates partner the stream gave before the shift
    /// replaced the permutation (same word, same range 32): 12.
    const ROTATION_KAV: [usize; 4] = [12, 8, 22, 24];

    /// docs/PROTOCOLS.md §3.2, widths `k < 64`: the packed samplers.
    #[test]
    fn packed_known_answer_vectors() {
        let s = kat_seed();
        let w = words(&s, 1, crate::labels::PC_S, 3);
        let mut zs = [0u8; 8];
        zp_star_packed(&mut zs, &w);
        assert_eq!(zs, [31, 59, 17, 24, 42, 56, 43, 6]);
        let w = words(&s, 1, crate::labels::PC_U, 3);
        let mut z = [0u8; 8];
        zp_packed(&mut z, &w);
        assert_eq!(z, [29, 0, 48, 21, 59, 65, 52, 65]);
        let w = words(&s, 1, crate::labels::PC_PERM, 4);
        let shifts: Vec<usize> = w.iter().map(|&w| rotation(w, 32)).collect();
        assert_eq!(shifts, ROTATION_KAV);
        assert_eq!([packed_words(64), packed_words(32), packed_words(2)], [22, 11, 1]);
    }

    #[test]
    fn packed_samplers_match_their_definition() {
        for seed in 0..20 {
            let w = words(&Seed::from_u64(seed), 2, 3, 64);
            for k in [2usize, 3, 4, 16, 20, 31, 32, 33, 48, 63] {
                let mut z = vec![0u8; k];
                zp_packed(&mut z, &w);
                let want: Vec<u64> = packed_reference(&w, k, 67);
                assert_eq!(z.iter().map(|&v| u64::from(v)).collect::<Vec<_>>(), want, "Z_67, k={k}");
                zp_star_packed(&mut z, &w);
                let want: Vec<u64> = packed_reference(&w, k, 66).into_iter().map(|v| v + 1).collect();
                assert_eq!(z.iter().map(|&v| u64::from(v)).collect::<Vec<_>>(), want, "Z_67*, k={k}");
                for &wi in &w {
                    let rho = rotation(wi, k);
                    assert_eq!(rho as u64, packed_value(wi, &[k as u64], 0), "k={k}");
                    assert!(rho < k);
                }
            }
        }
    }

    /// Chi-square goodness of fit to the uniform distribution, accepted at significance
    /// 10^-6 (the draws are deterministic, so the test cannot flake).
    fn uniform(counts: &[u64]) -> syft_share::dev::ChiSquare {
        syft_share::dev::chi_square_uniform(counts).unwrap()
    }

    /// Histograms of the packed values of `Z_n` (`n` = 67, or 66 for `Z_67*` less one)
    /// drawn from `words`: one per position within the word, and one per pair of positions.
    fn packed_histograms(words: &[u64], n: usize, draw3: impl Fn(&[u64]) -> [u8; 3]) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
        let mut single = vec![vec![0u64; n]; 3];
        let mut pairs = vec![vec![0u64; n * n]; 3];
        for w in words.chunks(1) {
            let v = draw3(w).map(usize::from);
            for p in 0..3 {
                single[p][v[p]] += 1;
            }
            for (q, (a, b)) in [(0, 1), (1, 2), (0, 2)].into_iter().enumerate() {
                pairs[q][v[a] * n + v[b]] += 1;
            }
        }
        (single, pairs)
    }

    /// The packed values of `Z_67` and `Z_67*` are uniform, each position of a word alone
    /// and every pair of positions of one word jointly; a sampler that uses too few bits is
    /// rejected by the same test.
    #[test]
    fn packed_values_are_uniform() {
        let w = words(&Seed::from_u64(11), 1, 2, 600_000);
        let zp3 = |w: &[u64]| {
            let mut d = [0u8; 3];
            zp_packed(&mut d, w);
            d
        };
        let zps3 = |w: &[u64]| {
            let mut d = [0u8; 3];
            zp_star_packed(&mut d, w);
            d.map(|v| v - 1)
        };
        for (what, n, hist) in
            [("Z_67", 67, packed_histograms(&w, 67, zp3)), ("Z_67*", 66, packed_histograms(&w, 66, zps3))]
        {
            let (single, pairs) = hist;
            for (p, h) in single.iter().enumerate() {
                let t = uniform(h);
                assert!(t.accepts(1e-6), "{what}, position {p}: {t:?}");
            }
            for (q, h) in pairs.iter().enumerate() {
                assert_eq!(h.len(), n * n);
                let t = uniform(h);
                assert!(t.accepts(1e-6), "{what}, pair {q}: {t:?}");
            }
        }
        // Negative control: the same decoding from the top byte of each word only (256
        // equally likely triples): the test must reject it.
        let coarse = |w: &[u64]| {
            let mut d = [0u8; 3];
            zp_packed(&mut d, &[w[0] & (0xFF << 56)]);
            d
        };
        let (single, pairs) = packed_histograms(&w, 67, coarse);
        assert!(!uniform(&single[2]).accepts(1e-6), "the test must reject a coarse sampler");
        assert!(!uniform(&pairs[1]).accepts(1e-6), "the test must reject a coarse sampler");
    }

    /// The cyclic shift is uniform (chi-square over its `k` values, at 32 positions and at
    /// 20 and 48; a shift read from the top two bits of its word is rejected by the same
    /// test), and a rotation gathers lane `j` from `(j + ρ) mod k` in both of its forms.
    #[test]
    fn rotations_are_uniform_and_gather() {
        for (k, draws) in [(32usize, 40_000usize), (20, 30_000), (48, 40_000)] {
            let w = words(&Seed::from_u64(k as u64), 4, 5, draws);
            let mut counts = vec![0u64; k];
            let mut coarse = vec![0u64; k];
            let id: [u8; 64] = std::array::from_fn(|i| if i < k { u8::try_from(i).unwrap() } else { 0 });
            for &wi in &w {
                let rho = rotation(wi, k);
                counts[rho] += 1;
                coarse[rotation(wi & (0b11 << 62), k)] += 1;
                let p = rotate(&id, rho, k);
                for (j, &v) in p[..k].iter().enumerate() {
                    assert_eq!(usize::from(v), (j + rho) % k);
                }
                assert!(p[k..].iter().all(|&v| v == 0), "lanes past k stay zero");
                if k == 32 {
                    let narrow: [u8; 32] = std::array::from_fn(|i| id[i]);
                    assert_eq!(rotate(&narrow, rho, k)[..], p[..32], "the compile-time and generic forms agree");
                }
            }
            let t = uniform(&counts);
            assert!(t.accepts(1e-6), "k={k}: {t:?}");
            assert!(!uniform(&coarse).accepts(1e-6), "k={k}: the test must reject a coarse shift");
        }
    }

    #[test]
    fn reader_is_one_stream() {
        let s = Seed::from_u64(3);
        let whole = words(&s, 7, 9, 300);
        let mut r = WordReader::new(&s, 7, 9);
        let mut got = Vec::new();
        // Parts read by position, out of order, then the reader moved past them.
        for (ahead, n) in [(100usize, 37usize), (0, 100), (137, 163)] {
            let mut part = vec![0u64; n];
            r.at(ahead).fill_u64(&mut part);
            assert_eq!(part, whole[ahead..ahead + n], "{n} words from {ahead}");
            if ahead == 0 {
                got = part;
            }
        }
        r.skip(100);
        let mut rest = vec![0u64; 200];
        r.at(0).fill_u64(&mut rest);
        got.extend_from_slice(&rest);
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
            let mut e = v32;
            permute_prefix(&mut e, &w[..31]);
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
