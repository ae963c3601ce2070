//! Model-based property test of workers and pointers.
//!
//! Random sequences of `send`, remote operations, `get`, `move_to`, pointer `send`
//! (chains), `clone` and `drop` run over three workers (bob, alice, carol) in one hub.
//! A plain model mirrors every worker's store (which objects it holds: data with values
//! computed in plaintext, or pointers to other workers) and every local pointer. After
//! each step the full listing of every worker must equal the model; every `get` must
//! return what the model computed; every error must be the one the model predicts.
//! At the end, once every remaining pointer is dropped, no worker holds anything.
//!
//! Chains that would revisit a worker (a pointer from bob to bob, or bob → alice → bob)
//! are left out here: `bad_input.rs` covers them.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::BTreeMap;
use syft_ring::Tensor;
use syft_worker::{
    Fetched, Hub, ObjectId, ObjectInfo, ObjectKind, Pointer, PointerTensor, RemoteErrorKind, Sendable, VirtualWorker,
    Worker, WorkerError,
};

const NAMES: [&str; 3] = ["bob", "alice", "carol"];
const LEN: usize = 4;

/// Plaintext data.
#[derive(Clone, Debug, PartialEq)]
enum Data {
    Float(Vec<f32>),
    Ring(Vec<u64>),
}

/// An object in the model of a store.
#[derive(Clone, Debug)]
enum Obj {
    Data { data: Data, shape: Vec<usize> },
    Ptr { loc: usize, id: ObjectId },
}

