'use strict';
// The single executable's entry (scripts/build-exe.mjs bundles it): the command-line bundle and its code cache
// are assets built into the binary, compiled as bin/load.js compiles them for the npm command.
const { createRequire } = require('node:module');
const { getAsset } = require('node:sea');
const { compileBundle } = require('../bin/load.js');

const { main } = compileBundle({
  source: getAsset('linkface.cjs', 'utf8'),
  // Stack traces name the executable; `require` loads built-in modules, and files (a JavaScript rc file).
  filename: process.execPath,
  cachedData: Buffer.from(getAsset('linkface.cache')),
  require: createRequire(process.execPath),
}).exports;

main(process.argv).then((code) => {
  process.exitCode = code;
});
