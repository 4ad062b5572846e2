#!/usr/bin/env bash
# Builds symp's libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs them.
# Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]      (defaults: all, 60 seconds per target)
#   scripts/fuzz.sh --list                           the targets and what each reads
# Each target starts from its seed corpus (tests/fuzz/corpus/TARGET/, kept in the repository) plus what
# earlier runs here found (build-fuzz/corpus/TARGET/). A crash, a sanitizer report, a leak, a timeout
# (10 s per input) or an input over 2 GiB of memory is written to build-fuzz/crashes/TARGET/ and fails the
# run: copy it to tests/fuzz/regressions/TARGET/ once fixed, and the ordinary tests replay it from then on.
# FUZZ_JOBS targets run side by side (default: the number of cores); FUZZ_SEED fixes libFuzzer's seed;
# FUZZ_RUNS stops a target after that many executions even before SECONDS; FUZZ_BUILD_DIR moves
# build-fuzz/; FUZZ_NO_BUILD=1 runs what is built (for several fuzz.sh at once on one build folder). The
# table at the end (executions, CPU seconds, coverage, findings) is also appended to build-fuzz/fuzz-runs.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz.sh: needs clang and libFuzzer (Debian: clang libclang-rt-14-dev; scripts/install-deps.sh installs them)" >&2
  exit 1
fi

mkdir -p "$build"
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  cmake -S . -B "$build" -G Ninja -DSYMP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; exit 1; }
  cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -50 "$build/build.log" >&2; exit 1; }
fi

mapfile -t all_targets < <(cd "$build" && ls fuzz_* | sed 's/^fuzz_//' | sort)
if [ "${1:-}" = "--list" ]; then printf '%s\n' "${all_targets[@]}"; exit 0; fi
which=${1:-all}
seconds=${2:-60}
if [ "$which" = all ]; then targets=("${all_targets[@]}"); else targets=("$which"); fi
for t in "${targets[@]}"; do
  [ -x "$build/fuzz_$t" ] || { echo "fuzz.sh: no target '$t' (scripts/fuzz.sh --list)" >&2; exit 2; }
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0}
export SYMP_SPM_PLUGIN="$build/libsymp_spm.so"

run_one() {
  local t=$1
  local corpus="$build/corpus/$t" crashes="$build/crashes/$t" log="$build/logs/$t.log"
  mkdir -p "$corpus" "$crashes" "$build/logs"
  local dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  # The repository's seeds are read, never written: new inputs go to the working corpus (listed first).
  local seed=() runs=()
  [ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")
  [ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
  # The CPU seconds it got (user + system) go to logs/TARGET.cpu for the table.
  local rc=0 timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -o "$build/logs/$t.cpu" -f '%U %S')
  "${timer[@]}" \
    "$build/fuzz_$t" "$corpus" "tests/fuzz/corpus/$t" "${dict[@]}" "${seed[@]}" "${runs[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1 || rc=$?
  return $rc
}

status=0
jobs=${FUZZ_JOBS:-$(nproc)}
running() { jobs -rp | wc -l; }
for t in "${targets[@]}"; do
  # A slot frees as soon as any target ends (targets that reach FUZZ_RUNS end early).
  while (($(running) >= jobs)); do wait -n || status=1; done
  echo "fuzz.sh: $t for ${seconds}s" >&2
  run_one "$t" &
done
while (($(running) > 0)); do wait -n || status=1; done

printf '%-18s %12s %8s %8s %8s %9s %s\n' target executions exec/s cpu_s cov corpus findings
for t in "${targets[@]}"; do
  log="$build/logs/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(find "$build/corpus/$t" -type f | wc -l)
  found=$(find "$build/crashes/$t" -type f | wc -l)
  cpu=$(awk '/^[0-9.]+ [0-9.]+$/ {printf "%.0f", $1 + $2}' "$build/logs/$t.cpu" 2>/dev/null || true)
  printf '%-18s %12s %8s %8s %8s %9s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cpu:-?}" "${cov:-?}" "$corp" "$found"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "${execs:-}" "${cov:-}" "$corp" \
    "$found" "${cpu:-}" >>"$build/fuzz-runs.tsv"
  if ((found > 0)); then
    status=1
    echo "fuzz.sh: $t found $found input(s) in $build/crashes/$t/ (log: $log):" >&2
    grep -m3 -E 'ERROR: |runtime error|fuzz: check failed|uncaught exception|what\(\)' "$log" >&2 || tail -5 "$log" >&2
  fi
done
exit $status
