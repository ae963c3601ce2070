"""Part 12, "Train an encrypted network on encrypted data", written in Python as the
notebook has it, checked against the Rust example's own code (``syft::tutorials::part12``,
run through ``syft_rs.reference``) on the same workers, data and initial weights.

Sharing and Beaver triples draw fresh randomness, and truncation on shares rounds each
product down or up depending on it, so two encrypted runs differ by a few units of the
fixed-point resolution (10^-3 at precision 3): the Python losses must equal the Rust
example's within ``0.02 + 1%``. The plaintext losses are deterministic.
"""

import numpy as np

import syft_rs as sy
from syft_rs import nn, optim

# The notebook's data and deterministic initialisation.
DATA = [[0, 0], [0, 1], [1, 0], [1, 1.0]]
TARGET = [[0], [0], [1], [1.0]]
WEIGHTS = {
    "0.weight": [[0.0738, -0.2109], [-0.1579, 0.3174]],
    "0.bias": [0.0, 0.1],
    "2.weight": [[-0.5368, 0.7050]],
    "2.bias": [-0.0343],
}


def toy_model():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    model.load_state_dict({k: np.array(v) for k, v in WEIGHTS.items()})
    return model


def encrypted_losses(bob, alice, james, precision, iterations=20):
    data = sy.tensor(DATA).fix_precision(precision_fractional=precision)
    data = data.share(bob, alice, crypto_provider=james, requires_grad=True)
    target = sy.tensor(TARGET).fix_precision(precision_fractional=precision)
    target = target.share(bob, alice, crypto_provider=james, requires_grad=True)
    model = toy_model().fix_precision(precision_fractional=precision)
    model = model.share(bob, alice, crypto_provider=james, requires_grad=True)
    assert data.requires_grad and data.locations == ["bob", "alice"]
    assert "AdditiveSharingTensor" in repr(data)
    # data, target and the 4 parameters on each party; nothing on the crypto provider
    assert (bob.object_count(), alice.object_count(), james.object_count()) == (6, 6, 0)

    opt = optim.SGD(params=model.parameters(), lr=0.1).fix_precision()
    losses = []
    for _ in range(iterations):
        opt.zero_grad()
        pred = model(data)
        loss = ((pred - target) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.get().item())
    trained = model.get().float_precision()
    assert trained.num_parameters() == 9
    del opt, model, data, target, pred, loss
    assert (bob.object_count(), alice.object_count(), james.object_count()) == (0, 0, 0)
    return losses


def plain_losses(iterations=20):
    model = toy_model()
    x, y = sy.tensor(DATA), sy.tensor(TARGET)
    opt = optim.SGD(params=model.parameters(), lr=0.1)
    losses = []
    for _ in range(iterations):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_the_notebook_setup_is_the_rust_examples():
    setup = sy.reference.part12_setup()
    np.testing.assert_array_equal(setup["data"], DATA)
    np.testing.assert_array_equal(setup["target"], TARGET)
    for k, v in WEIGHTS.items():
        np.testing.assert_array_equal(setup[k], v)


def test_encrypted_losses_decrease_and_match_the_rust_example(workers):
    alice, bob, james = workers("alice", "bob", "james")
    python = encrypted_losses(bob, alice, james, precision=3)
    rust = sy.reference.part12_encrypted_losses(bob, alice, crypto_provider=james, precision_fractional=3)
    assert len(python) == len(rust) == 20
    assert python[-1] < python[0] / 10, f"the loss decreases: {python}"
    for i, (p, r) in enumerate(zip(python, rust)):
        assert abs(p - r) <= 0.02 + 0.01 * abs(r), f"iteration {i}: Python {p}, Rust example {r}"


def test_plaintext_losses_match_the_rust_example():
    python = plain_losses()
    rust = sy.reference.part12_plain_losses()
    # float32 here, float64 in the example
    np.testing.assert_allclose(python, rust, rtol=1e-4, atol=1e-6)


def test_precision_4_tracks_plaintext(workers):
    alice, bob, james = workers("alice", "bob", "james")
    python = encrypted_losses(bob, alice, james, precision=4)
    plain = sy.reference.part12_plain_losses()
    for i, (e, p) in enumerate(zip(python, plain)):
        assert abs(e - p) <= max(0.02 * abs(p), 0.005), f"iteration {i}: encrypted {e}, plaintext {p}"
