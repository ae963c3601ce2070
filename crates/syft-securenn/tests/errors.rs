//! Bad input gives typed errors, never panics: shape and argument errors are caught before
//! any message is sent (the session stays usable), bad sessions are refused at start, and
//! a desynchronised peer surfaces as a communication error.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;

use common::run;
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::{Config, DivParams, Helper, Pool2d, SecurennError, SnnParty};
use syft_share::{Comm, CommExt, run_parties, run_parties_with};
use syft_spdz::{Dealer, DealerLink, Party, distribute_seeds, preprocess};

fn t(v: &[u64]) -> Tensor<u64> {
    Tensor::from_vec(v.to_vec())
}

fn is_shape(e: &SecurennError) -> bool {
    matches!(e, SecurennError::ShapeMismatch { .. })
}

fn is_invalid(e: &SecurennError) -> bool {
    matches!(e, SecurennError::InvalidArgument { .. })
}

/// Every rejected call sends nothing, and a ReLU afterwards still works.
#[test]
fn argument_errors_are_caught_before_any_message() {
    let r = run(
        Config::default(),
        1,
        &[t(&[1, 2, 3]), t(&[4, 5]), Tensor::zeros(&[1, 1, 4, 4])],
        |p, s| {
            let (x, y, img) = (&s[0], &s[1], &s[2]);
            assert!(is_shape(&p.ge(x, y).unwrap_err()));
            assert!(is_shape(&p.eq(x, y).unwrap_err()));
            assert!(is_shape(&p.lt_public(x, &t(&[1, 2])).unwrap_err()));
            assert!(is_shape(&p.select(x, x, y).unwrap_err()));
            assert!(is_shape(&p.select(y, x, x).unwrap_err()));
            assert!(is_shape(&p.relu_backward(x, y).unwrap_err()));
            assert!(is_invalid(&p.argmax(x, 1).unwrap_err()));
            assert!(is_invalid(&p.max(&Tensor::zeros(&[2, 0]), 1).unwrap_err()));
            assert!(is_invalid(&p.dmp(x, 3).unwrap_err()));
            assert!(is_invalid(&p.dmp(x, 0).unwrap_err()));
            assert!(is_invalid(&p.maxpool2d(x, Pool2d::new(2, 2)).unwrap_err()));
            assert!(is_invalid(&p.maxpool2d(img, Pool2d::new(5, 1)).unwrap_err()));
            assert!(is_invalid(&p.maxpool2d(img, Pool2d::new(2, 0)).unwrap_err()));
            let pool = p.maxpool2d(img, Pool2d::new(2, 2))?;
            assert!(is_shape(&p.maxpool2d_backward(&pool, x).unwrap_err()));
            let params = DivParams { scale: 1000, quotient_bits: 10 };
            assert!(is_shape(&p.div(x, y, params).unwrap_err()));
            assert!(is_invalid(&p.div(x, x, DivParams { scale: 1000, quotient_bits: 0 }).unwrap_err()));
            assert!(is_invalid(&p.div(x, x, DivParams { scale: 1000, quotient_bits: 64 }).unwrap_err()));
            assert!(is_invalid(&p.div_signed(x, x, DivParams { scale: 0, quotient_bits: 8 }).unwrap_err()));
            assert!(is_invalid(&p.div_public(x, 0).unwrap_err()));
            assert!(is_invalid(&p.div_public_fixed(x, 0, 1000).unwrap_err()));
            assert!(DivParams::for_quotients_below(1000, f64::NAN).is_err());
            assert!(DivParams::for_quotients_below(1000, 1e30).is_err());
            // The session is still in step with the helper.
            Ok(vec![p.relu(x)?.value])
        },
        |h| {
            assert!(is_invalid(&h.argmax(&[3], 1).unwrap_err()));
            assert!(is_invalid(&h.dmp(&[3], 3).unwrap_err()));
            assert!(is_invalid(&h.maxpool2d(&[3], Pool2d::new(2, 2)).unwrap_err()));
            assert!(is_invalid(&h.div(&[3], DivParams { scale: 1000, quotient_bits: 0 }).unwrap_err()));
            h.maxpool2d(&[1, 1, 4, 4], Pool2d::new(2, 2))?;
            h.relu(&[3])
        },
    );
    assert_eq!(r.outputs[0], t(&[1, 2, 3]));
}

