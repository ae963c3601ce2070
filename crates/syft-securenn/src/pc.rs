//! PrivateCompare (docs/PROTOCOLS.md §6.2): the computing parties' messages and the
//! helper's decision, as pure functions over flat buffers.
//!
//! Parties 0 and 1 hold shares over `Z_67` of the `k` bits of some `x ∈ [0, 2^k)` (dealt
//! by the helper; `k` is the comparison [`Width`], 64 by default), a public
//! `R ∈ {−1} ∪ [0, 2^k − 1]` and a common bit `β` per element. Each sends the helper `k`
//! values of `Z_67` per element; the helper learns `β' = β ⊕ (x > R)` and nothing else.
//! The per-element common randomness `s`, `π`, `m` (and `u` for the degenerate cases)
//! comes from `k_01` streams at the invocation's `req`.
//!
//! - At the full width (`k = 64`) every value takes one 64-bit word: 64 values `s_i`, 63
//!   Fisher–Yates partners, 64 masks (and 64 `u_i`), and party 0's 64 bit shares (under
//!   compressed accounting) 64 words of `k_0D`. These draws are the ones of the
//!   known-answer vectors and do not change.
//! - Below it (`k < 64`) the values are packed several per word: a word `w`, read as the
//!   fraction `w / 2^64`, yields `v = ⌊w·n / 2^64⌋` for a range `n`, then `w ← w·n mod 2^64`
//!   gives the next value, and a new word starts whenever the product of the ranges drawn
//!   from one word would exceed `2^20`. So three values of `Z_67` or `Z_67*` per word
//!   (`⌈k/3⌉` words each for `s`, `m`, `u` and the bit shares), and `π` is a uniform cyclic
//!   shift drawn from one word (which hides the one zero's position exactly as a uniform
//!   permutation does: docs/PROTOCOLS.md §6.2): 23 words per element from `k_01` at
//!   `k = 32` instead of 95, and 11 of `k_0D` instead of 32. The values of one word are
//!   jointly within statistical distance `N·2^-65 ≤ 2^-45` of uniform (`N` the product of
//!   their ranges), hence each value too.
//!
//! docs/PROTOCOLS.md §3.2 defines both samplers.
//!
//! Correctness needs `p = 67 > k + 1` (the non-zero sums lie in `[1, k + 1]`), true for
//! every `k ≤ 64`.
//!
//! The re-randomisation of step 4 (party 0 adds `m_k`, party 1 subtracts it) is the fix of
//! docs/PROTOCOLS.md §6.10: without it, the helper, who dealt both bit shares, can
//! recognise `R`.

use crate::Width;
use crate::labels;
use crate::stream::{
    WordReader, packed_lanes, packed_words, permute_prefix, permute64, permute64x2, rotate, rotation, zp, zp_star,
};
use syft_ring::{Prg, Seed, Tensor, Z67};

/// Where a party's shares of the bits of `x` come from.
pub(crate) enum BitShares {
    /// Expanded from the seed shared with the helper (party 0, compressed accounting),
    /// bit 0 first: `k` words per element, `w mod 67`, at the full width; `⌈k/3⌉` packed
    /// words below it ([`bit_share_digits`]).
    Stream(Box<WordReader>),
    /// Received from the helper: shape `[N, k]`, bit 0 first.
    Received(Tensor<Z67>),
}

/// The public inputs of one PrivateCompare invocation, per element.
pub(crate) struct PcPublic<'a> {
    /// `R` as a ring element, below `2^k`.
    pub(crate) r: &'a [u64],
    /// Which elements have `R = −1` (`None`: none). `R = −1` and `R = 2^k − 1` share a
    /// representation, so the flag tells them apart.
    pub(crate) minus_one: Option<&'a [bool]>,
    /// The common bit `β` (0/1).
    pub(crate) beta: &'a [u64],
}

/// How one element's `k` values are formed (docs/PROTOCOLS.md §6.2 step 1).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Case A (`β = 0`) or B (`β = 1`) with the reference number whose bits enter.
    Compare,
    /// The answer is 1: exactly one zero (at position 0).
    One,
    /// The answer is 0: no zero.
    None,
}

fn case_of(beta: u64, r: u64, minus_one: bool, width: Width) -> Case {
    match (beta & 1, minus_one) {
        (0, true) => Case::One,
        (_, true) => Case::None,
        (1, false) if r == width.mask() => Case::One,
        _ => Case::Compare,
    }
}

/// Elements per chunk of the message loop: each stream's words for a chunk
/// (at most `16 · 64 · 8` bytes = 8 KB) are generated into a reused buffer that stays in L1.
const PC_CHUNK: usize = 16;

