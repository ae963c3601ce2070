#!/usr/bin/env python3
"""CrypTen 0.4.1 and plaintext PyTorch on the MNIST workloads of syft-rs's examples.

Workloads (each prints one JSON object on standard output; progress goes to standard error):

* ``inference``: encrypted classification with the MLP 784-500-10 at ``--batch`` (50) on
  the first ``--images`` test digits, and at batch 1 on the first ``--batch1-images``.
  The weights come from a safetensors file written by
  ``cargo run --release --example secure_mnist -- --save-weights FILE``. Party 0 owns the
  model, party 1 the images and one-hot labels; the correct predictions and the
  agreements with the plaintext model are counted under encryption and only the two
  counts are decrypted, as in ``secure_mnist``.
* ``training``: encrypted training of the MLP 784-500-10, batch 64, softmax cross-entropy,
  SGD lr 0.1 (CrypTen's MNIST example workload), on the first
  ``--train-batches`` x ``--train-batch`` training digits for one epoch, from the initial
  weights in ``--init-weights`` when given (``secure_mnist --epochs 0 --save-weights``
  writes syft-rs's initialisation). The trained model is decrypted and tested in
  plaintext on the whole test split.
* the same workloads in plaintext PyTorch (one thread).

The launcher forks one process per party, plus CrypTen's trusted-third-party server when
the provider is ``TTP``; they meet over gloo with a file rendezvous. Each party hands its
results back through a pipe before ``crypten.uninit()``, and processes still alive some
seconds after the results are in are killed (``crypten.mpc.run_multiprocess`` can hang
in ``uninit``). The parent process imports neither torch nor CrypTen, so every fork
starts clean.

Settings: 2 parties, 16 fractional bits (CrypTen's default), int64 ring, one torch thread
per process, communication counters on (``cfg.communicator.verbose``).

    peers/.venv/bin/python peers/crypten_mnist.py --weights mlp.safetensors --images 2000
"""

import argparse
import gzip
import json
import multiprocessing as mp
import multiprocessing.connection
import os
import shutil
import sys
import tempfile
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MEAN, STD = 0.1307, 0.3081
WORLD = 2
HELD_OUT = 2000

# ----------------------------------------------------------------------------- data


def read_idx(path):
    """An IDX file's bytes (gzip or raw, told by the gzip magic)."""
    with open(path, "rb") as f:
        raw = f.read()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def locate(directory, name):
    for candidate in (os.path.join(directory, name + ".gz"), os.path.join(directory, name)):
        if os.path.isfile(candidate):
            return candidate
    return None


def read_set(directory, images_name, labels_name):
    img = read_idx(locate(directory, images_name))
    lab = read_idx(locate(directory, labels_name))
    magic, n, rows, cols = np.frombuffer(img[:16], dtype=">u4")
    if magic != 0x803:
        raise ValueError(f"{images_name}: magic {magic:#x}, expected 0x803")
    lmagic, ln = np.frombuffer(lab[:8], dtype=">u4")
    if lmagic != 0x801 or ln != n:
        raise ValueError(f"{labels_name}: magic {lmagic:#x}, {ln} labels for {n} images")
    pixels = np.frombuffer(img, dtype=np.uint8, count=int(n * rows * cols), offset=16)
    labels = np.frombuffer(lab, dtype=np.uint8, count=int(n), offset=8).astype(np.int64)
    return pixels.reshape(int(n), int(rows * cols)), labels


def normalise(pixels):
    """(p / 255 - 0.1307) / 0.3081 in double precision, then rounded to float32: the
    table syft-nn's `MnistSet::normalized::<f32>` builds."""
    table = ((np.arange(256, dtype=np.float64) / 255.0 - MEAN) / STD).astype(np.float32)
    return table[pixels]


