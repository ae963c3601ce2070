//! Bad input to workers and pointers: unknown ids, operations across locations, shape
//! errors, use of consumed or moved objects, wrong arity and wrong kinds, malformed and
//! truncated postcard bytes, and pointer chains that lead back to their own worker.
//!
//! Every failure must come back as a typed error, and leave every store exactly as it was
//! (the full listing of every worker is compared before and after).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::{Arc, mpsc};
use std::time::Duration;
use syft_ring::Tensor;
use syft_worker::message::{decode, encode};
use syft_worker::{
    Hub, ObjectId, ObjectInfo, PointerTensor, RemoteErrorKind as K, Request, Response, Sendable, TensorOp, Value,
    VirtualWorker, Worker, WorkerError,
};

type Listing = Vec<(ObjectId, ObjectInfo)>;

fn t(v: &[f32]) -> Tensor<f32> {
    Tensor::from_vec(v.to_vec())
}

fn r(v: &[u64]) -> Tensor<u64> {
    Tensor::from_vec(v.to_vec())
}

fn three() -> (Arc<Hub>, VirtualWorker, VirtualWorker, VirtualWorker) {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let carol = VirtualWorker::new(&hub, "carol").unwrap();
    (hub, bob, alice, carol)
}

fn listings(ws: &[&VirtualWorker]) -> Vec<Listing> {
    ws.iter().map(|w| w.objects().unwrap()).collect()
}

/// The kind of a remote error; anything else fails the test.
#[track_caller]
fn remote<T: std::fmt::Debug>(r: Result<T, WorkerError>) -> K {
    match r {
        Err(WorkerError::Remote { error, .. }) => error.kind,
        other => panic!("expected a remote error, got {other:?}"),
    }
}

/// Sends raw bytes to `w` and decodes the answer.
fn raw(w: &VirtualWorker, bytes: Vec<u8>) -> Response {
    decode(&w.send_raw(bytes).unwrap()).unwrap()
}

/// Sends a typed request as bytes; returns the kind of the error it must produce.
#[track_caller]
fn raw_err(w: &VirtualWorker, request: &Request) -> K {
    match raw(w, encode(request).unwrap()) {
        Response::Err(e) => e.kind,
        other => panic!("expected an error for {}, got {other:?}", request.name()),
    }
}

/// A pointer to `id` on `location` that does not delete anything when dropped.
fn stale(hub: &Arc<Hub>, location: &str, id: ObjectId) -> PointerTensor {
    let p = PointerTensor::attach(hub, location, id).unwrap();
    p.set_garbage_collect_data(false);
    p
}

fn unused_id(ws: &[&VirtualWorker]) -> ObjectId {
    let used: BTreeSet<ObjectId> = listings(ws).into_iter().flatten().map(|(id, _)| id).collect();
    (1..).find(|i| !used.contains(i)).unwrap()
}

