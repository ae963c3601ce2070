//! AES-128 in counter mode on VAES or AES-NI, the keystream of [`Prg`](super::Prg) where
//! the CPU has them: the `vaesenc` instructions encrypt four blocks per `zmm` (two per
//! `ymm`, one per `xmm` with AES-NI), eight registers at a time so that the rounds of
//! independent blocks overlap.
//!
//! The `aes` crate computes the same blocks (and is the path on the portable path and on
//! CPUs without AES-NI, and the reference of the tests); its batch interface builds and copies each batch of 64 blocks
//! through helper functions the compiler does not inline here, which measured 8.6 GiB/s
//! on one core of an Intel Xeon (Sapphire Rapids class) against 20.8 GiB/s for these
//! loops on 512-bit registers and 19.3 GiB/s on 256-bit ones (32 KB fills,
//! `cargo bench -p syft-benches --bench prg`); the AES-NI loop, timed on the same fills
//! outside the bench (which runs the selected path), reached 10.4 GiB/s there: two rounds
//! per cycle, the instruction's throughput. The round keys come from the
//! standard AES-128 key schedule with `aeskeygenassist` (AES-NI, present wherever VAES
//! is).
//!
//! Which path runs follows [`KernelPath::selected`](crate::gemm::KernelPath::selected):
//! the AVX-512 path uses 512-bit VAES when the CPU has it, the AVX2 path 256-bit VAES, either
//! of them AES-NI on a CPU without VAES, and the portable path (or a CPU without AES-NI)
//! the `aes` crate, so `SYFT_GEMM_KERNEL=avx2` runs the keystream as a machine with AVX2
//! and VAES but no AVX-512 would.

#![cfg_attr(not(target_arch = "x86_64"), allow(unused, reason = "only the aes crate's path runs off x86-64"))]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m128i, __m256i, __m512i, _mm_aesenc_si128, _mm_aesenclast_si128, _mm_aeskeygenassist_si128, _mm_loadu_si128,
    _mm_set_epi8, _mm_set_epi64x, _mm_setzero_si128, _mm_shuffle_epi8, _mm_shuffle_epi32, _mm_slli_si128,
    _mm_storeu_si128, _mm_xor_si128, _mm256_aesenc_epi128, _mm256_aesenclast_epi128, _mm256_blend_epi32,
    _mm256_broadcastsi128_si256, _mm256_set_epi8, _mm256_set_epi64x, _mm256_set1_epi64x, _mm256_shuffle_epi8,
    _mm256_storeu_si256, _mm256_xor_si256, _mm512_aesenc_epi128, _mm512_aesenclast_epi128, _mm512_broadcast_i32x4,
    _mm512_mask_blend_epi64, _mm512_set_epi8, _mm512_set_epi64, _mm512_set1_epi64, _mm512_shuffle_epi8,
    _mm512_storeu_si512, _mm512_xor_si512,
};

/// Which keystream implementation a [`Prg`](super::Prg) uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CtrPath {
    /// The `aes` crate (its own AES-NI / VAES detection).
    Crate,
    /// AES-NI on 128-bit registers (with SSSE3 for the byte order).
    AesNi,
    /// 256-bit VAES (AVX2 + VAES + AES-NI).
    Vaes256,
    /// 512-bit VAES (AVX-512 F and BW + VAES + AES-NI).
    Vaes512,
}

impl CtrPath {
    /// The path for this process: the one matching the selected GEMM kernel path, when the
    /// CPU has VAES; the `aes` crate otherwise.
    pub(crate) fn selected() -> Self {
        use crate::gemm::KernelPath;
        static SELECTED: std::sync::OnceLock<CtrPath> = std::sync::OnceLock::new();
        *SELECTED.get_or_init(|| match KernelPath::selected() {
            KernelPath::Avx512 if Self::Vaes512.available() => Self::Vaes512,
            KernelPath::Avx512 | KernelPath::Avx2 if Self::Vaes256.available() => Self::Vaes256,
            KernelPath::Avx512 | KernelPath::Avx2 if Self::AesNi.available() => Self::AesNi,
            _ => Self::Crate,
        })
    }

    /// Blocks of 16 bytes per register of the path's loop (1 for the `aes` crate).
    fn blocks_per_register(self) -> usize {
        match self {
            Self::Crate | Self::AesNi => 1,
            Self::Vaes256 => 2,
            Self::Vaes512 => 4,
        }
    }

