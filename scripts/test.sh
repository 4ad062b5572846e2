#!/usr/bin/env bash
# Installs what is missing, builds symp and its tests with warnings as errors, and runs every test.
# A build folder that scripts/build.sh (the quickstart) configured is reused as it is, so the tests do not
# recompile the library: warnings are then printed but not errors (CI always starts from a fresh clone, so
# there they are errors).
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R affect]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
werror=-DSYMP_WERROR=ON
if grep -qs '^SYMP_WERROR:BOOL=OFF' build/CMakeCache.txt; then
  echo "test.sh: reusing build/ as scripts/build.sh configured it (warnings are not errors in it)" >&2
  werror=
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $werror ${SYMP_CMAKE_ARGS:-}
cmake --build build -j"$jobs"
ctest --test-dir build -j"$jobs" --output-on-failure --timeout 900 "$@"
