//! [`Var`]: a tensor in the computation graph, and the reverse-mode engine.
//!
//! Each `Var` is a handle (`Arc`) to a graph node holding its value, its accumulated
//! gradient (leaves only) and, for results of ops, the function that maps the output
//! gradient to the inputs' gradients together with handles to the inputs. Saved tensors
//! are shared `Arc`s, never copies.
//!
//! [`Var::backward`] walks the graph once in reverse topological order, *consuming* it
//! (as PyTorch does without `retain_graph`): saved tensors are released as soon as
//! their node has run, and a second backward through the same nodes is an error.

use crate::backend::{Backend, OpResult};
use crate::error::Error;
use crate::no_grad::is_grad_enabled;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

/// Maps the output gradient to one optional gradient per input; `needs[i]` says whether
/// input `i` wants one (so e.g. the gradient of an input batch is never computed).
pub(crate) type BackwardFn<B> =
    Box<dyn FnOnce(&B, <B as Backend>::Tensor, &[bool]) -> OpResult<B, Vec<Option<<B as Backend>::Tensor>>> + Send>;

struct GradFn<B: Backend> {
    parents: Vec<Var<B>>,
    backward: BackwardFn<B>,
}

struct Node<B: Backend> {
    id: u64,
    op: &'static str,
    backend: B,
    value: RwLock<Arc<B::Tensor>>,
    grad: Mutex<Option<Arc<B::Tensor>>>,
    requires_grad: bool,
    grad_fn: Mutex<Option<GradFn<B>>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data; keep going with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A tensor in the computation graph: a value, and (for leaves that require it) a
/// gradient accumulated by [`backward`](Var::backward).
///
/// Cloning a `Var` clones the handle, not the tensor: modules and optimizers hold the
/// same parameters.
pub struct Var<B: Backend> {
    node: Arc<Node<B>>,
}

impl<B: Backend> Clone for Var<B> {
    fn clone(&self) -> Self {
        Self { node: Arc::clone(&self.node) }
    }
}

impl<B: Backend> std::fmt::Debug for Var<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Var")
            .field("op", &self.node.op)
            .field("requires_grad", &self.node.requires_grad)
            .field("value", &*self.value())
            .finish()
    }
}

