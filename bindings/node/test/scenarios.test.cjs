'use strict';
// Runs every scenario of tests/scenarios/scenarios.json, each as its own test.
// A scenario this binding cannot run fails.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client, LiterLlmError } = require('../lib/index.cjs');
const { startUpstream } = require('./support/upstream.cjs');

const scenariosPath = process.env.LITERLLM_SCENARIOS ||
  path.join(__dirname, '..', '..', '..', 'tests', 'scenarios', 'scenarios.json');
const doc = JSON.parse(fs.readFileSync(scenariosPath, 'utf8'));

let upstream;
test.before(async () => {
  upstream = await startUpstream();
});
test.after(() => upstream && upstream.stop());

// Replaces {name} in every string of a JSON value.
function fill(value, vars) {
  if (typeof value === 'string') return value.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value && typeof value === 'object') {
    const o = {};
    for (const [k, v] of Object.entries(value)) o[k] = fill(v, vars);
    return o;
  }
  return value;
}

function makeClient(sc, vars) {
  return new Client({ ...fill(doc.client_config, vars), ...fill(sc.config || {}, vars) });
}

// What a run gives: { status, error?, response?, text?, chunks?, elapsedMs, preview? }.
async function outcome(fn) {
  const t0 = performance.now();
  const out = {};
  try {
    Object.assign(out, await fn(), { status: 'LLM_OK' });
  } catch (e) {
    if (!(e instanceof LiterLlmError)) throw e;
    out.status = e.statusName;
    out.error = e;
  }
  out.elapsedMs = performance.now() - t0;
  return out;
}

function responseOutcome(r) {
  return { response: r, text: r.choices?.[0]?.message?.content ?? null };
}

async function runStream(client, request, onFirstChunk) {
  const partial = { chunks: 0, text: '' };
  const t0 = performance.now();
  const stream = client.stream(request, { signal: onFirstChunk ? onFirstChunk.signal : undefined });
  try {
    for await (const chunk of stream) {
      partial.chunks++;
      const c = chunk.choices?.[0]?.delta?.content;
      if (typeof c === 'string') partial.text += c;
      if (partial.chunks === 1 && onFirstChunk) setImmediate(() => onFirstChunk.abort()); // from another task
    }
    partial.response = await stream.finalResponse();
    partial.status = 'LLM_OK';
  } catch (e) {
    if (!(e instanceof LiterLlmError)) throw e;
    partial.status = e.statusName;
    partial.error = e;
  }
  partial.elapsedMs = performance.now() - t0;
  return partial;
}

function parseArgs(toolCalls) {
  return (toolCalls || []).map((tc) => ({ ...tc, function: { ...tc.function, arguments: JSON.parse(tc.function.arguments) } }));
}

// The value at a path "a.0.b" (digits index arrays), or undefined.
function atPath(v, p) {
  for (const seg of p.split('.')) {
    if (Array.isArray(v) && /^\d+$/.test(seg)) v = v[Number(seg)];
    else if (v && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, seg)) v = v[seg];
    else return undefined;
  }
  return v;
}

// A scenario's "uploads" ({base64} or {text} each) as Buffers.
function uploadsOf(sc) {
  return (sc.uploads || []).map((u) => ('base64' in u ? Buffer.from(u.base64, 'base64') : Buffer.from(u.text, 'utf8')));
}

// The text of a Responses API response: its "output_text" parts joined.
function responsesText(r) {
  let t = '';
  for (const item of r?.output || []) for (const part of item.content || []) if (part.type === 'output_text') t += part.text;
  return t;
}

// Kind "call_stream": events checked as they come, deltas joined, the final response compared.
async function runCallStream(client, sc, vars, signal) {
  const out = { chunks: 0, text: '', known: ['final_status', 'event_types'] };
  const types = new Set();
  let last = -1;
  const stream = client.callStream(sc.endpoint, fill(sc.request, vars), uploadsOf(sc), { signal });
  try {
    for await (const ev of stream) {
      out.chunks++;
      assert.ok(typeof ev.type === 'string' && Number.isInteger(ev.sequence_number), `an event without type or sequence_number: ${JSON.stringify(ev)}`);
      assert.ok(ev.sequence_number > last, `sequence_number ${ev.sequence_number} after ${last}`);
      last = ev.sequence_number;
      types.add(ev.type);
      if (ev.type === 'response.output_text.delta') out.text += ev.delta;
    }
    const final = await stream.finalResponse();
    out.status = 'LLM_OK';
    assert.equal(responsesText(final), out.text, 'the joined deltas differ from the final response\'s text');
    if ('final_status' in sc.expect) assert.equal(final.status, sc.expect.final_status);
    for (const t of sc.expect.event_types || []) assert.ok(types.has(t), `no event ${t}`);
  } catch (e) {
    if (!(e instanceof LiterLlmError)) throw e;
    out.status = e.statusName;
    out.error = e;
  }
  return out;
}

