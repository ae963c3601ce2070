"""Errors: every Rust error arrives as a Python exception of the ``SyftError`` family,
carrying the Rust error's message, and the interpreter goes on (a wrong shape, a NaN, a
dead worker, a bad model file, misuse of the API)."""

import json
import pathlib

import numpy as np
import pytest

import syft_rs as sy

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "crates" / "syft-onnx" / "fixtures"


def test_the_exception_hierarchy():
    for cls in (
        sy.RingError,
        sy.FixedPrecisionError,
        sy.ShareError,
        sy.SpdzError,
        sy.SecureNNError,
        sy.AutogradError,
        sy.NNError,
        sy.WorkerError,
        sy.NetError,
        sy.OnnxError,
    ):
        assert issubclass(cls, sy.SyftError)
    assert issubclass(sy.SyftError, Exception)


def test_a_wrong_shape_locally_remotely_and_shared(workers):
    a, b = sy.tensor(np.ones((2, 3))), sy.tensor(np.ones((4, 5)))
    with pytest.raises(sy.RingError, match=r"matmul.*\[2, 3\].*\[4, 5\]"):
        a @ b
    bob, alice, james = workers("bob", "alice", "james")
    # On a worker, the worker's refusal names it.
    with pytest.raises(sy.WorkerError, match=r"worker bob.*\[2, 3\].*\[4, 5\]"):
        (a.send(bob) @ b.send(bob)).get()
    sa = a.fix_precision().share(bob, alice, crypto_provider=james)
    sb = b.fix_precision().share(bob, alice, crypto_provider=james)
    # The SPDZ product checks the shapes before any material is dealt.
    with pytest.raises(sy.SpdzError, match=r"matmul: incompatible shapes \[2, 3\] and \[4, 5\]"):
        sa @ sb
    # The shares are untouched: the computation goes on.
    np.testing.assert_allclose((sa + sa).get().float_precision().numpy(), 2 * np.ones((2, 3)))
    # A state dict of the wrong shape.
    model = sy.nn.Sequential(sy.nn.Linear(2, 3))
    with pytest.raises(sy.NNError, match=r"0\.weight.*\[3, 2\]"):
        model.load_state_dict({"0.weight": np.ones((2, 2)), "0.bias": np.ones(3)})
    with pytest.raises(sy.NNError, match="lack parameter `0.bias`"):
        model.load_state_dict({"0.weight": np.ones((3, 2))})


def test_a_nan_input(workers):
    x = sy.tensor([1.0, float("nan"), 3.0])
    with pytest.raises(sy.FixedPrecisionError, match="value NaN at index 1 is not finite"):
        x.fix_precision()
    with pytest.raises(sy.FixedPrecisionError, match="inf at index 0 is not finite"):
        sy.tensor([np.inf]).fix_precision()
    bob, alice, james = workers("bob", "alice", "james")
    model = sy.nn.Sequential(sy.nn.Linear(3, 1))
    model.load_state_dict({"0.weight": np.array([[np.nan, 0, 0]]), "0.bias": np.zeros(1)})
    with pytest.raises(sy.FixedPrecisionError, match="not finite"):
        model.fix_precision().share(bob, alice, crypto_provider=james)
    # Plaintext floats carry NaN as IEEE says.
    assert np.isnan(x.send(bob).get().numpy()[1])


def test_a_dead_worker(workers):
    bob, alice = workers("bob", "alice")
    x = sy.tensor([1.0, 2.0]).send(bob)
    chain = sy.tensor([3.0]).send(alice).send(bob)
    bob.shutdown()
    with pytest.raises(sy.WorkerError, match="transport to worker bob"):
        x.get()
    with pytest.raises(sy.WorkerError, match="transport to worker bob"):
        x + x
    with pytest.raises(sy.WorkerError, match="transport to worker bob"):
        sy.tensor([1.0]).send(bob)
    with pytest.raises(sy.WorkerError, match="transport to worker bob"):
        bob.object_count()
    with pytest.raises(sy.WorkerError, match="transport to worker bob"):
        chain.get()
    # bob has left the hub: its name no longer resolves.
    with pytest.raises(sy.WorkerError, match='unknown worker "bob"'):
        x.location
    with pytest.raises(sy.WorkerError, match="not an in-process worker"):
        sy.tensor([1.0]).send(alice).location.shutdown()
    bob.shutdown()  # twice: nothing
    # alice goes on.
    assert sy.tensor([5.0]).send(alice).get().tolist() == [5.0]


def test_a_dead_party_of_a_shared_tensor(workers):
    bob, alice, james = workers("bob", "alice", "james")
    a = sy.tensor([1.0, -2.0]).fix_precision().share(bob, alice, crypto_provider=james)
    alice.shutdown()
    with pytest.raises(sy.SyftError, match="alice"):
        (a * a).get()
    with pytest.raises(sy.SyftError, match="alice"):
        a.get()


def test_misuse_raises_not_aborts(hub, workers):
    bob, alice = workers("bob", "alice")
    with pytest.raises(sy.WorkerError, match="already exists"):
        sy.VirtualWorker(id="bob", hub=hub)
    with pytest.raises(sy.WorkerError, match="fix_precision"):
        sy.tensor([1.0]).share(bob, alice, crypto_provider=alice)
    with pytest.raises(sy.WorkerError, match="different workers"):
        sy.tensor([1.0]).send(bob) + sy.tensor([1.0]).send(alice)
    with pytest.raises(sy.WorkerError, match="int64"):
        sy.tensor([1]) + sy.tensor([1.0])
    with pytest.raises(sy.WorkerError, match="expected workers"):
        sy.tensor([1]).share(bob, "alice", crypto_provider=alice)
    x = sy.tensor([1.0]).send(bob)
    assert x.get().tolist() == [1.0]
    with pytest.raises(sy.WorkerError):
        x.get()  # already fetched
    with pytest.raises(sy.AutogradError):
        sy.tensor([1.0, 2.0], requires_grad=True).backward()  # not a scalar
    with pytest.raises(sy.WorkerError, match="reduction"):
        sy.nn.functional.mse_loss(sy.tensor([1.0]), sy.tensor([1.0]), reduction="max")


def test_onnx_errors_and_fixtures():
    with pytest.raises(sy.OnnxError, match="unsupported operator"):
        sy.onnx.load(FIXTURES / "bad_unsupported_op.onnx")
    with pytest.raises(sy.OnnxError, match="not an ONNX model"):
        sy.onnx.from_bytes(b"\x00garbage\xff" * 10)
    with pytest.raises(sy.OnnxError):
        sy.onnx.load(FIXTURES / "does_not_exist.onnx")
    ref = json.loads((FIXTURES / "mlp_gemm.json").read_text())
    model = sy.onnx.load(FIXTURES / "mlp_gemm.onnx")
    x = np.array(ref["input"]["data"], dtype=np.float32).reshape(ref["input"]["shape"])
    y = np.array(ref["output"]["data"], dtype=np.float32).reshape(ref["output"]["shape"])
    np.testing.assert_allclose(model(sy.tensor(x)).numpy(), y, rtol=1e-4, atol=1e-5)
