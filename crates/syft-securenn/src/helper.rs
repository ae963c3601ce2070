//! The helper's side (P2 = the crypto provider): [`Helper`], whose methods mirror
//! [`SnnParty`](crate::SnnParty)'s and take the shapes instead of shares.
//!
//! The helper deals the bit decompositions PrivateCompare needs, learns each comparison bit
//! only under a one-time pad `β` it does not know, and re-shares results; it also serves
//! the Beaver triples of the protocols' multiplications, since it is the dealer. Under
//! compressed accounting (the default) party 0's share of every helper-dealt value is
//! `Stream(k_0D, req, label)` and only party 1 receives a message (docs/PROTOCOLS.md §3.6).

use crate::arith::{Odd, wrap_k};
use crate::config::{Accounting, Config, Profile, Width};
use crate::error::{Result, SecurennError, shape_mismatch};
use crate::labels;
use crate::party::{Payload, check_dmp_n, usize_of};
use crate::pc;
use crate::stream::{odd_words, words, zp};
use crate::wire;
use syft_ring::{Prg, Seed, Tensor, Z67, numel};
use syft_share::{Comm, CommExt, PartyId};
use syft_spdz::{Dealer, Product, Request, serve_request};

/// A callback told when the helper starts (`true`) and stops (`false`) sending
/// input-independent (offline) material, e.g. to count online rounds.
pub type OfflineHook<'h> = Box<dyn FnMut(bool) + Send + 'h>;

/// The helper endpoint of a SecureNN session: the dealer of the two computing parties,
/// with its channels.
///
/// Every method mirrors the [`SnnParty`](crate::SnnParty) method of the same name and
/// must be called in the same order, with the shapes of the parties' inputs.
pub struct Helper<'h> {
    comm: &'h mut dyn Comm,
    dealer: &'h mut Dealer,
    parties: [PartyId; 2],
    config: Config,
    k0d: Seed,
    private: Seed,
    width: Width,
    offline_hook: Option<OfflineHook<'h>>,
}

impl std::fmt::Debug for Helper<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helper")
            .field("parties", &self.parties)
            .field("config", &self.config)
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

/// Party 1's share of bit `i` of `x` over `Z_67` given party 0's, `s0`:
/// `⟨x[i]⟩_1 = x[i] − s0 mod 67`.
#[inline]
fn bit_share(x: u64, i: usize, s0: u8) -> Z67 {
    let v = u8::from((x >> i) & 1 == 1) + 67 - s0;
    pc::digit(v.min(v.wrapping_sub(67)))
}

/// The bit shares of `x` given party 0's digits `s0`: party 1's into `p1`, party 0's into
/// `p0` under paper accounting (as many as `p1` holds).
#[inline]
fn share_bits<const K: usize>(x: u64, s0: &[u8; K], p1: &mut [Z67], p0: Option<&mut [Z67]>) {
    for (i, (o, &d)) in p1.iter_mut().zip(s0).enumerate() {
        *o = bit_share(x, i, d);
    }
    if let Some(p0) = p0 {
        for (o, &d) in p0.iter_mut().zip(s0) {
            *o = pc::digit(d);
        }
    }
}

impl<'h> Helper<'h> {
    /// The helper at endpoint `comm.id()`, dealer of the computing parties at endpoints
    /// `parties` (party 0, party 1). Its private randomness is seeded from the operating
    /// system's entropy.
    ///
    /// The dealer's seeds must already be distributed
    /// ([`distribute_seeds`](syft_spdz::distribute_seeds)); the helper sends nothing at
    /// session start.
    pub fn new(comm: &'h mut dyn Comm, dealer: &'h mut Dealer, parties: [PartyId; 2], config: Config) -> Result<Self> {
        let private = Seed::from_entropy()?;
        Self::with_private_seed(comm, dealer, parties, config, private)
    }

    /// Like [`new`](Self::new) with the helper's private seed given (reproducible tests).
    pub fn with_private_seed(
        comm: &'h mut dyn Comm,
        dealer: &'h mut Dealer,
        parties: [PartyId; 2],
        config: Config,
        private: Seed,
    ) -> Result<Self> {
        if dealer.parties() != 2 {
            return Err(SecurennError::NotTwoParties { parties: dealer.parties() });
        }
        let me = comm.id();
        let endpoints = comm.parties();
        if parties[0] == parties[1] || parties.contains(&me) || parties.iter().any(|&p| p >= endpoints) {
            return Err(SecurennError::BadHelper { helper: me, endpoints, parties: parties.to_vec() });
        }
        let k0d = dealer.seed_of(0)?;
        Ok(Self { comm, dealer, parties, config, k0d, private, width: Width::FULL, offline_hook: None })
    }

    /// Installs a callback told when offline material starts and stops being sent.
    pub fn set_offline_hook(&mut self, hook: impl FnMut(bool) + Send + 'h) {
        self.offline_hook = Some(Box::new(hook));
    }