// Kind "batch": files.create, batches.create, batches.retrieve until done, files.content.
async function runBatch(client, sc) {
  const out = { known: ['batch_status', 'output_lines', 'output_contains'] };
  const opts = sc.provider ? { provider: sc.provider } : {};
  const file = await client.createFile(Buffer.from(sc.upload.content, 'utf8'), sc.upload.purpose,
    { ...opts, filename: sc.upload.filename });
  const { endpoint, ...fields } = sc.batch;
  let batch = await client.createBatch(file.id, endpoint, { ...opts, ...fields });
  for (let i = 0; i < sc.max_polls; i++) {
    batch = await client.retrieveBatch(batch.id, opts);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) break;
  }
  assert.equal(batch.status, sc.expect.batch_status, JSON.stringify(batch));
  const output = (await client.fileContent(batch.output_file_id, opts)).toString('utf8');
  if ('output_lines' in sc.expect) assert.equal(output.split('\n').filter((l) => l.trim() !== '').length, sc.expect.output_lines);
  for (const t of sc.expect.output_contains || []) assert.ok(output.includes(t), `the output lacks ${t}: ${output}`);
  return out;
}

// Checks every key of `expect`; an unknown key fails (the runner must learn it).
function verify(expect, out, vars) {
  const e = fill(expect, vars);
  const resp = out.response;
  const choice = resp?.choices?.[0];
  for (const [key, want] of Object.entries(e)) {
    if (out.known && out.known.includes(key)) continue;
    switch (key) {
      case 'status':
        assert.equal(out.status, want, out.error ? `error: ${out.error.message}` : 'succeeded');
        break;
      case 'text':
        assert.equal(out.text, want);
        break;
      case 'text_json':
        assert.deepEqual(JSON.parse(out.text), want);
        break;
      case 'finish_reason':
        assert.equal(choice?.finish_reason, want);
        break;
      case 'reasoning_content': // the answer's message's, "" when it has none
        assert.equal(choice?.message?.reasoning_content ?? '', want);
        break;
      case 'provider':
        assert.equal(out.preview ? out.preview.provider : resp ? resp.provider : out.error?.provider, want);
        break;
      case 'prompt_tokens':
      case 'completion_tokens':
        assert.equal(resp?.usage?.[key], want);
        break;
      case 'min_chunks':
        assert.ok(out.chunks >= want, `${out.chunks} chunks, want at least ${want}`);
        break;
      case 'tool_calls':
        assert.deepEqual(parseArgs(choice?.message?.tool_calls), want);
        break;
      case 'http_status':
        assert.equal(out.error ? out.error.httpStatus : resp?.stats?.http_status, want);
        break;
      case 'retry_after_ms':
        assert.equal(out.error?.retryAfterMs, want);
        break;
      case 'code':
        assert.equal(out.error?.code, want);
        break;
      case 'type':
        assert.equal(out.error?.type, want);
        break;
      case 'message_contains':
        assert.ok(out.error?.message.includes(want), `message: ${out.error?.message}`);
        break;
      case 'message_excludes':
        assert.ok(!out.error?.message.includes(want), `message: ${out.error?.message}`);
        break;
      case 'within_ms':
        assert.ok(out.elapsedMs <= want, `took ${out.elapsedMs} ms`);
        break;
      case 'method':
      case 'url':
        assert.equal(out.preview?.[key], want);
        break;
      case 'header_authorization': {
        const h = Object.entries(out.preview?.headers || {}).find(([k]) => k.toLowerCase() === 'authorization');
        assert.equal(h && h[1], want);
        break;
      }
      case 'excludes':
        assert.ok(!JSON.stringify(out.preview ?? out.response ?? {}).includes(want));
        break;
      case 'body_model':
        assert.equal(JSON.parse(out.preview.body).model, want);
        break;
      case 'object':
        assert.ok(out.call, 'no call response');
        assert.equal(out.call.json.object, want);
        break;
      case 'ids_include': {
        assert.ok(out.call, 'no call response');
        const ids = (out.call.json.data || []).map((m) => m.id);
        for (const id of want) assert.ok(ids.includes(id), `no model ${id} in ${ids}`);
        break;
      }
      case 'vectors':
        assert.ok(out.call, 'no call response');
        assert.equal(out.call.embeddings().length, want);
        assert.equal(out.call.embeddingsFlat().count, want);
        break;
      case 'dimensions':
        assert.ok(out.call, 'no call response');
        assert.equal(out.call.embeddingsFlat().dimensions, want);
        for (const v of out.call.embeddings()) assert.ok(v instanceof Float32Array && v.length === want);
        break;
      case 'content_type':
        assert.ok(out.call, 'no call response');
        assert.equal(out.call.contentType, want);
        break;
      case 'min_bytes':
        assert.ok(out.call && Buffer.isBuffer(out.call.bytes), 'no bytes');
        assert.ok(out.call.bytes.length >= want, `${out.call.bytes.length} bytes`);
        break;
      case 'fields':
        assert.ok(out.call, 'no call response');
        for (const [p, w] of Object.entries(want)) assert.deepEqual(atPath(out.call.json, p), w, `fields.${p}`);
        break;
      case 'lengths':
        assert.ok(out.call, 'no call response');
        for (const [p, w] of Object.entries(want)) {
          const v = atPath(out.call.json, p);
          assert.ok(Array.isArray(v) && v.length === w, `lengths.${p}: got ${JSON.stringify(v)}, want ${w}`);
        }
        break;
      default:
        assert.fail(`expectation "${key}" is not known to the Node runner`);
    }
  }
}

