//! The `Comm` conformance kit against `InMemoryComm`, counter formulas, timeouts,
//! disconnection and the thread harness.

use std::time::{Duration, Instant};
use syft_ring::{Prg, Seed, Tensor};
use syft_share::dev::{comm_conformance, run_comm_conformance};
use syft_share::{
    AdditiveShares, Comm, CommExt, InMemoryComm, InMemoryNetwork, PartyId, ShareError, run_comms, run_parties,
    run_parties_with, tensor_header_len,
};

#[test]
fn in_memory_comm_conforms() {
    comm_conformance(InMemoryNetwork::new);
    comm_conformance(|n| InMemoryNetwork::with_timeout(n, None));
    // Through trait objects too.
    comm_conformance(|n| InMemoryNetwork::new(n).into_iter().map(|c| Box::new(c) as Box<dyn Comm>).collect());
}

/// A deliberately broken transport: it turns empty messages into one zero byte and
/// reports the wrong party count. The kit must notice.
struct Broken(InMemoryComm);

impl Comm for Broken {
    fn id(&self) -> PartyId {
        self.0.id()
    }
    fn parties(&self) -> usize {
        self.0.parties() + 1
    }
    fn send_bytes(&mut self, to: PartyId, payload: Vec<u8>) -> syft_share::Result<()> {
        self.0.send_bytes(to, if payload.is_empty() { vec![0] } else { payload })
    }
    fn recv_bytes(&mut self, from: PartyId) -> syft_share::Result<Vec<u8>> {
        self.0.recv_bytes(from)
    }
    fn stats(&self) -> &syft_share::CommStats {
        self.0.stats()
    }
    fn stats_mut(&mut self) -> &mut syft_share::CommStats {
        self.0.stats_mut()
    }
}

#[test]
fn conformance_kit_catches_a_broken_transport() {
    let failures = run_comm_conformance(|n| {
        InMemoryNetwork::with_timeout(n, Some(Duration::from_secs(2))).into_iter().map(Broken).collect()
    });
    assert!(failures.iter().any(|f| f.check == "endpoints"), "{failures:?}");
    assert!(failures.iter().any(|f| f.check == "empty_tensors"), "{failures:?}");
}

#[test]
fn reveal_costs_match_the_formula() {
    // A reveal of k elements among n parties: each party sends 8k payload bytes to each of
    // the n − 1 others, in one message each, and the whole reveal is exactly one round.
    for n in [2usize, 3, 4, 5] {
        for k in [0usize, 1, 7, 1000] {
            let secret = Prg::new(&Seed::from_u64(k as u64)).u64_tensor(&[k]);
            let shares = AdditiveShares::split(&secret, n, &mut Prg::new(&Seed::from_u64(3))).unwrap();
            let all: Vec<PartyId> = (0..n).collect();
            let out = run_parties_with(shares.into_shares(), |comm, share| {
                let opened = comm.reveal(&share, &all)?;
                Ok::<_, ShareError>((opened, comm.stats().snapshot()))
            })
            .unwrap();
            for (me, r) in out.into_iter().enumerate() {
                let (opened, stats) = r.unwrap();
                assert_eq!(opened, secret);
                assert_eq!(stats.rounds, 1, "n={n} k={k}");
                for peer in (0..n).filter(|&p| p != me) {
                    let s = stats.peer(peer);
                    assert_eq!(s.bytes_sent, 8 * k as u64, "n={n} k={k}");
                    assert_eq!(s.bytes_received, 8 * k as u64);
                    assert_eq!((s.messages_sent, s.messages_received), (1, 1));
                    assert_eq!(s.header_bytes_sent, tensor_header_len(1) as u64);
                }
                assert_eq!(stats.bytes_sent(), 8 * (k * (n - 1)) as u64);
            }
        }
    }
}

