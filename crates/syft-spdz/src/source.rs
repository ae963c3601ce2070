//! Where a party's dealer material comes from: the [`TripleSource`] trait and its two
//! implementations, on demand from a dealer over a [`Comm`] ([`DealerLink`]), or ahead of
//! time from an offline phase ([`Preprocessed`]).

use crate::error::{Result, SpdzError};
use crate::material::{Dealer, DealerStats, Material, PartySeed, Request};
use std::collections::VecDeque;
use syft_ring::Tensor;
use syft_share::{Comm, CommExt, PartyId};

/// Counts of the material a party consumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Triples (elementwise, matmul, conv).
    pub triples: u64,
    /// Masks for reused operands.
    pub masks: u64,
    /// Square pairs.
    pub squares: u64,
    /// Truncation pairs.
    pub truncations: u64,
    /// Elements of material received from the dealer (corrections).
    pub received_elements: u64,
}

impl SourceStats {
    fn count(&mut self, request: &Request) {
        match request {
            Request::Triple(_) | Request::TripleWithMask { .. } => self.triples += 1,
            Request::Mask { .. } => self.masks += 1,
            Request::Square { .. } => self.squares += 1,
            Request::Trunc { .. } => self.truncations += 1,
        }
    }
}

/// A party's supply of dealer material.
///
/// Every party (and the dealer) must ask for the same requests in the same order; the
/// `n`-th request of a session has number `req = n`, which names its PRG streams.
pub trait TripleSource: Send {
    /// This party's material for the next request. `comm` is the party's channel set,
    /// used by sources that receive corrections from the dealer on demand.
    fn next(&mut self, comm: &mut dyn Comm, request: &Request) -> Result<(u64, Material)>;
    /// Like [`next`](Self::next), for a protocol that needs the dealt output (`c` of a
    /// triple) only at its end: the last party of a [`DealerLink`] does not wait for its
    /// correction here. Its material then has that output zero, and the correction comes
    /// back as a [`PendingCorrection`] to receive and add once the protocol's openings have
    /// left, so that they do not wait for the dealer's computation. Every other party and
    /// source returns the whole material and `None`.
    fn next_deferred(
        &mut self,
        comm: &mut dyn Comm,
        request: &Request,
    ) -> Result<(u64, Material, Option<PendingCorrection>)> {
        let (req, material) = self.next(comm, request)?;
        Ok((req, material, None))
    }
    /// The number the next request will get.
    fn next_req(&self) -> u64;
    /// What this party has consumed so far.
    fn stats(&self) -> SourceStats;
    /// Takes the next request number for a protocol that draws its own streams (e.g. a
    /// SecureNN sub-protocol with the helper), keeping every party and the dealer in step.
    /// Sources without an online dealer cannot serve such protocols.
    fn reserve_req(&mut self) -> Result<u64>;
    /// This party's seed shared with the dealer, for protocols that expand helper-dealt
    /// values from it; `None` for sources without an online dealer.
    fn party_seed(&self) -> Option<PartySeed>;
}

/// The last party's correction of a request, still to be received from the dealer
/// ([`TripleSource::next_deferred`]): its share of the request's dealt output.
#[derive(Debug)]
#[must_use = "the correction is part of the last party's share: receive it and add it"]
pub struct PendingCorrection {
    dealer: PartyId,
    shape: Vec<usize>,
}

impl PendingCorrection {
    /// Receives the correction (shape-checked) from the dealer.
    pub fn receive(self, comm: &mut dyn Comm) -> Result<Tensor<u64>> {
        Ok(comm.recv_tensor_shaped::<u64>(self.dealer, &self.shape)?)
    }
}

/// On-demand material from a dealer endpoint: the party expands its seed locally; the
/// last party receives each correction from the dealer as the request happens.
///
/// The dealer endpoint runs [`serve_request`] for the same requests in the same order.
#[derive(Debug)]
pub struct DealerLink {
    seed: PartySeed,
    dealer: PartyId,
    req: u64,
    stats: SourceStats,
}

impl DealerLink {
    /// A link for a party that already holds its seed.
    #[must_use]
    pub fn new(seed: PartySeed, dealer: PartyId) -> Self {
        Self { seed, dealer, req: 0, stats: SourceStats::default() }
    }

    /// Session start at a party: receives its 16-byte seed from the dealer endpoint.
    /// `party` is this party's index among `parties` computing parties.
    pub fn connect(comm: &mut dyn Comm, dealer: PartyId, party: usize, parties: usize) -> Result<Self> {
        let bytes = comm.recv_payload(dealer)?;
        let seed: [u8; 16] =
            bytes.as_slice().try_into().map_err(|_| SpdzError::BadSeed { from: dealer, len: bytes.len() })?;
        Ok(Self::new(PartySeed { party, parties, seed: syft_ring::Seed(seed) }, dealer))
    }

    /// This party's seed description.
    #[must_use]
    pub fn party_seed(&self) -> PartySeed {
        self.seed
    }

    /// Counts request `req` as taken, once its material is expanded (`next` and
    /// `next_deferred`).
    fn commit(&mut self, req: u64, request: &Request) -> Result<()> {
        self.req = req;
        self.stats.count(request);
        if self.seed.is_last() {
            self.stats.received_elements += request.correction_len()? as u64;
        }
        Ok(())
    }
}

