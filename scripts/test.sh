#!/usr/bin/env bash
# Runs every test: builds (build/), runs ctest (unit, end-to-end, CLI, packaging
# and ABI), then builds again with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/) and runs the unit and end-to-end tests there. Fails on any failure.
#   LITERLLM_FIXTURES_DIR  recorded traffic (default: ../shared/fixtures beside the checkout)
#   SKIP_SANITIZERS=1      skip the sanitizer build
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh

fixtures=${LITERLLM_FIXTURES_DIR:-$root/../shared/fixtures}
if [ ! -d "$fixtures" ]; then
  echo "WARNING: no recorded fixtures at $fixtures: the tests that replay real traffic will be SKIPPED" >&2
fi

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLITERLLM_FIXTURES_DIR="$fixtures" >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 300)

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLITERLLM_SANITIZE=ON -DLITERLLM_BUILD_BENCH=OFF \
        -DLITERLLM_FIXTURES_DIR="$fixtures" >/dev/null
  cmake --build build-asan -j"$jobs"
  echo "== tests under sanitizers"
  # Packaging tests build plain consumers against the instrumented .so: not meaningful here.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" --timeout 600 -LE "pkg|abi")
fi
echo "== all tests passed"
