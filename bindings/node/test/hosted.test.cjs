'use strict';
// Hosted I/O: the idiomatic Client runs the library's loop on the JS thread ("io": "host", the
// default), driven by a uv_poll on the client's descriptor and a uv_timer. These cases fail if the
// driver breaks: answers that never come, a blocked or kept-alive event loop, lost chunks, timers
// of the library that never fire, handles left open at close or when a worker ends.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const lib = require('../lib/index.cjs');
const raw = require('../lib/raw.cjs');
const { startUpstream } = require('./support/upstream.cjs');

const indexPath = path.join(__dirname, '..', 'lib', 'index.cjs');

let upstream;
test.before(async () => {
  upstream = await startUpstream();
  await fs.promises.stat(__filename); // libuv's thread pool starts now, not in the middle of a thread count
});
test.after(() => upstream && upstream.stop());

const config = (extra = {}) => ({
  max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-test-000111222' } }, ...extra,
});
const open = [];
function client(extra) {
  const c = new lib.Client(config(extra));
  open.push(c);
  return c;
}
test.afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

const chatReq = (headers = {}, extra = {}) => ({
  model: 'openai/m', messages: [{ role: 'user', content: 'hello' }], extra_headers: headers, ...extra,
});
const gen = (count, headers = {}) => chatReq({ 'x-upstream-generate': 'content', 'x-upstream-generate-count': String(count), ...headers });
// The generated content: abc...zABC...Zabc...
function letters(n) {
  const a = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return a.repeat(Math.ceil(n / a.length)).slice(0, n);
}
const contentOf = (chunk) => chunk.choices?.[0]?.delta?.content ?? '';

async function readStream(s) {
  let text = '';
  let n = 0;
  for await (const chunk of s) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    text += contentOf(chunk);
    n++;
  }
  return { text, n, final: await s.finalResponse() };
}

// The threads of this process (Linux): a hosted client adds none, a threaded one its I/O thread.
const threadCount = () => fs.readdirSync('/proc/self/task').length;
const haveProc = fs.existsSync('/proc/self/task');

// Runs a node script in a child process; resolves to { code, signal, stdout, ms }.
function runChild(script, { timeoutMs = 20000, args = [] } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [...args, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit within ${timeoutMs} ms; stdout: ${stdout}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, ms: Date.now() - t0 });
    });
  });
}

test('the Client is hosted by default (no I/O thread); io: "thread" has one', { skip: !haveProc }, async () => {
  // Earlier clients' threads may still be ending: settle first.
  await new Promise((r) => setTimeout(r, 50));
  const before = threadCount();
  const h = client();
  assert.equal((await h.chat(chatReq())).choices[0].message.role, 'assistant');
  assert.equal(threadCount(), before, 'a hosted client started a thread');
  const t = client({ io: 'thread' });
  assert.equal((await t.chat(chatReq())).choices[0].message.role, 'assistant');
  assert.ok(threadCount() > before, 'a threaded client without its thread');
});

test('config texts get "io": "host" too; an explicit "io" and bad JSON are the library\'s', async () => {
  if (haveProc) await new Promise((r) => setTimeout(r, 50));
  const before = haveProc ? threadCount() : 0;
  const c = new lib.Client(JSON.stringify(config()));
  open.push(c);
  assert.equal((await c.chat(chatReq())).object, 'chat.completion');
  if (haveProc) assert.equal(threadCount(), before);
  const t = new lib.Client(JSON.stringify(config({ io: 'thread' })));
  open.push(t);
  assert.equal((await t.chat(chatReq())).object, 'chat.completion');
  assert.throws(() => new lib.Client('{not json'), lib.InvalidArgumentError);
  assert.throws(() => new lib.Client({ io: 'elsewhere' }), (e) => e instanceof lib.InvalidArgumentError && /io/.test(e.message));
  // An explicit "io": "host" is driven as well.
  const e = client({ io: 'host' });
  assert.equal((await e.chat(chatReq())).object, 'chat.completion');
});

