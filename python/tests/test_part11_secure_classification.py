"""Part 11, "Secure deep learning classification", written in Python as the notebook
has it, checked against the Rust example's own code (``syft::tutorials::part11``, run
through ``syft_rs.reference``) on the same images and weights.

A small network (784-64-10, one epoch of Adam) and 100 test images keep the test quick.
Two encrypted runs draw different randomness; an image whose two best plaintext logits
are closer than 0.05 (far above the fixed-point noise, a few 10^-3) may in principle be
classified differently by them, so the two encrypted counts must be equal up to the
number of such near ties (usually none: then exactly equal).
"""

import numpy as np

import syft_rs as sy
from syft_rs import nn, optim
from syft_rs.nn import functional as F

N_IMAGES = 100
BATCH = 50


def trained_model(mnist):
    sy.manual_seed(7)
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(8).permutation(len(mnist["train_labels"]))
    for b in range(0, len(order), 64):
        idx = order[b : b + 64]
        optimizer.zero_grad()
        output = F.log_softmax(model(sy.tensor(mnist["train_images"][idx])), dim=1)
        loss = F.nll_loss(output, sy.tensor(mnist["train_labels"][idx]))
        loss.backward()
        optimizer.step()
    return model


def test_encrypted_accuracy_equals_the_rust_examples(workers, mnist_dir):
    mnist = sy.datasets.load_mnist(mnist_dir)
    model = trained_model(mnist)
    images = mnist["test_images"][:N_IMAGES]
    labels = mnist["test_labels"][:N_IMAGES]
    client, bob, alice, crypto_provider = workers("client", "bob", "alice", "crypto_provider")

    # Plaintext reference, and the near ties of its logits.
    with sy.no_grad():
        logits = model(sy.tensor(images)).numpy()
    plain_correct = int((logits.argmax(1) == labels).sum())
    top2 = np.sort(logits, axis=1)[:, -2:]
    near_ties = int((top2[:, 1] - top2[:, 0] < 0.05).sum())

    # The Rust example's evaluation of the same model on the same images.
    rust = sy.reference.part11_evaluate(model, images, labels, bob, alice, crypto_provider=crypto_provider, batch=BATCH)
    assert rust["images"] == N_IMAGES and rust["batches"] == N_IMAGES // BATCH
    assert rust["plain_correct"] == plain_correct

    # The notebook's encrypted evaluation, in Python.
    private_test_loader = [
        (
            sy.tensor(images[b : b + BATCH]).fix_precision().share(alice, bob, crypto_provider=crypto_provider),
            sy.tensor(labels[b : b + BATCH]).share(alice, bob, crypto_provider=crypto_provider),
        )
        for b in range(0, N_IMAGES, BATCH)
    ]
    shared = model.fix_precision().share(alice, bob, crypto_provider=crypto_provider)
    n_correct_priv = 0
    with sy.no_grad():
        for data, target in private_test_loader:
            output = shared(data)
            pred = output.argmax(dim=1)
            n_correct_priv += pred.eq(target.view_as(pred)).sum()
    n_correct = n_correct_priv.copy().get().float_precision().long().item()

    assert abs(n_correct - rust["correct"]) <= near_ties, (n_correct, rust, near_ties)
    assert abs(n_correct - plain_correct) <= near_ties + 1, (n_correct, plain_correct)
    assert rust["agreeing"] >= N_IMAGES - near_ties - 1
    assert n_correct >= 80, f"a trained model classifies most digits: {n_correct}/{N_IMAGES}"


def test_weights_from_safetensors_and_onnx_classify_the_same(tmp_path, workers, mnist_dir):
    mnist = sy.datasets.load_mnist(mnist_dir)
    sy.manual_seed(3)
    model = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    path = tmp_path / "w.safetensors"
    model.save_safetensors(path)
    sy.manual_seed(4)
    loaded = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    loaded.load_safetensors(path)
    from_onnx = sy.onnx.from_bytes(sy.onnx.export(model, [784]))
    x = sy.tensor(mnist["test_images"][:20])
    expected = model(x).numpy()
    np.testing.assert_array_equal(loaded(x).numpy(), expected)
    np.testing.assert_allclose(from_onnx(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k], v)

    # The ONNX model shared: encrypted logits within the fixed-point tolerance.
    bob, alice, cp = workers("bob", "alice", "cp")
    shared = from_onnx.fix_precision().share(bob, alice, crypto_provider=cp)
    with sy.no_grad():
        out = shared(x.fix_precision().share(bob, alice, crypto_provider=cp))
    np.testing.assert_allclose(out.get().float_precision().numpy(), expected, atol=0.05)
