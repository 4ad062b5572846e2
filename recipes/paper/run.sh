#!/usr/bin/env bash
# The paper's whole protocol as named stages (recipes/paper/README.md says what each costs and reproduces):
#   gen-data -> tokenize -> train -> probe (teacher-forced) -> infer (neutral 19 conditions: base,
#   text-emotion, sympatheia; emotional; commoneval; noise ablation; sensing) -> transcribe -> eval-prosody
#   -> judge -> report (the paper's tables)
#
# Usage: recipes/paper/run.sh [--config FILE] [--set KEY=VALUE]... [--until STAGE] [--dry-run] RUN_DIR
#   --config FILE   the recipe's settings (default recipes/paper/paper.conf: the paper's scale on GPUs);
#                   recipes/paper/ci.conf is the toy scale CI runs on the embedded stack
#   --set KEY=VALUE override one setting (repeatable); keys as in the config file
#   --until STAGE   stop after this stage (e.g. gen-data, to write sensor cues for the new corpus's queries)
#   --dry-run       print every stage's command with its resolved values, check each against symp's own
#                   option parser (`symp --check-args`), run nothing; exit 2 on any unknown key or option
# Every stage is skipped when RUN_DIR/.done/STAGE exists (written when it succeeded): rerun the same
# command after an interruption and it goes on where it stopped; delete the marker to redo a stage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SYMP=${SYMP:-$root/build/tools/symp/symp}

die() { echo "paper recipe: $*" >&2; exit 2; }

# ---- settings: every key the recipe knows, with its default (the config file changes them) ----
KEYS=(SEED STACK LLM_URL LLM_MODEL TTS_URL TTS_MODEL GEN_CONCURRENCY PER_EMOTION NEUTRAL_QUERIES
      GLM4VOICE_MODEL GLM4VOICE_TOKENIZER GLM4VOICE_DECODER DEVICE DTYPE TRAIN_CONFIG
      EMBEDDED_BASE_EPOCHS EMBEDDED_LORA_EPOCHS TRAIN_THREADS BASE_STYLE
      EVAL_QUERIES EMOTIONAL_QUERIES MAX_NEW_TOKENS TEMPERATURE TOP_P COMMONEVAL
      NOISE_SIGMAS NOISE_REPEATS NOISE_QUERIES SENSING_CUES
      ASR_URL ASR_MODEL JUDGE_URL JUDGE_MODEL JUDGE_CONCURRENCY SIMILARITY_MIN_SECONDS
      BERTSCORE_MODEL BERTSCORE_LAYER GENERAL_BERTSCORE_MODEL GENERAL_BERTSCORE_LAYER)
declare -A C=(
  [SEED]=42 [STACK]=glm4voice
  [LLM_URL]=http://127.0.0.1:8000/v1 [LLM_MODEL]=Qwen/Qwen3-32B
  [TTS_URL]=http://127.0.0.1:8001/v1 [TTS_MODEL]=Qwen/Qwen3-TTS [GEN_CONCURRENCY]=16
  [PER_EMOTION]=1000 [NEUTRAL_QUERIES]=500
  [GLM4VOICE_MODEL]=glm-4-voice-9b [GLM4VOICE_TOKENIZER]=glm-4-voice-tokenizer
  [GLM4VOICE_DECODER]=glm-4-voice-decoder [DEVICE]=cuda [DTYPE]=bf16
  [TRAIN_CONFIG]=train-lora-4gpu.toml
  [EMBEDDED_BASE_EPOCHS]=4 [EMBEDDED_LORA_EPOCHS]=2 [TRAIN_THREADS]=0 [BASE_STYLE]=glm4voice
  [EVAL_QUERIES]=0 [EMOTIONAL_QUERIES]=0 [MAX_NEW_TOKENS]=2000 [TEMPERATURE]=0.2 [TOP_P]=0.8 [COMMONEVAL]=
  [NOISE_SIGMAS]="0 0.1 0.2 0.3 0.5" [NOISE_REPEATS]=3 [NOISE_QUERIES]=3 [SENSING_CUES]=
  [ASR_URL]= [ASR_MODEL]=openai/whisper-large-v3
  [JUDGE_URL]=http://127.0.0.1:8002/v1 [JUDGE_MODEL]=Qwen/Qwen3-Omni-30B-A3B-Instruct [JUDGE_CONCURRENCY]=8
  [SIMILARITY_MIN_SECONDS]=10 [BERTSCORE_MODEL]= [BERTSCORE_LAYER]=5 [GENERAL_BERTSCORE_MODEL]=
  [GENERAL_BERTSCORE_LAYER]=9
)
known() { local k; for k in "${KEYS[@]}"; do [ "$k" = "$1" ] && return 0; done; return 1; }
set_key() {  # set_key KEY VALUE WHERE
  known "$1" || die "$3: unknown key '$1' (the recipe's keys: ${KEYS[*]})"
  C[$1]=$2
}

