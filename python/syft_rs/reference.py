"""The Rust examples' own computations of Parts 11 and 12 (``syft::tutorials``), to check
a tutorial written in Python against the code the Rust example runs.

- ``part12_setup()``: the toy data, targets and initial weights;
- ``part12_encrypted_losses(*parties, crypto_provider=..., precision_fractional=3,
  iterations=20, lr=0.1)`` and ``part12_plain_losses(iterations=20, lr=0.1)``;
- ``part11_evaluate(model, images, labels, *parties, crypto_provider=..., batch=50)``.
"""

from ._native import part11_evaluate, part12_encrypted_losses, part12_plain_losses, part12_setup

__all__ = ["part11_evaluate", "part12_encrypted_losses", "part12_plain_losses", "part12_setup"]
