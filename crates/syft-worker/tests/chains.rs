//! Pointer chains of every shape up to depth 5: every sequence of locations over three
//! workers, through the same worker any number of times (a pointer on alice to a pointer on
//! alice to a tensor on alice), answers an operation, `get` and `drop` without deadlock,
//! and leaves no object behind.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use syft_ring::Tensor;
use syft_worker::{Hub, PointerTensor, Sendable, VirtualWorker, Worker};

/// Every sequence of `len` worker indices out of `n`.
fn sequences(n: usize, len: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for _ in 0..len {
        out = out.into_iter().flat_map(|s| (0..n).map(move |w| [s.clone(), vec![w]].concat())).collect();
    }
    out
}

/// `get` down a chain to its data, one hop at a time.
fn fetch_down(mut p: PointerTensor, hops: usize) -> Vec<f32> {
    for _ in 0..hops {
        p = p.get().unwrap().into_pointer().unwrap();
    }
    p.get().unwrap().into_tensor().unwrap().data().to_vec()
}

#[test]
fn chains_of_every_shape_up_to_depth_five_answer_and_clean_up() {
    let hub = Hub::new();
    let workers: Vec<VirtualWorker> =
        ["bob", "alice", "carol"].iter().map(|n| VirtualWorker::new(&hub, n).unwrap()).collect();
    let mut chains = 0;
    for depth in 1..=5 {
        for seq in sequences(workers.len(), depth) {
            // The data on seq[0]; then a pointer to it sent to seq[1], that one to seq[2] ...
            let mut p = Tensor::from_vec(vec![1.0f32, -2.0, 3.0]).send(&workers[seq[0]]).unwrap().into_untyped();
            for &w in &seq[1..] {
                p = p.send(&workers[w]).unwrap().into_untyped();
            }
            // An operation through the whole chain runs where the data is; its result is
            // a chain of the same shape.
            let y = p.add(&p).unwrap();
            assert_eq!(fetch_down(y, depth - 1), vec![2.0, -4.0, 6.0], "chain {seq:?}");
            // Dropping the chain deletes along it.
            drop(p);
            for w in &workers {
                assert_eq!(w.object_count().unwrap(), 0, "chain {seq:?} left objects on {}", w.id());
            }
            chains += 1;
        }
    }
    assert_eq!(chains, 3 + 9 + 27 + 81 + 243);
}

#[test]
fn a_chain_read_through_get_at_each_hop_keeps_the_rest_of_the_chain() {
    let hub = Hub::new();
    let bob = VirtualWorker::new(&hub, "bob").unwrap();
    // Five hops, all on bob.
    let mut p = Tensor::from_vec(vec![5.0f32]).send(&bob).unwrap().into_untyped();
    for _ in 0..4 {
        p = p.send(&bob).unwrap().into_untyped();
    }
    assert_eq!(bob.object_count().unwrap(), 5);
    assert_eq!(fetch_down(p, 4), vec![5.0]);
    assert_eq!(bob.object_count().unwrap(), 0);
}
