//! Digits of `Z_67` packed ten to a little-endian `u64`, five in each 32-bit half, the
//! first digit least significant in the low half (`67^5 < 2^32`: 6.4 bits per digit).
//!
//! SecureNN's PrivateCompare sends `k` digits per compared element, so these loops run
//! over every message of a comparison. The halves keep the arithmetic in 32-bit lanes
//! with no carried chain: packing is a dot product with the powers of 67, unpacking
//! `⌊x / 67^j⌋ mod 67` for each digit independently (divisions by constants, which the
//! compiler turns into multiplications). Blocks of 16 halves run lane by lane over
//! arrays, compiled three times and picked at run time like the GEMM kernels
//! ([`KernelPath::selected`], so `SYFT_GEMM_KERNEL` forces these too): for AVX-512 (with
//! VBMI's byte permutes), for AVX2, and for the baseline target.

use crate::element::Z67;
use crate::error::{Result, RingError};
use crate::gemm::KernelPath;

/// Digits of `Z_67` per packed word.
pub const DIGITS_PER_WORD: usize = 10;

/// Digits per 32-bit half of a word.
const DIGITS_PER_HALF: usize = 5;

/// `67^5 < 2^31`: each half of a packed word is below it.
pub const HALF_BOUND: u32 = 67u32.pow(5);

/// `67^j` for the digits of a half.
const POW: [u32; DIGITS_PER_HALF] = [1, 67, 67 * 67, 67 * 67 * 67, 67 * 67 * 67 * 67];

/// Halves per block of the packing and unpacking loops.
const BLOCK: usize = 16;

/// Bytes of `n` packed digits: whole words.
#[must_use]
pub const fn packed_len(n: usize) -> usize {
    n.div_ceil(DIGITS_PER_WORD) * 8
}

