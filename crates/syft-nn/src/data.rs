//! [`Dataset`]: inputs and class labels in memory, iterated in (seeded, shuffled) batches.

use crate::error::{Error, Result};
use crate::init::permutation;
use syft_ring::{Element, Prg, Tensor};

/// Inputs `[n, ...]` and one class label per example.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T: Element> {
    inputs: Tensor<T>,
    labels: Vec<usize>,
}

/// One batch: inputs `[b, ...]` and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<T: Element> {
    /// The inputs.
    pub inputs: Tensor<T>,
    /// The labels.
    pub labels: Vec<usize>,
}

impl<T: Element> Dataset<T> {
    /// A dataset; `inputs.shape()[0]` must equal `labels.len()`.
    pub fn new(inputs: Tensor<T>, labels: Vec<usize>) -> Result<Self> {
        let images = inputs.shape().first().copied().unwrap_or(0);
        if inputs.rank() == 0 || images != labels.len() {
            return Err(Error::CountMismatch { images, labels: labels.len() });
        }
        Ok(Self { inputs, labels })
    }

    /// The number of examples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All inputs.
    #[must_use]
    pub fn inputs(&self) -> &Tensor<T> {
        &self.inputs
    }

    /// All labels.
    #[must_use]
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The number of batches of size `batch_size` (the last may be smaller).
    #[must_use]
    pub fn num_batches(&self, batch_size: usize) -> usize {
        self.len().div_ceil(batch_size.max(1))
    }

    /// Batches in order (PyTorch's `DataLoader(shuffle=False)`).
    pub fn batches(&self, batch_size: usize) -> Result<Batches<'_, T>> {
        self.batches_in((0..self.len()).collect(), batch_size)
    }

    /// Batches in a fresh random order drawn from `rng` (`shuffle=True`); the last batch
    /// may be smaller, as with `drop_last=False`.
    pub fn shuffled_batches(&self, batch_size: usize, rng: &mut Prg) -> Result<Batches<'_, T>> {
        self.batches_in(permutation(rng, self.len()), batch_size)
    }

    fn batches_in(&self, order: Vec<usize>, batch_size: usize) -> Result<Batches<'_, T>> {
        if batch_size == 0 {
            return Err(Error::InvalidArgument {
                op: "Dataset::batches",
                reason: "batch size must be at least 1".into(),
            });
        }
        Ok(Batches { data: self, order, batch_size, next: 0 })
    }
}

/// An iterator over the batches of a [`Dataset`].
#[derive(Debug)]
pub struct Batches<'a, T: Element> {
    data: &'a Dataset<T>,
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
}

impl<T: Element> Iterator for Batches<'_, T> {
    type Item = Result<Batch<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.order.len());
        let idx = &self.order[self.next..end];
        self.next = end;
        let labels = idx.iter().map(|&i| self.data.labels[i]).collect();
        Some(self.data.inputs.index_select(0, idx).map(|inputs| Batch { inputs, labels }).map_err(Error::from))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch_size);
        (left, Some(left))
    }
}

impl<T: Element> ExactSizeIterator for Batches<'_, T> {}
