//! Seeded pseudorandom streams (AES-128-CTR) and a system-entropy seed source.
//!
//! `Prg::stream(seed, req, label)` is the normative stream of the protocol specification:
//! AES-128 in counter mode keyed by the 128-bit seed, with the initial counter block
//! `req` (6 bytes big-endian) ‖ `label` (2 bytes big-endian) ‖ 8 zero bytes, and a 64-bit
//! big-endian block counter. Word `t` is keystream bytes `[8t, 8t+8)` read little-endian.
//! Where the CPU has VAES the keystream comes from counter-mode loops of our own
//! (`aes_ctr`, chosen at run time with the GEMM's path); elsewhere from the `aes` crate,
//! which detects AES-NI and VAES itself.
//!
//! Ring elements are sampled from words as [`Ring::from_word`] says: the identity for
//! Z_2^64, `w mod m` otherwise (bias at most 2^-57 for the rings used here).

use crate::element::Ring;
use crate::error::{Result, RingError};
use crate::tensor::{Tensor, checked_numel_for, numel, try_filled, try_vec};
use aes::Aes128;
use cipher::consts::U16;
use cipher::{
    Array, Block, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser, KeyInit, ParBlocks,
};
use rayon::prelude::*;

#[allow(unsafe_code, reason = "the VAES counter-mode loops, chosen at run time like the GEMM kernels")]
mod aes_ctr;
use aes_ctr::{CtrPath, RoundKeys};

/// A 128-bit PRG seed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Seed(pub [u8; 16]);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Seed(..)")
    }
}

impl Seed {
    /// A fresh seed from the operating system's entropy source.
    pub fn from_entropy() -> Result<Self> {
        let mut s = [0u8; 16];
        getrandom::fill(&mut s).map_err(|e| RingError::Entropy(e.to_string()))?;
        Ok(Self(s))
    }

    /// A seed derived from a `u64` (for tests and reproducible examples only).
    #[must_use]
    pub fn from_u64(v: u64) -> Self {
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(&v.to_le_bytes());
        s[8..].copy_from_slice(&(!v).to_le_bytes());
        Self(s)
    }
}

/// Bytes generated per parallel task when filling large buffers.
const PAR_CHUNK: usize = 1 << 16;
/// Below this many bytes a fill runs on the calling thread.
const PAR_THRESHOLD: usize = 1 << 20;
/// Bytes of keystream buffered for word-at-a-time reads.
const BUF: usize = 1024;
/// Words generated per stack chunk by [`Prg::u64_vec`].
const VEC_CHUNK: usize = 512;

/// An AES-128-CTR keystream producing uniform words and ring tensors.
///
/// Counter mode is computed directly: block `t` of the keystream depends only on `t`, so
/// large fills split into independent chunks that run in parallel, and a stream can start
/// at any word ([`seek_word`](Self::seek_word)).
#[derive(Clone)]
pub struct Prg {
    /// The key, scheduled for the keystream path this process runs.
    keys: Keys,
    /// High 8 bytes of every counter block: `req` (6 bytes BE) ‖ `label` (2 bytes BE).
    nonce: [u8; 8],
    /// Index of the next keystream block to generate.
    block: u64,
    /// Buffered keystream for word-at-a-time use (one VAES-512 batch: 64 blocks).
    buf: [u8; BUF],
    pos: usize,
}

impl std::fmt::Debug for Prg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prg(..)")
    }
}

/// A stream's key, scheduled for the path that computes its keystream.
#[derive(Clone)]
enum Keys {
    /// Round keys for the loops of `aes_ctr` (VAES or AES-NI).
    Loops(CtrPath, RoundKeys),
    /// The `aes` crate's cipher.
    Crate(Aes128),
}

impl Keys {
    /// `key` scheduled for `path`: for its loops when the CPU runs them, for the `aes`
    /// crate otherwise.
    fn new(path: CtrPath, key: &[u8; 16]) -> Self {
        match aes_ctr::expand(path, key) {
            Some(rk) => Self::Loops(path, rk),
            None => Self::Crate(Aes128::new(&Array::from(*key))),
        }
    }
}

