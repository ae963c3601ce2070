//! PrivateCompare (docs/PROTOCOLS.md §6.2): the computing parties' messages and the
//! helper's decision, as pure functions over flat buffers.
//!
//! Parties 0 and 1 hold shares over `Z_67` of the 64 bits of some `x ∈ [0, 2^64)` (dealt
//! by the helper), a public `R ∈ {−1} ∪ [0, 2^64 − 1]` and a common bit `β` per element.
//! Each sends the helper 64 values of `Z_67` per element; the helper learns
//! `β' = β ⊕ (x > R)` and nothing else. The per-element common randomness `s`, `π`, `m`
//! (and `u` for the degenerate cases) comes from `k_01` streams at the invocation's `req`.
//!
//! The re-randomisation of step 4 (party 0 adds `m_k`, party 1 subtracts it) is the fix of
//! docs/PROTOCOLS.md §6.10: without it, the helper, who dealt both bit shares, can
//! recognise `R`.

use crate::labels;
use crate::stream::{WordReader, permute64, permute64x2, zp, zp_star};
use syft_ring::{Prg, Seed, Tensor, Z67};

/// Where a party's shares of the bits of `x` come from.
pub(crate) enum BitShares {
    /// Expanded from the seed shared with the helper (party 0, compressed accounting):
    /// 64 words per element, `w mod 67`, bit 0 first.
    Stream(Box<WordReader>),
    /// Received from the helper: shape `[N, 64]`, bit 0 first.
    Received(Tensor<Z67>),
}

/// The public inputs of one PrivateCompare invocation, per element.
pub(crate) struct PcPublic<'a> {
    /// `R` as a ring element.
    pub(crate) r: &'a [u64],
    /// Which elements have `R = −1` (`None`: none). `R = −1` and `R = 2^64 − 1` share a
    /// representation, so the flag tells them apart.
    pub(crate) minus_one: Option<&'a [bool]>,
    /// The common bit `β` (0/1).
    pub(crate) beta: &'a [u64],
}

/// How one element's 64 values are formed (docs/PROTOCOLS.md §6.2 step 1).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Case A (`β = 0`) or B (`β = 1`) with the reference number whose bits enter.
    Compare,
    /// The answer is 1: exactly one zero (at position 0).
    One,
    /// The answer is 0: no zero.
    None,
}

fn case_of(beta: u64, r: u64, minus_one: bool) -> Case {
    match (beta & 1, minus_one) {
        (0, true) => Case::One,
        (_, true) => Case::None,
        (1, false) if r == u64::MAX => Case::One,
        _ => Case::Compare,
    }
}

/// Elements per chunk of the message loop: each stream's words for a chunk
/// (`16 · 64 · 8` bytes = 8 KB) are generated into a reused buffer that stays in L1.
const PC_CHUNK: usize = 16;

