#!/usr/bin/env bash
# The test command: builds (if needed) and runs every test with ctest.
# Tests use ../shared/faces and the models in models/; they fail, never skip,
# when those are missing.
# With CI=true (as .ci/run sets it) it first runs the sanitizer subset
# (scripts/test-sanitize.sh, build-asan/) and every fuzz target for
# FACEATT_FUZZ_SECONDS (default 40) each (scripts/fuzz.sh); the whole suite
# runs last, so its summary closes the output.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
build="${FACEATT_BUILD_DIR:-build}"
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)"
export FACEATT_TEST_MODELS_DIR="${FACEATT_TEST_MODELS_DIR:-$repo/models}"
if [ "${CI:-}" = "true" ]; then
  scripts/test-sanitize.sh
  scripts/fuzz.sh "${FACEATT_FUZZ_SECONDS:-40}"
fi
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