#[test]
fn unknown_ids_are_unknown_object_errors() {
    let (hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let x = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
    let y = r(&[1, 2, 3]).send(&alice).unwrap().into_untyped();
    let before = listings(&ws);
    let id = unused_id(&ws);
    let ghost = stale(&hub, "bob", id);

    assert_eq!(remote(ghost.describe()), K::UnknownObject);
    assert_eq!(remote(ghost.shape()), K::UnknownObject);
    assert_eq!(remote(ghost.neg()), K::UnknownObject);
    assert_eq!(remote(x.add(&ghost)), K::UnknownObject);
    assert_eq!(remote(ghost.add(&x)), K::UnknownObject);
    assert_eq!(remote(ghost.backward()), K::UnknownObject);
    assert_eq!(remote(ghost.grad()), K::UnknownObject);
    assert_eq!(remote(ghost.clone().get()), K::UnknownObject);
    assert_eq!(remote(ghost.clone().move_to(&carol)), K::UnknownObject);
    // A failed get does not consume the pointer.
    assert_eq!(remote(ghost.describe()), K::UnknownObject);
    assert_eq!(raw_err(&bob, &Request::Delete { id }), K::UnknownObject);
    assert_eq!(raw_err(&bob, &Request::Describe { id }), K::UnknownObject);
    assert_eq!(raw_err(&bob, &Request::Get { id }), K::UnknownObject);
    assert_eq!(raw_err(&bob, &Request::Move { id, to: "alice".into() }), K::UnknownObject);
    assert_eq!(raw_err(&bob, &Request::Backward { id }), K::UnknownObject);
    assert_eq!(raw_err(&bob, &Request::Grad { id, result: id + 1 }), K::UnknownObject);
    // The id exists, but on another worker.
    assert_eq!(raw_err(&bob, &Request::Get { id: y.id_at_location() }), K::UnknownObject);
    // An unknown worker is caught locally.
    assert!(matches!(PointerTensor::attach(&hub, "dave", 1), Err(WorkerError::UnknownWorker(w)) if w == "dave"));
    assert_eq!(listings(&ws), before);

    drop((x, y, ghost));
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

#[test]
fn operations_across_locations_are_refused() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let a = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
    let c = t(&[1., 2., 3.]).send(&alice).unwrap().into_untyped();
    // alice: a pointer to bob, a pointer to carol, and local data.
    let to_bob = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped().send(&alice).unwrap().into_untyped();
    let to_carol = t(&[1., 2., 3.]).send(&carol).unwrap().into_untyped().send(&alice).unwrap().into_untyped();
    let before = listings(&ws);

    // Caught before anything is sent.
    for e in [a.add(&c).unwrap_err(), c.mul(&a).unwrap_err(), a.matmul(&to_bob).unwrap_err()] {
        match e {
            WorkerError::LocationMismatch { lhs, rhs, .. } => assert_ne!(lhs, rhs),
            other => panic!("expected LocationMismatch, got {other:?}"),
        }
    }
    // Both operands are on alice, but they point to different workers.
    assert_eq!(remote(to_bob.add(&to_carol)), K::LocationMismatch);
    assert_eq!(remote(to_carol.sub(&to_bob)), K::LocationMismatch);
    // A pointer mixed with data: the pointer first is a location mismatch, the data first
    // a kind mismatch.
    assert_eq!(remote(to_bob.add(&c)), K::LocationMismatch);
    assert_eq!(remote(c.add(&to_bob)), K::WrongKind);
    assert_eq!(listings(&ws), before);

    drop((a, c, to_bob, to_carol));
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

#[test]
fn shape_errors_on_remote_ops_are_compute_errors() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let a = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
    let b = t(&[1., 2.]).send(&bob).unwrap().into_untyped();
    let m = Tensor::<f32>::new(&[2, 3], vec![1.; 6]).unwrap().send(&bob).unwrap().into_untyped();
    let ra = r(&[1, 2, 3]).send(&bob).unwrap().into_untyped();
    let rb = r(&[1, 2]).send(&bob).unwrap().into_untyped();
    let rm = Tensor::<u64>::new(&[2, 3], vec![1; 6]).unwrap().send(&bob).unwrap().into_untyped();
    // The same through a chain: bob holds the data, alice the pointers.
    let ca = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped().send(&alice).unwrap().into_untyped();
    let cb = t(&[1., 2.]).send(&bob).unwrap().into_untyped().send(&alice).unwrap().into_untyped();
    let before = listings(&ws);

    assert_eq!(remote(a.add(&b)), K::Compute);
    assert_eq!(remote(a.mul(&b)), K::Compute);
    assert_eq!(remote(m.matmul(&m)), K::Compute);
    assert_eq!(remote(a.reshape(&[2, 2])), K::Compute);
    assert_eq!(remote(a.sum_axis(3, false)), K::Compute);
    assert_eq!(remote(ra.sub(&rb)), K::Compute);
    assert_eq!(remote(rm.matmul(&rm)), K::Compute);
    assert_eq!(remote(ra.reshape(&[4])), K::Compute);
    // The error comes back through alice with its kind intact.
    match ca.add(&cb) {
        Err(WorkerError::Remote { worker, error }) => {
            assert_eq!((worker.as_str(), error.kind), ("alice", K::Compute), "{error}");
        }
        other => panic!("expected a remote error, got {other:?}"),
    }
    assert_eq!(listings(&ws), before);
    drop((a, b, m, ra, rb, rm, ca, cb));
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

#[test]
fn a_moved_object_cannot_be_fetched_from_its_old_place() {
    let (hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let x = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
    let id = x.id_at_location();
    let clone = x.clone();
    let old = stale(&hub, "bob", id);
    let moved = x.move_to(&alice).unwrap();
    assert_eq!(moved.to_string(), format!("{id}@alice"));
    let before = listings(&ws);
    assert_eq!(before[0], Vec::new());

    // The clone shares the consumed flag: nothing is sent.
    assert!(matches!(clone.describe(), Err(WorkerError::Consumed { id: i, .. }) if i == id));
    assert!(matches!(clone.neg(), Err(WorkerError::Consumed { .. })));
    assert!(matches!(moved.add(&clone), Err(WorkerError::LocationMismatch { .. })));
    assert!(matches!(clone.clone().move_to(&carol), Err(WorkerError::Consumed { .. })));
    assert!(matches!(clone.clone().send(&carol), Err(WorkerError::Consumed { .. })));
    assert!(matches!(clone.get(), Err(WorkerError::Consumed { .. })));
    // A pointer to the old place finds nothing there.
    assert_eq!(remote(old.clone().get()), K::UnknownObject);
    assert_eq!(raw_err(&bob, &Request::Move { id, to: "carol".into() }), K::UnknownObject);
    assert_eq!(listings(&ws), before);

    // The object itself is intact where it went.
    assert_eq!(moved.get().unwrap().into_tensor().unwrap().data(), &[1., 2., 3.]);
    drop(old);
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

#[test]
fn a_failed_move_leaves_both_stores_unchanged() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let x = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
    let id = x.id_at_location();
    // alice already holds an object under the same id.
    let clash = Request::Store { id, value: Value::Ring(r(&[7])) };
    assert!(matches!(raw(&alice, encode(&clash).unwrap()), Response::Ok));
    let before = listings(&ws);
    assert_eq!(remote(x.clone().move_to(&alice)), K::BadRequest);
    assert_eq!(raw_err(&bob, &Request::Move { id, to: "nobody".into() }), K::Unreachable);
    assert_eq!(listings(&ws), before);
    // The pointer is still live.
    assert_eq!(x.describe().unwrap().shape, vec![3]);
    assert!(matches!(raw(&alice, encode(&Request::Delete { id }).unwrap()), Response::Ok));
    drop(x);
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

#[test]
fn wrong_arity_and_existing_result_ids_are_bad_requests() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let a = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
    let b = t(&[4., 5., 6.]).send(&bob).unwrap().into_untyped();
    let (ia, ib) = (a.id_at_location(), b.id_at_location());
    let chain = t(&[1., 2., 3.]).send(&carol).unwrap().into_untyped().send(&bob).unwrap().into_untyped();
    let ic = chain.id_at_location();
    let before = listings(&ws);
    let fresh = unused_id(&ws);

    let op = |op: TensorOp, args: Vec<ObjectId>, result: ObjectId| Request::Op { op, args, result };
    for request in [
        op(TensorOp::Add, vec![ia], fresh),
        op(TensorOp::Add, vec![ia, ib, ia], fresh),
        op(TensorOp::Neg, vec![ia, ib], fresh),
        op(TensorOp::Sum, vec![], fresh),
        op(TensorOp::MatMul, vec![], fresh),
        op(TensorOp::CrossEntropy, vec![ia], fresh),
        op(TensorOp::Neg, vec![ic, ic], fresh),
        // The result id is taken: the existing object must survive.
        op(TensorOp::Add, vec![ia, ib], ib),
        op(TensorOp::Neg, vec![ic], ia),
        Request::Store { id: ia, value: Value::Ring(r(&[1, 2])) },
        Request::Grad { id: ia, result: ib },
    ] {
        assert_eq!(raw_err(&bob, &request), K::BadRequest, "{request:?}");
    }
    assert_eq!(listings(&ws), before);
    assert_eq!(b.get().unwrap().into_tensor().unwrap().data(), &[4., 5., 6.]);
    drop((a, chain));
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

#[test]
fn wrong_kinds_are_typed_errors() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let f = t(&[1., -2., 3.]).send(&bob).unwrap().into_untyped();
    let s = Tensor::scalar(2.0f32).send(&bob).unwrap().into_untyped();
    let ring = r(&[1, 2, 3]).send(&bob).unwrap().into_untyped();
    let to_ring = r(&[1, 2, 3]).send(&carol).unwrap().into_untyped().send(&bob).unwrap().into_untyped();
    let before = listings(&ws);

    assert_eq!(remote(f.add(&ring)), K::WrongKind);
    assert_eq!(remote(ring.add(&f)), K::WrongKind);
    assert_eq!(remote(ring.mul(&to_ring)), K::WrongKind);
    assert_eq!(remote(f.mul(&to_ring)), K::WrongKind);
    assert_eq!(remote(ring.backward()), K::WrongKind);
    assert_eq!(remote(ring.grad()), K::WrongKind);
    // Through a chain, the kind of the answer from carol comes back.
    assert_eq!(remote(to_ring.backward()), K::WrongKind);
    assert_eq!(remote(to_ring.grad()), K::WrongKind);
    // Autograd misuse on floats: no gradient yet, backward from a non-scalar, backward
    // without a graph.
    assert_eq!(remote(f.grad()), K::Compute);
    assert_eq!(remote(f.backward()), K::Compute);
    assert_eq!(remote(s.backward()), K::Compute);
    // Kinds are checked by a `get`'s caller too.
    assert!(matches!(ring.describe().map(|i| i.kind), Ok(syft_worker::ObjectKind::Ring)));
    assert_eq!(listings(&ws), before);
    assert!(matches!(ring.get().unwrap().into_float(), Err(WorkerError::InvalidArgument { .. })));
    drop((f, s, to_ring));
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

/// Float-only operations on a ring tensor: the object has the wrong kind for the
/// request, so the error kind should say so (`WrongKind`, not `Compute`).
#[test]
fn float_only_ops_on_ring_tensors_are_wrong_kind_errors() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let ring = Tensor::<u64>::new(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap().send(&bob).unwrap().into_untyped();
    let before = listings(&ws);
    let results = [
        ("relu", remote(ring.relu())),
        ("mean", remote(ring.mean())),
        ("mul_scalar", remote(ring.mul_scalar(2.0))),
        ("log_softmax", remote(ring.log_softmax(1))),
        ("cross_entropy", remote(ring.cross_entropy(&ring))),
    ];
    assert_eq!(listings(&ws), before);
    for (op, kind) in results {
        assert_eq!(kind, K::WrongKind, "{op} on a ring tensor");
    }
}

/// A valid `Store` request, and the offset of its tensor's encoding in it.
fn store_request(id: ObjectId) -> (Vec<u8>, usize) {
    let tensor = r(&[10, 20]);
    let bytes = encode(&Request::Store { id, value: Value::Ring(tensor.clone()) }).unwrap();
    let tail = encode(&tensor).unwrap();
    assert!(bytes.ends_with(&tail));
    let at = bytes.len() - tail.len();
    (bytes, at)
}

#[test]
fn malformed_and_truncated_bytes_are_bad_requests() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let _x = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
    let _y = r(&[4, 5]).send(&bob).unwrap().into_untyped();
    let before = listings(&ws);
    let id = unused_id(&ws);
    let (store, at) = store_request(id);

    let mut inputs: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("garbage".into(), vec![0xff, 0xff, 0xff]),
        ("unknown request variant".into(), vec![200]),
        ("unknown value variant".into(), [&store[..at - 1], &[9], &store[at..]].concat()),
    ];
    // Every strict prefix of a valid request.
    inputs.extend((0..store.len()).map(|n| (format!("truncated to {n} bytes"), store[..n].to_vec())));
    // The shape says 3 elements, the payload holds 2.
    let mut wrong_len = store.clone();
    wrong_len[at + 1] = 3;
    inputs.push(("payload shorter than the shape".into(), wrong_len));
    // A shape whose element count overflows, with an empty payload.
    let mut huge = store[..at].to_vec();
    huge.extend([2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x00]);
    inputs.push(("overflowing shape".into(), huge));
    // A payload length prefix far beyond the message.
    let mut long = store[..at + 2].to_vec();
    long.extend([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
    inputs.push(("payload length beyond the message".into(), long));

    for (what, bytes) in inputs {
        match raw(&bob, bytes) {
            Response::Err(e) => assert_eq!(e.kind, K::BadRequest, "{what}: {e}"),
            other => panic!("{what}: expected an error, got {other:?}"),
        }
        assert_eq!(listings(&ws), before, "{what}");
    }
    // The untouched request still works afterwards.
    assert!(matches!(raw(&bob, store), Response::Ok));
    assert_eq!(bob.object_count().unwrap(), 3);
}

/// A request followed by extra bytes is malformed too (postcard's `from_bytes` ignores
/// what follows the value).
#[test]
fn trailing_bytes_after_a_request_are_rejected() {
    let (_hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let before = listings(&ws);
    let (mut store, _) = store_request(unused_id(&ws));
    store.extend([0xde, 0xad]);
    let response = raw(&bob, store);
    let after = listings(&ws);
    assert!(matches!(&response, Response::Err(e) if e.kind == K::BadRequest), "got {response:?}");
    assert_eq!(after, before);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Random bytes never crash a worker: unless they happen to decode as a request, the
    /// answer is a bad-request error and the store is unchanged.
    #[test]
    fn random_bytes_are_answered(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let hub = Hub::new();
        let bob = VirtualWorker::new(&hub, "bob").unwrap();
        let _x = t(&[1., 2.]).send(&bob).unwrap().into_untyped();
        let before = bob.objects().unwrap();
        // Bytes that happen to decode are a valid request (possibly a multi-party one that
        // would wait for peers): not this test's business.
        if decode::<Request>(&bytes).is_err() {
            let response = raw(&bob, bytes);
            prop_assert!(matches!(&response, Response::Err(e) if e.kind == K::BadRequest), "{:?}", response);
            prop_assert_eq!(bob.objects().unwrap(), before);
        }
    }
}

/// Runs `f` on its own thread and fails if it does not finish in 10 s.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: no answer after 10 s (deadlock)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the scenario panicked (see above)"),
    }
}

/// A pointer on bob to bob's own object: either refused when it is sent, or usable
/// (operations, `get`, garbage collection) without hanging.
#[test]
fn a_pointer_to_its_own_worker_does_not_hang() {
    within("pointer from bob to bob", || {
        let hub = Hub::new();
        let bob = VirtualWorker::new(&hub, "bob").unwrap();
        let x = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped();
        if let Ok(p) = x.send(&bob) {
            let y = p.neg().unwrap();
            let inner = y.get().unwrap().into_pointer().unwrap();
            assert_eq!(inner.get().unwrap().into_tensor().unwrap().data(), &[-1., -2., -3.]);
            drop(p);
        }
        assert_eq!(bob.object_count().unwrap(), 0);
    });
}

/// A chain bob → alice → bob: either refused, or usable without hanging.
#[test]
fn a_chain_back_to_its_first_worker_does_not_hang() {
    within("chain bob -> alice -> bob", || {
        let hub = Hub::new();
        let bob = VirtualWorker::new(&hub, "bob").unwrap();
        let alice = VirtualWorker::new(&hub, "alice").unwrap();
        let x = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped().send(&alice).unwrap().into_untyped();
        if let Ok(p) = x.send(&bob) {
            let y = p.add(&p).unwrap();
            let data = y.get().unwrap().into_pointer().unwrap().get().unwrap().into_pointer().unwrap().get().unwrap();
            assert_eq!(data.into_tensor().unwrap().data(), &[2., 4., 6.]);
            drop(p);
        }
        assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 0));
    });
}

/// Moving alice's pointer (to bob's data) onto bob makes a pointer from bob to bob:
/// either refused, or usable without hanging.
#[test]
fn moving_a_pointer_onto_its_target_worker_does_not_hang() {
    within("move alice's pointer to bob onto bob", || {
        let hub = Hub::new();
        let bob = VirtualWorker::new(&hub, "bob").unwrap();
        let alice = VirtualWorker::new(&hub, "alice").unwrap();
        let p = t(&[1., 2., 3.]).send(&bob).unwrap().into_untyped().send(&alice).unwrap().into_untyped();
        match p.clone().move_to(&bob) {
            Ok(q) => {
                assert_eq!(
                    q.neg()
                        .unwrap()
                        .get()
                        .unwrap()
                        .into_pointer()
                        .unwrap()
                        .get()
                        .unwrap()
                        .into_tensor()
                        .unwrap()
                        .data(),
                    &[-1., -2., -3.]
                );
                drop(q);
            }
            Err(_) => drop(p),
        }
        assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 0));
    });
}