    /// The session configuration.
    #[must_use]
    pub fn config(&self) -> Config {
        self.config
    }

    /// Sets the width of the comparisons that follow, as the computing parties do with
    /// [`SnnParty::set_width`](crate::SnnParty::set_width) (the same width before the
    /// same call). A helper starts at [`Width::FULL`].
    pub fn set_width(&mut self, width: Width) {
        self.width = width;
    }

    /// The width of the comparisons.
    #[must_use]
    pub fn width(&self) -> Width {
        self.width
    }

    /// The helper's channels.
    pub fn comm(&mut self) -> &mut dyn Comm {
        &mut *self.comm
    }

    /// The dealer.
    pub fn dealer(&mut self) -> &mut Dealer {
        &mut *self.dealer
    }

    /// Serves an ordinary SPDZ request (a triple for a product the parties compute
    /// between SecureNN calls, a truncation pair, ...): sends the correction to party 1.
    /// Counted as offline material.
    pub fn serve(&mut self, request: &Request) -> Result<u64> {
        self.offline(true);
        let out = serve_request(&mut *self.comm, &mut *self.dealer, self.parties[1], request);
        self.offline(false);
        Ok(out?)
    }

    // -----------------------------------------------------------------------------------
    // Plumbing.

    fn offline(&mut self, on: bool) {
        if let Some(h) = self.offline_hook.as_mut() {
            h(on);
        }
    }

    pub(crate) fn reserve(&mut self) -> u64 {
        let req = self.dealer.reserve_req();
        self.comm.stats_mut().set_request(req);
        req
    }

    fn paper_accounting(&self) -> bool {
        self.config.accounting == Accounting::Paper
    }

    /// Deals `values` over `Z_L` (docs/PROTOCOLS.md §3.6): party 0's share is
    /// `Stream(k_0D, req, label)`.
    pub(crate) fn deal_ring(&mut self, req: u64, label: u16, shape: &[usize], values: Vec<u64>) -> Result<()> {
        let s0 = words(&self.k0d, req, label, values.len());
        let mut s1 = values;
        for (v, s) in s1.iter_mut().zip(&s0) {
            *v = v.wrapping_sub(*s);
        }
        if self.paper_accounting() {
            self.comm.send_tensor(self.parties[0], &Tensor::new(shape, s0)?)?;
        }
        self.comm.send_tensor(self.parties[1], &Tensor::new(shape, s1)?)?;
        Ok(())
    }

    /// Deals canonical `values` over `Z_(2^k-1)`.
    fn deal_odd(&mut self, req: u64, label: u16, values: &[u64], width: Width) -> Result<()> {
        let odd = Odd::new(width);
        let s0 = odd_words(&self.k0d, req, label, values.len(), odd);
        let s1: Vec<u64> = values.iter().zip(&s0).map(|(&v, &s)| odd.sub(v, s)).collect();
        if self.paper_accounting() {
            wire::send_odd(&mut *self.comm, self.parties[0], &s0, width)?;
        }
        wire::send_odd(&mut *self.comm, self.parties[1], &s1, width)
    }

    /// Deals the `k` bits of each of `xs` over `Z_67` (shape `[N, k]`, bit 0 first).
    /// Party 0's shares are drawn from `Stream(k_0D, req, label)` as PrivateCompare's
    /// party 0 expands them (`pc::bit_share_digits`): one word per bit at the full width,
    /// three bits per word below it (docs/PROTOCOLS.md §3.2).
    fn deal_bits(&mut self, req: u64, label: u16, xs: &[u64], width: Width) -> Result<()> {
        use rayon::prelude::*;
        /// Elements per chunk: their words (at most 8 KB) stay in L1.
        const DEAL_CHUNK: usize = 16;
        /// Elements per part on the thread pool (each part's stream starts at its words).
        const DEAL_PART: usize = 64 * DEAL_CHUNK;
        let (n, k) = (xs.len(), width.digits());
        let per = pc::words_per_element(width).0;
        let paper = self.paper_accounting();
        let k0d = self.k0d;
        // Elements `first..` of `xs` (as many as `p1` has room for): party 1's shares into
        // `p1`, party 0's into `p0` under paper accounting.
        let part = |first: usize, p1: &mut [Z67], mut p0: Option<&mut [Z67]>| {
            let mut stream = Prg::stream(&k0d, req, label);
            stream.seek_word((first * per) as u64);
            let mut words = [0u64; 64 * DEAL_CHUNK];
            let mut e = 0;
            for chunk in xs[first..first + p1.len() / k].chunks(DEAL_CHUNK) {
                let w = &mut words[..per * chunk.len()];
                stream.fill_u64(w);
                for (&x, ws) in chunk.iter().zip(w.chunks_exact(per)) {
                    let d1 = &mut p1[k * e..k * e + k];
                    let d0 = p0.as_deref_mut().map(|p| &mut p[k * e..k * e + k]);
                    let s0: [u8; 64] = match <&[u64; 64]>::try_from(ws) {
                        // The full width: one word per bit, with compile-time lengths.
                        Ok(ws) => std::array::from_fn(|i| zp(ws[i])),
                        Err(_) => pc::bit_share_digits::<64>(ws, width),
                    };
                    share_bits(x, &s0, d1, d0);
                    e += 1;
                }
            }
        };
        let mut p1 = vec![Z67::default(); k * n];
        let mut p0 = vec![Z67::default(); if paper { k * n } else { 0 }];
        if n <= DEAL_PART || rayon::current_num_threads() < 2 {
            part(0, &mut p1, paper.then_some(&mut p0[..]));
        } else if paper {
            let parts = p1.par_chunks_mut(k * DEAL_PART).zip(p0.par_chunks_mut(k * DEAL_PART));
            parts.enumerate().for_each(|(i, (p1, p0))| part(i * DEAL_PART, p1, Some(p0)));
        } else {
            p1.par_chunks_mut(k * DEAL_PART).enumerate().for_each(|(i, p1)| part(i * DEAL_PART, p1, None));
        }
        if paper {
            wire::send_digits(&mut *self.comm, self.parties[0], p0, false)?;
        }
        debug_assert_eq!(p1.len(), n * k);
        wire::send_digits(&mut *self.comm, self.parties[1], p1, !paper)
    }

