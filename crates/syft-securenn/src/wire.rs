//! Values of `Z_2^k` and `Z_(2^k−1)` on the wire (docs/PROTOCOLS.md §6.5): at the full
//! width as `u64` and `OddRing` tensors (8 bytes per element, as always); below it packed
//! in `⌈k/8⌉` little-endian bytes per element in one byte message, validated on receipt
//! (length, and every value below the modulus).

use crate::Width;
use crate::arith::Odd;
use crate::error::Result;
use syft_ring::{OddRing, Tensor};
use syft_share::{Comm, CommExt, PartyId, ShareError};

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