test('Client.fromFile: threaded unless the file says "io": "host", which is then driven', async () => {
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'literllm-hosted-'));
  try {
    for (const io of ['host', undefined]) {
      const file = path.join(dir, `c-${io}.json`);
      fs.writeFileSync(file, JSON.stringify(config(io ? { io } : {})));
      if (haveProc) await new Promise((r) => setTimeout(r, 50));
      const before = haveProc ? threadCount() : 0;
      const c = lib.Client.fromFile(file);
      open.push(c);
      assert.equal((await c.chat(chatReq())).object, 'chat.completion');
      assert.equal((await readStream(c.stream(gen(10)))).text, letters(640));
      if (haveProc && io === 'host') assert.equal(threadCount(), before);
      if (haveProc && io === undefined) assert.ok(threadCount() > before);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the raw layer stays threaded; a raw hosted client is attachable', () => {
  const r = raw.llm_client_new_e(null).out;
  assert.equal(raw._internal.attach(r), false);
  raw.llm_client_free(r);
  const h = raw.llm_client_new_e('{"io":"host"}').out;
  assert.equal(raw._internal.attach(h), true);
  assert.equal(raw._internal.attach(h), true); // once per client
  raw._internal.detach(h);
  raw._internal.detach(h); // idempotent
  raw.llm_client_free(h);
});

test('hosted: chat, stream and callStream', async () => {
  const c = client();
  const r = await c.chat(chatReq());
  assert.equal(r.object, 'chat.completion');
  assert.equal(typeof r.choices[0].message.content, 'string');

  const { text, n, final } = await readStream(c.stream(gen(300)));
  assert.ok(n >= 300, `${n} chunks`);
  assert.equal(text, letters(300 * 64));
  assert.equal(final.choices[0].message.content, text);

  const s = c.callStream('responses.create', { model: 'openai/gpt-4o-mini', input: 'one two three' });
  const types = [];
  let last = -1;
  for await (const ev of s) {
    assert.ok(ev.sequence_number > last);
    last = ev.sequence_number;
    types.push(ev.type);
  }
  assert.equal(types[0], 'response.created');
  assert.equal(types[types.length - 1], 'response.completed');
  assert.equal((await s.finalResponse()).status, 'completed');

  const emb = await c.embed(['a', 'b'], { model: 'openai/text-embedding-3-small' });
  assert.equal(emb.length, 2);
  assert.ok(emb[0] instanceof Float32Array && emb[0].length > 0);
});

test('hosted: 16 chats and 16 streams at once on one client, each complete and in order', async () => {
  const c = client();
  const chats = Array.from({ length: 16 }, (_, i) =>
    c.chat(chatReq({ 'x-upstream-delay-ms': String((i % 4) * 20) })).then((r) => r.object));
  const streams = Array.from({ length: 16 }, (_, i) =>
    readStream(c.stream(gen(100 + i * 10, { 'x-upstream-chunk-delay-ms': i % 2 ? '1' : '0' }))));
  const done = await Promise.all([...chats, ...streams]);
  for (let i = 0; i < 16; i++) assert.equal(done[i], 'chat.completion');
  for (let i = 0; i < 16; i++) {
    const { text, final } = done[16 + i];
    assert.equal(text, letters((100 + i * 10) * 64), `stream ${i}`);
    assert.equal(final.choices[0].message.content, text);
  }
  // Twice more: a client that went idle wakes up again.
  for (let k = 0; k < 2; k++) {
    const rs = await Promise.all(Array.from({ length: 16 }, () => c.chat(chatReq())));
    assert.ok(rs.every((r) => r.object === 'chat.completion'));
  }
});

test('io: "thread" still works: chat, stream, close in flight', async () => {
  const c = client({ io: 'thread' });
  assert.equal((await c.chat(chatReq())).object, 'chat.completion');
  const { text } = await readStream(c.stream(gen(200)));
  assert.equal(text, letters(200 * 64));
  const p = c.chat(chatReq({ 'x-upstream-delay-ms': '5000' }));
  c.close();
  await assert.rejects(p, lib.CancelledError);
});

test('the event loop runs while a slow answer is awaited (hosted)', async () => {
  const c = client();
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  const t0 = Date.now();
  const [r, s] = await Promise.all([
    c.chat(chatReq({ 'x-upstream-delay-ms': '400' })),
    readStream(c.stream(gen(20, { 'x-upstream-chunk-delay-ms': '20' }))),
  ]);
  clearInterval(iv);
  assert.equal(r.object, 'chat.completion');
  assert.equal(s.text, letters(20 * 64));
  assert.ok(Date.now() - t0 >= 380);
  assert.ok(ticks >= 15, `${ticks} ticks`);
});

