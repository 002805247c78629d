'use strict';
// Workers that end with transfers in flight: their requests are cancelled and
// the process goes on (no callback reaches a torn-down environment).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { startUpstream } = require('./support/upstream.cjs');

let upstream;
test.before(async () => {
  upstream = await startUpstream();
});
test.after(() => upstream && upstream.stop());

const body = `
const { parentPort, workerData } = require('node:worker_threads');
const { Client } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.cjs'))});
const c = new Client({ max_retries: 0, providers: { openai: { base_url: workerData, api_key: 'sk-w-1234567' } } });
const req = (h) => ({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }], extra_headers: h });
c.chat(req({ 'x-upstream-delay-ms': '5000' })).catch(() => {});
const s = c.stream(req({ 'x-upstream-generate': 'content', 'x-upstream-chunk-delay-ms': '5' }));
(async () => { for await (const _ of s) { parentPort.postMessage('chunk'); } })().catch(() => {});
c.chat(req({})).then((r) => parentPort.postMessage(r.choices[0].message.content));
`;

test('terminating workers with transfers in flight', async () => {
  for (let i = 0; i < 5; i++) {
    const w = new Worker(body, { eval: true, workerData: upstream.baseUrl });
    const seen = await new Promise((resolve, reject) => {
      const got = new Set();
      w.on('message', (m) => {
        got.add(m === 'chunk' ? 'chunk' : 'chat');
        if (got.size === 2) resolve(got);
      });
      w.on('error', reject);
    });
    assert.equal(seen.size, 2);
    await w.terminate();
  }
});

test('a worker that returns with a client open exits', async () => {
  const w = new Worker(`${body}\nsetTimeout(() => process.exit(0), 100);`, { eval: true, workerData: upstream.baseUrl });
  const code = await new Promise((resolve) => w.on('exit', resolve));
  assert.equal(code, 0);
});
