#!/usr/bin/env bash
# Instructions per chunk of each native stream translation, by callgrind
# (repeatable, unlike wall time): bench_native --profile runs N and then 2N
# passes over a provider's recordings; the difference of the two totals over
# the difference of the chunks is the cost per chunk, start-up cancelled out.
#   bench/stream_instructions.sh [BUILD_DIR] [PASSES]
set -euo pipefail
build=${1:-build}
n=${2:-50}
bin="$build/bench/bench_native"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total() { callgrind_annotate "$1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }
chunks() { sed -n 's/.*: \([0-9]*\) chunks.*/\1/p' "$1"; }
printf '%-20s %14s\n' provider instr/chunk
for p in openai anthropic gemini bedrock cohere; do
  for k in 1 2; do
    valgrind --tool=callgrind --callgrind-out-file="$tmp/$p.$k" "$bin" --profile="$p:$((n * k))" >"$tmp/$p.$k.txt" 2>/dev/null
  done
  i1=$(total "$tmp/$p.1"); i2=$(total "$tmp/$p.2")
  c1=$(chunks "$tmp/$p.1.txt"); c2=$(chunks "$tmp/$p.2.txt")
  printf '%-20s %14d\n' "$p" $(( (i2 - i1) / (c2 - c1) ))
done