const kinds = {
  async chat(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      verify(sc.expect, await outcome(async () => responseOutcome(await client.chat(fill(sc.request, vars)))), vars);
    } finally {
      client.close();
    }
  },
  async stream(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      verify(sc.expect, await runStream(client, fill(sc.request, vars)), vars);
    } finally {
      client.close();
    }
  },
  // Chat, check first_expect; send the answer's message back as it came, one tool message per call; chat again.
  async tool_loop(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      const request = fill(sc.request, vars);
      const first = await outcome(async () => responseOutcome(await client.chat(request)));
      verify(sc.first_expect, first, vars);
      const message = first.response?.choices?.[0]?.message;
      assert.ok(message && Array.isArray(message.tool_calls) && message.tool_calls.length > 0,
        `the first answer has no message with tool calls: ${JSON.stringify(message)}`);
      const next = { ...request, messages: [...request.messages, message] };
      for (const call of message.tool_calls) next.messages.push({ role: 'tool', tool_call_id: call.id, content: sc.tool_result });
      verify(sc.expect, await outcome(async () => responseOutcome(await client.chat(next))), vars);
    } finally {
      client.close();
    }
  },
  async cancel_stream(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      verify(sc.expect, await runStream(client, fill(sc.request, vars), new AbortController()), vars);
    } finally {
      client.close();
    }
  },
  async concurrent(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      const callers = [];
      for (let caller = 0; caller < sc.callers; caller++) {
        callers.push((async () => {
          for (let call = 0; call < sc.calls_each; call++) {
            const v = { ...vars, caller, call };
            verify(sc.expect, await outcome(async () => responseOutcome(await client.chat(fill(sc.request, v)))), v);
          }
        })());
      }
      await Promise.all(callers);
    } finally {
      client.close();
    }
  },
  async call(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      verify(sc.expect, await outcome(async () => ({ call: await client.call(sc.endpoint, fill(sc.request, vars), uploadsOf(sc)) })), vars);
    } finally {
      client.close();
    }
  },
  async call_stream(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      verify(sc.expect, await runCallStream(client, sc, vars), vars);
      verify(sc.expect, await runCallStream(client, sc, vars, new AbortController().signal), vars); // with a signal
    } finally {
      client.close();
    }
  },
  async batch(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      verify(sc.expect, await outcome(() => runBatch(client, sc)), vars);
    } finally {
      client.close();
    }
  },
  async preview(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      verify(sc.expect, await outcome(async () => ({ preview: client.preview(fill(sc.request, vars)) })), vars);
    } finally {
      client.close();
    }
  },
  async register(sc, vars) {
    const client = makeClient(sc, vars);
    try {
      client.registerProvider(fill(sc.provider, vars));
      verify(sc.expect, await outcome(async () => responseOutcome(await client.chat(fill(sc.request, vars)))), vars);
    } finally {
      client.close();
    }
  },
  async config_file(sc, vars) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'literllm-node-'));
    const file = path.join(dir, 'config.toml');
    fs.writeFileSync(file, fill(sc.file, vars));
    const client = Client.fromFile(file);
    try {
      verify(sc.expect, await outcome(async () => responseOutcome(await client.chat(fill(sc.request, vars)))), vars);
    } finally {
      client.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

for (const sc of doc.scenarios) {
  test(`scenario ${sc.name}`, async () => {
    const run = kinds[sc.kind];
    assert.ok(run, `scenario kind "${sc.kind}" is not known to the Node runner`);
    await run(sc, { base_url: upstream.baseUrl });
  });
}