#[test]
fn open_diffs_match_reveals_of_the_differences() {
    // Opening x − a and y − b together gives Σ(x_i − a_i), Σ(y_i − b_i), in one round, with
    // the same bytes and messages as revealing each difference; likewise with the sending
    // and receiving halves called apart.
    for n in [2usize, 3, 4] {
        for (kx, ky) in [(0usize, 3usize), (1, 1), (7, 1000)] {
            let mut prg = Prg::new(&Seed::from_u64((n * 31 + kx) as u64));
            let (x, a) = (prg.u64_tensor(&[kx]), prg.u64_tensor(&[kx]));
            let (y, b) = (prg.u64_tensor(&[ky, 1]), prg.u64_tensor(&[ky, 1]));
            let split = |t: &Tensor<u64>, prg: &mut Prg| AdditiveShares::split(t, n, prg).unwrap().into_shares();
            let (xs, as_, ys, bs) =
                (split(&x, &mut prg), split(&a, &mut prg), split(&y, &mut prg), split(&b, &mut prg));
            let inputs: Vec<_> =
                (0..n).map(|i| (xs[i].clone(), as_[i].clone(), ys[i].clone(), bs[i].clone())).collect();
            let all: Vec<PartyId> = (0..n).collect();
            let out = run_parties_with(inputs, |comm, (x, a, y, b)| {
                let mut opened = comm.open_diffs_u64(&[(&x, &a), (&y, &b)], &all)?;
                // The same opening with the halves apart, the second decoded over its mask.
                comm.send_diffs_u64(&[(&x, &a), (&y, &b)], &all)?;
                let e = comm.recv_opened_diff_u64(&x, &a, &all)?;
                let f = comm.recv_opened_diff_into_u64(&y, b, &all)?;
                assert_eq!((&e, &f), (&opened[0], &opened[1]));
                opened.push(e);
                Ok::<_, ShareError>((opened, comm.stats().snapshot()))
            })
            .unwrap();
            for (me, r) in out.into_iter().enumerate() {
                let (opened, stats) = r.unwrap();
                let (e, f) = (x.sub(&a).unwrap(), y.sub(&b).unwrap());
                assert_eq!(opened, vec![e.clone(), f, e], "n={n}");
                // Two openings of one round each.
                assert_eq!(stats.rounds, 2);
                for peer in (0..n).filter(|&p| p != me) {
                    let s = stats.peer(peer);
                    assert_eq!(s.bytes_sent, 2 * 8 * (kx + ky) as u64);
                    assert_eq!(s.bytes_received, 2 * 8 * (kx + ky) as u64);
                    assert_eq!((s.messages_sent, s.messages_received), (4, 4));
                    assert_eq!(s.header_bytes_sent, 2 * (tensor_header_len(1) + tensor_header_len(2)) as u64);
                }
            }
        }
    }
}

#[test]
fn open_diffs_reject_bad_operands_and_messages() {
    let t = Tensor::<u64>::from_vec(vec![1, 2, 3]);
    let u = Tensor::<u64>::from_vec(vec![1, 2]);
    let out = run_parties(2, |comm| {
        // Unequal operand shapes: an error before anything is sent.
        let before = comm.stats().snapshot();
        let bad = comm.open_diffs_u64(&[(&t, &u)], &[0, 1]);
        assert!(matches!(bad, Err(ShareError::InvalidArgument { .. })), "{bad:?}");
        assert_eq!(comm.stats().since(&before).bytes_sent(), 0);
        // Not among the parties, or an unknown party.
        assert!(matches!(comm.open_diffs_u64(&[(&t, &t)], &[1 - comm.id()]), Err(ShareError::NotAParticipant { .. })));
        assert!(matches!(comm.open_diffs_u64(&[(&t, &t)], &[0, 1, 7]), Err(ShareError::UnknownParty { .. })));
        // Alone: just the difference, no communication.
        let me = comm.id();
        assert_eq!(comm.open_diffs_u64(&[(&t, &t)], &[me]).unwrap(), vec![Tensor::zeros(&[3])]);
        // The peer sends a share of the wrong shape: a typed error.
        if comm.id() == 0 {
            comm.send_tensor(1, &u)?;
            Ok(())
        } else {
            match comm.recv_diff_add_u64(0, &t, &t) {
                Err(ShareError::ShareShape { expected, got, .. }) => {
                    assert_eq!((expected, got), (vec![3], vec![2]));
                    Ok(())
                }
                other => panic!("expected a shape error, got {other:?}"),
            }
        }
    })
    .unwrap();
    assert!(out.into_iter().all(|r: syft_share::Result<()>| r.is_ok()));
}

#[test]
fn sequential_reveals_count_one_round_each() {
    let out = run_parties(3, |comm| -> syft_share::Result<u64> {
        let t = Tensor::<u64>::from_vec(vec![1, 2]);
        for _ in 0..4 {
            comm.reveal(&t, &[0, 1, 2])?;
        }
        let ex = comm.exchange(&t, &(0..3).filter(|&p| p != comm.id()).collect::<Vec<_>>())?;
        assert_eq!(ex.len(), 2);
        Ok(comm.stats().rounds())
    })
    .unwrap();
    assert!(out.into_iter().all(|r| r.unwrap() == 5));
}

