//! Values of `Z_2^k` and `Z_(2^k−1)` on the wire (docs/PROTOCOLS.md §6.5): at the full
//! width as `u64` and `OddRing` tensors (8 bytes per element, as always); below it packed
//! in `⌈k/8⌉` little-endian bytes per element in one byte message, validated on receipt
//! (length, and every value below the modulus).
//!
//! Digits of `Z_67` (PrivateCompare's messages and the helper's bit shares, §6.2) travel
//! ten to a little-endian `u64` under compressed accounting, five in each 32-bit half
//! (`67^5 < 2^32`: 6.4 bits per digit instead of 8; [`syft_ring::digits`]), and one byte
//! each under paper accounting, which reproduces the paper's byte counts.

use crate::Width;
use crate::arith::Odd;
use crate::error::Result;
use syft_ring::{OddRing, Tensor, Z67, digits};
use syft_share::{Comm, CommExt, PartyId, ShareError};

/// Digits of `Z_67` per packed word.
const DIGITS_PER_WORD: usize = digits::DIGITS_PER_WORD;

/// Words per part when digits are packed or unpacked on the thread pool.
const PAR_WORDS: usize = 1 << 13;

/// Packs digits ten to a word ([`syft_ring::digits`]), in parts of [`PAR_WORDS`] words on
/// the thread pool.
fn pack_digits(d: &[Z67]) -> Result<Vec<u8>> {
    use rayon::prelude::*;
    let mut out = vec![0u8; digits::packed_len(d.len())];
    if out.len() <= 8 * PAR_WORDS {
        digits::pack_z67(d, &mut out)?;
    } else {
        out.par_chunks_mut(8 * PAR_WORDS)
            .zip(d.par_chunks(DIGITS_PER_WORD * PAR_WORDS))
            .try_for_each(|(o, d)| digits::pack_z67(d, o))?;
    }
    Ok(out)
}

/// Sends digits of `Z_67`: packed ten to a word, or a tensor of one byte each.
pub(crate) fn send_digits(comm: &mut dyn Comm, to: PartyId, digits: Vec<Z67>, packed: bool) -> Result<()> {
    if packed {
        comm.send_payload(to, &pack_digits(&digits)?)?;
    } else {
        comm.send_tensor(to, &Tensor::from_vec(digits))?;
    }
    Ok(())
}

/// Receives `n` digits of `Z_67` sent by [`send_digits`]; a wrong length or a word that is
/// no packing of digits is a typed error.
pub(crate) fn recv_digits(comm: &mut dyn Comm, from: PartyId, n: usize, packed: bool) -> Result<Vec<Z67>> {
    if !packed {
        return Ok(comm.recv_tensor_shaped::<Z67>(from, &[n])?.into_vec());
    }
    let bytes = comm.recv_payload(from)?;
    let bad = |reason: String| ShareError::BadMessage { party: comm.id(), from, reason };
    let words = n.div_ceil(DIGITS_PER_WORD);
    if bytes.len() != words * 8 {
        return Err(bad(format!("expected {n} digits in {words} words, got {} bytes", bytes.len())).into());
    }
    let mut out = vec![Z67::new(0); words * DIGITS_PER_WORD];
    let too_big = if words <= PAR_WORDS {
        digits::unpack_z67(&bytes, &mut out)?
    } else {
        use rayon::prelude::*;
        bytes
            .par_chunks(8 * PAR_WORDS)
            .zip(out.par_chunks_mut(DIGITS_PER_WORD * PAR_WORDS))
            .map(|(b, o)| digits::unpack_z67(b, o))
            .try_reduce(|| false, |a, b| Ok(a || b))?
    };
    // The last word holds `count` digits and nothing above them.
    let count = n - (words.saturating_sub(1)) * DIGITS_PER_WORD;
    let last = bytes.len().checked_sub(8).map(|i| u64::from_le_bytes(bytes[i..].try_into().unwrap_or([0xff; 8])));
    let last_bad = last.is_some_and(|w| !digits::last_word_fits(w, count));
    if too_big || last_bad {
        return Err(bad(format!("a word is not a packing of digits of Z_67 ({n} digits expected)")).into());
    }
    out.truncate(n);
    Ok(out)
}

/// Packs `values` (each below `2^k`) in `⌈k/8⌉` bytes each.
fn pack(values: &[u64], width: Width) -> Vec<u8> {
    let b = width.bytes();
    let mut out = Vec::with_capacity(values.len() * b);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes()[..b]);
    }
    out
}

