'use strict';
// Loads the compiled addon: $LITERLLM_NODE_ADDON, else the cmake-js build tree.
const path = require('node:path');

function load() {
  const tried = [];
  const candidates = [];
  if (process.env.LITERLLM_NODE_ADDON) candidates.push(path.resolve(process.env.LITERLLM_NODE_ADDON));
  candidates.push(path.join(__dirname, '..', 'build', 'Release', 'literllm.node'));
  candidates.push(path.join(__dirname, '..', 'build', 'Debug', 'literllm.node'));
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
      tried.push(c);
    }
  }
  throw new Error('literllm: the native addon is not built (tried ' + tried.join(', ') + '); run `npm run build`');
}

module.exports = load();
