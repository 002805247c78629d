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