/// Unpacks `n` values of `⌈k/8⌉` bytes, each of which must be below `bound`.
fn unpack(comm: &dyn Comm, from: PartyId, bytes: &[u8], n: usize, width: Width, bound: u64) -> Result<Vec<u64>> {
    let b = width.bytes();
    let bad = |reason: String| ShareError::BadMessage { party: comm.id(), from, reason };
    if bytes.len() != n * b {
        return Err(bad(format!(
            "expected {n} values of {b} bytes ({} bits), got {} bytes",
            width.bits(),
            bytes.len()
        ))
        .into());
    }
    let mut out = Vec::with_capacity(n);
    for chunk in bytes.chunks_exact(b) {
        let mut word = [0u8; 8];
        word[..b].copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        if v > bound {
            return Err(bad(format!("value {v:#x} out of range for {} bits", width.bits())).into());
        }
        out.push(v);
    }
    Ok(out)
}

/// Sends canonical elements of `Z_(2^k−1)`.
pub(crate) fn send_odd(comm: &mut dyn Comm, to: PartyId, values: &[u64], width: Width) -> Result<()> {
    if width.is_full() {
        comm.send_tensor(to, &Tensor::from_vec(values.iter().map(|&v| OddRing::new(v)).collect()))?;
    } else {
        comm.send_payload(to, &pack(values, width))?;
    }
    Ok(())
}

/// Receives `n` canonical elements of `Z_(2^k−1)`.
pub(crate) fn recv_odd(comm: &mut dyn Comm, from: PartyId, n: usize, width: Width) -> Result<Vec<u64>> {
    if width.is_full() {
        let t = comm.recv_tensor_shaped::<OddRing>(from, &[n])?;
        return Ok(t.data().iter().map(|v| v.get()).collect());
    }
    let bytes = comm.recv_payload(from)?;
    // Canonical: below M = 2^k − 1.
    unpack(comm, from, &bytes, n, width, Odd::new(width).max_canonical())
}

/// Sends elements of `Z_2^k` (below `2^k`).
pub(crate) fn send_ring(comm: &mut dyn Comm, to: PartyId, values: Vec<u64>, width: Width) -> Result<()> {
    if width.is_full() {
        comm.send_tensor(to, &Tensor::from_vec(values))?;
    } else {
        comm.send_payload(to, &pack(&values, width))?;
    }
    Ok(())
}

