//! Who may do what at a worker, tried as an attacker would: real worker processes over
//! TLS on loopback, each connection with the real certificate of the identity it plays.
//! Every refusal is checked to be the typed `Forbidden` error, and the store to be
//! unchanged afterwards (read back by the owner).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;

use common::Deployment;
use syft_net::NetworkWorker;
use syft_ring::Tensor;
use syft_worker::mpc::{Channels, MpcOp, MpcRequest, Role};
use syft_worker::transport::call;
use syft_worker::{
    MpcSession, ObjectId, PointerTensor, RemoteErrorKind, Request, Response, Sendable, SharedTensor, Worker,
    WorkerError,
};

const WORKERS: [&str; 3] = ["bob", "alice", "crypto_provider"];
const CLIENTS: [&str; 2] = ["model_owner", "data_owner"];

fn start() -> Deployment {
    Deployment::start(&WORKERS, &CLIENTS, &[])
}

/// Sends `request` as whoever `worker`'s connection belongs to.
fn raw(worker: &NetworkWorker, request: &Request) -> Result<Response, WorkerError> {
    call(worker.transport().as_ref(), request)
}

#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, WorkerError>) {
    match result {
        Err(WorkerError::Remote { error, .. }) if error.kind == RemoteErrorKind::Forbidden => {}
        other => panic!("expected a Forbidden refusal, got {other:?}"),
    }
}

/// The owner's view of its objects on `worker`.
fn listing(worker: &NetworkWorker) -> Vec<ObjectId> {
    worker.objects().unwrap().into_iter().map(|(id, _)| id).collect()
}

#[test]
fn a_worker_certificate_used_as_a_client_reads_nothing() {
    let d = start();
    let (_owner_hub, owner) = d.connect_as("model_owner");
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0]).send(&owner[0]).unwrap();
    let id = x.id_at_location();
    let before = listing(&owner[0]);

    // alice, and the crypto provider, connect to bob with their own certificates.
    for rogue in ["alice", "crypto_provider"] {
        let (_hub, conns) = d.connect_as(rogue);
        let bob = &conns[0];
        assert_forbidden(raw(bob, &Request::List));
        assert_forbidden(raw(bob, &Request::Get { id }));
        assert_forbidden(raw(bob, &Request::Describe { id }));
        assert_forbidden(raw(bob, &Request::Move { id, to: rogue.to_string() }));
        assert_forbidden(raw(bob, &Request::Delete { id }));
        assert_forbidden(raw(bob, &Request::Grant { id, to: "data_owner".into() }));
        assert_forbidden(raw(bob, &Request::Delegate { id, to: rogue.into() }));
        assert_forbidden(raw(bob, &Request::Op { op: syft_worker::TensorOp::Neg, args: vec![id], result: 7 }));
        assert_forbidden(raw(
            bob,
            &Request::Store { id: 99, value: syft_worker::Value::Ring(Tensor::from_vec(vec![1u64])) },
        ));
        // A peer cannot start a session (where it would be the dealer and know the seeds).
        let join = MpcRequest::Join {
            session: 5,
            role: Role::Party(0),
            parties: 2,
            channels: Channels::Network {
                peers: vec!["bob@127.0.0.1:1".into(), "alice@127.0.0.1:2".into(), format!("{rogue}@127.0.0.1:3")],
            },
        };
        assert_forbidden(raw(bob, &Request::Mpc(join)));
    }
    // Nothing changed: the owner still sees and reads its tensor.
    assert_eq!(listing(&owner[0]), before);
    assert_eq!(x.get().unwrap().data(), &[1.0, 2.0, 3.0]);
}

