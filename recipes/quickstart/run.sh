#!/usr/bin/env bash
# The whole Sympatheia pipeline in miniature, on CPU, with the embedded substitutes:
#   gen-data -> tokenize fit/encode -> train a tiny base without the condition (stand-in for GLM-4-Voice)
#   -> train-lora with the condition (stand-in for Sympatheia) -> probe the condition (teacher-forced)
#   -> infer both under all 12 emotions
#   -> eval-prosody -> judge (lexical diversity, offline proxy judge) -> report.md + report.html
# Usage: recipes/quickstart/run.sh [RUN_DIR] ; scale with QS_PER_EMOTION, QS_NEUTRAL, QS_EPOCHS, QS_LORA_EPOCHS,
# QS_EVAL_QUERIES, QS_SWEEP_QUERIES, QS_MAX_NEW_TOKENS, QS_TRAIN_THREADS, QS_LORA_LR, QS_LORA_DROPOUT, QS_ENVELOPE_CODES,
# QS_GROUP_BY_LENGTH, QS_TRAIN_RANKS (QS_SEED seeds every
# stage); QS_DEVICE=cuda trains, generates and probes on a GPU. Every stage is resumable: rerun the same
# command after an interruption. tests/infer/test_quickstart.cpp runs it at CI scale (ctest -L quickstart).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SYMP=${SYMP:-$root/build/tools/symp/symp}
R=${1:-$root/runs/quickstart}
per_emotion=${QS_PER_EMOTION:-30}  # 30 x 12 emotional records; the neutral split (below) is what teaches the condition
neutral=${QS_NEUTRAL:-40}         # 40 neutral queries: about 12 in the eval partition
base_epochs=${QS_EPOCHS:-4}       # base eval loss 3.89 after 4 epochs, 3.74 after 6 (2026-11-26 run)
lora_epochs=${QS_LORA_EPOCHS:-10}  # 10 with the data-parallel trainings below: seed 44 held energy-arousal 0.46 against 0.26 after 8 (2026-12-04, docs/quickstart.md)
eval_queries=${QS_EVAL_QUERIES:-12}  # 12 queries x 12 emotions = 144 replies per system (issue 17)
sweep_queries=${QS_SWEEP_QUERIES:-4}
max_new_tokens=${QS_MAX_NEW_TOKENS:-400}
seed=${QS_SEED:-42}
lora_lr=${QS_LORA_LR:-1e-2}
lora_dropout=${QS_LORA_DROPOUT:-0.05}
# 16 spectral-envelope codes instead of tokenize fit's 32: 2,048 audio ids instead of 4,096, so the output layer
# and its softmax are smaller and each id is seen twice as often; the envelope carries the timbre, not the pitch
# or loudness the report measures. Measured on the 2-core VM with seed 42 (2026-12-04, after the decoder's
# pitch fix, docs/quickstart.md): 16 codes held all 8 of issue 17's measured criteria (probe 0.81, F0-arousal
# 0.38, energy-arousal 0.33, corpus bigram share 0.93); 8 codes held 7 (bigram share 0.83); on a GPU
# (bench/cuda/quickstart_variants.sh) 8, 16 and 32 codes held 6, 7 and 8 with seed 42.
envelope_codes=${QS_ENVELOPE_CODES:-16}
device=${QS_DEVICE:-cpu}
# Both trainings run data-parallel on the CPU: one process (rank) per core, each with its share of the batch
# of 8 (symp train-lora --nproc; gradients averaged over Gloo), since one small model's operations keep two
# threads of one process busy only part of the time. 40 LoRA steps of this recipe on the 2-core VM
# (2026-12-04, with the AVX-512 BLAS kernels below): 2 ranks x 1 thread 4,949-5,525 tokens/s against
# 3,301-4,503 for 1 process x 2 threads. The global batch holds the same 8 sequences either way; each rank
# draws its own dropout. QS_TRAIN_RANKS sets the ranks (1, 2, 4 or 8; default: as many as the cores allow, 1 on
# a GPU); QS_TRAIN_THREADS the threads of each (default: the cores / the ranks).
cores=$(nproc 2>/dev/null || echo 1)
if [ -n "${QS_TRAIN_RANKS:-}" ]; then
  train_ranks=$QS_TRAIN_RANKS