impl Obj {
    fn info(&self) -> ObjectInfo {
        match self {
            Self::Data { data: Data::Float(_), shape } => {
                ObjectInfo { kind: ObjectKind::Float, shape: shape.clone(), requires_grad: false }
            }
            Self::Data { data: Data::Ring(_), shape } => {
                ObjectInfo { kind: ObjectKind::Ring, shape: shape.clone(), requires_grad: false }
            }
            Self::Ptr { loc, id } => ObjectInfo {
                kind: ObjectKind::Pointer { location: NAMES[*loc].to_string(), id: *id },
                shape: Vec::new(),
                requires_grad: false,
            },
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum OpKind {
    Add,
    Sub,
    Mul,
    Neg,
    Sum,
    Relu,
    Half,
}

impl OpKind {
    fn binary(self) -> bool {
        matches!(self, Self::Add | Self::Sub | Self::Mul)
    }
}

#[derive(Clone, Debug)]
enum Step {
    Send { w: usize, ring: bool, small: [i8; LEN], words: [u64; LEN] },
    Op { op: OpKind, a: Index, b: Index },
    Get { h: Index },
    Describe { h: Index },
    Move { h: Index, w: usize },
    SendPtr { h: Index, w: usize },
    Clone { h: Index },
    Drop { h: Index },
}

/// The error the model expects.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// The pointer (or a clone of it) was consumed by `get`, `send` or `move_to`.
    Consumed,
    /// Operands on different workers, caught before anything is sent.
    LocalMismatch,
    /// A worker answered with an error (of this kind, if given).
    Remote(Option<RemoteErrorKind>),
}

fn check_err(e: &WorkerError, expected: Expect) {
    match (e, expected) {
        (WorkerError::Consumed { .. }, Expect::Consumed)
        | (WorkerError::LocationMismatch { .. }, Expect::LocalMismatch) => {}
        (WorkerError::Remote { error, .. }, Expect::Remote(kind)) => {
            if let Some(kind) = kind {
                assert_eq!(error.kind, kind, "{e}");
            }
        }
        _ => panic!("expected {expected:?}, got {e:?}"),
    }
}

/// What a successful operation creates: data on the worker, or a pointer on it to the
/// result of the same operation forwarded one step down the chain.
enum Plan {
    Data(Obj),
    Forward { next: usize, inner: Box<Plan> },
}

fn close(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0)
}

/// Elementwise binary op with broadcasting between shapes `[LEN]` and `[]`.
fn zip<T: Copy>(a: &[T], b: &[T], f: impl Fn(T, T) -> T) -> Vec<T> {
    let n = a.len().max(b.len());
    (0..n).map(|i| f(a[i % a.len()], b[i % b.len()])).collect()
}

fn compute(op: OpKind, a: (&Data, &[usize]), b: Option<(&Data, &[usize])>) -> Result<Obj, Expect> {
    let shape = match b {
        Some((_, sb)) if sb.len() > a.1.len() => sb.to_vec(),
        _ => a.1.to_vec(),
    };
    let data = match (a.0, b.map(|b| b.0)) {
        (Data::Float(x), None) => match op {
            OpKind::Neg => Data::Float(x.iter().map(|v| -v).collect()),
            OpKind::Sum => {
                return Ok(Obj::Data { data: Data::Float(vec![x.iter().sum()]), shape: Vec::new() });
            }
            OpKind::Relu => Data::Float(x.iter().map(|v| v.max(0.0)).collect()),
            OpKind::Half => Data::Float(x.iter().map(|v| v * 0.5).collect()),
            _ => unreachable!(),
        },
        (Data::Float(x), Some(Data::Float(y))) => Data::Float(match op {
            OpKind::Add => zip(x, y, |p, q| p + q),
            OpKind::Sub => zip(x, y, |p, q| p - q),
            OpKind::Mul => zip(x, y, |p, q| p * q),
            _ => unreachable!(),
        }),
        (Data::Ring(x), None) => match op {
            OpKind::Neg => Data::Ring(x.iter().map(|v| v.wrapping_neg()).collect()),
            OpKind::Sum => {
                let s = x.iter().fold(0u64, |s, v| s.wrapping_add(*v));
                return Ok(Obj::Data { data: Data::Ring(vec![s]), shape: Vec::new() });
            }
            // Not defined on ring tensors.
            OpKind::Relu | OpKind::Half => return Err(Expect::Remote(None)),
            _ => unreachable!(),
        },
        (Data::Ring(x), Some(Data::Ring(y))) => Data::Ring(match op {
            OpKind::Add => zip(x, y, u64::wrapping_add),
            OpKind::Sub => zip(x, y, u64::wrapping_sub),
            OpKind::Mul => zip(x, y, u64::wrapping_mul),
            _ => unreachable!(),
        }),
        _ => return Err(Expect::Remote(Some(RemoteErrorKind::WrongKind))),
    };
    Ok(Obj::Data { data, shape })
}

/// A local pointer; clones share a group (and its consumed flag).
struct Handle {
    ptr: PointerTensor,
    group: usize,
}

struct Harness {
    workers: Vec<VirtualWorker>,
    stores: [BTreeMap<ObjectId, Obj>; 3],
    handles: Vec<Handle>,
    consumed: Vec<bool>,
}

fn loc_of(p: &PointerTensor) -> usize {
    NAMES.iter().position(|n| *n == p.location()).expect("known worker")
}

impl Harness {
    fn new() -> Self {
        let hub = Hub::new();
        let workers = NAMES.iter().map(|n| VirtualWorker::new(&hub, n).unwrap()).collect();
        Self { workers, stores: Default::default(), handles: Vec::new(), consumed: Vec::new() }
    }

    fn new_handle(&mut self, ptr: PointerTensor) {
        self.consumed.push(false);
        self.handles.push(Handle { ptr, group: self.consumed.len() - 1 });
    }

    fn pick(&self, i: &Index) -> Option<usize> {
        (!self.handles.is_empty()).then(|| i.index(self.handles.len()))
    }

    /// The workers visited from object `id` on `loc` down to the data.
    fn chain(&self, mut loc: usize, mut id: ObjectId) -> Vec<usize> {
        let mut out = vec![loc];
        while let Some(Obj::Ptr { loc: next, id: inner }) = self.stores[loc].get(&id) {
            (loc, id) = (*next, *inner);
            out.push(loc);
        }
        out
    }

