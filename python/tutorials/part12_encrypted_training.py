"""Part 12 of the PySyft tutorials, "Train an encrypted neural network on encrypted data",
cell by cell, on syft_rs (NumPy instead of PyTorch).

Run: ``python python/tutorials/part12_encrypted_training.py [--precision 3]``.
"""

import argparse

import numpy as np

import syft_rs as sy
from syft_rs import nn, optim

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--precision", type=int, default=3, help="fractional digits of the fixed-point encoding")
args = parser.parse_args()

# ## Step 1: Create workers and toy data
alice = sy.VirtualWorker(id="alice")
bob = sy.VirtualWorker(id="bob")
james = sy.VirtualWorker(id="james")

# A toy dataset
data = sy.tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1.0]]))
target = sy.tensor(np.array([[0], [0], [1], [1.0]]))

# A toy model: fc1 -> relu -> fc2, as a Sequential (parameters 0.* and 2.*), with the
# tutorial's deterministic initialisation so the run compares with plaintext training.
initial_weights = {
    "0.weight": np.array([[0.0738, -0.2109], [-0.1579, 0.3174]]),
    "0.bias": np.array([0.0, 0.1]),
    "2.weight": np.array([[-0.5368, 0.7050]]),
    "2.bias": np.array([-0.0343]),
}
model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
model.load_state_dict(initial_weights)
plain_data, plain_target = data, target

# ## Step 2: Encrypt the model and data
# We encode everything in fixed precision, then share it between bob and alice with
# james as the crypto provider; requires_grad records the encrypted autograd graph.
p = args.precision
data = data.fix_precision(precision_fractional=p).share(bob, alice, crypto_provider=james, requires_grad=True)
target = target.fix_precision(precision_fractional=p).share(bob, alice, crypto_provider=james, requires_grad=True)
model = model.fix_precision(precision_fractional=p).share(bob, alice, crypto_provider=james, requires_grad=True)

print(data)

# ## Step 3: Train
opt = optim.SGD(params=model.parameters(), lr=0.1).fix_precision()

for iter in range(20):
    # 1) erase previous gradients (if they exist)
    opt.zero_grad()

    # 2) make a prediction
    pred = model(data)

    # 3) calculate how much we missed
    loss = ((pred - target) ** 2).sum()

    # 4) figure out which weights caused us to miss
    loss.backward()

    # 5) change those weights
    opt.step()

    # 6) print our progress
    print(loss.get().float_precision())

# The loss went down! The same training in plaintext, for comparison (the slight
# difference comes from rounding to fixed precision: 2 digits diverge more, 4 less).
plain_model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
plain_model.load_state_dict(initial_weights)
plain_opt = optim.SGD(params=plain_model.parameters(), lr=0.1)
plain_losses = []
for iter in range(20):
    plain_opt.zero_grad()
    loss = ((plain_model(plain_data) - plain_target) ** 2).sum()
    loss.backward()
    plain_opt.step()
    plain_losses.append(loss.item())
print("plaintext losses:", " ".join(f"{l:.4f}" for l in plain_losses))
