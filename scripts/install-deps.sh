#!/usr/bin/env bash
# Installs the Debian packages symp builds and tests against; skips what is already present.
# Idempotent: safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libgloo-dev          # tensors, autograd, c10d (Gloo headers are included by c10d's)
  libopenblas0-pthread              # optimised BLAS: Debian's libtorch is ~14x slower on reference BLAS
  libopenblas0-openmp               # the same BLAS on OpenMP threads, for training (recipes/quickstart/run.sh)
  libcli11-dev nlohmann-json3-dev libfmt-dev catch2
  libsentencepiece-dev              # text tokenizer for the embedded model
  libsndfile1-dev libsoxr-dev       # audio I/O and resampling
  libfftw3-dev                      # FFTs for prosody and mel features
  libespeak-ng-dev espeak-ng        # embedded TTS backend
  libcurl4-openssl-dev              # OpenAI-compatible HTTP clients
  libcpp-httplib-dev                # loopback HTTP servers in tests
  libboost1.74-dev                  # symp serve: HTTP and WebSocket (Boost.Beast, header-only)
  libpcre2-dev                      # GLM-4 pre-tokenisation regex
  libplplot-dev plplot-driver-cairo # PNG plots
  praat alsa-utils                  # accuracy references for eval-prosody tests
  clang libclang-rt-14-dev llvm     # libFuzzer targets under ASan + UBSan (scripts/fuzz.sh), symbolized stacks
  time                              # CPU seconds per fuzz target (scripts/fuzz.sh)
  nodejs chromium                   # symp serve tests: the openai and ws npm clients, the page in Chromium
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: a nodejs from NodeSource carries its own and conflicts with Debian's npm package.
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present" >&2
fi
