// The single executable's entry. scripts/build-exe.mjs writes the command-line bundle (dist/cli/linkface.cjs, as
// `npm run build` made it) in place of the marker line below, so the SEA blob holds one script: the bundle, in the
// function wrapper Node gives every CommonJS file, then a call to its `main`. SEA's code cache (`useCodeCache`,
// where valid) thus covers the bundle itself. No 'use strict' here: the bundle runs in the mode it was written in.
const { createRequire } = require('node:module');
const { dirname } = require('node:path');

const bundle = { exports: {} };
// SEA's own `require` loads built-in modules only; the bundle's loads files too (a JavaScript rc file), relative
// to the executable, whose path also names the bundle in stack traces.
(function (exports, require, module, __filename, __dirname) {
/* linkface: the command-line bundle goes here */
})(bundle.exports, createRequire(process.execPath), bundle, process.execPath, dirname(process.execPath));

bundle.exports.main(process.argv).then((code) => {
  process.exitCode = code;
});
