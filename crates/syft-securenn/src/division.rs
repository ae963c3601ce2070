//! Division of shared fixed-point values: by a public value (local truncation,
//! docs/PROTOCOLS.md §5.2) and by a shared value (SecureNN's long division in its exact
//! variant, docs/PROTOCOLS.md §6.8).

use crate::error::{Result, invalid, shape_mismatch};
use crate::helper::Helper;
use crate::party::{Payload, SnnParty};
use syft_ring::{Tensor, numel, signed};

/// Parameters of the division of two shared fixed-point values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DivParams {
    /// The fixed-point scale `s` of the operands and of the quotient (≥ 1; 1 for
    /// integers).
    pub scale: u64,
    /// `K`, the number of quotient bits: the quotient at scale `s` must be below `2^K`,
    /// i.e. `X·s < Y·2^K`. For `|x| ≤ |y|`, `K = floor(log2 s) + 1` (10 for `s = 10^3`).
    /// Each bit costs one DReLU and one product, sequentially.
    pub quotient_bits: u32,
}

impl DivParams {
    /// Parameters for quotients of magnitude below `max_quotient` (a real bound on
    /// `|x/y|`) at scale `scale`: `K = ⌈log2(max_quotient·s + 1)⌉`.
    pub fn for_quotients_below(scale: u64, max_quotient: f64) -> Result<Self> {
        if !(max_quotient.is_finite() && max_quotient > 0.0) {
            return Err(invalid("div", format!("max_quotient {max_quotient} must be positive and finite")));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "checked below to lie in 1..=63")]
        let bits = (max_quotient * scale as f64 + 1.0).log2().ceil().max(1.0) as u32;
        let p = Self { scale, quotient_bits: bits };
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<()> {
        if self.scale == 0 || self.scale > i64::MAX as u64 {
            return Err(invalid("div", format!("scale {} not in 1..=2^63-1", self.scale)));
        }
        if !(1..=63).contains(&self.quotient_bits) {
            return Err(invalid("div", format!("quotient_bits {} not in 1..=63", self.quotient_bits)));
        }
        Ok(())
    }
}

