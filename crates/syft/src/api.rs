//! The tutorial-shaped API: `fix_precision()`, `share(&[&bob, &alice], &crypto_provider)`,
//! `get()` / `float_precision()`, for tensors and whole modules.

use crate::error::Result;
use syft_autograd::{Cpu, Var};
use syft_fixed::FixedEncoder;
use syft_nn::Module;
use syft_ring::{Float, Tensor};
use syft_worker::{MpcSession, SharedBackend, SharedTensor, Worker};

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
