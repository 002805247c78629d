'use strict';
// llm_call through Client.call and its conveniences, and the raw layer's buffer mappings.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../lib/index.cjs');
const raw = require('../lib/raw.cjs');
const { startUpstream } = require('./support/upstream.cjs');

let upstream;
test.before(async () => {
  upstream = await startUpstream();
});
test.after(() => upstream && upstream.stop());

const open = [];
function track(c) {
  open.push(c);
  return c;
}
test.afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function client() {
  return new lib.Client({ max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-test-000111222' } } });
}

test('embed gives one Float32Array per input, equal to the JSON answer', async () => {
  const c = track(client());
  const vs = await c.embed(['one', 'two', 'three'], { model: 'openai/text-embedding-3-small' });
  assert.equal(vs.length, 3);
  for (const v of vs) assert.ok(v instanceof Float32Array && v.length === 1536);
  const one = await c.embed('two', { model: 'openai/text-embedding-3-small' });
  assert.deepEqual(one[0], vs[1]);
  const r = await c.call('embeddings', { model: 'openai/text-embedding-3-small', input: ['a', 'b'], dimensions: 4 });
  assert.deepEqual({ count: r.embeddingsFlat().count, dimensions: r.embeddingsFlat().dimensions }, { count: 2, dimensions: 4 });
  for (const d of r.json.data) assert.deepEqual(Array.from(r.embeddings()[d.index]), Array.from(Float32Array.from(d.embedding)));
});

test('models lists the upstream models', async () => {
  const c = track(client());
  const ids = (await c.models('openai')).map((m) => m.id);
  assert.ok(ids.includes('gpt-4o-mini') && ids.includes('gpt-4o'), String(ids));
});

test('speech bytes transcribe back from a Buffer upload, a TypedArray view and a path', async () => {
  const c = track(client());
  const audio = await c.speech('round trip words', { model: 'openai/tts-1', voice: 'alloy', response_format: 'wav' });
  assert.ok(Buffer.isBuffer(audio));
  assert.equal(audio.subarray(0, 4).toString(), 'RIFF');
  const t = await c.transcribe(audio, { model: 'openai/whisper-1', filename: 'speech.wav' });
  assert.equal(t.text, 'round trip words');
  // A view into a larger buffer: only its bytes are sent.
  const big = new Uint8Array(audio.length + 10);
  big.set(audio, 5);
  const r = await c.call('audio.transcriptions', { model: 'openai/whisper-1', file: { data: 0, filename: 'speech.wav' } },
    [big.subarray(5, 5 + audio.length)]);
  assert.equal(r.json.text, 'round trip words');
  assert.equal(r.bytes, null);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'literllm-node-'));
  try {
    const file = path.join(dir, 'speech.wav');
    fs.writeFileSync(file, audio);
    assert.equal((await c.transcribe(file, { model: 'openai/whisper-1' })).text, 'round trip words');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('many calls in flight keep their uploads alive until each ends', async () => {
  const c = track(client());
  const audio = await c.speech('kept alive', { model: 'openai/tts-1', voice: 'alloy', response_format: 'wav' });
  const calls = [];
  for (let i = 0; i < 16; i++) {
    calls.push(c.call('audio.transcriptions', { model: 'openai/whisper-1', file: { data: 0, filename: 'a.wav' } },
      [Buffer.from(audio)]));
  }
  global.gc?.();
  for (const r of await Promise.all(calls)) assert.equal(r.json.text, 'kept alive');
});

test('previewCall shows an upload as a multipart part', () => {
  const c = track(client());
  const pv = c.previewCall('audio.transcriptions', { model: 'openai/whisper-1', file: { data: 0, filename: 'a.wav' } },
    [Buffer.from('RIFF0000WAVE')]);
  assert.ok(pv.parts.some((p) => p.name === 'file' && p.filename === 'a.wav' && p.bytes === 12), JSON.stringify(pv));
});

test('call errors are typed', async () => {
  const c = track(client());
  await assert.rejects(c.call('no.such.endpoint', {}), (e) => e instanceof lib.InvalidArgumentError && /no\.such\.endpoint/.test(e.message));
  await assert.rejects(c.call('audio.transcriptions', { model: 'openai/whisper-1', file: { data: 3, filename: 'a.wav' } }),
    lib.InvalidArgumentError);
  // Argument types reject too (a promise-returning method never throws).
  await assert.rejects(c.call('models', {}, 'not an array'), TypeError);
  await assert.rejects(c.call('models', {}, [42]), TypeError);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(c.call('models', {}, null, { signal: ac.signal }), lib.CancelledError);
});

test('raw llm_call maps buffers in, bytes and floats out', () => {
  const h = raw.llm_client_new(JSON.stringify({ max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-x-0123456789' } } })).out;
  try {
    let r = raw.llm_call(h, 'audio.speech', JSON.stringify({ model: 'openai/tts-1', input: 'raw', voice: 'alloy' }), null);
    assert.equal(r.status, raw.LLM_OK);
    const b = raw.llm_response_bytes(r.out);
    assert.ok(Buffer.isBuffer(b.value) && b.value.length === b.len && b.len > 0);
    assert.equal(raw.llm_response_content_type(r.out), 'audio/mpeg');
    assert.equal(raw.llm_response_embeddings(r.out).value, null);
    raw.llm_response_free(r.out);
    r = raw.llm_call(h, 'embeddings', JSON.stringify({ model: 'openai/text-embedding-3-small', input: 'x', dimensions: 3 }), []);
    const e = raw.llm_response_embeddings(r.out);
    assert.ok(e.value instanceof Float32Array);
    assert.deepEqual([e.count, e.dimensions, e.value.length], [1, 3, 3]);
    assert.deepEqual(raw.llm_response_bytes(r.out), { value: null, len: 0 });
    raw.llm_response_free(r.out);
    const p = raw.llm_preview_call(h, 'audio.transcriptions',
      JSON.stringify({ model: 'openai/whisper-1', file: { data: 1, filename: 'b.wav' } }), [new ArrayBuffer(2), new Uint16Array(3)]);
    assert.equal(p.status, raw.LLM_OK);
    assert.ok(JSON.parse(p.out).parts.some((x) => x.filename === 'b.wav' && x.bytes === 6), p.out);
  } finally {
    raw.llm_client_free(h);
  }
});

test('raw llm_call_async_e keeps the buffers and calls back', async () => {
  const h = raw.llm_client_new(JSON.stringify({ max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-x-0123456789' } } })).out;
  try {
    const done = new Promise((resolve) => {
      const s = raw.llm_call_async_e(h, 'models', JSON.stringify({ provider: 'openai' }), [Buffer.from('unused')],
        (status, response, error) => resolve({ status, response, error }));
      assert.equal(s.status, raw.LLM_OK);
    });
    const { status, response } = await done;
    assert.equal(status, raw.LLM_OK);
    assert.equal(JSON.parse(raw.llm_response_json(response)).object, 'list');
    raw.llm_response_free(response);
  } finally {
    raw.llm_client_free(h);
  }
});

test('the endpoint conveniences: images, moderation, files, batches, responses', async () => {
  const c = track(client());
  const img = await c.generateImage('a red square', { model: 'openai/dall-e-2', n: 1, size: '256x256' });
  assert.equal(img.data.length, 1);
  const mod = await c.moderate(['a', 'b'], { model: 'openai/omni-moderation-latest' });
  assert.equal(mod.results.length, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'literllm-node-files-'));
  try {
    const file = path.join(dir, 'notes.txt');
    fs.writeFileSync(file, 'from a path');
    const a = await c.createFile(file, 'assistants', { provider: 'openai' });
    const b = await c.createFile(Buffer.from('from bytes'), 'assistants', { provider: 'openai', filename: 'b.txt' });
    assert.equal((await c.retrieveFile(a.id, { provider: 'openai' })).id, a.id);
    assert.ok((await c.listFiles({ provider: 'openai' })).data.some((f) => f.id === b.id));
    assert.equal((await c.fileContent(a.id, { provider: 'openai' })).toString(), 'from a path');
    assert.equal((await c.fileContent(b.id, { provider: 'openai' })).toString(), 'from bytes');
    assert.equal((await c.deleteFile(b.id, { provider: 'openai' })).deleted, true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal((await c.listBatches({ provider: 'openai', limit: 5 })).object, 'list');
  const r = await c.createResponse({ model: 'openai/gpt-4o-mini', input: 'keep me' });
  assert.equal((await c.retrieveResponse(r.id, { provider: 'openai' })).id, r.id);
  await c.deleteResponse(r.id, { provider: 'openai' });
  await assert.rejects(c.retrieveResponse(r.id, { provider: 'openai' }), lib.NotFoundError);
});

test('callStream: events then the final response; a signal cancels; a non-streaming endpoint fails', async () => {
  const c = track(client());
  const s = c.streamResponse({ model: 'openai/gpt-4o-mini', input: 'one two three' });
  assert.ok(s instanceof lib.CallStream);
  const types = [];
  for await (const ev of s) types.push(ev.type);
  assert.equal(types[0], 'response.created');
  assert.equal(types[types.length - 1], 'response.completed');
  const final = await s.finalResponse();
  assert.equal(final.status, 'completed');
  const ac = new AbortController();
  ac.abort();
  const s2 = c.callStream('responses.create', { model: 'openai/gpt-4o-mini', input: 'a b c' }, null, { signal: ac.signal });
  await assert.rejects(async () => {
    for await (const ev of s2) assert.fail(String(ev));
  }, lib.CancelledError);
  await assert.rejects(async () => {
    for await (const ev of c.callStream('embeddings', { model: 'openai/text-embedding-3-small', input: 'x' })) assert.fail(String(ev));
  }, lib.InvalidArgumentError);
});
