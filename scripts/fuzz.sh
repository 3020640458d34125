#!/usr/bin/env bash
# Builds every libFuzzer target in fuzz/ (build-asan/, ASan + UBSan) and runs
# each for SECONDS (default 60), one after another. Seeds come from
# fuzz/corpus/<target>/; inputs that find new code go to build-asan/fuzz-corpus/
# (kept between runs). A crash, sanitizer report, time-out (10 s per input) or
# allocation past 512 MB stops that target, saves the input under
# build-asan/fuzz-crashes/<target>/ and makes the script fail: add the input to
# fuzz/corpus/<target>/ and a unit test once fixed.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   e.g. scripts/fuzz.sh 600 image
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
seconds="${1:-60}"
shift || true
build="${FACEATT_ASAN_BUILD_DIR:-build-asan}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cc; do
    name="$(basename "$f" _fuzz.cc)"
    targets+=("$name")
  done
fi
scripts/asan-build.sh "${targets[@]/%/_fuzz}"
# Leaks are the sanitizer test suite's job; here they would stop a run at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for name in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$name"
  crashes="$build/fuzz-crashes/$name"
  mkdir -p "$corpus" "$crashes"
  echo "fuzz: $name for ${seconds}s"
  log="$build/fuzz-$name.log"
  if "$build/fuzz/${name}_fuzz" "$corpus" "fuzz/corpus/$name" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1; then
    runs="$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
    echo "fuzz: $name ok, ${runs:-?} executions, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz: $name FAILED (log: $log; input in $crashes/)" >&2
    grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5 >&2 || true
    failed+=("$name")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]}" >&2; exit 1; }