    fn delete(&mut self, loc: usize, id: ObjectId) {
        if let Some(Obj::Ptr { loc: next, id: inner }) = self.stores[loc].remove(&id) {
            self.delete(next, inner);
        }
    }

    fn plan(&self, op: OpKind, loc: usize, ids: &[ObjectId]) -> Result<Plan, Expect> {
        let objs: Vec<&Obj> = ids
            .iter()
            .map(|id| self.stores[loc].get(id))
            .collect::<Option<_>>()
            .ok_or(Expect::Remote(Some(RemoteErrorKind::UnknownObject)))?;
        match objs[0] {
            Obj::Data { data, shape } => {
                let b = match objs.get(1) {
                    Some(Obj::Data { data, shape }) => Some((data, shape.as_slice())),
                    // Data first, then a pointer: the kinds do not match.
                    Some(Obj::Ptr { .. }) => return Err(Expect::Remote(Some(RemoteErrorKind::WrongKind))),
                    None => None,
                };
                Ok(Plan::Data(compute(op, (data, shape), b)?))
            }
            Obj::Ptr { loc: next, .. } => {
                let mut inner = Vec::new();
                for o in &objs {
                    match o {
                        Obj::Ptr { loc: l, id } if l == next => inner.push(*id),
                        _ => return Err(Expect::Remote(Some(RemoteErrorKind::LocationMismatch))),
                    }
                }
                Ok(Plan::Forward { next: *next, inner: Box::new(self.plan(op, *next, &inner)?) })
            }
        }
    }

    /// Records a successful operation's objects, reading the ids the workers chose for
    /// the forwarded results from their listings.
    fn apply_plan(&mut self, loc: usize, id: ObjectId, plan: Plan) {
        match plan {
            Plan::Data(obj) => {
                self.stores[loc].insert(id, obj);
            }
            Plan::Forward { next, inner } => {
                let listing = self.workers[loc].objects().unwrap();
                let (_, info) = listing.iter().find(|(i, _)| *i == id).expect("result stored");
                let ObjectKind::Pointer { location, id: inner_id } = &info.kind else {
                    panic!("expected a pointer, got {info:?}");
                };
                assert_eq!(location, NAMES[next]);
                self.stores[loc].insert(id, Obj::Ptr { loc: next, id: *inner_id });
                self.apply_plan(next, *inner_id, *inner);
            }
        }
    }

    fn check_stores(&self) {
        for (w, store) in self.workers.iter().zip(&self.stores) {
            let want: Vec<(ObjectId, ObjectInfo)> = store.iter().map(|(id, o)| (*id, o.info())).collect();
            assert_eq!(w.objects().unwrap(), want, "store of {}", w.id());
        }
    }

