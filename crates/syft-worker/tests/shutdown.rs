//! A virtual worker stopped with `shutdown`: every later request through its pointers or
//! its handle fails with a transport error (never a panic or a hang), it leaves the hub so
//! its name can be taken again, and stopping twice does nothing.

#![allow(clippy::unwrap_used, reason = "test code")]

use syft_ring::Tensor;
use syft_worker::{Hub, Sendable, VirtualWorker, Worker, WorkerError};

#[test]
fn requests_to_a_shut_down_worker_fail_with_a_transport_error() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let x = Tensor::from_vec(vec![1.0f32, 2.0]).send(&bob).unwrap();
    assert_eq!(bob.object_count().unwrap(), 1);
    bob.shutdown();
    assert!(bob.is_shut_down());
    let e = x.add(&x).unwrap_err();
    assert!(matches!(e, WorkerError::Transport { ref worker, .. } if worker == "bob"), "{e:?}");
    assert!(matches!(bob.object_count(), Err(WorkerError::Transport { .. })));
    assert!(matches!(x.get(), Err(WorkerError::Transport { .. })));
    assert!(matches!(Tensor::from_vec(vec![1.0f32]).send(&bob), Err(WorkerError::Transport { .. })));
    bob.shutdown();
}

#[test]
fn a_shut_down_worker_leaves_the_hub_and_its_name_can_be_taken_again() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    let x = Tensor::from_vec(vec![1.0f32]).send(&bob).unwrap();
    bob.shutdown();
    assert!(matches!(hub.get("bob"), Err(WorkerError::UnknownWorker(_))));
    let bob2 = VirtualWorker::new(&hub, "bob").unwrap();
    // Dropping the old handle and its pointer leaves the new worker registered.
    drop((x, bob));
    let y = Tensor::from_vec(vec![3.0f32]).send(&bob2).unwrap();
    assert_eq!(y.get().unwrap().data(), &[3.0]);
    assert!(hub.get("bob").is_ok());
}
