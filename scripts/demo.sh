#!/usr/bin/env bash
# The main job: installs the Debian packages, builds, then runs a chat and a
# stream through the library (the C example and the literllm CLI) against a
# real provider when its key is in the environment, else against the bundled
# local upstream on 127.0.0.1.
#   LITERLLM_DEMO_MODEL=provider/model   pick the model (its key must be set)
#   LITERLLM_DEMO_LOCAL=1                always use the local upstream
#   SKIP_INSTALL=1, BUILD_DIR=dir        (used by the test that runs this script)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

[ "${SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target literllm-cli literllm-upstream literllm_example_chat >/dev/null

model=${LITERLLM_DEMO_MODEL:-}
if [ -z "$model" ] && [ "${LITERLLM_DEMO_LOCAL:-0}" != 1 ]; then
  for row in "OPENAI_API_KEY openai/gpt-4o-mini" "GROQ_API_KEY groq/llama-3.1-8b-instant" \
             "MISTRAL_API_KEY mistral/mistral-small-latest" "DEEPSEEK_API_KEY deepseek/deepseek-chat" \
             "XAI_API_KEY xai/grok-3-mini" "OPENROUTER_API_KEY openrouter/openai/gpt-4o-mini" \
             "TOGETHER_API_KEY together/meta-llama/Llama-3.3-70B-Instruct-Turbo" \
             "CEREBRAS_API_KEY cerebras/llama3.1-8b"; do
    set -- $row
    if [ -n "${!1:-}" ]; then model=$2; break; fi
  done
fi

if [ -z "$model" ]; then
  # No key: serve the OpenAI wire protocol locally and point the openai provider at it.
  tmp=$(mktemp -d)
  mkfifo "$tmp/stdin"
  "$build/tests/upstream/literllm-upstream" --exit-on-stdin-eof --no-record <"$tmp/stdin" >"$tmp/out" &
  upstream=$!
  exec 9>"$tmp/stdin"   # the upstream lives while this descriptor is open
  trap 'exec 9>&-; wait $upstream 2>/dev/null || true; rm -rf "$tmp"' EXIT
  for _ in $(seq 100); do grep -q LISTENING "$tmp/out" 2>/dev/null && break; sleep 0.05; done
  port=$(awk '/LISTENING/ {print $2}' "$tmp/out")
  [ -n "$port" ] || { echo "demo: the local upstream did not start" >&2; exit 1; }
  export OPENAI_BASE_URL="http://127.0.0.1:$port/v1" OPENAI_API_KEY="local-demo-key"
  model=openai/gpt-4o-mini
  echo "== no provider key in the environment: using the local upstream at $OPENAI_BASE_URL"
else
  echo "== using $model"
fi

echo "== the C example (examples/chat.c)"
"$build/examples/literllm_example_chat" "$model"
echo "== the CLI: a chat"
"$build/tools/cli/literllm" chat -m "$model" "Say hello in five words."
echo "== the CLI: a stream"
"$build/tools/cli/literllm" chat --stream -m "$model" "Count from one to five."
echo "== demo done"