/// Which compiled copy of the loops runs.
#[derive(Clone, Copy)]
enum Path {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// The copy for `kernel`: AVX-512 needs VBMI besides, and falls back to AVX2; a path the
/// CPU cannot run falls back to the portable copy.
fn path(kernel: KernelPath) -> Path {
    #[cfg(target_arch = "x86_64")]
    {
        if kernel == KernelPath::Avx512 && std::arch::is_x86_feature_detected!("avx512vbmi") {
            return Path::Avx512;
        }
        if kernel != KernelPath::Portable && std::arch::is_x86_feature_detected!("avx2") {
            return Path::Avx2;
        }
    }
    let _ = kernel;
    Path::Portable
}

/// Packs `digits` into `out` (exactly [`packed_len`] bytes): ten to a word, five in each
/// 32-bit half, the first digit least significant; a last partial word is zero above its
/// digits.
///
/// # Errors
///
/// [`RingError::InvalidArgument`] if `out` is not [`packed_len`]`(digits.len())` bytes long.
pub fn pack_z67(digits: &[Z67], out: &mut [u8]) -> Result<()> {
    pack_z67_with_path(KernelPath::selected(), digits, out)
}

/// [`pack_z67`] on the copy for `kernel` (for benchmarks): AVX-512 needs VBMI too and
/// falls back to AVX2, and a path the CPU cannot run falls back to the portable copy.
///
/// # Errors
///
/// As [`pack_z67`].
pub fn pack_z67_with_path(kernel: KernelPath, digits: &[Z67], out: &mut [u8]) -> Result<()> {
    if out.len() != packed_len(digits.len()) {
        return Err(RingError::InvalidArgument {
            op: "pack_z67",
            reason: format!("{} digits need {} bytes, got {}", digits.len(), packed_len(digits.len()), out.len()),
        });
    }
    match path(kernel) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `path` chose this copy only if the CPU has AVX-512 F/BW/VL/VBMI.
        Path::Avx512 => unsafe { pack_avx512(digits, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `path` chose this copy only if the CPU has AVX2.
        Path::Avx2 => unsafe { pack_avx2(digits, out) },
        Path::Portable => pack_body(digits, out),
    }
    Ok(())
}

/// Unpacks the whole words of `bytes` into `out` (ten digits per word; `out` holds
/// `10·bytes.len()/8` digits). Returns whether some half was at or above `67^5` (no
/// packing of digits); the digits written for such a half are then meaningless.
///
/// # Errors
///
/// [`RingError::InvalidArgument`] if `bytes` is not whole words or `out` is not ten
/// digits per word.
pub fn unpack_z67(bytes: &[u8], out: &mut [Z67]) -> Result<bool> {
    unpack_z67_with_path(KernelPath::selected(), bytes, out)
}

/// [`unpack_z67`] on the copy for `kernel` (for benchmarks): AVX-512 needs VBMI too and
/// falls back to AVX2, and a path the CPU cannot run falls back to the portable copy.
///
/// # Errors
///
/// As [`unpack_z67`].
pub fn unpack_z67_with_path(kernel: KernelPath, bytes: &[u8], out: &mut [Z67]) -> Result<bool> {
    if !bytes.len().is_multiple_of(8) || out.len() != bytes.len() / 8 * DIGITS_PER_WORD {
        return Err(RingError::InvalidArgument {
            op: "unpack_z67",
            reason: format!("{} bytes (whole words) into {} digits (ten per word)", bytes.len(), out.len()),
        });
    }
    Ok(match path(kernel) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `path` chose this copy only if the CPU has AVX-512 F/BW/VL/VBMI.
        Path::Avx512 => unsafe { unpack_avx512(bytes, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `path` chose this copy only if the CPU has AVX2.
        Path::Avx2 => unsafe { unpack_avx2(bytes, out) },
        Path::Portable => unpack_body(bytes, out),
    })
}

/// Whether a last word holding `count ≤ 10` digits has nothing above them: its low half
/// below `67^min(count, 5)`, its high half below `67^(count − 5)` (zero when `count ≤ 5`).
#[must_use]
#[allow(clippy::cast_possible_truncation, reason = "the halves of a word; count <= 10")]
pub fn last_word_fits(word: u64, count: usize) -> bool {
    let (lo, hi) = (word as u32, (word >> 32) as u32);
    let bound = |n: usize| 67u64.pow(n.min(DIGITS_PER_HALF) as u32);
    u64::from(lo) < bound(count) && u64::from(hi) < bound(count.saturating_sub(DIGITS_PER_HALF))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vbmi")]
fn pack_avx512(digits: &[Z67], out: &mut [u8]) {
    pack_body(digits, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pack_avx2(digits: &[Z67], out: &mut [u8]) {
    pack_body(digits, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vbmi")]
fn unpack_avx512(bytes: &[u8], out: &mut [Z67]) -> bool {
    unpack_body(bytes, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn unpack_avx2(bytes: &[u8], out: &mut [Z67]) -> bool {
    unpack_body(bytes, out)
}

/// Up to five digits as one half (a dot product with the powers of 67).
#[inline(always)]
fn half(digits: &[Z67]) -> u32 {
    digits.iter().zip(POW).map(|(d, p)| u32::from(d.get()) * p).sum()
}

/// The five digits of a half `x < 67^5`, the first least significant.
#[inline(always)]
#[allow(clippy::cast_possible_truncation, reason = "each digit is below 67")]
fn digits_of_half(x: u32) -> [u8; DIGITS_PER_HALF] {
    POW.map(|p| {
        let q = x / p;
        (q - 67 * (q / 67)) as u8
    })
}

/// The element for a digit below 67 (the clamp lets the compiler drop the reduction in
/// `Z67::new`).
#[inline(always)]
fn z67(v: u8) -> Z67 {
    Z67::new(u64::from(v.min(66)))
}

#[inline(always)]
fn pack_body(digits: &[Z67], out: &mut [u8]) {
    let whole = digits.len() / (DIGITS_PER_HALF * BLOCK);
    let (head, tail) = digits.split_at(whole * DIGITS_PER_HALF * BLOCK);
    let (out_head, out_tail) = out.split_at_mut(whole * 4 * BLOCK);
    for (d, o) in head.chunks_exact(DIGITS_PER_HALF * BLOCK).zip(out_head.chunks_exact_mut(4 * BLOCK)) {
        // Digit j of half i at t[j][i], then the halves lane by lane.
        let mut t = [[0u32; BLOCK]; DIGITS_PER_HALF];
        for (i, h) in d.chunks_exact(DIGITS_PER_HALF).enumerate() {
            for (j, v) in h.iter().enumerate() {
                t[j][i] = u32::from(v.get());
            }
        }
        let mut x = [0u32; BLOCK];
        for (j, row) in t.iter().enumerate() {
            for (x, &v) in x.iter_mut().zip(row) {
                *x += v * POW[j];
            }
        }
        for (o, x) in o.chunks_exact_mut(4).zip(x) {
            o.copy_from_slice(&x.to_le_bytes());
        }
    }
    // The rest: whole halves, then a partial one, then zero halves up to the word's end.
    out_tail.fill(0);
    for (o, h) in out_tail.chunks_exact_mut(4).zip(tail.chunks(DIGITS_PER_HALF)) {
        o.copy_from_slice(&half(h).to_le_bytes());
    }
}

#[inline(always)]
fn unpack_body(bytes: &[u8], out: &mut [Z67]) -> bool {
    let mut too_big = false;
    let whole = bytes.len() / (4 * BLOCK);
    let (head, tail) = bytes.split_at(whole * 4 * BLOCK);
    let (out_head, out_tail) = out.split_at_mut(whole * DIGITS_PER_HALF * BLOCK);
    for (b, o) in head.chunks_exact(4 * BLOCK).zip(out_head.chunks_exact_mut(DIGITS_PER_HALF * BLOCK)) {
        let mut x = [0u32; BLOCK];
        for (x, b) in x.iter_mut().zip(b.chunks_exact(4)) {
            *x = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        too_big |= x.iter().fold(false, |bad, &x| bad | (x >= HALF_BOUND));
        // Digit j of half i at d[j][i], lane by lane; then in place.
        let mut d = [[0u8; BLOCK]; DIGITS_PER_HALF];
        for (j, row) in d.iter_mut().enumerate() {
            for (d, &x) in row.iter_mut().zip(&x) {
                let q = x / POW[j];
                #[allow(clippy::cast_possible_truncation, reason = "below 67")]
                let v = (q - 67 * (q / 67)) as u8;
                *d = v;
            }
        }
        for (i, h) in o.chunks_exact_mut(DIGITS_PER_HALF).enumerate() {
            for (j, v) in h.iter_mut().enumerate() {
                *v = z67(d[j][i]);
            }
        }
    }
    for (b, o) in tail.chunks_exact(4).zip(out_tail.chunks_exact_mut(DIGITS_PER_HALF)) {
        let x = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        too_big |= x >= HALF_BOUND;
        for (o, v) in o.iter_mut().zip(digits_of_half(x)) {
            *o = z67(v);
        }
    }
    too_big
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn digits(n: usize, seed: u64) -> Vec<Z67> {
        (0..n as u64).map(|i| Z67::new(i.wrapping_mul(0x9e37_79b9).wrapping_add(seed) >> 7)).collect()
    }

    /// The packing by its definition, one word at a time.
    fn reference(d: &[Z67]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in d.chunks(DIGITS_PER_WORD) {
            let (lo, hi) = w.split_at(w.len().min(DIGITS_PER_HALF));
            let h = |h: &[Z67]| h.iter().rev().fold(0u64, |a, d| a * 67 + u64::from(d.get()));
            out.extend_from_slice(&(h(lo) | h(hi) << 32).to_le_bytes());
        }
        out
    }

    #[test]
    fn every_path_packs_as_the_definition_and_round_trips() {
        for n in [0usize, 1, 4, 5, 6, 9, 10, 11, 79, 80, 81, 160, 161, 1000, 4099] {
            let d = digits(n, n as u64);
            let want = reference(&d);
            let mut paths = vec![("portable", Path::Portable)];
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    paths.push(("avx2", Path::Avx2));
                }
                if std::arch::is_x86_feature_detected!("avx512vbmi") {
                    paths.push(("avx512", Path::Avx512));
                }
            }
            for (name, p) in paths {
                let mut packed = vec![0xaau8; packed_len(n)];
                let mut back = vec![Z67::new(1); packed_len(n) / 8 * DIGITS_PER_WORD];
                let bad = match p {
                    Path::Portable => {
                        pack_body(&d, &mut packed);
                        unpack_body(&packed, &mut back)
                    }
                    // SAFETY: the features were detected above.
                    #[cfg(target_arch = "x86_64")]
                    Path::Avx2 => unsafe {
                        pack_avx2(&d, &mut packed);
                        unpack_avx2(&packed, &mut back)
                    },
                    // SAFETY: the features were detected above.
                    #[cfg(target_arch = "x86_64")]
                    Path::Avx512 => unsafe {
                        pack_avx512(&d, &mut packed);
                        unpack_avx512(&packed, &mut back)
                    },
                };
                assert_eq!(packed, want, "{name}, n = {n}");
                assert!(!bad, "{name}, n = {n}");
                assert_eq!(&back[..n], &d[..], "{name}, n = {n}");
                assert!(back[n..].iter().all(|d| d.get() == 0), "{name}, n = {n}: padding");
            }
        }
    }

    #[test]
    fn a_half_at_67_to_the_5_is_no_packing_wherever_it_is() {
        for at in [0usize, 1, 31, 32, 33, 63] {
            let mut bytes = reference(&digits(340, 3));
            bytes[4 * at..4 * at + 4].copy_from_slice(&HALF_BOUND.to_le_bytes());
            let mut out = vec![Z67::new(0); 340];
            assert!(unpack_z67(&bytes, &mut out).unwrap(), "half {at}");
            bytes[4 * at..4 * at + 4].copy_from_slice(&(HALF_BOUND - 1).to_le_bytes());
            assert!(!unpack_z67(&bytes, &mut out).unwrap(), "half {at}");
        }
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let d = digits(11, 1);
        assert!(pack_z67(&d, &mut [0u8; 8]).is_err());
        assert!(pack_z67(&d, &mut [0u8; 24]).is_err());
        assert!(pack_z67(&d, &mut [0u8; 16]).is_ok());
        assert!(unpack_z67(&[0u8; 12], &mut [Z67::new(0); 10]).is_err());
        assert!(unpack_z67(&[0u8; 16], &mut [Z67::new(0); 10]).is_err());
        assert!(unpack_z67(&[0u8; 16], &mut [Z67::new(0); 20]).is_ok());
    }

    #[test]
    fn a_last_word_fits_only_its_digits() {
        assert!(last_word_fits(66, 1));
        assert!(!last_word_fits(67, 1));
        assert!(!last_word_fits(1 << 32, 5));
        assert!(last_word_fits(u64::from(HALF_BOUND - 1) | (66 << 32), 6));
        assert!(!last_word_fits(67 << 32, 6));
        assert!(last_word_fits(u64::from(HALF_BOUND - 1) | u64::from(HALF_BOUND - 1) << 32, 10));
    }
}
