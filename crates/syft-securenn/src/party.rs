//! The computing parties' side: [`SnnParty`], a two-party [`syft_spdz::Party`] plus the
//! common seed `k_01` and the helper's endpoint; the session start, and the core
//! protocols ShareConvert, ComputeMSB, DReLU, ReLU, SelectShare and DMP
//! (docs/PROTOCOLS.md §6.1–6.7).
//!
//! Comparisons, argmax/max pool and division are in their own modules, as further
//! methods of [`SnnParty`].

use crate::arith::{Odd, wrap_k, xor_public};
use crate::config::{Accounting, Config, Profile, Width};
use crate::error::{Result, SecurennError, invalid, shape_mismatch};
use crate::labels;
use crate::pc::{self, BitShares, PcPublic};
use crate::stream::{WordReader, bit_words, odd_words, words};
use crate::wire;
use syft_ring::{OddRing, Prg, Seed, Tensor, numel};
use syft_share::{CommExt, PartyId};
use syft_spdz::Party;

/// One computing party of a SecureNN session (party 0 or 1).
///
/// Built from a two-party [`Party`] whose material source is an online
/// [`DealerLink`](syft_spdz::DealerLink) to the helper, by [`SnnParty::start`] (the
/// session start of docs/PROTOCOLS.md §3.1: party 0 draws `k_01` and sends it to party 1).
/// The helper endpoint runs the matching [`Helper`](crate::Helper) methods in the same
/// order with the same shapes.
///
/// Values are `u64` shares over `Z_2^64`, of integers or of fixed-point numbers at any
/// scale: comparisons do not depend on the scale. Bits, indices and one-hot vectors
/// returned by the protocols are *unscaled* 0/1 (or integer) shares; multiplying a
/// fixed-point value by one of them needs no truncation.
///
/// Comparisons (DReLU and everything built on it) run over the [`Width`] set with
/// [`set_width`](Self::set_width), 64 bits unless changed: at width `k` they are valid for
/// differences in `[−2^(k−2), 2^(k−2))` and cost fewer bytes (docs/PROTOCOLS.md §6.5, §7).
pub struct SnnParty<'a> {
    spdz: Party<'a>,
    helper: PartyId,
    peer: PartyId,
    index: usize,
    k01: Seed,
    k0d: Seed,
    config: Config,
    width: Width,
}

impl std::fmt::Debug for SnnParty<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnnParty")
            .field("index", &self.index)
            .field("peer", &self.peer)
            .field("helper", &self.helper)
            .field("config", &self.config)
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

/// A payload for [`SnnParty::drelu_times_flat`]: values `v` laid out in blocks of `m`,
/// block `j` multiplied elementwise by the bits of DReLU's block `blocks[j]` (the bit of
/// value `j·m + i` is element `blocks[j]·m + i`). The helper builds the same plan from
/// public shapes ([`Payload::bit_index`]).
pub(crate) struct Payload<'p> {
    pub(crate) m: usize,
    pub(crate) blocks: &'p [usize],
    pub(crate) values: &'p [u64],
    /// With Beaver products: the value is the product's first operand (ReLU's order in
    /// the reference simulation), else the bit is.
    pub(crate) value_first: bool,
}

impl<'p> Payload<'p> {
    pub(crate) fn new(m: usize, blocks: &'p [usize], values: &'p [u64]) -> Self {
        Self { m, blocks, values, value_first: false }
    }

    /// No payload: DReLU alone.
    pub(crate) fn none() -> Self {
        Self::new(0, &[], &[])
    }

    /// The DReLU element each payload value is multiplied by.
    pub(crate) fn bits(&self) -> impl Iterator<Item = usize> + '_ {
        Self::bit_index(self.m, self.blocks)
    }

    /// The DReLU element of each payload value of the plan `(m, blocks)`.
    pub(crate) fn bit_index(m: usize, blocks: &[usize]) -> impl Iterator<Item = usize> + '_ {
        blocks.iter().flat_map(move |&b| (0..m).map(move |i| b * m + i))
    }

    /// The plan fits `n` DReLU elements and holds `blocks.len()·m` values.
    pub(crate) fn check(&self, n: usize) -> Result<()> {
        let fits = self.blocks.iter().all(|&b| (b + 1).saturating_mul(self.m) <= n);
        if self.values.len() != self.blocks.len() * self.m || !fits {
            return Err(shape_mismatch("drelu payload", &[n], &[self.blocks.len(), self.m]));
        }
        Ok(())
    }
}

