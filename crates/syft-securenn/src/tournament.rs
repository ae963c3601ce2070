//! Maximum and argmax along an axis, and 2-d max pooling with its backward mask, by a
//! tournament (docs/PROTOCOLS.md §8.1) batched level by level.
//!
//! Each level pairs neighbouring survivors `(2t, 2t+1)` (an odd one passes through):
//! `b = DReLU(v_left − v_right)`, then one batched round of Beaver products selects the
//! winner's value `v_right + b·(v_left − v_right)` and, as asked, its index or its
//! one-hot vector. On ties the left survivor wins, and it always carries the lower
//! indices, so **the first (lowest) index of the maximum wins**, as in `torch.argmax`.
//!
//! There are `⌈log2 k⌉` levels and `k − 1` comparisons per row, so the rounds are
//! `⌈log2 k⌉ · (DReLU + 1)` and the bytes those of a linear scan at most. At the first
//! level both candidates' indices (and one-hot vectors) are public, so their selection
//! is local (docs/PROTOCOLS.md §8.1): this saves one product per first-level pair.
//!
//! A few rows (at most `1024 / (k(k−1)/2 + k)`, `k > 4`) go by all pairs instead: every
//! pair compared in one DReLU, each candidate's count of wins compared with `k − 1` in a
//! second, with the products selecting the maximum riding on it. Two comparisons in
//! sequence instead of `⌈log2 k⌉`, for more comparisons per row: the form for a batch of
//! one, where rounds, not computation, take the time.

use crate::Width;
use crate::error::{Result, invalid, shape_mismatch};
use crate::helper::Helper;
use crate::party::{Payload, SnnParty};
use syft_ring::{Tensor, numel};

/// What a tournament tracks besides the maximum.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Track {
    /// The value only.
    Value,
    /// The value and the index.
    Index,
    /// The value and the one-hot vector (the index follows locally).
    OneHot,
}

/// A survivor's place: the leaves `lo..hi` it stands for; `leaf` while its index and
/// one-hot vector are still public.
#[derive(Clone, Copy, Debug)]
struct Meta {
    lo: usize,
    hi: usize,
    leaf: bool,
}

/// Products per row one pair needs: (index products, one-hot products).
fn pair_units(l: Meta, r: Meta, track: Track) -> (usize, usize) {
    match track {
        Track::Value => (0, 0),
        Track::Index => (usize::from(!(l.leaf && r.leaf)), 0),
        Track::OneHot => {
            let side = |m: Meta| if m.leaf { 0 } else { m.hi - m.lo };
            (0, side(l) + side(r))
        }
    }
}

/// One level's plan: the number of pairs and of products per row; the next survivors.
fn level(metas: &[Meta], track: Track) -> (usize, usize, Vec<Meta>) {
    let pairs = metas.len() / 2;
    let mut units = 0;
    let mut next = Vec::with_capacity(pairs + 1);
    for t in 0..pairs {
        let (l, r) = (metas[2 * t], metas[2 * t + 1]);
        let (i, o) = pair_units(l, r, track);
        units += 1 + i + o;
        next.push(Meta { lo: l.lo, hi: r.hi, leaf: false });
    }
    if metas.len() % 2 == 1 {
        next.extend(metas.last().copied());
    }
    (pairs, units, next)
}

/// One level's payload plan: per pair `t`, its `1 + i + o` product blocks (value, index,
/// one-hot columns) each multiplied by the pair's comparison bits, block `t`.
fn level_blocks(metas: &[Meta], track: Track) -> Vec<usize> {
    let mut blocks = Vec::new();
    for t in 0..metas.len() / 2 {
        let (i, o) = pair_units(metas[2 * t], metas[2 * t + 1], track);
        blocks.extend(std::iter::repeat_n(t, 1 + i + o));
    }
    blocks
}

/// One survivor at a computing party: its value column, its index shares (`None` while
/// public) and its one-hot columns (`None` while public).
struct Survivor {
    meta: Meta,
    val: Vec<u64>,
    idx: Option<Vec<u64>>,
    oh: Option<Vec<Vec<u64>>>,
}

