#!/usr/bin/env bash
# The Node binding as a user installs it: `npm pack` in bindings/node, then `npm install` of the
# tarball into an empty project, which compiles the addon on install (cmake-js, pkg-config literllm),
# and a program that loads it (CommonJS and ESM) and uses the library offline.
#   tests/pkg/pack_node.sh PREFIX     PREFIX: an installed libliterllm (lib/pkgconfig/literllm.pc)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(cd "$1" && pwd)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset LITERLLM_NODE_ADDON LD_LIBRARY_PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
tgz=$(npm pack --silent "$root/bindings/node" | tail -1)
[ -f "$tgz" ] || { echo "pack_node: npm pack gave no tarball" >&2; exit 1; }
# Nothing built or installed may travel in the package.
if tar -tzf "$tgz" | grep -E '^package/(build|node_modules)/'; then
  echo "pack_node: the tarball carries build output" >&2; exit 1
fi
mkdir app && cd app
npm init -y >/dev/null
npm install --prefer-offline --no-audit --no-fund --loglevel=error "../$tgz"
want=$(pkg-config --modversion literllm)
cat > check.cjs <<'JS'
const l = require('literllm');
const c = new l.Client({ providers: { openai: { api_key: 'sk-pack-test-0123456789' } } });
const p = c.preview({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
if (!p.url.startsWith('https://api.openai.com/')) throw new Error('preview url: ' + p.url);
if (JSON.stringify(p).includes('0123456789')) throw new Error('the key shows in the preview');
c.close();
console.log(l.version());
JS
cat > check.mjs <<'JS'
import { Client, version } from 'literllm';
const c = new Client();
c.close();
console.log(version());
JS
got=$(node check.cjs)
[ "$got" = "$want" ] || { echo "pack_node: CommonJS version '$got', pkg-config says '$want'" >&2; exit 1; }
got=$(node check.mjs)
[ "$got" = "$want" ] || { echo "pack_node: ESM version '$got', pkg-config says '$want'" >&2; exit 1; }
echo "pack_node: $tgz installed, compiled and loaded (literllm $got)"