/// Party `index`'s message to the helper: `k·N` digits of `Z_67` (`k` = `width`),
/// element-major, slot `j` of element `e` carrying `s_{π(j)}·c_{π(j)} ± m_j`.
///
/// `bits` must hold (or stream) `k·N` shares; `public.r` must be below `2^k`; the caller
/// checks the lengths. The digits are computed in lanes of 32 (`k ≤ 32`) or 64. At the
/// full width every value takes one word; below it the values are packed (module docs).
pub(crate) fn party_message(
    index: usize,
    k01: &Seed,
    req: u64,
    bits: &mut BitShares,
    public: &PcPublic<'_>,
    width: Width,
) -> Vec<Z67> {
    if width.is_full() {
        message_lanes::<64, false>(index, k01, req, bits, public, width)
    } else if width.digits() <= 32 {
        message_lanes::<32, true>(index, k01, req, bits, public, width)
    } else {
        message_lanes::<64, true>(index, k01, req, bits, public, width)
    }
}

/// The words each per-element draw of PrivateCompare takes at `width`: `(v, p)`, `v` for
/// the `k` values of `s`, `m`, `u` and party 0's bit shares, `p` for the permutation. At
/// the full width one word per value and per Fisher–Yates partner; below it the values are
/// packed and the permutation is a cyclic shift drawn from one word (docs/PROTOCOLS.md
/// §3.2, §6.2).
pub(crate) const fn words_per_element(width: Width) -> (usize, usize) {
    let k = width.digits();
    if width.is_full() { (k, k - 1) } else { (packed_words(k), 1) }
}

/// Party 0's `k` bit shares over `Z_67` of one element from its words of the `k_0D`
/// stream (`words_per_element(width).0` of them), as the helper draws them: `w mod 67`
/// per word at the full width, packed below it. Lanes `k..K` are zero.
#[inline(always)]
pub(crate) fn bit_share_digits<const K: usize>(words: &[u64], width: Width) -> [u8; K] {
    let k = width.digits().min(K);
    if width.is_full() { digits::<K>(&words[..k.min(words.len())], zp) } else { packed_lanes::<K>(words, k, 67, 0) }
}

/// Elements per part when a message is computed on several threads: each part's streams
/// start at its first element's words, so the parts are independent.
const PC_PART: usize = 64 * PC_CHUNK;

/// [`party_message`] with the digits of one element in `K ≥ k` lanes (lanes `k..K` are
/// zero in `x` and in the reference number, so they add nothing to the suffix sums, and
/// they are never sent); `PACKED` draws several values per word (`k < 64`). Messages of
/// more than one part ([`PC_PART`] elements) are computed part by part on the thread pool;
/// every draw is at a fixed position of its stream, so the message is the same.
fn message_lanes<const K: usize, const PACKED: bool>(
    index: usize,
    k01: &Seed,
    req: u64,
    bits: &mut BitShares,
    public: &PcPublic<'_>,
    width: Width,
) -> Vec<Z67> {
    use rayon::prelude::*;
    let k = width.digits();
    let vw = words_per_element(width).0;
    let n = public.r.len();
    let mut out = vec![Z67::default(); k * n];
    {
        let (reader, received) = match &*bits {
            BitShares::Stream(r) => (Some(&**r), None),
            BitShares::Received(t) => (None, Some(t.data())),
        };
        let part = |start: usize, out: &mut [Z67]| {
            let bits = reader.map(|r| r.at(start * vw));
            message_part::<K, PACKED>(index, k01, req, bits, received, public, width, start, out);
        };
        if n <= PC_PART || rayon::current_num_threads() < 2 {
            part(0, &mut out);
        } else {
            out.par_chunks_mut(k * PC_PART).enumerate().for_each(|(i, o)| part(i * PC_PART, o));
        }
    }
    if let BitShares::Stream(r) = bits {
        r.skip(n * vw);
    }
    out
}

