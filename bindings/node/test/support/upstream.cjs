'use strict';
// Starts the local upstream (tests/upstream) for the duration of a test file.
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

function upstreamPath() {
  if (process.env.LITERLLM_UPSTREAM) return process.env.LITERLLM_UPSTREAM;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, 'literllm-upstream');
    if (fs.existsSync(p)) return p;
  }
  try {
    // Installed beside the library pkg-config finds.
    const prefix = require('node:child_process').execFileSync('pkg-config', ['--variable=prefix', 'literllm'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const p = path.join(prefix, 'bin', 'literllm-upstream');
    if (fs.existsSync(p)) return p;
  } catch {
    // no pkg-config: fall through
  }
  throw new Error('literllm-upstream not found: set LITERLLM_UPSTREAM');
}

// Resolves to { port, baseUrl, stop() }.
function startUpstream() {
  return new Promise((resolve, reject) => {
    const child = spawn(upstreamPath(), ['--no-record', '--exit-on-stdin-eof'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error('literllm-upstream exited with ' + code)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        const port = Number(m[1]);
        resolve({
          port,
          baseUrl: `http://127.0.0.1:${port}/v1`,
          stop() {
            child.removeAllListeners('exit');
            child.stdin.end();
          },
        });
      }
    });
  });
}

module.exports = { startUpstream };