impl<B: Backend> Var<B> {
    fn from_node(backend: &B, op: &'static str, value: Arc<B::Tensor>, requires_grad: bool) -> Self {
        let node = Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            op,
            backend: backend.clone(),
            value: RwLock::new(value),
            grad: Mutex::new(None),
            requires_grad,
            grad_fn: Mutex::new(None),
        };
        Self { node: Arc::new(node) }
    }

    /// A leaf holding `value`; with `requires_grad`, backward accumulates its gradient.
    #[must_use]
    pub fn new(backend: &B, value: B::Tensor, requires_grad: bool) -> Self {
        Self::from_node(backend, "leaf", Arc::new(value), requires_grad)
    }

    /// A trainable leaf (`requires_grad = true`), e.g. a weight.
    #[must_use]
    pub fn param(backend: &B, value: B::Tensor) -> Self {
        Self::new(backend, value, true)
    }

    /// A leaf that never gets a gradient, e.g. an input batch or a target.
    #[must_use]
    pub fn constant(backend: &B, value: B::Tensor) -> Self {
        Self::new(backend, value, false)
    }

    /// The result of an op: records `backward` when some input requires gradients and
    /// recording is enabled, otherwise a plain constant.
    pub(crate) fn from_op(
        op: &'static str,
        backend: &B,
        value: impl Into<Arc<B::Tensor>>,
        parents: Vec<Var<B>>,
        backward: BackwardFn<B>,
    ) -> Self {
        let record = is_grad_enabled() && parents.iter().any(Var::requires_grad);
        let var = Self::from_node(backend, op, value.into(), record);
        if record {
            *lock(&var.node.grad_fn) = Some(GradFn { parents, backward });
        }
        var
    }

    /// The backend value this variable computes with.
    #[must_use]
    pub fn backend(&self) -> &B {
        &self.node.backend
    }

    /// The current value (a shared handle: cheap, and unaffected by later updates).
    #[must_use]
    pub fn value(&self) -> Arc<B::Tensor> {
        Arc::clone(&self.node.value.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The shape of the value.
    #[must_use]
    pub fn shape(&self) -> Vec<usize> {
        self.node.backend.shape(&self.value())
    }

    /// Replaces the value (setting parameters by hand; optimizer steps). Graphs built
    /// earlier keep the value they saw.
    pub fn set_value(&self, value: B::Tensor) {
        *self.node.value.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(value);
    }

    /// Updates the value in place (copy-on-write if a graph still holds the old value).
    pub fn update_value<R>(&self, f: impl FnOnce(&mut B::Tensor) -> R) -> R {
        let mut guard = self.node.value.write().unwrap_or_else(PoisonError::into_inner);
        f(Arc::make_mut(&mut guard))
    }

    /// The accumulated gradient, if backward has reached this leaf since the last
    /// [`zero_grad`](Var::zero_grad). Intermediate results keep none (as in PyTorch).
    #[must_use]
    pub fn grad(&self) -> Option<Arc<B::Tensor>> {
        lock(&self.node.grad).clone()
    }

    /// Sets (or clears) the accumulated gradient.
    pub fn set_grad(&self, grad: Option<B::Tensor>) {
        *lock(&self.node.grad) = grad.map(Arc::new);
    }

    /// Clears the accumulated gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        *lock(&self.node.grad) = None;
    }

    /// Whether gradients flow to (or through) this variable.
    #[must_use]
    pub fn requires_grad(&self) -> bool {
        self.node.requires_grad
    }

    /// Whether this variable is a leaf (created by [`new`](Var::new), not by an op).
    #[must_use]
    pub fn is_leaf(&self) -> bool {
        self.node.op == "leaf"
    }

    /// The name of the op that produced this variable (`"leaf"` for leaves).
    #[must_use]
    pub fn op(&self) -> &'static str {
        self.node.op
    }

    /// A new leaf with the same value and no graph (`requires_grad = false`).
    #[must_use]
    pub fn detach(&self) -> Self {
        Self::from_node(&self.node.backend, "leaf", self.value(), false)
    }

    /// A stable identifier of the node (unique within the process).
    #[must_use]
    pub fn id(&self) -> u64 {
        self.node.id
    }

    /// Backpropagates from a one-element output (a loss), seeding with 1.
    ///
    /// Gradients *accumulate* into the leaves' [`grad`](Var::grad); clear them with
    /// [`zero_grad`](Var::zero_grad) between steps. The graph is consumed.
    pub fn backward(&self) -> OpResult<B, ()> {
        let shape = self.shape();
        if shape.iter().product::<usize>() != 1 {
            return Err(Error::NotScalar { op: "backward", shape }.into());
        }
        let seed = self.node.backend.full(&shape, 1.0)?;
        self.backward_with(seed)
    }

    /// Backpropagates with an explicit output gradient (same shape as the value).
    pub fn backward_with(&self, grad: B::Tensor) -> OpResult<B, ()> {
        if !self.requires_grad() {
            return Err(Error::NoGraph { op: "backward" }.into());
        }
        let backend = self.node.backend.clone();
        let order = self.topological_order();
        let mut pending: HashMap<u64, B::Tensor> = HashMap::new();
        pending.insert(self.id(), grad);
        for var in order.iter().rev() {
            let Some(g) = pending.remove(&var.id()) else { continue };
            if var.is_leaf() {
                var.accumulate(g)?;
                continue;
            }
            let Some(grad_fn) = lock(&var.node.grad_fn).take() else {
                return Err(Error::GraphFreed { op: "backward", node: var.node.op }.into());
            };
            let needs: Vec<bool> = grad_fn.parents.iter().map(Var::requires_grad).collect();
            let expected = grad_fn.parents.len();
            let grads = (grad_fn.backward)(&backend, g, &needs)?;
            if grads.len() != expected {
                return Err(Error::GradientCount { op: var.node.op, expected, got: grads.len() }.into());
            }
            for (parent, pg) in grad_fn.parents.iter().zip(grads) {
                let Some(pg) = pg.filter(|_| parent.requires_grad()) else { continue };
                match pending.get_mut(&parent.id()) {
                    Some(acc) => backend.add_assign(acc, &pg)?,
                    None => {
                        pending.insert(parent.id(), pg);
                    }
                }
            }
        }
        Ok(())
    }

    fn accumulate(&self, g: B::Tensor) -> OpResult<B, ()> {
        let mut slot = lock(&self.node.grad);
        match slot.as_mut() {
            Some(acc) => self.node.backend.add_assign(Arc::make_mut(acc), &g)?,
            None => *slot = Some(Arc::new(g)),
        }
        Ok(())
    }

    /// The nodes reachable through recorded graph edges, inputs before outputs.
    fn topological_order(&self) -> Vec<Var<B>> {
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        // Iterative post-order DFS: (node, children already pushed).
        let mut stack = vec![(self.clone(), false)];
        while let Some((var, expanded)) = stack.pop() {
            if expanded {
                order.push(var);
                continue;
            }
            if !seen.insert(var.id()) {
                continue;
            }
            let parents: Vec<Var<B>> = lock(&var.node.grad_fn)
                .as_ref()
                .map(|gf| gf.parents.iter().filter(|p| p.requires_grad()).cloned().collect())
                .unwrap_or_default();
            stack.push((var, true));
            for p in parents {
                if !seen.contains(&p.id()) {
                    stack.push((p, false));
                }
            }
        }
        order
    }
}

impl<B: Backend> Drop for Node<B> {
    fn drop(&mut self) {
        // Unlink long chains iteratively so that dropping a deep graph cannot overflow
        // the stack through recursive `Arc` drops.
        let mut stack: Vec<Var<B>> = self
            .grad_fn
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .map(|gf| gf.parents)
            .unwrap_or_default();
        while let Some(var) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(var.node)
                && let Some(gf) = node.grad_fn.get_mut().unwrap_or_else(PoisonError::into_inner).take()
            {
                stack.extend(gf.parents);
            }
        }
    }
}