/// The digits of elements `first..first + out.len() / k` of [`message_lanes`] into `out`:
/// the streams start at the words of element `first`, and so does `bits` (party 0's
/// expanded bit shares; `received` holds party 1's for all elements).
#[allow(clippy::too_many_arguments, reason = "one part of message_lanes, all of its inputs")]
fn message_part<const K: usize, const PACKED: bool>(
    index: usize,
    k01: &Seed,
    req: u64,
    mut bits: Option<Prg>,
    received: Option<&[Z67]>,
    public: &PcPublic<'_>,
    width: Width,
    first: usize,
    out: &mut [Z67],
) {
    let k = width.digits();
    let (vw, pw_len) = words_per_element(width);
    let n = out.len() / k;
    let iota = u16::from(index == 0);
    let case = |e: usize| case_of(public.beta[e], public.r[e], public.minus_one.is_some_and(|f| f[e]), width);
    let need_u = (first..first + n).any(|e| case(e) != Case::Compare);
    let at = |label: u16, per: usize| {
        let mut p = Prg::stream(k01, req, label);
        p.seek_word((first * per) as u64);
        p
    };
    let mut s_stream = at(labels::PC_S, vw);
    let mut u_stream = need_u.then(|| at(labels::PC_U, vw));
    let mut p_stream = at(labels::PC_PERM, pw_len);
    let mut m_stream = at(labels::PC_MASK, vw);
    let mut sw = [0u64; 64 * PC_CHUNK];
    let mut mw = [0u64; 64 * PC_CHUNK];
    let mut pw = [0u64; 63 * PC_CHUNK];
    let mut uw = [0u64; 64 * PC_CHUNK];
    let mut bw = [0u64; 64 * PC_CHUNK];
    // The `k` values of `Z_67` (or `Z_67*`) of element `off` of the chunk from its words.
    let zp_of = |w: &[u64], off: usize| -> [u8; K] {
        let w = &w[vw * off..vw * off + vw];
        if PACKED { packed_lanes::<K>(w, k, 67, 0) } else { digits::<K>(w, zp) }
    };
    let zp_star_of = |w: &[u64], off: usize| -> [u8; K] {
        let w = &w[vw * off..vw * off + vw];
        if PACKED { packed_lanes::<K>(w, k, 66, 1) } else { digits::<K>(w, zp_star) }
    };
    let mut done = 0;
    while done < n {
        let len = PC_CHUNK.min(n - done);
        let start = first + done;
        s_stream.fill_u64(&mut sw[..vw * len]);
        m_stream.fill_u64(&mut mw[..vw * len]);
        p_stream.fill_u64(&mut pw[..pw_len * len]);
        if let Some(u) = u_stream.as_mut() {
            u.fill_u64(&mut uw[..vw * len]);
        }
        let streamed = bits.as_mut().map(|b| {
            b.fill_u64(&mut bw[..vw * len]);
            &bw[..vw * len]
        });
        // Step 1–2 for element `off` of the chunk: d_i = s_i·c_i.
        let scaled = |off: usize| -> [u8; K] {
            let e = start + off;
            let x: [u8; K] = match (streamed, received) {
                (Some(w), _) => bit_share_digits::<K>(&w[vw * off..vw * off + vw], width),
                (None, Some(t)) => {
                    let mut x = [0u8; K];
                    for (o, d) in x.iter_mut().zip(&t[k * e..k * e + k]) {
                        *o = d.get();
                    }
                    x
                }
                (None, None) => [0; K],
            };
            let s = zp_star_of(&sw, off);
            let mut d = [0u8; K];
            match case(e) {
                Case::Compare => compare_digits(iota, public.beta[e] & 1, public.r[e], &x, &s, &mut d),
                c => special_digits(iota, c == Case::None, &zp_of(&uw, off), &s, &mut d),
            }
            d
        };
        let masked = |off: usize, d: &[u8; K]| mask_digits(d, &zp_of(&mw, off), iota == 1);
        // The first `k` slots of element `off` of the chunk (a copy of compile-time length
        // when `k = K`).
        let chunk = &mut out[k * done..k * (done + len)];
        let mut emit = |off: usize, v: &[Z67; K]| {
            if k == K
                && let Ok(slots) = <&mut [Z67; K]>::try_from(&mut chunk[K * off..K * off + K])
            {
                *slots = *v;
            } else {
                chunk[k * off..k * off + k].copy_from_slice(&v[..k]);
            }
        };
        // Step 3: slot j carries d_{π(j)}.
        if PACKED {
            // A cyclic shift: π(j) = (j + ρ) mod k, ρ from the element's word.
            for (off, &w) in pw[..pw_len * len].iter().step_by(pw_len).enumerate() {
                let d = rotate(&scaled(off), rotation(w, k), k);
                emit(off, &masked(off, &d));
            }
        } else {
            // The Fisher–Yates swaps that build π, applied to d. Two elements at a time:
            // their swap chains are independent and interleave.
            let mut off = 0;
            while off + 1 < len {
                let (mut d0, mut d1) = (scaled(off), scaled(off + 1));
                permute2(&mut d0, &mut d1, &pw[(k - 1) * off..(k - 1) * (off + 2)], k);
                emit(off, &masked(off, &d0));
                emit(off + 1, &masked(off + 1, &d1));
                off += 2;
            }
            if off < len {
                let mut d = scaled(off);
                permute(&mut d, &pw[(k - 1) * off..(k - 1) * (off + 1)], k);
                emit(off, &masked(off, &d));
            }
        }
        done += len;
    }
}

/// Step 3 on the first `k` lanes of `d`, one word per step (the full width), with
/// compile-time divisors when `k` is 64.
#[inline(always)]
fn permute<const K: usize>(d: &mut [u8; K], w: &[u64], k: usize) {
    if k == K
        && let Ok(a) = <&mut [u8; 64]>::try_from(&mut d[..])
    {
        return permute64(a, w);
    }
    permute_prefix(&mut d[..k], w);
}

/// [`permute`] of two elements' digits, `d0` with `w[..k−1]` and `d1` with the rest.
#[inline(always)]
fn permute2<const K: usize>(d0: &mut [u8; K], d1: &mut [u8; K], w: &[u64], k: usize) {
    if k == K
        && let (Ok(a), Ok(b)) = (<&mut [u8; 64]>::try_from(&mut d0[..]), <&mut [u8; 64]>::try_from(&mut d1[..]))
    {
        return permute64x2(a, b, w);
    }
    permute_prefix(&mut d0[..k], &w[..k - 1]);
    permute_prefix(&mut d1[..k], &w[k - 1..]);
}

