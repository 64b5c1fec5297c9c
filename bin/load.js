'use strict';
/**
 * Loads the command line: one CommonJS bundle (dist/cli/linkface.cjs, made by scripts/build.mjs), compiled
 * from a V8 code cache when there is one for this very Node.js
 * (dist/cli/linkface-<node version>-<platform>-<arch>.cache).
 *
 * Why: what a user feels for a short command is mostly start-up, and compiling the bundle is a large part of
 * it. Node 20 has no compile cache for modules, so the build runs the command line once (`--help` and an upload)
 * and keeps what V8 compiled; V8 checks the cache against this process (its version, its flags, the source) and
 * compiles as usual when it does not fit. Without a cache for this Node, the bundle is `require`d, with Node's
 * own compile cache where there is one (Node 22.1 and newer).
 *
 * The single executable uses `compileBundle` too (scripts/sea-main.cjs), with the bundle and cache built in.
 * Set LINKFACE_DEBUG_STARTUP=1 to see on stderr whether a start used the code cache.
 */
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'cli', 'linkface.cjs');

/** The code cache file for this runtime; V8 rejects a cache made by any other. */
function codeCachePath(bundle) {
  return `${bundle.slice(0, -'.cjs'.length)}-${process.version}-${process.platform}-${process.arch}.cache`;
}

/** Each module wrapped as Node wraps a CommonJS file; the same text at build and at run time, or V8 rejects the cache. */
function wrap(source) {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/**
 * Compiles and runs the bundle from `source`, with `cachedData` when given; returns its exports and the script
 * (the build asks it for a cache). `filename` names it in stack traces; `require` is what its code gets.
 */
function compileBundle({ source, filename, cachedData, require: bundleRequire }) {
  // No dynamic-import hook: V8 drops it from a script compiled from a cache. The one import() in the bundle,
  // cosmiconfig's for a JavaScript rc file, has its own (scripts/bundle-options.mjs, rcModuleImport).
  const script = new vm.Script(wrap(source), { filename, cachedData });
  debug(() => `code cache ${cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted'} (${filename})`);
  const bundleModule = { exports: {} };
  script.runInThisContext()(bundleModule.exports, bundleRequire, bundleModule, filename, dirname(filename));
  return { exports: bundleModule.exports, script };
}

/**
 * `main` of the npm command line. V8 checks a cache against the source's length, not its text: after editing
 * dist/cli/linkface.cjs in place, run `npm run build`, which makes the cache again.
 */
function loadCommandLine() {
  let cachedData;
  try {
    cachedData = readFileSync(codeCachePath(BUNDLE));
  } catch {
    debug(() => `code cache absent for Node.js ${process.version} ${process.platform} ${process.arch}: compiling ${BUNDLE}`);
    return require(BUNDLE);
  }
  // The bundle is ASCII (esbuild escapes the rest; the build checks), so latin1 is exact, and the quickest read.
  const source = readFileSync(BUNDLE, 'latin1');
  return compileBundle({ source, filename: BUNDLE, cachedData, require: Module.createRequire(BUNDLE) }).exports;
}

function debug(message) {
  if (process.env.LINKFACE_DEBUG_STARTUP) process.stderr.write(`linkface: ${message()}\n`);
}

module.exports = { BUNDLE, codeCachePath, compileBundle, loadCommandLine, wrap };