elif [ "$device" != cpu ]; then
  train_ranks=1
else
  train_ranks=1
  for r in 2 4 8; do [ "$cores" -ge "$r" ] && train_ranks=$r; done
fi
case "$train_ranks" in 1 | 2 | 4 | 8) ;; *) echo "quickstart: QS_TRAIN_RANKS=$train_ranks: expected 1, 2, 4 or 8 (a share of the batch of 8)" >&2; exit 2 ;; esac
train_batch=$((8 / train_ranks))
train_threads=${QS_TRAIN_THREADS:-$(( cores / train_ranks > 0 ? cores / train_ranks : 1 ))}
# Random batches by default. QS_GROUP_BY_LENGTH=1 batches by length: about 3 minutes faster, but with the
# same seed (44) the probe fell from 0.847 to 0.757 (2026-12-04, docs/quickstart.md).
group_by_length=()
[ "${QS_GROUP_BY_LENGTH:-0}" = 0 ] || group_by_length=(--group-by-length)
# Unless QS_SYSTEM_BLAS=1 (keep the environment's BLAS and its settings), the recipe's own processes get:
# - OpenBLAS's AVX-512 kernels where the CPU has the subsets its SkylakeX kernels use. OpenBLAS picks kernels
#   for the CPU it runs on unless OPENBLAS_CORETYPE names others, and some machines pin that to Haswell (AVX2:
#   this VM's environment does; OpenBLAS itself chose Cooperlake on this AMD EPYC, the same single-precision
#   kernels). 40 LoRA steps ran 3,597-4,503 against 3,108-3,372 tokens/s with Haswell's, the losses the same to
#   4 decimals (2026-12-04).
# - OpenBLAS built on OpenMP (Debian's libopenblas0-openmp, which scripts/install-deps.sh installs beside the
#   pthread build the system uses): its matrix products run on libtorch's own OpenMP threads instead of a pool
#   of its own that spins between products. 40 LoRA steps ran 3,371 tokens/s against 3,098 (2026-12-04).
#   With all threads in one OpenMP pool, training and the probe let them wait busy between operations
#   (OMP_WAIT_POLICY=ACTIVE, where symp otherwise sets PASSIVE: include/symp/core/process.h): 40 LoRA steps
#   ran 3,472 against 3,178 tokens/s and the probe 7 % faster, with bit-identical results (2026-12-04).
busy=()
if [ -z "${QS_SYSTEM_BLAS:-}" ]; then
  flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true) "  # none on CPUs whose cpuinfo says Features
  if [[ $flags == *" avx512f "* && $flags == *" avx512bw "* && $flags == *" avx512dq "* && $flags == *" avx512vl "* ]]; then
    [ "${OPENBLAS_CORETYPE:-SkylakeX}" = SkylakeX ] ||
      echo "quickstart: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE replaced for this recipe (QS_SYSTEM_BLAS=1 keeps it)" >&2
    export OPENBLAS_CORETYPE=SkylakeX
    echo "quickstart: OpenBLAS's AVX-512 kernels (OPENBLAS_CORETYPE=SkylakeX)" >&2
  fi
  for omp_blas in /usr/lib/*/openblas-openmp; do
    if [ -e "$omp_blas/libblas.so.3" ]; then
      export LD_LIBRARY_PATH="$omp_blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      busy=(env "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-ACTIVE}")
      echo "quickstart: BLAS from $omp_blas" >&2
    fi
  done
fi
mkdir -p "$R"

# stage NAME DONE_FILE COMMAND...: runs COMMAND unless it succeeded before (DONE_FILE exists and the stage's
# marker in $R/.done, written only on success: a failed gen-data still writes its datasheet); names the stage
# on failure.
stage() {
  local name=$1 done_file=$2; shift 2
  local marker="$R/.done/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_')"
  if [ -e "$done_file" ] && [ -e "$marker" ]; then echo "== $name: done earlier ($done_file)" >&2; return 0; fi
  echo "== $name" >&2
  local t0=$SECONDS
  if ! "$@"; then echo "quickstart: stage '$name' failed; earlier stages' outputs are kept in $R" >&2; exit 1; fi
  mkdir -p "$R/.done" && touch "$marker"
  echo "== $name: $((SECONDS - t0)) s" >&2
  # Wall-clock seconds of each stage run (a resumed stage adds a line for the part it ran), for the report.
  printf '%s\t%s\n' "$name" "$((SECONDS - t0))" >> "$R/stage_times.tsv"
}

stage "gen-data" "$R/corpus/datasheet.json" \
  "$SYMP" --seed "$seed" gen-data --out "$R/corpus" --per-emotion "$per_emotion" --neutral-queries "$neutral"
stage "tokenize fit" "$R/tok/tokenizer.json" \
  "$SYMP" --seed "$seed" tokenize fit --corpus "$R/corpus" --out "$R/tok" --envelope-codes "$envelope_codes"
stage "tokenize encode (with the condition)" "$R/enc/encoded_eval.jsonl" \
  "$SYMP" --seed "$seed" tokenize encode --corpus "$R/corpus" --model "$R/tok" --out "$R/enc"
stage "tokenize encode (base: no condition)" "$R/enc_base/encoded_eval.jsonl" \
  "$SYMP" --seed "$seed" tokenize encode --corpus "$R/corpus" --model "$R/tok" --out "$R/enc_base" --condition-mode none
# The base's vocabulary is the tokenizer's, not 1 + the largest id in a small corpus (infer refuses a model
# smaller than its tokenizer): text pieces + audio codes, from tokenizer.json.
tok_vocab() {
  local text audio
  text=$(sed -n 's/.*"text_vocab_size": *\([0-9]*\).*/\1/p' "$R/tok/tokenizer.json")
  audio=$(sed -n 's/.*"audio_codes": *\([0-9]*\).*/\1/p' "$R/tok/tokenizer.json")
  echo $((text + audio))
}
# The codec's ids are a product code (envelope x pitch x energy): --init-audio-factors starts their rows as sums
# of per-factor vectors, so ids that share a pitch level start alike. Measured 2026-12-03 (seed 42, 144 replies
# per system): base eval loss 3.86 against 3.90, and the LoRA's Spearman(F0 mean, arousal) 0.25 against 0.13.
# Each evaluation of the 252 eval sequences costs about 10 s on 2 cores: both are evaluated at their last
# step only (the exported model is the last one either way). With QS_GROUP_BY_LENGTH=1, --group-by-length
# batches sequences of similar length (194-513 tokens here): 21 % of the tokens of a randomly drawn batch of 8
# were padding, 8 % of a grouped one.
stage "train base (tiny GLM from scratch, no condition)" "$R/base/model/config.json" \
  "${busy[@]}" "$SYMP" --seed "$seed" --threads "$train_threads" train-lora --nproc "$train_ranks" --init tiny --vocab-size "$(tok_vocab)" \
  --init-audio-factors "$R/tok" --full --device "$device" --train "$R/enc_base/encoded_train.jsonl" \
  --eval "$R/enc_base/encoded_eval.jsonl" --out "$R/base" --epochs "$base_epochs" --lr 2e-3 --warmup-steps 20 \
  --batch-size "$train_batch" "${group_by_length[@]}" --grad-accum 1 --eval-every 0 --save-every 50 --keep 1 --resume