def load_mnist(directory):
    """Training and test sets as syft-nn's `Mnist::load_or_hold_out(dir, 2000)` sees them."""
    train_px, train_y = read_set(directory, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    if locate(directory, "t10k-images-idx3-ubyte") and locate(directory, "t10k-labels-idx1-ubyte"):
        test_px, test_y = read_set(directory, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
        split = "official t10k"
    else:
        keep = len(train_y) - HELD_OUT
        train_px, test_px = train_px[:keep], train_px[keep:]
        train_y, test_y = train_y[:keep], train_y[keep:]
        split = f"last {HELD_OUT} training digits"
        say(f"note: no t10k files in {directory}; testing on the {split}")
    return normalise(train_px), train_y, normalise(test_px), test_y, split


def default_data_dir():
    shared = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "mnist"))
    if locate(shared, "t10k-images-idx3-ubyte"):
        return shared
    return os.path.join(REPO, "data", "mnist")


def say(line):
    print(line, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- model


def make_mlp(widths=(784, 500, 10)):
    import torch

    layers = []
    for i in range(len(widths) - 1):
        if i:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
    return torch.nn.Sequential(*layers)


def load_weights(model, path):
    """Loads a safetensors file into the torch model by name (`0.weight`, ...). syft-rs
    writes PyTorch's layout, `[out, in]`; a matrix stored `[in, out]` is transposed.
    Returns the layouts found."""
    import torch
    from safetensors.numpy import load_file

    stored = load_file(path)
    layouts = {}
    state = model.state_dict()
    with torch.no_grad():
        for name, param in state.items():
            if name not in stored:
                raise KeyError(f"{path}: no tensor {name!r} (has {sorted(stored)})")
            a = stored[name]
            want = tuple(param.shape)
            if a.shape == want:
                layouts[name] = "as torch"
            elif a.ndim == 2 and a.shape[::-1] == want:
                a = a.T
                layouts[name] = "transposed"
            else:
                raise ValueError(f"{path}: {name} has shape {a.shape}, the model wants {want}")
            param.copy_(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))
    return layouts


def state_from_params(model, arrays):
    """Puts decrypted parameters (numpy, any order) into the torch MLP by shape; every
    shape in the MLP 784-500-10 is distinct. A transposed matrix is turned back."""
    import torch

    left = list(arrays)
    with torch.no_grad():
        for name, param in model.state_dict().items():
            want = tuple(param.shape)
            for i, a in enumerate(left):
                if a.shape == want or (a.ndim == 2 and a.shape[::-1] == want and a.shape != want):
                    param.copy_(torch.from_numpy(np.ascontiguousarray(a if a.shape == want else a.T)))
                    del left[i]
                    break
            else:
                raise ValueError(f"no decrypted parameter of shape {want} for {name}")


def accuracy(model, x, y):
    import torch

    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean())


def one_hot(labels, classes=10):
    import torch

    out = torch.zeros(len(labels), classes)
    out[torch.arange(len(labels)), torch.as_tensor(labels)] = 1.0
    return out


# ----------------------------------------------------------------------------- launcher


def _setup_process(rank, rendezvous, provider):
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(WORLD), RENDEZVOUS=rendezvous, DISTRIBUTED_BACKEND="gloo"
    )
    import warnings

    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    import crypten

    crypten.cfg.mpc.provider = provider
    crypten.cfg.encoder.precision_bits = 16
    crypten.cfg.communicator.verbose = True
    return crypten


def _party(rank, rendezvous, provider, job, payload, conn):
    crypten = None
    try:
        crypten = _setup_process(rank, rendezvous, provider)
        crypten.init()
        result = job(rank, payload)
        conn.send({"ok": True, "rank": rank, "result": result})
    except BaseException:
        conn.send({"ok": False, "rank": rank, "error": traceback.format_exc()})
    finally:
        conn.close()
        if crypten is not None:
            try:
                crypten.uninit()
            except BaseException:
                pass
    os._exit(0)


def _dealer(rank, rendezvous, provider, job, payload, conn):
    """CrypTen's trusted third party: serves until party 0's uninit says terminate, then
    hands back its own communication counters."""
    try:
        crypten = _setup_process(rank, rendezvous, provider)
        from crypten.mpc.provider.ttp_provider import TTPServer

        TTPServer()
        stats = crypten.communicator.get().get_communication_stats()
        conn.send({"ok": True, "rank": rank, "result": {"stats": stats}})
    except BaseException:
        conn.send({"ok": False, "rank": rank, "error": traceback.format_exc()})
    finally:
        conn.close()
    os._exit(0)


