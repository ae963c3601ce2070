//! Additive secret sharing over a ring (docs/PROTOCOLS.md §1): split, reconstruct, and the
//! local linear operations on shares.
//!
//! - [`AdditiveShares`] holds *all* shares of a value: the dealer's or a test's view.
//! - [`local`] has the same operations for *one* party's share, as protocol code runs them.
//! - [`share_secret`] is the owner-to-parties sharing step over a [`Comm`].

use crate::comm::{Comm, CommExt, PartyId};
use crate::error::{Result, ShareError};
use syft_ring::{Prg, Ring, Tensor};

/// Every share of one secret: `secret = Σ_j shares[j]` in the ring.
///
/// Shares `0 .. n−1` are drawn uniformly from the PRG and the last is the difference, so any
/// `n − 1` shares are uniform and independent of the secret. The default ring is Z_2^64.
///
/// ```
/// use syft_ring::{Prg, Seed, Tensor};
/// use syft_share::AdditiveShares;
///
/// # fn main() -> syft_share::Result<()> {
/// let mut prg = Prg::new(&Seed::from_u64(1));
/// let x = Tensor::<u64>::from_vec(vec![5, 7, u64::MAX]);
/// let sh = AdditiveShares::split(&x, 3, &mut prg)?;
/// let y = sh.add_public(&Tensor::scalar(1))?.mul_scalar(2); // 2 · (x + 1)
/// assert_eq!(y.reconstruct().data(), &[12, 16, 0]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq)]
pub struct AdditiveShares<R = u64> {
    shares: Vec<Tensor<R>>,
}

impl<R: Ring> std::fmt::Debug for AdditiveShares<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print share values.
        let shape = self.shares.first().map(Tensor::shape).unwrap_or(&[]);
        write!(f, "AdditiveShares<{}>({} parties, shape {shape:?})", R::NAME, self.shares.len())
    }
}

impl<R: Ring> AdditiveShares<R> {
    /// Splits `secret` into `parties ≥ 2` additive shares with randomness from `prg`.
    pub fn split(secret: &Tensor<R>, parties: usize, prg: &mut Prg) -> Result<Self> {
        if parties < 2 {
            return Err(ShareError::TooFewParties { op: "split", parties, min: 2 });
        }
        let mut last = secret.clone();
        let mut shares = Vec::with_capacity(parties);
        for _ in 0..parties - 1 {
            let r: Tensor<R> = prg.ring_tensor(secret.shape());
            for (l, &x) in last.data_mut().iter_mut().zip(r.data()) {
                *l = l.sub(x);
            }
            shares.push(r);
        }
        shares.push(last);
        Ok(Self { shares })
    }

    /// Splits `secret` with a PRG seeded from the operating system's entropy.
    pub fn split_with_entropy(secret: &Tensor<R>, parties: usize) -> Result<Self> {
        Self::split(secret, parties, &mut Prg::from_entropy()?)
    }

    /// Assembles shares held elsewhere (at least two, all of one shape).
    pub fn from_shares(shares: Vec<Tensor<R>>) -> Result<Self> {
        if shares.len() < 2 {
            return Err(ShareError::TooFewParties { op: "from_shares", parties: shares.len(), min: 2 });
        }
        let shape = shares[0].shape();
        if let Some((party, s)) = shares.iter().enumerate().find(|(_, s)| s.shape() != shape) {
            return Err(ShareError::ShareShape {
                op: "from_shares",
                party,
                expected: shape.to_vec(),
                got: s.shape().to_vec(),
            });
        }
        Ok(Self { shares })
    }

    /// The secret: the sum of all shares.
    #[must_use]
    pub fn reconstruct(&self) -> Tensor<R> {
        let mut acc = self.shares[0].clone();
        for s in &self.shares[1..] {
            for (a, &x) in acc.data_mut().iter_mut().zip(s.data()) {
                *a = a.add(x);
            }
        }
        acc
    }

    /// Number of parties (shares).
    #[must_use]
    pub fn parties(&self) -> usize {
        self.shares.len()
    }