# The base never saw the condition's pieces in its input, so their embeddings are its random init and a LoRA
# cannot change them: the adapter also trains the input embedding (PEFT's modules_to_save), and its loss is
# on the reply, the part the condition steers (PAPER.md section 4 offers assistant-only loss). Measured on
# the probe (2026-12-03, 144 eval records, 2 epochs): accuracy 0.39 with both, against 0.11-0.18 without.
# lr 1e-2 rather than 3e-3 (2026-12-04, 4 epochs on the same base): probe 0.68 against 0.54, eval loss 3.33
# against 3.42; 2e-2 diverged. With 8 envelope codes, lr 7e-3 or dropout 0.1 (PAPER.md's) kept the probe
# (0.83, 0.82) but lost the loudness's link to arousal (0.15, 0.23 against 0.40) and not one reply got more
# fluent (corpus bigram share 0.85, 0.86 against 0.83).
stage "train-lora (with the condition)" "$R/lora/adapter/adapter_config.json" \
  "${busy[@]}" "$SYMP" --seed "$seed" --threads "$train_threads" train-lora --nproc "$train_ranks" --model "$R/base/model" --train "$R/enc/encoded_train.jsonl" \
  --eval "$R/enc/encoded_eval.jsonl" --out "$R/lora" --epochs "$lora_epochs" --lr "$lora_lr" --device "$device" --warmup-steps 10 \
  --lora-dropout "$lora_dropout" --lora-modules-to-save word_embeddings --assistant-only \
  --batch-size "$train_batch" "${group_by_length[@]}" --grad-accum 1 --eval-every 0 --save-every 50 --keep 1 --resume