test('a stream that arrives faster than it is read leaves the event loop its turns (hosted)', async () => {
  // 8 MB of content waits in the socket while the JS thread is busy; the library then hands it over
  // about 256 KiB per run and asks to run again at once. Each of those runs must come in a turn of
  // its own, after the loop's poll: immediates (and other sockets, timers, a worker's terminate)
  // get their turns between the slices, not only once the socket is drained.
  const c = client();
  let ticks = 0;
  let on = true;
  const tick = () => {
    ticks++;
    if (on) setImmediate(tick);
  };
  let bytes = 0;
  let first = true;
  let during = 0;
  for await (const chunk of c.stream(gen(8000, { 'x-upstream-generate-bytes': '1000' }))) {
    if (first) {
      first = false;
      const until = Date.now() + 300; // busy: the rest of the stream piles up
      while (Date.now() < until);
      ticks = 0;
      setImmediate(tick);
    }
    bytes += contentOf(chunk).length;
  }
  during = ticks;
  on = false;
  assert.equal(bytes, 8000 * 1000);
  // 8 MB in slices of 256 KiB is about 32 runs; a zero timer ran them all in one timers phase.
  assert.ok(during >= 8, `only ${during} turns of the event loop during the stream`);
});

test('answers settle promptly: promise reactions run in the driver\'s turn, no other event needed', async () => {
  const c = client();
  await c.chat(chatReq());
  // The process is idle while each answer is awaited: nothing but the driver can run the reaction.
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await c.chat(chatReq({ 'x-upstream-delay-ms': '100' }));
    const ms = Date.now() - t0;
    assert.ok(ms < 1000, `a 100 ms answer settled after ${ms} ms`);
  }
  let t0 = Date.now();
  for (let i = 0; i < 50; i++) await c.chat(chatReq());
  for (let i = 0; i < 5; i++) for await (const chunk of c.stream(gen(3))) void chunk;
  t0 = Date.now() - t0;
  assert.ok(t0 < 2000, `50 chats and 5 streams took ${t0} ms`);
});

test('close() with calls in flight rejects them with CancelledError (hosted)', async () => {
  const c = client();
  const chat = c.chat(chatReq({ 'x-upstream-delay-ms': '5000' }));
  const call = c.call('embeddings', { model: 'openai/text-embedding-3-small', input: 'x', extra_headers: { 'x-upstream-delay-ms': '5000' } });
  const s = c.stream(gen(100000, { 'x-upstream-chunk-delay-ms': '5' }));
  const it = s[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, false); // the stream is flowing
  const t0 = Date.now();
  c.close();
  c.close();
  await assert.rejects(chat, lib.CancelledError);
  await assert.rejects(call, lib.CancelledError);
  await assert.rejects(async () => {
    for (;;) if ((await it.next()).done) break;
  }, lib.CancelledError);
  assert.ok(Date.now() - t0 < 2000);
  await assert.rejects(c.chat(chatReq()), lib.InvalidArgumentError);
});

test('close() from inside a callback of the same client (hosted)', async () => {
  const c = client();
  const slow = c.chat(chatReq({ 'x-upstream-delay-ms': '5000' }));
  const chunks = [];
  await assert.rejects(async () => {
    for await (const chunk of c.stream(gen(100000, { 'x-upstream-chunk-delay-ms': '1' }))) {
      chunks.push(chunk);
      if (chunks.length === 5) c.close(); // runs in the driver's turn; the stream's end comes later
    }
  }, lib.CancelledError);
  assert.ok(chunks.length >= 5);
  await assert.rejects(slow, lib.CancelledError);
});

