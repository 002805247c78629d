#!/usr/bin/env bash
# Peak RSS of large payloads through llm_call, each in a fresh process, the
# local upstream in another (so that only the library's memory counts):
#  - a 2,048-input embedding batch of 1,536 floats each (12.6 MB of vectors);
#  - a 25 MB audio upload, from a path and from caller-owned bytes.
#   bench/payload_rss.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
tmp=$(mktemp -d)
trap 'kill $up 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkfifo "$tmp/in"
"$build/tests/upstream/literllm-upstream" --no-record --exit-on-stdin-eof <"$tmp/in" >"$tmp/up.out" &
up=$!
exec 3>"$tmp/in"
for _ in $(seq 100); do grep -q LISTENING "$tmp/up.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/LISTENING/ {print $2}' "$tmp/up.out")
base="http://127.0.0.1:$port/v1"
# A WAV file of 25 MB (25,000,000 bytes): 16-bit mono PCM at 16 kHz.
python3 - "$tmp/talk.wav" <<'PY'
import struct, sys
size = 25_000_000
data = size - 44
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", size - 8) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16))
    f.write(b"data" + struct.pack("<I", data))
    f.write(bytes(data))
PY
"$build/bench/payload_rss" "$base" embeddings 2048 1536
"$build/bench/payload_rss" "$base" upload-path "$tmp/talk.wav"
"$build/bench/payload_rss" "$base" upload-data "$tmp/talk.wav"