/// The result of [`SnnParty::relu`]: the activation and its derivative.
#[derive(Clone, Debug, PartialEq)]
pub struct Relu {
    /// Shares of `max(x, 0)`, at the input's scale.
    pub value: Tensor<u64>,
    /// Shares of the unscaled bit `[x ≥ 0]` (`DReLU(x)`), kept for the backward pass.
    pub derivative: Tensor<u64>,
}

impl<'a> SnnParty<'a> {
    /// Session start at a computing party: party 0 draws the common seed `k_01` from the
    /// operating system's entropy and sends it to party 1 (16 bytes, one message).
    ///
    /// `spdz` must be a two-party context whose source is an online dealer link to the
    /// endpoint `helper`.
    pub fn start(spdz: Party<'a>, helper: PartyId, config: Config) -> Result<Self> {
        let mut rng = Prg::from_entropy()?;
        Self::start_with_rng(spdz, helper, config, &mut rng)
    }

    /// Session start with party 0 drawing `k_01` from `rng` (party 1 ignores it).
    /// For reproducible tests; `rng` must be a CSPRNG seeded with fresh entropy otherwise.
    pub fn start_with_rng(spdz: Party<'a>, helper: PartyId, config: Config, rng: &mut Prg) -> Result<Self> {
        let (index, peer, k0d) = Self::check(&spdz, helper)?;
        let k01 = if index == 0 {
            let mut s = [0u8; 16];
            rng.fill_bytes(&mut s);
            spdz.comm.send_payload(peer, &s)?;
            Seed(s)
        } else {
            let bytes = spdz.comm.recv_payload(peer)?;
            let s: [u8; 16] =
                bytes.as_slice().try_into().map_err(|_| SecurennError::BadSeed { from: peer, len: bytes.len() })?;
            Seed(s)
        };
        Ok(Self { spdz, helper, peer, index, k01, k0d, config, width: Width::FULL })
    }

    /// Resumes a session whose common seed `k_01` the two parties agreed on earlier (with
    /// [`start`](Self::start), read back by [`common_seed`](Self::common_seed)): no
    /// message is sent.
    ///
    /// `spdz` must continue the *same* SPDZ session (the same dealer link, whose request
    /// counter keeps increasing), so that no `(k_01, req, label)` stream is ever used
    /// twice; both parties must resume with the same seed.
    pub fn resume(spdz: Party<'a>, helper: PartyId, config: Config, k01: Seed) -> Result<Self> {
        let (index, peer, k0d) = Self::check(&spdz, helper)?;
        Ok(Self { spdz, helper, peer, index, k01, k0d, config, width: Width::FULL })
    }

    /// The common seed `k_01` of the two computing parties, to [`resume`](Self::resume)
    /// the session in a later call. It is secret: never send it to the helper or anyone
    /// else.
    #[must_use]
    pub fn common_seed(&self) -> Seed {
        self.k01
    }

    /// Checks the SPDZ context and the helper endpoint; returns this party's index, its
    /// peer, and the seed it shares with the helper.
    fn check(spdz: &Party<'a>, helper: PartyId) -> Result<(usize, PartyId, Seed)> {
        if spdz.parties() != 2 {
            return Err(SecurennError::NotTwoParties { parties: spdz.parties() });
        }
        let endpoints = spdz.comm.parties();
        if helper >= endpoints || spdz.party_ids().contains(&helper) {
            return Err(SecurennError::BadHelper { helper, endpoints, parties: spdz.party_ids().to_vec() });
        }
        let seed = spdz.source.party_seed().ok_or(SecurennError::NoOnlineHelper)?;
        let index = spdz.index();
        let peer = spdz.party_ids()[1 - index];
        Ok((index, peer, seed.seed))
    }

    /// This party's index (0 adds public constants).
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The session configuration.
    #[must_use]
    pub fn config(&self) -> Config {
        self.config
    }

    /// Sets the width `k` of the comparisons that follow (DReLU, ReLU, `≥ ≤ > < ==`, max,
    /// argmax, max pooling, division; docs/PROTOCOLS.md §6.5, §7): they are valid for
    /// differences `v ∈ [−2^(k−2), 2^(k−2))` and **wrong, not clamped, outside**. The
    /// other party and the helper ([`Helper::set_width`](crate::Helper::set_width)) must
    /// set the same width before the same call, as they pass the same shapes. A session
    /// starts at [`Width::FULL`].
    pub fn set_width(&mut self, width: Width) {
        self.width = width;
    }

