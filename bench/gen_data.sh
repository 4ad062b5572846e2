#!/usr/bin/env bash
# Benchmark (not a test): the full Sympatheia-18k corpus (12 x 1000 emotional + 500 x 12 neutral) with
# the embedded backends, against the reference measured in the same run: espeak-ng's command line, one
# process per sentence, on responses of the same corpus.
#   bench/gen_data.sh SYMP_BINARY [OUT_DIR] [WORKERS]
set -euo pipefail
symp=${1:?usage: bench/gen_data.sh SYMP_BINARY [OUT_DIR] [WORKERS]}
out=${2:-/tmp/symp-bench-gen-data}
workers=${3:-2}
rm -rf "$out" "$out.ref"
mkdir -p "$out.ref"

start=$(date +%s.%N)
"$symp" --log-level warn --seed 42 gen-data --out "$out" --per-emotion 1000 --neutral-queries 500 --workers "$workers" \
  > "$out.summary.json"
end=$(date +%s.%N)
wall=$(echo "$end - $start" | bc -l)
hours=$(jq -r .audio_hours "$out.summary.json")
records=$(jq -r .records "$out.summary.json")
candidates=$(jq -r .dedup.candidates "$out/datasheet.json")
duplicates=$(jq -r .dedup.duplicates "$out/datasheet.json")
unique=$(jq -r .unique_queries "$out/datasheet.json")

# Reference: espeak-ng CLI, one process per sentence, on the first 200 responses, one core.
{ jq -r .response_text "$out/manifest.jsonl" || true; } | head -200 > "$out.ref/texts.txt"  # head closes the pipe early
ref_start=$(date +%s.%N)
i=0
while IFS= read -r line; do
  espeak-ng -v en-us -w "$out.ref/$i.wav" "$line"
  i=$((i + 1))
done < "$out.ref/texts.txt"
ref_end=$(date +%s.%N)
ref_wall=$(echo "$ref_end - $ref_start" | bc -l)
ref_bytes=$(cat "$out.ref"/*.wav | wc -c)
ref_seconds=$(echo "($ref_bytes - 44 * $i) / 2 / 22050" | bc -l)

rtf=$(echo "$hours * 3600 / $wall" | bc -l)
ref_rtf=$(echo "$ref_seconds / $ref_wall" | bc -l)
printf 'symp gen-data: %d records, %.2f h of audio in %.1f s wall with %d workers: %.0fx real time\n' \
  "$records" "$hours" "$wall" "$workers" "$rtf"
printf 'unique-query yield: %d unique of %d candidates (%d near-duplicates dropped)\n' "$unique" "$candidates" "$duplicates"
printf 'reference espeak-ng CLI (1 process per sentence, 1 core): %.0f s of audio in %.1f s: %.0fx real time\n' \
  "$ref_seconds" "$ref_wall" "$ref_rtf"
printf 'ratio symp / reference: %.2fx (goal: the full corpus in under 600 s)\n' "$(echo "$rtf / $ref_rtf" | bc -l)"
rm -rf "$out.ref"
