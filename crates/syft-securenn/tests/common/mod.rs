//! Test harness: two computing parties (endpoints 0, 1) and the helper (endpoint 2) on
//! threads over in-memory channels, with deterministic seeds, per-endpoint byte counters,
//! a network-wide count of online rounds, and a record of every message received.
//!
//! **Online rounds** are counted as docs/PROTOCOLS.md §0.3 defines them: the
//! length of the longest chain of messages, where a message's round is one more than the
//! largest round its sender has received, and offline dealer messages count 0. A
//! [`ClockComm`] wraps each endpoint and carries that number in front of every message,
//! below the counted layer (so byte counts are unchanged); the helper marks its offline
//! sends through [`Helper::set_offline_hook`].

#![allow(dead_code, reason = "each test file uses part of the harness")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::{Config, Helper, SnnParty};
use syft_share::{AdditiveShares, Comm, CommCounters, InMemoryComm, InMemoryNetwork, PartyId, run_comms_with};
use syft_spdz::{Dealer, DealerLink, Party, distribute_seeds};

/// Shared state of one endpoint's clock.
#[derive(Default, Debug)]
pub(crate) struct ClockState {
    /// Largest round received so far.
    depth: AtomicU64,
    /// Largest round of a message sent so far.
    max_sent: AtomicU64,
    /// Whether sends are currently offline (round 0).
    offline: AtomicBool,
    /// Whether received messages are recorded.
    recording: AtomicBool,
    /// Received messages (sender, framed message without the clock prefix).
    received: Mutex<Vec<(PartyId, Vec<u8>)>>,
    /// Sent messages (receiver, framed message).
    sent: Mutex<Vec<(PartyId, Vec<u8>)>>,
}

impl ClockState {
    /// Starts a measurement: forget rounds, start recording.
    pub(crate) fn reset(&self) {
        self.depth.store(0, Ordering::SeqCst);
        self.max_sent.store(0, Ordering::SeqCst);
        self.recording.store(true, Ordering::SeqCst);
        self.received.lock().unwrap().clear();
        self.sent.lock().unwrap().clear();
    }
}

/// A [`Comm`] that carries a Lamport round number in front of every message.
pub(crate) struct ClockComm {
    inner: InMemoryComm,
    state: Arc<ClockState>,
}

impl Comm for ClockComm {
    fn id(&self) -> PartyId {
        self.inner.id()
    }
    fn parties(&self) -> usize {
        self.inner.parties()
    }
    fn send_bytes(&mut self, to: PartyId, payload: Vec<u8>) -> syft_share::Result<()> {
        let round =
            if self.state.offline.load(Ordering::SeqCst) { 0 } else { self.state.depth.load(Ordering::SeqCst) + 1 };
        self.state.max_sent.fetch_max(round, Ordering::SeqCst);
        if self.state.recording.load(Ordering::SeqCst) {
            self.state.sent.lock().unwrap().push((to, payload.clone()));
        }
        let mut msg = Vec::with_capacity(payload.len() + 8);
        msg.extend_from_slice(&round.to_le_bytes());
        msg.extend_from_slice(&payload);
        self.inner.send_bytes(to, msg)
    }
    fn recv_bytes(&mut self, from: PartyId) -> syft_share::Result<Vec<u8>> {
        let mut msg = self.inner.recv_bytes(from)?;
        let round = u64::from_le_bytes(msg[..8].try_into().unwrap());
        self.state.depth.fetch_max(round, Ordering::SeqCst);
        msg.drain(..8);
        if self.state.recording.load(Ordering::SeqCst) {
            self.state.received.lock().unwrap().push((from, msg.clone()));
        }
        Ok(msg)
    }
    fn stats(&self) -> &syft_share::CommStats {
        self.inner.stats()
    }
    fn stats_mut(&mut self) -> &mut syft_share::CommStats {
        self.inner.stats_mut()
    }
}

/// The helper's endpoint.
pub(crate) const HELPER: PartyId = 2;

