#!/usr/bin/env bash
# Makes the Python environment that peers/crypten_mnist.py needs: CrypTen 0.4.1, PyTorch
# 2.5.1 (CPU use), torchvision 0.20.1, CrypTen's real dependencies, numpy and safetensors.
#
#   bash peers/setup.sh            # into peers/.venv
#   bash peers/setup.sh DIR        # into DIR (or set PEERS_VENV=DIR)
#
# Idempotent: a second run checks the versions and installs only what is missing.
#
# CrypTen 0.4.1's metadata requires the retired `sklearn` placeholder package, which no
# longer builds, so CrypTen goes in with --no-deps and its real dependencies are listed
# here. When the CPU-only PyTorch index answers, torch comes from there (a far smaller
# environment); otherwise from the default index (the CUDA build, about 5.6 GB, which
# runs on the CPU all the same).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${PEERS_VENV:-$here/.venv}}"
python="${PYTHON:-python3}"

TORCH=2.5.1
TORCHVISION=0.20.1
CRYPTEN=0.4.1
CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
# CrypTen's real run-time dependencies (its requirements less `sklearn` and torch).
DEPS=(omegaconf onnx pandas pyyaml tensorboard future scipy scikit-learn numpy safetensors)

if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
py="$venv/bin/python"
pip=("$py" -m pip install --no-cache-dir --disable-pip-version-check)

have() { # have PACKAGE VERSION: true when that exact version is installed
    [ "$("$py" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true)" = "$2" ]
}

if have torch "$TORCH+cpu" || have torch "$TORCH"; then
    echo "setup: torch $TORCH present"
else
    if "$py" - "$CPU_INDEX" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=15).read(64)
PY
    then
        echo "setup: installing torch $TORCH from the CPU-only index"
        "${pip[@]}" --index-url "$CPU_INDEX" "torch==$TORCH" "torchvision==$TORCHVISION"
    else
        echo "setup: the CPU-only index does not answer; installing torch $TORCH from the default index"
        "${pip[@]}" "torch==$TORCH" "torchvision==$TORCHVISION"
    fi
fi
if ! have torchvision "$TORCHVISION" && ! have torchvision "$TORCHVISION+cpu"; then
    "${pip[@]}" "torchvision==$TORCHVISION"
fi

missing=()
for dep in "${DEPS[@]}"; do
    "$py" -c "import importlib.metadata as m, sys; m.version(sys.argv[1])" "$dep" 2>/dev/null || missing+=("$dep")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    "${pip[@]}" "${missing[@]}"
fi

if have crypten "$CRYPTEN"; then
    echo "setup: crypten $CRYPTEN present"
else
    echo "setup: installing crypten $CRYPTEN (--no-deps)"
    "${pip[@]}" --no-deps "crypten==$CRYPTEN"
fi

"$py" - <<'PY'
import warnings
warnings.simplefilter("ignore")
import crypten, numpy, safetensors, torch
print(f"setup: ok: crypten {crypten.__version__}, torch {torch.__version__}, numpy {numpy.__version__}, "
      f"safetensors {safetensors.__version__}")
PY
echo "setup: python is $py"
