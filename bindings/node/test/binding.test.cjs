'use strict';
// The binding's own behaviour beyond the shared scenarios: cancellation, close, errors, the raw layer.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const lib = require('../lib/index.cjs');
const raw = require('../lib/raw.cjs');
const { startUpstream } = require('./support/upstream.cjs');
const { apiJsonPath } = require('./support/api.cjs');

let upstream;
test.before(async () => {
  upstream = await startUpstream();
});
test.after(() => upstream && upstream.stop());

function client() {
  return new lib.Client({ max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-test-000111222' } } });
}
const slow = (ms) => ({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }], extra_headers: { 'x-upstream-delay-ms': String(ms) } });

test('version matches the header', () => {
  assert.equal(lib.version(), `${raw.LLM_VERSION_MAJOR}.${raw.LLM_VERSION_MINOR}.${raw.LLM_VERSION_PATCH}`);
  assert.equal(lib.versionNumber(), raw.LLM_VERSION_NUMBER);
});

test('an invalid config throws InvalidArgumentError naming the field', () => {
  assert.throws(() => new lib.Client({ bogus: 1 }), (e) => e instanceof lib.InvalidArgumentError &&
    e instanceof lib.LiterLlmError && e.status === lib.Status.LLM_ERR_INVALID_ARGUMENT && /bogus/.test(e.message));
});

test('an AbortSignal cancels a chat in flight', async () => {
  const c = client();
  const ac = new AbortController();
  const t0 = Date.now();
  const p = c.chat(slow(5000), { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('stop')), 50);
  await assert.rejects(p, (e) => e instanceof lib.CancelledError && e.cause instanceof Error);
  assert.ok(Date.now() - t0 < 3000);
  c.close();
});

test('an aborted signal rejects at once', async () => {
  const c = client();
  await assert.rejects(c.chat(slow(0), { signal: AbortSignal.abort() }), lib.CancelledError);
  c.close();
});

test('close() cancels transfers in flight and is idempotent', async () => {
  const c = client();
  const p = c.chat(slow(5000));
  c.close();
  c.close();
  await assert.rejects(p, lib.CancelledError);
  assert.throws(() => c.preview(slow(0)), lib.InvalidArgumentError);
});

test('leaving a for-await loop early cancels the stream', async () => {
  const c = client();
  const req = { model: 'openai/m', messages: [{ role: 'user', content: 'x' }],
    extra_headers: { 'x-upstream-generate': 'content', 'x-upstream-chunk-delay-ms': '5' } };
  let n = 0;
  for await (const chunk of c.stream(req)) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (++n === 3) break;
  }
  assert.equal(n, 3);
  c.close();
});

test('the event loop stays free while a chat waits', async () => {
  const c = client();
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  await c.chat(slow(300));
  clearInterval(iv);
  assert.ok(ticks >= 10, `${ticks} ticks`);
  c.close();
});

test('global provider registration and listing', () => {
  lib.registerProvider({ name: 'nodeglobal', base_url: upstream.baseUrl, prefixes: ['nodeglobal'] });
  assert.ok(lib.providers().some((p) => p.name === 'nodeglobal' && p.registered));
  lib.unregisterProvider('nodeglobal');
  assert.throws(() => lib.unregisterProvider('nodeglobal'), lib.NotFoundError);
});

test('raw layer: handles are type-checked and free empties them', () => {
  const r = raw.llm_client_new_e(null);
  assert.equal(r.status, raw.LLM_OK);
  assert.throws(() => raw.llm_error_message(r.out), TypeError);
  raw.llm_client_free(r.out);
  raw.llm_client_free(r.out);
  const p = raw.llm_providers_json_e(r.out); // a freed handle reaches C as NULL (global table)
  assert.equal(p.status, raw.LLM_OK);
  assert.equal(raw.llm_status_str(raw.LLM_ERR_TIMEOUT), 'LLM_ERR_TIMEOUT');
});

test('raw layer declares every header function', () => {
  const api = JSON.parse(require('node:fs').readFileSync(apiJsonPath(), 'utf8'));
  for (const fn of api.functions) assert.equal(typeof raw[fn.name], 'function', fn.name);
});

test('generated files are up to date (bindgen --check)', () => {
  const root = path.join(__dirname, '..', '..', '..');
  const apiJson = apiJsonPath();
  execFileSync('python3', [path.join(root, 'tools/bindgen/bindgen.py'), apiJson, root, '--check', '--lang=node'], { stdio: 'inherit' });
});

test('clients dropped without close() are freed when collected', () => {
  const script = `
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.cjs'))});
    for (let i = 0; i < 50; i++) new Client({ max_retries: 0 });
    global.gc();
    setTimeout(() => { global.gc(); setTimeout(() => process.exit(0), 50); }, 50);`;
  execFileSync(process.execPath, ['--expose-gc', '-e', script], { stdio: 'inherit', timeout: 30000 });
});