/// Writes keystream blocks `first, first+1, ...` into `out` (a multiple of 16 bytes).
///
/// With round keys for a loop of `aes_ctr`, the loop builds the counter blocks in
/// registers and stores each keystream block once. Otherwise one call into the `aes` crate
/// per fill: the counter blocks are built a batch at a time in a small stack buffer
/// (L1-resident) and encrypted straight into `out`, and the round keys are loaded (or
/// broadcast, for VAES) once per fill rather than once per batch.
fn keystream(keys: &Keys, nonce: &[u8; 8], first: u64, out: &mut [u8]) {
    let cipher = match keys {
        Keys::Loops(path, rk) => return aes_ctr::keystream(*path, rk, nonce, first, out),
        Keys::Crate(cipher) => cipher,
    };
    let (blocks, rest) = Array::slice_as_chunks_mut(out);
    debug_assert!(rest.is_empty());
    if !blocks.is_empty() {
        cipher.encrypt_with_backend(CtrFill { nonce, first, blocks });
    }
}

/// The counter-mode fill as a rank-2 closure over the cipher's backend (AES-NI, VAES-256
/// or VAES-512, whichever the `aes` crate selected at run time).
struct CtrFill<'a> {
    nonce: &'a [u8; 8],
    first: u64,
    blocks: &'a mut [Block<Aes128>],
}

impl BlockSizeUser for CtrFill<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for CtrFill<'_> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let Self { nonce, first, blocks } = self;
        let mut ctrs: ParBlocks<B> = Default::default();
        for c in ctrs.iter_mut() {
            c[..8].copy_from_slice(nonce);
        }
        let par = ctrs.len();
        let mut ctr = first;
        let mut chunks = blocks.chunks_exact_mut(par);
        for chunk in &mut chunks {
            set_counters(&mut ctrs, ctr);
            ctr = ctr.wrapping_add(par as u64);
            if let Ok(out) = <&mut ParBlocks<B>>::try_from(chunk) {
                backend.encrypt_par_blocks((&ctrs, out).into());
            }
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            // A whole batch on the stack is cheaper than the blocks one by one (a single
            // block is latency-bound).
            set_counters(&mut ctrs, ctr);
            backend.encrypt_par_blocks_inplace(&mut ctrs);
            for (o, c) in tail.iter_mut().zip(ctrs.iter()) {
                *o = *c;
            }
        }
    }
}

/// Sets the low (big-endian counter) halves of a batch of counter blocks.
#[inline(always)]
fn set_counters(ctrs: &mut [Block<Aes128>], first: u64) {
    let mut ctr = first;
    for c in ctrs {
        c[8..].copy_from_slice(&ctr.to_be_bytes());
        ctr = ctr.wrapping_add(1);
    }
}

impl Prg {
    /// The stream for `(seed, req, label)` (docs/PROTOCOLS.md §3.2). `req` uses its low 48
    /// bits.
    #[must_use]
    pub fn stream(seed: &Seed, req: u64, label: u16) -> Self {
        let mut nonce = [0u8; 8];
        nonce[..6].copy_from_slice(&req.to_be_bytes()[2..]);
        nonce[6..8].copy_from_slice(&label.to_be_bytes());
        Self::stream_on(CtrPath::selected(), seed, nonce)
    }

    /// The stream with counter-block prefix `nonce`, its keystream computed on `path` (the
    /// `aes` crate when `path` does not run here).
    fn stream_on(path: CtrPath, seed: &Seed, nonce: [u8; 8]) -> Self {
        Self { keys: Keys::new(path, &seed.0), nonce, block: 0, buf: [0; BUF], pos: BUF }
    }