    /// PrivateCompare at the helper: receives both parties' `k` values per element and
    /// returns `β'` per element.
    fn private_compare(&mut self, n: usize, width: Width) -> Result<Vec<u64>> {
        let _req = self.reserve();
        let k = width.digits();
        let packed = !self.paper_accounting();
        let m0 = wire::recv_digits(&mut *self.comm, self.parties[0], n * k, packed)?;
        let m1 = wire::recv_digits(&mut *self.comm, self.parties[1], n * k, packed)?;
        Ok(pc::helper_decide(&m0, &m1, width))
    }

    /// Serves the triple of an elementwise product of `n` elements (nothing for `n = 0`).
    pub(crate) fn serve_mul(&mut self, n: usize) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.serve(&Request::Triple(Product::Mul { shape: vec![n] }))?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // ShareConvert, ComputeMSB, DReLU.

    /// The helper's side of [`SnnParty::share_convert`](crate::SnnParty::share_convert).
    pub fn share_convert(&mut self, shape: &[usize]) -> Result<()> {
        self.share_convert_n(numel(shape), Width::FULL)
    }

    fn share_convert_n(&mut self, n: usize, width: Width) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let req = self.reserve();
        let a0 = wire::recv_ring(&mut *self.comm, self.parties[0], n, width)?;
        let a1 = wire::recv_ring(&mut *self.comm, self.parties[1], n, width)?;
        let x: Vec<u64> = a0.iter().zip(&a1).map(|(a, b)| a.wrapping_add(*b) & width.mask()).collect();
        let delta: Vec<u64> = a0.iter().zip(&a1).map(|(&a, &b)| wrap_k(a, b, width)).collect();
        self.deal_bits(req, labels::H_SC_XBITS, &x, width)?;
        self.deal_odd(req, labels::H_SC_DELTA, &delta, width)?;
        let eta_p = self.private_compare(n, width)?;
        self.deal_odd(req, labels::H_SC_ETAP, &eta_p, width)
    }

    /// The helper's side of [`SnnParty::compute_msb`](crate::SnnParty::compute_msb).
    pub fn compute_msb(&mut self, shape: &[usize]) -> Result<()> {
        let profile = self.config.profile;
        self.msb_n(numel(shape), profile, Width::FULL)
    }

    fn msb_n(&mut self, n: usize, profile: Profile, width: Width) -> Result<()> {
        self.msb_times_n(n, profile, width, 0, &[])
    }

    /// ComputeMSB with a payload of `blocks.len()·m` values (fast profile; see
    /// [`SnnParty::drelu_times_flat`](crate::SnnParty)): after PrivateCompare, receives
    /// `v + ρ` from the parties and deals `g` followed by `g·(v + ρ)`.
    fn msb_times_n(&mut self, n: usize, profile: Profile, width: Width, m: usize, blocks: &[usize]) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let req = self.reserve();
        let x = odd_words(&self.private, req, labels::HELPER_PRIVATE, n, Odd::new(width));
        self.offline(true);
        let dealt = self.deal_msb_material(req, &x, profile, width);
        self.offline(false);
        dealt?;
        let beta_p = self.private_compare(n, width)?;
        let count = blocks.len() * m;
        match profile {
            Profile::Fast if count > 0 => {
                let v0 = self.comm.recv_tensor_shaped::<u64>(self.parties[0], &[count])?;
                let v1 = self.comm.recv_tensor_shaped::<u64>(self.parties[1], &[count])?;
                let mut out: Vec<u64> = beta_p.iter().zip(&x).map(|(b, x)| b ^ (x & 1)).collect();
                let gm: Vec<u64> = Payload::bit_index(m, blocks)
                    .zip(v0.data().iter().zip(v1.data()))
                    .map(|(e, (a, b))| if out[e] == 1 { a.wrapping_add(*b) } else { 0 })
                    .collect();
                out.extend(gm);
                self.deal_ring(req, labels::H_MSB_OUT_TIMES, &[n + count], out)
            }
            Profile::Fast => {
                let g = beta_p.iter().zip(&x).map(|(b, x)| b ^ (x & 1)).collect();
                self.deal_ring(req, labels::H_MSB_OUT, &[n], g)
            }
            Profile::Paper => {
                self.deal_ring(req, labels::H_MSB_OUT, &[n], beta_p)?;
                self.serve_mul(n)
            }
        }
    }

    /// ComputeMSB's input-independent material: `x` over `Z_(2^k-1)`, its `k` bits over
    /// `Z_p`, and `x[0]` over `Z_L` (paper profile).
    fn deal_msb_material(&mut self, req: u64, x: &[u64], profile: Profile, width: Width) -> Result<()> {
        self.deal_odd(req, labels::H_MSB_X, x, width)?;
        self.deal_bits(req, labels::H_MSB_XBITS, x, width)?;
        if profile == Profile::Paper {
            self.deal_ring(req, labels::H_MSB_X0, &[x.len()], x.iter().map(|v| v & 1).collect())?;
        }
        Ok(())
    }

    /// The helper's side of [`SnnParty::drelu`](crate::SnnParty::drelu).
    pub fn drelu(&mut self, shape: &[usize]) -> Result<()> {
        self.drelu_n(numel(shape))
    }

    pub(crate) fn drelu_n(&mut self, n: usize) -> Result<()> {
        self.drelu_times_n(n, 0, &[])
    }

    /// The helper's side of [`SnnParty::drelu_times_flat`](crate::SnnParty): DReLU of `n`
    /// elements with the payload plan `(m, blocks)`.
    pub(crate) fn drelu_times_n(&mut self, n: usize, m: usize, blocks: &[usize]) -> Result<()> {
        if blocks.iter().any(|&b| (b + 1).saturating_mul(m) > n) {
            return Err(shape_mismatch("drelu payload", &[n], &[blocks.len(), m]));
        }
        let width = self.width;
        match self.config.profile {
            Profile::Fast if self.config.fused_products() => self.msb_times_n(n, Profile::Fast, width, m, blocks),
            Profile::Fast => {
                self.msb_n(n, Profile::Fast, width)?;
                self.serve_mul(blocks.len() * m)
            }
            Profile::Paper => {
                self.share_convert_n(n, width)?;
                self.msb_n(n, Profile::Paper, width)?;
                self.serve_mul(blocks.len() * m)
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // ReLU, SelectShare, DMP.

    /// The helper's side of [`SnnParty::relu`](crate::SnnParty::relu).
    pub fn relu(&mut self, shape: &[usize]) -> Result<()> {
        let n = numel(shape);
        self.drelu_times_n(n, n, &[0])
    }

    /// The helper's side of [`SnnParty::relu_backward`](crate::SnnParty::relu_backward).
    pub fn relu_backward(&mut self, shape: &[usize]) -> Result<()> {
        self.serve_mul(numel(shape))
    }

    /// The helper's side of [`SnnParty::select`](crate::SnnParty::select) and
    /// [`SnnParty::where_`](crate::SnnParty::where_).
    pub fn select(&mut self, shape: &[usize]) -> Result<()> {
        self.serve_mul(numel(shape))
    }

    /// The helper's side of [`SnnParty::dmp`](crate::SnnParty::dmp); `shape` is the
    /// index tensor's shape.
    pub fn dmp(&mut self, shape: &[usize], n: usize) -> Result<()> {
        check_dmp_n(n)?;
        let m = numel(shape);
        if m == 0 {
            return Ok(());
        }
        let req = self.reserve();
        let m0 = self.comm.recv_tensor_shaped::<u64>(self.parties[0], &[m])?;
        let m1 = self.comm.recv_tensor_shaped::<u64>(self.parties[1], &[m])?;
        let mask = (n - 1) as u64;
        let mut e = vec![0u64; m * n];
        for (row, (a, b)) in e.chunks_exact_mut(n).zip(m0.data().iter().zip(m1.data())) {
            row[usize_of(a.wrapping_add(*b) & mask)] = 1;
        }
        self.deal_ring(req, labels::H_DMP_E, &[m, n], e)
    }
}
