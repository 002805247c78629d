// Benchmarks the binding against the C API and the official `openai` SDK on the
// local upstream, interleaved: every round runs a slice of each variant in a
// fresh random order, so they share the moment's noise; ratios are per round.
// "node literllm" is the default Client (hosted I/O: the library's loop on the
// JS thread); "node literllm-thread" a Client made with io: 'thread' (the
// library's own I/O thread, answers handed over by a thread-safe function).
//   node --expose-gc bench/bench.mjs [--rounds N] [--settle-ms MS] [--seq N] [--par N] [--only REGEX]
//       the comparison (each variant after a full GC, with --expose-gc, and a pause
//       of MS, 50 by default; slices of N sequential calls, 200, and N at 16 in flight, 800;
//       --only: just the variants whose names match, e.g. '^(C llm_chat|node literllm) seq$')
//   node --expose-gc bench/bench.mjs --rss [--calls N] [--repeat R]   RSS over R x (N sequential + N at 16 in flight)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { Client } = require('../lib/index.cjs');
const { startUpstream } = require('../test/support/upstream.cjs');

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg('--rounds', 7);
const SETTLE_MS = arg('--settle-ms', 50);
const SEQ = arg('--seq', 200);
const PAR = arg('--par', 800);
const STREAMS = 3;
const STREAM_CHUNKS = 2000;

const upstream = await startUpstream();
const base = upstream.baseUrl;
const messages = [{ role: 'user', content: 'bench' }];
const req = { model: 'openai/gpt-4o-mini', messages };
const streamHeaders = { 'x-upstream-generate': 'content', 'x-upstream-generate-count': String(STREAM_CHUNKS) };

const clientConfig = { max_retries: 0, providers: { openai: { base_url: base, api_key: 'sk-bench-123456' } } };
const client = new Client(clientConfig);
const threadClient = new Client({ ...clientConfig, io: 'thread' });

async function window16(n, call) {
  let started = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
}

if (process.argv.includes('--rss')) {
  const calls = arg('--calls', 10000);
  const rss = () => {
    if (global.gc) global.gc();
    return (process.memoryUsage().rss / 1048576).toFixed(1);
  };
  for (let i = 0; i < 200; i++) await client.chat(req);
  const figures = [`after warm-up ${rss()}`];
  for (let r = 0; r < arg('--repeat', 1); r++) {
    for (let i = 0; i < calls; i++) await client.chat(req);
    figures.push(`+${calls} sequential ${rss()}`);
    await window16(calls, () => client.chat(req));
    figures.push(`+${calls} at 16 in flight ${rss()}`);
  }
  console.log(`RSS MiB: ${figures.join(', ')}`);
  client.close();
  threadClient.close();
  upstream.stop();
  process.exit(0);
}

// The C baseline (compiled once into build/).
const cBin = path.join(here, '..', 'build', 'bench_c_chat');
if (!existsSync(cBin) || statSync(cBin).mtimeMs < statSync(path.join(here, 'c_chat.c')).mtimeMs) {
  mkdirSync(path.dirname(cBin), { recursive: true });
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'literllm'], { encoding: 'utf8' }).trim().split(/\s+/);
  const libdir = execFileSync('pkg-config', ['--variable=libdir', 'literllm'], { encoding: 'utf8' }).trim();
  execFileSync('cc', ['-O2', '-o', cBin, path.join(here, 'c_chat.c'), ...flags, '-lpthread', `-Wl,-rpath,${libdir}`]);
}
const cRun = (mode, n) => {
  const [us, fails] = execFileSync(cBin, [base, mode, String(n)], { encoding: 'utf8' }).trim().split(' ').map(Number);
  if (fails) throw new Error(`C baseline: ${fails} failures`);
  return { wallUs: us, cpuUs: NaN };
};

const { default: OpenAI } = await import('openai');
const sdk = new OpenAI({ baseURL: base, apiKey: 'sk-bench-123456', maxRetries: 0 });

// Like the C baseline (c_chat.c), which makes one untimed call on its
// connection before its clock starts, each variant here first makes one
// untimed call (`warm`): the first call after the settle pause otherwise pays
// for a cold connection, upstream thread and caches, which the C variant never
// does (with 200-call slices that alone put the binding at 1.3-1.4x the C call,
// against 1.1x over 20,000 calls in a row).
async function timed(warm, fn) {
  await warm();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallUs = (performance.now() - t0) * 1000;
  const c = process.cpuUsage(c0);
  return { wallUs, cpuUs: c.user + c.system };
}