test('freeing a hosted client from inside its own callback, while the driver runs its events (raw)', async () => {
  const h = raw.llm_client_new_e(JSON.stringify(config({ io: 'host' }))).out;
  assert.equal(raw._internal.attach(h), true);
  const slow = new Promise((resolve) => {
    const r = raw.llm_chat_async_e(h, JSON.stringify(chatReq({ 'x-upstream-delay-ms': '5000' })), (status) => resolve(status));
    assert.equal(r.status, raw.LLM_OK);
  });
  let chunks = 0;
  let freed = false;
  const stream = new Promise((resolve) => {
    const r = raw.llm_chat_stream_async_e(h, JSON.stringify(gen(100000, { 'x-upstream-chunk-delay-ms': '1' })), () => {
      if (++chunks === 3) {
        // Synchronously, in the driver's turn: the cancellations queue on its list and run after this.
        raw._internal.detach(h);
        raw.llm_client_free(h);
        freed = true;
      }
    }, (status) => resolve(status));
    assert.equal(r.status, raw.LLM_OK);
  });
  assert.equal(await stream, raw.LLM_ERR_CANCELLED);
  assert.equal(await slow, raw.LLM_ERR_CANCELLED);
  assert.ok(freed && chunks >= 3);
});

test('an AbortSignal cancels a hosted chat, stream and call', async () => {
  const c = client();
  const ac = new AbortController();
  const t0 = Date.now();
  const p = c.chat(chatReq({ 'x-upstream-delay-ms': '5000' }), { signal: ac.signal });
  const q = c.call('embeddings', { model: 'openai/text-embedding-3-small', input: 'x', extra_headers: { 'x-upstream-delay-ms': '5000' } },
    null, { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('stop')), 50);
  await assert.rejects(p, (e) => e instanceof lib.CancelledError && e.cause instanceof Error && e.cause.message === 'stop');
  await assert.rejects(q, lib.CancelledError);
  assert.ok(Date.now() - t0 < 2000);

  const ac2 = new AbortController();
  let n = 0;
  await assert.rejects(async () => {
    for await (const chunk of c.stream(gen(100000, { 'x-upstream-chunk-delay-ms': '2' }), { signal: ac2.signal })) {
      void chunk;
      // Aborted at once: a timer could be starved by the queued chunks' promise chain until the
      // stream had ended (seen against the Debug + ASan library).
      if (++n === 3) ac2.abort();
    }
  }, lib.CancelledError);
  assert.ok(n >= 3);
  // The client goes on working after the cancellations.
  assert.equal((await c.chat(chatReq())).object, 'chat.completion');
});

test("the library's own timers fire with only the uv_timer driving them (request and idle timeouts)", async () => {
  const c = client();
  let t0 = Date.now();
  await assert.rejects(c.chat(chatReq({ 'x-upstream-delay-ms': '5000' }, { timeout_secs: 0.3 })), lib.TimeoutError);
  let ms = Date.now() - t0;
  assert.ok(ms >= 250 && ms < 2500, `${ms} ms`);

  const s = client({ stream_idle_timeout_secs: 0.3 });
  t0 = Date.now();
  let n = 0;
  await assert.rejects(async () => {
    for await (const chunk of s.stream(gen(100000, { 'x-upstream-stall-after': '3' }))) {
      void chunk;
      n++;
    }
  }, lib.TimeoutError);
  ms = Date.now() - t0;
  assert.ok(n >= 1 && n <= 3, `${n} chunks`);
  assert.ok(ms >= 250 && ms < 2500, `${ms} ms`);
});

test('an idle open client does not keep the process alive; a call in flight does', async () => {
  const script = `
    const { Client } = require(${JSON.stringify(indexPath)});
    const c = new Client({ max_retries: 0, providers: { openai: { base_url: ${JSON.stringify(upstream.baseUrl)}, api_key: 'sk-c-0001112' } } });
    const req = (ms) => ({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }], extra_headers: { 'x-upstream-delay-ms': String(ms) } });
    c.chat(req(0)).then(async (r) => {
      console.log('first ' + r.object);
      for await (const _ of c.stream({ ...req(0), extra_headers: { 'x-upstream-generate': 'content', 'x-upstream-generate-count': '10' } }));
      console.log('stream');
      // Nothing awaits this promise: only the call in flight keeps the process alive until its answer.
      c.chat(req(400)).then((r2) => console.log('second ' + r2.object));
    });
    // the client stays open`;
  const { code, signal, stdout, ms } = await runChild(script);
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.equal(stdout, 'first chat.completion\nstream\nsecond chat.completion\n');
  assert.ok(ms < 10000, `${ms} ms`);

  // A client that never made a call.
  const idle = await runChild(`const { Client } = require(${JSON.stringify(indexPath)}); globalThis.c = new Client({}); console.log('made');`);
  assert.equal(idle.code, 0);
  assert.equal(idle.stdout, 'made\n');
});