/// Receives `n` elements of `Z_2^k`.
pub(crate) fn recv_ring(comm: &mut dyn Comm, from: PartyId, n: usize, width: Width) -> Result<Vec<u64>> {
    if width.is_full() {
        return Ok(comm.recv_tensor_shaped::<u64>(from, &[n])?.into_vec());
    }
    let bytes = comm.recv_payload(from)?;
    unpack(comm, from, &bytes, n, width, width.mask())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
    use super::*;
    use syft_share::InMemoryNetwork;

    #[test]
    fn packed_values_round_trip_and_bad_ones_are_rejected() {
        let mut comms = InMemoryNetwork::new(2);
        let mut b = comms.pop().unwrap();
        let mut a = comms.pop().unwrap();
        for bits in [2u32, 13, 32, 48, 64] {
            let width = Width::new(bits).unwrap();
            let odd: Vec<u64> = vec![0, 1, width.mask() - 1, (width.mask() >> 1) & 0x1234_5678_9abc_def1];
            send_odd(&mut a, 1, &odd, width).unwrap();
            assert_eq!(recv_odd(&mut b, 0, odd.len(), width).unwrap(), odd, "k={bits}");
            let ring: Vec<u64> = vec![0, width.mask(), 5 & width.mask()];
            send_ring(&mut a, 1, ring.clone(), width).unwrap();
            assert_eq!(recv_ring(&mut b, 0, ring.len(), width).unwrap(), ring, "k={bits}");
            let payload = a.stats().peer(1).bytes_sent;
            assert!(payload > 0);
        }
        let w32 = Width::new(32).unwrap();
        // 2^32 − 1 is not a canonical element of Z_(2^32 − 1).
        send_ring(&mut a, 1, vec![w32.mask()], w32).unwrap();
        let err = recv_odd(&mut b, 0, 1, w32).unwrap_err();
        assert!(matches!(err, crate::SecurennError::Share(ShareError::BadMessage { .. })), "{err}");
        // A wrong length.
        send_ring(&mut a, 1, vec![1, 2, 3], w32).unwrap();
        assert!(recv_ring(&mut b, 0, 2, w32).is_err());
    }

    #[test]
    fn digits_pack_ten_to_a_word_and_bad_words_are_rejected() {
        let mut comms = InMemoryNetwork::new(2);
        let mut b = comms.pop().unwrap();
        let mut a = comms.pop().unwrap();
        // The last two are packed and unpacked in parts on the thread pool.
        for n in [0usize, 1, 9, 10, 11, 64, 2048, 2049, 10 * PAR_WORDS + 1, 25 * PAR_WORDS + 7] {
            let digits: Vec<Z67> = (0..n as u64).map(|i| Z67::new(i.wrapping_mul(0x9e37_79b9) >> 7)).collect();
            let before = a.stats().peer(1).bytes_sent;
            send_digits(&mut a, 1, digits.clone(), true).unwrap();
            assert_eq!(a.stats().peer(1).bytes_sent - before, (n.div_ceil(10) * 8) as u64, "n={n}");
            assert_eq!(recv_digits(&mut b, 0, n, true).unwrap(), digits, "n={n}");
            send_digits(&mut a, 1, digits.clone(), false).unwrap();
            assert_eq!(recv_digits(&mut b, 0, n, false).unwrap(), digits, "n={n}");
        }
        // The largest packing of ten digits, and one above it.
        let max = vec![Z67::new(66); 10];
        send_digits(&mut a, 1, max.clone(), true).unwrap();
        assert_eq!(recv_digits(&mut b, 0, 10, true).unwrap(), max);
        // A half at 67^5 is no packing, in either half.
        for word in [u64::from(digits::HALF_BOUND), u64::from(digits::HALF_BOUND) << 32, u64::MAX] {
            a.send_payload(1, &word.to_le_bytes()).unwrap();
            let err = recv_digits(&mut b, 0, 10, true).unwrap_err();
            assert!(matches!(err, crate::SecurennError::Share(ShareError::BadMessage { .. })), "{err}");
        }
        // The format: five digits per 32-bit half, the first least significant.
        let digits: Vec<Z67> = (1..=10).map(Z67::new).collect();
        let word = u64::from_le_bytes(pack_digits(&digits).unwrap().try_into().unwrap());
        let lo = 1 + 2 * 67 + 3 * 67 * 67 + 4 * 67u64.pow(3) + 5 * 67u64.pow(4);
        let hi = 6 + 7 * 67 + 8 * 67 * 67 + 9 * 67u64.pow(3) + 10 * 67u64.pow(4);
        assert_eq!(word, lo | hi << 32);
        // A last word of seven digits: its high half must be below 67^2.
        a.send_payload(1, &((67u64 * 67) << 32).to_le_bytes()).unwrap();
        assert!(recv_digits(&mut b, 0, 7, true).is_err());
        a.send_payload(1, &((67u64 * 67 - 1) << 32 | u64::from(digits::HALF_BOUND - 1)).to_le_bytes()).unwrap();
        assert_eq!(recv_digits(&mut b, 0, 7, true).unwrap().len(), 7);
        // A bad word in a later part of a long message.
        let n = 3 * DIGITS_PER_WORD * PAR_WORDS;
        let mut bytes = pack_digits(&vec![Z67::new(3); n]).unwrap();
        let at = 8 * (2 * PAR_WORDS + 5);
        bytes[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        a.send_payload(1, &bytes).unwrap();
        let err = recv_digits(&mut b, 0, n, true).unwrap_err();
        assert!(matches!(err, crate::SecurennError::Share(ShareError::BadMessage { .. })), "{err}");
        // A last word holding three digits must be below 67^3.
        a.send_payload(1, &(67u64 * 67 * 67).to_le_bytes()).unwrap();
        assert!(recv_digits(&mut b, 0, 3, true).is_err());
        // Wrong lengths.
        a.send_payload(1, &[0u8; 12]).unwrap();
        assert!(recv_digits(&mut b, 0, 11, true).is_err());
        a.send_payload(1, &[0u8; 16]).unwrap();
        assert!(recv_digits(&mut b, 0, 10, true).is_err());
    }

    #[test]
    fn packed_bytes_are_a_quarter_at_32_bits() {
        let mut comms = InMemoryNetwork::new(2);
        let mut b = comms.pop().unwrap();
        let mut a = comms.pop().unwrap();
        let w32 = Width::new(32).unwrap();
        let before = a.stats().peer(1).bytes_sent;
        send_odd(&mut a, 1, &[7; 100], w32).unwrap();
        assert_eq!(a.stats().peer(1).bytes_sent - before, 400);
        recv_odd(&mut b, 0, 100, w32).unwrap();
    }
}