    /// A stream from a seed alone (`req = 0`, `label = 0`).
    #[must_use]
    pub fn new(seed: &Seed) -> Self {
        Self::stream(seed, 0, 0)
    }

    /// A stream seeded from system entropy.
    pub fn from_entropy() -> Result<Self> {
        Ok(Self::new(&Seed::from_entropy()?))
    }

    /// Generates whole blocks straight into `out` (length a multiple of 16).
    fn fill_blocks(&mut self, out: &mut [u8]) {
        let first = self.block;
        self.block = self.block.wrapping_add((out.len() / 16) as u64);
        if out.len() < PAR_THRESHOLD {
            keystream(&self.keys, &self.nonce, first, out);
        } else {
            let (keys, nonce) = (&self.keys, &self.nonce);
            out.par_chunks_mut(PAR_CHUNK).enumerate().for_each(|(i, chunk)| {
                keystream(keys, nonce, first.wrapping_add((i * PAR_CHUNK / 16) as u64), chunk);
            });
        }
    }

    /// The index of the next word this stream yields (word `t` is keystream bytes
    /// `[8t, 8t+8)`), whatever mix of reads came before.
    #[must_use]
    pub fn word_position(&self) -> u64 {
        // Buffered bytes are whole words only when every read so far was word-sized; a
        // byte read leaves the position between words, reported as the word it is in.
        (self.block.wrapping_mul(16)).wrapping_sub((BUF - self.pos) as u64) / 8
    }

    /// Moves the stream to word `word`: the next word read is keystream bytes
    /// `[8·word, 8·word + 8)`, exactly as if the words before it had been read. Parts of
    /// one stream can so be generated independently (on several threads).
    pub fn seek_word(&mut self, word: u64) {
        self.block = word / 2;
        if word.is_multiple_of(2) {
            self.pos = BUF;
        } else {
            self.refill();
            self.pos = 8;
        }
    }

    /// Fills `out` with keystream bytes.
    pub fn fill_bytes(&mut self, out: &mut [u8]) {
        // Drain buffered bytes first so word-wise and bulk reads stay one stream.
        let take = (self.buf.len() - self.pos).min(out.len());
        out[..take].copy_from_slice(&self.buf[self.pos..self.pos + take]);
        self.pos += take;
        let rest = &mut out[take..];
        // Whole buffers straight into `out`; the rest through the buffer, whose unread
        // keystream serves the next read. The cipher encrypts a batch at a time (64 blocks
        // with VAES-512), so a fill that ended on a partial batch would compute a whole one
        // and drop the rest: small sequential fills (PrivateCompare's chunks) would pay for
        // up to twice the keystream they read.
        let whole = rest.len() / BUF * BUF;
        let (body, tail) = rest.split_at_mut(whole);
        self.fill_blocks(body);
        if !tail.is_empty() {
            self.refill();
            tail.copy_from_slice(&self.buf[..tail.len()]);
            self.pos = tail.len();
        }
    }

    /// Replaces the (fully consumed) buffer with fresh keystream.
    fn refill(&mut self) {
        let first = self.block;
        self.block = self.block.wrapping_add((BUF / 16) as u64);
        keystream(&self.keys, &self.nonce, first, &mut self.buf);
        self.pos = 0;
    }

