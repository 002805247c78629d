#!/bin/sh
# Builds and tests the Go binding against an installed libliterllm.
#   bindings/go/test.sh [PREFIX]   PREFIX holds include/, lib/ (libliterllm.so.0,
#                                  pkgconfig/literllm.pc); default /work/prefix
# Environment: LITERLLM_UPSTREAM (default PREFIX/bin/literllm-upstream),
# LITERLLM_API_JSON (default PREFIX/literllm.api.json; "" skips the bindgen
# check), ASAN_LIB_DIR (adds a run against an ASan build of the library there).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=${1:-${LITERLLM_PREFIX:-/work/prefix}}
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LITERLLM_UPSTREAM="${LITERLLM_UPSTREAM:-$prefix/bin/literllm-upstream}"
export GOPROXY=off  # standard library only: nothing to download
export GOTOOLCHAIN=local  # Go 1.21+: the toolchain given, never a download
cd "$here"
api_json=${LITERLLM_API_JSON-$prefix/literllm.api.json}
if [ -n "$api_json" ]; then
  python3 "$root/tools/bindgen/bindgen.py" "$api_json" "$root" --lang=go --check
fi
test -z "$(gofmt -l .)" || { echo "gofmt: $(gofmt -l .)" >&2; exit 1; }
go vet ./...
go test -race -count=1 ./...
GODEBUG=cgocheck=2 go test -count=1 ./...
# Go 1.21 and newer build another file (ctxwatch_afterfunc.go: context.AfterFunc
# instead of the poller) and schedule differently: the suite again with the
# newest Go present (scripts/install-deps.sh installs Debian's golang-1.23-go).
newer_go=${LITERLLM_NEWER_GO:-$(ls -d /usr/lib/go-1.2[1-9] 2>/dev/null | tail -n 1)/bin/go}
if [ -x "$newer_go" ]; then
  echo "bindings/go: again with $("$newer_go" version)"
  "$newer_go" vet ./...
  "$newer_go" test -race -count=1 ./...
else
  case "$(go env GOVERSION)" in
    go1.19* | go1.20*)
      echo "bindings/go: no Go 1.21 or newer in /usr/lib/go-1.2x (scripts/install-deps.sh): ctxwatch_afterfunc.go untested" >&2
      exit 1 ;;
  esac
fi
if [ -n "${ASAN_LIB_DIR:-}" ]; then
  go test -c -o "${TMPDIR:-/tmp}/literllm-go-asan.test" .
  asan=$(gcc -print-file-name=libasan.so)
  LD_LIBRARY_PATH="$ASAN_LIB_DIR" LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0 \
    "${TMPDIR:-/tmp}/literllm-go-asan.test" -test.count=1
fi