#[test]
fn receive_times_out_with_a_typed_error() {
    let mut comms = InMemoryNetwork::with_timeout(2, Some(Duration::from_millis(50)));
    assert_eq!(comms[0].timeout(), Some(Duration::from_millis(50)));
    let start = Instant::now();
    let r = comms[0].recv_tensor::<u64>(1);
    assert!(matches!(r, Err(ShareError::Timeout { party: 0, peer: 1, .. })), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
    // The default is finite.
    assert_eq!(InMemoryNetwork::new(2)[0].timeout(), Some(syft_share::DEFAULT_TIMEOUT));
    // An explicit link failure.
    comms[1].disconnect(0);
    assert!(matches!(comms[1].send_bytes(0, vec![1]), Err(ShareError::Disconnected { .. })));
    assert!(matches!(comms[0].send_bytes(1, vec![1]), Err(ShareError::Disconnected { .. })));
}

#[test]
fn queued_messages_survive_the_sender_hanging_up() {
    let mut comms = InMemoryNetwork::new(2);
    let mut c1 = comms.pop().unwrap();
    c1.send_tensor(0, &Tensor::<u64>::from_vec(vec![42])).unwrap();
    drop(c1);
    assert_eq!(comms[0].recv_tensor::<u64>(1).unwrap().data(), &[42]);
    assert!(matches!(comms[0].recv_tensor::<u64>(1), Err(ShareError::Disconnected { .. })));
}

#[test]
fn harness_reports_the_first_panic_and_unblocks_peers() {
    let start = Instant::now();
    let r = run_parties(3, |comm| {
        if comm.id() == 1 {
            panic!("party one gives up");
        }
        // The others wait for party 1, which never sends: they must see Disconnected.
        comm.recv_tensor::<u64>(1).map(drop)
    });
    match r {
        Err(ShareError::PartyPanicked { party, message }) => {
            assert_eq!(party, 1);
            assert!(message.contains("gives up"));
        }
        other => panic!("expected PartyPanicked, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(10), "peers were not unblocked");
    // Results come back in party order, with inputs.
    let out = run_parties_with(vec![10u64, 20, 30], |comm, x| x + comm.id() as u64).unwrap();
    assert_eq!(out, vec![10, 21, 32]);
    assert!(matches!(run_comms(InMemoryNetwork::new(2), |_c: &mut InMemoryComm| ()).map(|v| v.len()), Ok(2)));
    assert!(matches!(
        syft_share::run_comms_with(InMemoryNetwork::new(2), vec![1], |_c: &mut InMemoryComm, _i| ()),
        Err(ShareError::InvalidArgument { .. })
    ));
    // One endpoint alone is a valid (if lonely) network.
    assert_eq!(run_parties(1, |c| c.parties()).unwrap(), vec![1]);
}

#[test]
fn stats_helpers() {
    let out = run_parties(2, |comm| {
        let other = 1 - comm.id();
        comm.send_tensor(other, &Tensor::<u64>::zeros(&[2, 3]))?;
        let snap = comm.stats().snapshot();
        comm.recv_tensor::<u64>(other)?;
        comm.send_payload(other, &[1; 16])?;
        comm.recv_payload(other)?;
        let delta = comm.stats().since(&snap);
        Ok::<_, ShareError>((comm.stats().snapshot(), delta))
    })
    .unwrap();
    for r in out {
        let (all, delta) = r.unwrap();
        assert_eq!(all.bytes_sent(), 48 + 16);
        assert_eq!(all.total().header_bytes_sent, (tensor_header_len(2) + syft_share::BYTES_HEADER_LEN) as u64);
        assert_eq!(all.rounds, 2);
        assert_eq!(delta.bytes_sent(), 16);
        assert_eq!(delta.bytes_received(), 48 + 16);
        assert_eq!(delta.rounds, 1);
        assert_eq!(delta.messages_received(), 2);
        assert_eq!(delta.messages_sent(), 1);
    }
}

#[test]
fn depth_is_the_longest_chain_of_dependent_messages_across_the_network() {
    // A relay 0 → 1 → 2 → 0, then one exchange between 0 and 1: the chain is 3 + 1 long,
    // whatever each endpoint's own round count says.
    let depths = run_parties(3, |comm| -> syft_share::Result<(u64, u64)> {
        let t = Tensor::<u64>::from_vec(vec![7]);
        match comm.id() {
            0 => {
                comm.send_tensor(1, &t)?;
                comm.recv_tensor::<u64>(2)?;
                comm.exchange(&t, &[1])?;
            }
            1 => {
                let x = comm.recv_tensor::<u64>(0)?;
                comm.send_tensor(2, &x)?;
                comm.exchange(&t, &[0])?;
            }
            _ => {
                let x = comm.recv_tensor::<u64>(1)?;
                comm.send_tensor(0, &x)?;
            }
        }
        Ok((comm.stats().depth(), comm.stats().rounds()))
    })
    .unwrap();
    let depths: Vec<(u64, u64)> = depths.into_iter().map(Result::unwrap).collect();
    // Party 0 sent at depth 1, received depth 3, then exchanged at depth 4 (its own count:
    // 2 rounds); party 1 received 1, sent 2, exchanged at 3 and received 4 (its own count:
    // 1 round, its two sends being consecutive); party 2 saw 2 and 3.
    assert_eq!(depths, vec![(4, 2), (4, 1), (3, 1)]);
    assert_eq!(depths.iter().map(|d| d.0).max(), Some(4));
}