    /// The shape of the shared tensor.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        self.shares[0].shape()
    }

    /// Party `party`'s share.
    pub fn share(&self, party: PartyId) -> Result<&Tensor<R>> {
        self.shares.get(party).ok_or(ShareError::UnknownParty { op: "share", party, parties: self.shares.len() })
    }

    /// All shares, in party order.
    #[must_use]
    pub fn shares(&self) -> &[Tensor<R>] {
        &self.shares
    }

    /// The shares, consuming `self`.
    #[must_use]
    pub fn into_shares(self) -> Vec<Tensor<R>> {
        self.shares
    }

    fn zip_with(
        &self,
        rhs: &Self,
        op: &'static str,
        f: fn(&Tensor<R>, &Tensor<R>) -> Result<Tensor<R>>,
    ) -> Result<Self> {
        if self.parties() != rhs.parties() {
            return Err(ShareError::InvalidArgument {
                op,
                reason: format!("{} shares against {}", self.parties(), rhs.parties()),
            });
        }
        let shares = self.shares.iter().zip(&rhs.shares).map(|(a, b)| f(a, b)).collect::<Result<_>>()?;
        Ok(Self { shares })
    }

    fn map_parties(&self, f: impl Fn(PartyId, &Tensor<R>) -> Result<Tensor<R>>) -> Result<Self> {
        let shares = self.shares.iter().enumerate().map(|(j, s)| f(j, s)).collect::<Result<_>>()?;
        Ok(Self { shares })
    }

    /// `self + rhs` (numpy broadcasting).
    pub fn add(&self, rhs: &Self) -> Result<Self> {
        self.zip_with(rhs, "add", local::add)
    }

    /// `self − rhs` (numpy broadcasting).
    pub fn sub(&self, rhs: &Self) -> Result<Self> {
        self.zip_with(rhs, "sub", local::sub)
    }

    /// `−self`.
    #[must_use]
    pub fn neg(&self) -> Self {
        Self { shares: self.shares.iter().map(local::neg).collect() }
    }

    /// `self + c` for a public `c` (added by party 0 only).
    pub fn add_public(&self, c: &Tensor<R>) -> Result<Self> {
        self.map_parties(|j, s| local::add_public(s, c, j))
    }

    /// `self − c` for a public `c` (subtracted by party 0 only).
    pub fn sub_public(&self, c: &Tensor<R>) -> Result<Self> {
        self.map_parties(|j, s| local::sub_public(s, c, j))
    }

    /// `c − self` for a public `c`.
    pub fn public_sub(&self, c: &Tensor<R>) -> Result<Self> {
        self.map_parties(|j, s| local::public_sub(c, s, j))
    }

    /// `c · self` for a public ring element `c`.
    #[must_use]
    pub fn mul_scalar(&self, c: R) -> Self {
        Self { shares: self.shares.iter().map(|s| local::mul_scalar(s, c)).collect() }
    }

    /// `c ⊙ self` elementwise for a public tensor `c` (numpy broadcasting).
    pub fn mul_public(&self, c: &Tensor<R>) -> Result<Self> {
        self.map_parties(|_, s| local::mul_public(s, c))
    }

    /// The sum of all elements (a rank-0 sharing).
    #[must_use]
    pub fn sum_all(&self) -> Self {
        Self { shares: self.shares.iter().map(local::sum_all).collect() }
    }

    /// The sum along `axis`.
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Result<Self> {
        self.map_parties(|_, s| local::sum_axis(s, axis, keepdim))
    }

    /// `self · m` for a public matrix `m`.
    pub fn matmul_public(&self, m: &Tensor<R>) -> Result<Self> {
        self.map_parties(|_, s| local::matmul_public(s, m))
    }

    /// `m · self` for a public matrix `m`.
    pub fn public_matmul(&self, m: &Tensor<R>) -> Result<Self> {
        self.map_parties(|_, s| local::public_matmul(m, s))
    }

    /// The same sharing under a new shape.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        self.map_parties(|_, s| Ok(s.reshape(shape)?))
    }

    /// Swaps the last two axes.
    pub fn transpose(&self) -> Result<Self> {
        self.map_parties(|_, s| Ok(s.transpose()?))
    }
}

/// Party-local linear operations on one share (0 bytes, 0 rounds; docs/PROTOCOLS.md §1.2).
///
/// Each function is what party `j` computes on its own share `⟨x⟩_j`. Public constants
/// are added by party 0 only ([`add_public`](local::add_public)); every party multiplies by public values.
pub mod local {
    use super::{PartyId, Result};
    use syft_ring::{Ring, Tensor};

    /// `⟨x + y⟩_j = ⟨x⟩_j + ⟨y⟩_j` (numpy broadcasting).
    pub fn add<R: Ring>(x: &Tensor<R>, y: &Tensor<R>) -> Result<Tensor<R>> {
        Ok(x.add(y)?)
    }

    /// `⟨x − y⟩_j = ⟨x⟩_j − ⟨y⟩_j` (numpy broadcasting).
    pub fn sub<R: Ring>(x: &Tensor<R>, y: &Tensor<R>) -> Result<Tensor<R>> {
        Ok(x.sub(y)?)
    }

    /// `⟨−x⟩_j = −⟨x⟩_j`.
    #[must_use]
    pub fn neg<R: Ring>(x: &Tensor<R>) -> Tensor<R> {
        x.neg()
    }

    /// `⟨x + c⟩_j`: party 0 adds the public `c`; the others keep their share (broadcast to
    /// the result's shape, so that every party's share has the same shape).
    pub fn add_public<R: Ring>(x: &Tensor<R>, c: &Tensor<R>, party: PartyId) -> Result<Tensor<R>> {
        if party == 0 { Ok(x.add(c)?) } else { broadcast_like(x, c, "add_public") }
    }

