"""Optimizers (PyTorch's ``torch.optim``): ``SGD`` over plaintext or shared parameters,
``Adam`` over plaintext ones."""

from ._native import SGD, Adam

__all__ = ["SGD", "Adam"]
