"""Known-answer vectors for tests/kat.rs, from a reference simulation of docs/PROTOCOLS.md §6.

Every stream of a session is fixed by the test harness's seeds (tests/common/mod.rs), so
each party's *output share* of a protocol is deterministic; this script runs the shared
simulation (shared/tools/protocol_sim.py) with the same seeds and inputs and prints the
shares as Rust constants. The Rust tests never need Python; this file records where the
vectors come from.

Run: python3 generate.py /path/to/shared/tools > vectors.txt   (needs numpy, cryptography)
"""
import sys

TOOLS = sys.argv[1] if len(sys.argv) > 1 else "../../../../../shared/tools"
sys.argv = [sys.argv[0], "--quick"]  # the simulation reads its options at import
sys.path.insert(0, TOOLS)
import numpy as np  # noqa: E402
import protocol_sim as sim  # noqa: E402

MASK = (1 << 64) - 1
SEED = 0x5EC0


def seed_bytes(v):
    """syft_ring::Seed::from_u64(v)."""
    return (v & MASK).to_bytes(8, "little") + ((~v) & MASK).to_bytes(8, "little")


def ctx_for(variant):
    ctx = sim.Ctx(n=2, acct="compressed", variant=variant)
    # Party 0 draws k_01 from Prg::new(Seed::from_u64(SEED ^ 0x4444)): the first 16 bytes of
    # Stream(seed, req = 0, label = 0).
    ctx.k01 = sim.Stream(seed_bytes(SEED ^ 0x4444), 0, 0).enc.update(bytes(16))
    ctx.kD = [seed_bytes(SEED ^ 0x1111), seed_bytes(SEED ^ 0x2222)]
    ctx.kP2 = seed_bytes(SEED ^ 0x3333)
    return ctx


def inputs():
    a = sim.u64([v % 2**64 for v in [0, 1, -1, 2, -2, 1000, -1000, (1 << 62) - 1, -(1 << 62), 123456789, -987654321, 1 << 40]])
    a0 = sim.u64([(0x9E3779B97F4A7C15 * (i + 1)) & MASK for i in range(len(a))])
    return a, a0, a - a0


def emit(name, arr):
    vals = ", ".join(f"0x{int(v):016x}" for v in np.asarray(arr, dtype=np.uint64).reshape(-1))
    print(f"const {name}: &[u64] = &[{vals}];")


for variant in ("fast", "paper"):
    V = variant.upper()
    a, a0, a1 = inputs()
    emit("A0", a0) if variant == "fast" else None
    emit("A1", a1) if variant == "fast" else None
    ctx = ctx_for(variant)
    d0, d1 = sim.drelu(ctx, a0, a1)
    emit(f"{V}_DRELU_0", d0)
    emit(f"{V}_DRELU_1", d1)
    ctx = ctx_for(variant)
    (r0, r1), _ = sim.relu(ctx, [a0, a1])
    emit(f"{V}_RELU_0", r0)
    emit(f"{V}_RELU_1", r1)
    ctx = ctx_for(variant)
    b = sim.u64([v % 2**64 for v in [0, 2, -1, 2, 7, 1000, -999, 5, -(1 << 62) + 1, 123456789, 3, 1 << 40]])
    b0 = sim.u64([(0x2545F4914F6CDD1D * (i + 3)) & MASK for i in range(len(b))])
    e0, e1 = sim.equal(ctx, [a0, a1], [b0, b - b0])
    if variant == "fast":
        emit("B0", b0)
        emit("B1", b - b0)
    emit(f"{V}_EQ_0", e0)
    emit(f"{V}_EQ_1", e1)
    # DIV: x <= y, s = 1000, K = 10.
    ctx = ctx_for(variant)
    X = sim.u64([0, 1, 500, 999, 1000, 250, 3, 77])
    Y = sim.u64([1000, 1000, 1000, 1000, 1000, 750, 4, 78])
    X0 = sim.u64([(0x94D049BB133111EB * (i + 5)) & MASK for i in range(len(X))])
    Y0 = sim.u64([(0xBF58476D1CE4E5B9 * (i + 7)) & MASK for i in range(len(X))])
    W0, W1 = sim.divide(ctx, [X0, X - X0], [Y0, Y - Y0], 1000, 10)
    if variant == "fast":
        emit("DIV_X0", X0)
        emit("DIV_X1", X - X0)
        emit("DIV_Y0", Y0)
        emit("DIV_Y1", Y - Y0)
    emit(f"{V}_DIV_0", W0)
    emit(f"{V}_DIV_1", W1)
# DMP (profile-independent), n = 4.
ctx = ctx_for("fast")
idx = sim.u64([0, 1, 2, 3, 2, 1])
i0 = sim.u64([(0xD6E8FEB86659FD93 * (i + 11)) & MASK for i in range(len(idx))])
z0, z1 = sim.dmp(ctx, [i0, idx - i0], 4)
emit("DMP_I0", i0)
emit("DMP_I1", idx - i0)
emit("DMP_0", z0)
emit("DMP_1", z1)
