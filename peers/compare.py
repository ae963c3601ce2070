#!/usr/bin/env python3
"""syft-rs beside CrypTen 0.4.1 and plaintext PyTorch, in one sitting, in one table.

Runs, one after the other on this machine: syft-rs's `secure_mnist` (batch 50 and batch
1) and `secure_training_mnist` (MLP 784-500-10, batch 64, softmax cross-entropy, SGD lr
0.1) in release mode, then peers/crypten_mnist.py on the same images with the same
weights (and the same initial weights for training), and prints a markdown table with
the machine's CPU, SIMD flags, load, the date and the exact commands.

    bash peers/setup.sh
    python3 peers/compare.py --out peers/out/table.md

Standard library only; CrypTen runs in the virtual environment made by setup.sh.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def rel(path):
    """A path as the commands are shown: relative to the repository root when inside or
    beside it."""
    r = os.path.relpath(os.path.abspath(path), REPO)
    return r


def default_data_dir():
    shared = os.path.join(REPO, "..", "shared", "data", "mnist")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"):
        if os.path.isfile(os.path.join(shared, name)):
            return os.path.normpath(shared)
    return os.path.join(REPO, "data", "mnist")


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_info():
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    simd = {f: (f in flags) for f in ("avx2", "avx512f", "vaes", "aes", "pclmulqdq", "bmi2")}
    return model, os.cpu_count(), simd


class Sitting:
    """Runs the commands, keeps them (as shown, relative to the repository root) and the
    load average around each."""

    def __init__(self, log):
        self.commands = []
        self.log = log

    def run(self, argv, what, json_lines=False):
        shown = " ".join(shlex.quote(a) for a in argv)
        before = load()
        say(f"[{time.strftime('%H:%M:%S')}] {what}: {shown}  (load {before})")
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seconds = time.monotonic() - start
        with open(self.log, "a") as f:
            f.write(f"$ {shown}\n{proc.stderr}\n{proc.stdout}\n")
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"{what} failed (exit {proc.returncode}); log in {self.log}")
        self.commands.append((what, shown, seconds, before, load()))
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("{")]
        if json_lines:
            return [json.loads(ln) for ln in lines]
        return json.loads(lines[-1]) if lines else None


def say(line):
    print(line, file=sys.stderr, flush=True)


def fmt(v, digits=3):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.{max(digits - 1, 1)}f} M"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def pct(v):
    return "—" if v is None else f"{100 * v:.2f}%"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None,
                    help="IDX files (default ../shared/data/mnist from the repository root, else data/mnist)")
    ap.add_argument("--images", type=int, default=2000, help="test images at batch 50")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--batch1-images", type=int, default=100, help="test images at batch 1 (0: skip)")
    ap.add_argument("--train-batches", type=int, default=20, help="training batches of 64 (0: skip)")
    ap.add_argument("--providers", default="TTP", help="CrypTen providers, comma list of TTP, TFP")
    ap.add_argument("--train-modes", default="like-ours", help="see crypten_mnist.py --help")
    ap.add_argument("--plain-epochs", type=int, default=10,
                    help="plaintext epochs of secure_mnist's model (Adam) whose weights both sides use")
    ap.add_argument("--python", default=None, help="the virtual environment's python "
                    "(default peers/.venv/bin/python, or $PEERS_VENV/bin/python)")
    ap.add_argument("--work-dir", default=os.path.join(HERE, "out"), help="weights, JSON and the log")
    ap.add_argument("--out", default=None, help="write the markdown table here too")
    args = ap.parse_args()

    data_dir = rel(args.data_dir or default_data_dir())
    venv = os.environ.get("PEERS_VENV", os.path.join(HERE, ".venv"))
    python = rel(args.python or os.path.join(venv, "bin", "python"))
    os.makedirs(args.work_dir, exist_ok=True)
    work = rel(args.work_dir)
    weights = os.path.join(work, "mlp-784-500-10.safetensors")
    init = os.path.join(work, "mlp-784-500-10-init.safetensors")
    sitting = Sitting(os.path.join(args.work_dir, "compare.log"))
    open(sitting.log, "w").close()

    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = load()
    model, cores, simd = cpu_info()

    cargo = ["cargo", "run", "--quiet", "--release", "--example"]
    sitting.run(["cargo", "build", "--quiet", "--release", "--example", "secure_mnist",
                 "--example", "secure_training_mnist"], "build")
    sitting.run(cargo + ["secure_mnist", "--", "--data-dir", data_dir, "--epochs", str(args.plain_epochs),
                         "--save-weights", weights, "--images", "50", "--json"], "train the shared model")
    sitting.run(cargo + ["secure_mnist", "--", "--data-dir", data_dir, "--epochs", "0",
                         "--save-weights", init, "--images", "1", "--json"], "save the initial weights")

    ours = {}
    ours["inference"] = sitting.run(cargo + ["secure_mnist", "--", "--data-dir", data_dir, "--weights", weights,
                                             "--batch", str(args.batch), "--images", str(args.images), "--json"],
                                    f"syft-rs inference, batch {args.batch}")
    if args.batch1_images > 0:
        ours["inference1"] = sitting.run(cargo + ["secure_mnist", "--", "--data-dir", data_dir, "--weights", weights,
                                                  "--batch", "1", "--images", str(args.batch1_images), "--json"],
                                         "syft-rs inference, batch 1")
    if args.train_batches > 0:
        ours["training"] = sitting.run(cargo + ["secure_training_mnist", "--", "--data-dir", data_dir,
                                                "--layers", "784,500,10", "--batch", "64", "--loss", "ce",
                                                "--lr", "0.1", "--epochs", "1",
                                                "--train-images", str(64 * args.train_batches), "--json"],
                                       "syft-rs training")

    only = ["inference"] + (["inference1"] if args.batch1_images > 0 else []) + \
        (["training"] if args.train_batches > 0 else [])
    peers = sitting.run([python, os.path.join("peers", "crypten_mnist.py"), "--data-dir", data_dir,
                         "--weights", weights, "--init-weights", init, "--only", ",".join(only),
                         "--providers", args.providers, "--images", str(args.images), "--batch", str(args.batch),
                         "--batch1-images", str(args.batch1_images), "--train-batches", str(args.train_batches),
                         "--train-batch", "64", "--lr", "0.1", "--train-modes", args.train_modes],
                        "CrypTen and PyTorch", json_lines=True)
    load_end = load()
    with open(os.path.join(args.work_dir, "results.json"), "w") as f:
        json.dump({"syft-rs": ours, "peers": peers}, f, indent=1)

    def peer(framework, workload, batch=None, provider=None, mode=None):
        for p in peers:
            if p["framework"] == framework and p["workload"] == workload \
                    and (batch is None or p.get("batch") == batch) \
                    and (provider is None or p.get("provider") == provider) \
                    and (mode is None or p.get("mode") == mode):
                return p
        return None

    providers = [p.strip().upper() for p in args.providers.split(",") if p.strip()]
    modes = [m.strip() for m in args.train_modes.split(",") if m.strip()]
    cols = ["syft-rs"] + [f"CrypTen {p}" for p in providers] + [f"CrypTen {p} / syft-rs" for p in providers] + \
        ["PyTorch (plaintext, 1 thread)"]
    out = []
    out.append(f"| workload, figure | {' | '.join(cols)} |")
    out.append("|" + " --- |" * (len(cols) + 1))

    def row(label, mine, theirs, plain=None, with_ratio=True):
        cells = [fmt(mine) if not isinstance(mine, str) else mine]
        cells += [fmt(t) if not isinstance(t, str) else t for t in theirs]
        cells += [ratio(t, mine) if with_ratio and not isinstance(t, str) and not isinstance(mine, str) else "—"
                  for t in theirs]
        cells.append(plain if isinstance(plain, str) else fmt(plain))
        out.append(f"| {label} | {' | '.join(cells)} |")

    for key, batch, n in (("inference", args.batch, args.images), ("inference1", 1, args.batch1_images)):
        o = ours.get(key)
        if not o:
            continue
        cs = [peer("crypten", "inference", batch, p) or {} for p in providers]
        pt = peer("pytorch", "inference", batch) or {}
        head = f"inference b{batch}, {o['images']} img"
        row(f"{head}: ms per image", o["secure_ms_per_image"], [c.get("ms_per_image") for c in cs],
            pt.get("ms_per_image"))
        row(f"{head}: accuracy", pct(o["secure_accuracy"]), [pct(c.get("accuracy")) for c in cs],
            pct(pt.get("accuracy")), with_ratio=False)
        row(f"{head}: agreement with plaintext", pct(o["agreement"]), [pct(c.get("agreement")) for c in cs],
            "—", with_ratio=False)
        row(f"{head}: bytes per image, all parties' sends", o["bytes_per_image"],
            [c.get("bytes_per_image_total_sent") for c in cs], "—")
        row(f"{head}: bytes per image, party 1's counter", "—",
            [c.get("bytes_per_image_party1") for c in cs], "—", with_ratio=False)
        row(f"{head}: rounds per batch (ours: longest chain)", o["rounds_per_batch"], ["—" for _ in cs], "—",
            with_ratio=False)
        row(f"{head}: comm calls per batch, party 1 / party 0", "—",
            [f"{c['rounds_per_batch_party1']:.0f} / {c['rounds_per_batch_party0']:.0f}" if c else "—" for c in cs],
            "—", with_ratio=False)
        row(f"{head}: plaintext ms per image, same program", o["plain_ms_per_image"], ["—" for _ in cs], "—",
            with_ratio=False)
    o = ours.get("training")
    if o:
        pt = peer("pytorch", "training") or {}
        for mode in modes:
            cs = [peer("crypten", "training", None, p, mode) or {} for p in providers]
            head = f"training b64, {o['train_images'] // 64} batches ({mode})"
            row(f"{head}: s per batch", o["seconds_per_batch"], [c.get("seconds_per_batch") for c in cs],
                pt.get("seconds_per_batch"))
            row(f"{head}: test accuracy after", pct(o["test_accuracy"]), [pct(c.get("test_accuracy")) for c in cs],
                pct(pt.get("test_accuracy")), with_ratio=False)
            row(f"{head}: bytes per batch, all parties' sends", o["bytes_per_batch"],
                [c.get("bytes_per_batch_total_sent") for c in cs], "—")
            row(f"{head}: rounds per batch (ours: longest chain)", o["rounds_per_batch"], ["—" for _ in cs], "—",
                with_ratio=False)
            row(f"{head}: comm calls per batch, party 1 / party 0", "—",
                [f"{c['rounds_per_batch_party1']:.0f} / {c['rounds_per_batch_party0']:.0f}" if c else "—"
                 for c in cs], "—", with_ratio=False)
        row("training: plaintext s per batch / test accuracy, same program",
            f"{fmt(o['plain_seconds_per_batch'])} / {pct(o['plain_test_accuracy'])}",
            ["—" for _ in providers], "—", with_ratio=False)

    flags = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in simd.items())
    test_split = ours["inference"].get("test_split", "?")
    lines = [
        f"Measured {started.strftime('%Y-%m-%d %H:%M UTC')} on {model} ({cores} cores; {flags}), "
        f"{platform.system()} {platform.release()}.",
        f"Load average (1, 5, 15 min): {load_start} at the start, {load_end} at the end.",
        f"Test split: {test_split}. syft-rs fixed point: {ours['inference'].get('precision_fractional')} "
        f"decimal digits for inference, "
        f"{ours['training'].get('precision_fractional') if 'training' in ours else '?'} for training; "
        "CrypTen: 16 bits.",
        "",
        *out,
        "",
        "Commands, in the order run (from the repository root; seconds, load before → after):",
        "",
        "```text",
        *[f"{cmd}    # {what}: {secs:.0f} s, load {b} → {a}" for what, cmd, secs, b, a in sitting.commands],
        "```",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
        say(f"table written to {args.out}")


if __name__ == "__main__":
    main()