/// What one endpoint reports.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// Output shares (computing parties).
    pub(crate) outputs: Vec<Tensor<u64>>,
    /// Traffic of the measured protocol.
    pub(crate) counters: CommCounters,
    /// Largest round of a message this endpoint sent.
    pub(crate) max_round: u64,
    /// Messages received during the protocol (sender, framed message).
    pub(crate) received: Vec<(PartyId, Vec<u8>)>,
    /// Messages sent during the protocol (receiver, framed message).
    pub(crate) sent: Vec<(PartyId, Vec<u8>)>,
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// Reconstructed outputs.
    pub(crate) outputs: Vec<Tensor<u64>>,
    /// Endpoints 0, 1 (parties) and 2 (helper).
    pub(crate) endpoints: Vec<Endpoint>,
}

impl Run {
    /// Online rounds of the whole network.
    pub(crate) fn rounds(&self) -> u64 {
        self.endpoints.iter().map(|e| e.max_round).max().unwrap_or(0)
    }
    /// Payload bytes sent by endpoint `i`.
    pub(crate) fn sent(&self, i: usize) -> u64 {
        self.endpoints[i].counters.bytes_sent()
    }
    /// Payload bytes sent by every endpoint.
    pub(crate) fn total_sent(&self) -> u64 {
        (0..3).map(|i| self.sent(i)).sum()
    }
}

/// Splits each input into two shares with a PRG seeded by `seed`.
pub(crate) fn share_inputs(inputs: &[Tensor<u64>], seed: u64) -> [Vec<Tensor<u64>>; 2] {
    let mut prg = Prg::new(&Seed::from_u64(seed ^ 0x5a5a));
    let mut out = [Vec::new(), Vec::new()];
    for x in inputs {
        let s = AdditiveShares::split(x, 2, &mut prg).unwrap().into_shares();
        out[0].push(s[0].clone());
        out[1].push(s[1].clone());
    }
    out
}

