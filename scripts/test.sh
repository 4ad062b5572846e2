#!/usr/bin/env bash
# Installs what is missing, builds symp with warnings as errors, and runs every test.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R affect]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYMP_WERROR=ON ${SYMP_CMAKE_ARGS:-}
cmake --build build -j"$jobs"
ctest --test-dir build -j"$jobs" --output-on-failure --timeout 900 "$@"
