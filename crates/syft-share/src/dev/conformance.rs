//! The conformance suite every [`Comm`] implementation runs.
//!
//! ```
//! use syft_share::InMemoryNetwork;
//! use syft_share::dev::comm_conformance;
//!
//! comm_conformance(InMemoryNetwork::new);
//! ```
//!
//! `make(n)` must return a fresh, fully connected network of `n` endpoints with ids
//! `0 .. n` in order. The suite checks: endpoint ids and party counts; per-peer ordering
//! of interleaved messages; large payloads sent both ways before either side receives
//! (several MB: `send_bytes` must not wait for the receiver); zero-length tensors, scalars
//! and empty messages; `exchange`, `reveal`, `reveal_to` and `recv_sum` results for 2, 3
//! and 5 parties; exact byte, message and round counters; typed errors on malformed
//! payloads, unknown peers, self-messages and duplicate peers (the channel stays usable);
//! and [`ShareError::Disconnected`] when a peer's endpoint is dropped.

use crate::comm::{BYTES_HEADER_LEN, Comm, CommExt, PartyId, Stamp, encode_tensor, tensor_header_len};
use crate::error::ShareError;
use crate::harness::run_comms;
use crate::shares::AdditiveShares;
use syft_ring::{Prg, Seed, Tensor, Z67};

/// One failed conformance check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConformanceFailure {
    /// The check's name.
    pub check: &'static str,
    /// What went wrong.
    pub reason: String,
}

impl std::fmt::Display for ConformanceFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.reason)
    }
}

type Check = Result<(), String>;

/// A named check of the suite.
type NamedCheck<F> = (&'static str, fn(&F) -> Check);

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// Runs every check and returns the failures (empty: the implementation conforms).
pub fn run_comm_conformance<C: Comm, F: Fn(usize) -> Vec<C>>(make: F) -> Vec<ConformanceFailure> {
    let checks: [NamedCheck<F>; 9] = [
        ("endpoints", endpoints::<C, F>),
        ("ordering", ordering::<C, F>),
        ("large_payloads", large_payloads::<C, F>),
        ("empty_tensors", empty_tensors::<C, F>),
        ("exchange_and_reveal", exchange_and_reveal::<C, F>),
        ("counters", counters::<C, F>),
        ("bad_payloads", bad_payloads::<C, F>),
        ("bad_arguments", bad_arguments::<C, F>),
        ("disconnect", disconnect::<C, F>),
    ];
    checks
        .into_iter()
        .filter_map(|(check, f)| f(&make).err().map(|reason| ConformanceFailure { check, reason }))
        .collect()
}

/// Runs every check and panics with the list of failures, if any (for use in tests).
///
/// # Panics
/// If the implementation fails a check.
pub fn comm_conformance<C: Comm, F: Fn(usize) -> Vec<C>>(make: F) {
    let failures = run_comm_conformance(make);
    if !failures.is_empty() {
        let list: Vec<String> = failures.iter().map(ToString::to_string).collect();
        panic!("Comm conformance failed:\n  {}", list.join("\n  "));
    }
}

/// Makes a network of `n`, checks it, runs `f` on every endpoint and flattens the results.
fn run<C, F, R>(make: &F, n: usize, f: impl Fn(&mut C) -> Result<R, String> + Sync) -> Result<Vec<R>, String>
where
    C: Comm,
    F: Fn(usize) -> Vec<C>,
    R: Send,
{
    let comms = make(n);
    ensure!(comms.len() == n, "make({n}) returned {} endpoints", comms.len());
    run_comms(comms, f).map_err(|e| e.to_string())?.into_iter().collect()
}

fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// A byte that identifies party `p` (its index modulo 256).
fn byte(p: PartyId) -> u8 {
    p.to_le_bytes()[0]
}

/// Deterministic test data for party `p`.
fn data(p: PartyId, shape: &[usize]) -> Tensor<u64> {
    Prg::new(&Seed::from_u64(0xC0FF_EE00 + p as u64)).u64_tensor(shape)
}

fn endpoints<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    for n in [2, 3, 5] {
        let comms = make(n);
        ensure!(comms.len() == n, "make({n}) returned {} endpoints", comms.len());
        for (i, c) in comms.iter().enumerate() {
            ensure!(c.id() == i, "endpoint {i} of make({n}) has id {}", c.id());
            ensure!(c.parties() == n, "endpoint {i} of make({n}) reports {} parties", c.parties());
            ensure!(c.stats().snapshot() == c.stats().since(&Default::default()), "counters are inconsistent");
            ensure!(c.stats().total() == Default::default() && c.stats().rounds() == 0, "fresh counters are not zero");
        }
    }
    Ok(())
}

