#!/usr/bin/env bash
# Installs the Debian packages literllm builds and tests with. Idempotent:
# installs only what is missing. Runs apt-get as root (directly or via sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ca-certificates openssl
  libcurl4-openssl-dev      # HTTP/1.1, HTTP/2, TLS
  rapidjson-dev             # JSON: the document adapters edit, and the writer
  libsimdjson-dev           # JSON: parsing (src/core/json.cpp; bench/bench_json measures it)
  libtomlplusplus-dev       # TOML config files
  libmbedtls-dev            # SHA-256, HMAC, RSA signing (auth)
  libboost-dev              # Beast/Asio: the local upstream
  zlib1g-dev                # gzip answers of the local upstream (and their decoding in its tests)
  googletest libgtest-dev libbenchmark-dev
  abigail-tools             # abidiff: the ABI baseline test
  binutils                  # nm, readelf: the export test
  nghttp2-proxy             # nghttpx: HTTP/2 over TLS in front of the local upstream (tests/e2e/h2_test.cpp)
  clang-14 libclang-rt-14-dev  # libFuzzer + sanitizers: the fuzz targets (tests/fuzz)
  python3 python3-yaml python3-clang-14  # tools/bindgen: the binding generators, and libclang's reading of the header
  golang-go                 # the Go binding (bindings/go; Debian's Go 1.19, standard library only)
  # the Rust binding's crates, offline from /usr/share/cargo/registry (bindings/rust/.cargo/config.toml)
  librust-serde-dev librust-serde-derive-dev librust-serde-json-dev librust-libc-dev librust-pkg-config-dev
  librust-futures-dev librust-tokio-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A second Go, 1.21 or newer, for the Go binding's other build: from Go 1.21 on
# a context is watched with context.AfterFunc (bindings/go/ctxwatch_afterfunc.go)
# instead of the poller Go 1.19 needs (ctxwatch_poll.go), and bindings/go/test.sh
# runs the suite with both. Bookworm ships 1.19 as golang-go and newer ones in
# bookworm-backports, as golang-1.23-go (/usr/lib/go-1.23; `go` stays 1.19).
newer_go=$(ls -d /usr/lib/go-1.2[1-9] 2>/dev/null | tail -n 1 || true)
if [ -z "$newer_go" ] && [ -r /etc/os-release ] && . /etc/os-release && [ "${VERSION_CODENAME:-}" = bookworm ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "install-deps: golang-1.23-go from bookworm-backports"
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports golang-1.23-go
fi

# The Node binding's npm dependencies (cmake-js, node-api-headers, typescript
# for its declaration tests), pinned by its package-lock.json; the addon
# itself is built with the library.
root=$(cd "$(dirname "$0")/.." && pwd)
if command -v npm >/dev/null && [ -f "$root/bindings/node/package-lock.json" ]; then
  if [ ! -d "$root/bindings/node/node_modules" ] ||
     [ "$root/bindings/node/package-lock.json" -nt "$root/bindings/node/node_modules" ]; then
    echo "install-deps: npm ci in bindings/node"
    (cd "$root/bindings/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
fi