/// Runs `party` at both computing parties on shares of `inputs` and `helper` at the helper.
pub(crate) fn run<FP, FH>(config: Config, seed: u64, inputs: &[Tensor<u64>], party: FP, helper: FH) -> Run
where
    FP: Fn(&mut SnnParty<'_>, &[Tensor<u64>]) -> syft_securenn::Result<Vec<Tensor<u64>>> + Sync,
    FH: Fn(&mut Helper<'_>) -> syft_securenn::Result<()> + Sync,
{
    run_shares(config, seed, share_inputs(inputs, seed), party, helper)
}

/// Like [`run`], with the parties' shares given.
pub(crate) fn run_shares<FP, FH>(config: Config, seed: u64, shares: [Vec<Tensor<u64>>; 2], party: FP, helper: FH) -> Run
where
    FP: Fn(&mut SnnParty<'_>, &[Tensor<u64>]) -> syft_securenn::Result<Vec<Tensor<u64>>> + Sync,
    FH: Fn(&mut Helper<'_>) -> syft_securenn::Result<()> + Sync,
{
    try_run_shares(config, seed, shares, party, helper).unwrap()
}

/// Like [`run_shares`], returning the first endpoint error instead of panicking.
pub(crate) fn try_run_shares<FP, FH>(
    config: Config,
    seed: u64,
    shares: [Vec<Tensor<u64>>; 2],
    party: FP,
    helper: FH,
) -> Result<Run, String>
where
    FP: Fn(&mut SnnParty<'_>, &[Tensor<u64>]) -> syft_securenn::Result<Vec<Tensor<u64>>> + Sync,
    FH: Fn(&mut Helper<'_>) -> syft_securenn::Result<()> + Sync,
{
    let states: Vec<Arc<ClockState>> = (0..3).map(|_| Arc::new(ClockState::default())).collect();
    let comms: Vec<ClockComm> = InMemoryNetwork::new(3)
        .into_iter()
        .zip(&states)
        .map(|(inner, state)| ClockComm { inner, state: Arc::clone(state) })
        .collect();
    let [s0, s1] = shares;
    let inputs: Vec<Option<Vec<Tensor<u64>>>> = vec![Some(s0), Some(s1), None];
    let dealer_seeds = vec![Seed::from_u64(seed ^ 0x1111), Seed::from_u64(seed ^ 0x2222)];
    let results = run_comms_with(comms, inputs, |comm, input| -> Result<Endpoint, String> {
        let state = Arc::clone(&comm.state);
        match input {
            None => {
                let mut dealer = Dealer::with_seeds(dealer_seeds.clone()).map_err(|e| e.to_string())?;
                distribute_seeds(comm, &mut dealer, &[0, 1]).map_err(|e| e.to_string())?;
                state.reset();
                let before = comm.stats().snapshot();
                {
                    let mut h =
                        Helper::with_private_seed(comm, &mut dealer, [0, 1], config, Seed::from_u64(seed ^ 0x3333))
                            .map_err(|e| e.to_string())?;
                    let flag = Arc::clone(&state);
                    h.set_offline_hook(move |on| flag.offline.store(on, Ordering::SeqCst));
                    helper(&mut h).map_err(|e| format!("helper: {e}"))?;
                }
                Ok(Endpoint {
                    outputs: Vec::new(),
                    counters: comm.stats().since(&before),
                    max_round: state.max_sent.load(Ordering::SeqCst),
                    received: std::mem::take(&mut *state.received.lock().unwrap()),
                    sent: std::mem::take(&mut *state.sent.lock().unwrap()),
                })
            }
            Some(shares) => {
                let me = comm.id();
                let mut link = DealerLink::connect(comm, HELPER, me, 2).map_err(|e| e.to_string())?;
                let spdz = Party::new(comm, &mut link, vec![0, 1]).map_err(|e| e.to_string())?;
                let mut rng = Prg::new(&Seed::from_u64(seed ^ 0x4444));
                let mut snn = SnnParty::start_with_rng(spdz, HELPER, config, &mut rng).map_err(|e| e.to_string())?;
                state.reset();
                let before = snn.spdz().comm.stats().snapshot();
                let outputs = party(&mut snn, &shares).map_err(|e| format!("party {me}: {e}"))?;
                let counters = snn.spdz().comm.stats().since(&before);
                Ok(Endpoint {
                    outputs,
                    counters,
                    max_round: state.max_sent.load(Ordering::SeqCst),
                    received: std::mem::take(&mut *state.received.lock().unwrap()),
                    sent: std::mem::take(&mut *state.sent.lock().unwrap()),
                })
            }
        }
    })
    .map_err(|e| e.to_string())?;
    let endpoints: Vec<Endpoint> = results.into_iter().collect::<Result<_, _>>()?;
    let outputs = endpoints[0]
        .outputs
        .iter()
        .zip(&endpoints[1].outputs)
        .map(|(a, b)| a.zip_map(b, u64::wrapping_add).unwrap())
        .collect();
    Ok(Run { outputs, endpoints })
}

/// A 1-d tensor of signed values.
pub(crate) fn signed_tensor(v: &[i64]) -> Tensor<u64> {
    Tensor::from_vec(v.iter().map(|&x| x as u64).collect())
}

/// The signed values of a tensor.
pub(crate) fn signed_values(t: &Tensor<u64>) -> Vec<i64> {
    t.data().iter().map(|&x| x as i64).collect()
}

/// The configurations: fast and paper profiles, each with compressed and paper accounting.
pub(crate) fn all_configs() -> Vec<Config> {
    use syft_securenn::Accounting;
    vec![
        Config::fast(),
        Config::paper(),
        Config::fast().with_accounting(Accounting::Paper),
        Config::paper().with_accounting(Accounting::Paper),
        Config::fast().with_bit_products(syft_securenn::BitProducts::Beaver),
    ]
}
