"""Data sets: ``load_mnist(data_dir)`` reads MNIST's IDX files as the Rust examples do
(normalised with mean 0.1307 and std 0.3081, flattened to 784 values)."""

from ._native import load_mnist

__all__ = ["load_mnist"]
