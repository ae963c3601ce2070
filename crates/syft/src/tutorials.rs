//! The reference computations of the tutorials, written once and shared by the examples
//! (`encrypted_training`, `secure_mnist`) and the Python package (`syft_rs.reference`),
//! so that a Python run of a tutorial is checked against the very code the Rust example
//! runs, not against numbers copied from its output.
//!
//! - [`part12`]: the toy data and the 2-2-1 network with the tutorial's deterministic
//!   initial weights; SGD on the summed squared error in plaintext ([`part12::plain_losses`],
//!   `f64`) and on shared data and model ([`part12::encrypted_losses`]).
//! - [`part11`]: encrypted classification of a batch sequence by a shared model, the correct
//!   predictions (and the agreements with the plaintext model) counted under encryption
//!   ([`part11::evaluate_encrypted`]).

/// Part 12: train an encrypted network on encrypted data.
pub mod part12 {
    use crate::api::{Decrypt, FixPrecision, Share, share_model};
    use crate::error::Result;
    use syft_autograd::{Backend, Cpu, Var};
    use syft_fixed::FixedEncoder;
    use syft_nn::{Linear, Module, Optimizer, ReLU, Reduction, Sequential, Sgd, SgdConfig, mse_loss};
    use syft_ring::Tensor;
    use syft_worker::Worker;

    /// The toy inputs, `[4, 2]` row-major: the four corners of the unit square.
    pub const DATA: [f64; 8] = [0., 0., 0., 1., 1., 0., 1., 1.];
    /// The toy targets, `[4, 1]`: the first coordinate.
    pub const TARGET: [f64; 4] = [0., 0., 1., 1.];
    /// `fc1.weight` (`[2, 2]`) of the tutorial's deterministic initialisation.
    pub const FC1_WEIGHT: [f64; 4] = [0.0738, -0.2109, -0.1579, 0.3174];
    /// `fc1.bias` (`[2]`).
    pub const FC1_BIAS: [f64; 2] = [0.0, 0.1];
    /// `fc2.weight` (`[1, 2]`).
    pub const FC2_WEIGHT: [f64; 2] = [-0.5368, 0.7050];
    /// `fc2.bias` (`[1]`).
    pub const FC2_BIAS: [f64; 1] = [-0.0343];

    /// The toy data and targets.
    pub fn toy_data() -> Result<(Tensor<f64>, Tensor<f64>)> {
        Ok((Tensor::new(&[4, 2], DATA.to_vec())?, Tensor::new(&[4, 1], TARGET.to_vec())?))
    }

    /// The tutorial's network, `Linear(2, 2) → ReLU → Linear(2, 1)`, with its deterministic
    /// initial weights, on `backend`.
    pub fn toy_model<B: Backend>(backend: &B) -> std::result::Result<Sequential<B>, B::Error> {
        let t = |shape: &[usize], v: &[f64]| backend.constant(shape, v);
        let fc1 = Linear::from_parameters(
            Var::param(backend, t(&[2, 2], &FC1_WEIGHT)?),
            Some(Var::param(backend, t(&[2], &FC1_BIAS)?)),
        )?;
        let fc2 = Linear::from_parameters(
            Var::param(backend, t(&[1, 2], &FC2_WEIGHT)?),
            Some(Var::param(backend, t(&[1], &FC2_BIAS)?)),
        )?;
        Ok(Sequential::new().with(fc1).with(ReLU::new()).with(fc2))
    }

    /// The same training in plaintext (`f64`): the loss before each step.
    pub fn plain_losses(iterations: usize, lr: f64) -> Result<Vec<f64>> {
        let cpu = Cpu::<f64>::default();
        let (data, target) = toy_data()?;
        let model = toy_model(&cpu)?;
        let mut opt = Sgd::new(model.parameters(), SgdConfig::new(lr));
        let (x, y) = (Var::constant(&cpu, data), Var::constant(&cpu, target));
        let mut losses = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            opt.zero_grad();
            let loss = mse_loss(&model.forward(&x)?, &y, Reduction::Sum)?;
            loss.backward()?;
            opt.step()?;
            losses.push(loss.value().item()?);
        }
        Ok(losses)
    }

    /// The tutorial's encrypted training: data, targets and model fixed-point encoded with
    /// `encoder` and shared among `parties` (with `requires_grad`), `crypto_provider`
    /// dealing; `iterations` steps of SGD with learning rate `lr` on `((pred − target)²).sum()`.
    /// Only the loss is decrypted, once per iteration; `each(iteration, loss)` sees it.
    pub fn encrypted_losses(
        parties: &[&dyn Worker],
        crypto_provider: &dyn Worker,
        encoder: FixedEncoder,
        iterations: usize,
        lr: f64,
        mut each: impl FnMut(usize, f64),
    ) -> Result<Vec<f64>> {
        let (data, target) = toy_data()?;
        let data = data.fix_precision_with(encoder)?.share_requires_grad(parties, crypto_provider)?;
        let target = target.fix_precision_with(encoder)?.share_requires_grad(parties, crypto_provider)?;
        let model = share_model(&toy_model(&Cpu::<f32>::default())?, encoder, parties, crypto_provider)?;
        let mut opt = Sgd::new(model.parameters(), SgdConfig::new(lr));
        let mut losses = Vec::with_capacity(iterations);
        for iteration in 0..iterations {
            opt.zero_grad();
            let pred = model.forward(&data)?;
            let loss = pred.sub(&target)?.square()?.sum()?;
            loss.backward()?;
            opt.step()?;
            let value = loss.get()?.float_precision().item()?;
            each(iteration, value);
            losses.push(value);
        }
        Ok(losses)
    }
}

