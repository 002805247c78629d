// Types of the ESM entry point (index.mjs): the CommonJS entry's declarations (index.d.cts: the
// idiomatic layer; the raw layer's are generated, raw.d.ts), plus the default export.
export * from './index.cjs';
declare const literllm: typeof import('./index.cjs');
export default literllm;
