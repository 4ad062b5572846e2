#!/usr/bin/env bash
# Installs the test clients (package.json, pinned by package-lock.json) into DEST/node_modules once, and
# again when the lock file changes. Several tests may call it at once: a lock file serialises them.
# Usage: install.sh DEST
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
mkdir -p "$dest"
exec 9>"$dest/.install.lock"
flock 9
if ! cmp -s "$here/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
  command -v npm >/dev/null || { echo "install.sh: needs node and npm (Debian: nodejs npm)" >&2; exit 1; }
  cp "$here/package.json" "$here/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
