#!/usr/bin/env bash
# Runs every test: builds (build/), runs ctest (unit, end-to-end, the scenario
# list, the Go, Node, C# and Rust bindings' suites, CLI, packaging and ABI, out-of-memory
# sweeps, peak memory of hostile answers, a 30 s soak), then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/) and with
# ThreadSanitizer (build-tsan/) and runs the unit and end-to-end tests and the
# soak in each, then a libFuzzer smoke run. Fails on any failure.
#   LITERLLM_FIXTURES_DIR  recorded traffic (default: ../shared/fixtures beside the checkout)
#   SKIP_SANITIZERS=1      skip the sanitizer builds
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
  # The bindings load the instrumented library into a runtime of their own: run below, with the ASan runtime preloaded.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" --timeout 600 -LE "pkg|abi|bindings")
  echo "== the bindings against the ASan build (leak checks off: the runtimes keep memory at exit)"
  asan_rt=$(gcc -print-file-name=libasan.so)
  if command -v go >/dev/null && [ -d build/bindings-prefix ]; then
    ASAN_LIB_DIR="$root/build-asan" LITERLLM_UPSTREAM="$root/build/tests/upstream/literllm-upstream" \
      LITERLLM_API_JSON="$root/build/literllm.api.json" sh bindings/go/test.sh "$root/build/bindings-prefix"
  fi
  if command -v cargo >/dev/null; then
    LITERLLM_LIB_DIR="$root/build" LITERLLM_UPSTREAM="$root/build/tests/upstream/literllm-upstream" \
      LITERLLM_SCENARIOS="$root/tests/scenarios/scenarios.json" sh bindings/rust/run-asan.sh "$root/build-asan"
  fi
  if command -v dotnet >/dev/null; then
    LITERLLM_CSHARP_ARTIFACTS="$root/build-asan/csharp-artifacts" \
      bash bindings/csharp/test.sh "$root/build-asan" "$root/build/tests/upstream/literllm-upstream" --asan
  fi
  if [ -f build-asan/bindings/node/literllm.node ]; then
    (cd bindings/node && LD_PRELOAD="$asan_rt" ASAN_OPTIONS=detect_leaks=0 LD_LIBRARY_PATH="$root/build-asan" \
       LITERLLM_NODE_ADDON="$root/build-asan/bindings/node/literllm.node" \
       LITERLLM_UPSTREAM="$root/build/tests/upstream/literllm-upstream" LITERLLM_API_JSON="$root/build/literllm.api.json" \
       node --test test/*.test.cjs test/*.test.mjs)
  fi

  echo "== build with ThreadSanitizer"
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLITERLLM_TSAN=ON -DLITERLLM_BUILD_BENCH=OFF \
        -DLITERLLM_FIXTURES_DIR="$fixtures" >/dev/null
  cmake --build build-tsan -j"$jobs"
  echo "== tests under ThreadSanitizer"
  (cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
     ctest --output-on-failure -j"$jobs" --timeout 600 -LE "pkg|abi|bindings")
fi

# Fuzz smoke: each libFuzzer target (tests/fuzz) over its seed corpus plus ~20,000
# generated inputs (a fixed -seed, so a run is repeatable). Any crash, sanitizer
# report or broken invariant fails the run; the input that did it is kept in
# build-fuzz/fuzz-findings/.
if command -v clang-14 >/dev/null 2>&1 && command -v clang++-14 >/dev/null 2>&1; then
  echo "== fuzz smoke (libFuzzer, clang-14)"
  fuzz_start=$SECONDS
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DLITERLLM_FUZZ=ON -DLITERLLM_BUILD_TESTS=OFF \
        -DLITERLLM_BUILD_BENCH=OFF -DLITERLLM_FIXTURES_DIR="$fixtures" >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_targets
  rm -rf build-fuzz/fuzz-smoke build-fuzz/fuzz-findings
  mkdir -p build-fuzz/fuzz-findings
  for t in fuzz_sse fuzz_eventstream fuzz_request fuzz_stream fuzz_native_stream fuzz_error_body fuzz_config; do
    case $t in
      fuzz_sse) dict=sse.dict ;;
      fuzz_config) dict=config.dict ;;
      *) dict=json.dict ;;
    esac
    mkdir -p "build-fuzz/fuzz-smoke/$t"  # new inputs go here, never into the seed corpus
    if ! build-fuzz/tests/fuzz/$t -seed=1 -runs=20000 -max_len=4096 -timeout=30 -dict="tests/fuzz/$dict" \
           -artifact_prefix="build-fuzz/fuzz-findings/$t-" "build-fuzz/fuzz-smoke/$t" "tests/fuzz/corpus/$t" \
           >"build-fuzz/fuzz-smoke/$t.log" 2>&1; then
      tail -n 60 "build-fuzz/fuzz-smoke/$t.log" >&2
      echo "FAILED: fuzz target $t found a problem; input in build-fuzz/fuzz-findings/" \
           "(replay: build-fuzz/tests/fuzz/$t FILE)" >&2
      exit 1
    fi
    echo "   $t: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second\(s\)' "build-fuzz/fuzz-smoke/$t.log" | tail -n 1)"
  done
  echo "   fuzz smoke: $((SECONDS - fuzz_start)) s"
else
  echo "WARNING: clang-14 not found: the fuzz smoke step was SKIPPED (scripts/install-deps.sh installs it)" >&2
fi
echo "== all tests passed"
