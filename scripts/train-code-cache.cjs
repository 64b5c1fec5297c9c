#!/usr/bin/env node
'use strict';
/**
 * `node scripts/train-code-cache.cjs BUNDLE CACHE_FILE` (run by the builds, see scripts/bundle-options.mjs).
 *
 * Compiles the command-line bundle as bin/load.js does, runs it the way users mostly do (`--help`, then a real
 * upload of one file to a sandbox started in a separate process from the same bundle), and writes V8's code
 * cache: everything compiled on the way, so later starts skip compiling it. A fresh process then compiles the
 * bundle from the cache and must accept it. Any failure exits 1: a bundle that cannot upload is not shipped.
 *
 * Internal: `… --serve BUNDLE` runs `linkface sandbox` from the bundle (the training's server).
 */
const { spawn, spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { compileBundle } = require('../bin/load.js');

const FIXTURE = join(__dirname, '..', 'fixtures', 'liveness', 'alice.bin');

async function main([first, second, third]) {
  if (first === '--serve') return serve(second);
  if (!first || !second) throw new Error('usage: train-code-cache.cjs BUNDLE CACHE_FILE');
  if (third === '--check') return check(first, second);
  return train(first, second);
}

async function train(bundle, cacheFile) {
  const home = mkdtempSync(join(tmpdir(), 'linkface-train-'));
  const sandbox = spawn(process.execPath, [__filename, '--serve', bundle], { cwd: home, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await firstLine(sandbox);
    // Nothing of the builder's: no rc file, no LINKFACE_* variable, no proxy.
    for (const name of Object.keys(process.env)) {
      if (/^(LINKFACE_|XDG_CONFIG_HOME$)/.test(name) || /^(https?|all|no)_proxy$/i.test(name)) delete process.env[name];
    }
    Object.assign(process.env, { HOME: home, LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' });
    process.chdir(home);

    const { exports, script } = compileBundle({ source: readFileSync(bundle, 'utf8'), filename: bundle, require: requireWithoutV8Flags(bundle) });
    for (const args of [['--help'], ['upload', FIXTURE]]) {
      const code = await exports.main(['node', 'linkface', ...args]);
      if (code !== 0) throw new Error(`linkface ${args.join(' ')} exited ${code}`);
    }
    writeFileSync(cacheFile, script.createCachedData());
  } finally {
    sandbox.kill();
    rmSync(home, { recursive: true, force: true });
  }
  const checked = spawnSync(process.execPath, [__filename, bundle, cacheFile, '--check'], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`a fresh process does not accept the code cache: ${checked.stderr.trim()}`);
}

function check(bundle, cacheFile) {
  const source = readFileSync(bundle, 'utf8');
  const vm = require('node:vm');
  const { wrap } = require('../bin/load.js');
  const script = new vm.Script(wrap(source), { filename: bundle, cachedData: readFileSync(cacheFile) });
  if (script.cachedDataRejected) throw new Error('V8 rejected it');
}

/**
 * The bundle's `require`, except that node:v8's setFlagsFromString does nothing. An upload of a few files keeps
 * WebAssembly at V8's baseline tier with it (src/cli/upload.ts), and V8 checks a code cache against the flags
 * of the process that made it: a cache made after the flag changed is rejected by every fresh process.
 */
function requireWithoutV8Flags(bundle) {
  const bundleRequire = createRequire(bundle);
  const v8 = { ...require('node:v8'), setFlagsFromString: () => {} };
  return Object.assign((id) => (id === 'node:v8' || id === 'v8' ? v8 : bundleRequire(id)), bundleRequire);
}

async function serve(bundle) {
  const { main: linkface } = require(bundle);
  process.exitCode = await linkface(['node', 'linkface', 'sandbox', '--port', '0', '--latency', '0']);
}

function firstLine(child) {
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.on('exit', (code) => reject(new Error(`the sandbox exited (${code}) before printing its URL`)));
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
  });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`train-code-cache: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
