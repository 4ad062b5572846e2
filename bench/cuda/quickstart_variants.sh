#!/usr/bin/env bash
# Runs several variants of the quickstart recipe side by side on a CUDA machine (QS_DEVICE=cuda), all from one
# corpus, to choose the CPU recipe's settings in minutes instead of hours. A variant is NAME:VAR=VALUE,...
# with the recipe's QS_* variables, e.g. env8:QS_ENVELOPE_CODES=8 or seed43:QS_SEED=43 (QS_SEED then seeds
# every stage after gen-data); a variant with SYMP_DATA_DIR=... (another data/ folder, e.g. another TTS style) makes
# its own corpus. GPU figures are not the CPU recipe's: other kernels, other random streams.
# Usage: bench/cuda/quickstart_variants.sh BUILD_DIR RUN_ROOT OUT_DIR VARIANT...
# Each finished variant's report.json and prosody features are copied to OUT_DIR/NAME as soon as it ends, so a
# run stopped by a time limit still returns what finished; the rest stays in RUN_ROOT/NAME.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=$1 root=$2 out=$3
shift 3
export SYMP=$PWD/$build/tools/symp/symp
# The Debian libraries and espeak-ng data that scripts/cuda-build.sh built against: without them gen-data
# cannot find espeak-ng's voices.
source scripts/cuda-env.sh
export SYMP_DATA_DIR=${SYMP_DATA_DIR:-$PWD/data}
mkdir -p "$root" "$out"
corpus=$root/_corpus
# The shared corpus is the recipe's gen-data stage (same arguments and seed); "$dir/.done/gen-data" below is the
# marker recipes/quickstart/run.sh's stage() writes for it, so each variant's recipe skips the stage.
t0=$SECONDS
if [ ! -e "$corpus/.done/gen-data" ]; then
  "$SYMP" --seed "${QS_SEED:-42}" gen-data --out "$corpus/corpus" --per-emotion "${QS_PER_EMOTION:-30}" \
    --neutral-queries "${QS_NEUTRAL:-40}" > "$root/gen-data.log" 2>&1 || { echo "gen-data failed:" >&2; tail -5 "$root/gen-data.log" >&2; exit 1; }
  mkdir -p "$corpus/.done" && touch "$corpus/.done/gen-data"
fi
echo "gen-data: $((SECONDS - t0)) s" >&2
for variant in "$@"; do
  name=${variant%%:*}
  settings=${variant#*:}
  [ "$settings" = "$variant" ] && settings=
  dir=$root/$name
  mkdir -p "$dir/.done" "$out/$name"
  if [[ ",$settings" != *",SYMP_DATA_DIR="* ]]; then
    [ -e "$dir/corpus" ] || cp -r "$corpus/corpus" "$dir/corpus"
    touch "$dir/.done/gen-data"
  fi
  (
    IFS=, read -ra pairs <<< "$settings"
    for pair in "${pairs[@]}"; do [ -n "$pair" ] && export "${pair?}"; done
    export QS_DEVICE=${QS_DEVICE:-cuda}
    t=$SECONDS
    recipes/quickstart/run.sh "$dir" > "$dir/recipe.log" 2>&1
    rc=$?
    echo "$name ($settings): rc $rc in $((SECONDS - t)) s" | tee -a "$out/summary.txt" >&2
    cp "$dir/report.json" "$dir/prosody/features.csv" "$out/$name/" 2>/dev/null
  ) &
done
wait
