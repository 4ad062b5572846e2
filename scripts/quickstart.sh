#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the quickstart recipe.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec recipes/quickstart/run.sh "$@"