/// Party `index`'s message to the helper: `64·N` digits of `Z_67`, element-major, slot
/// `k` of element `e` carrying `s_{π(k)}·c_{π(k)} ± m_k`.
///
/// `bits` must hold (or stream) `64·N` shares; the caller checks the lengths.
pub(crate) fn party_message(
    index: usize,
    k01: &Seed,
    req: u64,
    bits: &mut BitShares,
    public: &PcPublic<'_>,
) -> Vec<Z67> {
    let n = public.r.len();
    let iota = u16::from(index == 0);
    let mut out = Vec::with_capacity(64 * n);
    let case = |e: usize| case_of(public.beta[e], public.r[e], public.minus_one.is_some_and(|f| f[e]));
    let need_u = (0..n).any(|e| case(e) != Case::Compare);
    let mut s_stream = Prg::stream(k01, req, labels::PC_S);
    let mut u_stream = need_u.then(|| Prg::stream(k01, req, labels::PC_U));
    let mut p_stream = Prg::stream(k01, req, labels::PC_PERM);
    let mut m_stream = Prg::stream(k01, req, labels::PC_MASK);
    let mut sw = [0u64; 64 * PC_CHUNK];
    let mut mw = [0u64; 64 * PC_CHUNK];
    let mut pw = [0u64; 63 * PC_CHUNK];
    let mut uw = [0u64; 64 * PC_CHUNK];
    let (mut reader, received) = match bits {
        BitShares::Stream(r) => (Some(r), None),
        BitShares::Received(t) => (None, Some(t.data())),
    };
    let mut start = 0;
    while start < n {
        let len = PC_CHUNK.min(n - start);
        s_stream.fill_u64(&mut sw[..64 * len]);
        m_stream.fill_u64(&mut mw[..64 * len]);
        p_stream.fill_u64(&mut pw[..63 * len]);
        if let Some(u) = u_stream.as_mut() {
            u.fill_u64(&mut uw[..64 * len]);
        }
        let streamed = reader.as_mut().map(|r| r.take(64 * len));
        // Step 1–2 for element `off` of the chunk: d_i = s_i·c_i.
        let scaled = |off: usize| -> [u8; 64] {
            let e = start + off;
            let x: [u8; 64] = match (&streamed, received) {
                (Some(w), _) => digits64(&w[64 * off..64 * off + 64], zp),
                (None, Some(t)) => {
                    let v = &t[64 * e..64 * e + 64];
                    std::array::from_fn(|i| v[i].get())
                }
                (None, None) => [0; 64],
            };
            let s = digits64(&sw[64 * off..64 * off + 64], zp_star);
            let mut d = [0u8; 64];
            match case(e) {
                Case::Compare => compare_digits(iota, public.beta[e] & 1, public.r[e], &x, &s, &mut d),
                c => {
                    let u = digits64(&uw[64 * off..64 * off + 64], zp);
                    special_digits(iota, c == Case::None, &u, &s, &mut d);
                }
            }
            d
        };
        let masked = |off: usize, d: &[u8; 64]| mask_digits(d, &digits64(&mw[64 * off..64 * off + 64], zp), iota == 1);
        // Step 3: slot k carries d_{π(k)} (the Fisher–Yates swaps that build π, applied to
        // d). Two elements at a time: their swap chains are independent and interleave.
        let mut off = 0;
        while off + 1 < len {
            let (mut d0, mut d1) = (scaled(off), scaled(off + 1));
            permute64x2(&mut d0, &mut d1, &pw[63 * off..63 * off + 126]);
            out.extend_from_slice(&masked(off, &d0));
            out.extend_from_slice(&masked(off + 1, &d1));
            off += 2;
        }
        if off < len {
            let mut d = scaled(off);
            permute64(&mut d, &pw[63 * off..63 * off + 63]);
            out.extend_from_slice(&masked(off, &d));
        }
        start += len;
    }
    out
}

/// The 64 digits `f(w_i)` of 64 words (`w` must hold 64 words).
#[inline(always)]
fn digits64(w: &[u64], f: impl Fn(u64) -> u8) -> [u8; 64] {
    let mut out = [0u8; 64];
    if let Ok(w) = <&[u64; 64]>::try_from(w) {
        for (o, &w) in out.iter_mut().zip(w) {
            *o = f(w);
        }
    }
    out
}

/// The element of `Z_67` for a digit `v < 67` (the clamp lets the compiler drop the
/// reduction in `Z67::new`).
#[inline]
pub(crate) fn digit(v: u8) -> Z67 {
    Z67::new(u64::from(v.min(66)))
}

/// Step 4: `v_k + m_k` (party 0) or `v_k − m_k` (party 1), mod 67.
#[inline]
fn mask_digits(v: &[u8; 64], m: &[u8; 64], add: bool) -> [Z67; 64] {
    let mut out = [Z67::default(); 64];
    for k in 0..64 {
        let mk = if add { m[k] } else { 67 - m[k] };
        // v + mk < 134: subtract 67 unless that wraps.
        let s = v[k] + mk;
        out[k] = digit(s.min(s.wrapping_sub(67)));
    }
    out
}

/// `d_i = s_i·c_i mod 67` for `c` below 2^16 / 67.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "the result is below 67")]
fn scale_digits(s: &[u8; 64], c: &[u16; 64], d: &mut [u8; 64]) {
    for i in 0..64 {
        d[i] = (u16::from(s[i]).wrapping_mul(c[i] % 67) % 67) as u8;
    }
}

/// Cases ONE (`none = false`: one zero, at position 0) and NONE (no zero):
/// `c_i = ι(u_i + [i ≠ 0 or NONE]) − (1 − ι)u_i`.
fn special_digits(iota: u16, none: bool, u: &[u8; 64], s: &[u8; 64], d: &mut [u8; 64]) {
    let mut c = [0u16; 64];
    for (i, (c, &ui)) in c.iter_mut().zip(u).enumerate() {
        let ui = u16::from(ui);
        *c = if iota == 1 { ui + u16::from(none || i != 0) } else { 67 - ui };
    }
    scale_digits(s, &c, d);
}