#[test]
fn another_client_cannot_get_move_list_or_delete() {
    let d = start();
    let (_mh, model_owner) = d.connect_as("model_owner");
    let (_dh, data_owner) = d.connect_as("data_owner");
    let w = Tensor::from_vec(vec![0.5f32, -1.5]).send(&model_owner[0]).unwrap();
    let id = w.id_at_location();
    let before = listing(&model_owner[0]);

    let bob = &data_owner[0];
    assert!(listing(bob).is_empty(), "the data owner lists only its own objects");
    assert_forbidden(raw(bob, &Request::Get { id }));
    assert_forbidden(raw(bob, &Request::Move { id, to: "alice".into() }));
    assert_forbidden(raw(bob, &Request::Delete { id }));
    assert_forbidden(raw(bob, &Request::Grant { id, to: "data_owner".into() }));
    assert_forbidden(raw(bob, &Request::Op { op: syft_worker::TensorOp::Neg, args: vec![id], result: 11 }));
    // A pointer the data owner forges to the model owner's object is no better.
    let forged = PointerTensor::borrowed(data_owner[0].hub(), "bob", id).unwrap();
    assert_forbidden(forged.neg());
    assert_forbidden(forged.get());

    assert_eq!(listing(&model_owner[0]), before);
    assert_eq!(w.get().unwrap().data(), &[0.5, -1.5]);
}

#[test]
fn sessions_cannot_be_hijacked() {
    let d = start();
    let (_mh, mo) = d.connect_as("model_owner");
    let (_dh, dat) = d.connect_as("data_owner");
    let peer = |w: &NetworkWorker| w.peer_address().unwrap();
    let members = |dealer: String| Channels::Network { peers: vec![peer(&mo[0]), peer(&mo[1]), dealer] };

    // A member the worker does not know.
    let unknown = MpcRequest::Join {
        session: 1,
        role: Role::Party(0),
        parties: 2,
        channels: Channels::Network { peers: vec![peer(&mo[0]), "mallory@127.0.0.1:9".into(), peer(&mo[2])] },
    };
    assert_forbidden(raw(&mo[0], &Request::Mpc(unknown)));
    // A dealer the worker does not accept: alice as the crypto provider of bob and ... .
    let bad_dealer = MpcRequest::Join { session: 2, role: Role::Party(0), parties: 2, channels: members(peer(&mo[1])) };
    assert_forbidden(raw(&mo[0], &Request::Mpc(bad_dealer)));
    // A client that claims to be where another worker is.
    let wrong_seat = MpcRequest::Join { session: 3, role: Role::Party(1), parties: 2, channels: members(peer(&mo[2])) };
    assert_forbidden(raw(&mo[0], &Request::Mpc(wrong_seat)));

    // The model owner's session and shares.
    let session = MpcSession::new(&[&mo[0], &mo[1]], &mo[2]).unwrap();
    let enc = syft_fixed::FixedEncoder::default();
    let w = SharedTensor::share(&enc.encode(&Tensor::<f64>::from_vec(vec![1.0, 2.0])).unwrap(), Some(enc), &session)
        .unwrap();
    let w_id = w.share_pointers()[0].id_at_location();
    // The data owner may not run, query or end the model owner's session.
    let run = MpcRequest::Run { session: session.id(), op: MpcOp::Neg, args: vec![w_id], results: vec![42] };
    assert_forbidden(raw(&dat[0], &Request::Mpc(run)));
    assert_forbidden(raw(&dat[0], &Request::Mpc(MpcRequest::Stats { session: session.id() })));
    assert_forbidden(raw(&dat[0], &Request::Mpc(MpcRequest::Leave { session: session.id() })));

    // In its own session, the data owner may not run on an object it neither owns nor was
    // granted.
    let own_session = MpcSession::new(&[&dat[0], &dat[1]], &dat[2]).unwrap();
    let run = MpcRequest::Run { session: own_session.id(), op: MpcOp::Neg, args: vec![w_id], results: vec![43] };
    assert_forbidden(raw(&dat[0], &Request::Mpc(run)));
    let borrowed = SharedTensor::from_handle(&w.handle(), &own_session).unwrap();
    assert_forbidden(borrowed.neg());

    // Nothing changed: the model owner still computes and reads.
    assert_eq!(w.neg().unwrap().get().unwrap().float_precision().data(), &[-1.0, -2.0]);
}