    /// The width of the comparisons.
    #[must_use]
    pub fn width(&self) -> Width {
        self.width
    }

    /// The helper's endpoint.
    #[must_use]
    pub fn helper(&self) -> PartyId {
        self.helper
    }

    /// The underlying SPDZ context, for products, truncation and openings between
    /// SecureNN calls (the helper serves the matching requests with
    /// [`Helper::serve`](crate::Helper::serve)).
    pub fn spdz(&mut self) -> &mut Party<'a> {
        &mut self.spdz
    }

    /// Ends the session and returns the SPDZ context.
    #[must_use]
    pub fn into_spdz(self) -> Party<'a> {
        self.spdz
    }

    // -----------------------------------------------------------------------------------
    // Plumbing.

    /// `ι`: 1 at party 0, 0 at party 1.
    pub(crate) fn iota(&self) -> u64 {
        u64::from(self.index == 0)
    }

    /// The next request number (docs/PROTOCOLS.md §2.2).
    pub(crate) fn reserve(&mut self) -> Result<u64> {
        let req = self.spdz.source.reserve_req()?;
        self.spdz.comm.stats_mut().set_request(req);
        Ok(req)
    }

    /// Whether digits of `Z_67` travel packed ten to a word (compressed accounting).
    fn packs_digits(&self) -> bool {
        self.config.accounting == Accounting::Compressed
    }

    /// Whether this party expands helper-dealt shares from its seed instead of receiving them.
    fn derives_dealt(&self) -> bool {
        self.index == 0 && self.config.accounting == Accounting::Compressed
    }

    /// This party's share of a helper-dealt value over `Z_L` (docs/PROTOCOLS.md §3.6).
    pub(crate) fn dealt_ring(&mut self, req: u64, label: u16, shape: &[usize]) -> Result<Vec<u64>> {
        if self.derives_dealt() {
            Ok(words(&self.k0d, req, label, numel(shape)))
        } else {
            Ok(self.spdz.comm.recv_tensor_shaped::<u64>(self.helper, shape)?.into_vec())
        }
    }

    /// This party's share of a helper-dealt value over `Z_(2^k-1)`.
    fn dealt_odd(&mut self, req: u64, label: u16, n: usize, width: Width) -> Result<Vec<u64>> {
        if self.derives_dealt() {
            Ok(odd_words(&self.k0d, req, label, n, Odd::new(width)))
        } else {
            wire::recv_odd(&mut *self.spdz.comm, self.helper, n, width)
        }
    }

    /// This party's shares over `Z_p` of the `k` bits of helper-known values.
    fn dealt_bits(&mut self, req: u64, label: u16, n: usize, width: Width) -> Result<BitShares> {
        if self.derives_dealt() {
            Ok(BitShares::Stream(Box::new(WordReader::new(&self.k0d, req, label))))
        } else {
            let k = width.digits();
            let packed = self.packs_digits();
            let digits = wire::recv_digits(&mut *self.spdz.comm, self.helper, n * k, packed)?;
            Ok(BitShares::Received(Tensor::new(&[n, k], digits)?))
        }
    }

    /// PrivateCompare (docs/PROTOCOLS.md §6.2): sends this party's `k` values per element
    /// to the helper.
    fn private_compare(&mut self, bits: &mut BitShares, public: &PcPublic<'_>, width: Width) -> Result<()> {
        let req = self.reserve()?;
        let n = public.r.len();
        let msg = pc::party_message(self.index, &self.k01, req, bits, public, width);
        debug_assert_eq!(msg.len(), n * width.digits());
        let packed = self.packs_digits();
        wire::send_digits(&mut *self.spdz.comm, self.helper, msg, packed)
    }

    /// Elementwise Beaver product of two flat share vectors (one round; nothing for
    /// empty inputs).
    pub(crate) fn mul_flat(&mut self, x: Vec<u64>, y: Vec<u64>) -> Result<Vec<u64>> {
        if x.len() != y.len() {
            return Err(shape_mismatch("mul", &[x.len()], &[y.len()]));
        }
        if x.is_empty() {
            return Ok(x);
        }
        Ok(self.spdz.mul(&Tensor::from_vec(x), &Tensor::from_vec(y))?.into_vec())
    }

    // -----------------------------------------------------------------------------------
    // ShareConvert, ComputeMSB, DReLU.

    /// ShareConvert (docs/PROTOCOLS.md §6.3, paper profile): shares of `a` over `Z_L` to
    /// shares of the same integer over `Z_(2^64-1)`. Requires `a ≠ 2^64 − 1` (i.e. `a ≠ −1`
    /// signed); for that one value the result is wrong. 4 rounds. Always at the full width
    /// (DReLU at a width `k` runs it over `Z_2^k` internally).
    ///
    /// Helper side: [`Helper::share_convert`](crate::Helper::share_convert).
    pub fn share_convert(&mut self, a: &Tensor<u64>) -> Result<Tensor<OddRing>> {
        let y = self.share_convert_flat(a.data(), Width::FULL)?;
        Ok(Tensor::new(a.shape(), y.into_iter().map(OddRing::new).collect())?)
    }

    /// ShareConvert from `Z_2^k` to `Z_(2^k−1)` (`a` below `2^k`, `a ≠ 2^k − 1`).
    pub(crate) fn share_convert_flat(&mut self, a: &[u64], width: Width) -> Result<Vec<u64>> {
        let n = a.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let (mask, odd) = (width.mask(), Odd::new(width));
        let req = self.reserve()?;
        let eta2 = bit_words(&self.k01, req, labels::SC_ETA2, n);
        let mut r = words(&self.k01, req, labels::SC_R, n);
        let mut r0 = words(&self.k01, req, labels::SC_R0, n);
        for (r, r0) in r.iter_mut().zip(&mut r0) {
            *r &= mask;
            *r0 &= mask;
        }
        let mut masked = Vec::with_capacity(n);
        let mut beta = Vec::with_capacity(n);
        let mut alpha = Vec::with_capacity(n);
        for e in 0..n {
            let r1 = r[e].wrapping_sub(r0[e]) & mask;
            alpha.push(wrap_k(r0[e], r1, width));
            let rj = if self.index == 0 { r0[e] } else { r1 };
            masked.push(a[e].wrapping_add(rj) & mask);
            beta.push(wrap_k(a[e], rj, width));
        }
        wire::send_ring(&mut *self.spdz.comm, self.helper, masked, width)?;
        let mut xbits = self.dealt_bits(req, labels::H_SC_XBITS, n, width)?;
        let delta = self.dealt_odd(req, labels::H_SC_DELTA, n, width)?;
        let big_r: Vec<u64> = r.iter().map(|v| v.wrapping_sub(1) & mask).collect();
        let minus_one: Vec<bool> = r.iter().map(|&v| v == 0).collect();
        self.private_compare(&mut xbits, &PcPublic { r: &big_r, minus_one: Some(&minus_one), beta: &eta2 }, width)?;
        let eta_p = self.dealt_odd(req, labels::H_SC_ETAP, n, width)?;
        let iota = self.iota();
        Ok((0..n)
            .map(|e| {
                let eta = odd.xor_public(eta_p[e], eta2[e], self.index);
                // θ_j = β_j + ι(−1 − α) + δ_j + η_j over Z_(2^k-1)
                let mut theta = odd.add(beta[e], odd.add(delta[e], eta));
                if iota == 1 {
                    theta = odd.add(theta, odd.neg(1 + alpha[e]));
                }
                odd.sub(odd.reduce_ring(a[e]), theta)
            })
            .collect())
    }

    /// ComputeMSB (docs/PROTOCOLS.md §6.4; F2 in the fast profile): shares over
    /// `Z_(2^64-1)` of `a ∈ [0, 2^64 − 2]` to shares over `Z_L` of the unscaled bit
    /// `MSB(a)`. Paper profile: 4 rounds; fast profile: 3 rounds.
    ///
    /// Helper side: [`Helper::compute_msb`](crate::Helper::compute_msb).
    pub fn compute_msb(&mut self, a: &Tensor<OddRing>) -> Result<Tensor<u64>> {
        let y: Vec<u64> = a.data().iter().map(|v| v.get()).collect();
        let profile = self.config.profile;
        Ok(Tensor::new(a.shape(), self.msb_flat(&y, profile, Width::FULL)?)?)
    }

    /// ComputeMSB over `Z_(2^k−1)`: `y` canonical shares, the result the bit
    /// `[y ≥ 2^(k−1)]` over `Z_L`.
    fn msb_flat(&mut self, y: &[u64], profile: Profile, width: Width) -> Result<Vec<u64>> {
        Ok(self.msb_times_flat(y, profile, width, None)?.0)
    }

    /// ComputeMSB, and in the fast profile with a payload also the products `MSB·v`
    /// (docs/PROTOCOLS.md §6.6): the parties open `v + ρ` to the helper beside their
    /// PrivateCompare messages and the helper deals `g·(v + ρ)` with `g`, in the same
    /// rounds. Returns the MSB shares and the product shares (empty without a payload).
    fn msb_times_flat(
        &mut self,
        y: &[u64],
        profile: Profile,
        width: Width,
        payload: Option<&Payload<'_>>,
    ) -> Result<(Vec<u64>, Vec<u64>)> {
        let n = y.len();
        if n == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        debug_assert!(profile == Profile::Fast || payload.is_none());
        let payload = payload.filter(|p| !p.values.is_empty());
        let odd = Odd::new(width);
        let req = self.reserve()?;
        let beta = bit_words(&self.k01, req, labels::MSB_BETA, n);
        // Offline material from the helper: x over Z_(2^k-1), its bits over Z_p, and x[0]
        // over Z_L (paper profile).
        let x = self.dealt_odd(req, labels::H_MSB_X, n, width)?;
        // In the fast profile the bits of x are the helper's last offline message, and
        // PrivateCompare is the first use of them: party 1 takes them only after sending
        // its share of c, so that party 0 can start PrivateCompare while the helper is
        // still dealing them. (The paper profile deals x[0] after them.)
        let (early_bits, x0) = match profile {
            Profile::Paper => {
                let bits = self.dealt_bits(req, labels::H_MSB_XBITS, n, width)?;
                (Some(bits), self.dealt_ring(req, labels::H_MSB_X0, &[n])?)
            }
            Profile::Fast => (None, Vec::new()),
        };
        // c_j = 2 y_j + x_j over Z_(2^k-1); exchange to open c.
        let mine: Vec<u64> = y.iter().zip(&x).map(|(&y, &x)| odd.add(odd.add(y, y), x)).collect();
        let peer = self.peer;
        wire::send_odd(&mut *self.spdz.comm, peer, &mine, width)?;
        let theirs = wire::recv_odd(&mut *self.spdz.comm, peer, n, width)?;
        let c: Vec<u64> = mine.iter().zip(&theirs).map(|(&a, &b)| odd.add(a, b)).collect();
        let mut xbits = match early_bits {
            Some(bits) => bits,
            None => self.dealt_bits(req, labels::H_MSB_XBITS, n, width)?,
        };
        self.private_compare(&mut xbits, &PcPublic { r: &c, minus_one: None, beta: &beta }, width)?;
        let index = self.index;
        // Fast profile: MSB = (c[0] ⊕ β) ⊕ g, the first term public, g = β' ⊕ x[0] dealt by
        // the helper.
        let public = || -> Vec<u64> { (0..n).map(|e| (c[e] & 1) ^ beta[e]).collect() };
        if let Some(p) = payload {
            // v + ρ to the helper: party 0 adds ρ, party 1 sends its share as it is.
            let rho = words(&self.k01, req, labels::MSB_RHO, p.values.len());
            let masked: Vec<u64> = if index == 0 {
                p.values.iter().zip(&rho).map(|(v, r)| v.wrapping_add(*r)).collect()
            } else {
                p.values.to_vec()
            };
            self.spdz.comm.send_tensor(self.helper, &Tensor::from_vec(masked))?;
            // One dealt tensor: g (n values), then g·(v + ρ) per payload value.
            let mut out = self.dealt_ring(req, labels::H_MSB_OUT_TIMES, &[n + p.values.len()])?;
            let gm = out.split_off(n);
            let public = public();
            let times = p
                .bits()
                .zip(gm.iter().zip(&rho))
                .zip(p.values)
                .map(|((e, (gm, rho)), v)| {
                    // g·v = g·(v + ρ) − ρ·g; MSB·v = g·v, or v − g·v where MSB = 1 − g.
                    let gv = gm.wrapping_sub(rho.wrapping_mul(out[e]));
                    if public[e] == 0 { gv } else { v.wrapping_sub(gv) }
                })
                .collect();
            let msb = (0..n).map(|e| xor_public(out[e], public[e], index)).collect();
            return Ok((msb, times));
        }
        let out = self.dealt_ring(req, labels::H_MSB_OUT, &[n])?;
        match profile {
            Profile::Fast => {
                Ok((out.iter().zip(public()).map(|(&g, b)| xor_public(g, b, index)).collect(), Vec::new()))
            }
            Profile::Paper => {
                let gamma: Vec<u64> = (0..n).map(|e| xor_public(out[e], beta[e], index)).collect();
                let delta: Vec<u64> = (0..n).map(|e| xor_public(x0[e], c[e] & 1, index)).collect();
                let theta = self.mul_flat(gamma.clone(), delta.clone())?;
                Ok((
                    (0..n).map(|e| gamma[e].wrapping_add(delta[e]).wrapping_sub(theta[e].wrapping_mul(2))).collect(),
                    Vec::new(),
                ))
            }
        }
    }

    /// DReLU (docs/PROTOCOLS.md §6.5): shares of the unscaled bit `[sgn(a) ≥ 0]` (so
    /// `DReLU(0) = 1`), at the [`width`](Self::width) `k`.
    ///
    /// Valid for `sgn(a) ∈ [−2^(k−2), 2^(k−2))`; outside that range the bit is wrong, not
    /// clamped. At scale `s`, that is `|v| < 2^(k−2)/s` for a fixed-point value `v`: at
    /// the full width `2^62/s` (4.6·10^15 at `s = 10^3`), at 32 bits `2^30/s`
    /// (1.07·10^6 at `s = 10^3`). Fast profile: 3 rounds; paper profile: 8 rounds.
    ///
    /// Helper side: [`Helper::drelu`](crate::Helper::drelu).
    pub fn drelu(&mut self, a: &Tensor<u64>) -> Result<Tensor<u64>> {
        Ok(Tensor::new(a.shape(), self.drelu_flat(a.data())?)?)
    }

    pub(crate) fn drelu_flat(&mut self, a: &[u64]) -> Result<Vec<u64>> {
        Ok(self.drelu_times_flat(a, &Payload::none())?.0)
    }

    /// DReLU of `a` and the products of its bits with a payload (docs/PROTOCOLS.md §6.6):
    /// returns `d` and `d[bit(j)]·v[j]` for every payload value `v[j]`. With
    /// [`BitProducts::ThroughHelper`](crate::BitProducts) (fast profile) the products ride
    /// on DReLU's rounds; otherwise one Beaver product follows DReLU.
    pub(crate) fn drelu_times_flat(&mut self, a: &[u64], payload: &Payload<'_>) -> Result<(Vec<u64>, Vec<u64>)> {
        payload.check(a.len())?;
        let width = self.width;
        // The k-bit reductions of the shares are shares of a mod 2^k; doubled mod 2^k.
        let mask = width.mask();
        let doubled: Vec<u64> = a.iter().map(|v| v.wrapping_mul(2) & mask).collect();
        let iota = self.iota();
        match self.config.profile {
            // F1: an even share ≤ 2^k − 2 is already a canonical share over Z_(2^k-1).
            Profile::Fast if self.config.fused_products() => {
                let (alpha, times) = self.msb_times_flat(&doubled, Profile::Fast, width, Some(payload))?;
                let d = alpha.into_iter().map(|v| iota.wrapping_sub(v)).collect();
                // DReLU·v = v − MSB·v.
                let dv = payload.values.iter().zip(&times).map(|(v, t)| v.wrapping_sub(*t)).collect();
                Ok((d, dv))
            }
            profile => {
                let alpha = match profile {
                    Profile::Fast => self.msb_flat(&doubled, Profile::Fast, width)?,
                    Profile::Paper => {
                        let y = self.share_convert_flat(&doubled, width)?;
                        self.msb_flat(&y, Profile::Paper, width)?
                    }
                };
                let d: Vec<u64> = alpha.into_iter().map(|v| iota.wrapping_sub(v)).collect();
                let bits = payload.bits().map(|e| d[e]).collect();
                let dv = if payload.value_first {
                    self.mul_flat(payload.values.to_vec(), bits)?
                } else {
                    self.mul_flat(bits, payload.values.to_vec())?
                };
                Ok((d, dv))
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // ReLU and SelectShare.

    /// ReLU (docs/PROTOCOLS.md §6.6): `max(x, 0)` with its derivative `[x ≥ 0]`, which the
    /// backward pass uses without a second comparison. One DReLU and one Beaver product
    /// (not truncated: the bit is unscaled). Valid range: that of [`drelu`](Self::drelu).
    ///
    /// Helper side: [`Helper::relu`](crate::Helper::relu).
    pub fn relu(&mut self, x: &Tensor<u64>) -> Result<Relu> {
        let blocks = [0];
        let payload = Payload { value_first: true, ..Payload::new(x.len(), &blocks, x.data()) };
        let (d, v) = self.drelu_times_flat(x.data(), &payload)?;
        Ok(Relu { value: Tensor::new(x.shape(), v)?, derivative: Tensor::new(x.shape(), d)? })
    }

    /// The ReLU backward pass: `grad ⊙ derivative` (one Beaver product, no truncation).
    ///
    /// Helper side: [`Helper::relu_backward`](crate::Helper::relu_backward).
    pub fn relu_backward(&mut self, grad: &Tensor<u64>, derivative: &Tensor<u64>) -> Result<Tensor<u64>> {
        if grad.shape() != derivative.shape() {
            return Err(shape_mismatch("relu_backward", grad.shape(), derivative.shape()));
        }
        let g = self.mul_flat(grad.data().to_vec(), derivative.data().to_vec())?;
        Ok(Tensor::new(grad.shape(), g)?)
    }

    /// SelectShare (docs/PROTOCOLS.md §6.6): `if_zero + bit·(if_one − if_zero)`, i.e.
    /// `if_one` where the unscaled shared bit is 1 and `if_zero` where it is 0. One Beaver
    /// product, no truncation; the values may be fixed point at any scale.
    ///
    /// Helper side: [`Helper::select`](crate::Helper::select).
    pub fn select(&mut self, bit: &Tensor<u64>, if_zero: &Tensor<u64>, if_one: &Tensor<u64>) -> Result<Tensor<u64>> {
        if bit.shape() != if_zero.shape() {
            return Err(shape_mismatch("select", bit.shape(), if_zero.shape()));
        }
        if if_zero.shape() != if_one.shape() {
            return Err(shape_mismatch("select", if_zero.shape(), if_one.shape()));
        }
        let diff: Vec<u64> = if_one.data().iter().zip(if_zero.data()).map(|(a, b)| a.wrapping_sub(*b)).collect();
        let c = self.mul_flat(bit.data().to_vec(), diff)?;
        let out = if_zero.data().iter().zip(&c).map(|(a, b)| a.wrapping_add(*b)).collect();
        Ok(Tensor::new(bit.shape(), out)?)
    }

    /// `where(cond, if_true, if_false)`, torch's argument order: [`select`](Self::select)
    /// with the branches swapped.
    ///
    /// Helper side: [`Helper::select`](crate::Helper::select).
    pub fn where_(&mut self, cond: &Tensor<u64>, if_true: &Tensor<u64>, if_false: &Tensor<u64>) -> Result<Tensor<u64>> {
        self.select(cond, if_false, if_true)
    }

    // -----------------------------------------------------------------------------------
    // DMP.

    /// DMP (docs/PROTOCOLS.md §6.7): from shares of an unscaled index `idx ∈ [0, n)` (`n` a
    /// power of two), shares of the one-hot vector `e_idx`, appended as a last axis of
    /// length `n`. 2 rounds. `idx` must be a fresh sharing (e.g. a Beaver output, as argmax
    /// returns).
    ///
    /// Helper side: [`Helper::dmp`](crate::Helper::dmp).
    pub fn dmp(&mut self, idx: &Tensor<u64>, n: usize) -> Result<Tensor<u64>> {
        check_dmp_n(n)?;
        let m = idx.len();
        let mut shape = idx.shape().to_vec();
        shape.push(n);
        if m == 0 {
            return Ok(Tensor::zeros(&shape));
        }
        let req = self.reserve()?;
        let r = words(&self.k01, req, labels::DMP_R, m);
        let msg: Vec<u64> = if self.index == 0 {
            idx.data().iter().zip(&r).map(|(a, b)| a.wrapping_add(*b)).collect()
        } else {
            idx.data().to_vec()
        };
        self.spdz.comm.send_tensor(self.helper, &Tensor::from_vec(msg))?;
        let e = self.dealt_ring(req, labels::H_DMP_E, &[m, n])?;
        let mask = (n - 1) as u64;
        let mut out = Vec::with_capacity(m * n);
        for (row, &re) in e.chunks_exact(n).zip(&r) {
            let g = re & mask;
            for i in 0..n as u64 {
                out.push(row[usize_of((i + g) & mask)]);
            }
        }
        Ok(Tensor::new(&shape, out)?)
    }
}

/// DMP's `n` must be a power of two.
pub(crate) fn check_dmp_n(n: usize) -> Result<()> {
    if n == 0 || !n.is_power_of_two() {
        return Err(invalid("dmp", format!("the one-hot length {n} must be a power of two")));
    }
    Ok(())
}

/// A value known to be a valid index as `usize`.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "callers pass values below a usize length")]
pub(crate) fn usize_of(v: u64) -> usize {
    v as usize
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
    use super::*;
    use crate::Helper;
    use syft_share::{AdditiveShares, Comm, run_parties_with};
    use syft_spdz::{Dealer, DealerLink, distribute_seeds};

    /// A worker runs each SecureNN call with a fresh `SnnParty` over one SPDZ session:
    /// the first call agrees on `k_01`, later ones resume it without a message, and every
    /// call draws fresh streams (the request counter keeps increasing).
    #[test]
    fn resumed_calls_send_no_seed_and_stay_correct() {
        let x = Tensor::from_vec(vec![5u64, 7u64.wrapping_neg(), 0, 123_456, 1u64.wrapping_neg()]);
        let mut prg = Prg::new(&Seed::from_u64(3));
        let shares = AdditiveShares::split(&x, 2, &mut prg).unwrap().into_shares();
        let inputs = vec![Some(shares[0].clone()), Some(shares[1].clone()), None];
        let config = Config::fast();
        let out = run_parties_with(inputs, |comm, input| match input {
            None => {
                let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(10), Seed::from_u64(11)]).unwrap();
                distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
                for call in 0..3 {
                    let mut h =
                        Helper::with_private_seed(&mut *comm, &mut dealer, [0, 1], config, Seed::from_u64(call))
                            .unwrap();
                    h.relu(&[5]).unwrap();
                }
                None
            }
            Some(x) => {
                let me = comm.id();
                let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
                let mut k01 = None;
                let mut results = Vec::new();
                for _ in 0..3 {
                    let spdz = Party::new(&mut *comm, &mut link, vec![0, 1]).unwrap();
                    let mut p = match k01 {
                        Some(k) => SnnParty::resume(spdz, 2, config, k).unwrap(),
                        None => SnnParty::start(spdz, 2, config).unwrap(),
                    };
                    k01 = Some(p.common_seed());
                    let before = p.spdz().comm.stats().snapshot();
                    let r = p.relu(&x).unwrap();
                    let sent = p.spdz().comm.stats().since(&before);
                    results.push((r.value, r.derivative, sent.peer(1 - me).messages_sent));
                }
                let peer_messages: Vec<u64> = results.iter().map(|r| r.2).collect();
                let after_start = comm.stats().peer(1 - me).messages_sent;
                Some((results, peer_messages, after_start))
            }
        })
        .unwrap();
        let (r0, m0, total0) = out[0].clone().unwrap();
        let (r1, m1, total1) = out[1].clone().unwrap();
        // Fast ReLU: one exchange of c per call to the peer (the product with the bit goes
        // through the helper), the same in every call; the seed message was sent once, by
        // party 0, at the start.
        assert_eq!(m0, vec![1, 1, 1]);
        assert_eq!(m1, m0);
        assert_eq!(total0, 4, "party 0: one seed message and one per call");
        assert_eq!(total1, 3, "party 1 never sends a seed");
        let want: Vec<u64> = x.data().iter().map(|&v| if (v as i64) >= 0 { v } else { 0 }).collect();
        for call in 0..3 {
            let v = r0[call].0.add(&r1[call].0).unwrap();
            let d = r0[call].1.add(&r1[call].1).unwrap();
            assert_eq!(v.data(), want.as_slice(), "call {call}");
            assert_eq!(d.data(), &[1, 0, 1, 1, 0], "call {call}");
        }
        // Fresh randomness in every call: the output shares differ.
        assert_ne!(r0[0].0, r0[1].0);
        assert_ne!(r0[1].0, r0[2].0);
    }
}
