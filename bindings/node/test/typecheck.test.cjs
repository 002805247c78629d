'use strict';
// The TypeScript declarations compile (tsc from devDependencies; a missing tsc fails).
const test = require('node:test');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

test('tsc accepts lib/*.d.ts, lib/*.d.cts and test/types', () => {
  const root = path.join(__dirname, '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', path.join(root, 'tsconfig.json')],
    { stdio: 'inherit', cwd: root });
});
