#!/usr/bin/env bash
# Builds and tests the C# binding (every scenario of tests/scenarios/scenarios.json plus its own tests).
#   bindings/csharp/test.sh LIBDIR UPSTREAM [--asan]
# LIBDIR holds libliterllm.so.0 (a build tree or <prefix>/lib); UPSTREAM is the literllm-upstream program.
# --asan: LIBDIR is an AddressSanitizer build; its ASan runtime is preloaded into the test host and any
# report fails the run (leak checking is off: the .NET runtime is not leak-clean by LeakSanitizer's rules).
# Build output goes to $LITERLLM_CSHARP_ARTIFACTS (default: bindings/csharp/artifacts, ignored by git).
# The generated raw layer is checked by the ctest bindings.generated (tools/bindgen --check).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n '2,7p' "$0" >&2; exit 2; }
lib=$(cd "$1" && pwd); upstream=$2; mode=${3:-}
art=${LITERLLM_CSHARP_ARTIFACTS:-$here/artifacts}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export LITERLLM_LIBRARY_PATH=$lib LITERLLM_UPSTREAM=$upstream

dotnet build "$here/tests/LiterLlm.Tests" --artifacts-path "$art" -v q -nologo
if [ "$mode" = --asan ]; then
  asan=$(ldd "$lib/libliterllm.so.0" | awk '/libasan/ {print $3}')
  [ -n "$asan" ] || { echo "test.sh: $lib/libliterllm.so.0 is not an ASan build" >&2; exit 2; }
  logs=$(mktemp -d)
  trap 'rm -rf "$logs"' EXIT
  # .NET handles SIGSEGV itself (null references) and uses its own alternate stacks.
  LD_PRELOAD=$asan \
  ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:use_sigaltstack=0:detect_stack_use_after_return=0:log_path=$logs/asan \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan \
    dotnet test "$here/tests/LiterLlm.Tests" --artifacts-path "$art" --no-build
  if grep -lE "ERROR|runtime error" "$logs"/* 2>/dev/null; then
    cat "$logs"/* >&2
    exit 1
  fi
else
  dotnet test "$here/tests/LiterLlm.Tests" --artifacts-path "$art" --no-build
fi