#[test]
fn a_stored_pointer_to_an_unknown_worker_is_unreachable() {
    let (hub, bob, alice, carol) = three();
    let ws = [&bob, &alice, &carol];
    let id = unused_id(&ws);
    let dangling = Request::Store { id, value: Value::Pointer { location: "nobody".into(), id: 1 } };
    match raw(&bob, encode(&dangling).unwrap()) {
        // Refusing it up front is fine too.
        Response::Err(e) => assert_eq!(e.kind, K::BadRequest),
        _ => {
            let p = PointerTensor::attach(&hub, "bob", id).unwrap();
            let before = listings(&ws);
            assert_eq!(remote(p.neg()), K::Unreachable);
            assert_eq!(remote(p.backward()), K::Unreachable);
            assert_eq!(remote(p.grad()), K::Unreachable);
            assert_eq!(listings(&ws), before);
            drop(p);
        }
    }
    assert_eq!(listings(&ws), vec![Vec::new(); 3]);
}

#[test]
fn bad_input_is_a_typed_error_and_leaves_stores_unchanged() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let a = Tensor::from_vec(vec![1.0f32, 2., 3.]).send(&bob).unwrap().into_untyped();
    let b = Tensor::from_vec(vec![1.0f32, 2.]).send(&bob).unwrap().into_untyped();
    let c = Tensor::from_vec(vec![1.0f32, 2., 3.]).send(&alice).unwrap().into_untyped();
    // Operation across locations.
    assert!(matches!(a.add(&c), Err(syft_worker::WorkerError::LocationMismatch { .. })));
    // Shape error on a remote op.
    assert!(matches!(a.add(&b), Err(syft_worker::WorkerError::Remote { .. })));
    assert_eq!(bob.object_count().unwrap(), 2);
    // Unknown id.
    let ghost = syft_worker::PointerTensor::attach(&hub, "bob", 12345).unwrap();
    ghost.set_garbage_collect_data(false);
    assert!(ghost.describe().is_err());
    // Get of an already-moved object through a stale pointer to the old location.
    let stale = syft_worker::PointerTensor::attach(&hub, "bob", c.id_at_location()).unwrap();
    stale.set_garbage_collect_data(false);
    let moved = a.move_to(&alice).unwrap();
    let stale_a = syft_worker::PointerTensor::attach(&hub, "bob", moved.id_at_location()).unwrap();
    stale_a.set_garbage_collect_data(false);
    assert!(stale_a.get().is_err());
    assert_eq!(bob.object_count().unwrap(), 1);
    assert_eq!(alice.object_count().unwrap(), 2);
    // Malformed bytes.
    let reply = bob.send_raw(vec![0xff, 0xff, 0xff]).unwrap();
    let resp: syft_worker::Response = syft_worker::message::decode(&reply).unwrap();
    assert!(matches!(resp, syft_worker::Response::Err(_)));
    assert_eq!(bob.object_count().unwrap(), 1);
    drop(stale);
}