// The binding's variants for one client.
const nodeVariants = (label, c) => {
  const warm = () => c.chat(req);
  return {
    [`node ${label} seq`]: () => timed(warm, async () => { for (let i = 0; i < SEQ; i++) await c.chat(req); }),
    [`node ${label} par16`]: () => timed(warm, () => window16(PAR, () => c.chat(req))),
    [`node ${label} stream`]: () => timed(warm, async () => {
      for (let i = 0; i < STREAMS; i++) {
        for await (const chunk of c.stream({ ...req, extra_headers: streamHeaders })) void chunk;
      }
    }),
  };
};

const sdkWarm = () => sdk.chat.completions.create({ model: 'gpt-4o-mini', messages });
const variants = {
  'C llm_chat seq': () => cRun('seq', SEQ),
  'C llm_chat_async_e seq': () => cRun('async1', SEQ),
  'C hosted llm_chat_async_e seq': () => cRun('hosted1', SEQ),
  'node openai-sdk seq': () => timed(sdkWarm, async () => { for (let i = 0; i < SEQ; i++) await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages }); }),
  'C llm_chat_async par16': () => cRun('par16', PAR),
  'node openai-sdk par16': () => timed(sdkWarm, () => window16(PAR, () => sdk.chat.completions.create({ model: 'gpt-4o-mini', messages }))),
  'C stream': () => cRun('stream', STREAMS),
  'node openai-sdk stream': () => timed(sdkWarm, async () => {
    for (let i = 0; i < STREAMS; i++) {
      const s = await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }, { headers: streamHeaders });
      for await (const chunk of s) void chunk;
    }
  }),
  ...nodeVariants('literllm', client),
  ...nodeVariants('literllm-thread', threadClient),
};
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? new RegExp(process.argv[onlyAt + 1]) : null;
if (only) for (const k of Object.keys(variants)) if (!only.test(k)) delete variants[k];
const perCall = { seq: SEQ, par16: PAR, stream: STREAMS };
const unit = (name) => perCall[name.split(' ').pop()];

// warm-up
for (const v of Object.values(variants)) await v();

const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = Object.keys(variants).sort(() => Math.random() - 0.5);
  for (const name of order) {
    // Each variant starts from a quiet process: the garbage of the one before it collected (with
    // --expose-gc) and V8's background threads given time to finish, instead of charged to it.
    if (global.gc) global.gc();
    if (SETTLE_MS > 0) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const { wallUs, cpuUs } = await variants[name]();
    results[name].push({ wall: wallUs / unit(name), cpu: cpuUs / unit(name) });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
console.log(`${ROUNDS} interleaved rounds; per call (stream: per ${STREAM_CHUNKS}-chunk stream), median of rounds`);
const modeOf = (name) => name.split(' ').pop();
const names = Object.keys(results).sort((a, b) =>
  Object.keys(perCall).indexOf(modeOf(a)) - Object.keys(perCall).indexOf(modeOf(b)) || a.localeCompare(b));
for (const name of names) {
  const rs = results[name];
  const cpu = median(rs.map((x) => x.cpu));
  console.log(`  ${name.padEnd(28)} wall ${median(rs.map((x) => x.wall)).toFixed(1).padStart(9)} us` +
    (Number.isNaN(cpu) ? '' : `   cpu ${cpu.toFixed(1).padStart(9)} us`));
}
// The median of per-round ratios a/b, as "label 1.23x"; nothing when --only left either out.
const ratio = (label, a, b) => !results[a] || !results[b] ? [] :
  [`${label} ${median(results[a].map((x, i) => x.wall / results[b][i].wall)).toFixed(2)}x`];
for (const mode of ['seq', 'par16', 'stream']) {
  const cs = Object.keys(results).filter((k) => k.startsWith('C ') && k.endsWith(mode));
  const parts = [];
  for (const label of ['literllm', 'literllm-thread']) {
    for (const c of cs) parts.push(...ratio(`${label}/(${c})`, `node ${label} ${mode}`, c));
  }
  parts.push(...ratio('literllm/literllm-thread', `node literllm ${mode}`, `node literllm-thread ${mode}`));
  parts.push(...ratio('openai-sdk/literllm', `node openai-sdk ${mode}`, `node literllm ${mode}`));
  if (parts.length > 0) console.log(`  ${mode}: ${parts.join('; ')} (wall)`);
}
client.close();
threadClient.close();
upstream.stop();
