#!/usr/bin/env bash
# Installs what is missing and builds the symp binary into build/ (build/tools/symp/symp): only what the
# recipes need; scripts/test.sh builds the tests on top of the same build folder without recompiling it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${SYMP_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)" --target symp