/// The result of [`SnnParty::argmax`] and [`SnnParty::argmax_one_hot`].
#[derive(Clone, Debug, PartialEq)]
pub struct Argmax {
    /// Shares of the maximum (at the input's scale), the reduced axis removed.
    pub value: Tensor<u64>,
    /// Shares of the unscaled index of the first maximum, the reduced axis removed.
    pub index: Tensor<u64>,
    /// Shares of the unscaled one-hot vector of that index along the reduced axis (the
    /// input's shape), when asked for.
    pub one_hot: Option<Tensor<u64>>,
}

/// Parameters of a 2-d max pool over `[N, C, H, W]` (no padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2d {
    /// Window height and width.
    pub kernel: (usize, usize),
    /// Vertical and horizontal stride.
    pub stride: (usize, usize),
}

impl Pool2d {
    /// A square `kernel × kernel` window with stride `stride`.
    #[must_use]
    pub const fn new(kernel: usize, stride: usize) -> Self {
        Self { kernel: (kernel, kernel), stride: (stride, stride) }
    }

    /// Elements per window.
    #[must_use]
    pub const fn window(&self) -> usize {
        self.kernel.0 * self.kernel.1
    }

    /// The output shape `[N, C, OH, OW]` for an input of shape `[N, C, H, W]`.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let &[n, c, h, w] = input else {
            return Err(invalid("maxpool2d", format!("input must be [N, C, H, W], got {input:?}")));
        };
        let ((kh, kw), (sh, sw)) = (self.kernel, self.stride);
        if kh == 0 || kw == 0 || sh == 0 || sw == 0 {
            return Err(invalid(
                "maxpool2d",
                format!("kernel {:?} and stride {:?} must be positive", self.kernel, self.stride),
            ));
        }
        if kh > h || kw > w {
            return Err(invalid("maxpool2d", format!("window {:?} larger than the input {h}×{w}", self.kernel)));
        }
        Ok(vec![n, c, (h - kh) / sh + 1, (w - kw) / sw + 1])
    }

    /// Input offset of window row `r` (in output order) and window element `q`
    /// (row-major in the window), for an input of shape `[N, C, H, W]`.
    fn offsets(&self, input: &[usize]) -> Result<Vec<usize>> {
        let out = self.output_shape(input)?;
        let (h, w) = (input[2], input[3]);
        let (oh, ow) = (out[2], out[3]);
        let ((kh, kw), (sh, sw)) = (self.kernel, self.stride);
        let mut offs = Vec::with_capacity(numel(&out) * kh * kw);
        for plane in 0..input[0] * input[1] {
            for oy in 0..oh {
                for ox in 0..ow {
                    for dy in 0..kh {
                        for dx in 0..kw {
                            offs.push((plane * h + oy * sh + dy) * w + ox * sw + dx);
                        }
                    }
                }
            }
        }
        Ok(offs)
    }
}

/// The result of [`SnnParty::maxpool2d`].
#[derive(Clone, Debug, PartialEq)]
pub struct MaxPool {
    /// Shares of the pooled maxima, `[N, C, OH, OW]`, at the input's scale.
    pub value: Tensor<u64>,
    /// Shares of the unscaled one-hot mask of each window's first maximum,
    /// `[N, C, OH, OW, KH·KW]` (window elements in row-major order).
    pub mask: Tensor<u64>,
    /// The input's shape.
    pub input_shape: Vec<usize>,
    /// The pooling parameters.
    pub params: Pool2d,
}

/// A reduction's results at a party, laid out (the axis removed, or kept for one-hot).
struct Reduced {
    value: Tensor<u64>,
    index: Option<Tensor<u64>>,
    one_hot: Option<Tensor<u64>>,
}

