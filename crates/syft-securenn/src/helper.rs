//! The helper's side (P2 = the crypto provider): [`Helper`], whose methods mirror
//! [`SnnParty`](crate::SnnParty)'s and take the shapes instead of shares.
//!
//! The helper deals the bit decompositions PrivateCompare needs, learns each comparison bit
//! only under a one-time pad `β` it does not know, and re-shares results; it also serves
//! the Beaver triples of the protocols' multiplications, since it is the dealer. Under
//! compressed accounting (the default) party 0's share of every helper-dealt value is
//! `Stream(k_0D, req, label)` and only party 1 receives a message (docs/PROTOCOLS.md §3.6).

use crate::arith::{odd_sub, wrap};
use crate::config::{Accounting, Config, Profile};
use crate::error::{Result, SecurennError};
use crate::labels;
use crate::party::{check_dmp_n, usize_of};
use crate::pc;
use crate::stream::{odd_words, words, zp};
use syft_ring::{OddRing, Prg, Seed, Tensor, Z67, numel};
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
    offline_hook: Option<OfflineHook<'h>>,
}

impl std::fmt::Debug for Helper<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helper").field("parties", &self.parties).field("config", &self.config).finish_non_exhaustive()
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
        Ok(Self { comm, dealer, parties, config, k0d, private, offline_hook: None })
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

    /// Deals canonical `values` over `Z_(2^64-1)`.
    fn deal_odd(&mut self, req: u64, label: u16, values: &[u64]) -> Result<()> {
        let s0 = odd_words(&self.k0d, req, label, values.len());
        let s1: Vec<OddRing> = values.iter().zip(&s0).map(|(&v, &s)| OddRing::new(odd_sub(v, s))).collect();
        if self.paper_accounting() {
            self.comm.send_tensor(self.parties[0], &Tensor::from_vec(s0.into_iter().map(OddRing::new).collect()))?;
        }
        self.comm.send_tensor(self.parties[1], &Tensor::from_vec(s1))?;
        Ok(())
    }

    /// Deals the 64 bits of each of `xs` over `Z_67` (shape `[N, 64]`, bit 0 first).
    fn deal_bits(&mut self, req: u64, label: u16, xs: &[u64]) -> Result<()> {
        /// Elements per chunk: their words (8 KB) stay in L1.
        const DEAL_CHUNK: usize = 16;
        let n = xs.len();
        let paper = self.paper_accounting();
        let mut stream = Prg::stream(&self.k0d, req, label);
        let mut words = [0u64; 64 * DEAL_CHUNK];
        let mut p1 = Vec::with_capacity(64 * n);
        let mut p0 = Vec::with_capacity(if paper { 64 * n } else { 0 });
        for chunk in xs.chunks(DEAL_CHUNK) {
            let w = &mut words[..64 * chunk.len()];
            stream.fill_u64(w);
            for (&x, ws) in chunk.iter().zip(w.chunks_exact(64)) {
                let Ok(ws) = <&[u64; 64]>::try_from(ws) else { continue };
                let s0: [u8; 64] = std::array::from_fn(|i| zp(ws[i]));
                // ⟨x[i]⟩_1 = x[i] − ⟨x[i]⟩_0 mod 67.
                let d1: [Z67; 64] = std::array::from_fn(|i| {
                    let v = u8::from((x >> i) & 1 == 1) + 67 - s0[i];
                    pc::digit(v.min(v.wrapping_sub(67)))
                });
                p1.extend_from_slice(&d1);
                if paper {
                    p0.extend(s0.iter().map(|&d| pc::digit(d)));
                }
            }
        }
        if paper {
            self.comm.send_tensor(self.parties[0], &Tensor::new(&[n, 64], p0)?)?;
        }
        self.comm.send_tensor(self.parties[1], &Tensor::new(&[n, 64], p1)?)?;
        Ok(())
    }

    /// PrivateCompare at the helper: receives both parties' 64 values per element and
    /// returns `β'` per element.
    fn private_compare(&mut self, n: usize) -> Result<Vec<u64>> {
        let _req = self.reserve();
        let m0 = self.comm.recv_tensor_shaped::<Z67>(self.parties[0], &[n, 64])?;
        let m1 = self.comm.recv_tensor_shaped::<Z67>(self.parties[1], &[n, 64])?;
        Ok(pc::helper_decide(m0.data(), m1.data()))
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
        self.share_convert_n(numel(shape))
    }

    fn share_convert_n(&mut self, n: usize) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let req = self.reserve();
        let a0 = self.comm.recv_tensor_shaped::<u64>(self.parties[0], &[n])?;
        let a1 = self.comm.recv_tensor_shaped::<u64>(self.parties[1], &[n])?;
        let x: Vec<u64> = a0.data().iter().zip(a1.data()).map(|(a, b)| a.wrapping_add(*b)).collect();
        let delta: Vec<u64> = a0.data().iter().zip(a1.data()).map(|(&a, &b)| wrap(a, b)).collect();
        self.deal_bits(req, labels::H_SC_XBITS, &x)?;
        self.deal_odd(req, labels::H_SC_DELTA, &delta)?;
        let eta_p = self.private_compare(n)?;
        self.deal_odd(req, labels::H_SC_ETAP, &eta_p)
    }

    /// The helper's side of [`SnnParty::compute_msb`](crate::SnnParty::compute_msb).
    pub fn compute_msb(&mut self, shape: &[usize]) -> Result<()> {
        let profile = self.config.profile;
        self.msb_n(numel(shape), profile)
    }

    fn msb_n(&mut self, n: usize, profile: Profile) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let req = self.reserve();
        let x = odd_words(&self.private, req, labels::HELPER_PRIVATE, n);
        self.offline(true);
        let dealt = self.deal_msb_material(req, &x, profile);
        self.offline(false);
        dealt?;
        let beta_p = self.private_compare(n)?;
        match profile {
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

    /// ComputeMSB's input-independent material: `x` over `Z_(L-1)`, its bits over `Z_p`,
    /// and `x[0]` over `Z_L` (paper profile).
    fn deal_msb_material(&mut self, req: u64, x: &[u64], profile: Profile) -> Result<()> {
        self.deal_odd(req, labels::H_MSB_X, x)?;
        self.deal_bits(req, labels::H_MSB_XBITS, x)?;
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
        match self.config.profile {
            Profile::Fast => self.msb_n(n, Profile::Fast),
            Profile::Paper => {
                self.share_convert_n(n)?;
                self.msb_n(n, Profile::Paper)
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // ReLU, SelectShare, DMP.

    /// The helper's side of [`SnnParty::relu`](crate::SnnParty::relu).
    pub fn relu(&mut self, shape: &[usize]) -> Result<()> {
        let n = numel(shape);
        self.drelu_n(n)?;
        self.serve_mul(n)
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