#[test]
fn a_grant_lets_the_grantee_compute_not_read() {
    let d = start();
    let (_mh, mo) = d.connect_as("model_owner");
    let (_dh, dat) = d.connect_as("data_owner");
    let enc = syft_fixed::FixedEncoder::default();
    let s_mo = MpcSession::new(&[&mo[0], &mo[1]], &mo[2]).unwrap();
    let w = SharedTensor::share(
        &enc.encode(&Tensor::<f64>::from_vec(vec![1.0, -2.0, 0.5, 3.0]).reshape(&[2, 2]).unwrap()).unwrap(),
        Some(enc),
        &s_mo,
    )
    .unwrap();
    w.grant("data_owner").unwrap();

    let s_do = MpcSession::new(&[&dat[0], &dat[1]], &dat[2]).unwrap();
    let w_do = SharedTensor::from_handle(&w.handle(), &s_do).unwrap();
    let x = SharedTensor::share(
        &enc.encode(&Tensor::<f64>::from_vec(vec![1.0, 0.0, 0.0, 1.0]).reshape(&[2, 2]).unwrap()).unwrap(),
        Some(enc),
        &s_do,
    )
    .unwrap();
    // x · W with x the identity would be W itself: the logits are restricted.
    let logits = x.matmul(&w_do).unwrap();
    let refused = logits.clone().get();
    match refused {
        Err(WorkerError::Remote { error, .. }) if error.kind == RemoteErrorKind::Forbidden => {}
        other => panic!("logits computed from granted weights must not be readable, got {other:?}"),
    }
    // The granted shares themselves are not readable by the grantee.
    assert_forbidden(w_do.clone().get());
    // The argmax is: the decision is what the model owner lets the data owner have.
    let pred = logits.argmax(1).unwrap().get().unwrap().into_raw();
    assert_eq!(pred.data(), &[0, 1]);
    // The model owner cannot read the data owner's input nor its predictions.
    let x_share = x.share_pointers()[0].id_at_location();
    assert_forbidden(raw(&mo[0], &Request::Get { id: x_share }));
    // After a revoke, the grantee cannot compute with it any more.
    for p in w.share_pointers() {
        p.revoke("data_owner").unwrap();
    }
    assert_forbidden(x.matmul(&w_do));
}

/// Sends a raw `Run` in `session` as whoever `worker`'s connection belongs to.
fn run(
    worker: &NetworkWorker,
    session: u64,
    op: MpcOp,
    args: Vec<ObjectId>,
    results: Vec<ObjectId>,
) -> Result<Response, WorkerError> {
    raw(worker, &Request::Mpc(MpcRequest::Run { session, op, args, results }))
}