    /// `⟨x − c⟩_j`: party 0 subtracts the public `c`.
    pub fn sub_public<R: Ring>(x: &Tensor<R>, c: &Tensor<R>, party: PartyId) -> Result<Tensor<R>> {
        if party == 0 { Ok(x.sub(c)?) } else { broadcast_like(x, c, "sub_public") }
    }

    /// `⟨c − x⟩_j`: party 0 computes `c − ⟨x⟩_0`, the others `−⟨x⟩_j`.
    pub fn public_sub<R: Ring>(c: &Tensor<R>, x: &Tensor<R>, party: PartyId) -> Result<Tensor<R>> {
        if party == 0 { Ok(c.sub(x)?) } else { broadcast_like(&x.neg(), c, "public_sub") }
    }

    /// `⟨c · x⟩_j = c · ⟨x⟩_j` for a public ring element `c`.
    #[must_use]
    pub fn mul_scalar<R: Ring>(x: &Tensor<R>, c: R) -> Tensor<R> {
        x.scale(c)
    }

    /// `⟨c ⊙ x⟩_j = c ⊙ ⟨x⟩_j` for a public tensor `c` (numpy broadcasting).
    pub fn mul_public<R: Ring>(x: &Tensor<R>, c: &Tensor<R>) -> Result<Tensor<R>> {
        Ok(x.mul(c)?)
    }

    /// The share of the sum of all elements (rank 0).
    #[must_use]
    pub fn sum_all<R: Ring>(x: &Tensor<R>) -> Tensor<R> {
        Tensor::scalar(x.sum_all())
    }

    /// The share of the sum along `axis`.
    pub fn sum_axis<R: Ring>(x: &Tensor<R>, axis: usize, keepdim: bool) -> Result<Tensor<R>> {
        Ok(x.sum_axis(axis, keepdim)?)
    }

    /// `⟨x · m⟩_j = ⟨x⟩_j · m` for a public matrix `m`.
    pub fn matmul_public<R: Ring>(x: &Tensor<R>, m: &Tensor<R>) -> Result<Tensor<R>> {
        Ok(x.matmul(m)?)
    }

    /// `⟨m · x⟩_j = m · ⟨x⟩_j` for a public matrix `m`.
    pub fn public_matmul<R: Ring>(m: &Tensor<R>, x: &Tensor<R>) -> Result<Tensor<R>> {
        Ok(m.matmul(x)?)
    }

    /// `x` broadcast to the shape of `x op c` (the share of a party that does not add `c`).
    fn broadcast_like<R: Ring>(x: &Tensor<R>, c: &Tensor<R>, op: &'static str) -> Result<Tensor<R>> {
        let shape = syft_ring::broadcast_shapes(op, x.shape(), c.shape())?;
        if shape == x.shape() { Ok(x.clone()) } else { Ok(x.broadcast_to(&shape)?) }
    }
}

/// The owner-to-parties sharing step of docs/PROTOCOLS.md §1.3, run by every party
/// involved.
///
/// The `owner` (which must pass `Some(secret)`) splits the secret into `holders.len()`
/// shares with `prg` and sends share `i` to `holders[i]`, keeping its own if it is a holder.
/// Every holder returns `Some(its share)`; an owner that is not a holder returns `None`.
/// Non-owners pass `None` and learn the shape from the message. Cost: 8 bytes per element
/// from the owner to each other holder, one round.
pub fn share_secret<C: Comm + ?Sized, R: Ring>(
    comm: &mut C,
    owner: PartyId,
    secret: Option<&Tensor<R>>,
    holders: &[PartyId],
    prg: &mut Prg,
) -> Result<Option<Tensor<R>>> {
    let me = comm.id();
    if owner >= comm.parties() {
        return Err(ShareError::UnknownParty { op: "share_secret", party: owner, parties: comm.parties() });
    }
    for (i, &h) in holders.iter().enumerate() {
        if h >= comm.parties() {
            return Err(ShareError::UnknownParty { op: "share_secret", party: h, parties: comm.parties() });
        }
        if holders[..i].contains(&h) {
            return Err(ShareError::DuplicateParty { op: "share_secret", party: h });
        }
    }
    if me == owner {
        let secret = secret.ok_or_else(|| ShareError::InvalidArgument {
            op: "share_secret",
            reason: "the owner must supply the secret".into(),
        })?;
        let shares = AdditiveShares::split(secret, holders.len(), prg)?;
        let mut mine = None;
        for (s, &h) in shares.into_shares().into_iter().zip(holders) {
            if h == me {
                mine = Some(s);
            } else {
                comm.send_tensor(h, &s)?;
            }
        }
        Ok(mine)
    } else if holders.contains(&me) {
        Ok(Some(comm.recv_tensor(owner)?))
    } else {
        Err(ShareError::NotAParticipant { op: "share_secret", party: me })
    }
}
