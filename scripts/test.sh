#!/usr/bin/env bash
# The test command: builds (if needed) and runs every test with ctest.
# Tests use ../shared/faces and the models in models/; they fail, never skip,
# when those are missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
build="${FACEATT_BUILD_DIR:-build}"
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)"
export FACEATT_TEST_MODELS_DIR="${FACEATT_TEST_MODELS_DIR:-$repo/models}"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
