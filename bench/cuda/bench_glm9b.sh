#!/usr/bin/env bash
# BENCHMARKS.md's GPU rows for the language model, both sides in one run on the same GPU: one LoRA step of
# the 9B-shaped GLM at 2048 tokens (with and without activation checkpointing) and greedy decoding, symp
# (bench_glm_step) against transformers + PEFT (glm9b_reference.py). Usage: bench/cuda/bench_glm9b.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bench=${1:-build-cuda}/bench/bench_glm_step
log=$(mktemp)
python3 bench/cuda/glm9b_reference.py 2>&1 | tee -a "$log" | grep -E "^reference|Error|error" 
for args in "--mode decode" "--mode step" "--mode step --checkpointing"; do
  "$bench" --device cuda --dtype bf16 $args 2>&1 | tee -a "$log"
done
# Ratios: reference time / symp time (above 1 = symp faster); memory side by side.
python3 - "$log" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
def num(line, pattern):
    m = re.search(pattern, line or "")
    return float(m.group(1)) if m else None
for label, ref_key, symp_key, unit in [
    ("LoRA step", "reference lora step:", "symp lora step (", "ms/step"),
    ("LoRA step +checkpointing", "reference lora step +checkpointing:", "+checkpointing:", "ms/step"),
    ("decode", "reference decode:", "symp decode", "tokens/s")]:
    ref = next((l for l in lines if l.startswith(ref_key)), None)
    mine = next((l for l in lines if l.startswith("symp") and symp_key in l and
                 ("+checkpointing" in l) == ("+checkpointing" in label)), None)
    if not ref or not mine:
        print(f"{label}: missing ({'reference' if not ref else 'symp'})"); continue
    pattern = r"([0-9.]+) ms/step" if unit == "ms/step" else r"([0-9.]+) tokens/s"
    r, s = num(ref, pattern), num(mine, pattern)
    speedup = r / s if unit == "ms/step" else s / r
    print(f"{label}: reference {r} {unit}, symp {s} {unit}: symp {speedup:.2f}x; peak GiB reference "
          f"{num(ref, r'peak ([0-9.]+) GiB')} vs symp {num(mine, r'peak ([0-9.]+) GiB')}")
PY
rm -f "$log"
