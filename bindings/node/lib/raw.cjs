'use strict';
// The raw layer: one function per function of include/literllm.h (declarations in raw.d.ts).
module.exports = require('./native.cjs');