stage "infer (eval neutral queries x 12 emotions, base and lora)" "$R/replies/summary.json" \
  "$SYMP" --seed "$seed" infer --model "$R/base/model" --tokenizer "$R/tok" --include-base \
  --adapter "lora=$R/lora/adapter" --manifest "$R/corpus/manifest.jsonl" --partition eval --split neutral \
  --limit "$eval_queries" --all-emotions --batch 12 --device "$device" --max-new-tokens "$max_new_tokens" --out "$R/replies"
stage "infer (happy -> sad sweep)" "$R/sweep/summary.json" \
  "$SYMP" --seed "$seed" infer --model "$R/base/model" --tokenizer "$R/tok" --include-base \
  --adapter "lora=$R/lora/adapter" --manifest "$R/corpus/manifest.jsonl" --partition eval --split neutral \
  --limit "$sweep_queries" --interpolate happy,sad --t-sweep 0,0.25,0.5,0.75,1 --batch 5 --device "$device" --max-new-tokens "$max_new_tokens" \
  --out "$R/sweep"

stage "probe (is each eval reply most likely under its own anchor? base and lora)" "$R/probe/probe_summary.json" \
  "${busy[@]}" "$SYMP" --seed "$seed" probe --model "$R/base/model" --include-base --adapter "lora=$R/lora/adapter" \
  --tokenizer "$R/tok" --encoded "$R/enc/encoded_eval.jsonl" --device "$device" --out "$R/probe"

prosody() {  # some replies may hold no audio: eval-prosody then exits 1 but still writes the rest
  local out=$1 manifest=$2
  "$SYMP" eval-prosody --manifest "$manifest" --out "$out" || [ -s "$out/features.csv" ]
}
stage "eval-prosody" "$R/prosody/correlations.csv" prosody "$R/prosody" "$R/replies/responses.jsonl"
stage "eval-prosody (sweep)" "$R/sweep_prosody/features.csv" prosody "$R/sweep_prosody" "$R/sweep/responses.jsonl"
stage "judge (lexical diversity + offline proxy judge)" "$R/judge/table.md" \
  "$SYMP" judge --responses "$R/replies/responses.jsonl" --proxy-corpus "$R/corpus/manifest.jsonl" --out "$R/judge"
# The ceiling: what the corpus itself shows (its neutral-split reference replies, 12 target emotions per
# query), so the report can say how much of the possible effect each system captured.
stage "corpus ceiling (prosody of the neutral-split reference audio)" "$R/corpus_ceiling/prosody/correlations.csv" \
  "$SYMP" eval-prosody --manifest "$R/corpus/manifest.jsonl" --split neutral --system corpus --no-plots \
  --out "$R/corpus_ceiling/prosody"
stage "corpus ceiling (cross-emotion similarity of the reference replies)" "$R/corpus_ceiling/judge/similarity.json" \
  "$SYMP" judge --responses "corpus=$R/corpus/manifest.jsonl" --out "$R/corpus_ceiling/judge"
"$SYMP" report --run "$R"
echo "quickstart: open $R/report.md or $R/report.html" >&2
cat >&2 <<TALK
quickstart: talk to the model it just trained (a page with a valence-arousal pad at http://127.0.0.1:8080/):
  $SYMP serve --model $R/base/model --tokenizer $R/tok --adapter lora=$R/lora/adapter --include-base
TALK
