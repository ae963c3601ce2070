"""syft_rs: privacy-preserving deep learning from Python over the syft-rs Rust core.

The names follow PySyft 0.2 and PyTorch:

- workers: ``VirtualWorker(id="bob")``, ``NetworkWorker(id, address, identity=...)``,
  ``WorkerServer``, ``local_worker``; certificates with ``DevCa``, ``TlsIdentity``,
  ``gen_certs``;
- tensors: ``Tensor(data)`` from anything with ``__array__``, ``.numpy()``,
  ``.send(bob)`` (a ``PointerTensor``), ``.fix_precision()``, ``.share(bob, alice,
  crypto_provider=james)`` (an ``AdditiveSharingTensor``);
- models and training: ``syft_rs.nn`` (``Sequential``, ``Linear``, ``Conv2d``, ...,
  ``functional``), ``syft_rs.optim`` (``SGD``, ``Adam``), ``syft_rs.onnx``,
  ``syft_rs.datasets``, ``no_grad``;
- errors: every Rust error is raised as a subclass of ``SyftError`` with its message.
"""

from . import _native
from ._native import (
    AdditiveSharingTensor,
    AutogradError,
    DevCa,
    FixedPrecisionError,
    FixedPrecisionTensor,
    Hub,
    IssuedCert,
    LocalWorker,
    NetError,
    NetworkWorker,
    NNError,
    OnnxError,
    PointerTensor,
    RingError,
    SecureNNError,
    ShareError,
    SpdzError,
    SyftError,
    Tensor,
    TlsIdentity,
    VirtualWorker,
    Worker,
    WorkerError,
    WorkerServer,
    connect,
    gen_certs,
    is_grad_enabled,
    local_worker,
    manual_seed,
    no_grad,
)
from . import datasets, nn, onnx, optim, reference

__all__ = [
    "AdditiveSharingTensor",
    "AutogradError",
    "DevCa",
    "FixedPrecisionError",
    "FixedPrecisionTensor",
    "Hub",
    "IssuedCert",
    "LocalWorker",
    "NetError",
    "NetworkWorker",
    "NNError",
    "OnnxError",
    "PointerTensor",
    "RingError",
    "SecureNNError",
    "ShareError",
    "SpdzError",
    "SyftError",
    "Tensor",
    "TlsIdentity",
    "VirtualWorker",
    "Worker",
    "WorkerError",
    "WorkerServer",
    "add",
    "connect",
    "datasets",
    "gen_certs",
    "is_grad_enabled",
    "local_worker",
    "manual_seed",
    "matmul",
    "nn",
    "no_grad",
    "onnx",
    "optim",
    "reference",
    "tensor",
]


def tensor(data, requires_grad=False, dtype=None):
    """A tensor from ``data`` (PyTorch's ``torch.tensor``)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def add(x, y):
    """``x + y`` (PyTorch's ``torch.add``), where ``x`` lives: locally, on a worker, or shared."""
    return x.add(y) if hasattr(x, "add") else x + y


def matmul(x, y):
    """``x @ y`` (PyTorch's ``torch.matmul``)."""
    return x @ y
