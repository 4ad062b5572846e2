#!/usr/bin/env bash
# Installs what is missing and builds symp into build/ (the binary is build/tools/symp/symp).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${SYMP_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)"
