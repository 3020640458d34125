#!/usr/bin/env bash
# Builds the test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang, build-asan/) and runs the subset that fits CI: image decoding, config,
# the data folder, the store, bulk-enroll and the CLI's identify on good and
# hostile files. Any sanitizer report (memory error, leak, undefined behaviour)
# fails the test it happens in, and so the script. Extra arguments go to ctest.
#   FACEATT_SANITIZE_TESTS=<regex>   another subset (ctest -R)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
build="${FACEATT_ASAN_BUILD_DIR:-build-asan}"
subset='^(ImageTest|ConfigTest|DataDir|Dates|SqliteStoreTest|ParseLabel|PeopleCsv|BulkEnroll|BulkEnrollCli)\.'
subset+='|^CliTest\.(EnrollPeopleAndIdentifyTheirOtherPhotos|BadFilesGiveClearErrorsAndExitCode3|HostileFilesAreOneLineBadInputNeverACrash)$'
subset="${FACEATT_SANITIZE_TESTS:-$subset}"
scripts/asan-build.sh faceatt_tests faceatt
export FACEATT_TEST_MODELS_DIR="${FACEATT_TEST_MODELS_DIR:-$repo/models}"
# halt_on_error: the first report ends the process with an error; the tests that
# run the faceatt binary see its non-zero exit too.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$repo/scripts/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -R "$subset" "$@"
