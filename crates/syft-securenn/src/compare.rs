//! Comparisons of shared values with shared or public values (docs/PROTOCOLS.md §7):
//! `≥ ≤ > < ==`, each one DReLU (equality: two DReLUs batched into one), with unscaled
//! 0/1 results.
//!
//! | function | computation |
//! |---|---|
//! | `x ≥ y` | `DReLU(x − y)` |
//! | `x ≤ y` | `DReLU(y − x)` |
//! | `x > y` | `1 − DReLU(y − x)` |
//! | `x < y` | `1 − DReLU(x − y)` |
//! | `x == y` | `DReLU(x − y) + DReLU(y − x) − 1` |
//!
//! Valid when the difference lies in DReLU's range at the party's
//! [`width`](crate::SnnParty::width) `k`, `[−2^(k−2), 2^(k−2))` (for `==`, strictly inside
//! it); `|x|, |y| < 2^(k−3)` is a safe rule, i.e. `|v| < 2^(k−3)/s` at scale `s`: `2^61/s`
//! at the default 64 bits, `2^29/s` at 32. Outside the range the results are wrong, not
//! clamped (docs/PROTOCOLS.md §7).

use crate::error::{Result, shape_mismatch};
use crate::helper::Helper;
use crate::party::SnnParty;
use syft_ring::{Tensor, numel};

/// Which comparison.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

impl SnnParty<'_> {
    /// Shares of `d = x − y` from shares of `x` and `y` of one shape.
    fn shared_diff(op: &'static str, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Vec<u64>> {
        if x.shape() != y.shape() {
            return Err(shape_mismatch(op, x.shape(), y.shape()));
        }
        Ok(x.data().iter().zip(y.data()).map(|(a, b)| a.wrapping_sub(*b)).collect())
    }

    /// Shares of `d = x − c` for a public `c` broadcast to `x`'s shape (party 0 subtracts).
    fn public_diff(&self, op: &'static str, x: &Tensor<u64>, c: &Tensor<u64>) -> Result<Vec<u64>> {
        let c = c.broadcast_to(x.shape()).map_err(|_| shape_mismatch(op, x.shape(), c.shape()))?;
        if self.index() == 0 {
            Ok(x.data().iter().zip(c.data()).map(|(a, b)| a.wrapping_sub(*b)).collect())
        } else {
            Ok(x.data().to_vec())
        }
    }

    /// The comparison `op` from shares of `d = x − y`.
    fn compare_diff(&mut self, shape: &[usize], d: Vec<u64>, op: Cmp) -> Result<Tensor<u64>> {
        let iota = self.iota();
        let neg = |d: &[u64]| -> Vec<u64> { d.iter().map(|v| v.wrapping_neg()).collect() };
        let out = match op {
            Cmp::Ge => self.drelu_flat(&d)?,
            Cmp::Le => self.drelu_flat(&neg(&d))?,
            Cmp::Gt => self.drelu_flat(&neg(&d))?.into_iter().map(|g| iota.wrapping_sub(g)).collect(),
            Cmp::Lt => self.drelu_flat(&d)?.into_iter().map(|g| iota.wrapping_sub(g)).collect(),
            Cmp::Eq => {
                let n = d.len();
                let mut both = d.clone();
                both.extend(d.iter().map(|v| v.wrapping_neg()));
                let g = self.drelu_flat(&both)?;
                (0..n).map(|e| g[e].wrapping_add(g[n + e]).wrapping_sub(iota)).collect()
            }
        };
        Ok(Tensor::new(shape, out)?)
    }

    /// `[x ≥ y]` for shared `x`, `y` of one shape. Helper: [`Helper::ge`].
    pub fn ge(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = Self::shared_diff("ge", x, y)?;
        self.compare_diff(x.shape(), d, Cmp::Ge)
    }

    /// `[x > y]` for shared `x`, `y` of one shape. Helper: [`Helper::gt`].
    pub fn gt(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = Self::shared_diff("gt", x, y)?;
        self.compare_diff(x.shape(), d, Cmp::Gt)
    }

    /// `[x ≤ y]` for shared `x`, `y` of one shape. Helper: [`Helper::le`].
    pub fn le(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = Self::shared_diff("le", x, y)?;
        self.compare_diff(x.shape(), d, Cmp::Le)
    }

    /// `[x < y]` for shared `x`, `y` of one shape. Helper: [`Helper::lt`].
    pub fn lt(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = Self::shared_diff("lt", x, y)?;
        self.compare_diff(x.shape(), d, Cmp::Lt)
    }

    /// `[x == y]` for shared `x`, `y` of one shape: two DReLUs in one batch, so the
    /// rounds of one DReLU and the bytes of two. Helper: [`Helper::eq`].
    pub fn eq(&mut self, x: &Tensor<u64>, y: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = Self::shared_diff("eq", x, y)?;
        self.compare_diff(x.shape(), d, Cmp::Eq)
    }

    /// `[x ≥ c]` for a public `c` (encoded at `x`'s scale, broadcast to `x`'s shape).
    /// Helper: [`Helper::ge`].
    pub fn ge_public(&mut self, x: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = self.public_diff("ge_public", x, c)?;
        self.compare_diff(x.shape(), d, Cmp::Ge)
    }

    /// `[x > c]` for a public `c`. Helper: [`Helper::gt`].
    pub fn gt_public(&mut self, x: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = self.public_diff("gt_public", x, c)?;
        self.compare_diff(x.shape(), d, Cmp::Gt)
    }

    /// `[x ≤ c]` for a public `c`. Helper: [`Helper::le`].
    pub fn le_public(&mut self, x: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = self.public_diff("le_public", x, c)?;
        self.compare_diff(x.shape(), d, Cmp::Le)
    }

    /// `[x < c]` for a public `c`. Helper: [`Helper::lt`].
    pub fn lt_public(&mut self, x: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = self.public_diff("lt_public", x, c)?;
        self.compare_diff(x.shape(), d, Cmp::Lt)
    }

    /// `[x == c]` for a public `c`. Helper: [`Helper::eq`].
    pub fn eq_public(&mut self, x: &Tensor<u64>, c: &Tensor<u64>) -> Result<Tensor<u64>> {
        let d = self.public_diff("eq_public", x, c)?;
        self.compare_diff(x.shape(), d, Cmp::Eq)
    }
}

impl Helper<'_> {
    /// The helper's side of [`SnnParty::ge`] and [`SnnParty::ge_public`] (`shape`: `x`'s).
    pub fn ge(&mut self, shape: &[usize]) -> Result<()> {
        self.drelu_n(numel(shape))
    }

    /// The helper's side of [`SnnParty::gt`] and [`SnnParty::gt_public`].
    pub fn gt(&mut self, shape: &[usize]) -> Result<()> {
        self.drelu_n(numel(shape))
    }

    /// The helper's side of [`SnnParty::le`] and [`SnnParty::le_public`].
    pub fn le(&mut self, shape: &[usize]) -> Result<()> {
        self.drelu_n(numel(shape))
    }

    /// The helper's side of [`SnnParty::lt`] and [`SnnParty::lt_public`].
    pub fn lt(&mut self, shape: &[usize]) -> Result<()> {
        self.drelu_n(numel(shape))
    }

    /// The helper's side of [`SnnParty::eq`] and [`SnnParty::eq_public`].
    pub fn eq(&mut self, shape: &[usize]) -> Result<()> {
        self.drelu_n(2 * numel(shape))
    }
}
