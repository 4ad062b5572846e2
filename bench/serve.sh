#!/usr/bin/env bash
# symp serve's benchmark with the quickstart's model: time to first audio and sustained replies per minute at
# 1, 4 and 8 clients (bench/serve_bench.py), beside the same model's `symp infer` speed on the same input
# measured in this run (tokens/s), so the serving overhead shows as a ratio.
# Usage: bench/serve.sh QUICKSTART_DIR [SECONDS]    (QUICKSTART_DIR: recipes/quickstart/run.sh's output)
set -euo pipefail
cd "$(dirname "$0")/.."
qs=${1:?usage: bench/serve.sh QUICKSTART_DIR [SECONDS]}
seconds=${2:-30}
symp=${SYMP:-build/tools/symp/symp}
wav=$(find "$qs/replies" -name '*.wav' | sort | head -1)
[ -n "$wav" ] || { echo "serve.sh: no reply WAV under $qs/replies to use as the question" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

"$symp" infer --model "$qs/base/model" --tokenizer "$qs/tok" --adapter "lora=$qs/lora/adapter" --audio "$wav" \
  --emotion happy --out "$work/infer" >/dev/null 2>&1
infer_tps=$(python3 -c "import json;print(json.load(open('$work/infer/summary.json'))['tokens_per_second'])")
echo "symp infer, the same model and input: $infer_tps generated tokens/s"

"$symp" serve --model "$qs/base/model" --tokenizer "$qs/tok" --adapter "lora=$qs/lora/adapter" --include-base \
  --port 0 --max-concurrency "${MAX_CONCURRENCY:-2}" --max-queue 16 --queue-timeout 600 >"$work/serve.out" \
  2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.2; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
echo "symp serve at $url (--max-concurrency ${MAX_CONCURRENCY:-2})"
python3 bench/serve_bench.py "$url" "$wav" --seconds "$seconds" | tee "$work/bench.txt"
serve_tps=$(sed -n 's/^1 client(s): .* replies\/min, \([0-9.]*\) generated tokens\/s.*/\1/p' "$work/bench.txt")
python3 -c "print('serving overhead: 1 client %.0f tokens/s vs symp infer %.0f tokens/s: %.2fx' % ($serve_tps, $infer_tps, $serve_tps / $infer_tps))"
