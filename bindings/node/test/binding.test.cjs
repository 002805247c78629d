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

test('chat and call reject (never throw) on a closed client, a request JSON.stringify refuses, bad options', async () => {
  const c = client();
  const cyclic = { model: 'openai/m', messages: [] };
  cyclic.self = cyclic;
  const bad = [
    [() => c.chat({ model: 'openai/m', messages: [], n: 1n }), TypeError],
    [() => c.chat(cyclic), TypeError],
    [() => c.chat(42), TypeError],
    [() => c.chat(slow(0), { signal: {} }), TypeError],
    [() => c.chat(slow(0), 'options'), TypeError],
    [() => c.call('models', { provider: 'openai' }, 'not an array'), TypeError],
    [() => c.call('models', { provider: 'openai' }, null, { signal: { aborted: false } }), TypeError],
  ];
  for (const [f, type] of bad) {
    let p;
    assert.doesNotThrow(() => { p = f(); });
    await assert.rejects(p, type);
  }
  // Options that are null or hold no signal are fine.
  assert.ok((await c.chat(slow(0), null)).choices);
  assert.ok((await c.chat(slow(0), { signal: undefined })).choices);
  c.close();
  for (const f of [() => c.chat(slow(0)), () => c.call('models', { provider: 'openai' })]) {
    let p;
    assert.doesNotThrow(() => { p = f(); });
    await assert.rejects(p, lib.InvalidArgumentError);
  }
  // Streams are not promises: they throw at once.
  assert.throws(() => client().stream(slow(0), { signal: 5 }), TypeError);
});

test('a stream error is thrown once, whichever loop sees it; then the stream is over', async () => {
  for (const io of ['thread', 'host']) {
    for (let run = 0; run < 5; run++) {
      const c = new lib.Client({ io, max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-test-000111222' } } });
      const s = c.stream({ model: 'openai/m', messages: [{ role: 'user', content: 'one two three four' }],
        extra_headers: { 'x-upstream-cut-after': '2', 'x-upstream-chunk-delay-ms': String(run) } });
      let thrown = 0;
      try {
        for await (const chunk of s) void chunk;
      } catch (e) {
        assert.ok(e instanceof lib.StreamingError, `${io}: ${e}`);
        thrown++;
      }
      for await (const chunk of s) void chunk; // ends at once, without throwing again
      assert.equal(thrown, 1, io);
      await assert.rejects(s.finalResponse(), lib.StreamingError);
      c.close();
    }
  }
});

test('a config with io_threads makes a threaded client (not a hosted one the library refuses)', async () => {
  for (const config of [{ io_threads: 2 }, JSON.stringify({ io_threads: 0 })]) {
    const base = typeof config === 'string' ? JSON.parse(config) : config;
    const full = { ...base, max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-test-000111222' } } };
    const c = new lib.Client(typeof config === 'string' ? JSON.stringify(full) : full);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => c.chat(slow(0))));
    assert.equal(answers.length, 6);
    c.close();
  }
  assert.throws(() => new lib.Client({ io: 'host', io_threads: 2 }), lib.InvalidArgumentError);
});

test('examples/chat.mjs runs against the local upstream as the README says', () => {
  const env = { ...process.env, LITERLLM_BASE_URL: upstream.baseUrl };
  delete env.OPENAI_API_KEY;
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'examples', 'chat.mjs')], { env, encoding: 'utf8' });
  assert.match(out, /streamed:/);
});

test('text with a NUL character is refused, naming it (C would read it only up to the NUL)', async () => {
  const c = client();
  const valid = '{"model":"openai/m","messages":[{"role":"user","content":"hi"}]}';
  await assert.rejects(c.chat(valid + '\0junk'), (e) => e instanceof lib.InvalidArgumentError &&
    /request holds a NUL character \(at index \d+\)/.test(e.message));
  await assert.rejects(c.call('models\0x', { provider: 'openai' }), (e) => e instanceof lib.InvalidArgumentError && /endpoint/.test(e.message));
  assert.throws(() => c.stream(valid + '\0'), lib.InvalidArgumentError);
  assert.throws(() => new lib.Client('{}\0{'), (e) => e instanceof lib.InvalidArgumentError && /config/.test(e.message));
  assert.throws(() => lib.Client.fromFile('/tmp/x.json\0.toml'), (e) => e instanceof lib.InvalidArgumentError && /path/.test(e.message));
  assert.throws(() => lib.unregisterProvider('a\0b'), lib.InvalidArgumentError);
  // The raw layer: a TypeError, for short and long texts alike.
  const h = raw.llm_client_new(JSON.stringify({ providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-test-000111222' } } })).out;
  assert.throws(() => raw.llm_preview_request(h, valid + '\0', 0), TypeError);
  assert.throws(() => raw.llm_preview_request(h, valid + ' '.repeat(10000) + '\0', 0), TypeError);
  raw.llm_client_free(h);
  // A NUL inside a JSON string is escaped by JSON.stringify: that passes.
  const r = await c.chat({ model: 'openai/m', messages: [{ role: 'user', content: 'a\0b' }] });
  assert.match(r.choices[0].message.content, /a\0b/);
  c.close();
});
