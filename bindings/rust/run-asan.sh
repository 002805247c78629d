#!/bin/sh
# Runs the Rust binding's test binaries against the ASan/UBSan build of
# libliterllm (LSan included).  Usage: run-asan.sh <asan build dir holding libliterllm.so.0>
set -eu
asan_dir=${1:?usage: run-asan.sh <asan build dir>}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
cargo test --offline --no-run -p literllm -p literllm-sys
asan=$(${CC:-gcc} -print-file-name=libasan.so)
status=0
for t in link api scenarios; do
  bin=$(ls -t target/debug/deps/$t-* | grep -v '\.d$' | head -1)
  echo "== $bin (ASan)"
  LD_PRELOAD=$asan LD_LIBRARY_PATH=$asan_dir ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin" || status=1
done
exit $status