impl TripleSource for DealerLink {
    fn next(&mut self, comm: &mut dyn Comm, request: &Request) -> Result<(u64, Material)> {
        let req = self.req + 1;
        // The request's messages (the correction, then the protocol's) carry its number.
        comm.stats_mut().set_request(req);
        let correction = if self.seed.is_last() && !matches!(request, Request::Mask { .. }) {
            let shape = request.correction_shape()?;
            Some(comm.recv_tensor_shaped::<u64>(self.dealer, &shape)?)
        } else {
            None
        };
        let material = self.seed.expand(req, request, correction)?;
        self.commit(req, request)?;
        Ok((req, material))
    }

    fn next_deferred(
        &mut self,
        comm: &mut dyn Comm,
        request: &Request,
    ) -> Result<(u64, Material, Option<PendingCorrection>)> {
        if !self.seed.is_last() || matches!(request, Request::Mask { .. }) {
            let (req, material) = self.next(comm, request)?;
            return Ok((req, material, None));
        }
        let req = self.req + 1;
        comm.stats_mut().set_request(req);
        let shape = request.correction_shape()?;
        // The dealt output stands at zero until the correction is added.
        let material = self.seed.expand(req, request, Some(Tensor::zeros(&shape)))?;
        self.commit(req, request)?;
        Ok((req, material, Some(PendingCorrection { dealer: self.dealer, shape })))
    }

    fn next_req(&self) -> u64 {
        self.req + 1
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }

    fn reserve_req(&mut self) -> Result<u64> {
        self.req += 1;
        Ok(self.req)
    }

    fn party_seed(&self) -> Option<PartySeed> {
        Some(self.seed)
    }
}

/// Session start at the dealer endpoint: sends each computing party (endpoints
/// `parties[i]`) its 16-byte seed.
pub fn distribute_seeds(comm: &mut dyn Comm, dealer: &mut Dealer, parties: &[PartyId]) -> Result<()> {
    if parties.len() != dealer.parties() {
        return Err(SpdzError::TooFewParties { parties: parties.len() });
    }
    for (i, &p) in parties.iter().enumerate() {
        let seed = dealer.party_seed(i)?;
        comm.send_payload(p, &seed.seed.0)?;
    }
    Ok(())
}

/// The dealer endpoint's side of one request: computes the correction and sends it to
/// the last party (`last`). Nothing is sent for a mask.
pub fn serve_request(comm: &mut dyn Comm, dealer: &mut Dealer, last: PartyId, request: &Request) -> Result<u64> {
    let (req, correction) = dealer.serve(request)?;
    comm.stats_mut().set_request(req);
    if !matches!(request, Request::Mask { .. }) {
        comm.send_tensor(last, &correction)?;
    }
    Ok(req)
}

/// Material produced ahead of time (an offline phase) for a known sequence of requests.
///
/// Build one per party with [`preprocess`]; a party that asks for anything other than the
/// next planned request gets [`SpdzError::UnplannedRequest`] and nothing is consumed.
#[derive(Debug, Default)]
pub struct Preprocessed {
    queue: VecDeque<(u64, Request, Material)>,
    next: u64,
    stats: SourceStats,
}

impl Preprocessed {
    /// Requests still available.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.queue.len()
    }
}

impl TripleSource for Preprocessed {
    fn next(&mut self, comm: &mut dyn Comm, request: &Request) -> Result<(u64, Material)> {
        match self.queue.front() {
            Some((_, planned, _)) if planned == request => {}
            Some((req, planned, _)) => {
                return Err(SpdzError::UnplannedRequest {
                    req: *req,
                    planned: format!("{planned:?}"),
                    asked: format!("{request:?}"),
                });
            }
            None => return Err(SpdzError::Exhausted { asked: format!("{request:?}") }),
        }
        let Some((req, _, material)) = self.queue.pop_front() else {
            return Err(SpdzError::Exhausted { asked: format!("{request:?}") });
        };
        comm.stats_mut().set_request(req);
        self.next = req + 1;
        self.stats.count(request);
        Ok((req, material))
    }

    fn next_req(&self) -> u64 {
        self.queue.front().map_or(self.next, |(req, _, _)| *req)
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }

    fn reserve_req(&mut self) -> Result<u64> {
        Err(SpdzError::InvalidArgument {
            op: "reserve_req",
            reason: "preprocessed material has no online dealer; use a DealerLink for helper protocols".into(),
        })
    }

    fn party_seed(&self) -> Option<PartySeed> {
        None
    }
}

/// The offline phase: the dealer produces every party's material for `requests` at once.
/// Returns one [`Preprocessed`] source per party and the dealer's counters.
pub fn preprocess(dealer: &mut Dealer, requests: &[Request]) -> Result<(Vec<Preprocessed>, DealerStats)> {
    let n = dealer.parties();
    let seeds: Vec<PartySeed> = (0..n).map(|i| dealer.party_seed(i)).collect::<Result<_>>()?;
    let mut out: Vec<Preprocessed> = (0..n).map(|_| Preprocessed::default()).collect();
    for request in requests {
        let (req, correction) = dealer.serve(request)?;
        for (i, seed) in seeds.iter().enumerate() {
            let corr: Option<Tensor<u64>> = seed.is_last().then(|| correction.clone());
            let corr = if matches!(request, Request::Mask { .. }) { None } else { corr };
            let material = seed.expand(req, request, corr)?;
            out[i].queue.push_back((req, request.clone(), material));
        }
    }
    for p in &mut out {
        p.next = p.queue.front().map_or(dealer.next_req(), |(r, _, _)| *r);
    }
    Ok((out, dealer.stats()))
}
