'use strict';
// Stream chunks reach the JS thread in batches: whatever arrives while it is busy
// comes out complete, in order, with the right end (final response, error, cancellation).
const test = require('node:test');
const assert = require('node:assert/strict');
const lib = require('../lib/index.cjs');
const raw = require('../lib/raw.cjs');
const { startUpstream } = require('./support/upstream.cjs');

let upstream;
test.before(async () => {
  upstream = await startUpstream();
});
test.after(() => upstream && upstream.stop());

const config = () => ({ max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-test-000111222' } } });
const client = () => new lib.Client(config());
const gen = (headers) => ({
  model: 'openai/m', messages: [{ role: 'user', content: 'x' }],
  extra_headers: { 'x-upstream-generate': 'content', ...headers },
});
// Blocks the JS thread (the I/O thread goes on receiving).
function busy(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
}
// The generated content: abc...zABC...Zabc...
function letters(n) {
  const a = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return a.repeat(Math.ceil(n / a.length)).slice(0, n);
}
const contentOf = (chunk) => chunk.choices?.[0]?.delta?.content ?? '';

test('chunks that arrive while JS is busy come out complete and in order', async () => {
  const c = client();
  const steps = 3000;
  const s = c.stream(gen({ 'x-upstream-generate-count': String(steps) }));
  busy(300);
  let text = '';
  let n = 0;
  for await (const chunk of s) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    text += contentOf(chunk);
    n++;
    if (n % 500 === 0) busy(20); // more arrive while the queue is being read
  }
  const final = await s.finalResponse();
  assert.equal(s.chunkCount, n);
  assert.ok(n >= steps, `${n} chunks`);
  assert.equal(text, letters(steps * 64));
  assert.equal(final.choices[0].message.content, text);
  c.close();
});

test('chunks larger than a batch block', async () => {
  const c = client();
  const s = c.stream(gen({ 'x-upstream-generate-count': '40', 'x-upstream-generate-bytes': '100000' }));
  busy(200);
  let text = '';
  for await (const chunk of s) text += contentOf(chunk);
  assert.equal(text, letters(40 * 100000));
  assert.equal((await s.finalResponse()).choices[0].message.content, text);
  c.close();
});

test('a busy JS thread takes the chunks in few batches (internal entry point)', async () => {
  const h = raw.llm_client_new_e(JSON.stringify(config())).out;
  const batches = [];
  const done = new Promise((resolve) => {
    const id = raw._internal.stream(h, JSON.stringify(gen({ 'x-upstream-generate-count': '2000' })),
      (batch) => batches.push(batch), (...a) => resolve(a), undefined, undefined);
    assert.equal(typeof id, 'number');
    busy(500); // the whole stream arrives meanwhile (a few ms of the I/O thread's time)
  });
  const [status, finalJson, error] = await done;
  assert.equal(status, raw.LLM_OK);
  assert.equal(error, undefined);
  const chunks = batches.flatMap((b) => JSON.parse(b));
  assert.ok(chunks.length > 2000);
  assert.ok(batches.length < chunks.length / 2, `${batches.length} batches for ${chunks.length} chunks`);
  const text = chunks.map(contentOf).join('');
  assert.equal(text, letters(2000 * 64));
  assert.equal(JSON.parse(finalJson).choices[0].message.content, text);
  raw.llm_client_free(h);
});

test('an error mid-stream comes after every chunk before it', async () => {
  const c = client();
  const s = c.stream(gen({ 'x-upstream-generate-count': '3000', 'x-upstream-cut-after': '1500' }));
  busy(200);
  let n = 0;
  let text = '';
  await assert.rejects((async () => {
    for await (const chunk of s) {
      n++;
      text += contentOf(chunk);
    }
  })(), lib.StreamingError);
  assert.equal(n, 1500); // the role chunk and 1499 steps
  assert.equal(text, letters(1499 * 64));
  c.close();
});

test('breaking out while batches are queued cancels the transfer promptly', async () => {
  const c = client();
  const s = c.stream(gen({ 'x-upstream-generate-count': '1000000' }));
  busy(100);
  let n = 0;
  for await (const chunk of s) {
    void chunk;
    if (++n === 2) break;
  }
  const t0 = Date.now();
  await assert.rejects(s.finalResponse(), lib.CancelledError);
  assert.ok(Date.now() - t0 < 3000);
  assert.deepEqual(await s.next(), { value: undefined, done: true });
  c.close();
});

test('an AbortSignal while batches are queued: CancelledError with the reason', async () => {
  const c = client();
  const ac = new AbortController();
  const s = c.stream(gen({ 'x-upstream-generate-count': '1000000' }), { signal: ac.signal });
  busy(100);
  let n = 0;
  const t0 = Date.now();
  await assert.rejects((async () => {
    for await (const chunk of s) {
      void chunk;
      if (++n === 1) ac.abort(new Error('enough'));
    }
  })(), (e) => e instanceof lib.CancelledError && e.cause instanceof Error && e.cause.message === 'enough');
  assert.ok(Date.now() - t0 < 3000);
  assert.ok(n >= 1);
  c.close();
});

test('raw on_chunk: once per chunk, in order, none after it returned truthy', async () => {
  const h = raw.llm_client_new_e(JSON.stringify(config())).out;
  const req = JSON.stringify(gen({ 'x-upstream-generate-count': '2000' }));
  // every chunk, each its own JSON text
  const seen = [];
  const [status] = await new Promise((resolve) => {
    raw.llm_chat_stream_async_e(h, req, (chunk) => { seen.push(JSON.parse(chunk)); }, (...a) => resolve(a));
    busy(200);
  });
  assert.equal(status, raw.LLM_OK);
  assert.ok(seen.length > 2000);
  assert.equal(seen.map(contentOf).join(''), letters(2000 * 64));
  // stop at the 10th
  let calls = 0;
  const [status2] = await new Promise((resolve) => {
    raw.llm_chat_stream_async_e(h, req, () => ++calls === 10, (...a) => resolve(a));
    busy(200);
  });
  assert.equal(calls, 10);
  // Cancelled, unless the whole stream had arrived before JS asked to stop.
  assert.ok(status2 === raw.LLM_ERR_CANCELLED || status2 === raw.LLM_OK, raw.llm_status_str(status2));
  raw.llm_client_free(h);
});

test('chat: errors keep every field, and a chat without options resolves', async () => {
  const c = client();
  const r = await c.chat({ model: 'openai/m', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r.object, 'chat.completion');
  await assert.rejects(c.chat({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }],
    extra_headers: { 'x-upstream-status': '429', 'x-upstream-retry-after': '2' } }), (e) =>
    e instanceof lib.RateLimitedError && e.httpStatus === 429 && e.retryAfterMs === 2000 &&
    e.code === 'rate_limit_exceeded' && e.provider === 'openai' && e.retries === 0 && e.cause === undefined);
  await assert.rejects(c.chat('{"model": 1}'), (e) => e instanceof lib.InvalidArgumentError && /model/.test(e.message));
  await assert.rejects(c.chat('not json'), lib.InvalidArgumentError);
  c.close();
});