/// The digits `f(w_i)` of up to `K` words, zero beyond `w.len()`.
#[inline(always)]
fn digits<const K: usize>(w: &[u64], f: impl Fn(u64) -> u8) -> [u8; K] {
    let mut out = [0u8; K];
    if let Ok(w) = <&[u64; K]>::try_from(w) {
        for (o, &w) in out.iter_mut().zip(w) {
            *o = f(w);
        }
    } else {
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

/// Step 4: `v_j + m_j` (party 0) or `v_j − m_j` (party 1), mod 67.
#[inline]
fn mask_digits<const K: usize>(v: &[u8; K], m: &[u8; K], add: bool) -> [Z67; K] {
    let mut out = [Z67::default(); K];
    for j in 0..K {
        let mj = if add { m[j] } else { 67 - m[j] };
        // v + mj < 134: subtract 67 unless that wraps.
        let s = v[j] + mj;
        out[j] = digit(s.min(s.wrapping_sub(67)));
    }
    out
}

/// `d_i = s_i·c_i mod 67` for `c` below 2^16 / 67.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "the result is below 67")]
fn scale_digits<const K: usize>(s: &[u8; K], c: &[u16; K], d: &mut [u8; K]) {
    for i in 0..K {
        d[i] = (u16::from(s[i]).wrapping_mul(c[i] % 67) % 67) as u8;
    }
}

/// Cases ONE (`none = false`: one zero, at position 0) and NONE (no zero):
/// `c_i = ι(u_i + [i ≠ 0 or NONE]) − (1 − ι)u_i`.
fn special_digits<const K: usize>(iota: u16, none: bool, u: &[u8; K], s: &[u8; K], d: &mut [u8; K]) {
    let mut c = [0u16; K];
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

/// Cases A and B of docs/PROTOCOLS.md §6.2 for one element in `K` lanes: `d_i = s_i·c_i`
/// with
/// - `β = 0`: `c_i = ι(r_i + 1) − x_i + Σ_{k>i} w_k`, `w_k = x_k + ι r_k − 2 r_k x_k`;
/// - `β = 1`: the same with `t = R + 1`, `c_i = ι(1 − t_i) + x_i + Σ_{k>i} w_k`.
///
/// The reference number (`R` or `R + 1`) must be below `2^K` and `x` zero in the lanes
/// above the width, so that those lanes add nothing to the suffix sums.
///
/// Computed over the integers in `u16` lanes (values stay below `2 + 67 + 63·68 < 2^13`)
/// and reduced once: the per-digit terms in a vectorised pass (the bits of the reference
/// number as lane masks, eight at a time), the suffix sums in one scalar pass from the
/// top, and the reduction and scaling in a second vectorised pass.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "digits are below 67")]
fn compare_digits<const K: usize>(iota: u16, beta: u64, r: u64, x: &[u8; K], s: &[u8; K], d: &mut [u8; K]) {
    // R = 2^k − 1 with β = 1 is Case ONE, so R + 1 does not leave the width here.
    let reference = if beta == 0 { r } else { r.wrapping_add(1) };
    let bytes = reference.to_le_bytes();
    // With the bit as a mask m ∈ {0, 0xFFFF}: w = m ? ι + 67 − x : x, and
    // β = 0: c = ι(r + 1) + 67 − x;  β = 1: c = ι(1 − r) + x.
    let (c_one, c_zero, sign) = if beta == 0 { (2 * iota + 67, iota + 67, 0xFFFFu16) } else { (0, iota, 1) };
    let mut w = [0u16; K];
    let mut c = [0u16; K];
    for (g, &byte) in bytes.iter().enumerate().take(K / 8) {
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
    for i in 0..K {
        d[i] = (u16::from(s[i]).wrapping_mul(c[i] % 67) % 67) as u8;
    }
}

/// The helper's step 6–7: `β'_e = 1` iff some slot of element `e` sums to 0 mod 67
/// (`k` slots per element).
///
/// The caller checks that both messages have `k·N` values.
pub(crate) fn helper_decide(m0: &[Z67], m1: &[Z67], width: Width) -> Vec<u64> {
    let k = width.digits();
    m0.chunks_exact(k)
        .zip(m1.chunks_exact(k))
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

    const WIDTHS: [u32; 5] = [64, 48, 32, 16, 2];

    fn width(bits: u32) -> Width {
        Width::new(bits).unwrap()
    }

    /// Shares of the `k` bits of `xs` over Z_67: party 0's from a stream, party 1's the rest.
    fn bit_shares(xs: &[u64], seed: u64, width: Width) -> (Tensor<Z67>, Tensor<Z67>) {
        let k = width.digits();
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let mut s0 = Vec::new();
        let mut s1 = Vec::new();
        for &x in xs {
            for i in 0..k {
                let b = (x >> i) & 1;
                let r = zp(prg.next_u64());
                s0.push(Z67::new(u64::from(r)));
                s1.push(Z67::new(b + 67 - u64::from(r)));
            }
        }
        let n = xs.len();
        (Tensor::new(&[n, k], s0).unwrap(), Tensor::new(&[n, k], s1).unwrap())
    }

    /// The `k·N` values of `Z_67` (`offset = 0`) or `Z_67*` (`offset = 1`) of a stream as
    /// docs/PROTOCOLS.md §3.2 defines them, element by element: at the full width one per
    /// word, `w mod 67` or `1 + w mod 66`; below it three per word, the `p`-th value of a
    /// word `w` being `⌊w·n^(p+1) / 2^64⌋ mod n` (`n = 67`, or 66 and then plus 1).
    fn values(seed: &Seed, req: u64, label: u16, width: Width, n: usize, offset: u64) -> Vec<u8> {
        let k = width.digits();
        let modulus = 67 - offset;
        let per = if width.is_full() { k } else { k.div_ceil(3) };
        let w = crate::stream::words(seed, req, label, per * n);
        let mut out = Vec::new();
        for ws in w.chunks_exact(per) {
            for i in 0..k {
                let v = if width.is_full() {
                    ws[i] % modulus
                } else {
                    let big = u128::from(modulus).pow(u32::try_from(i % 3 + 1).unwrap());
                    u64::try_from(((u128::from(ws[i / 3]) * big) >> 64) % u128::from(modulus)).unwrap()
                };
                out.push(u8::try_from(v + offset).unwrap());
            }
        }
        out
    }

    /// The permutation `π` of each of `n` elements (`perm[j]`: the position slot `j`
    /// carries): at the full width by the Fisher–Yates rule of §3.2, one partner per word;
    /// below it the cyclic shift by `ρ = ⌊w·k / 2^64⌋` of one word.
    fn perms(k01: &Seed, req: u64, width: Width, n: usize) -> Vec<Vec<usize>> {
        let k = width.digits();
        let (_, per) = words_per_element(width);
        let w = crate::stream::words(k01, req, labels::PC_PERM, per * n);
        w.chunks_exact(per)
            .map(|ws| {
                if width.is_full() {
                    let mut p: Vec<usize> = (0..k).collect();
                    for (t, i) in (1..k).rev().enumerate() {
                        p.swap(i, usize::try_from(ws[t] % (i as u64 + 1)).unwrap());
                    }
                    p
                } else {
                    // ρ = ⌊w·k / 2^64⌋; slot j carries position (j + ρ) mod k.
                    let rho = usize::try_from((u128::from(ws[0]) * k as u128) >> 64).unwrap();
                    (0..k).map(|j| (j + rho) % k).collect()
                }
            })
            .collect()
    }

    fn digits_of(v: &[Z67]) -> Vec<u8> {
        v.iter().map(|d| d.get()).collect()
    }

    /// Runs PC and returns (β', messages of both parties).
    fn run(
        xs: &[u64],
        rs: &[u64],
        minus_one: &[bool],
        beta: &[u64],
        req: u64,
        width: Width,
    ) -> (Vec<u64>, Vec<u8>, Vec<u8>) {
        let k01 = Seed::from_u64(0x5eed);
        let (b0, b1) = bit_shares(xs, req, width);
        let public = PcPublic { r: rs, minus_one: Some(minus_one), beta };
        let m0 = party_message(0, &k01, req, &mut BitShares::Received(b0), &public, width);
        let m1 = party_message(1, &k01, req, &mut BitShares::Received(b1), &public, width);
        (helper_decide(&m0, &m1, width), digits_of(&m0), digits_of(&m1))
    }

    /// A message of several parts, computed on a pool of three threads, equals the message
    /// computed in one part, with the bit shares received or expanded from a stream, and
    /// a stream reader ends past every element's words.
    #[test]
    fn a_message_in_parts_on_threads_equals_the_message_in_one_part() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        for bits in [64u32, 32, 20] {
            let w = width(bits);
            let n = 2 * PC_PART + 37;
            let mut prg = Prg::new(&Seed::from_u64(u64::from(bits)));
            let xs: Vec<u64> = (0..n).map(|_| prg.next_u64() & w.mask()).collect();
            let rs: Vec<u64> = (0..n).map(|_| prg.next_u64() & w.mask()).collect();
            let beta: Vec<u64> = (0..n).map(|_| prg.next_u64() & 1).collect();
            let minus_one: Vec<bool> = (0..n).map(|e| e % 97 == 5).collect();
            let public = PcPublic { r: &rs, minus_one: Some(&minus_one), beta: &beta };
            let (k01, k0d, req) = (Seed::from_u64(11), Seed::from_u64(12), 9);
            let k = w.digits();
            let (vw, _) = words_per_element(w);
            let (_, b1) = bit_shares(&xs, 3, w);
            for index in [0usize, 1] {
                let bits_of = || {
                    if index == 0 {
                        BitShares::Stream(Box::new(WordReader::new(&k0d, req, labels::H_MSB_XBITS)))
                    } else {
                        BitShares::Received(b1.clone())
                    }
                };
                let mut parts = bits_of();
                let threaded = pool.install(|| party_message(index, &k01, req, &mut parts, &public, w));
                let mut one = vec![Z67::default(); k * n];
                let (stream, received) = match bits_of() {
                    BitShares::Stream(r) => (Some(r.at(0)), None),
                    BitShares::Received(t) => (None, Some(t)),
                };
                let received = received.as_ref().map(|t| t.data());
                if w.is_full() {
                    message_part::<64, false>(index, &k01, req, stream, received, &public, w, 0, &mut one);
                } else if k <= 32 {
                    message_part::<32, true>(index, &k01, req, stream, received, &public, w, 0, &mut one);
                } else {
                    message_part::<64, true>(index, &k01, req, stream, received, &public, w, 0, &mut one);
                }
                assert_eq!(digits_of(&threaded), digits_of(&one), "{bits} bits, party {index}");
                if let BitShares::Stream(r) = parts {
                    let after = crate::stream::words(&k0d, req, labels::H_MSB_XBITS, n * vw + 1);
                    assert_eq!(r.at(0).next_u64(), after[n * vw], "{bits} bits: the reader moved past");
                }
            }
        }
    }

    fn expected(x: u64, r: u64, minus_one: bool, beta: u64) -> u64 {
        let gt = if minus_one { true } else { x > r };
        beta ^ u64::from(gt)
    }

    #[test]
    fn edge_cases_of_r_and_x() {
        for bits in WIDTHS {
            let w = width(bits);
            let top = w.mask();
            let half = 1u64 << (bits - 1);
            let specials = [0u64, 1, 2, half - 1, half, half + 1, top - 1, top, 0x1234_5678_9abc_def0 & top];
            let (mut xs, mut rs, mut m1, mut betas) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for &r in &specials {
                for dx in [-1i64, 0, 1] {
                    let x = r.wrapping_add(dx as u64) & top;
                    for beta in 0..2 {
                        for minus_one in [false, true] {
                            if minus_one && r != top {
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
            let (got, m0, _) = run(&xs, &rs, &m1, &betas, 17, w);
            assert_eq!(m0.len(), xs.len() * w.digits());
            for e in 0..xs.len() {
                assert_eq!(
                    got[e],
                    expected(xs[e], rs[e], m1[e], betas[e]),
                    "k={bits} x={:#x} R={:#x} -1={} β={}",
                    xs[e],
                    rs[e],
                    m1[e],
                    betas[e]
                );
            }
        }
    }

    #[test]
    fn random_inputs() {
        for bits in WIDTHS {
            let w = width(bits);
            let top = w.mask();
            let mut prg = Prg::new(&Seed::from_u64(99 + u64::from(bits)));
            let n = 2000;
            let mut xs = Vec::new();
            let mut rs = Vec::new();
            for e in 0..n {
                let r = prg.next_u64() & top;
                // A quarter of the x share a long prefix with R.
                let x = match e % 4 {
                    0 => r ^ (prg.next_u64() & 0xff & top),
                    1 => r,
                    _ => prg.next_u64() & top,
                };
                xs.push(x);
                rs.push(r);
            }
            let betas: Vec<u64> = (0..n).map(|_| prg.next_u64() & 1).collect();
            let m1 = vec![false; n];
            let (got, m0, mm1) = run(&xs, &rs, &m1, &betas, 3, w);
            for e in 0..n {
                assert_eq!(got[e], expected(xs[e], rs[e], false, betas[e]), "k={bits}");
            }
            assert_eq!(m0.len(), w.digits() * n);
            assert_eq!(mm1.len(), w.digits() * n);
        }
    }

    #[test]
    fn stream_and_received_bit_shares_agree() {
        // Party 0 under compressed accounting expands its bit shares from the stream the
        // helper uses; the message must equal the one built from the same values received.
        for bits in [64, 48, 32, 20, 2] {
            let w = width(bits);
            let k = w.digits();
            let seed = Seed::from_u64(8);
            let n = 700; // more than one chunk
            let shares = values(&seed, 5, labels::H_MSB_XBITS, w, n, 0);
            let received = Tensor::new(&[n, k], shares.iter().map(|&v| digit(v)).collect()).unwrap();
            let rs: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) & (w.mask() - 1)).collect();
            let beta: Vec<u64> = (0..n as u64).map(|i| i & 1).collect();
            let public = PcPublic { r: &rs, minus_one: None, beta: &beta };
            let k01 = Seed::from_u64(1);
            let a = party_message(
                0,
                &k01,
                6,
                &mut BitShares::Stream(Box::new(WordReader::new(&seed, 5, labels::H_MSB_XBITS))),
                &public,
                w,
            );
            let b = party_message(0, &k01, 6, &mut BitShares::Received(received), &public, w);
            assert_eq!(a, b, "k={bits}");
        }
    }

    /// Both parties draw the same `s`, `π`, `m` and `u` from `k_01`, element by element as
    /// docs/PROTOCOLS.md §3.2 defines them (one word per value at the full width, packed
    /// below it): each party's message equals the one built from the reference draws, the
    /// masks cancel in the helper's sum, and the sum is `s_π(j)·c_π(j)` slot by slot.
    #[test]
    fn both_parties_draw_the_same_values() {
        for bits in [64, 63, 48, 33, 32, 20, 3, 2] {
            let w = width(bits);
            let k = w.digits();
            let top = w.mask();
            let mut prg = Prg::new(&Seed::from_u64(31 + u64::from(bits)));
            let n = 37; // two chunks and a half, an odd number: pairs and a single element
            let rs: Vec<u64> = (0..n).map(|_| prg.next_u64() & top).collect();
            let xs: Vec<u64> = (0..n).map(|e| if e % 5 == 0 { rs[e] } else { prg.next_u64() & top }).collect();
            let beta: Vec<u64> = (0..n).map(|_| prg.next_u64() & 1).collect();
            // Some special cases, so that `u` is drawn too.
            let minus_one: Vec<bool> = (0..n).map(|e| e % 7 == 3).collect();
            let rs: Vec<u64> = rs.iter().zip(&minus_one).map(|(&r, &m1)| if m1 { top } else { r }).collect();
            let (k01, req) = (Seed::from_u64(0xc0ffee), 9);
            let (b0, b1) = bit_shares(&xs, 4, w);
            let public = PcPublic { r: &rs, minus_one: Some(&minus_one), beta: &beta };
            let s = values(&k01, req, labels::PC_S, w, n, 1);
            let u = values(&k01, req, labels::PC_U, w, n, 0);
            let m = values(&k01, req, labels::PC_MASK, w, n, 0);
            let pi = perms(&k01, req, w, n);
            let mut sums = Vec::new();
            for (index, b) in [(0usize, &b0), (1, &b1)] {
                let msg = digits_of(&party_message(index, &k01, req, &mut BitShares::Received(b.clone()), &public, w));
                let iota = u16::from(index == 0);
                let mut want = Vec::new();
                for e in 0..n {
                    let mut x = [0u8; 64];
                    for (d, v) in x.iter_mut().zip(&b.data()[k * e..k * e + k]) {
                        *d = v.get();
                    }
                    let mut ui = [0u8; 64];
                    ui[..k].copy_from_slice(&u[k * e..k * e + k]);
                    let mut c = [0u8; 64];
                    match case_of(beta[e], rs[e], minus_one[e], w) {
                        Case::Compare => compare_digits(iota, beta[e], rs[e], &x, &[1; 64], &mut c),
                        other => special_digits(iota, other == Case::None, &ui, &[1; 64], &mut c),
                    }
                    for j in 0..k {
                        let i = pi[e][j];
                        let d = u32::from(s[k * e + i]) * u32::from(c[i]) % 67;
                        let mj = u32::from(m[k * e + j]);
                        want.push(u8::try_from(if index == 0 { (d + mj) % 67 } else { (d + 67 - mj) % 67 }).unwrap());
                    }
                }
                assert_eq!(msg, want, "party {index}, k={bits}");
                sums.push(msg);
            }
            for e in 0..n {
                let zero = (0..k).any(|j| (u32::from(sums[0][k * e + j]) + u32::from(sums[1][k * e + j])) % 67 == 0);
                assert_eq!(u64::from(zero), expected(xs[e], rs[e], minus_one[e], beta[e]), "k={bits}, element {e}");
            }
        }
    }

    /// The raw `c_i` of party `index` for a guess `R` (β = 0, `s_i = 1`), `k` of them.
    fn raw_c(index: usize, bits: &Tensor<Z67>, r: u64, width: Width) -> Vec<u8> {
        let mut x = [0u8; 64];
        for (d, v) in x.iter_mut().zip(bits.data()) {
            *d = v.get();
        }
        let mut d = [0u8; 64];
        compare_digits(u16::from(index == 0), 0, r, &x, &[1u8; 64], &mut d);
        d[..width.digits()].to_vec()
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
    #[allow(clippy::too_many_arguments, reason = "test helper")]
    fn picks_true_r(
        r_true: u64,
        r_wrong: u64,
        b0: &Tensor<Z67>,
        b1: &Tensor<Z67>,
        m0: &[u8],
        m1: &[u8],
        coin: bool,
        width: Width,
    ) -> bool {
        let observed = ratios(m0, m1);
        let score = |r: u64| usize::from(ratios(&raw_c(0, b0, r, width), &raw_c(1, b1, r, width)) == observed);
        match score(r_true).cmp(&score(r_wrong)) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => coin,
        }
    }

    /// Runs the attack on `trials` random instances, with or without the masks of step 4.
    fn attack_rate(trials: u64, strip_masks: bool, seed: u64, width: Width) -> f64 {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let mut hits = 0u64;
        for t in 0..trials {
            let top = width.mask();
            let (x, r_true, r_wrong) = (prg.next_u64() & top, prg.next_u64() & top, prg.next_u64() & top);
            let (b0, b1) = bit_shares(&[x], seed + t, width);
            let k01 = Seed::from_u64(seed ^ t);
            let public = PcPublic { r: &[r_true], minus_one: None, beta: &[0] };
            let masks: Vec<u32> = values(&k01, 1, labels::PC_MASK, width, 1, 0).into_iter().map(u32::from).collect();
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
            let m0 = bytes(0, party_message(0, &k01, 1, &mut BitShares::Received(b0.clone()), &public, width));
            let m1 = bytes(1, party_message(1, &k01, 1, &mut BitShares::Received(b1.clone()), &public, width));
            hits += u64::from(picks_true_r(r_true, r_wrong, &b0, &b1, &m0, &m1, prg.next_u64() & 1 == 1, width));
        }
        hits as f64 / trials as f64
    }

    /// docs/PROTOCOLS.md §6.2, step 4: the helper, who dealt both bit shares, tries to tell
    /// the true `R` from a wrong guess. With the re-randomisation (step 4) it does no
    /// better than chance, at the full width and at 32 bits.
    #[test]
    fn helper_cannot_recognise_r() {
        for bits in [64, 32] {
            let rate = attack_rate(4000, false, 4242, width(bits));
            assert!((0.46..0.54).contains(&rate), "k={bits}: the helper recognises R at rate {rate}");
        }
    }

    /// docs/PROTOCOLS.md §6.2, step 3 below the full width: the helper knows `x` (it dealt
    /// the bits) and sees which slot of its sum is zero. Whichever position holds the zero
    /// (the deciding bit of case A with `β = 0` and of case B with `β = 1`, or position 0
    /// in case ONE), that slot is uniform over the `k` slots, at 32 bits (lanes of 32) and
    /// at 20 and 48 (the generic rotation). Undoing the shift with `k_01`, which the
    /// helper does not hold, puts the zero at that position every time, and the same
    /// chi-square test rejects those positions: the test sees a position that leaks.
    #[test]
    fn the_zero_slot_says_nothing_about_the_deciding_bit() {
        #[derive(Clone, Copy, Debug)]
        enum Which {
            A,
            B,
            One,
        }
        let trials = |bits: u32, which: Which, deciding: usize| -> (Vec<u64>, Vec<u64>) {
            let w = width(bits);
            let k = w.digits();
            let top = w.mask();
            let mut prg = Prg::new(&Seed::from_u64(600 + u64::from(bits) * 64 + deciding as u64));
            let (mut slots, mut positions) = (vec![0u64; k], vec![0u64; k]);
            for t in 0..(200 * k as u64) {
                let bit = 1u64 << deciding;
                let low = bit - 1;
                let above = prg.next_u64() & top & !(bit | low);
                let (x, r, beta, at) = match which {
                    // x > R decided at `deciding`: x has the bit, R does not.
                    Which::A => (above | bit | (prg.next_u64() & low), above | (prg.next_u64() & low), 0, deciding),
                    // x ≤ R, i.e. x < t = R + 1, decided at `deciding`: t has the bit, x does not.
                    Which::B => {
                        let t = above | bit | (prg.next_u64() & low);
                        (above | (prg.next_u64() & low), t - 1, 1, deciding)
                    }
                    // β = 1, R = 2^k − 1: the answer is known, the zero sits at position 0.
                    Which::One => (prg.next_u64() & top, top, 1, 0),
                };
                let (b0, b1) = bit_shares(&[x], t, w);
                let k01 = Seed::from_u64(t.wrapping_mul(1000) + deciding as u64 + u64::from(bits) * 100_000_000);
                let public = PcPublic { r: &[r], minus_one: None, beta: &[beta] };
                let m0 = party_message(0, &k01, 1, &mut BitShares::Received(b0), &public, w);
                let m1 = party_message(1, &k01, 1, &mut BitShares::Received(b1), &public, w);
                let zeros: Vec<usize> = (0..k).filter(|&j| (m0[j].get() + m1[j].get()).is_multiple_of(67)).collect();
                assert_eq!(zeros.len(), 1, "{bits} bits, {which:?}: exactly one zero");
                let rho = crate::stream::rotation(crate::stream::words(&k01, 1, labels::PC_PERM, 1)[0], k);
                let unshifted = (zeros[0] + rho) % k;
                assert_eq!(unshifted, at, "{bits} bits, {which:?}: unshifted, the zero sits at position {at}");
                slots[zeros[0]] += 1;
                positions[unshifted] += 1;
            }
            (slots, positions)
        };
        for (bits, which, deciding) in [
            (32, Which::A, 0),
            (32, Which::A, 13),
            (32, Which::A, 31),
            (32, Which::B, 7),
            (32, Which::One, 0),
            (20, Which::A, 19),
            (20, Which::B, 4),
            (48, Which::A, 40),
            (48, Which::One, 0),
        ] {
            let (slots, positions) = trials(bits, which, deciding);
            let t = syft_share::dev::chi_square_uniform(&slots).unwrap();
            assert!(
                t.accepts(1e-6),
                "{bits} bits, {which:?}, position {deciding}: the zero's slot is not uniform: {t:?}"
            );
            let control = syft_share::dev::chi_square_uniform(&positions).unwrap();
            assert!(!control.accepts(1e-6), "negative control: the unshifted positions must be rejected");
        }
    }

    /// Negative control: strip the masks (as the paper's protocol would send) and the same
    /// attack recognises the true `R` essentially always (the simulation: 100%).
    #[test]
    fn the_attack_works_without_rerandomisation() {
        for bits in [64, 32] {
            let rate = attack_rate(300, true, 77, width(bits));
            assert!(rate > 0.95, "negative control, k={bits}: rate {rate}");
        }
    }
}