#[test]
fn granted_weights_cannot_be_extracted_by_crafted_computations() {
    let d = start();
    let (_mh, mo) = d.connect_as("model_owner");
    let (_dh, dat) = d.connect_as("data_owner");
    let enc = syft_fixed::FixedEncoder::default();
    let s_mo = MpcSession::new(&[&mo[0], &mo[1]], &mo[2]).unwrap();
    let w_plain = Tensor::<f64>::from_vec(vec![0.25, -1.5, 2.0, 0.75]).reshape(&[2, 2]).unwrap();
    let w = SharedTensor::share(&enc.encode(&w_plain).unwrap(), Some(enc), &s_mo).unwrap();
    w.grant("data_owner").unwrap();
    let eye = enc.encode(&Tensor::<f64>::from_vec(vec![1.0, 0.0, 0.0, 1.0]).reshape(&[2, 2]).unwrap()).unwrap();
    let share = |i: usize, t: &SharedTensor| t.share_pointers()[i].id_at_location();
    // A refused step that the crypto provider takes part in ends the session (its members
    // would be out of step): each attempt gets a session of its own.
    let fresh = || {
        let s = MpcSession::new(&[&dat[0], &dat[1]], &dat[2]).unwrap();
        let w_do = SharedTensor::from_handle(&w.handle(), &s).unwrap();
        let x = SharedTensor::share(&eye, Some(enc), &s).unwrap();
        (s, w_do, x)
    };

    // Threshold tests on the weights themselves: a public offset, a public mask, a
    // scaling, an argmax or a ReLU of the weights: each refused.
    let (s, w_do, _x) = fresh();
    assert_forbidden(w_do.add_public(&Tensor::from_vec(vec![-0.5; 4]).reshape(&[2, 2]).unwrap()));
    assert_forbidden(w_do.mul_int(3));
    let mask = MpcOp::MulPublic { c: Tensor::from_vec(vec![1u64, 0, 1, 0]).reshape(&[2, 2]).unwrap(), scale: 1 };
    assert_forbidden(run(&dat[0], s.id(), mask, vec![share(0, &w_do)], vec![900]));
    assert_forbidden(w_do.argmax(1));
    let (_s, w_do, _x) = fresh();
    assert_forbidden(w_do.relu());

    // An activation (computed from the data owner's input and the weights) goes through
    // the network's layers only: no sums with, products with or comparisons to the data
    // owner's own values, no public offsets.
    let (_s, w_do, x) = fresh();
    let y = x.matmul(&w_do).unwrap();
    assert_forbidden(y.add(&x));
    assert_forbidden(y.add_public(&Tensor::from_vec(vec![0.1; 4]).reshape(&[2, 2]).unwrap()));
    assert_forbidden(y.mul(&x));
    let (_s, w_do, x) = fresh();
    let y = x.matmul(&w_do).unwrap();
    assert_forbidden(y.gt(&x));
    // Through a layer it stays an activation: unreadable; its argmax is readable.
    let (_s, w_do, x) = fresh();
    let y = x.matmul(&w_do).unwrap().relu().unwrap();
    assert_forbidden(y.clone().get());
    assert_eq!(y.argmax(1).unwrap().get().unwrap().into_raw().data(), &[0, 0]);

    // The cached opening of the weights serves products with the weights only: a product
    // under the same key with another operand is refused.
    let (s, w_do, x) = fresh();
    let dummy = SharedTensor::share(&eye, Some(enc), &s).unwrap();
    let product = MpcOp::MatMul {
        lhs: vec![2, 2],
        rhs: vec![2, 2],
        lhs_t: false,
        rhs_t: false,
        scale: 1000,
        reuse_rhs: Some(4242),
    };
    let all = |b: &SharedTensor, results: [ObjectId; 2]| -> Vec<Result<Response, WorkerError>> {
        let mut replies = Vec::new();
        for i in 0..2 {
            let req = Request::Mpc(MpcRequest::Run {
                session: s.id(),
                op: product.clone(),
                args: vec![share(i, &x), share(i, b)],
                results: vec![results[i]],
            });
            replies.push(syft_worker::transport::call_async(dat[i].transport().as_ref(), &req).unwrap());
        }
        let req = Request::Mpc(MpcRequest::Run { session: s.id(), op: product.clone(), args: vec![], results: vec![] });
        replies.push(syft_worker::transport::call_async(dat[2].transport().as_ref(), &req).unwrap());
        replies.into_iter().map(syft_worker::Reply::wait).collect()
    };
    // With the weights: allowed, and the result is restricted.
    assert!(all(&w_do, [7001, 7002]).iter().all(Result::is_ok));
    assert_forbidden(raw(&dat[0], &Request::Get { id: 7001 }));
    // With its own tensor under the same key: the parties refuse before any message.
    assert_forbidden(all(&dummy, [7003, 7004]).into_iter().next().unwrap());
}

#[test]
fn a_delegation_serves_only_the_owner_that_made_it() {
    let d = start();
    let (_oh, owner) = d.connect_as("model_owner");
    let (_ch, other) = d.connect_as("data_owner");
    // The owner's chain: x on bob, a pointer to it on alice (bob delegates x to alice).
    let x = Tensor::from_vec(vec![1.0f32, 2.0]).send(&owner[0]).unwrap();
    let x_id = x.id_at_location();
    let chain = x.send(&owner[1]).unwrap();
    assert_eq!(chain.add(&chain).unwrap().get().unwrap().get().unwrap().data(), &[2.0, 4.0]);

    // Another client stores its own pointer to x on alice and asks alice to follow it:
    // bob refuses (alice acts for that client, and x is not its), and x survives.
    let forged = syft_worker::Value::Pointer { location: "bob".into(), id: x_id };
    let p = PointerTensor::store(&other[1], forged).unwrap();
    assert_forbidden(p.neg());
    assert_forbidden(p.backward());
    drop(p); // deleting the forged pointer asks bob to delete x, as that client: refused
    assert_eq!(chain.get().unwrap().get().unwrap().data(), &[1.0, 2.0]);
}