/// `(outer, k, inner)` of `shape` around `axis`, checking the axis and `k > 0`.
fn axis_split(op: &'static str, shape: &[usize], axis: usize) -> Result<(usize, usize, usize)> {
    if axis >= shape.len() {
        return Err(invalid(op, format!("axis {axis} out of range for shape {shape:?}")));
    }
    let k = shape[axis];
    if k == 0 {
        return Err(invalid(op, format!("cannot reduce the empty axis {axis} of shape {shape:?}")));
    }
    Ok((numel(&shape[..axis]), k, numel(&shape[axis + 1..])))
}

/// The most comparisons (`m` rows times `k(k−1)/2 + k`) for which the all-pairs form is
/// chosen over the tournament.
const ALL_PAIRS_LIMIT: usize = 1024;

/// Whether `m` rows of `k` candidates are reduced by all pairs at `width`
/// (docs/PROTOCOLS.md §8.1): two DReLUs in sequence instead of `⌈log2 k⌉`, for
/// `k(k−1)/2 + k` comparisons per row instead of `k − 1`. Chosen when it saves rounds
/// (`k > 4`), its comparisons are few (small batches, where rounds, not computation,
/// take the time), and the second DReLU's inputs, down to `−(k − 1)`, are in DReLU's
/// range at the width (`k − 1 < 2^(w−2)`). Both the parties and the helper decide from
/// the public shape and width.
fn all_pairs(m: usize, k: usize, width: Width) -> bool {
    let counts_fit = width.bits() >= 2 && ((k as u64).saturating_sub(1) >> (width.bits() - 2)) == 0;
    k > 4 && m > 0 && m.saturating_mul(k * (k - 1) / 2 + k) <= ALL_PAIRS_LIMIT && counts_fit
}

