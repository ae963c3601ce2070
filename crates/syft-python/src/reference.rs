//! `syft_rs.reference`: the Rust examples' own computations of Parts 11 and 12
//! (`syft::tutorials`), run through the binding, so that the Python tests check a
//! tutorial written in Python against the code the Rust example runs.

use crate::classes::{attached, encoder};
use crate::errors::{err, run};
use crate::nn::PySequential;
use crate::workers::{PyWorker, dyns};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use syft::prelude::Tensor;
use syft::tutorials::{part11, part12};

/// Part 12's losses with the example's code: the toy data and network shared among
/// `parties` with `crypto_provider` dealing, `iterations` steps of SGD at `lr`.
#[pyfunction]
#[pyo3(signature = (*parties, crypto_provider, precision_fractional = 3, iterations = 20, lr = 0.1))]
pub(crate) fn part12_encrypted_losses(
    py: Python<'_>,
    parties: &Bound<'_, PyTuple>,
    crypto_provider: &Bound<'_, PyWorker>,
    precision_fractional: u32,
    iterations: usize,
    lr: f64,
) -> PyResult<Vec<f64>> {
    let (parties, cp) = attached(parties, crypto_provider)?;
    let encoder = encoder(precision_fractional, 10)?;
    run(py, move || part12::encrypted_losses(&dyns(&parties), &cp, encoder, iterations, lr, |_, _| {}))
}

/// Part 12's plaintext losses (`f64`) with the example's code.
#[pyfunction]
#[pyo3(signature = (iterations = 20, lr = 0.1))]
pub(crate) fn part12_plain_losses(py: Python<'_>, iterations: usize, lr: f64) -> PyResult<Vec<f64>> {
    run(py, move || part12::plain_losses(iterations, lr))
}

/// Part 12's data, targets and initial weights, as the example has them (NumPy).
#[pyfunction]
pub(crate) fn part12_setup(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let arr = |shape: &[usize], v: &[f64]| -> PyResult<Bound<'_, PyAny>> {
        crate::convert::to_numpy(py, &Tensor::new(shape, v.to_vec()).map_err(err)?)
    };
    d.set_item("data", arr(&[4, 2], &part12::DATA)?)?;
    d.set_item("target", arr(&[4, 1], &part12::TARGET)?)?;
    d.set_item("0.weight", arr(&[2, 2], &part12::FC1_WEIGHT)?)?;
    d.set_item("0.bias", arr(&[2], &part12::FC1_BIAS)?)?;
    d.set_item("2.weight", arr(&[1, 2], &part12::FC2_WEIGHT)?)?;
    d.set_item("2.bias", arr(&[1], &part12::FC2_BIAS)?)?;
    Ok(d)
}

/// Part 11's encrypted evaluation with the example's code: `model` shared among
/// `parties`, the `images` (`[N, ...]`) and their `labels` shared batch by batch, the
/// correct predictions and the agreements with the plaintext model counted under
/// encryption. Returns `{images, batches, correct, agreeing, plain_correct, bytes,
/// rounds}`.
#[pyfunction]
#[pyo3(signature = (model, images, labels, *parties, crypto_provider, batch = 50, precision_fractional = 3))]
#[allow(clippy::too_many_arguments, reason = "the tutorial's setting, spelled out")]
pub(crate) fn part11_evaluate<'py>(
    py: Python<'py>,
    model: &Bound<'py, PySequential>,
    images: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    parties: &Bound<'py, PyTuple>,
    crypto_provider: &Bound<'py, PyWorker>,
    batch: usize,
    precision_fractional: u32,
) -> PyResult<Bound<'py, PyDict>> {
    let inputs = crate::convert::f32_tensor(images)?;
    let labels: Vec<usize> = crate::convert::int_tensor(labels)?
        .data()
        .iter()
        .map(|&l| usize::try_from(l).map_err(|_| crate::errors::invalid("labels", "a negative label")))
        .collect::<PyResult<_>>()?;
    let (parties, cp) = attached(parties, crypto_provider)?;
    let encoder = encoder(precision_fractional, 10)?;
    let m = model.get().model();
    let (plain_correct, e) = run(py, move || {
        let plain = part11::plain_predictions(m, &inputs, batch)?;
        let plain_correct = plain.iter().zip(&labels).filter(|(p, l)| p == l).count();
        let e = part11::evaluate_encrypted(m, &inputs, &labels, &plain, batch, encoder, &dyns(&parties), &cp, || {})?;
        Ok((plain_correct, e))
    })?;
    let d = PyDict::new(py);
    d.set_item("images", e.images)?;
    d.set_item("batches", e.batches)?;
    d.set_item("correct", e.correct)?;
    d.set_item("agreeing", e.agreeing)?;
    d.set_item("plain_correct", plain_correct)?;
    d.set_item("bytes", e.traffic.bytes())?;
    d.set_item("rounds", e.traffic.rounds())?;
    Ok(d)
}
