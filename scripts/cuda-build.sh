#!/usr/bin/env bash
# Usage: scripts/cuda-build.sh [cmake --build arguments, e.g. --target symp]
# Builds symp against the CUDA torch of this machine's python3, with the Debian packages that
# scripts/cuda-bundle.sh unpacked into .cache/cuda-bundle (carried here). PNG plots are left out when PLplot is
# absent (SYMP_WITH_PLOTS=OFF): figures are then skipped with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cuda-env.sh  # sets $b, the bundle
export SYMP_DATA_DIR=$PWD/data
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
plots=ON
pkg-config --exists plplot || plots=OFF
# A pip torch may ship without Gloo's headers: require Gloo only where they are (the tests then say so).
gloo=ON
torch_include=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
[ -e "$torch_include/gloo/algorithm.h" ] || gloo=OFF
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DSYMP_WERROR=ON -DSYMP_WITH_PLOTS=$plots -DSYMP_REQUIRE_GLOO=$gloo -DSYMP_FMT_HEADER_ONLY=ON \
  -DCMAKE_PREFIX_PATH="$b/root/usr;$torch_prefix" -DCMAKE_CXX_FLAGS="-I$b/root/usr/include" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$b/lib" -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$b/lib" \
  ${SYMP_CMAKE_ARGS:-}
cmake --build build-cuda -j"$(nproc)" "$@"  # e.g. --target symp