impl SnnParty<'_> {
    /// The reduction of `k` columns of `m` rows each: all pairs or the tournament.
    fn tournament(&mut self, columns: Vec<Vec<u64>>, m: usize, track: Track) -> Result<Survivor> {
        if all_pairs(m, columns.len(), self.width()) {
            return self.all_pairs(columns, m, track);
        }
        let iota = self.iota();
        let mut alive: Vec<Survivor> = columns
            .into_iter()
            .enumerate()
            .map(|(c, val)| Survivor { meta: Meta { lo: c, hi: c + 1, leaf: true }, val, idx: None, oh: None })
            .collect();
        while alive.len() > 1 {
            let metas: Vec<Meta> = alive.iter().map(|s| s.meta).collect();
            let (pairs, units, next_meta) = level(&metas, track);
            let mut d = Vec::with_capacity(pairs * m);
            for t in 0..pairs {
                let (l, r) = (&alive[2 * t], &alive[2 * t + 1]);
                d.extend(l.val.iter().zip(&r.val).map(|(a, b)| a.wrapping_sub(*b)));
            }
            // The comparison bits b and, with them, one batch of products: per pair, b·d,
            // then b·(i_l − i_r), then b·(one-hot columns) (docs/PROTOCOLS.md §6.6, §8.1).
            let mut ys = Vec::with_capacity(units * m);
            for t in 0..pairs {
                let (l, r) = (&alive[2 * t], &alive[2 * t + 1]);
                ys.extend_from_slice(&d[t * m..(t + 1) * m]);
                let (iu, _) = pair_units(l.meta, r.meta, track);
                if iu == 1 {
                    let il = index_shares(l, m, iota);
                    let ir = index_shares(r, m, iota);
                    ys.extend(il.iter().zip(&ir).map(|(a, b)| a.wrapping_sub(*b)));
                }
                if track == Track::OneHot {
                    for side in [l, r] {
                        if let Some(cols) = &side.oh {
                            for col in cols {
                                ys.extend_from_slice(col);
                            }
                        }
                    }
                }
            }
            let blocks = level_blocks(&metas, track);
            debug_assert_eq!(ys.len(), units * m);
            let (b, prod) = self.drelu_times_flat(&d, &Payload::new(m, &blocks, &ys))?;
            let mut at = 0;
            let mut take = || {
                let s = &prod[at..at + m];
                at += m;
                s
            };
            let mut next = Vec::with_capacity(next_meta.len());
            let mut rest = alive.into_iter();
            for (t, meta) in next_meta.iter().enumerate().take(pairs) {
                let (Some(l), Some(r)) = (rest.next(), rest.next()) else { break };
                let bt = &b[t * m..(t + 1) * m];
                let val: Vec<u64> = r.val.iter().zip(take()).map(|(a, p)| a.wrapping_add(*p)).collect();
                let idx = match track {
                    Track::Index if l.meta.leaf && r.meta.leaf => {
                        // i = i_r + b (i_l − i_r) with public leaf indices: local.
                        let diff = (l.meta.lo as u64).wrapping_sub(r.meta.lo as u64);
                        Some(
                            bt.iter().map(|bv| (iota * r.meta.lo as u64).wrapping_add(bv.wrapping_mul(diff))).collect(),
                        )
                    }
                    Track::Index => {
                        let ir = index_shares(&r, m, iota);
                        Some(ir.iter().zip(take()).map(|(a, p)| a.wrapping_add(*p)).collect())
                    }
                    _ => None,
                };
                let oh = if track == Track::OneHot {
                    let mut cols = Vec::with_capacity(meta.hi - meta.lo);
                    // Left part: b · oh_l (b itself for a public leaf).
                    match &l.oh {
                        Some(lc) => cols.extend(lc.iter().map(|_| take().to_vec())),
                        None => cols.push(bt.to_vec()),
                    }
                    // Right part: oh_r − b · oh_r (ι − b for a public leaf).
                    match &r.oh {
                        Some(rc) => {
                            for col in rc {
                                cols.push(col.iter().zip(take()).map(|(a, p)| a.wrapping_sub(*p)).collect());
                            }
                        }
                        None => cols.push(bt.iter().map(|bv| iota.wrapping_sub(*bv)).collect()),
                    }
                    Some(cols)
                } else {
                    None
                };
                next.push(Survivor { meta: *meta, val, idx, oh });
            }
            next.extend(rest);
            alive = next;
        }
        alive.pop().ok_or_else(|| invalid("argmax", "nothing to reduce"))
    }

    /// The all-pairs form (docs/PROTOCOLS.md §8.1): `b_ij = DReLU(v_i − v_j)` for every
    /// `i < j` in one batch; then `c_i = #{j : v_i beats v_j} − (k − 1)` locally (`v_i`
    /// beats `v_j` when `v_i ≥ v_j` for `i < j` and `v_i > v_j` for `i > j`, so only the
    /// first maximum beats all others), and `oh_i = DReLU(c_i)` in a second batch, with
    /// the products `oh_i·v_i` (the maximum is their sum) riding on its rounds.
    fn all_pairs(&mut self, columns: Vec<Vec<u64>>, m: usize, track: Track) -> Result<Survivor> {
        let k = columns.len();
        let iota = self.iota();
        let mut d = Vec::with_capacity(k * (k - 1) / 2 * m);
        for i in 0..k {
            for j in i + 1..k {
                d.extend(columns[i].iter().zip(&columns[j]).map(|(a, b)| a.wrapping_sub(*b)));
            }
        }
        let b = self.drelu_flat(&d)?;
        // c_i = Σ_{j>i} b_ij + Σ_{j<i} (1 − b_ji) − (k − 1).
        let mut c: Vec<u64> = (0..k as u64)
            .flat_map(|i| std::iter::repeat_n(iota.wrapping_mul(i.wrapping_sub(k as u64 - 1)), m))
            .collect();
        let mut pairs = b.chunks_exact(m);
        for i in 0..k {
            for j in i + 1..k {
                let bij = pairs.next().unwrap_or_default();
                for (r, &v) in bij.iter().enumerate() {
                    c[i * m + r] = c[i * m + r].wrapping_add(v);
                    c[j * m + r] = c[j * m + r].wrapping_sub(v);
                }
            }
        }
        let blocks: Vec<usize> = (0..k).collect();
        let values = columns.concat();
        let (oh, prod) = self.drelu_times_flat(&c, &Payload::new(m, &blocks, &values))?;
        let mut val = vec![0u64; m];
        for col in prod.chunks_exact(m) {
            for (v, p) in val.iter_mut().zip(col) {
                *v = v.wrapping_add(*p);
            }
        }
        let cols: Vec<Vec<u64>> = oh.chunks_exact(m).map(<[u64]>::to_vec).collect();
        let idx = (track == Track::Index).then(|| index_from_one_hot(&cols, m));
        let oh = (track == Track::OneHot).then_some(cols);
        Ok(Survivor { meta: Meta { lo: 0, hi: k, leaf: false }, val, idx, oh })
    }

    /// Runs a tournament along `axis` and lays the results out.
    fn reduce_axis(&mut self, op: &'static str, x: &Tensor<u64>, axis: usize, track: Track) -> Result<Reduced> {
        let (outer, k, inner) = axis_split(op, x.shape(), axis)?;
        let m = outer * inner;
        let data = x.data();
        let columns: Vec<Vec<u64>> = (0..k)
            .map(|c| {
                let mut col = Vec::with_capacity(m);
                for o in 0..outer {
                    let base = (o * k + c) * inner;
                    col.extend_from_slice(&data[base..base + inner]);
                }
                col
            })
            .collect();
        let winner = self.tournament(columns, m, track)?;
        let mut reduced = x.shape().to_vec();
        reduced.remove(axis);
        let iota = self.iota();
        let one_hot_cols = match track {
            Track::OneHot => Some(one_hot_columns(&winner, m, iota)),
            _ => None,
        };
        let index = match track {
            Track::Value => None,
            Track::Index => Some(index_shares(&winner, m, iota)),
            Track::OneHot => one_hot_cols.as_ref().map(|cols| index_from_one_hot(cols, m)),
        };
        let one_hot = match one_hot_cols {
            Some(cols) => {
                let mut out = vec![0u64; x.len()];
                for (c, col) in cols.iter().enumerate() {
                    for o in 0..outer {
                        let base = (o * k + c) * inner;
                        out[base..base + inner].copy_from_slice(&col[o * inner..(o + 1) * inner]);
                    }
                }
                Some(Tensor::new(x.shape(), out)?)
            }
            None => None,
        };
        let value = Tensor::new(&reduced, winner.val)?;
        let index = index.map(|i| Tensor::new(&reduced, i)).transpose()?;
        Ok(Reduced { value, index, one_hot })
    }

    /// The maximum along `axis` (the axis removed). `k − 1` DReLUs and products per
    /// output in `⌈log2 k⌉` levels. Valid when pairwise differences are in DReLU's range
    /// at the [`width`](Self::width) (e.g. `|x| < 2^61` at 64 bits, `2^29` at 32); wrong,
    /// not clamped, outside it. Helper: [`Helper::max`].
    pub fn max(&mut self, x: &Tensor<u64>, axis: usize) -> Result<Tensor<u64>> {
        Ok(self.reduce_axis("max", x, axis, Track::Value)?.value)
    }

    /// The maximum along `axis` and the unscaled index of its first occurrence. Valid
    /// range: that of [`max`](Self::max). Helper: [`Helper::argmax`].
    pub fn argmax(&mut self, x: &Tensor<u64>, axis: usize) -> Result<Argmax> {
        let r = self.reduce_axis("argmax", x, axis, Track::Index)?;
        let index = r.index.ok_or_else(|| invalid("argmax", "no index tracked"))?;
        Ok(Argmax { value: r.value, index, one_hot: None })
    }

    /// Like [`argmax`](Self::argmax), with the one-hot vector of the index along `axis`
    /// (the index follows from it locally). Helper: [`Helper::argmax_one_hot`].
    pub fn argmax_one_hot(&mut self, x: &Tensor<u64>, axis: usize) -> Result<Argmax> {
        let r = self.reduce_axis("argmax_one_hot", x, axis, Track::OneHot)?;
        let index = r.index.ok_or_else(|| invalid("argmax_one_hot", "no index tracked"))?;
        Ok(Argmax { value: r.value, index, one_hot: r.one_hot })
    }

    /// 2-d max pooling of `x` (`[N, C, H, W]`) with the one-hot mask of each window's
    /// first maximum, which [`maxpool2d_backward`](Self::maxpool2d_backward) uses. Valid
    /// range: that of [`max`](Self::max), at the [`width`](Self::width).
    /// Helper: [`Helper::maxpool2d`].
    pub fn maxpool2d(&mut self, x: &Tensor<u64>, params: Pool2d) -> Result<MaxPool> {
        let out_shape = params.output_shape(x.shape())?;
        let offs = params.offsets(x.shape())?;
        let (m, k) = (numel(&out_shape), params.window());
        let data = x.data();
        let columns: Vec<Vec<u64>> = (0..k).map(|q| (0..m).map(|r| data[offs[r * k + q]]).collect()).collect();
        let winner = self.tournament(columns, m, Track::OneHot)?;
        let cols = one_hot_columns(&winner, m, self.iota());
        let mut mask = vec![0u64; m * k];
        for (q, col) in cols.iter().enumerate() {
            for (r, &v) in col.iter().enumerate() {
                mask[r * k + q] = v;
            }
        }
        let mut mask_shape = out_shape.clone();
        mask_shape.push(k);
        Ok(MaxPool {
            value: Tensor::new(&out_shape, winner.val)?,
            mask: Tensor::new(&mask_shape, mask)?,
            input_shape: x.shape().to_vec(),
            params,
        })
    }

    /// The max-pool backward pass: routes each output gradient to its window's first
    /// maximum and sums over overlapping windows. One Beaver product of `|mask|`
    /// elements, not truncated (the mask is unscaled). Helper:
    /// [`Helper::maxpool2d_backward`].
    pub fn maxpool2d_backward(&mut self, pool: &MaxPool, grad: &Tensor<u64>) -> Result<Tensor<u64>> {
        let out_shape = pool.params.output_shape(&pool.input_shape)?;
        if grad.shape() != out_shape {
            return Err(shape_mismatch("maxpool2d_backward", grad.shape(), &out_shape));
        }
        let k = pool.params.window();
        let m = numel(&out_shape);
        if pool.mask.len() != m * k {
            return Err(shape_mismatch("maxpool2d_backward", pool.mask.shape(), &out_shape));
        }
        let offs = pool.params.offsets(&pool.input_shape)?;
        let spread: Vec<u64> = grad.data().iter().flat_map(|&g| std::iter::repeat_n(g, k)).collect();
        let routed = self.mul_flat(pool.mask.data().to_vec(), spread)?;
        let mut out = vec![0u64; numel(&pool.input_shape)];
        for (&o, &v) in offs.iter().zip(&routed) {
            out[o] = out[o].wrapping_add(v);
        }
        Ok(Tensor::new(&pool.input_shape, out)?)
    }
}

