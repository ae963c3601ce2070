"""ONNX import and export: ``load(path)`` and ``from_bytes(data)`` give a ``Sequential``
(a chain of Gemm/MatMul/Conv/pooling/Flatten, as ``torch.onnx.export`` writes it);
``export(model, input_shape)`` writes one."""

from ._native import onnx_export as export
from ._native import onnx_from_bytes as from_bytes
from ._native import onnx_load as load

__all__ = ["export", "from_bytes", "load"]