/// Argument errors before any message: a rejected call between two protocols leaves the
/// counters untouched.
#[test]
fn rejected_calls_send_nothing() {
    let r = run(
        Config::paper(),
        2,
        &[t(&[1, 2, 3]), t(&[4, 5])],
        |p, s| {
            let before = p.spdz().comm.stats().snapshot();
            let _ = p.gt(&s[0], &s[1]);
            let _ = p.argmax(&s[0], 3);
            let _ = p.div(&s[0], &s[1], DivParams { scale: 10, quotient_bits: 4 });
            let _ = p.dmp(&s[0], 6);
            assert_eq!(p.spdz().comm.stats().since(&before).bytes_sent(), 0);
            assert_eq!(p.spdz().comm.stats().since(&before).messages_sent(), 0);
            Ok(vec![])
        },
        |_| Ok(()),
    );
    assert_eq!(r.total_sent(), 0);
}

/// Sessions that cannot run SecureNN are refused at start.
#[test]
fn bad_sessions_are_refused() {
    // Preprocessed material has no online helper.
    let (sources, _) = preprocess(&mut Dealer::new(2).unwrap(), &[]).unwrap();
    let errs = run_parties_with(sources, |comm, mut source| {
        let party = Party::new(comm, &mut source, vec![0, 1]).unwrap();
        SnnParty::start(party, 0, Config::default()).err().map(|e| e.to_string())
    })
    .unwrap();
    for e in errs {
        // Endpoint 0 is a computing party, so it cannot be the helper either way.
        assert!(e.is_some());
    }
    let errs = run_parties(3, |comm| {
        if comm.id() == 2 {
            return None;
        }
        let (mut src, _) = preprocess(&mut Dealer::new(2).unwrap(), &[]).unwrap();
        let mut source = src.remove(0);
        let party = Party::new(comm, &mut source, vec![0, 1]).unwrap();
        Some(matches!(SnnParty::start(party, 2, Config::default()), Err(SecurennError::NoOnlineHelper)))
    })
    .unwrap();
    assert_eq!(errs, vec![Some(true), Some(true), None]);
    // Three computing parties; a helper that is a party; a helper out of range.
    let outcomes = run_parties(4, |comm| {
        if comm.id() == 3 {
            let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2), Seed::from_u64(3)]).unwrap();
            distribute_seeds(comm, &mut dealer, &[0, 1, 2]).unwrap();
            let three = Helper::new(comm, &mut dealer, [0, 1], Config::default()).unwrap_err();
            return vec![matches!(three, SecurennError::NotTwoParties { parties: 3 })];
        }
        let me = comm.id();
        let mut link = DealerLink::connect(comm, 3, me, 3).unwrap();
        let party = Party::new(comm, &mut link, vec![0, 1, 2]).unwrap();
        vec![matches!(SnnParty::start(party, 3, Config::default()), Err(SecurennError::NotTwoParties { parties: 3 }))]
    })
    .unwrap();
    assert!(outcomes.iter().all(|v| v == &vec![true]), "{outcomes:?}");
    let outcomes = run_parties(3, |comm| {
        if comm.id() == 2 {
            let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
            distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
            let bad = Helper::new(comm, &mut dealer, [0, 2], Config::default()).unwrap_err();
            let same = Helper::new(comm, &mut dealer, [1, 1], Config::default()).unwrap_err();
            return matches!(bad, SecurennError::BadHelper { .. }) && matches!(same, SecurennError::BadHelper { .. });
        }
        let me = comm.id();
        let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
        let party = Party::new(comm, &mut link, vec![0, 1]).unwrap();
        let mine = SnnParty::start(party, me, Config::default());
        matches!(mine, Err(SecurennError::BadHelper { .. }))
    })
    .unwrap();
    assert_eq!(outcomes, vec![true, true, true]);
    let outcomes = run_parties(3, |comm| {
        if comm.id() == 2 {
            let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
            distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
            return true;
        }
        let me = comm.id();
        let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
        let party = Party::new(comm, &mut link, vec![0, 1]).unwrap();
        matches!(SnnParty::start(party, 7, Config::default()), Err(SecurennError::BadHelper { helper: 7, .. }))
    })
    .unwrap();
    assert_eq!(outcomes, vec![true, true, true]);
}

