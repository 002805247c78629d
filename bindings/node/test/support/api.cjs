'use strict';
// The header's description (literllm.api.json): $LITERLLM_API_JSON, else beside the
// installed library pkg-config finds, else <repo>/build.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function apiJsonPath() {
  if (process.env.LITERLLM_API_JSON) return process.env.LITERLLM_API_JSON;
  try {
    const prefix = execFileSync('pkg-config', ['--variable=prefix', 'literllm'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const p = path.join(prefix, 'literllm.api.json');
    if (fs.existsSync(p)) return p;
  } catch {
    // no pkg-config
  }
  const p = path.join(__dirname, '..', '..', '..', '..', 'build', 'literllm.api.json');
  if (fs.existsSync(p)) return p;
  throw new Error('literllm.api.json not found: set LITERLLM_API_JSON');
}

module.exports = { apiJsonPath };