    /// Whether this CPU can run the path.
    pub(crate) fn available(self) -> bool {
        match self {
            Self::Crate => true,
            #[cfg(target_arch = "x86_64")]
            Self::AesNi => std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("ssse3"),
            #[cfg(target_arch = "x86_64")]
            Self::Vaes256 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("vaes")
                    && std::arch::is_x86_feature_detected!("aes")
            }
            #[cfg(target_arch = "x86_64")]
            Self::Vaes512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("vaes")
                    && std::arch::is_x86_feature_detected!("aes")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// The eleven AES-128 round keys, for the VAES paths (not `Copy`, so that copies of key
/// material stay explicit).
#[derive(Clone)]
pub(crate) struct RoundKeys([[u8; 16]; 11]);

/// The round keys of `key` when `path` is a VAES path the CPU runs; `None` otherwise.
pub(crate) fn expand(path: CtrPath, key: &[u8; 16]) -> Option<RoundKeys> {
    match path {
        CtrPath::Crate => None,
        #[cfg(target_arch = "x86_64")]
        _ if path.available() => {
            // SAFETY: VAES paths are available only with AES-NI (checked just above).
            Some(unsafe { expand_aesni(key) })
        }
        #[cfg(target_arch = "x86_64")]
        _ => None,
        #[cfg(not(target_arch = "x86_64"))]
        _ => None,
    }
}

/// The AES-128 key schedule with `aeskeygenassist`.
///
/// # Safety
/// AES-NI is available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,sse2")]
unsafe fn expand_aesni(key: &[u8; 16]) -> RoundKeys {
    let mut rk = [_mm_setzero_si128(); 11];
    // SAFETY: `key` holds 16 readable bytes.
    rk[0] = unsafe { _mm_loadu_si128(key.as_ptr().cast()) };
    /// Round key `i` from key `i − 1` with round constant `RCON`.
    #[inline]
    #[target_feature(enable = "aes,sse2")]
    fn next<const RCON: i32>(prev: __m128i) -> __m128i {
        let t = _mm_shuffle_epi32::<0xff>(_mm_aeskeygenassist_si128::<RCON>(prev));
        let mut k = prev;
        k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
        k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
        k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
        _mm_xor_si128(k, t)
    }
    rk[1] = next::<0x01>(rk[0]);
    rk[2] = next::<0x02>(rk[1]);
    rk[3] = next::<0x04>(rk[2]);
    rk[4] = next::<0x08>(rk[3]);
    rk[5] = next::<0x10>(rk[4]);
    rk[6] = next::<0x20>(rk[5]);
    rk[7] = next::<0x40>(rk[6]);
    rk[8] = next::<0x80>(rk[7]);
    rk[9] = next::<0x1b>(rk[8]);
    rk[10] = next::<0x36>(rk[9]);
    let mut out = [[0u8; 16]; 11];
    for (o, k) in out.iter_mut().zip(rk) {
        // SAFETY: `o` holds 16 writable bytes.
        unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), k) };
    }
    RoundKeys(out)
}

/// Keystream blocks `first, first + 1, …` of the stream whose counter blocks are
/// `nonce ‖ be64(counter)`, into `out` (a multiple of 16 bytes), on `path`.
///
/// The loops compute whole groups of eight registers; a last partial group (the `Prg`'s
/// fills, whole 1 KB batches, never have one) is computed whole on the stack and copied.
///
/// # Panics
/// If `path` is [`CtrPath::Crate`] or the CPU cannot run it (the caller holds round keys
/// only for a path [`expand`] accepted), or if `out` is not whole blocks.
pub(crate) fn keystream(path: CtrPath, rk: &RoundKeys, nonce: &[u8; 8], first: u64, out: &mut [u8]) {
    assert!(out.len().is_multiple_of(16), "aes_ctr: a keystream of whole blocks");
    assert!(path != CtrPath::Crate && path.available(), "aes_ctr: {path:?} is not available");
    let nonce = u64::from_le_bytes(*nonce);
    let group = 16 * REGS * path.blocks_per_register();
    let whole = out.len() / group * group;
    let (body, tail) = out.split_at_mut(whole);
    groups(path, rk, nonce, first, body);
    if !tail.is_empty() {
        let mut buf = [0u8; 16 * REGS * 4];
        groups(path, rk, nonce, first.wrapping_add((whole / 16) as u64), &mut buf[..group]);
        tail.copy_from_slice(&buf[..tail.len()]);
    }
}

/// [`keystream`] for `out` made of whole groups of `REGS` registers.
fn groups(path: CtrPath, rk: &RoundKeys, nonce: u64, first: u64, out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    match path {
        // SAFETY: the CPU has the path's features (asserted by `keystream`, the only caller).
        CtrPath::Vaes512 => unsafe { ctr512(rk, nonce, first, out) },
        // SAFETY: as above.
        CtrPath::Vaes256 => unsafe { ctr256(rk, nonce, first, out) },
        // SAFETY: as above.
        CtrPath::AesNi => unsafe { ctr128(rk, nonce, first, out) },
        CtrPath::Crate => {}
    }
}

/// Registers per iteration of the loops: eight of four blocks (`zmm`), two (`ymm`) or one
/// (`xmm`).
const REGS: usize = 8;