/// A bad common seed and a helper that runs a different shape give typed errors at every
/// endpoint (no panic, no hang).
#[test]
fn desynchronised_peers_give_typed_errors() {
    // Party 0 sends a 5-byte "seed".
    let outcomes = run_parties(3, |comm| -> Option<bool> {
        match comm.id() {
            2 => {
                let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
                distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
                None
            }
            0 => {
                let _link = DealerLink::connect(comm, 2, 0, 2).unwrap();
                comm.send_payload(1, &[1, 2, 3, 4, 5]).unwrap();
                None
            }
            _ => {
                let mut link = DealerLink::connect(comm, 2, 1, 2).unwrap();
                let party = Party::new(comm, &mut link, vec![0, 1]).unwrap();
                Some(matches!(SnnParty::start(party, 2, Config::default()), Err(SecurennError::BadSeed { len: 5, .. })))
            }
        }
    })
    .unwrap();
    assert_eq!(outcomes[1], Some(true));
    // The helper serves a DReLU of the wrong size.
    let outcomes = run_parties(3, |comm| -> String {
        let me = comm.id();
        if me == 2 {
            let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
            distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
            let mut h = Helper::new(comm, &mut dealer, [0, 1], Config::default()).unwrap();
            return format!("{:?}", h.drelu(&[4]).err());
        }
        let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
        let party = Party::new(comm, &mut link, vec![0, 1]).unwrap();
        let mut rng = Prg::new(&Seed::from_u64(9));
        let mut p = SnnParty::start_with_rng(party, 2, Config::default(), &mut rng).unwrap();
        format!("{:?}", p.drelu(&t(&[1, 2, 3])).err())
    })
    .unwrap();
    for o in &outcomes {
        assert!(o.starts_with("Some(Share("), "{outcomes:?}");
    }
}

/// Parties at 32 bits against a helper at 64 (a width the three did not agree on): typed
/// errors at every endpoint, no panic, no hang.
#[test]
fn disagreeing_widths_give_typed_errors() {
    let outcomes = run_parties(3, |comm| -> String {
        let me = comm.id();
        if me == 2 {
            let mut dealer = Dealer::with_seeds(vec![Seed::from_u64(1), Seed::from_u64(2)]).unwrap();
            distribute_seeds(comm, &mut dealer, &[0, 1]).unwrap();
            let mut h = Helper::new(comm, &mut dealer, [0, 1], Config::default()).unwrap();
            return format!("{:?}", h.drelu(&[3]).err());
        }
        let mut link = DealerLink::connect(comm, 2, me, 2).unwrap();
        let party = Party::new(comm, &mut link, vec![0, 1]).unwrap();
        let mut rng = Prg::new(&Seed::from_u64(9));
        let mut p = SnnParty::start_with_rng(party, 2, Config::default(), &mut rng).unwrap();
        p.set_width(syft_securenn::Width::FIXED_POINT);
        format!("{:?}", p.drelu(&t(&[1, 2, 3])).err())
    })
    .unwrap();
    for o in &outcomes {
        assert!(o.starts_with("Some(Share("), "{outcomes:?}");
    }
}