/// Part 11: encrypted classification, model and data both secret.
pub mod part11 {
    use crate::api::{FixPrecision, Share, share_model};
    use crate::error::Result;
    use syft_autograd::{Cpu, Var, no_grad};
    use syft_fixed::FixedEncoder;
    use syft_nn::{Module, Sequential};
    use syft_ring::Tensor;
    use syft_worker::{SessionStats, SharedTensor, Worker, WorkerError};

    /// What an encrypted evaluation counted (only the two counts are decrypted).
    #[derive(Clone, Debug)]
    #[non_exhaustive]
    pub struct Evaluation {
        /// Images classified.
        pub images: usize,
        /// Batches run.
        pub batches: usize,
        /// Encrypted predictions equal to the label.
        pub correct: usize,
        /// Encrypted predictions equal to the plaintext model's.
        pub agreeing: usize,
        /// The traffic of the session among the workers during the evaluation.
        pub traffic: SessionStats,
    }

    fn check_batch(batch: usize) -> Result<()> {
        if batch == 0 {
            return Err(WorkerError::InvalidArgument { op: "batch", reason: "must be at least 1".into() }.into());
        }
        Ok(())
    }

    fn check_count(what: &str, count: usize, images: usize) -> Result<()> {
        if count != images {
            return Err(WorkerError::InvalidArgument {
                op: "evaluate_encrypted",
                reason: format!("{count} {what} for {images} images"),
            }
            .into());
        }
        Ok(())
    }

    /// The plaintext model's predicted class of each image of `inputs` (`[N, ...]`), in
    /// batches of `batch`.
    pub fn plain_predictions(model: &Sequential<Cpu<f32>>, inputs: &Tensor<f32>, batch: usize) -> Result<Vec<usize>> {
        check_batch(batch)?;
        let cpu = Cpu::<f32>::new();
        let n = inputs.shape().first().copied().unwrap_or(0);
        let mut out = Vec::with_capacity(n);
        no_grad(|| -> Result<()> {
            for b in (0..n).step_by(batch) {
                let x = Var::constant(&cpu, inputs.slice_axis(0, b, (b + batch).min(n))?);
                out.extend(model.forward(&x)?.value().argmax_axis(1)?.into_vec());
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Shares `model` (fixed point with `encoder`) among `parties`, then, batch by batch,
    /// shares the images of `inputs` and their one-hot `labels` as the data owner would,
    /// classifies under encryption (SPDZ products, SecureNN ReLU and argmax) and counts
    /// under encryption the predictions equal to the label, and those equal to
    /// `plain_predictions` (the plaintext model's, public to the model owner: a local
    /// product). Only the two counts are decrypted. `each_batch` runs after each batch.
    #[allow(clippy::too_many_arguments, reason = "the tutorial's setting, spelled out")]
    pub fn evaluate_encrypted(
        model: &Sequential<Cpu<f32>>,
        inputs: &Tensor<f32>,
        labels: &[usize],
        plain_predictions: &[usize],
        batch: usize,
        encoder: FixedEncoder,
        parties: &[&dyn Worker],
        crypto_provider: &dyn Worker,
        mut each_batch: impl FnMut(),
    ) -> Result<Evaluation> {
        check_batch(batch)?;
        let images = inputs.shape().first().copied().unwrap_or(0);
        check_count("labels", labels.len(), images)?;
        check_count("plaintext predictions", plain_predictions.len(), images)?;
        let shared = share_model(model, encoder, parties, crypto_provider)?;
        let session = shared.session().clone();
        let before = session.comm_stats()?;
        let accumulate = |total: Option<SharedTensor>, more: SharedTensor| -> Result<SharedTensor> {
            Ok(match total {
                None => more,
                Some(t) => t.add(&more)?,
            })
        };
        // The steps of every batch are pipelined: the client sends them without waiting
        // for each one's acknowledgements, and reads those only a few steps behind.
        let (correct, agreeing, batches) = session.pipelined(|| -> Result<_> {
            let mut correct: Option<SharedTensor> = None;
            let mut agreeing: Option<SharedTensor> = None;
            let mut batches = 0;
            for b in (0..images).step_by(batch) {
                let end = (b + batch).min(images);
                // The data owner shares its images.
                let x = inputs.slice_axis(0, b, end)?.fix_precision_with(encoder)?.share(parties, crypto_provider)?;
                // Encrypted inference; the argmax is a one-hot of raw bits.
                let pred = shared.infer(&x)?.argmax_one_hot(1)?;
                let classes = pred.shape().get(1).copied().unwrap_or(0);
                // The data owner's labels, one-hot and shared.
                let y = Tensor::<u64>::one_hot(&labels[b..end], classes)?.share(parties, crypto_provider)?;
                correct = Some(accumulate(correct, pred.mul(&y)?.sum()?)?);
                let plain = Tensor::<u64>::one_hot(&plain_predictions[b..end], classes)?;
                agreeing = Some(accumulate(agreeing, pred.mul_public_raw(&plain)?.sum()?)?);
                batches += 1;
                each_batch();
            }
            Ok((correct, agreeing, batches))
        })?;
        let decrypt_count = |count: Option<SharedTensor>| -> Result<usize> {
            Ok(match count {
                Some(c) => usize::try_from(c.get()?.into_raw().item()?).unwrap_or(usize::MAX),
                None => 0,
            })
        };
        let correct = decrypt_count(correct)?;
        let agreeing = decrypt_count(agreeing)?;
        let traffic = session.comm_stats()?.since(&before);
        Ok(Evaluation { images, batches, correct, agreeing, traffic })
    }
}
