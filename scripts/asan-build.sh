#!/usr/bin/env bash
# Configures and builds the sanitizer build (clang, AddressSanitizer +
# UndefinedBehaviorSanitizer, libFuzzer instrumentation) in build-asan/, for
# scripts/test-sanitize.sh and scripts/fuzz.sh. Arguments: the targets to build.
#   FACEATT_ASAN_BUILD_DIR=<folder>   build folder (default build-asan/)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
build="${FACEATT_ASAN_BUILD_DIR:-build-asan}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # -O1: about half the compile time of -O3, and what the sanitizers' own docs
  # suggest for usable stack traces; the fuzz targets still run fast enough.
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DCMAKE_CXX_COMPILER=clang++-14 \
    -DFACEATT_FUZZ=ON -DFACEATT_BUILD_BENCH=OFF "${launcher[@]}"
fi
cmake --build "$build" -j"$(nproc)" --target "$@"
