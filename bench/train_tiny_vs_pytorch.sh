#!/usr/bin/env bash
# Training throughput of symp's tiny GLM against the same model in PyTorch (bench/train_tiny_pytorch.py), in
# one run: the Python script starts `bench_train_tiny --only-symp --lockstep` beside itself and alternates
# the two step by step (2 untimed warm-up steps each, then `steps` timed), and each side's tokens/s comes
# from its median step. Same libtorch, thread count, OMP_WAIT_POLICY (PASSIVE unless set), ids and initial
# weights: the losses are compared step for step.
#
#   bench/train_tiny_vs_pytorch.sh [steps=12] [threads=2]
#
# PYTHON (default /usr/bin/python3, the interpreter that sees Debian's python3-torch) and SYMP_BUILD_DIR
# (default build/) choose what runs. When torch is missing it installs python3-torch with apt-get as root.
set -euo pipefail

steps=${1:-12}
threads=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
build=${SYMP_BUILD_DIR:-$here/../build}
python=${PYTHON:-/usr/bin/python3}

if [[ ! -x $build/bench/bench_train_tiny ]]; then
  echo "error: $build/bench/bench_train_tiny is not built; run: ninja -C $build bench_train_tiny" >&2
  exit 2
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing python3-torch (Debian's PyTorch, built on the same libtorch)" >&2
    apt-get install -y python3-torch >&2 || { apt-get update >&2 && apt-get install -y python3-torch >&2; }
    if ! "$python" -c 'import torch' 2>/dev/null; then
      echo "error: python3-torch is installed but $python cannot import torch; set PYTHON=/usr/bin/python3" >&2
      exit 2
    fi
  else
    echo "error: $python cannot import torch; install Debian's python3-torch (as root: apt-get install" \
      "python3-torch) or point PYTHON at an interpreter with torch 1.13" >&2
    exit 2
  fi
fi

export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" "$here/train_tiny_pytorch.py" "$steps" "$threads" --vs="$build/bench/bench_train_tiny"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