/// A survivor's index shares (`ι·lo` while public).
fn index_shares(s: &Survivor, m: usize, iota: u64) -> Vec<u64> {
    match &s.idx {
        Some(i) => i.clone(),
        None => vec![iota * s.meta.lo as u64; m],
    }
}

/// The winner's one-hot columns (`[ι]` for a single public leaf).
fn one_hot_columns(s: &Survivor, m: usize, iota: u64) -> Vec<Vec<u64>> {
    match &s.oh {
        Some(cols) => cols.clone(),
        None => vec![vec![iota; m]],
    }
}

/// `Σ_c c · oh_c` (local).
fn index_from_one_hot(cols: &[Vec<u64>], m: usize) -> Vec<u64> {
    let mut idx = vec![0u64; m];
    for (c, col) in cols.iter().enumerate() {
        for (i, v) in idx.iter_mut().zip(col) {
            *i = i.wrapping_add(v.wrapping_mul(c as u64));
        }
    }
    idx
}

impl Helper<'_> {
    /// The helper's side of a tournament over `k` columns of `m` rows.
    fn tournament_n(&mut self, m: usize, k: usize, track: Track) -> Result<()> {
        if all_pairs(m, k, self.width()) {
            self.drelu_n(k * (k - 1) / 2 * m)?;
            let blocks: Vec<usize> = (0..k).collect();
            return self.drelu_times_n(k * m, m, &blocks);
        }
        let mut metas: Vec<Meta> = (0..k).map(|c| Meta { lo: c, hi: c + 1, leaf: true }).collect();
        while metas.len() > 1 {
            let (pairs, _, next) = level(&metas, track);
            self.drelu_times_n(pairs * m, m, &level_blocks(&metas, track))?;
            metas = next;
        }
        Ok(())
    }

    fn reduce_axis_n(&mut self, op: &'static str, shape: &[usize], axis: usize, track: Track) -> Result<()> {
        let (outer, k, inner) = axis_split(op, shape, axis)?;
        self.tournament_n(outer * inner, k, track)
    }

    /// The helper's side of [`SnnParty::max`] (`shape`: the input's).
    pub fn max(&mut self, shape: &[usize], axis: usize) -> Result<()> {
        self.reduce_axis_n("max", shape, axis, Track::Value)
    }

    /// The helper's side of [`SnnParty::argmax`].
    pub fn argmax(&mut self, shape: &[usize], axis: usize) -> Result<()> {
        self.reduce_axis_n("argmax", shape, axis, Track::Index)
    }

    /// The helper's side of [`SnnParty::argmax_one_hot`].
    pub fn argmax_one_hot(&mut self, shape: &[usize], axis: usize) -> Result<()> {
        self.reduce_axis_n("argmax_one_hot", shape, axis, Track::OneHot)
    }

    /// The helper's side of [`SnnParty::maxpool2d`] (`shape`: the input's).
    pub fn maxpool2d(&mut self, shape: &[usize], params: Pool2d) -> Result<()> {
        let out = params.output_shape(shape)?;
        self.tournament_n(numel(&out), params.window(), Track::OneHot)
    }

    /// The helper's side of [`SnnParty::maxpool2d_backward`] (`shape`: the input's).
    pub fn maxpool2d_backward(&mut self, shape: &[usize], params: Pool2d) -> Result<()> {
        let out = params.output_shape(shape)?;
        self.serve_mul(numel(&out) * params.window())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Products per row of a k-way argmax: values k − 1, indices k − 1 − ⌊k/2⌋.
    #[test]
    fn index_tracking_saves_the_first_level() {
        for k in 1..40usize {
            let mut metas: Vec<Meta> = (0..k).map(|c| Meta { lo: c, hi: c + 1, leaf: true }).collect();
            let (mut drelus, mut units, mut levels) = (0, 0, 0);
            while metas.len() > 1 {
                let (p, u, next) = level(&metas, Track::Index);
                drelus += p;
                units += u;
                levels += 1;
                metas = next;
            }
            assert_eq!(drelus, k - 1);
            assert_eq!(units, 2 * (k - 1) - k / 2);
            assert_eq!(levels, k.next_power_of_two().trailing_zeros() as usize);
            assert_eq!((metas[0].lo, metas[0].hi), (0, k));
        }
    }

    #[test]
    fn pool_geometry() {
        let p = Pool2d::new(2, 2);
        assert_eq!(p.output_shape(&[1, 1, 4, 5]).ok(), Some(vec![1, 1, 2, 2]));
        let offs = p.offsets(&[1, 1, 4, 4]).ok().unwrap_or_default();
        assert_eq!(&offs[..8], &[0, 1, 4, 5, 2, 3, 6, 7]);
        assert!(p.output_shape(&[1, 1, 1, 4]).is_err());
        assert!(Pool2d::new(0, 1).output_shape(&[1, 1, 4, 4]).is_err());
        assert!(p.output_shape(&[4, 4]).is_err());
    }
}