config=$here/paper.conf dry_run=0 until="" run_dir="" overrides=()
while [ $# -gt 0 ]; do
  case $1 in
    --config) [ $# -ge 2 ] || die "--config needs a file"; config=$2; shift 2 ;;
    --set) [ $# -ge 2 ] || die "--set needs KEY=VALUE"; overrides+=("$2"); shift 2 ;;
    --until) [ $# -ge 2 ] || die "--until needs a stage name"; until=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [ -z "$run_dir" ] || die "one RUN_DIR only (got '$run_dir' and '$1')"; run_dir=$1; shift ;;
  esac
done
[ -n "$run_dir" ] || die "give the run folder (see --help)"
stage_names='gen-data|tokenize-fit|tokenize|tokenize-base|train-base|train-lora|infer-neutral|infer-text-emotion'
stage_names+='|infer-emotional|infer-commoneval|infer-noise-sigma_[0-9.]+-rep_[0-9]+|infer-sensing-[a-z0-9_-]+'
stage_names+='|probe|transcribe-[a-z-]+|eval-prosody|judge-main|judge-noise|judge-sensing'
[ -z "$until" ] || [[ $until =~ ^($stage_names)$ ]] || die "--until $until: no such stage (${stage_names//|/, })"
[ -f "$config" ] || die "--config $config: no such file"

# The config file: KEY=VALUE lines, # comments; a value may be quoted. A malformed line or an unknown key
# is an error naming the file and line.
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  line=${line%%#*}
  line=$(printf '%s' "$line" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
  [ -z "$line" ] && continue
  [[ $line =~ ^([A-Z][A-Z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] ||
    die "$config:$lineno: expected KEY=VALUE, got '$line'"
  key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
  [[ $value =~ ^\"(.*)\"$ ]] && value=${BASH_REMATCH[1]}
  set_key "$key" "$value" "$config:$lineno"
done < "$config"
for kv in "${overrides[@]+"${overrides[@]}"}"; do
  [[ $kv == *=* ]] || die "--set $kv: expected KEY=VALUE"
  set_key "${kv%%=*}" "${kv#*=}" "--set"
done

# Values checked here; symp checks the rest when the dry run hands it every stage's arguments.
# TRAIN_CONFIG, when relative: a file in the current folder, else one of this recipe's shipped TOML files.
if [[ ${C[TRAIN_CONFIG]} != /* ]]; then
  if [ -f "${C[TRAIN_CONFIG]}" ]; then C[TRAIN_CONFIG]=$PWD/${C[TRAIN_CONFIG]}; else C[TRAIN_CONFIG]=$here/${C[TRAIN_CONFIG]}; fi
fi
case ${C[STACK]} in glm4voice|embedded) ;; *) die "STACK: expected glm4voice or embedded, got '${C[STACK]}'" ;; esac
for k in SEED PER_EMOTION NEUTRAL_QUERIES EVAL_QUERIES EMOTIONAL_QUERIES NOISE_REPEATS NOISE_QUERIES \
         EMBEDDED_BASE_EPOCHS EMBEDDED_LORA_EPOCHS TRAIN_THREADS GEN_CONCURRENCY JUDGE_CONCURRENCY MAX_NEW_TOKENS; do
  [[ ${C[$k]} =~ ^[0-9]+$ ]] || die "$k: expected a whole number, got '${C[$k]}'"
done
for s in ${C[NOISE_SIGMAS]}; do [[ $s =~ ^[0-9]*\.?[0-9]+$ ]] || die "NOISE_SIGMAS: '$s' is not a number >= 0"; done
declare -A CUES=()
for mc in ${C[SENSING_CUES]}; do
  [[ $mc =~ ^([a-z0-9_-]+)=(.+)$ ]] || die "SENSING_CUES: expected MODALITY=FILE.jsonl entries, got '$mc'"
  CUES[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done

R=$run_dir
S=("$SYMP" --seed "${C[SEED]}")
done_dir=$R/.done
failures=0
if [ "$dry_run" = 0 ]; then
  mkdir -p "$done_dir"
  # The effective settings, beside the outputs they made.
  { echo "# recipes/paper/run.sh settings of this run ($(date -u +%FT%TZ)); rerun with --config THIS_FILE"
    for k in "${KEYS[@]}"; do printf '%s="%s"\n' "$k" "${C[$k]}"; done; } > "$R/recipe.conf.tmp"
  mv "$R/recipe.conf.tmp" "$R/recipe.conf"
else
  check_file=$(mktemp); checked=()
  trap 'rm -f "$check_file"' EXIT
  echo "# dry run: config $config, run folder $R" >&2
  for k in "${KEYS[@]}"; do printf '#   %s=%s\n' "$k" "${C[$k]}" >&2; done
fi

stopped=0
# stage NAME [--tolerate FILE] CMD...: prints and runs CMD unless NAME is done; --tolerate: a non-zero
# exit still counts as done when FILE was written (eval-prosody exits 1 when some replies hold no audio).
stage() {
  local name=$1 tolerate=""; shift
  if [ "$1" = "--tolerate" ]; then tolerate=$2; shift 2; fi
  [ "$stopped" = 1 ] && return 0
  if [ "$dry_run" = 1 ]; then
    printf '[%s]' "$name"; printf ' %q' "$@"; printf '\n'
    if [ "$1" = "$SYMP" ]; then  # checked all at once at the end, by one symp process
      local a
      for a in "${@:2}"; do
        [ -n "$a" ] || { echo "  ^ stage $name: an empty argument (a setting left empty?)" >&2; failures=$((failures + 1)); }
      done
      printf '%s\0' "${@:2}" >> "$check_file"; printf '\0' >> "$check_file"
      checked+=("$name")
    fi
  elif [ -e "$done_dir/$name" ]; then
    echo "== $name: done earlier" >&2
  else
    echo "== $name" >&2
    { printf '  $'; printf ' %q' "$@"; printf '\n'; } >&2
    local t0=$SECONDS
    if ! "$@"; then
      if [ -z "$tolerate" ] || [ ! -s "$tolerate" ]; then
        echo "paper recipe: stage '$name' failed; earlier stages' outputs are kept in $R" >&2
        exit 1
      fi
    fi
    echo "{\"stage\": \"$name\", \"seconds\": $((SECONDS - t0))}" >> "$R/stage_times.jsonl"
    touch "$done_dir/$name"
    echo "== $name: $((SECONDS - t0)) s" >&2
  fi
  if [ "$name" = "$until" ]; then stopped=1; fi
}
skip() { [ "$stopped" = 1 ] || echo "== $1: skipped ($2)" >&2; }

# ---- 1. corpus ----
servers=(--llm-model "${C[LLM_MODEL]}" --tts-model "${C[TTS_MODEL]}")  # empty URLs: gen-data's environment
[ -z "${C[LLM_URL]}" ] || servers+=(--llm-url "${C[LLM_URL]}")          # variables (OPENAI_BASE_URL, ...)
[ -z "${C[TTS_URL]}" ] || servers+=(--tts-url "${C[TTS_URL]}")
stage gen-data "${S[@]}" gen-data --out "$R/corpus" --per-emotion "${C[PER_EMOTION]}" \
  --neutral-queries "${C[NEUTRAL_QUERIES]}" --text-backend openai --tts-backend openai "${servers[@]}" \
  --concurrency "${C[GEN_CONCURRENCY]}"

# ---- 2-3. tokens and training ----
gen=(--max-new-tokens "${C[MAX_NEW_TOKENS]}" --temperature "${C[TEMPERATURE]}" --top-p "${C[TOP_P]}")
if [ "${C[STACK]}" = glm4voice ]; then
  stage tokenize "${S[@]}" tokenize encode --corpus "$R/corpus" --out "$R/enc" --codec glm4voice \
    --speech-tokenizer "${C[GLM4VOICE_TOKENIZER]}" --text-tokenizer "${C[GLM4VOICE_MODEL]}" --device "${C[DEVICE]}"
  stage train-lora "${S[@]}" --config "${C[TRAIN_CONFIG]}" train-lora --model "${C[GLM4VOICE_MODEL]}" \
    --train "$R/enc/encoded_train.jsonl" --eval "$R/enc/encoded_eval.jsonl" --out "$R/lora" --resume
  model=(--model "${C[GLM4VOICE_MODEL]}" --tokenizer "${C[GLM4VOICE_MODEL]}" --codec glm4voice
         --codec-encoder "${C[GLM4VOICE_TOKENIZER]}" --codec-decoder "${C[GLM4VOICE_DECODER]}"
         --device "${C[DEVICE]}" --dtype "${C[DTYPE]}" "${gen[@]}")
else
  # The embedded stand-in (CPU, minutes): a tiny base trained here without the condition, then the LoRA.
  stage tokenize-fit "${S[@]}" tokenize fit --corpus "$R/corpus" --out "$R/tok"
  stage tokenize "${S[@]}" tokenize encode --corpus "$R/corpus" --model "$R/tok" --out "$R/enc"
  stage tokenize-base "${S[@]}" tokenize encode --corpus "$R/corpus" --model "$R/tok" --out "$R/enc_base" \
    --condition-mode none
  vocab=0
  if [ -f "$R/tok/tokenizer.json" ]; then  # text pieces + audio codes (infer refuses a smaller model)
    vocab=$(( $(sed -n 's/.*"text_vocab_size": *\([0-9]*\).*/\1/p' "$R/tok/tokenizer.json") +
              $(sed -n 's/.*"audio_codes": *\([0-9]*\).*/\1/p' "$R/tok/tokenizer.json") ))
  fi
  stage train-base "${S[@]}" --threads "${C[TRAIN_THREADS]}" train-lora --init tiny --vocab-size "$vocab" --full \
    --train "$R/enc_base/encoded_train.jsonl" --eval "$R/enc_base/encoded_eval.jsonl" --out "$R/base" \
    --epochs "${C[EMBEDDED_BASE_EPOCHS]}" --lr 2e-3 --warmup-steps 20 --batch-size 8 --grad-accum 1 \
    --eval-every 50 --save-every 50 --keep 1 --resume
  stage train-lora "${S[@]}" --threads "${C[TRAIN_THREADS]}" train-lora --model "$R/base/model" \
    --train "$R/enc/encoded_train.jsonl" --eval "$R/enc/encoded_eval.jsonl" --out "$R/lora" \
    --epochs "${C[EMBEDDED_LORA_EPOCHS]}" --lr 1e-3 --warmup-steps 10 --lora-dropout 0.05 --batch-size 8 \
    --grad-accum 1 --eval-every 50 --save-every 50 --keep 1 --resume
  model=(--model "$R/base/model" --tokenizer "$R/tok" "${gen[@]}")
fi
adapter=(--adapter "sympatheia=$R/lora/adapter")
# Does the reply depend on the condition? Each eval reference reply scored under the 12 anchors' prompts.
if [ "${C[STACK]}" = glm4voice ]; then
  probe_model=(--model "${C[GLM4VOICE_MODEL]}" --tokenizer "${C[GLM4VOICE_MODEL]}" --device "${C[DEVICE]}" --dtype "${C[DTYPE]}")
else
  probe_model=(--model "$R/base/model" --tokenizer "$R/tok")
fi
stage probe "${S[@]}" probe "${probe_model[@]}" --include-base "${adapter[@]}" \
  --encoded "$R/enc/encoded_eval.jsonl" --out "$R/probe"
both=(--include-base --style "base=${C[BASE_STYLE]}" "${adapter[@]}")
eval_set=(--manifest "$R/corpus/manifest.jsonl" --partition eval)

# ---- 4. replies ----
stage infer-neutral "${S[@]}" infer "${model[@]}" "${eval_set[@]}" --split neutral --limit "${C[EVAL_QUERIES]}" \
  --reference-conditions "${both[@]}" --out "$R/replies/neutral"
stage infer-text-emotion "${S[@]}" infer "${model[@]}" "${eval_set[@]}" --split neutral \
  --limit "${C[EVAL_QUERIES]}" --reference-conditions --include-base --base-name text-emotion \
  --prompt-style emotion-text --out "$R/replies/text-emotion"
stage infer-emotional "${S[@]}" infer "${model[@]}" "${eval_set[@]}" --split emotional \
  --limit "${C[EMOTIONAL_QUERIES]}" --none --prompt-style plain "${both[@]}" --out "$R/replies/emotional"
reply_sets=(neutral text-emotion emotional)
if [ -n "${C[COMMONEVAL]}" ]; then
  if [[ ${C[COMMONEVAL]} == *.jsonl ]]; then questions=(--manifest "${C[COMMONEVAL]}"); else questions=(--audio "${C[COMMONEVAL]}"); fi
  stage infer-commoneval "${S[@]}" infer "${model[@]}" "${questions[@]}" --none --prompt-style plain \
    --setting commoneval "${both[@]}" --out "$R/replies/commoneval"
  reply_sets+=(commoneval)
else
  skip infer-commoneval "COMMONEVAL is empty: name a folder of spoken questions or a manifest"
fi
noise_sets=()
for sigma in ${C[NOISE_SIGMAS]}; do
  for rep in $(seq 1 "${C[NOISE_REPEATS]}"); do
    # One seed per repeat; within a run the noise is drawn per (input, condition), valence before arousal.
    stage "infer-noise-sigma_${sigma}-rep_$rep" "$SYMP" --seed $(( C[SEED] + rep - 1 )) infer "${model[@]}" \
      "${eval_set[@]}" --split neutral --limit "${C[NOISE_QUERIES]}" --all-emotions --va-noise "$sigma" \
      "${adapter[@]}" --out "$R/replies/noise/sigma_$sigma/rep_$rep"
    noise_sets+=("sigma_$sigma=$R/replies/noise/sigma_$sigma/rep_$rep/responses.jsonl")
  done
done
sensing_sets=()
for modality in $(printf '%s\n' "${!CUES[@]}" | sort); do
  stage "infer-sensing-$modality" "${S[@]}" infer "${model[@]}" "${eval_set[@]}" --split neutral \
    --cues "${CUES[$modality]}" "${adapter[@]}" --out "$R/replies/sensing/$modality"
  sensing_sets+=("$modality=$R/replies/sensing/$modality/responses.jsonl")
done
[ ${#CUES[@]} -gt 0 ] || skip infer-sensing "SENSING_CUES is empty: give MODALITY=FILE.jsonl entries"

# ---- 5. transcripts (the similarity and WER use them when an ASR server is named) ----
main_sets=()
for set in "${reply_sets[@]}"; do
  if [ -n "${C[ASR_URL]}" ]; then
    stage "transcribe-$set" "$SYMP" transcribe --responses "$R/replies/$set/responses.jsonl" \
      --out "$R/replies/$set/transcribed.jsonl" --url "${C[ASR_URL]}" --model "${C[ASR_MODEL]}"
    main_sets+=("$R/replies/$set/transcribed.jsonl")
  else
    main_sets+=("$R/replies/$set/responses.jsonl")
  fi
done
[ -n "${C[ASR_URL]}" ] || skip transcribe "ASR_URL is empty: similarity on the model's own text, no WER"

# ---- 6. prosody ----
stage eval-prosody --tolerate "$R/prosody/correlations.csv" "${S[@]}" eval-prosody \
  --manifest "$R/replies/neutral/responses.jsonl" --out "$R/prosody"

# ---- 7. judge ----
judge=(--judge-model "${C[JUDGE_MODEL]}" --concurrency "${C[JUDGE_CONCURRENCY]}")
[ -z "${C[JUDGE_URL]}" ] || judge+=(--judge-url "${C[JUDGE_URL]}")
[ -z "${C[JUDGE_URL]}" ] && skip judge "JUDGE_URL is empty: no audio judge, similarity and general ability only"
encoders=()
[ -z "${C[BERTSCORE_MODEL]}" ] ||
  encoders+=(--bertscore-model "${C[BERTSCORE_MODEL]}" --bertscore-layer "${C[BERTSCORE_LAYER]}")
[ -z "${C[GENERAL_BERTSCORE_MODEL]}" ] || encoders+=(--general-bertscore-model "${C[GENERAL_BERTSCORE_MODEL]}"
  --general-bertscore-layer "${C[GENERAL_BERTSCORE_LAYER]}")
stage judge-main "${S[@]}" judge --responses "${main_sets[@]}" "${judge[@]}" "${encoders[@]+"${encoders[@]}"}" \
  --similarity-min-seconds "${C[SIMILARITY_MIN_SECONDS]}" --out "$R/judge/main"
[ ${#noise_sets[@]} -eq 0 ] ||
  stage judge-noise "${S[@]}" judge --responses "${noise_sets[@]}" "${judge[@]}" --out "$R/judge/noise"
[ ${#sensing_sets[@]} -eq 0 ] ||
  stage judge-sensing "${S[@]}" judge --responses "${sensing_sets[@]}" "${judge[@]}" --out "$R/judge/sensing"

# ---- 8. report (rewritten on every run) ----
if [ "$dry_run" = 1 ]; then
  stage report "$SYMP" report --recipe paper --run "$R"
  # Every stage's arguments through symp's own parser (unknown options, --config keys, types).
  while read -r word k verdict; do
    [ "$word" = command ] && [ "$verdict" = refused ] || continue
    echo "  ^ symp refuses these arguments: stage ${checked[${k%:} - 1]}" >&2
    failures=$((failures + 1))
  done < <("$SYMP" --check-args-batch "$check_file" 2> >(sed 's/^/  symp: /' >&2) || true)
  [ "$failures" = 0 ] || die "$failures stage(s) with arguments symp refuses (see above)"
  echo "# dry run: every stage's arguments are accepted by symp" >&2
elif [ "$stopped" = 0 ]; then
  "$SYMP" report --recipe paper --run "$R" >/dev/null
  echo "paper recipe: tables in $R/report/tables.md (tables.json, *.csv, figures beside it)" >&2
else
  echo "paper recipe: stopped after stage '$until' as asked; rerun without --until to go on" >&2
fi