def _plain(rank, job, payload, conn):
    try:
        import torch

        torch.set_num_threads(1)
        conn.send({"ok": True, "rank": rank, "result": job(payload)})
    except BaseException:
        conn.send({"ok": False, "rank": rank, "error": traceback.format_exc()})
    finally:
        conn.close()
    os._exit(0)


def _collect(procs, timeout, grace, required):
    """Waits for the results of the `required` ranks (all of them within `timeout`), then
    up to `grace` seconds for the others; kills whatever is still alive after that."""
    results, errors = {}, {}
    waiting = {conn: rank for rank, (proc, conn) in procs.items()}
    deadline = time.monotonic() + timeout
    phase_grace = False
    while waiting:
        if not phase_grace and not (set(required) - set(results) - set(errors)):
            phase_grace, deadline = True, time.monotonic() + grace
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for conn in mp.connection.wait(list(waiting), timeout=left):
            rank = waiting.pop(conn)
            try:
                msg = conn.recv()
            except EOFError:
                errors[rank] = "exited without a result"
                continue
            if msg["ok"]:
                results[rank] = msg["result"]
            else:
                errors[rank] = msg["error"]
        if errors and not phase_grace:
            # A party failed: the others would wait for it forever.
            break
    killed = []
    end = time.monotonic() + (grace if not errors else 2)
    for rank, (proc, conn) in procs.items():
        proc.join(timeout=max(0.0, end - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
            killed.append(rank)
        conn.close()
    for rank in required:
        if rank not in results and rank not in errors:
            errors[rank] = f"no result within {timeout} s"
    return results, errors, killed


def launch(job, payload, provider, timeout, grace=15.0):
    """Runs `job(rank, payload)` in the two parties (and the dealer for TTP). Returns the
    results by rank, the ranks killed after the grace time, and the wall seconds."""
    ctx = mp.get_context("fork")
    tmp = tempfile.mkdtemp(prefix="crypten-rdv-")
    rendezvous = "file://" + os.path.join(tmp, "rendezvous")
    procs = {}
    start = time.monotonic()
    ranks = list(range(WORLD)) + ([WORLD] if provider == "TTP" else [])
    try:
        for rank in ranks:
            recv, send = ctx.Pipe(duplex=False)
            target = _party if rank < WORLD else _dealer
            proc = ctx.Process(target=target, args=(rank, rendezvous, provider, job, payload, send))
            proc.start()
            send.close()
            procs[rank] = (proc, recv)
        results, errors, killed = _collect(procs, timeout, grace, required=list(range(WORLD)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors:
        detail = "\n".join(f"--- rank {r}:\n{e}" for r, e in sorted(errors.items()))
        raise RuntimeError(f"CrypTen launch failed (killed: {killed}):\n{detail}")
    return results, killed, time.monotonic() - start


def run_plain(job, payload, timeout=3600):
    """Runs `job(payload)` in one forked process with one torch thread."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_plain, args=(0, job, payload, send))
    proc.start()
    send.close()
    results, errors, _ = _collect({0: (proc, recv)}, timeout, 5, required=[0])
    if errors:
        raise RuntimeError(f"plaintext job failed:\n{errors[0]}")
    return results[0]


# ----------------------------------------------------------------------------- jobs


def plain_inference(p):
    """Plaintext PyTorch inference at the given batch: predictions and time."""
    import torch

    model = make_mlp()
    layouts = load_weights(model, p["weights"])
    model.eval()
    x = torch.from_numpy(p["x"])
    preds = []
    start = time.perf_counter()
    with torch.no_grad():
        for b in range(0, len(x), p["batch"]):
            preds.append(model(x[b : b + p["batch"]]).argmax(1))
    seconds = time.perf_counter() - start
    pred = torch.cat(preds).numpy()
    return {"pred": pred, "seconds": seconds, "layouts": layouts}


def crypten_inference(rank, p):
    import torch
    import crypten

    comm = crypten.communicator.get()
    model = make_mlp()
    load_weights(model, p["weights"])
    model.eval()
    t = time.perf_counter()
    cmodel = crypten.nn.from_pytorch(model, torch.empty(1, 784))
    convert_seconds = time.perf_counter() - t
    x, y, plain_pred, batch = p["x"], p["y"], p["plain_pred"], p["batch"]
    n = len(y)

    comm.barrier()
    comm.reset_communication_stats()
    start = time.perf_counter()
    cmodel.encrypt(src=0)
    cmodel.eval()
    encrypt_seconds = time.perf_counter() - start
    correct = agreeing = None
    batches = 0
    with crypten.no_grad():
        for b in range(0, n, batch):
            e = min(b + batch, n)
            # Party 1 owns the images and labels; party 0 passes zeros of the same shape.
            xb = torch.from_numpy(x[b:e]) if rank == 1 else torch.zeros(e - b, 784)
            yb = one_hot(y[b:e]) if rank == 1 else torch.zeros(e - b, 10)
            x_enc = crypten.cryptensor(xb, src=1)
            y_enc = crypten.cryptensor(yb, src=1)
            pred = cmodel(x_enc).argmax(dim=1, one_hot=True)
            hits = (pred * y_enc).sum()
            # The plaintext model's predictions are public to both (the model owner's);
            # this product is local.
            agree = (pred * one_hot(plain_pred[b:e])).sum()
            correct = hits if correct is None else correct + hits
            agreeing = agree if agreeing is None else agreeing + agree
            batches += 1
    n_correct = int(round(correct.get_plain_text().item()))
    n_agree = int(round(agreeing.get_plain_text().item()))
    seconds = time.perf_counter() - start
    stats = comm.get_communication_stats()
    return {
        "correct": n_correct,
        "agree": n_agree,
        "seconds": seconds,
        "encrypt_seconds": encrypt_seconds,
        "convert_seconds": convert_seconds,
        "batches": batches,
        "stats": stats,
    }


def batch_order(n, batch, seed):
    """One epoch over the first n digits in a seeded random order, in batches."""
    idx = np.random.default_rng(seed).permutation(n)
    return [idx[i : i + batch] for i in range(0, n, batch)]


def plain_training(p):
    """Plaintext PyTorch: the same MLP, initial weights, batches, loss and step."""
    import torch

    torch.manual_seed(p["seed"])
    model = make_mlp()
    if p["init_weights"]:
        load_weights(model, p["init_weights"])
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"])
    x, y = torch.from_numpy(p["x"]), torch.from_numpy(p["y"])
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    for idx in p["order"]:
        idx = torch.from_numpy(idx)
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    return {
        "seconds": seconds,
        "last_loss": float(loss.item()),
        "test_accuracy": accuracy(model, p["test_x"], p["test_y"]),
    }


def crypten_training(rank, p):
    import torch
    import crypten

    comm = crypten.communicator.get()
    torch.manual_seed(p["seed"])
    model = make_mlp()
    if p["init_weights"]:
        load_weights(model, p["init_weights"])
    cmodel = crypten.nn.from_pytorch(model, torch.empty(1, 784))
    x, y = p["x"], p["y"]
    like_ours = p["mode"] == "like-ours"
    # like-ours: the gradient softmax(z) - y every batch, the loss itself (a logarithm,
    # decrypted) every `loss_every` batches, no gradient clipping: what
    # secure_training_mnist does. crypten: CrypTen's own loop, the full loss every batch
    # and `update_parameters` with its default threshold of 100 on the gradients.
    full_loss = crypten.nn.CrossEntropyLoss()
    grad_only = crypten.nn.CrossEntropyLoss(skip_forward=True)
    threshold = None if like_ours else 100

    comm.barrier()
    comm.reset_communication_stats()
    start = time.perf_counter()
    cmodel.encrypt(src=0)
    cmodel.train()
    encrypt_seconds = time.perf_counter() - start
    last_loss = float("nan")
    per_batch = []
    for i, idx in enumerate(p["order"]):
        t = time.perf_counter()
        m = len(idx)
        xb = torch.from_numpy(x[idx]) if rank == 1 else torch.zeros(m, 784)
        yb = one_hot(y[idx]) if rank == 1 else torch.zeros(m, 10)
        x_enc = crypten.cryptensor(xb, src=1)
        y_enc = crypten.cryptensor(yb, src=1)
        out = cmodel(x_enc)
        want_loss = (not like_ours) or i % p["loss_every"] == 0
        loss = (full_loss if want_loss else grad_only)(out, y_enc)
        cmodel.zero_grad()
        loss.backward()
        cmodel.update_parameters(p["lr"], grad_threshold=threshold)
        if want_loss:
            last_loss = float(loss.get_plain_text().item())
        per_batch.append(time.perf_counter() - t)
        if rank == 0 and (i % 5 == 0 or i + 1 == len(p["order"])):
            say(f"  crypten training ({p['mode']}): batch {i + 1}/{len(p['order'])}, "
                f"{per_batch[-1]:.2f} s, loss {last_loss:.4f}")
    seconds = time.perf_counter() - start
    stats = comm.get_communication_stats()
    # The model owner (party 0) gets the trained parameters and tests them in plaintext.
    params = [prm.get_plain_text(dst=0) for prm in cmodel.parameters()]
    result = {
        "seconds": seconds,
        "encrypt_seconds": encrypt_seconds,
        "per_batch": per_batch,
        "last_loss": last_loss,
        "stats": stats,
    }
    if rank == 0:
        trained = make_mlp()
        state_from_params(trained, [prm.numpy() for prm in params])
        trained.eval()
        result["test_accuracy"] = accuracy(trained, p["test_x"], p["test_y"])
    return result


# ----------------------------------------------------------------------------- reports


def comm_report(results, units, per):
    """CrypTen's counters, per party (rounds = communication calls, bytes = 8 per ring
    element sent or received), and an estimate of all bytes sent by everyone: the sum
    over parties and dealer halved (each transfer is logged by sender and receiver)."""
    out = {}
    total = 0.0
    for rank in sorted(results):
        s = results[rank]["stats"]
        total += s["bytes"]
        who = "dealer" if rank == WORLD else f"party{rank}"
        out[f"bytes_per_{per}_{who}"] = s["bytes"] / units
        out[f"rounds_per_batch_{who}"] = s["rounds"] / results[0].get("batches", 1)
    out[f"bytes_per_{per}_total_sent"] = total / 2 / units
    return out


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="IDX files (default: ../shared/data/mnist from the "
                    "repository root when it has the test set, else data/mnist)")
    ap.add_argument("--weights", help="safetensors of the trained MLP 784-500-10 (from secure_mnist "
                    "--save-weights); needed for inference")
    ap.add_argument("--init-weights", help="safetensors of the initial MLP for training (secure_mnist "
                    "--epochs 0 --save-weights); default: PyTorch's initialisation")
    ap.add_argument("--only", default="inference,inference1,training",
                    help="comma list of inference (batch --batch), inference1 (batch 1), training")
    ap.add_argument("--providers", default="TTP", help="comma list of TTP, TFP")
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--batch1-images", type=int, default=100)
    ap.add_argument("--train-batches", type=int, default=20, help="training batches (one epoch over "
                    "the first train-batches x train-batch digits)")
    ap.add_argument("--train-batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1, help="SGD step on the mean loss")
    ap.add_argument("--train-modes", default="like-ours",
                    help="comma list: like-ours (gradient only, loss every --loss-every batches, no "
                    "clipping) and/or crypten (full loss each batch, CrypTen's gradient threshold)")
    ap.add_argument("--loss-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per launch before giving up")
    args = ap.parse_args()

    data_dir = args.data_dir or default_data_dir()
    train_x, train_y, test_x, test_y, split = load_mnist(data_dir)
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    providers = [p.strip().upper() for p in args.providers.split(",") if p.strip()]
    common = {"test_split": split, "precision_bits": 16, "parties": WORLD, "torch_threads": 1}

    inference = [("inference", args.batch, args.images), ("inference1", 1, args.batch1_images)]
    for name, batch, images in inference:
        if name not in only or images <= 0:
            continue
        if not args.weights:
            ap.error("inference needs --weights")
        n = min(images, len(test_y))
        x, y = test_x[:n], test_y[:n]
        plain = run_plain(plain_inference, {"weights": args.weights, "x": x, "batch": batch})
        plain_pred = plain["pred"]
        emit({"framework": "pytorch", "workload": "inference", "batch": batch, "images": n,
              "ms_per_image": 1000 * plain["seconds"] / n, "accuracy": float((plain_pred == y).mean()),
              "weights_layout": plain["layouts"], **common})
        for provider in providers:
            say(f"crypten inference, batch {batch}, {n} images, provider {provider}")
            payload = {"weights": args.weights, "x": x, "y": y, "plain_pred": plain_pred, "batch": batch}
            results, killed, wall = launch(crypten_inference, payload, provider, args.timeout)
            r0 = results[0]
            seconds = max(results[r]["seconds"] for r in range(WORLD))
            emit({"framework": "crypten", "workload": "inference", "provider": provider, "batch": batch,
                  "images": n, "ms_per_image": 1000 * seconds / n, "accuracy": r0["correct"] / n,
                  "agreement": r0["agree"] / n, "plain_accuracy": float((plain_pred == y).mean()),
                  "encrypt_model_seconds": r0["encrypt_seconds"], "onnx_convert_seconds": r0["convert_seconds"],
                  **comm_report(results, n, "image"), "killed_after_results": killed,
                  "launch_seconds": wall, **common})

    if "training" in only and args.train_batches > 0:
        n = min(args.train_batches * args.train_batch, len(train_y))
        x, y = train_x[:n], train_y[:n]
        order = batch_order(n, args.train_batch, args.seed)
        base = {"x": x, "y": y, "order": order, "lr": args.lr, "seed": args.seed,
                "init_weights": args.init_weights, "test_x": test_x, "test_y": test_y}
        plain = run_plain(plain_training, base)
        shape = {"model": "mlp-784-500-10", "batch": args.train_batch, "batches": len(order),
                 "train_images": n, "lr": args.lr, "loss": "ce", "test_examples": len(test_y),
                 "init": "syft-rs init (safetensors)" if args.init_weights else "pytorch default"}
        emit({"framework": "pytorch", "workload": "training", **shape,
              "seconds_per_batch": plain["seconds"] / len(order), "test_accuracy": plain["test_accuracy"],
              "last_loss": plain["last_loss"], **common})
        for mode in [m.strip() for m in args.train_modes.split(",") if m.strip()]:
            for provider in providers:
                say(f"crypten training ({mode}), {len(order)} batches of {args.train_batch}, provider {provider}")
                payload = dict(base, mode=mode, loss_every=args.loss_every)
                results, killed, wall = launch(crypten_training, payload, provider, args.timeout)
                r0 = results[0]
                for r in results.values():
                    r.setdefault("batches", len(order))
                seconds = max(results[r]["seconds"] for r in range(WORLD))
                per = sorted(r0["per_batch"])
                emit({"framework": "crypten", "workload": "training", "mode": mode, "provider": provider,
                      **shape, "seconds_per_batch": seconds / len(order),
                      "median_seconds_per_batch": per[len(per) // 2],
                      "encrypt_model_seconds": r0["encrypt_seconds"],
                      "test_accuracy": r0["test_accuracy"], "plain_test_accuracy": plain["test_accuracy"],
                      "last_loss": r0["last_loss"], **comm_report(results, len(order), "batch"),
                      "killed_after_results": killed, "launch_seconds": wall, **common})


if __name__ == "__main__":
    main()
