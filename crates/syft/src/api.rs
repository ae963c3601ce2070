//! The tutorial-shaped API: `fix_precision()`, `share(&[&bob, &alice], &crypto_provider)`,
//! `get()` / `float_precision()`, for tensors and whole modules; a shared model is a
//! [`Module`] over shared values.

use crate::error::Result;
use std::sync::Arc;
use syft_autograd::{Backend, Cpu, OpResult, Var, no_grad};
use syft_fixed::{Fixed, FixedEncoder};
use syft_nn::Module;
use syft_nn::module::ParamMap;
use syft_ring::{Float, Tensor};
use syft_worker::{MpcSession, SharedBackend, SharedHandle, SharedTensor, Worker};

/// A fixed-point encoded tensor in plaintext: what `fix_precision()` returns, what is
/// shared, and what `get()` on a shared value brings back; `float_precision()` decodes it.
/// It is [`syft_fixed::Fixed`], the one fixed-point type of the stack.
pub type FixedPrecisionTensor = Fixed<Tensor<u64>>;

/// The encoder a shared tensor records: `None` for integers (raw ring values).
fn shared_encoder(encoder: FixedEncoder) -> Option<FixedEncoder> {
    (!encoder.is_integer()).then_some(encoder)
}

/// `share(&[&bob, &alice], &crypto_provider)` for plaintext values: fixed-point tensors,
/// and integer ring tensors (bits, counts, one-hot labels).
pub trait Share {
    /// Secret-shares the value among `parties`, with `crypto_provider` dealing the
    /// material for products. Sharing again with the same workers reuses their session.
    fn share(&self, parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Result<SharedTensor>;

    /// Shares the value as a leaf of the autograd graph (`requires_grad=True`).
    fn share_requires_grad(&self, parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Result<Var<SharedBackend>> {
        let shared = self.share(parties, crypto_provider)?;
        let backend = SharedBackend::new(shared.session().clone(), shared.encoder().unwrap_or(FixedEncoder::INTEGER));
        Ok(Var::new(&backend, shared, true))
    }
}

impl Share for FixedPrecisionTensor {
    fn share(&self, parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Result<SharedTensor> {
        let session = MpcSession::get_or_create(parties, crypto_provider)?;
        Ok(SharedTensor::share(self.raw(), shared_encoder(self.encoder()), &session)?)
    }
}

impl Share for Tensor<u64> {
    /// Shares integers (no fixed-point scale): one-hot labels, masks, counts.
    fn share(&self, parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Result<SharedTensor> {
        let session = MpcSession::get_or_create(parties, crypto_provider)?;
        Ok(SharedTensor::share(self, None, &session)?)
    }
}

/// `fix_precision()` for float tensors.
pub trait FixPrecision {
    /// Encodes with PySyft's default precision (base 10, 3 fractional digits).
    fn fix_precision(&self) -> Result<FixedPrecisionTensor> {
        self.fix_precision_with(FixedEncoder::default())
    }
    /// Encodes with the given encoder.
    fn fix_precision_with(&self, encoder: FixedEncoder) -> Result<FixedPrecisionTensor>;
}

impl<T: Float> FixPrecision for Tensor<T> {
    fn fix_precision_with(&self, encoder: FixedEncoder) -> Result<FixedPrecisionTensor> {
        Ok(Fixed::encode(self, encoder)?)
    }
}

/// `get()` on a shared value in the autograd graph (a loss, a prediction): brings the
/// shares back and reconstructs the fixed-point tensor, which `float_precision()` decodes
/// (PySyft's `loss.get().float_precision()`).
pub trait Decrypt {
    /// Reconstructs the value at this program; the shares are removed from the workers.
    fn get(&self) -> Result<FixedPrecisionTensor>;
}

impl Decrypt for Var<SharedBackend> {
    fn get(&self) -> Result<FixedPrecisionTensor> {
        Ok((*self.value()).clone().get()?)
    }
}

/// A model whose parameters are shared among workers: a [`Module`] over shared values, so
/// `model.forward(&x)` and an optimizer over `model.parameters()` work as in plaintext.
#[derive(Debug)]
pub struct SharedModel<M> {
    module: M,
    backend: SharedBackend,
}

impl<M> SharedModel<M> {
    /// The module over shared parameters.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// The backend: the session among the workers, and the precision.
    pub fn backend(&self) -> &SharedBackend {
        &self.backend
    }

    /// The session among the workers that hold the parameters' shares.
    pub fn session(&self) -> &Arc<MpcSession> {
        self.backend.session()
    }

    /// The module, without the backend.
    pub fn into_module(self) -> M {
        self.module
    }
}

impl<M: Module<SharedBackend>> Module<SharedBackend> for SharedModel<M> {
    type Mapped<B2: Backend> = M::Mapped<B2>;

    fn forward(&self, x: &Var<SharedBackend>) -> OpResult<SharedBackend, Var<SharedBackend>> {
        self.module.forward(x)
    }

    fn visit_parameters(&self, prefix: &str, f: &mut dyn FnMut(String, &Var<SharedBackend>)) {
        self.module.visit_parameters(prefix, f);
    }

    fn map_parameters_under<B2: Backend, E>(
        &self,
        prefix: &str,
        backend: &B2,
        f: &mut ParamMap<'_, SharedBackend, B2, E>,
    ) -> std::result::Result<Self::Mapped<B2>, E> {
        self.module.map_parameters_under(prefix, backend, f)
    }

    fn set_training(&mut self, training: bool) {
        self.module.set_training(training);
    }

    fn is_training(&self) -> bool {
        self.module.is_training()
    }
}

impl<M: Module<SharedBackend>> SharedModel<M> {
    /// Runs the model on a shared input without recording gradients (inference):
    /// PySyft's `output = model(data)` in an encrypted evaluation.
    ///
    /// The layers' steps are pipelined ([`MpcSession::pipelined`]): the workers go from one
    /// to the next without waiting for this program, which waits once, at the end (or
    /// not at all inside a pipelined region of its own).
    pub fn infer(&self, x: &SharedTensor) -> Result<SharedTensor> {
        self.session().pipelined(|| {
            let out = no_grad(|| self.module.forward(&Var::constant(&self.backend, x.clone())))?;
            Ok((*out.value()).clone())
        })
    }

    /// A shared tensor as an input of [`forward`](Module::forward) (a constant of the
    /// graph: no gradient flows to it).
    pub fn input(&self, x: SharedTensor) -> Var<SharedBackend> {
        Var::constant(&self.backend, x)
    }

    /// Decrypts every parameter into a plaintext model of the same architecture (the
    /// owner's `model.get().float_precision()`); the shares are removed from the workers.
    pub fn get(self) -> Result<M::Mapped<Cpu<f32>>> {
        decrypt_model(&self.module)
    }

    /// Lets client `client` run this model on its own inputs, in its own session, without
    /// reading it: every parameter's shares are granted (see
    /// [`SharedTensor::grant`]). What `client` computes with the model is restricted to it:
    /// only `argmax` outputs become readable.
    pub fn grant(&self, client: &str) -> Result<()> {
        for p in self.module.parameters() {
            p.value().grant(client)?;
        }
        Ok(())
    }

    /// Where each parameter's shares are (in the module's parameter order), for the client
    /// the model was granted to ([`borrow_model`]).
    #[must_use]
    pub fn handles(&self) -> Vec<SharedHandle> {
        self.module.parameters().iter().map(|p| p.value().handle()).collect()
    }

    /// Keeps (or no longer keeps) the shares on the workers when this program drops the
    /// model: a model owner that shares and grants its model and then exits sets this.
    pub fn keep_on_workers(&self, keep: bool) {
        for p in self.module.parameters() {
            for share in p.value().share_pointers() {
                share.set_garbage_collect_data(!keep);
            }
        }
    }
}

/// A model someone else shared and granted to this program, in this program's own
/// session among the same workers: `architecture` gives the modules and shapes (its
/// parameter values are ignored), `handles` where each parameter's shares are (in the same
/// order; [`SharedModel::handles`]). Dropping it deletes nothing.
pub fn borrow_model<M: Module<Cpu<f32>>>(
    architecture: &M,
    handles: &[SharedHandle],
    encoder: FixedEncoder,
    parties: &[&dyn Worker],
    crypto_provider: &dyn Worker,
) -> Result<SharedModel<M::Mapped<SharedBackend>>> {
    let session = MpcSession::get_or_create(parties, crypto_provider)?;
    let backend = SharedBackend::new(session.clone(), encoder);
    let mut next = handles.iter();
    let module = architecture.map_parameters(
        &backend,
        |name, t: &Tensor<f32>| -> std::result::Result<SharedTensor, crate::Error> {
            let handle = next.next().ok_or_else(|| syft_worker::WorkerError::InvalidArgument {
                op: "borrow_model",
                reason: format!("no handle for parameter {name}"),
            })?;
            if handle.shape != t.shape() || handle.encoder != Some(encoder) {
                return Err(syft_worker::WorkerError::InvalidArgument {
                    op: "borrow_model",
                    reason: format!(
                        "parameter {name}: shape {:?} and encoding {:?} shared, {:?} and {encoder:?} expected",
                        handle.shape,
                        handle.encoder,
                        t.shape()
                    ),
                }
                .into());
            }
            let shared = SharedTensor::from_handle(handle, &session)?;
            shared.mark_reusable();
            Ok(shared)
        },
    )?;
    if next.next().is_some() {
        return Err(syft_worker::WorkerError::InvalidArgument {
            op: "borrow_model",
            reason: format!("{} handles for a model with fewer parameters", handles.len()),
        }
        .into());
    }
    Ok(SharedModel { module, backend })
}

/// Decrypts every parameter of a shared model into a plaintext model of the same
/// architecture (the owner's `model.get().float_precision()`); the shares are removed from
/// the workers.
pub fn decrypt_model<M: Module<SharedBackend>>(model: &M) -> Result<M::Mapped<Cpu<f32>>> {
    let cpu = Cpu::<f32>::default();
    model.map_parameters(&cpu, |_, t: &SharedTensor| -> std::result::Result<Tensor<f32>, crate::Error> {
        #[allow(clippy::cast_possible_truncation, reason = "parameters are f32 in plaintext models")]
        Ok(t.clone().get()?.float_precision().map(|v| v as f32))
    })
}

/// Fixed-point encodes a plaintext model and shares every parameter among `parties`
/// (PySyft's `model.fix_precision().share(bob, alice, crypto_provider=...)`).
///
/// The shared parameters are marked reusable: a product with a weight opens the weight
/// once and reuses the opening for every later batch while the weight does not change.
pub fn share_model<M: Module<Cpu<f32>>>(
    model: &M,
    encoder: FixedEncoder,
    parties: &[&dyn Worker],
    crypto_provider: &dyn Worker,
) -> Result<SharedModel<M::Mapped<SharedBackend>>> {
    let session = MpcSession::get_or_create(parties, crypto_provider)?;
    let backend = SharedBackend::new(session, encoder);
    let module =
        model.map_parameters(&backend, |_, t: &Tensor<f32>| -> std::result::Result<SharedTensor, crate::Error> {
            let shared = backend.share_f32(t)?;
            shared.mark_reusable();
            Ok(shared)
        })?;
    Ok(SharedModel { module, backend })
}

/// `model.fix_precision()` for plaintext modules; `.share(...)` then shares it.
pub trait FixPrecisionModule: Module<Cpu<f32>> + Sized {
    /// The model at PySyft's default precision (base 10, 3 fractional digits).
    fn fix_precision(&self) -> FixedPrecisionModel<'_, Self> {
        self.fix_precision_with(FixedEncoder::default())
    }

    /// The model at the given precision.
    fn fix_precision_with(&self, encoder: FixedEncoder) -> FixedPrecisionModel<'_, Self> {
        FixedPrecisionModel { model: self, encoder }
    }
}

impl<M: Module<Cpu<f32>>> FixPrecisionModule for M {}

/// A plaintext model with the precision it will be shared at
/// ([`FixPrecisionModule::fix_precision`]).
#[derive(Debug)]
#[must_use]
pub struct FixedPrecisionModel<'m, M> {
    model: &'m M,
    encoder: FixedEncoder,
}

impl<M: Module<Cpu<f32>>> FixedPrecisionModel<'_, M> {
    /// The encoder.
    pub fn encoder(&self) -> FixedEncoder {
        self.encoder
    }

    /// Encodes and shares every parameter among `parties` (PySyft's
    /// `model.fix_precision().share(bob, alice, crypto_provider=james)`).
    pub fn share(
        &self,
        parties: &[&dyn Worker],
        crypto_provider: &dyn Worker,
    ) -> Result<SharedModel<M::Mapped<SharedBackend>>> {
        share_model(self.model, self.encoder, parties, crypto_provider)
    }
}