/// `BIT_MASKS[b][j] = 0xFFFF` iff bit `j` of the byte `b` is set: the bits of a word as
/// lane masks, eight at a time.
const BIT_MASKS: [[u16; 8]; 256] = {
    let mut t = [[0u16; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 8 {
            if (b >> j) & 1 == 1 {
                t[b][j] = 0xFFFF;
            }
            j += 1;
        }
        b += 1;
    }
    t
};

/// Cases A and B of docs/PROTOCOLS.md §6.2 for one element: `d_i = s_i·c_i` with
/// - `β = 0`: `c_i = ι(r_i + 1) − x_i + Σ_{k>i} w_k`, `w_k = x_k + ι r_k − 2 r_k x_k`;
/// - `β = 1`: the same with `t = R + 1`, `c_i = ι(1 − t_i) + x_i + Σ_{k>i} w_k`.
///
/// Computed over the integers in `u16` lanes (values stay below `2 + 67 + 63·68 < 2^13`)
/// and reduced once: the per-digit terms in a vectorised pass (the bits of the reference
/// number as lane masks, eight at a time), the suffix sums in one scalar pass from the
/// top, and the reduction and scaling in a second vectorised pass.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "digits are below 67")]
fn compare_digits(iota: u16, beta: u64, r: u64, x: &[u8; 64], s: &[u8; 64], d: &mut [u8; 64]) {
    // R = 2^64 − 1 with β = 1 is Case ONE, so R + 1 does not wrap here.
    let reference = if beta == 0 { r } else { r.wrapping_add(1) };
    let bytes = reference.to_le_bytes();
    // With the bit as a mask m ∈ {0, 0xFFFF}: w = m ? ι + 67 − x : x, and
    // β = 0: c = ι(r + 1) + 67 − x;  β = 1: c = ι(1 − r) + x.
    let (c_one, c_zero, sign) = if beta == 0 { (2 * iota + 67, iota + 67, 0xFFFFu16) } else { (0, iota, 1) };
    let mut w = [0u16; 64];
    let mut c = [0u16; 64];
    for (g, &byte) in bytes.iter().enumerate() {
        let mask = &BIT_MASKS[usize::from(byte)];
        for j in 0..8 {
            let xi = u16::from(x[8 * g + j]);
            let flip = (iota + 67).wrapping_sub(xi);
            w[8 * g + j] = xi ^ ((xi ^ flip) & mask[j]);
            let base = c_zero ^ ((c_zero ^ c_one) & mask[j]);
            // sign = 0xFFFF subtracts x (two's complement), sign = 1 adds it.
            c[8 * g + j] = base.wrapping_add(xi.wrapping_mul(sign));
        }
    }
    // Exclusive suffix sums: c_i += Σ_{k>i} w_k.
    let mut above = 0u16;
    for (c, &w) in c.iter_mut().zip(&w).rev() {
        *c = c.wrapping_add(above);
        above = above.wrapping_add(w);
    }
    for i in 0..64 {
        d[i] = (u16::from(s[i]).wrapping_mul(c[i] % 67) % 67) as u8;
    }
}

/// The helper's step 6–7: `β'_e = 1` iff some slot of element `e` sums to 0 mod 67.
///
/// The caller checks that both messages have `64·N` values.
pub(crate) fn helper_decide(m0: &[Z67], m1: &[Z67]) -> Vec<u64> {
    m0.chunks_exact(64)
        .zip(m1.chunks_exact(64))
        .map(|(a, b)| {
            let mut zero = false;
            for (x, y) in a.iter().zip(b) {
                let s = x.get() + y.get();
                zero |= s == 0 || s == 67;
            }
            u64::from(zero)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
    use super::*;

    /// Shares of the bits of `xs` over Z_67: party 0's from a stream, party 1's the rest.
    fn bit_shares(xs: &[u64], seed: u64) -> (Tensor<Z67>, Tensor<Z67>) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let mut s0 = Vec::new();
        let mut s1 = Vec::new();
        for &x in xs {
            for i in 0..64 {
                let b = (x >> i) & 1;
                let r = zp(prg.next_u64());
                s0.push(Z67::new(u64::from(r)));
                s1.push(Z67::new(b + 67 - u64::from(r)));
            }
        }
        let n = xs.len();
        (Tensor::new(&[n, 64], s0).unwrap(), Tensor::new(&[n, 64], s1).unwrap())
    }

    fn digits(v: &[Z67]) -> Vec<u8> {
        v.iter().map(|d| d.get()).collect()
    }

    /// Runs PC and returns (β', messages of both parties).
    fn run(xs: &[u64], rs: &[u64], minus_one: &[bool], beta: &[u64], req: u64) -> (Vec<u64>, Vec<u8>, Vec<u8>) {
        let k01 = Seed::from_u64(0x5eed);
        let (b0, b1) = bit_shares(xs, req);
        let public = PcPublic { r: rs, minus_one: Some(minus_one), beta };
        let m0 = party_message(0, &k01, req, &mut BitShares::Received(b0), &public);
        let m1 = party_message(1, &k01, req, &mut BitShares::Received(b1), &public);
        (helper_decide(&m0, &m1), digits(&m0), digits(&m1))
    }

    fn expected(x: u64, r: u64, minus_one: bool, beta: u64) -> u64 {
        let gt = if minus_one { true } else { x > r };
        beta ^ u64::from(gt)
    }

    #[test]
    fn edge_cases_of_r_and_x() {
        let specials =
            [0u64, 1, 2, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, u64::MAX - 1, u64::MAX, 0x1234_5678_9abc_def0];
        let (mut xs, mut rs, mut m1, mut betas) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for &r in &specials {
            for dx in [-1i64, 0, 1] {
                let x = r.wrapping_add(dx as u64);
                for beta in 0..2 {
                    for minus_one in [false, true] {
                        if minus_one && r != u64::MAX {
                            continue;
                        }
                        xs.push(x);
                        rs.push(r);
                        m1.push(minus_one);
                        betas.push(beta);
                    }
                }
            }
        }
        let (got, _, _) = run(&xs, &rs, &m1, &betas, 17);
        for e in 0..xs.len() {
            assert_eq!(
                got[e],
                expected(xs[e], rs[e], m1[e], betas[e]),
                "x={:#x} R={:#x} -1={} β={}",
                xs[e],
                rs[e],
                m1[e],
                betas[e]
            );
        }
    }

    #[test]
    fn random_inputs() {
        let mut prg = Prg::new(&Seed::from_u64(99));
        let n = 4000;
        let mut xs = Vec::new();
        let mut rs = Vec::new();
        for e in 0..n {
            let r = prg.next_u64();
            // A quarter of the x share a long prefix with R.
            let x = match e % 4 {
                0 => r ^ (prg.next_u64() & 0xff),
                1 => r,
                _ => prg.next_u64(),
            };
            xs.push(x);
            rs.push(r);
        }
        let betas: Vec<u64> = (0..n).map(|_| prg.next_u64() & 1).collect();
        let m1 = vec![false; n];
        let (got, m0, mm1) = run(&xs, &rs, &m1, &betas, 3);
        for e in 0..n {
            assert_eq!(got[e], expected(xs[e], rs[e], false, betas[e]));
        }
        assert_eq!(m0.len(), 64 * n);
        assert_eq!(mm1.len(), 64 * n);
    }

    #[test]
    fn stream_and_received_bit_shares_agree() {
        // Party 0 under compressed accounting expands its bit shares from the stream the
        // helper uses; the message must equal the one built from the same values received.
        let seed = Seed::from_u64(8);
        let n = 700; // more than one chunk
        let words = crate::stream::words(&seed, 5, labels::H_MSB_XBITS, 64 * n);
        let received = Tensor::new(&[n, 64], words.iter().map(|&w| Z67::new(u64::from(zp(w)))).collect()).unwrap();
        let rs: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        let beta: Vec<u64> = (0..n as u64).map(|i| i & 1).collect();
        let public = PcPublic { r: &rs, minus_one: None, beta: &beta };
        let k01 = Seed::from_u64(1);
        let a = party_message(
            0,
            &k01,
            6,
            &mut BitShares::Stream(Box::new(WordReader::new(&seed, 5, labels::H_MSB_XBITS))),
            &public,
        );
        let b = party_message(0, &k01, 6, &mut BitShares::Received(received), &public);
        assert_eq!(a, b);
    }

    /// The raw `c_i` of party `index` for a guess `R` (β = 0, `s_i = 1`).
    fn raw_c(index: usize, bits: &Tensor<Z67>, r: u64) -> [u8; 64] {
        let mut x = [0u8; 64];
        for (d, v) in x.iter_mut().zip(bits.data()) {
            *d = v.get();
        }
        let mut d = [0u8; 64];
        compare_digits(u16::from(index == 0), 0, r, &x, &[1u8; 64], &mut d);
        d
    }

    /// The sorted multiset of slot ratios `a_k / b_k` (None where `b_k = 0`).
    fn ratios(a: &[u8], b: &[u8]) -> Vec<Option<u32>> {
        let mut out: Vec<Option<u32>> = a
            .iter()
            .zip(b)
            .map(|(&a, &b)| {
                (b != 0).then(|| {
                    let inv = (1..67).find(|v| (u32::from(b) * v) % 67 == 1).unwrap_or(0);
                    (u32::from(a) * inv) % 67
                })
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The helper's attack on one PC transcript: without masks, `msg0_k / msg1_k =
    /// c0_i / c1_i` for the slot `i = π(k)`, so the multiset of ratios is predictable for
    /// each guess of `R`. Returns whether it picks the true `R` over a wrong one (ties
    /// broken by `coin`).
    fn picks_true_r(
        r_true: u64,
        r_wrong: u64,
        b0: &Tensor<Z67>,
        b1: &Tensor<Z67>,
        m0: &[u8],
        m1: &[u8],
        coin: bool,
    ) -> bool {
        let observed = ratios(m0, m1);
        let score = |r: u64| usize::from(ratios(&raw_c(0, b0, r), &raw_c(1, b1, r)) == observed);
        match score(r_true).cmp(&score(r_wrong)) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => coin,
        }
    }

    /// Runs the attack on `trials` random instances, with or without the masks of step 4.
    fn attack_rate(trials: u64, strip_masks: bool, seed: u64) -> f64 {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let mut hits = 0u64;
        for t in 0..trials {
            let (x, r_true, r_wrong) = (prg.next_u64(), prg.next_u64(), prg.next_u64());
            let (b0, b1) = bit_shares(&[x], seed + t);
            let k01 = Seed::from_u64(seed ^ t);
            let public = PcPublic { r: &[r_true], minus_one: None, beta: &[0] };
            let masks: Vec<u32> =
                crate::stream::words(&k01, 1, labels::PC_MASK, 64).into_iter().map(|w| u32::from(zp(w))).collect();
            let bytes = |index: usize, msg: Vec<Z67>| -> Vec<u8> {
                msg.iter()
                    .zip(&masks)
                    .map(|(v, &mk)| {
                        let v = u32::from(v.get());
                        let raw = match (strip_masks, index) {
                            (false, _) => v,
                            (true, 0) => (v + 67 - mk) % 67,
                            (true, _) => (v + mk) % 67,
                        };
                        u8::try_from(raw).unwrap()
                    })
                    .collect()
            };
            let m0 = bytes(0, party_message(0, &k01, 1, &mut BitShares::Received(b0.clone()), &public));
            let m1 = bytes(1, party_message(1, &k01, 1, &mut BitShares::Received(b1.clone()), &public));
            hits += u64::from(picks_true_r(r_true, r_wrong, &b0, &b1, &m0, &m1, prg.next_u64() & 1 == 1));
        }
        hits as f64 / trials as f64
    }

    /// docs/PROTOCOLS.md §6.2, step 4: the helper, who dealt both bit shares, tries to tell
    /// the true `R` from a wrong guess. With the re-randomisation (step 4) it does no
    /// better than chance.
    #[test]
    fn helper_cannot_recognise_r() {
        let rate = attack_rate(4000, false, 4242);
        assert!((0.46..0.54).contains(&rate), "the helper recognises R at rate {rate}");
    }

    /// Negative control: strip the masks (as the paper's protocol would send) and the same
    /// attack recognises the true `R` essentially always (the simulation: 100%).
    #[test]
    fn the_attack_works_without_rerandomisation() {
        let rate = attack_rate(300, true, 77);
        assert!(rate > 0.95, "negative control: rate {rate}");
    }
}
