"""Layers, models and losses (PyTorch's ``torch.nn``).

``Sequential(Linear(784, 500), ReLU(), Linear(500, 10))`` builds a model whose layers
run in Rust; ``model.load_state_dict({...})``, ``model.load_safetensors(path)`` or
``syft_rs.onnx.load(path)`` load weights; ``model.fix_precision().share(bob, alice,
crypto_provider=james)`` shares it. ``functional`` has the losses.
"""

from types import SimpleNamespace

from ._native import (
    AvgPool2d,
    Conv2d,
    FixedPrecisionModel,
    Flatten,
    Layer,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    SharedModel,
    cross_entropy,
    mse_loss,
    nll_loss,
)

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "FixedPrecisionModel",
    "Flatten",
    "Layer",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "Sequential",
    "SharedModel",
    "functional",
]


def _relu(x):
    return x.relu()


def _log_softmax(x, dim=1):
    return x.log_softmax(dim)


#: PyTorch's ``torch.nn.functional``: ``F.relu``, ``F.log_softmax``, ``F.nll_loss``,
#: ``F.cross_entropy``, ``F.mse_loss``.
functional = SimpleNamespace(
    relu=_relu,
    log_softmax=_log_softmax,
    nll_loss=nll_loss,
    cross_entropy=cross_entropy,
    mse_loss=mse_loss,
)
