//! Parameter initialisation: PyTorch's defaults from a seeded [`Prg`].
//!
//! `nn.Linear` and `nn.Conv2d` draw their weight with Kaiming-uniform (`a = √5`), i.e.
//! `U(−1/√fan_in, 1/√fan_in)`, and their bias from the same interval.

use syft_ring::Prg;

/// A uniform `f64` in `[0, 1)` with 53 random bits.
#[allow(clippy::cast_precision_loss, reason = "a 53-bit integer is exact in f64")]
pub fn unit_uniform(rng: &mut Prg) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `n` draws from `U(−bound, bound)`.
pub fn uniform(rng: &mut Prg, n: usize, bound: f64) -> Vec<f64> {
    (0..n).map(|_| (2.0 * unit_uniform(rng) - 1.0) * bound).collect()
}

/// PyTorch's default bound `1/√fan_in` (Kaiming-uniform with `a = √5`; also the bias bound).
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "fan-ins are far below 2^52")]
pub fn default_bound(fan_in: usize) -> f64 {
    if fan_in == 0 { 0.0 } else { 1.0 / (fan_in as f64).sqrt() }
}

/// A uniform index in `0..n` (unbiased, by rejection); `0` for `n == 0`.
pub fn below(rng: &mut Prg, n: usize) -> usize {
    let n = n as u64;
    if n <= 1 {
        return 0;
    }
    let zone = u64::MAX - (u64::MAX % n + 1) % n;
    loop {
        let w = rng.next_u64();
        if w <= zone {
            #[allow(clippy::cast_possible_truncation, reason = "w % n < n, which came from a usize")]
            return (w % n) as usize;
        }
    }
}

/// A uniformly random permutation of `0..n` (Fisher–Yates).
pub fn permutation(rng: &mut Prg, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, below(rng, i + 1));
    }
    order
}