fn ordering<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    const MESSAGES: u64 = 64;
    run(make, 3, |c| {
        let me = c.id();
        let peers: Vec<PartyId> = (0..3).filter(|&p| p != me).collect();
        for i in 0..MESSAGES {
            for &p in &peers {
                if i % 3 == 0 {
                    c.send_payload(p, &i.to_le_bytes()).map_err(err("send_payload"))?;
                } else {
                    c.send_tensor(p, &Tensor::from_vec(vec![i, me as u64, p as u64])).map_err(err("send_tensor"))?;
                }
            }
        }
        for &p in peers.iter().rev() {
            for i in 0..MESSAGES {
                if i % 3 == 0 {
                    let got = c.recv_payload(p).map_err(err("recv_payload"))?;
                    ensure!(got == i.to_le_bytes(), "party {me}: payload {i} from {p} arrived as {got:?}");
                } else {
                    let got = c.recv_tensor::<u64>(p).map_err(err("recv_tensor"))?;
                    ensure!(
                        got.data() == [i, p as u64, me as u64],
                        "party {me}: message {i} from {p} arrived as {:?}",
                        got.data()
                    );
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn large_payloads<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    // 4 MiB each way between two parties, then 1 MiB each way among three; every party sends
    // everything before receiving anything.
    for (n, words) in [(2usize, 1usize << 19), (3, 1 << 17)] {
        run(make, n, |c| {
            let me = c.id();
            let peers: Vec<PartyId> = (0..n).filter(|&p| p != me).collect();
            let mine = data(me, &[words]);
            let got = c.exchange(&mine, &peers).map_err(err("exchange"))?;
            for (&p, t) in peers.iter().zip(&got) {
                ensure!(*t == data(p, &[words]), "party {me}: the {} MiB tensor from {p} differs", (words * 8) >> 20);
            }
            let raw = vec![byte(me); 3 << 20];
            for &p in &peers {
                c.send_bytes(p, raw.clone()).map_err(err("send_bytes"))?;
            }
            for &p in &peers {
                let got = c.recv_bytes(p).map_err(err("recv_bytes"))?;
                ensure!(
                    got.len() == 3 << 20 && got.iter().all(|&b| b == byte(p)),
                    "party {me}: raw 3 MiB from {p} differs"
                );
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn empty_tensors<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    let shapes: [&[usize]; 4] = [&[0], &[3, 0, 2], &[], &[1, 1, 1, 1, 1, 1, 1, 1]];
    run(make, 2, |c| {
        let other = 1 - c.id();
        for shape in shapes {
            let t = data(c.id(), shape);
            let got = c.exchange(&t, &[other]).map_err(err("exchange"))?;
            ensure!(got.len() == 1 && got[0] == data(other, shape), "shape {shape:?} did not round-trip");
            let z = Tensor::<Z67>::zeros(shape);
            let got = c.exchange(&z, &[other]).map_err(err("exchange Z67"))?;
            ensure!(got[0] == z, "Z67 shape {shape:?} did not round-trip");
        }
        c.send_payload(other, &[]).map_err(err("send_payload"))?;
        ensure!(c.recv_payload(other).map_err(err("recv_payload"))?.is_empty(), "empty payload came back non-empty");
        c.send_bytes(other, Vec::new()).map_err(err("send_bytes"))?;
        ensure!(c.recv_bytes(other).map_err(err("recv_bytes"))?.is_empty(), "empty raw message came back non-empty");
        Ok(())
    })?;
    Ok(())
}

fn exchange_and_reveal<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    for n in [2usize, 3, 5] {
        let shape = [3, 4];
        let secret = data(100, &shape);
        // Every party derives the same sharing from a common seed and keeps its own share.
        let sharing =
            AdditiveShares::split(&secret, n, &mut Prg::new(&Seed::from_u64(n as u64))).map_err(err("split"))?;
        let all: Vec<PartyId> = (0..n).collect();
        let holders: Vec<PartyId> = (0..n - 1).collect();
        let mut partial = sharing.shares()[0].clone();
        for s in &sharing.shares()[1..n - 1] {
            partial = partial.add(s).map_err(err("add"))?;
        }
        let pair = sharing.shares()[0].add(&sharing.shares()[n - 1]).map_err(err("add"))?;
        run(make, n, |c| {
            let me = c.id();
            let share = &sharing.shares()[me];
            let peers: Vec<PartyId> = all.iter().copied().filter(|&p| p != me).collect();
            let got = c.exchange(share, &peers).map_err(err("exchange"))?;
            for (&p, t) in peers.iter().zip(&got) {
                ensure!(t == &sharing.shares()[p], "n={n}: party {me} got the wrong share from {p}");
            }
            let opened = c.reveal(share, &all).map_err(err("reveal"))?;
            ensure!(opened == secret, "n={n}: reveal among all is wrong at party {me}");
            if me == 0 || me == n - 1 {
                let opened = c.reveal(share, &[n - 1, 0]).map_err(err("reveal pair"))?;
                ensure!(opened == pair, "n={n}: reveal among [last, 0] is wrong at party {me}");
            }
            let to1 = c.reveal_to(share, 1, &all).map_err(err("reveal_to"))?;
            ensure!((me == 1) == to1.is_some(), "n={n}: reveal_to(1) returned {to1:?} at party {me}");
            ensure!(to1.is_none_or(|t| t == secret), "n={n}: reveal_to(1) is wrong");
            // A target outside the holders (a helper) sums what it receives.
            let helper = n - 1;
            if me == helper {
                let got =
                    c.reveal_to(&Tensor::<u64>::zeros(&[0]), helper, &holders).map_err(err("reveal_to helper"))?;
                ensure!(got.as_ref() == Some(&partial), "n={n}: reveal_to a non-holder is wrong");
                let again = c.recv_sum::<u64>(&holders).map_err(err("recv_sum"))?;
                ensure!(again == partial, "n={n}: recv_sum is wrong");
            } else {
                let got = c.reveal_to(share, helper, &holders).map_err(err("reveal_to helper"))?;
                ensure!(got.is_none(), "n={n}: a non-target got a value");
                c.send_tensor(helper, share).map_err(err("send_tensor"))?;
            }
            // Z_p values reveal modulo p.
            let z = Tensor::<Z67>::from_vec(vec![Z67::new(66), Z67::new(me as u64)]);
            let opened = c.reveal(&z, &all).map_err(err("reveal Z67"))?;
            let expect_sum = (0..n as u64).sum::<u64>();
            let expect = Tensor::from_vec(vec![Z67::new(66 * n as u64), Z67::new(expect_sum)]);
            ensure!(opened == expect, "n={n}: Z67 reveal is wrong at party {me}");
            Ok(())
        })?;
    }
    Ok(())
}

fn counters<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    for n in [2usize, 3, 5] {
        for k in [1usize, 100] {
            run(make, n, |c| {
                let me = c.id();
                let all: Vec<PartyId> = (0..n).collect();
                let k64 = k as u64;
                let hdr = tensor_header_len(1) as u64;
                // reveal of k elements among n: 8k bytes to and from each of n − 1 peers, 1 round.
                let before = c.stats().snapshot();
                c.reveal(&data(me, &[k]), &all).map_err(err("reveal"))?;
                let d = c.stats().since(&before);
                ensure!(d.rounds == 1, "n={n} k={k}: reveal took {} rounds at party {me}", d.rounds);
                for p in (0..n).filter(|&p| p != me) {
                    let s = d.peer(p);
                    ensure!(
                        s.bytes_sent == 8 * k64 && s.bytes_received == 8 * k64,
                        "n={n} k={k}: party {me} ↔ {p}: {s:?}, expected {} payload bytes each way",
                        8 * k
                    );
                    ensure!(s.messages_sent == 1 && s.messages_received == 1, "n={n}: messages {s:?}");
                    ensure!(s.header_bytes_sent == hdr && s.header_bytes_received == hdr, "n={n}: header {s:?}");
                }
                ensure!(d.peer(me) == Default::default(), "traffic counted against the endpoint itself");
                ensure!(d.bytes_sent() == 8 * k64 * (n as u64 - 1), "total bytes sent {}", d.bytes_sent());

                // reveal_to: the senders spend one round, the target none.
                let before = c.stats().snapshot();
                c.reveal_to(&data(me, &[k]), 0, &all).map_err(err("reveal_to"))?;
                let d = c.stats().since(&before);
                if me == 0 {
                    ensure!(d.rounds == 0 && d.bytes_sent() == 0, "reveal_to: the target sent {d:?}");
                    ensure!(d.bytes_received() == 8 * k64 * (n as u64 - 1), "reveal_to: target received {d:?}");
                } else {
                    ensure!(d.rounds == 1 && d.peer(0).bytes_sent == 8 * k64, "reveal_to: sender {me}: {d:?}");
                    ensure!(d.messages_sent() == 1 && d.bytes_received() == 0, "reveal_to: sender {me}: {d:?}");
                }

                // Z_p payloads are one byte per element; opaque payloads count their length.
                let before = c.stats().snapshot();
                c.reveal(&Tensor::<Z67>::zeros(&[k]), &all).map_err(err("reveal Z67"))?;
                let d = c.stats().since(&before);
                ensure!(d.bytes_sent() == k64 * (n as u64 - 1), "Z67 reveal counted {} bytes", d.bytes_sent());
                Ok(())
            })?;
        }
    }
    // A chain of dependent messages: 0 → 1 → 0 → 1.
    let rounds = run(make, 2, |c| {
        let t = Tensor::<u64>::from_vec(vec![7; 5]);
        if c.id() == 0 {
            c.send_tensor(1, &t).map_err(err("send"))?;
            c.recv_tensor::<u64>(1).map_err(err("recv"))?;
            c.send_payload(1, &[1, 2, 3]).map_err(err("send_payload"))?;
        } else {
            c.recv_tensor::<u64>(0).map_err(err("recv"))?;
            c.send_tensor(0, &t).map_err(err("send"))?;
            c.recv_payload(0).map_err(err("recv_payload"))?;
        }
        let s = c.stats().total();
        let other = 1 - c.id();
        if c.id() == 0 {
            ensure!(s.bytes_sent == 40 + 3 && s.bytes_received == 40, "party 0: {s:?}");
            let hdr = (tensor_header_len(1) + BYTES_HEADER_LEN) as u64;
            ensure!(s.header_bytes_sent == hdr, "party 0 header bytes: {s:?}");
        }
        ensure!(c.stats().peer(other) == s, "per-peer and total disagree");
        let r = c.stats().rounds();
        c.stats_mut().reset();
        ensure!(c.stats().total() == Default::default() && c.stats().rounds() == 0, "reset left counts");
        Ok(r)
    })?;
    ensure!(rounds == [2, 1], "ping-pong rounds {rounds:?}, expected [2, 1]");
    Ok(())
}

fn bad_payloads<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    let good = Tensor::<u64>::from_vec(vec![1, 2, 3]);
    let (frame, _) = encode_tensor(&good, Stamp { request: 0, depth: 1 }).map_err(err("encode"))?;
    let (mut z_frame, _) = encode_tensor(&Tensor::<Z67>::from_vec(vec![Z67::new(3)]), Stamp { request: 0, depth: 1 })
        .map_err(err("encode"))?;
    if let Some(b) = z_frame.last_mut() {
        *b = 67;
    }
    let mut huge = frame.clone();
    let dims = tensor_header_len(0);
    huge[dims..dims + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    let garbage: Vec<Vec<u8>> =
        vec![Vec::new(), vec![0xff], frame[..frame.len() - 1].to_vec(), frame[..7].to_vec(), huge, vec![0x02, 1, 2]];
    run(make, 2, |c| {
        if c.id() == 0 {
            for g in &garbage {
                c.send_bytes(1, g.clone()).map_err(err("send_bytes"))?;
            }
            c.send_tensor(1, &good).map_err(err("send_tensor"))?; // received as f64: wrong type
            c.send_bytes(1, z_frame.clone()).map_err(err("send_bytes"))?; // non-canonical Z67
            c.send_tensor(1, &good).map_err(err("send_tensor"))?; // received as a payload
            c.send_payload(1, &[9]).map_err(err("send_payload"))?; // received as a tensor
            c.stats_mut().set_request(7);
            c.send_tensor(1, &good).map_err(err("send_tensor"))?; // for request 7, received at 0
            c.send_tensor(1, &good).map_err(err("send_tensor"))?; // finally valid, at request 7
        } else {
            let is_bad = |r: Result<(), ShareError>| matches!(r, Err(ShareError::BadMessage { from: 0, .. }));
            for (i, _) in garbage.iter().enumerate() {
                ensure!(is_bad(c.recv_tensor::<u64>(0).map(drop)), "garbage message {i} was not a BadMessage");
            }
            ensure!(is_bad(c.recv_tensor::<f64>(0).map(drop)), "a u64 tensor was accepted as f64");
            ensure!(is_bad(c.recv_tensor::<Z67>(0).map(drop)), "a non-canonical Z67 element was accepted");
            ensure!(is_bad(c.recv_payload(0).map(drop)), "a tensor was accepted as a payload");
            ensure!(is_bad(c.recv_tensor::<u64>(0).map(drop)), "a payload was accepted as a tensor");
            let r = c.recv_tensor::<u64>(0).map(drop);
            ensure!(
                matches!(r, Err(ShareError::OutOfStep { from: 0, expected: 0, got: 7, .. })),
                "a message of another request was accepted: {r:?}"
            );
            c.stats_mut().set_request(7);
            let t = c.recv_tensor::<u64>(0).map_err(err("recv after bad messages"))?;
            ensure!(t == good, "the channel is out of step after bad messages");
        }
        Ok(())
    })?;
    Ok(())
}

fn bad_arguments<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    let mut comms = make(3);
    ensure!(comms.len() == 3, "make(3) returned {} endpoints", comms.len());
    let c = &mut comms[1];
    let t = Tensor::<u64>::from_vec(vec![1]);
    macro_rules! expect_err {
        ($e:expr, $pat:pat, $what:expr) => {
            ensure!(matches!($e, Err($pat)), "{}: expected {}, got {:?}", $what, stringify!($pat), $e.map(drop));
        };
    }
    expect_err!(c.send_bytes(3, vec![]), ShareError::UnknownParty { .. }, "send_bytes to 3");
    expect_err!(c.recv_bytes(7), ShareError::UnknownParty { .. }, "recv_bytes from 7");
    expect_err!(c.send_bytes(1, vec![]), ShareError::SelfMessage { .. }, "send_bytes to self");
    expect_err!(c.recv_bytes(1), ShareError::SelfMessage { .. }, "recv_bytes from self");
    expect_err!(c.send_tensor(1, &t), ShareError::SelfMessage { .. }, "send_tensor to self");
    expect_err!(c.recv_tensor::<u64>(usize::MAX), ShareError::UnknownParty { .. }, "recv_tensor");
    expect_err!(c.exchange(&t, &[0, 0]), ShareError::DuplicateParty { .. }, "exchange with a repeated peer");
    expect_err!(c.exchange(&t, &[0, 1]), ShareError::SelfMessage { .. }, "exchange with itself");
    expect_err!(c.reveal(&t, &[0, 2]), ShareError::NotAParticipant { .. }, "reveal without this party");
    expect_err!(c.reveal(&t, &[0, 1, 5]), ShareError::UnknownParty { .. }, "reveal with an unknown party");
    expect_err!(c.reveal_to(&t, 2, &[0]), ShareError::NotAParticipant { .. }, "reveal_to as a bystander");
    expect_err!(c.reveal_to(&t, 9, &[0, 1]), ShareError::UnknownParty { .. }, "reveal_to an unknown target");
    ensure!(c.stats().total() == Default::default(), "failed calls sent or counted traffic: {:?}", c.stats().total());
    Ok(())
}

fn disconnect<C: Comm, F: Fn(usize) -> Vec<C>>(make: &F) -> Check {
    let mut comms = make(2);
    ensure!(comms.len() == 2, "make(2) returned {} endpoints", comms.len());
    let gone = comms.pop();
    drop(gone);
    let c = &mut comms[0];
    let r = c.recv_bytes(1);
    ensure!(matches!(r, Err(ShareError::Disconnected { peer: 1, .. })), "recv from a dropped peer gave {r:?}");
    let r = c.recv_tensor::<u64>(1);
    ensure!(matches!(r, Err(ShareError::Disconnected { .. })), "recv_tensor from a dropped peer gave {r:?}");
    Ok(())
}