    fn drop_handle(&mut self, i: usize) {
        let h = self.handles.remove(i);
        let last = !self.handles.iter().any(|o| o.group == h.group);
        let (loc, id) = (loc_of(&h.ptr), h.ptr.id_at_location());
        drop(h.ptr);
        if last && !self.consumed[h.group] {
            self.delete(loc, id);
        }
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Send { w, ring, small, words } => {
                let worker = &self.workers[*w];
                let (ptr, data) = if *ring {
                    (
                        Tensor::<u64>::from_vec(words.to_vec()).send(worker).map(Pointer::into_untyped),
                        Data::Ring(words.to_vec()),
                    )
                } else {
                    let v: Vec<f32> = small.iter().map(|&s| f32::from(s)).collect();
                    (Tensor::<f32>::from_vec(v.clone()).send(worker).map(Pointer::into_untyped), Data::Float(v))
                };
                let ptr = ptr.unwrap();
                assert_eq!(ptr.location(), NAMES[*w]);
                self.stores[*w].insert(ptr.id_at_location(), Obj::Data { data, shape: vec![LEN] });
                self.new_handle(ptr);
            }
            Step::Op { op, a, b } => {
                let Some(a) = self.pick(a) else { return };
                let b = if op.binary() { self.pick(b) } else { None };
                let (pa, ga) = (&self.handles[a].ptr, self.handles[a].group);
                let pb = b.map(|b| (&self.handles[b].ptr, self.handles[b].group));
                let loc = loc_of(pa);
                let expected = match pb {
                    Some((pb, _)) if loc_of(pb) != loc => Err(Expect::LocalMismatch),
                    Some((_, gb)) if self.consumed[gb] => Err(Expect::Consumed),
                    _ if self.consumed[ga] => Err(Expect::Consumed),
                    _ => {
                        let mut ids = vec![pa.id_at_location()];
                        ids.extend(pb.map(|(p, _)| p.id_at_location()));
                        self.plan(*op, loc, &ids)
                    }
                };
                let got = match (op, pb) {
                    (OpKind::Add, Some((pb, _))) => pa.add(pb),
                    (OpKind::Sub, Some((pb, _))) => pa.sub(pb),
                    (OpKind::Mul, Some((pb, _))) => pa.mul(pb),
                    (OpKind::Neg, _) => pa.neg(),
                    (OpKind::Sum, _) => pa.sum(),
                    (OpKind::Relu, _) => pa.relu(),
                    (OpKind::Half, _) => pa.mul_scalar(0.5),
                    _ => unreachable!(),
                };
                match (got, expected) {
                    (Ok(r), Ok(plan)) => {
                        assert_eq!(loc_of(&r), loc, "the result stays where the operands are");
                        self.apply_plan(loc, r.id_at_location(), plan);
                        self.new_handle(r);
                    }
                    (Err(e), Err(x)) => check_err(&e, x),
                    (got, expected) => {
                        panic!("{op:?}: got {:?}, expected {:?}", got.map(|p| p.to_string()), expected.err());
                    }
                }
            }
            Step::Get { h } => {
                let Some(i) = self.pick(h) else { return };
                let Handle { ptr, group } = self.handles.remove(i);
                let (loc, id) = (loc_of(&ptr), ptr.id_at_location());
                let got = ptr.get();
                if self.consumed[group] {
                    check_err(&got.unwrap_err(), Expect::Consumed);
                    return;
                }
                self.consumed[group] = true;
                let obj = self.stores[loc].remove(&id).expect("a live pointer's object exists");
                match (got.unwrap(), obj) {
                    (Fetched::Float(v), Obj::Data { data: Data::Float(want), shape }) => {
                        assert_eq!(v.value().shape(), shape.as_slice());
                        assert!(!v.requires_grad());
                        let got = v.value().data().to_vec();
                        assert!(got.iter().zip(&want).all(|(a, b)| close(*a, *b)), "got {got:?}, want {want:?}");
                    }
                    (Fetched::Ring(t), Obj::Data { data: Data::Ring(want), shape }) => {
                        assert_eq!(t.shape(), shape.as_slice());
                        assert_eq!(t.data(), want.as_slice());
                    }
                    (Fetched::Pointer(p), Obj::Ptr { loc: next, id: inner }) => {
                        assert_eq!((p.location(), p.id_at_location()), (NAMES[next], inner));
                        self.new_handle(p);
                    }
                    (got, want) => panic!("get returned {got:?}, the model holds {want:?}"),
                }
            }
            Step::Describe { h } => {
                let Some(i) = self.pick(h) else { return };
                let h = &self.handles[i];
                let got = h.ptr.describe();
                if self.consumed[h.group] {
                    check_err(&got.unwrap_err(), Expect::Consumed);
                } else {
                    assert_eq!(got.unwrap(), self.stores[loc_of(&h.ptr)][&h.ptr.id_at_location()].info());
                }
            }
            Step::Move { h, w } => {
                let Some(i) = self.pick(h) else { return };
                let (loc, id, group) =
                    (loc_of(&self.handles[i].ptr), self.handles[i].ptr.id_at_location(), self.handles[i].group);
                if *w == loc {
                    // Moving to where it already is returns the same pointer.
                    let Handle { ptr, group } = self.handles.remove(i);
                    let p = ptr.move_to(&self.workers[*w]).unwrap();
                    assert_eq!((loc_of(&p), p.id_at_location()), (loc, id));
                    self.handles.insert(i, Handle { ptr: p, group });
                    return;
                }
                if !self.consumed[group] && self.chain(loc, id)[1..].contains(w) {
                    return; // would close a cycle (covered in bad_input.rs)
                }
                let Handle { ptr, .. } = self.handles.remove(i);
                let got = ptr.move_to(&self.workers[*w]);
                if self.consumed[group] {
                    check_err(&got.unwrap_err(), Expect::Consumed);
                    return;
                }
                let p = got.unwrap();
                assert_eq!((loc_of(&p), p.id_at_location()), (*w, id));
                self.consumed[group] = true;
                let obj = self.stores[loc].remove(&id).expect("object exists");
                self.stores[*w].insert(id, obj);
                self.new_handle(p);
            }
            Step::SendPtr { h, w } => {
                let Some(i) = self.pick(h) else { return };
                let (loc, id, group) =
                    (loc_of(&self.handles[i].ptr), self.handles[i].ptr.id_at_location(), self.handles[i].group);
                // Chains of any depth, through the same worker any number of times
                // (a pointer on alice to a pointer on alice to a tensor on alice) included.
                let Handle { ptr, .. } = self.handles.remove(i);
                let got = ptr.send(&self.workers[*w]);
                if self.consumed[group] {
                    check_err(&got.unwrap_err(), Expect::Consumed);
                    return;
                }
                let p = got.unwrap();
                assert_eq!(loc_of(&p), *w);
                self.consumed[group] = true;
                self.stores[*w].insert(p.id_at_location(), Obj::Ptr { loc, id });
                self.new_handle(p);
            }
            Step::Clone { h } => {
                let Some(i) = self.pick(h) else { return };
                let h = &self.handles[i];
                let c = Handle { ptr: h.ptr.clone(), group: h.group };
                self.handles.push(c);
            }
            Step::Drop { h } => {
                let Some(i) = self.pick(h) else { return };
                self.drop_handle(i);
            }
        }
    }
}