test('a chat in flight keeps its client alive', async () => {
  const p = client().chat({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }],
    extra_headers: { 'x-upstream-delay-ms': '300' } });
  if (global.gc) global.gc();
  const r = await p;
  assert.equal(r.object, 'chat.completion');
});

test('terminating a worker while batches are pending', async () => {
  const { Worker } = require('node:worker_threads');
  const path = require('node:path');
  const body = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.cjs'))});
    const c = new Client({ max_retries: 0, providers: { openai: { base_url: workerData, api_key: 'sk-w-1234567' } } });
    const req = { model: 'openai/m', messages: [{ role: 'user', content: 'x' }],
      extra_headers: { 'x-upstream-generate': 'content', 'x-upstream-generate-count': '1000000' } };
    const streams = [c.stream(req), c.stream(req)];
    (async () => { for await (const _ of streams[0]) { parentPort.postMessage('chunk'); break; } })().catch(() => {});
    c.chat({ ...req, extra_headers: { 'x-upstream-delay-ms': '5000' } }).catch(() => {});
    setTimeout(() => { const end = Date.now() + 100; while (Date.now() < end); }, 0);`;
  for (let i = 0; i < 4; i++) {
    const w = new Worker(body, { eval: true, workerData: upstream.baseUrl });
    await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, i * 20));
    await w.terminate();
  }
});

test('AsyncLocalStorage context survives chat and stream', async () => {
  const { AsyncLocalStorage } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  const c = client();
  const seen = await Promise.all([1, 2, 3].map((n) => als.run(n, async () => {
    await c.chat({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }] });
    const a = als.getStore();
    for await (const chunk of c.stream(gen({ 'x-upstream-generate-count': '50' }))) void chunk;
    return [a, als.getStore()];
  })));
  assert.deepEqual(seen, [[1, 1], [2, 2], [3, 3]]);
  c.close();
});