    /// The next uniform 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        let mut w = [0u8; 8];
        if self.pos + 8 <= self.buf.len() {
            w.copy_from_slice(&self.buf[self.pos..self.pos + 8]);
            self.pos += 8;
        } else {
            self.fill_bytes(&mut w);
        }
        u64::from_le_bytes(w)
    }

    /// Fills `out` with uniform words (word `t` = keystream bytes `[8t, 8t+8)`, little-endian).
    pub fn fill_u64(&mut self, out: &mut [u64]) {
        self.fill_bytes(bytemuck::cast_slice_mut(out));
        if cfg!(target_endian = "big") {
            for w in out.iter_mut() {
                *w = u64::from_le(*w);
            }
        }
    }

    /// A tensor of uniform ring elements of the given shape (row-major order).
    ///
    /// # Panics
    ///
    /// If the shape's element count overflows `usize` or cannot be allocated; use
    /// [`try_ring_tensor`](Self::try_ring_tensor) for shapes that are not known to be small.
    pub fn ring_tensor<R: Ring>(&mut self, shape: &[usize]) -> Tensor<R> {
        match self.try_ring_tensor(shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// A tensor of uniform ring elements of the given shape, or
    /// [`RingError::ShapeOverflow`] /
    /// [`RingError::Allocation`] for a shape that is too
    /// large (checked before any keystream is consumed).
    pub fn try_ring_tensor<R: Ring>(&mut self, shape: &[usize]) -> Result<Tensor<R>> {
        let n = checked_numel_for("ring_tensor", shape)?;
        let mut data = try_vec("ring_tensor", n)?;
        let mut chunk = [0u64; VEC_CHUNK];
        let mut left = n;
        while left > 0 {
            let take = left.min(VEC_CHUNK);
            self.fill_u64(&mut chunk[..take]);
            data.extend(chunk[..take].iter().map(|&w| R::from_word(w)));
            left -= take;
        }
        Tensor::new(shape, data)
    }

    /// A tensor of uniform `u64` (Z_2^64) elements, filled without conversion.
    ///
    /// # Panics
    ///
    /// As [`ring_tensor`](Self::ring_tensor); [`try_u64_tensor`](Self::try_u64_tensor)
    /// is the checked form.
    pub fn u64_tensor(&mut self, shape: &[usize]) -> Tensor<u64> {
        match Tensor::new(shape, self.u64_vec(numel(shape))) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// A tensor of uniform `u64` elements (the same words as
    /// [`u64_tensor`](Self::u64_tensor)), or an error for a shape that is too large
    /// (checked before any keystream is consumed).
    pub fn try_u64_tensor(&mut self, shape: &[usize]) -> Result<Tensor<u64>> {
        let n = checked_numel_for("u64_tensor", shape)?;
        let mut data = try_filled("u64_tensor", n, 0u64)?;
        self.fill_u64(&mut data);
        Tensor::new(shape, data)
    }

    /// The next `n` uniform words as a new vector.
    ///
    /// Small fills go through an L1-resident stack buffer (no zero-fill pass over the
    /// output); large ones are zero-filled once and then filled in parallel chunks.
    #[must_use]
    pub fn u64_vec(&mut self, n: usize) -> Vec<u64> {
        if n >= PAR_THRESHOLD / 8 {
            let mut v = vec![0u64; n];
            self.fill_u64(&mut v);
            return v;
        }
        let mut v = Vec::with_capacity(n);
        let mut chunk = [0u64; VEC_CHUNK];
        let mut left = n;
        while left > 0 {
            let take = left.min(VEC_CHUNK);
            self.fill_u64(&mut chunk[..take]);
            v.extend_from_slice(&chunk[..take]);
            left -= take;
        }
        v
    }
}

impl rand_core::RngCore for Prg {
    fn next_u32(&mut self) -> u32 {
        #[allow(clippy::cast_possible_truncation, reason = "taking the low 32 bits of a uniform word")]
        let v = self.next_u64() as u32;
        v
    }
    fn next_u64(&mut self) -> u64 {
        Prg::next_u64(self)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        Prg::fill_bytes(self, dst);
    }
}

impl rand_core::CryptoRng for Prg {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::{OddRing, Z67};

    fn kat_seed() -> Seed {
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::try_from(i).unwrap();
        }
        Seed(k)
    }

    #[test]
    fn known_answer_words() {
        let mut p = Prg::stream(&kat_seed(), 1, 0x0001);
        let w: Vec<u64> = (0..4).map(|_| p.next_u64()).collect();
        assert_eq!(w, vec![0xd35cb5fc45652246, 0xeaaa072cba28d6a4, 0xdec90d70458aa9c5, 0xa6dca13df90d3af2]);
        let mut bulk = Prg::stream(&kat_seed(), 1, 0x0001);
        let mut v = [0u64; 4];
        bulk.fill_u64(&mut v);
        assert_eq!(v.to_vec(), w);
    }

    #[test]
    fn a_stream_seeked_to_a_word_continues_as_the_stream_read_that_far() {
        let mut whole = Prg::stream(&kat_seed(), 7, 0x0042);
        let mut all = vec![0u64; 700];
        whole.fill_u64(&mut all);
        assert_eq!(whole.word_position(), 700);
        for start in [0usize, 1, 2, 3, 127, 128, 129, 255, 256, 257, 511] {
            let mut part = Prg::stream(&kat_seed(), 7, 0x0042);
            part.seek_word(start as u64);
            assert_eq!(part.word_position(), start as u64, "position after seeking to {start}");
            let mut got = vec![0u64; 150];
            // Word by word, then in bulk: both continue from the seeked word.
            got[0] = part.next_u64();
            part.fill_u64(&mut got[1..]);
            assert_eq!(got, all[start..start + 150], "words from {start}");
            assert_eq!(part.word_position(), start as u64 + 150);
        }
    }

    #[test]
    fn known_answer_fields() {
        let zp: Tensor<Z67> = Prg::stream(&kat_seed(), 1, 0x0121).ring_tensor(&[8]);
        let got: Vec<u8> = zp.data().iter().map(|x| x.get()).collect();
        assert_eq!(got, vec![6, 46, 34, 10, 46, 59, 13, 28]);
        let odd: Tensor<OddRing> = Prg::stream(&kat_seed(), 1, 0x0211).ring_tensor(&[2]);
        assert_eq!(odd.data()[0].get(), 0x214021ecd8c3964c);
        assert_eq!(odd.data()[1].get(), 0xf616fe21057ea534);
    }

    #[test]
    fn large_parallel_fill_equals_sequential_words() {
        let n = (PAR_THRESHOLD / 8) * 2 + 3;
        let mut bulk = Prg::new(&Seed::from_u64(9));
        let mut big = vec![0u64; n];
        bulk.fill_u64(&mut big);
        let mut seq = Prg::new(&Seed::from_u64(9));
        let mut small = vec![0u64; n];
        for chunk in small.chunks_mut(1000) {
            seq.fill_u64(chunk);
        }
        assert_eq!(small, big);
        // Direct check of a few words against a word-at-a-time stream.
        let mut seq = Prg::new(&Seed::from_u64(9));
        let head: Vec<u64> = (0..1000).map(|_| seq.next_u64()).collect();
        assert_eq!(&big[..1000], &head[..]);
        let mut odd = Prg::new(&Seed::from_u64(9));
        let _ = odd.next_u64();
        let mut rest = vec![0u64; n - 1];
        odd.fill_u64(&mut rest);
        assert_eq!(&rest[..], &big[1..]);
    }

    /// Straightforward AES-128-CTR, one block at a time (the definition of
    /// docs/PROTOCOLS.md §3.2).
    fn reference_words(seed: &Seed, req: u64, label: u16, n: usize) -> Vec<u64> {
        let cipher = Aes128::new(&Array::from(seed.0));
        let mut out = Vec::new();
        let mut t = 0u64;
        while out.len() < n {
            let mut b = Block::<Aes128>::default();
            b[..6].copy_from_slice(&req.to_be_bytes()[2..]);
            b[6..8].copy_from_slice(&label.to_be_bytes());
            b[8..].copy_from_slice(&t.to_be_bytes());
            cipher.encrypt_block(&mut b);
            out.push(u64::from_le_bytes(b[..8].try_into().unwrap()));
            out.push(u64::from_le_bytes(b[8..].try_into().unwrap()));
            t += 1;
        }
        out.truncate(n);
        out
    }

    #[test]
    fn every_length_matches_the_reference() {
        let seed = Seed::from_u64(11);
        let reference = reference_words(&seed, 0x1234_5678_9abc, 0x0120, 3000);
        for n in (0..300).chain([511, 512, 513, 1023, 1024, 1025, 2047, 3000]) {
            let mut p = Prg::stream(&seed, 0x1234_5678_9abc, 0x0120);
            let mut v = vec![0u64; n];
            p.fill_u64(&mut v);
            assert_eq!(v[..], reference[..n], "fill of {n} words");
            assert_eq!(Prg::stream(&seed, 0x1234_5678_9abc, 0x0120).u64_vec(n)[..], reference[..n]);
            // Reads after a partial one continue the stream.
            let rest = p.u64_vec(3000 - n);
            assert_eq!(rest[..], reference[n..], "continuation after {n} words");
        }
        let mut p = Prg::stream(&seed, 0x1234_5678_9abc, 0x0120);
        let words: Vec<u64> = (0..3000).map(|_| p.next_u64()).collect();
        assert_eq!(words, reference);
    }

    /// The keystream blocks for counters `first, first + 1, …` (wrapping), one at a time with
    /// the `aes` crate.
    fn reference_blocks(seed: &Seed, nonce: [u8; 8], first: u64, blocks: usize) -> Vec<u8> {
        let cipher = Aes128::new(&Array::from(seed.0));
        let mut out = Vec::new();
        for t in 0..blocks {
            let mut b = Block::<Aes128>::default();
            b[..8].copy_from_slice(&nonce);
            b[8..].copy_from_slice(&first.wrapping_add(t as u64).to_be_bytes());
            cipher.encrypt_block(&mut b);
            out.extend_from_slice(&b);
        }
        out
    }

    /// Every keystream path the CPU runs (the `aes` crate, AES-NI, 256-bit and 512-bit VAES) gives
    /// the reference blocks: every length up to 80 blocks and some long ones, from
    /// counters that cross a register, a batch and the wrap at `2^64`, through the streams'
    /// fills and straight.
    #[test]
    fn every_keystream_path_gives_the_reference_blocks() {
        let seed = Seed::from_u64(21);
        let nonce = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x01, 0x22];
        let mut ran = Vec::new();
        for path in [CtrPath::Crate, CtrPath::AesNi, CtrPath::Vaes256, CtrPath::Vaes512] {
            if !path.available() {
                continue;
            }
            ran.push(path);
            let keys = Keys::new(path, &seed.0);
            assert_eq!(matches!(keys, Keys::Loops(..)), path != CtrPath::Crate, "{path:?}");
            for first in [0u64, 5, 63, u64::MAX - 40, u64::MAX - 1] {
                for blocks in (0..80).chain([127, 128, 129, 1000]) {
                    let want = reference_blocks(&seed, nonce, first, blocks);
                    let mut got = vec![0u8; blocks * 16];
                    keystream(&keys, &nonce, first, &mut got);
                    assert_eq!(got, want, "{path:?}: {blocks} blocks from counter {first}");
                }
            }
            // Through a stream: the normative layout, fills of every size.
            let reference = reference_words(&seed, 0x1234_5678_9abc, 0x0120, 3000);
            let mut req_nonce = [0u8; 8];
            req_nonce[..6].copy_from_slice(&0x1234_5678_9abc_u64.to_be_bytes()[2..]);
            req_nonce[6..].copy_from_slice(&0x0120_u16.to_be_bytes());
            for n in [1usize, 2, 17, 128, 129, 1000, 3000] {
                let mut p = Prg::stream_on(path, &seed, req_nonce);
                let mut v = vec![0u64; n];
                p.fill_u64(&mut v);
                assert_eq!(v[..], reference[..n], "{path:?}: fill of {n} words");
            }
        }
        assert!(ran.contains(&CtrPath::Crate));
        eprintln!("keystream paths checked: {ran:?}");
        // The selected path is the one streams take.
        let p = Prg::stream(&seed, 1, 2);
        let taken = match p.keys {
            Keys::Loops(path, _) => path,
            Keys::Crate(_) => CtrPath::Crate,
        };
        assert_eq!(taken, CtrPath::selected());
    }

    /// NIST SP 800-38A, F.5.1 (CTR-AES128.Encrypt): the keystream is the ciphertext xor the
    /// plaintext, for every path the CPU runs (an oracle independent of the `aes` crate).
    #[test]
    fn nist_ctr_vector_on_every_path() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
        };
        let key: [u8; 16] = hex("2b7e151628aed2a6abf7158809cf4f3c").try_into().unwrap();
        let nonce: [u8; 8] = hex("f0f1f2f3f4f5f6f7").try_into().unwrap();
        let plain = hex(concat!(
            "6bc1bee22e409f96e93d7e117393172a",
            "ae2d8a571e03ac9c9eb76fac45af8e51",
            "30c81c46a35ce411e5fbc1191a0a52ef",
            "f69f2445df4f9b17ad2b417be66c3710"
        ));
        let cipher_text = hex(concat!(
            "874d6191b620e3261bef6864990db6ce",
            "9806f66b7970fdff8617187bb9fffdff",
            "5ae4df3edbd5d35e5b4f09020db03eab",
            "1e031dda2fbe03d1792170a0f3009cee"
        ));
        let want: Vec<u8> = plain.iter().zip(&cipher_text).map(|(p, c)| p ^ c).collect();
        for path in [CtrPath::Crate, CtrPath::AesNi, CtrPath::Vaes256, CtrPath::Vaes512] {
            if !path.available() {
                continue;
            }
            let mut got = vec![0u8; 64];
            keystream(&Keys::new(path, &key), &nonce, 0xf8f9_fafb_fcfd_feff, &mut got);
            assert_eq!(got, want, "{path:?}");
        }
    }

    /// A clone continues its stream from where it was, independently of the original.
    #[test]
    fn a_clone_continues_the_stream() {
        let mut a = Prg::stream(&Seed::from_u64(5), 9, 3);
        let _ = a.u64_vec(77);
        let mut b = a.clone();
        let from_a = a.u64_vec(300);
        let _ = a.u64_vec(5);
        assert_eq!(b.u64_vec(300), from_a);
    }

    /// Fills that end inside a cipher batch leave the rest of it buffered for the next
    /// read: sequences of such fills, with seeks and word positions between them, read
    /// the reference stream.
    #[test]
    fn successive_partial_fills_read_the_reference_stream() {
        let seed = Seed::from_u64(13);
        let reference = reference_words(&seed, 77, 0x0123, 20_000);
        for sizes in [&[176usize, 176, 16, 176, 3, 1, 128, 127, 129][..], &[11, 1400, 2, 640, 2049]] {
            let mut p = Prg::stream(&seed, 77, 0x0123);
            let mut at = 0;
            for round in 0..4 {
                for &n in sizes {
                    let mut v = vec![0u64; n];
                    p.fill_u64(&mut v);
                    assert_eq!(v[..], reference[at..at + n], "{n} words at word {at}");
                    at += n;
                    assert_eq!(p.word_position(), at as u64);
                }
                // Seek to an odd and then an even word and go on from there.
                at = 1001 + 2 * round + usize::from(round % 2 == 0);
                p.seek_word(at as u64);
            }
        }
    }

    #[test]
    fn mixed_word_and_bulk_reads_are_one_stream() {
        let mut a = Prg::new(&Seed::from_u64(7));
        let first = a.next_u64();
        let mut rest = [0u64; 100];
        a.fill_u64(&mut rest);
        let mut b = Prg::new(&Seed::from_u64(7));
        let mut all = [0u64; 101];
        b.fill_u64(&mut all);
        assert_eq!(first, all[0]);
        assert_eq!(&rest[..], &all[1..]);
    }
}
