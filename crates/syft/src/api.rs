//! The tutorial-shaped API: `fix_precision()`, `share(&[&bob, &alice], &crypto_provider)`,
//! `get()` / `float_precision()`, for tensors and whole modules.

use crate::error::Result;
use syft_autograd::{Cpu, Var};
use syft_fixed::FixedEncoder;
use syft_nn::Module;
use syft_ring::{Float, Tensor};
use syft_worker::{MpcSession, SharedBackend, SharedHandle, SharedTensor, Worker};

/// A fixed-point encoded tensor (plaintext), ready to be shared.
#[derive(Clone, Debug, PartialEq)]
pub struct FixedPrecisionTensor {
    raw: Tensor<u64>,
    encoder: FixedEncoder,
}

impl FixedPrecisionTensor {
    /// The encoded ring tensor.
    #[must_use]
    pub fn raw(&self) -> &Tensor<u64> {
        &self.raw
    }

    /// The encoder.
    #[must_use]
    pub fn encoder(&self) -> FixedEncoder {
        self.encoder
    }

    /// Decodes back to real numbers (PySyft's `float_precision()`).
    #[must_use]
    pub fn float_precision(&self) -> Tensor<f64> {
        self.encoder.decode(&self.raw)
    }

    /// Secret-shares the value among `parties`, with `crypto_provider` dealing the
    /// material for products. Sharing again with the same workers reuses their session.
    pub fn share(&self, parties: &[&dyn Worker], crypto_provider: &dyn Worker) -> Result<SharedTensor> {
        let session = MpcSession::get_or_create(parties, crypto_provider)?;
        Ok(SharedTensor::share(&self.raw, Some(self.encoder), &session)?)
    }

    /// Shares the value as a leaf of the autograd graph (`requires_grad=True`).
    pub fn share_requires_grad(
        &self,
        parties: &[&dyn Worker],
        crypto_provider: &dyn Worker,
    ) -> Result<Var<SharedBackend>> {
        let session = MpcSession::get_or_create(parties, crypto_provider)?;
        let backend = SharedBackend::new(session.clone(), self.encoder);
        let t = SharedTensor::share(&self.raw, Some(self.encoder), &session)?;
        Ok(Var::new(&backend, t, true))
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
        Ok(FixedPrecisionTensor { raw: encoder.encode(self)?, encoder })
    }
}

/// A model whose parameters are shared among workers, with the backend to run it on.
#[derive(Debug)]
pub struct SharedModel<M> {
    /// The module over shared parameters.
    pub module: M,
    /// The backend (session and precision).
    pub backend: SharedBackend,
}

impl<M: Module<SharedBackend>> SharedModel<M> {
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
        Ok(t.clone().get_f64()?.map(|v| v as f32))
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

/// `model.fix_precision().share(...)` for plaintext modules.
pub trait ShareModule: Module<Cpu<f32>> + Sized {
    /// Fixed-point encodes and shares every parameter, at PySyft's default precision.
    fn fix_precision_share(
        &self,
        parties: &[&dyn Worker],
        crypto_provider: &dyn Worker,
    ) -> Result<SharedModel<Self::Mapped<SharedBackend>>> {
        share_model(self, FixedEncoder::default(), parties, crypto_provider)
    }
}

impl<M: Module<Cpu<f32>>> ShareModule for M {}
