"""Times Part 11 (encrypted MNIST classification, MLP 784-500-10, batch 50) from Python
against the Rust example ``secure_mnist`` on the same test images and weights.

The Rust example trains the model (``--epochs``) and saves its weights; Python loads them
and runs the tutorial's encrypted evaluation, written in Python on ``syft_rs``; the Rust
example then runs again on the saved weights. Both count the correct predictions under
encryption and decrypt only the count; both time the model's sharing and every batch.
Build the package in release first (``pip install ./python`` or ``maturin develop
--release`` in ``python/``).

Run from the repository root: ``python python/bench_part11.py [--images 2000]
[--epochs 2] [--rounds 2]``.
"""

import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import time

import syft_rs as sy
from syft_rs import nn

REPO = pathlib.Path(__file__).resolve().parents[1]


def rust_example(args, weights, train):
    cmd = ["cargo", "run", "--quiet", "--release", "--example", "secure_mnist", "--"]
    cmd += ["--data-dir", args.data_dir, "--images", str(args.images), "--batch", str(args.batch), "--json"]
    cmd += ["--epochs", str(args.epochs), "--save-weights", weights] if train else ["--weights", weights]
    out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def python_part11(args, weights):
    mnist = sy.datasets.load_mnist(args.data_dir)
    images = mnist["test_images"][: args.images]
    labels = mnist["test_labels"][: args.images]
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    model.load_safetensors(weights)

    hub = sy.Hub()
    bob = sy.VirtualWorker(id="bob", hub=hub)
    alice = sy.VirtualWorker(id="alice", hub=hub)
    crypto_provider = sy.VirtualWorker(id="crypto_provider", hub=hub)

    start = time.perf_counter()
    shared = model.fix_precision().share(bob, alice, crypto_provider=crypto_provider)
    n_correct_priv = 0
    with sy.no_grad():
        for b in range(0, len(labels), args.batch):
            data = sy.tensor(images[b : b + args.batch]).fix_precision().share(bob, alice, crypto_provider=crypto_provider)
            target = sy.tensor(labels[b : b + args.batch]).share(bob, alice, crypto_provider=crypto_provider)
            output = shared(data)
            pred = output.argmax(dim=1)
            n_correct_priv += pred.eq(target.view_as(pred)).sum()
    n_correct = n_correct_priv.get().float_precision().long().item()
    seconds = time.perf_counter() - start
    return {"secure_accuracy": n_correct / len(labels), "secure_ms_per_image": 1000 * seconds / len(labels)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of Rust and Python runs")
    parser.add_argument("--data-dir", default=str(REPO / "data" / "mnist"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "mlp.safetensors")
        rust, python = [], []
        first = rust_example(args, weights, train=True)
        rust.append(first)
        for _ in range(args.rounds):
            python.append(python_part11(args, weights))
            rust.append(rust_example(args, weights, train=False))
    rust_ms = min(r["secure_ms_per_image"] for r in rust)
    python_ms = min(p["secure_ms_per_image"] for p in python)
    print(f"images {args.images}, batch {args.batch}, load average {os.getloadavg()[0]:.2f}")
    for r in rust:
        print(f"  Rust example: {r['secure_ms_per_image']:.3f} ms/image, encrypted accuracy {r['secure_accuracy']:.4f}")
    for p in python:
        print(f"  Python:       {p['secure_ms_per_image']:.3f} ms/image, encrypted accuracy {p['secure_accuracy']:.4f}")
    print(f"best: Rust {rust_ms:.3f} ms/image, Python {python_ms:.3f} ms/image, ratio {python_ms / rust_ms:.3f}")


if __name__ == "__main__":
    main()
