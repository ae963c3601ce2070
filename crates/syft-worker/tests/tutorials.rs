//! The remote-execution tutorials, cell by cell: Part 1 (basic tools) and Part 3
//! (pointer chains and `move`), with the observable state asserted after each cell.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::BTreeSet;
use syft_ring::Tensor;
use syft_worker::{Fetched, Hub, LOCAL_WORKER, ObjectId, ObjectKind, Sendable, VirtualWorker, Worker};

fn t(v: &[f32]) -> Tensor<f32> {
    Tensor::from_vec(v.to_vec())
}

fn ids(w: &VirtualWorker) -> BTreeSet<ObjectId> {
    w.objects().unwrap().into_iter().map(|(id, _)| id).collect()
}

#[test]
fn part1_basic_tools() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();

    // x = torch.tensor([1,2,3,4,5]); y = x + x  (local)
    let x = t(&[1., 2., 3., 4., 5.]);
    assert_eq!(x.add(&x).unwrap().data(), &[2., 4., 6., 8., 10.]);

    // x_ptr = x.send(bob); y_ptr = y.send(bob)
    let y = t(&[1., 1., 1., 1., 1.]);
    let x_ptr = x.send(&bob).unwrap();
    let y_ptr = y.send(&bob).unwrap();
    // bob._objects holds both
    assert_eq!(ids(&bob), BTreeSet::from([x_ptr.id_at_location(), y_ptr.id_at_location()]));

    // z = x_ptr + x_ptr: computed on bob, result stays there
    let z = x_ptr.add(&x_ptr).unwrap();
    assert_eq!(z.location(), "bob");
    assert_eq!(bob.object_count().unwrap(), 3);

    // pointer metadata
    assert_eq!(x_ptr.location(), bob.id());
    assert_eq!(x_ptr.owner(), LOCAL_WORKER);
    assert_ne!(x_ptr.id(), x_ptr.id_at_location());
    assert_eq!(format!("{x_ptr}"), format!("{}@bob", x_ptr.id_at_location()));

    // x_ptr.get(), y_ptr.get(), z.get(): each removes the object from bob
    assert_eq!(x_ptr.get().unwrap().into_tensor().unwrap().data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(bob.object_count().unwrap(), 2);
    assert_eq!(y_ptr.get().unwrap().into_tensor().unwrap().data(), &[1., 1., 1., 1., 1.]);
    assert_eq!(z.get().unwrap().into_tensor().unwrap().data(), &[2., 4., 6., 8., 10.]);
    assert_eq!(bob.object_count().unwrap(), 0);

    // Using torch functions: z = torch.add(x, y) on pointers
    let x = t(&[1., 2., 3., 4., 5.]).send(&bob).unwrap();
    let y = t(&[1., 1., 1., 1., 1.]).send(&bob).unwrap();
    let z = x.add(&y).unwrap();
    assert_eq!(z.get().unwrap().into_tensor().unwrap().data(), &[2., 3., 4., 5., 6.]);
    drop((x, y));
    assert_eq!(bob.object_count().unwrap(), 0, "dropped pointers delete their objects");

    // Remote autograd: x, y with requires_grad on bob; z = (x + y).sum(); z.backward()
    let be = syft_autograd::Cpu::<f32>::default();
    let x = syft_autograd::Var::new(&be, t(&[1., 2., 3., 4., 5.]), true).send(&bob).unwrap();
    let y = syft_autograd::Var::new(&be, t(&[1., 1., 1., 1., 1.]), true).send(&bob).unwrap();
    let z = x.add(&y).unwrap().sum().unwrap();
    z.backward().unwrap();
    let x = x.get().unwrap().into_float().unwrap();
    assert_eq!(x.value().data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(x.grad().unwrap().data(), &[1., 1., 1., 1., 1.]);
    // The gradient is also reachable as a pointer on bob.
    let gy = y.grad().unwrap();
    assert_eq!(gy.get().unwrap().into_tensor().unwrap().data(), &[1., 1., 1., 1., 1.]);
}

#[test]
fn part3_pointer_chains_and_move() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();

    // x_ptr = x.send(bob); pointer_to_x_ptr = x_ptr.send(alice)
    let x_ptr = t(&[1., 2., 3., 4.]).send(&bob).unwrap();
    let data_id = x_ptr.id_at_location();
    let pointer_to_x_ptr = x_ptr.send(&alice).unwrap();
    assert_eq!(pointer_to_x_ptr.location(), "alice");
    // bob holds the data, alice holds a pointer to it
    assert_eq!(ids(&bob), BTreeSet::from([data_id]));
    let alice_objs = alice.objects().unwrap();
    assert_eq!(alice_objs.len(), 1);
    assert_eq!(alice_objs[0].1.kind, ObjectKind::Pointer { location: "bob".into(), id: data_id });

    // x_ptr = pointer_to_x_ptr.get(): alice's pointer comes back; bob keeps the data
    let x_ptr = pointer_to_x_ptr.get().unwrap().into_pointer().unwrap();
    assert_eq!(x_ptr.location(), "bob");
    assert_eq!(alice.object_count().unwrap(), 0);
    assert_eq!(bob.object_count().unwrap(), 1);
    // x = x_ptr.get()
    assert_eq!(x_ptr.get().unwrap().into_tensor().unwrap().data(), &[1., 2., 3., 4.]);
    assert_eq!(bob.object_count().unwrap(), 0);

    // Arithmetic through pointer -> pointer -> data
    let p2p2x = t(&[1., 2., 3., 4., 5.]).send(&bob).unwrap().send(&alice).unwrap();
    let y = p2p2x.add(&p2p2x).unwrap();
    assert_eq!(bob.object_count().unwrap(), 2, "bob holds x and the sum");
    assert_eq!(alice.object_count().unwrap(), 2, "alice holds two pointers");
    let inner = y.get().unwrap().into_pointer().unwrap();
    assert_eq!(inner.get().unwrap().into_tensor().unwrap().data(), &[2., 4., 6., 8., 10.]);
    assert_eq!(bob.object_count().unwrap(), 1);
    assert_eq!(alice.object_count().unwrap(), 1);
    let x = p2p2x.get().unwrap().into_pointer().unwrap().get().unwrap().into_tensor().unwrap();
    assert_eq!(x.data(), &[1., 2., 3., 4., 5.]);
    assert_eq!(bob.object_count().unwrap(), 0);
    assert_eq!(alice.object_count().unwrap(), 0);

    // x = x.move(alice): the data goes from bob to alice directly
    let x = t(&[1., 2., 3., 4., 5.]).send(&bob).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (1, 0));
    let x = x.move_to(&alice).unwrap();
    assert_eq!((bob.object_count().unwrap(), alice.object_count().unwrap()), (0, 1));
    assert_eq!(x.location(), "alice");
    assert!(matches!(x.get().unwrap(), Fetched::Float(_)));
    assert_eq!(alice.object_count().unwrap(), 0);
}

#[test]
fn bad_input_is_a_typed_error_and_leaves_stores_unchanged() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let alice = VirtualWorker::new(&hub, "alice").unwrap();
    let a = t(&[1., 2., 3.]).send(&bob).unwrap();
    let b = t(&[1., 2.]).send(&bob).unwrap();
    let c = t(&[1., 2., 3.]).send(&alice).unwrap();
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