fn op_kind() -> impl Strategy<Value = OpKind> {
    prop_oneof![
        3 => Just(OpKind::Add),
        2 => Just(OpKind::Sub),
        3 => Just(OpKind::Mul),
        1 => Just(OpKind::Neg),
        2 => Just(OpKind::Sum),
        1 => Just(OpKind::Relu),
        1 => Just(OpKind::Half),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, any::<bool>(), prop::array::uniform4(-3i8..=3), any::<[u64; LEN]>())
            .prop_map(|(w, ring, small, words)| Step::Send { w, ring, small, words }),
        5 => (op_kind(), any::<Index>(), any::<Index>()).prop_map(|(op, a, b)| Step::Op { op, a, b }),
        2 => any::<Index>().prop_map(|h| Step::Get { h }),
        1 => any::<Index>().prop_map(|h| Step::Describe { h }),
        2 => (any::<Index>(), 0..3usize).prop_map(|(h, w)| Step::Move { h, w }),
        5 => (any::<Index>(), 0..3usize).prop_map(|(h, w)| Step::SendPtr { h, w }),
        1 => any::<Index>().prop_map(|h| Step::Clone { h }),
        2 => any::<Index>().prop_map(|h| Step::Drop { h }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn workers_and_pointers_follow_the_model(steps in prop::collection::vec(step(), 1..30)) {
        let mut h = Harness::new();
        for s in &steps {
            h.step(s);
            h.check_stores();
        }
        // Drop every remaining pointer: nothing may leak.
        while !h.handles.is_empty() {
            h.drop_handle(h.handles.len() - 1);
            h.check_stores();
        }
        for w in &h.workers {
            prop_assert_eq!(w.object_count().unwrap(), 0, "{} leaked objects", w.id());
        }
    }
}
