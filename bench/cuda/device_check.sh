#!/usr/bin/env bash
# One run on a CUDA machine (torch 2.x in python3, no apt): build symp against CUDA torch with the carried
# Debian packages (.cache/cuda-bundle from scripts/cuda-bundle.sh), run the tests, check that PEFT loads an
# adapter symp wrote, and run the GPU benchmarks that exist. Results go to $OUT (or ./device-out).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/device-out}
mkdir -p "$out"
source scripts/cuda-env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
python3 -c 'import torch,transformers,peft;print("torch",torch.__version__,"transformers",transformers.__version__,"peft",peft.__version__)' >> "$out/gpu.txt" 2>&1
shared=${SYMP_SHARED:-$PWD/.cache/shared}
t0=$SECONDS
SYMP_CMAKE_ARGS="-DSYMP_SHARED_DIR=$shared" scripts/cuda-build.sh > "$out/build.log" 2>&1
echo "build rc=$? in $((SECONDS - t0)) s" | tee -a "$out/summary.txt"
tail -30 "$out/build.log" > "$out/build-tail.log"
[ -x build-cuda/tools/symp/symp ] || exit 1
t0=$SECONDS
ctest --test-dir build-cuda -j16 --timeout 300 > "$out/ctest.log" 2>&1
echo "ctest rc=$? in $((SECONDS - t0)) s: $(grep -E 'tests passed|tests failed' "$out/ctest.log")" | tee -a "$out/summary.txt"
grep -E "\*\*\*Failed|Not Run|Timeout" "$out/ctest.log" >> "$out/summary.txt"
python3 bench/cuda/peft_check.py "$shared/fixtures" build-cuda/tools/symp/symp "$out/peft" > "$out/peft.log" 2>&1
echo "peft check rc=$?: $(tail -1 "$out/peft.log")" | tee -a "$out/summary.txt"
for bench in bench/cuda/bench_*.sh; do
  [ -e "$bench" ] || continue
  timeout 420 bash "$bench" build-cuda > "$out/$(basename "$bench" .sh).log" 2>&1
  echo "$bench rc=$?: $(tail -3 "$out/$(basename "$bench" .sh).log")" | tee -a "$out/summary.txt"
done
cat "$out/summary.txt"
# ASan + UBSan build of the no-torch tests (16 cores make this cheap here).
if [ "${SYMP_DEVICE_ASAN:-1}" = 1 ]; then
  t0=$SECONDS
  b=$PWD/.cache/cuda-bundle
  torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  export PKG_CONFIG_PATH=$b/root/usr/lib/x86_64-linux-gnu/pkgconfig:$b/root/usr/share/pkgconfig
  (cmake -S . -B build-asan -G Ninja -DSYMP_SANITIZE=ON -DSYMP_WITH_PLOTS=OFF -DSYMP_FMT_HEADER_ONLY=ON -DSYMP_SHARED_DIR="$shared" \
     -DCMAKE_PREFIX_PATH="$b/root/usr;$torch_prefix" -DCMAKE_CXX_FLAGS="-I$b/root/usr/include" \
     -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$b/lib" -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$b/lib" &&
   cmake --build build-asan -j16 --target symp_tests symp) > "$out/asan-build.log" 2>&1
  ASAN_OPTIONS=detect_leaks=0 timeout 200 ctest --test-dir build-asan -j16 --timeout 120 -R "affect|io:|cli:" \
    > "$out/asan-ctest.log" 2>&1
  echo "asan rc=$? in $((SECONDS - t0)) s: $(grep -E 'tests passed|tests failed' "$out/asan-ctest.log")" | tee -a "$out/summary.txt"
fi