test('clients dropped with calls done and never closed are freed when collected (hosted)', async () => {
  const script = `
    const { Client } = require(${JSON.stringify(indexPath)});
    const cfg = { max_retries: 0, providers: { openai: { base_url: ${JSON.stringify(upstream.baseUrl)}, api_key: 'sk-c-0001112' } } };
    (async () => {
      for (let i = 0; i < 30; i++) {
        const c = new Client(cfg);
        await c.chat({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }] });
      }
      global.gc();
      await new Promise((r) => setTimeout(r, 50));
      global.gc();
      await new Promise((r) => setTimeout(r, 50));
      const c = new Client(cfg); // still works after the others were freed
      console.log((await c.chat({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }] })).object);
    })();`;
  const { code, stdout } = await runChild(script, { args: ['--expose-gc'] });
  assert.equal(code, 0);
  assert.equal(stdout, 'chat.completion\n');
});

const workerBody = `
const { parentPort, workerData } = require('node:worker_threads');
const { Client } = require(${JSON.stringify(indexPath)});
const c = new Client({ max_retries: 0, providers: { openai: { base_url: workerData.url, api_key: 'sk-w-1234567' } } });
const req = (h) => ({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }], extra_headers: h });
(async () => {
  const r = await c.chat(req({}));
  let text = '';
  for await (const ch of c.stream(req({ 'x-upstream-generate': 'content', 'x-upstream-generate-count': '50' }))) {
    text += ch.choices?.[0]?.delta?.content ?? '';
  }
  const all = await Promise.all(Array.from({ length: 8 }, () => c.chat(req({ 'x-upstream-delay-ms': '20' }))));
  parentPort.postMessage({ object: r.object, length: text.length, n: all.length });
  if (workerData.close) c.close();
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

test('a Worker with its own hosted client: calls, then it ends on its own', async () => {
  for (const close of [true, false]) {
    const w = new Worker(workerBody, { eval: true, workerData: { url: upstream.baseUrl, close } });
    const exited = new Promise((resolve) => w.on('exit', resolve));
    const msg = await new Promise((resolve, reject) => {
      w.on('message', resolve);
      w.on('error', reject);
    });
    assert.deepEqual(msg, { object: 'chat.completion', length: 50 * 64, n: 8 });
    // The worker's loop ends by itself: its client (open or closed) keeps nothing alive.
    assert.equal(await exited, 0);
  }
});

test('terminating a Worker with hosted transfers in flight', async () => {
  const body = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Client } = require(${JSON.stringify(indexPath)});
    const c = new Client({ max_retries: 0, providers: { openai: { base_url: workerData, api_key: 'sk-w-1234567' } } });
    const req = (h) => ({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }], extra_headers: h });
    for (let i = 0; i < 4; i++) c.chat(req({ 'x-upstream-delay-ms': '5000' })).catch(() => {});
    const s = c.stream(req({ 'x-upstream-generate': 'content', 'x-upstream-chunk-delay-ms': '2' }));
    (async () => { let n = 0; for await (const _ of s) if (++n === 20) parentPort.postMessage('flowing'); })().catch(() => {});`;
  const took = [];
  for (let i = 0; i < 3; i++) {
    const w = new Worker(body, { eval: true, workerData: upstream.baseUrl });
    await new Promise((resolve, reject) => {
      w.on('message', resolve);
      w.on('error', reject);
    });
    const t0 = Date.now();
    await w.terminate();
    took.push(Date.now() - t0);
  }
  // No wait for callbacks that only the ended thread could run (the threaded path waits up to
  // 2 s for those); the quickest of three, as a first worker may be slow (a loaded box). The
  // stream outruns a worker running the Debug + ASan library (CI's sanitizer stage): its driver
  // then runs the library's loop again at once, turn after turn, and must still let the worker's
  // loop see the terminate (it took until the stream ended, 25 s, with a zero timer).
  assert.ok(Math.min(...took) < 1500, `terminate took ${took.join(', ')} ms`);
  // This thread's clients are unaffected.
  assert.equal((await client().chat(chatReq())).object, 'chat.completion');
});