impl SnnParty<'_> {
    /// `X / d` for a public integer `d ≥ 1`: local truncation (docs/PROTOCOLS.md §5.2), no
    /// communication. The result is `floor(X/d)` or `floor(X/d) + 1`, except with
    /// probability `|X|/2^64`, when it is garbage. No helper call.
    pub fn div_public(&mut self, x: &Tensor<u64>, divisor: u64) -> Result<Tensor<u64>> {
        match divisor {
            0 => Err(invalid("div_public", "division by zero")),
            1 => Ok(x.clone()),
            d => Ok(self.spdz().truncate(x, d)?),
        }
    }

    /// `x / d` for fixed-point `x` and a public fixed-point `d`, both at scale `s`
    /// (`divisor` is `enc(d)`, two's complement): `s·X` truncated by `|enc(d)|`, negated
    /// when `d < 0`. Within one unit of the exact quotient unless `|s·X| ≥ 2^63`
    /// (out of range) or with probability `|s·X|/2^64`. No communication; no helper call.
    pub fn div_public_fixed(&mut self, x: &Tensor<u64>, divisor: u64, scale: u64) -> Result<Tensor<u64>> {
        let d = signed(divisor);
        if d == 0 {
            return Err(invalid("div_public_fixed", "division by zero"));
        }
        if scale == 0 {
            return Err(invalid("div_public_fixed", "scale must be at least 1"));
        }
        let xs = x.map(|v| v.wrapping_mul(scale));
        let q = self.div_public(&xs, d.unsigned_abs())?;
        Ok(if d < 0 { q.map(u64::wrapping_neg) } else { q })
    }

    /// SecureNN division (docs/PROTOCOLS.md §6.8, exact variant): `W = floor(X·s / Y)` for
    /// shared fixed-point `X ≥ 0` and `Y > 0` at scale `s`, i.e. `x/y` at scale `s` rounded
    /// down, with no probabilistic error.
    ///
    /// Requires `X·s < Y·2^K`, `Y·2^(K−1) ≤ 2^(k−2)` and `X·s < 2^63` (`K` =
    /// `params.quotient_bits`, `k` the [`width`](Self::width): `2^62` at the default 64
    /// bits); otherwise the result is wrong. `Y = 0` gives `2^K − 1`.
    /// Costs `K` DReLUs and `K` products, in `K·(DReLU + 1)` rounds.
    /// Helper: [`Helper::div`].
    pub fn div(&mut self, x: &Tensor<u64>, y: &Tensor<u64>, params: DivParams) -> Result<Tensor<u64>> {
        params.check()?;
        if x.shape() != y.shape() {
            return Err(shape_mismatch("div", x.shape(), y.shape()));
        }
        let w = self.div_flat(x.data(), y.data(), params)?;
        Ok(Tensor::new(x.shape(), w)?)
    }

    fn div_flat(&mut self, x: &[u64], y: &[u64], params: DivParams) -> Result<Vec<u64>> {
        let n = x.len();
        let xs: Vec<u64> = x.iter().map(|v| v.wrapping_mul(params.scale)).collect();
        let mut p = vec![0u64; n];
        let mut w = vec![0u64; n];
        for k in (0..params.quotient_bits).rev() {
            let yk: Vec<u64> = y.iter().map(|v| v << k).collect();
            let z: Vec<u64> = (0..n).map(|e| xs[e].wrapping_sub(p[e]).wrapping_sub(yk[e])).collect();
            let (b, v) = self.drelu_times_flat(&z, &Payload::new(n, &[0], &yk))?;
            for e in 0..n {
                p[e] = p[e].wrapping_add(v[e]);
                w[e] = w[e].wrapping_add(b[e] << k);
            }
        }
        Ok(w)
    }

    /// Signed division: signs by one batched DReLU, absolute values and the sign product
    /// in one batch of products, [`div`](Self::div) of the magnitudes, and the sign
    /// restored by one more product. The quotient is rounded toward zero. The ranges of
    /// [`div`](Self::div) apply to `|X|` and `|Y|`, and `Y ≠ 0`.
    /// Helper: [`Helper::div_signed`].
    pub fn div_signed(&mut self, x: &Tensor<u64>, y: &Tensor<u64>, params: DivParams) -> Result<Tensor<u64>> {
        params.check()?;
        if x.shape() != y.shape() {
            return Err(shape_mismatch("div_signed", x.shape(), y.shape()));
        }
        let n = x.len();
        let iota = self.iota();
        let mut both = x.data().to_vec();
        both.extend_from_slice(y.data());
        let s = self.drelu_flat(&both)?;
        // σ = 2s − 1 ∈ {±1}; |v| = v·σ; and sx·sy for the sign of the quotient.
        let sigma: Vec<u64> = s.iter().map(|v| v.wrapping_mul(2).wrapping_sub(iota)).collect();
        let mut lhs = both;
        lhs.extend_from_slice(&s[..n]);
        let mut rhs = sigma;
        rhs.extend_from_slice(&s[n..]);
        let prod = self.mul_flat(lhs, rhs)?;
        let (abs, sxsy) = prod.split_at(2 * n);
        let w = self.div_flat(&abs[..n], &abs[n..], params)?;
        // sign = 1 − 2·(sx ⊕ sy), sx ⊕ sy = sx + sy − 2·sx·sy
        let sign: Vec<u64> = (0..n)
            .map(|e| {
                let differ = s[e].wrapping_add(s[n + e]).wrapping_sub(sxsy[e].wrapping_mul(2));
                iota.wrapping_sub(differ.wrapping_mul(2))
            })
            .collect();
        Ok(Tensor::new(x.shape(), self.mul_flat(w, sign)?)?)
    }
}

impl Helper<'_> {
    fn div_n(&mut self, n: usize, params: DivParams) -> Result<()> {
        for _ in 0..params.quotient_bits {
            self.drelu_times_n(n, n, &[0])?;
        }
        Ok(())
    }

    /// The helper's side of [`SnnParty::div`] (`shape`: the operands').
    pub fn div(&mut self, shape: &[usize], params: DivParams) -> Result<()> {
        params.check()?;
        self.div_n(numel(shape), params)
    }

    /// The helper's side of [`SnnParty::div_signed`].
    pub fn div_signed(&mut self, shape: &[usize], params: DivParams) -> Result<()> {
        params.check()?;
        let n = numel(shape);
        self.drelu_n(2 * n)?;
        self.serve_mul(3 * n)?;
        self.div_n(n, params)?;
        self.serve_mul(n)
    }
}
