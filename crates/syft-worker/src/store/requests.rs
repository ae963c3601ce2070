//! How a worker serves each request on objects: storing, reading, moving, deleting,
//! granting and delegating them, computing with them (forwarding along pointer chains),
//! and remote autograd. Multi-party requests go to the worker's session service.

use super::{Stored, WorkerCore, err};
use crate::access::{Caller, Flow, Ownership, PrincipalKind, forbidden};
use crate::error::{RemoteError, RemoteErrorKind as K, WorkerError};
use crate::message::{ObjectId, Request, Response, Value, new_id};
use crate::ops::{FloatVar, TensorOp};
use syft_ring::Tensor;

/// A local computation that failed (shapes, ranges).
fn compute(e: WorkerError) -> RemoteError {
    err(K::Compute, e.to_string())
}

impl WorkerCore {
    /// Serves one decoded request (the object requests here; multi-party ones through
    /// the session service).
    pub(super) fn dispatch(&mut self, caller: &Caller, request: Request) -> Result<Response, RemoteError> {
        match request {
            Request::OnBehalf { owner, request } => {
                if self.objects.acting_for().is_some() || matches!(*request, Request::OnBehalf { .. }) {
                    return Err(err(K::BadRequest, "nested on-behalf request"));
                }
                match caller.kind() {
                    // A client forwarding for itself (in-process workers all serve one).
                    PrincipalKind::Client if owner == caller.name() => self.dispatch(caller, *request),
                    PrincipalKind::Client => Err(forbidden(format!("{caller} may not act for {owner}"))),
                    PrincipalKind::Worker => {
                        self.objects.act_for(Some(owner));
                        let outcome = self.dispatch(caller, *request);
                        self.objects.act_for(None);
                        outcome
                    }
                }
            }
            Request::Store { id, value } => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not store objects on {}", self.objects.id())));
                }
                self.objects.check_value("store", &value)?;
                self.objects.insert(id, Stored::from_value(value), Ownership::owned_by(caller.name()))?;
                Ok(Response::Ok)
            }
            Request::Adopt { id, value, owner } => {
                // The receiving end of a `move` the owner asked another worker for.
                let allowed = match caller.kind() {
                    PrincipalKind::Worker => true,
                    PrincipalKind::Client => owner == caller.name(),
                };
                if !allowed || !self.objects.policy().is_client(&owner) {
                    return Err(forbidden(format!(
                        "{caller} may not hand over an object of {owner} to {}",
                        self.objects.id()
                    )));
                }
                self.objects.check_value("move", &value)?;
                self.objects.insert(id, Stored::from_value(value), Ownership::owned_by(owner))?;
                Ok(Response::Ok)
            }
            Request::Get { id } => {
                self.objects.check_manage(caller, id, true)?;
                Ok(Response::Value(self.objects.remove(id)?.obj.into_value()))
            }
            Request::Delete { id } => {
                self.objects.check_manage(caller, id, false)?;
                let entry = self.objects.remove(id)?;
                if let Stored::Pointer { location, id: target } = entry.obj {
                    // A stored pointer owns what it points to: cascade the deletion.
                    // The target may already be gone; that is not this worker's error.
                    let _ = self.forward(&location, &entry.own.owner, Request::Delete { id: target });
                }
                Ok(Response::Ok)
            }
            Request::Describe { id } => Ok(Response::Info(self.objects.usable(caller, id)?.info())),
            Request::List => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not list the store of {}", self.objects.id())));
                }
                Ok(Response::List(self.objects.list(caller.name())))
            }
            Request::Grant { id, to } => {
                self.objects.check_manage(caller, id, false)?;
                if !caller.is_client() || !self.objects.policy().is_client(&to) {
                    return Err(forbidden(format!("{caller} may not grant object {id} to {to}")));
                }
                if let Some(own) = self.objects.ownership_mut(id) {
                    own.grants.insert(to);
                }
                Ok(Response::Ok)
            }
            Request::Revoke { id, from } => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not revoke grants")));
                }
                self.objects.check_manage(caller, id, false)?;
                if let Some(own) = self.objects.ownership_mut(id) {
                    own.grants.remove(&from);
                }
                Ok(Response::Ok)
            }
            Request::Delegate { id, to } => {
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not delegate object {id}")));
                }
                self.objects.check_manage(caller, id, false)?;
                if to != self.objects.id() && !self.objects.policy().is_peer(&to) {
                    return Err(forbidden(format!("{to} is not a worker {} knows", self.objects.id())));
                }
                if let Some(own) = self.objects.ownership_mut(id) {
                    own.delegates.insert(to);
                }
                Ok(Response::Ok)
            }
            Request::Op { op, args, result } => self.op(caller, op, &args, result),
            Request::Backward { id } => {
                // Backward writes gradients into every leaf of the graph: only from a value
                // the caller owns outright (a graph through granted data would let it read
                // that data in the gradients of its own leaves).
                let e = self.objects.entry(id)?;
                let mine = match caller.kind() {
                    PrincipalKind::Client => e.own.owner == caller.name(),
                    PrincipalKind::Worker => self.objects.delegated(caller, e),
                };
                if !mine || e.own.restricted {
                    return Err(forbidden(format!("{caller} may run backward only from its own readable values")));
                }
                let owner = self.objects.entry(id)?.own.owner.clone();
                match self.objects.usable(caller, id)? {
                    Stored::Float(v) => {
                        v.backward().map_err(|e| err(K::Compute, e.to_string()))?;
                        self.objects.recount(&owner);
                        Ok(Response::Ok)
                    }
                    Stored::Pointer { location, id } => {
                        let (location, id) = (location.clone(), *id);
                        self.forward(&location, &owner, Request::Backward { id })
                    }
                    Stored::Ring(_) => Err(err(K::WrongKind, "backward needs a float tensor")),
                }
            }
            Request::Grad { id, result } => {
                if self.objects.contains(result) {
                    return Err(err(K::BadRequest, format!("object {result} already exists on {}", self.objects.id())));
                }
                let own = self.objects.derived(caller, "grad", &[id], Flow::Other)?;
                let owner = self.objects.entry(id)?.own.owner.clone();
                let stored = match self.objects.usable(caller, id)? {
                    Stored::Float(v) => {
                        let g = v.grad().ok_or_else(|| err(K::Compute, format!("object {id} has no gradient")))?;
                        Stored::from_value(Value::float((*g).clone()))
                    }
                    Stored::Pointer { location, id } => {
                        let (location, inner) = (location.clone(), new_id());
                        self.forward(&location, &owner, Request::Grad { id: *id, result: inner })?;
                        Stored::Pointer { location, id: inner }
                    }
                    Stored::Ring(_) => return Err(err(K::WrongKind, "ring tensors have no gradient")),
                };
                let info = stored.info();
                self.objects.insert(result, stored, own)?;
                Ok(Response::Info(info))
            }
            Request::Move { id, to } => {
                if to == self.objects.id() {
                    self.objects.check_manage(caller, id, true)?;
                    return Ok(Response::Ok);
                }
                if !caller.is_client() {
                    return Err(forbidden(format!("{caller} may not move objects from {}", self.objects.id())));
                }
                self.objects.check_manage(caller, id, true)?;
                let entry = self.objects.remove(id)?;
                let value = entry.obj.to_value();
                let owner = entry.own.owner.clone();
                let request = Request::Adopt { id, value, owner: owner.clone() };
                match self.forward(&to, &owner, request) {
                    Ok(_) => Ok(Response::Ok),
                    Err(e) => {
                        // Put it back: a failed move leaves the store unchanged.
                        self.objects.restore(id, entry);
                        Err(e)
                    }
                }
            }
            Request::Mpc(req) => self.sessions.handle(&mut self.objects, caller, req),
        }
    }

    fn op(
        &mut self,
        caller: &Caller,
        op: TensorOp,
        args: &[ObjectId],
        result: ObjectId,
    ) -> Result<Response, RemoteError> {
        if args.len() != op.arity() {
            return Err(err(K::BadRequest, format!("{} takes {} operands, got {}", op.name(), op.arity(), args.len())));
        }
        if self.objects.contains(result) {
            return Err(err(K::BadRequest, format!("object {result} already exists on {}", self.objects.id())));
        }
        let objs: Vec<&Stored> = args.iter().map(|&a| self.objects.usable(caller, a)).collect::<Result<_, _>>()?;
        let mut shapes: Vec<Vec<usize>> = objs.iter().flat_map(|o| o.shapes()).collect();
        shapes.extend(op.result_shapes(&shapes).map_err(compute)?);
        self.objects.limits().request(op.name(), shapes.iter().map(Vec::as_slice))?;
        let own = self.objects.derived(caller, op.name(), args, op.flow())?;
        let stored = match objs.as_slice() {
            [Stored::Float(_), ..] => {
                let vars: Vec<&FloatVar> = objs
                    .iter()
                    .map(|o| match o {
                        Stored::Float(v) => Ok(v),
                        _ => Err(err(K::WrongKind, format!("{}: mixes a float tensor with another kind", op.name()))),
                    })
                    .collect::<Result<_, _>>()?;
                Stored::Float(op.apply_float(&vars).map_err(compute)?)
            }
            [Stored::Ring(_), ..] if !op.defined_on_ring() => {
                return Err(err(K::WrongKind, format!("{} is not defined on ring tensors", op.name())));
            }
            [Stored::Ring(_), ..] => {
                let ts: Vec<&Tensor<u64>> = objs
                    .iter()
                    .map(|o| match o {
                        Stored::Ring(t) => Ok(t),
                        _ => Err(err(K::WrongKind, format!("{}: mixes a ring tensor with another kind", op.name()))),
                    })
                    .collect::<Result<_, _>>()?;
                Stored::Ring(op.apply_ring(&ts).map_err(compute)?)
            }
            [Stored::Pointer { location, .. }, ..] => {
                let location = location.clone();
                let mut inner = Vec::with_capacity(objs.len());
                for o in &objs {
                    match o {
                        Stored::Pointer { location: l, id } if *l == location => inner.push(*id),
                        Stored::Pointer { location: l, .. } => {
                            return Err(err(
                                K::LocationMismatch,
                                format!("{}: operands on {location} and {l}", op.name()),
                            ));
                        }
                        _ => {
                            return Err(err(
                                K::LocationMismatch,
                                format!("{}: mixes a pointer with local data", op.name()),
                            ));
                        }
                    }
                }
                let owner = own.owner.clone();
                let target = new_id();
                self.forward(&location, &owner, Request::Op { op, args: inner, result: target })?;
                Stored::Pointer { location, id: target }
            }
            [] => return Err(err(K::BadRequest, "no operands")),
        };
        let info = stored.info();
        self.objects.insert(result, stored, own)?;
        Ok(Response::Info(info))
    }
}
