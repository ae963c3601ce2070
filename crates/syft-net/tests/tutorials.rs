//! The remote-execution tutorials against worker processes over TLS: Part 1 (basic tools)
//! and Part 3 (pointer chains and `move`), cell by cell as in syft-worker's in-process
//! tests, plus a pointer to a worker's own object (served re-entrantly).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;

use std::collections::BTreeSet;
use syft_net::NetworkWorker;
use syft_ring::Tensor;
use syft_worker::{Fetched, Hub, LOCAL_WORKER, ObjectId, ObjectKind, Sendable, Worker};

fn t(v: &[f32]) -> Tensor<f32> {
    Tensor::from_vec(v.to_vec())
}

fn ids(w: &NetworkWorker) -> BTreeSet<ObjectId> {
    w.objects().unwrap().into_iter().map(|(id, _)| id).collect()
}

#[test]
fn part1_basic_tools() {
    let hub = Hub::new();
    let cluster = common::cluster(&["bob"], &hub);
    let bob = cluster.worker("bob").unwrap();

    let x = t(&[1., 2., 3., 4., 5.]);
    let y = t(&[1., 1., 1., 1., 1.]);
    let x_ptr = x.send(bob).unwrap();
    let y_ptr = y.send(bob).unwrap();
    assert_eq!(ids(bob), BTreeSet::from([x_ptr.id_at_location(), y_ptr.id_at_location()]));

    let z = x_ptr.add(&x_ptr).unwrap();
    assert_eq!(z.location(), "bob");
    assert_eq!(bob.object_count().unwrap(), 3);
    assert_eq!(x_ptr.location(), bob.id());
    assert_eq!(x_ptr.owner(), LOCAL_WORKER);
    assert_eq!(format!("{x_ptr}"), format!("{}@bob", x_ptr.id_at_location()));

    assert_eq!(x_ptr.get().unwrap().into_tensor().unwrap().data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(bob.object_count().unwrap(), 2);
    assert_eq!(y_ptr.get().unwrap().into_tensor().unwrap().data(), &[1., 1., 1., 1., 1.]);
    assert_eq!(z.get().unwrap().into_tensor().unwrap().data(), &[2., 4., 6., 8., 10.]);
    assert_eq!(bob.object_count().unwrap(), 0);

    let x = t(&[1., 2., 3., 4., 5.]).send(bob).unwrap();
    let y = t(&[1., 1., 1., 1., 1.]).send(bob).unwrap();
    let z = x.add(&y).unwrap();
    assert_eq!(z.get().unwrap().into_tensor().unwrap().data(), &[2., 3., 4., 5., 6.]);
    drop((x, y));
    assert_eq!(bob.object_count().unwrap(), 0, "dropped pointers delete their objects");

    // Remote autograd.
    let be = syft_autograd::Cpu::<f32>::default();
    let x = syft_autograd::Var::new(&be, t(&[1., 2., 3., 4., 5.]), true).send(bob).unwrap();
    let y = syft_autograd::Var::new(&be, t(&[1., 1., 1., 1., 1.]), true).send(bob).unwrap();
    let z = x.add(&y).unwrap().sum().unwrap();
    z.backward().unwrap();
    let x = x.get().unwrap().into_float().unwrap();
    assert_eq!(x.value().data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(x.grad().unwrap().data(), &[1., 1., 1., 1., 1.]);
    let gy = y.grad().unwrap();
    assert_eq!(gy.get().unwrap().into_tensor().unwrap().data(), &[1., 1., 1., 1., 1.]);

    // Malformed bytes get an error response, and the store is untouched.
    drop((y, z));
    let reply = bob.send_raw(vec![0xff, 0xff, 0xff]).unwrap();
    let resp: syft_worker::Response = syft_worker::message::decode(&reply).unwrap();
    assert!(matches!(resp, syft_worker::Response::Err(_)));
    assert_eq!(bob.object_count().unwrap(), 0);
}

#[test]
fn part3_pointer_chains_and_move() {
    let hub = Hub::new();
    let cluster = common::cluster(&["bob", "alice"], &hub);
    let (bob, alice) = (cluster.worker("bob").unwrap(), cluster.worker("alice").unwrap());

    // x_ptr = x.send(bob); pointer_to_x_ptr = x_ptr.send(alice)
    let x_ptr = t(&[1., 2., 3., 4.]).send(bob).unwrap();
    let data_id = x_ptr.id_at_location();
    let pointer_to_x_ptr = x_ptr.send(alice).unwrap();
    assert_eq!(pointer_to_x_ptr.location(), "alice");
    assert_eq!(ids(bob), BTreeSet::from([data_id]));
    let alice_objs = alice.objects().unwrap();
    assert_eq!(alice_objs.len(), 1);
    assert_eq!(alice_objs[0].1.kind, ObjectKind::Pointer { location: "bob".into(), id: data_id });

    // x_ptr = pointer_to_x_ptr.get(): alice's pointer comes back; bob keeps the data
    let x_ptr = pointer_to_x_ptr.get().unwrap().into_pointer().unwrap();
    assert_eq!(alice.object_count().unwrap(), 0);
    assert_eq!(bob.object_count().unwrap(), 1);
    assert_eq!(x_ptr.get().unwrap().into_tensor().unwrap().data(), &[1., 2., 3., 4.]);
    assert_eq!(bob.object_count().unwrap(), 0);

    // Arithmetic through pointer -> pointer -> data: alice forwards to bob directly.
    let p2p2x = t(&[1., 2., 3., 4., 5.]).send(bob).unwrap().send(alice).unwrap();
    let y = p2p2x.add(&p2p2x).unwrap();
    assert_eq!(bob.object_count().unwrap(), 2, "bob holds x and the sum");
    assert_eq!(alice.object_count().unwrap(), 2, "alice holds two pointers");
    let inner = y.get().unwrap().into_pointer().unwrap();
    assert_eq!(inner.get().unwrap().into_tensor().unwrap().data(), &[2., 4., 6., 8., 10.]);
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 1));
    let x = p2p2x.get().unwrap().into_pointer().unwrap().get().unwrap().into_tensor().unwrap();
    assert_eq!(x.data(), &[1., 2., 3., 4., 5.]);
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 0));

    // x = x.move(alice): bob sends the data to alice directly
    let x = t(&[1., 2., 3., 4., 5.]).send(bob).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 0));
    let x = x.move_to(alice).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 1));
    assert_eq!(x.location(), "alice");
    assert!(matches!(x.get().unwrap(), Fetched::Float(_)));
    assert_eq!(alice.object_count().unwrap(), 0);

    // Dropping a pointer chain deletes along it, worker to worker.
    let chain = t(&[1.]).send(bob).unwrap().send(alice).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 1));
    drop(chain);
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 0));
}

#[test]
fn a_pointer_to_the_workers_own_object_is_served_reentrantly() {
    let hub = Hub::new();
    let cluster = common::cluster(&["bob"], &hub);
    let bob = cluster.worker("bob").unwrap();
    // bob holds x, and a pointer to x: an operation on the pointer is forwarded to bob
    // itself while bob is busy with it.
    let p = t(&[1., 2.]).send(bob).unwrap().send(bob).unwrap();
    let y = p.add(&p).unwrap();
    let inner = y.get().unwrap().into_pointer().unwrap();
    assert_eq!(inner.location(), "bob");
    assert_eq!(inner.get().unwrap().into_tensor().unwrap().data(), &[2., 4.]);
    drop(p);
    assert_eq!(bob.object_count().unwrap(), 0);
}
