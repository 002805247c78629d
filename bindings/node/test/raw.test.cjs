'use strict';
// The generated raw layer, function by function where the idiomatic layer does not reach.
const test = require('node:test');
const assert = require('node:assert/strict');
const raw = require('../lib/raw.cjs');
const { startUpstream } = require('./support/upstream.cjs');

let upstream;
let client;
test.before(async () => {
  upstream = await startUpstream();
  const cfg = { max_retries: 0, providers: { openai: { base_url: upstream.baseUrl, api_key: 'sk-raw-0123456' } } };
  client = raw.llm_client_new_e(JSON.stringify(cfg)).out;
});
test.after(() => {
  raw.llm_client_free(client);
  upstream && upstream.stop();
});
const req = (content, headers) => JSON.stringify({ model: 'openai/m', messages: [{ role: 'user', content }], extra_headers: headers });

test('llm_chat_async (plain form): the error as a message', async () => {
  const [status, response, message] = await new Promise((resolve) => {
    const r = raw.llm_chat_async(client, req('x', { 'x-upstream-status': '404' }), (...a) => resolve(a));
    assert.equal(r.status, raw.LLM_OK);
    assert.equal(typeof r.out_request_id, 'bigint');
  });
  assert.equal(status, raw.LLM_ERR_NOT_FOUND);
  assert.equal(response, null);
  assert.match(message, /404/);
});

test('llm_chat_stream_async (plain form) and the response accessors', async () => {
  const chunks = [];
  const [status, response] = await new Promise((resolve) => {
    raw.llm_chat_stream_async(client, req('one two three'), (c) => { chunks.push(JSON.parse(c)); }, (...a) => resolve(a));
  });
  assert.equal(status, raw.LLM_OK);
  assert.ok(chunks.length >= 3);
  assert.equal(raw.llm_response_text(response), 'Hello from the local upstream. You said: one two three');
  const t = raw.llm_response_text_n(response);
  assert.equal(t.len, Buffer.byteLength(t.value));
  assert.equal(raw.llm_response_finish_reason(response), 'stop');
  assert.equal(raw.llm_response_provider(response), 'openai');
  assert.equal(raw.llm_response_prompt_tokens(response), 3);
  assert.ok(raw.llm_response_bytes_received(response) > 0n);
  raw.llm_response_free(response);
  assert.equal(raw.llm_response_text(response), null); // emptied: reaches C as NULL
});

test('a start that fails runs no callback and returns the error', () => {
  const r = raw.llm_chat_async_e(client, '{"model": 1}', () => assert.fail('callback ran'));
  assert.equal(r.status, raw.LLM_ERR_INVALID_ARGUMENT);
  assert.match(raw.llm_error_message(r.error), /model/);
  raw.llm_error_free(r.error);
});

test('the blocking forms (they block the event loop; the idiomatic layer never uses them)', () => {
  const s = raw.llm_chat_stream_e(client, req('a b'));
  assert.equal(s.status, raw.LLM_OK);
  let n = 0;
  for (;;) {
    const r = raw.llm_stream_next_e(s.out);
    assert.equal(r.status, raw.LLM_OK);
    if (r.chunk_json === null) break;
    n++;
  }
  assert.ok(n > 0);
  const f = raw.llm_stream_final_response_e(s.out);
  assert.equal(raw.llm_response_text(f.out), 'Hello from the local upstream. You said: a b');
  raw.llm_stream_free(s.out);
  const c = raw.llm_chat_e(client, req('sync'));
  assert.equal(c.status, raw.LLM_OK);
  assert.match(raw.llm_response_json(c.out), /You said: sync/);
});

test('error objects: clone, fields, last error', () => {
  const r = raw.llm_chat_e(client, req('x', { 'x-upstream-status': '429', 'x-upstream-retry-after': '2' }));
  assert.equal(r.status, raw.LLM_ERR_RATE_LIMITED);
  const copy = raw.llm_error_clone(r.error);
  raw.llm_error_free(r.error);
  assert.equal(raw.llm_error_status(copy), raw.LLM_ERR_RATE_LIMITED);
  assert.equal(raw.llm_error_http_status(copy), 429);
  assert.equal(raw.llm_error_retry_after_ms(copy), 2000);
  assert.equal(raw.llm_error_code(copy), 'rate_limit_exceeded');
  assert.equal(raw.llm_error_retries(copy), 0);
  assert.equal(raw.llm_last_error_status(), raw.LLM_ERR_RATE_LIMITED); // same thread: the JS thread
  assert.equal(raw.llm_last_error_http_status(), 429);
  assert.ok(raw.llm_last_error().length > 0);
  assert.equal(raw.llm_error_status(raw.llm_last_error_object()), raw.LLM_ERR_RATE_LIMITED);
  assert.equal(raw.llm_init_e().status, raw.LLM_OK);
  assert.equal(raw.llm_init(), raw.LLM_OK);
  raw.llm_string_free('nothing to free');
});

test('preview, providers and registration through the raw layer', () => {
  const p = JSON.parse(raw.llm_preview_request_e(client, req('x'), 1).out);
  const auth = Object.entries(p.headers).find(([k]) => k.toLowerCase() === 'authorization');
  assert.match(auth[1], /\[REDACTED\]/);
  assert.ok(!JSON.stringify(p).includes('sk-raw-0123456'));
  const reg = { name: 'rawhost', base_url: upstream.baseUrl, prefixes: ['rawhost'] };
  assert.equal(raw.llm_register_provider_e(client, JSON.stringify(reg)).status, raw.LLM_OK);
  assert.ok(JSON.parse(raw.llm_providers_json_e(client).out).some((x) => x.name === 'rawhost'));
  assert.equal(raw.llm_unregister_provider_e(client, 'rawhost').status, raw.LLM_OK);
  assert.equal(raw.llm_unregister_provider(client, 'rawhost'), raw.LLM_ERR_NOT_FOUND);
  assert.equal(raw.llm_client_cancel_e(client, 12345n).status, raw.LLM_OK);
  assert.equal(raw.llm_client_cancel(client, 1), raw.LLM_OK);
});

test('wrong argument types throw TypeError', () => {
  assert.throws(() => raw.llm_status_str('x'), TypeError);
  assert.throws(() => raw.llm_chat_async_e(client, '{}', 'not a function'), TypeError);
  assert.throws(() => raw.llm_client_cancel_e(client, -1), TypeError);
});
