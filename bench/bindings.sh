#!/usr/bin/env bash
# The bindings' benchmarks, one after another in one run, against the local upstream:
#   bench/bindings.sh [PREFIX] [--quick] [--callgrind] [--only=go,rust,csharp,node]
# PREFIX holds an installed libliterllm (include/, lib/); default /work/prefix (`cmake --install build
# --prefix PREFIX` from a Release or RelWithDebInfo build). The local upstream: $LITERLLM_UPSTREAM, else
# PREFIX/bin/literllm-upstream, else the build tree's (build/tests/upstream/literllm-upstream; the
# install does not carry it).
#
# Each binding's own benchmark interleaves its variants (the C call, the binding, and where there is
# one the language's official OpenAI SDK) round by round, in a fresh order each round, and reports
# medians of per-round ratios; then the resident set over 10,000 calls. This VM is noisy: run it on a
# quiet machine and read the ratios, not the absolute times.
#   go      bindings/go/bench_test.go      BenchmarkInterleaved (sequential), BenchmarkInterleaved16 (16 in
#                                          flight: bench_profile_test.go), BenchmarkRSS10000Calls
#   rust    bindings/rust/bench            literllm-bench ROUNDS CALLS
#   csharp  bindings/csharp/bench          LiterLlm.Bench (against the OpenAI NuGet SDK 2.15.0)
#   node    bindings/node/bench/bench.mjs  (against the `openai` npm SDK), then --rss
# --callgrind adds instruction counts per call (valgrind --tool=callgrind; repeatable, unlike wall
# time) for the C call and the binding's call where the runtime runs under valgrind (Rust): the
# difference of two runs (N and 2N calls) over N. (Valgrind 3.19 stops at an instruction Go 1.19's
# runtime uses, RDTSCP; .NET and Node JIT-compile: for those, CPU time beside wall.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/work/prefix quick=0 callgrind=0 only=go,rust,csharp,node
for a in "$@"; do
  case $a in
    --quick) quick=1 ;;
    --callgrind) callgrind=1 ;;
    --only=*) only=${a#--only=} ;;
    -*) sed -n '2,21p' "$0" >&2; exit 2 ;;
    *) prefix=$(cd "$a" && pwd) ;;
  esac
done
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
up=${LITERLLM_UPSTREAM:-$prefix/bin/literllm-upstream}
[ -x "$up" ] || [ -n "${LITERLLM_UPSTREAM:-}" ] || up=$root/build/tests/upstream/literllm-upstream
export LITERLLM_UPSTREAM=$up LITERLLM_LIBRARY_PATH=$prefix/lib
export GOPROXY=off DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ -x "$LITERLLM_UPSTREAM" ] || { echo "bench/bindings.sh: no $LITERLLM_UPSTREAM" >&2; exit 2; }
want() { [[ ",$only," == *",$1,"* ]]; }
rounds=15 gon=40x go16=40x
[ $quick = 1 ] && rounds=3 gon=4x go16=4x
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions per call of one variant: (Ir(2N) - Ir(N)) / N, the program given by "$@" with "{N}" in
# its arguments replaced by the number of calls.
ir_per_call() {
  local n=$1; shift
  local a b
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.a" "${@//\{N\}/$n}" >/dev/null 2>&1
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.b" "${@//\{N\}/$((2 * n))}" >/dev/null 2>&1
  a=$(callgrind_annotate "$tmp/cg.a" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  b=$(callgrind_annotate "$tmp/cg.b" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] || { echo "bench/bindings.sh: callgrind failed: $*" >&2; exit 1; }
  echo $(((b - a) / n))
}

if want go; then
  echo "== Go (bindings/go)"
  (cd "$root/bindings/go" && go test -run '^$' -bench '^BenchmarkInterleaved$' -benchtime "$gon" -count 1 . |
    grep -E '^Benchmark')
  (cd "$root/bindings/go" && go test -run '^$' -bench '^BenchmarkInterleaved16$' -benchtime "$go16" -count 1 . |
    grep -E '^Benchmark')
  (cd "$root/bindings/go" && go test -run '^$' -bench 'RSS10000Calls' -benchtime 3x -count 1 . | grep -E '^Benchmark')
fi

if want rust; then
  echo "== Rust (bindings/rust)"
  (cd "$root/bindings/rust" && cargo build --offline --release -q -p literllm-bench)
  bin=$root/bindings/rust/target/release/literllm-bench
  "$bin" "$rounds" 208
  if [ $callgrind = 1 ]; then
    c=$(ir_per_call 200 "$bin" "--profile=0:{N}")
    r=$(ir_per_call 200 "$bin" "--profile=1:{N}")
    echo "callgrind Ir per call: C llm_chat_e $c, Rust Client::chat $r, ratio $(awk "BEGIN {printf \"%.2f\", $r / $c}")"
  fi
fi

if want csharp; then
  echo "== C# (bindings/csharp)"
  (cd "$root/bindings/csharp/bench/LiterLlm.Bench" && dotnet run -c Release -- --rounds="$rounds")
fi

if want node; then
  echo "== Node (bindings/node)"
  # The addon against PREFIX's library, built here unless LITERLLM_NODE_ADDON names one.
  if [ -z "${LITERLLM_NODE_ADDON:-}" ]; then
    (cd "$root/bindings/node" && { [ -d node_modules/cmake-js ] || npm ci --no-audit --no-fund >/dev/null; } &&
      npm run build >/dev/null)
  fi
  (cd "$root/bindings/node" && node --expose-gc bench/bench.mjs --rounds "$rounds" &&
    node --expose-gc bench/bench.mjs --rss --calls 10000)
fi