#[test]
fn empty_dimensions_do_not_hide_a_huge_one() {
    let d = start();
    let (_h, w) = d.connect_as("model_owner");
    // [0, 2^34]: no data, but its sum over axis 0 would be 2^34 elements.
    let t = syft_worker::Value::Ring(Tensor::<u64>::from_vec(vec![]).reshape(&[0, 1 << 34]).unwrap());
    match raw(&w[0], &Request::Store { id: 5, value: t }) {
        Err(WorkerError::Remote { error, .. }) if error.kind == RemoteErrorKind::LimitExceeded => {}
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

#[test]
fn approximations_of_granted_weights_stay_unreadable() {
    let d = start();
    let (_mh, mo) = d.connect_as("model_owner");
    let (_dh, dat) = d.connect_as("data_owner");
    let enc = syft_fixed::FixedEncoder::default();
    let s_mo = MpcSession::new(&[&mo[0], &mo[1]], &mo[2]).unwrap();
    let w_plain = Tensor::<f64>::from_vec(vec![0.25, -1.5, 2.0, 0.75]).reshape(&[2, 2]).unwrap();
    let w = SharedTensor::share(&enc.encode(&w_plain).unwrap(), Some(enc), &s_mo).unwrap();
    w.grant("data_owner").unwrap();
    // The crafted input: the identity, so that x · W would be W itself.
    let eye = enc.encode(&Tensor::<f64>::from_vec(vec![1.0, 0.0, 0.0, 1.0]).reshape(&[2, 2]).unwrap()).unwrap();
    // A refused step ends the session (its members would be out of step): each attempt
    // gets a session of its own.
    let fresh = || {
        let s = MpcSession::new(&[&dat[0], &dat[1]], &dat[2]).unwrap();
        let w_do = SharedTensor::from_handle(&w.handle(), &s).unwrap();
        let x = SharedTensor::share(&eye, Some(enc), &s).unwrap();
        (s, w_do, x)
    };

    // On the weights themselves: refused, as ReLU is.
    let (_s, w_do, _x) = fresh();
    assert_forbidden(w_do.exp());
    let (_s, w_do, _x) = fresh();
    assert_forbidden(w_do.softmax());

    // Through the network's layers, softmax and exp are an activation function: the
    // results stay unreadable (so do their sums), and only the decision is the data owner's.
    let (_s, w_do, x) = fresh();
    let p = x.matmul(&w_do).unwrap().softmax().unwrap();
    assert_forbidden(p.clone().get());
    assert_forbidden(p.sum_axis(1, false).unwrap().get());
    assert_eq!(p.argmax(1).unwrap().get().unwrap().into_raw().data(), &[0, 0]);
    let e = x.matmul(&w_do).unwrap().exp().unwrap();
    assert_forbidden(e.clone().get());
    assert_forbidden(e.sum().unwrap().get());

    // The reciprocal and the logarithm are not a layer's: refused on activations, as
    // comparisons are.
    let (_s, w_do, x) = fresh();
    assert_forbidden(x.matmul(&w_do).unwrap().reciprocal(0.5, 8));
    let (_s, w_do, x) = fresh();
    assert_forbidden(x.matmul(&w_do).unwrap().ln(6));

    // Losses combine an activation with the data owner's own targets: refused.
    let own = SharedTensor::share;
    let (s, w_do, x) = fresh();
    let y = own(&eye, Some(enc), &s).unwrap();
    assert_forbidden(x.matmul(&w_do).unwrap().cross_entropy(&y));
    let (s, w_do, x) = fresh();
    let y = own(&eye, Some(enc), &s).unwrap();
    assert_forbidden(x.matmul(&w_do).unwrap().cross_entropy_backward(&y));
    let (s, w_do, x) = fresh();
    let y = own(&eye, Some(enc), &s).unwrap();
    assert_forbidden(x.matmul(&w_do).unwrap().softmax_cross_entropy(&y));
    // Nor as a raw request on the weights' shares (the client's checks bypassed).
    let (s, w_do, _x) = fresh();
    let op = MpcOp::Softmax { shape: vec![2, 2], enc, bits: 32 };
    assert_forbidden(run(&dat[0], s.id(), op, vec![w_do.share_pointers()[0].id_at_location()], vec![901]));

    // The model owner still computes with and reads its weights.
    assert!(w.exp().unwrap().get().is_ok());
}
