"""Part 11 of the PySyft tutorials, "Secure deep learning classification", cell by cell,
on syft_rs (NumPy instead of PyTorch and torchvision).

The server trains an MLP 784-500-10 on MNIST in plaintext, then secret-shares it between
bob and alice; the client shares its test images and labels the same way; the model
classifies under encryption and only the number of correct predictions is decrypted.

Run: ``python python/tutorials/part11_secure_classification.py [--epochs 10]
[--test-batches 200] [--data-dir data/mnist]``.
"""

import argparse
import pathlib
import time

import numpy as np

import syft_rs as sy
from syft_rs import nn, optim
from syft_rs.nn import functional as F

REPO = pathlib.Path(__file__).resolve().parents[2]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--test-batches", type=int, default=200)
parser.add_argument("--data-dir", default=str(REPO / "data" / "mnist"))
cli = parser.parse_args()

epochs = cli.epochs
n_test_batches = cli.test_batches

# We create a few workers (named client, bob, and alice), and the crypto_provider who
# gives all the crypto primitives we may need.
client = sy.VirtualWorker(id="client")
bob = sy.VirtualWorker(id="bob")
alice = sy.VirtualWorker(id="alice")
crypto_provider = sy.VirtualWorker(id="crypto_provider")


# We define the setting of the learning task
class Arguments:
    def __init__(self):
        self.batch_size = 64
        self.test_batch_size = 50
        self.epochs = epochs
        self.lr = 0.001
        self.log_interval = 100


args = Arguments()

# ## Data loading and sending to workers
# The server's training set (MNIST, normalised with mean 0.1307 and std 0.3081). Without
# the official test files, the last 2,000 training digits are the test set.
mnist = sy.datasets.load_mnist(cli.data_dir)
print("test split:", mnist["test_split"])
rng = np.random.default_rng(0)


def train_loader():
    order = rng.permutation(len(mnist["train_labels"]))
    for b in range(0, len(order), args.batch_size):
        idx = order[b : b + args.batch_size]
        yield sy.tensor(mnist["train_images"][idx]), sy.tensor(mnist["train_labels"][idx])


n_train_batches = -(-len(mnist["train_labels"]) // args.batch_size)

test_loader = [
    (mnist["test_images"][b : b + args.test_batch_size], mnist["test_labels"][b : b + args.test_batch_size])
    for b in range(0, len(mnist["test_labels"]), args.test_batch_size)
]

# The client encrypts its data by sharing it additively across alice and bob: images in
# fixed precision, labels as integers (they are compared with argmax indices).
private_test_loader = []
for data, target in test_loader[:n_test_batches]:
    private_test_loader.append(
        (
            sy.tensor(data).fix_precision().share(alice, bob, crypto_provider=crypto_provider),
            sy.tensor(target).share(alice, bob, crypto_provider=crypto_provider),
        )
    )

# ## Feed forward neural network specification: x.view(-1, 784) -> fc1 -> relu -> fc2
model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))


# ## Launch the training (local, plaintext)
def train(args, model, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader()):
        optimizer.zero_grad()
        output = model(data)
        output = F.log_softmax(output, dim=1)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch,
                    batch_idx * args.batch_size,
                    n_train_batches * args.batch_size,
                    100.0 * batch_idx / n_train_batches,
                    loss.item(),
                )
            )


optimizer = optim.Adam(model.parameters(), lr=args.lr)

for epoch in range(1, args.epochs + 1):
    train(args, model, train_loader, optimizer, epoch)


def test(args, model, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    n = 0
    with sy.no_grad():
        for data, target in test_loader:
            output = model(sy.tensor(data))
            output = F.log_softmax(output, dim=1)
            test_loss += F.nll_loss(output, target).item() * len(target)  # sum up batch loss
            pred = output.argmax(1)  # get the index of the max log-probability
            correct += int((pred.numpy() == target).sum())
            n += len(target)
    test_loss /= n
    print(
        "\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(test_loss, correct, n, 100.0 * correct / n)
    )


test(args, model, test_loader)

# ## Secure evaluation
# The server shares its model: the weights stay secret from the client.
model = model.fix_precision().share(alice, bob, crypto_provider=crypto_provider)


# The model weights, the data inputs, the prediction and the target used for scoring are
# all encrypted; only the final score is decrypted.
def test(args, model, test_loader):
    model.eval()
    n_correct_priv = 0
    n_total = 0
    start = time.perf_counter()
    with sy.no_grad():
        for data, target in test_loader[:n_test_batches]:
            output = model(data)
            pred = output.argmax(dim=1)
            n_correct_priv += pred.eq(target.view_as(pred)).sum()
            n_total += args.test_batch_size
    n_correct = n_correct_priv.copy().get().float_precision().long().item()
    seconds = time.perf_counter() - start
    print("Test set: Accuracy: {}/{} ({:.0f}%)".format(n_correct, n_total, 100.0 * n_correct / n_total))
    print("{:.3f} ms per image under encryption".format(1000 * seconds / n_total))


test(args, model, private_test_loader)