/// A scaling by a public scalar names the operand's shape (the crypto provider deals the
/// rescaling's material from it): a party refuses a shape other than its share's, the
/// crypto provider refuses one past its limits before allocating, and nothing is stored.
#[test]
fn a_scalar_product_naming_the_wrong_shape_is_refused() {
    use syft_worker::mpc::MpcRequest;
    use syft_worker::{MpcOp, MpcSession, SharedTensor};
    let (_hub, bob, alice, carol) = three();
    let session = MpcSession::new(&[&bob, &alice], &carol).unwrap();
    let enc = syft_fixed::FixedEncoder::default();
    let x =
        SharedTensor::share(&enc.encode(&Tensor::<f64>::from_vec(vec![1.5, -2.0, 0.25])).unwrap(), Some(enc), &session)
            .unwrap();
    // The honest path first: the learning-rate scaling of SGD.
    assert_eq!(x.mul_scalar(0.5).unwrap().get().unwrap().float_precision().data(), &[0.75, -1.0, 0.125]);
    assert_eq!(x.mul_int(-3).unwrap().get().unwrap().float_precision().data(), &[-4.5, 6.0, -0.75]);
    let before = listings(&[&bob, &alice, &carol]);
    let share = x.share_pointers()[0].id_at_location();
    let fresh = unused_id(&[&bob, &alice, &carol]);
    for scale in [1u64, 1 << 10] {
        let op = MpcOp::MulScalar { c: 3, scale, shape: vec![4] };
        let run = Request::Mpc(MpcRequest::Run { session: session.id(), op, args: vec![share], results: vec![fresh] });
        assert_eq!(raw_err(&bob, &run), K::BadRequest, "scale {scale}");
    }
    let huge = MpcOp::MulScalar { c: 3, scale: 1 << 10, shape: vec![1 << 20, 1 << 20] };
    let run = Request::Mpc(MpcRequest::Run { session: session.id(), op: huge, args: vec![], results: vec![] });
    assert_eq!(raw_err(&carol, &run), K::LimitExceeded);
    assert_eq!(listings(&[&bob, &alice, &carol]), before);
    assert_eq!(x.get().unwrap().float_precision().data(), &[1.5, -2.0, 0.25]);
}
