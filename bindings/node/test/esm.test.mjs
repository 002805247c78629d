// The ESM entry point gives the same objects as the CommonJS one.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as esm from '../lib/index.mjs';

const cjs = createRequire(import.meta.url)('../lib/index.cjs');

test('ESM and CommonJS entry points export the same objects', () => {
  for (const [k, v] of Object.entries(cjs)) assert.equal(esm[k], v, k);
  assert.equal(esm.default, cjs);
});

test('the raw layer has named ESM exports, the same objects as its CommonJS module', async () => {
  const rawEsm = await import('literllm/raw');
  const { llm_version, LLM_OK } = await import('literllm/raw');
  const rawCjs = createRequire(import.meta.url)('../lib/raw.cjs');
  assert.equal(typeof llm_version, 'function');
  assert.equal(LLM_OK, 0);
  assert.equal(rawEsm.default, rawCjs);
  const names = Object.keys(rawCjs);
  assert.ok(names.length > 100);
  for (const k of names) assert.equal(rawEsm[k], rawCjs[k], k);
});