/// [`keystream`] with 512-bit VAES.
///
/// # Safety
/// AVX-512 F and BW, VAES and AES-NI are available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,vaes,aes")]
unsafe fn ctr512(rk: &RoundKeys, nonce: u64, first: u64, out: &mut [u8]) {
    // SAFETY: each round key is 16 readable bytes.
    let k: [__m512i; 11] =
        std::array::from_fn(|i| _mm512_broadcast_i32x4(unsafe { _mm_loadu_si128(rk.0[i].as_ptr().cast()) }));
    #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
    let nonce = _mm512_set1_epi64(nonce as i64);
    // Byte-reverses the high 8 bytes of every block: the counter is big-endian.
    let be = _mm512_set_epi8(
        8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 4, 3, 2, 1, 0, 8,
        9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 4, 3, 2, 1, 0,
    );
    // The counter blocks `c, c + 1, c + 2, c + 3` of one register, encrypted with round key 0.
    let start = |c: u64| -> __m512i {
        #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
        let (c0, c1, c2, c3) = (c as i64, c.wrapping_add(1) as i64, c.wrapping_add(2) as i64, c.wrapping_add(3) as i64);
        let ctr = _mm512_set_epi64(c3, 0, c2, 0, c1, 0, c0, 0);
        let block = _mm512_shuffle_epi8(_mm512_mask_blend_epi64(0b0101_0101, ctr, nonce), be);
        _mm512_xor_si512(block, k[0])
    };
    let blocks = out.len() / 16;
    let mut t = 0;
    while t + 4 * REGS <= blocks {
        let base = first.wrapping_add(t as u64);
        let mut x: [__m512i; REGS] = std::array::from_fn(|r| start(base.wrapping_add(4 * r as u64)));
        for key in &k[1..10] {
            for v in &mut x {
                *v = _mm512_aesenc_epi128(*v, *key);
            }
        }
        for (r, v) in x.iter().enumerate() {
            // SAFETY: blocks `t + 4r .. t + 4r + 4` lie inside `out` (`t + 32 <= blocks`).
            unsafe {
                _mm512_storeu_si512(out.as_mut_ptr().add((t + 4 * r) * 16).cast(), _mm512_aesenclast_epi128(*v, k[10]))
            };
        }
        t += 4 * REGS;
    }
}

/// [`keystream`] with 256-bit VAES.
///
/// # Safety
/// AVX2, VAES and AES-NI are available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,vaes,aes")]
unsafe fn ctr256(rk: &RoundKeys, nonce: u64, first: u64, out: &mut [u8]) {
    // SAFETY: each round key is 16 readable bytes.
    let k: [__m256i; 11] =
        std::array::from_fn(|i| _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(rk.0[i].as_ptr().cast()) }));
    #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
    let nonce = _mm256_set1_epi64x(nonce as i64);
    let be = _mm256_set_epi8(
        8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 4, 3, 2, 1, 0,
    );
    let start = |c: u64| -> __m256i {
        #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
        let ctr = _mm256_set_epi64x(c.wrapping_add(1) as i64, 0, c as i64, 0);
        // Low 64 bits of each block from the nonce (32-bit lanes 0, 1, 4, 5).
        let block = _mm256_shuffle_epi8(_mm256_blend_epi32::<0b0011_0011>(ctr, nonce), be);
        _mm256_xor_si256(block, k[0])
    };
    let blocks = out.len() / 16;
    let mut t = 0;
    while t + 2 * REGS <= blocks {
        let base = first.wrapping_add(t as u64);
        let mut x: [__m256i; REGS] = std::array::from_fn(|r| start(base.wrapping_add(2 * r as u64)));
        for key in &k[1..10] {
            for v in &mut x {
                *v = _mm256_aesenc_epi128(*v, *key);
            }
        }
        for (r, v) in x.iter().enumerate() {
            // SAFETY: blocks `t + 2r .. t + 2r + 2` lie inside `out` (`t + 16 <= blocks`).
            unsafe {
                _mm256_storeu_si256(out.as_mut_ptr().add((t + 2 * r) * 16).cast(), _mm256_aesenclast_epi128(*v, k[10]))
            };
        }
        t += 2 * REGS;
    }
}

/// [`keystream`] with AES-NI, one block per register.
///
/// # Safety
/// AES-NI and SSSE3 are available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3,sse2")]
unsafe fn ctr128(rk: &RoundKeys, nonce: u64, first: u64, out: &mut [u8]) {
    // SAFETY: each round key is 16 readable bytes.
    let k: [__m128i; 11] = std::array::from_fn(|i| unsafe { _mm_loadu_si128(rk.0[i].as_ptr().cast()) });
    let be = _mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 4, 3, 2, 1, 0);
    #[allow(clippy::cast_possible_wrap, reason = "bit pattern reinterpretation")]
    let start =
        |c: u64| -> __m128i { _mm_xor_si128(_mm_shuffle_epi8(_mm_set_epi64x(c as i64, nonce as i64), be), k[0]) };
    let blocks = out.len() / 16;
    let mut t = 0;
    while t + REGS <= blocks {
        let base = first.wrapping_add(t as u64);
        let mut x: [__m128i; REGS] = std::array::from_fn(|r| start(base.wrapping_add(r as u64)));
        for key in &k[1..10] {
            for v in &mut x {
                *v = _mm_aesenc_si128(*v, *key);
            }
        }
        for (r, v) in x.iter().enumerate() {
            // SAFETY: block `t + r < t + REGS <= blocks` lies inside `out`.
            unsafe { _mm_storeu_si128(out.as_mut_ptr().add((t + r) * 16).cast(), _mm_aesenclast_si128(*v, k[10])) };
        }
        t += REGS;
    }
}
