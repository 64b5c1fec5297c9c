#!/usr/bin/env node
/**
 * `npm run build:exe`: release/linkface-linux-x64, one file that runs linkface with no Node.js installed,
 * built with Node's own Single Executable Applications (https://nodejs.org/api/single-executable-applications.html):
 *
 *   1. the command-line bundle and its V8 code cache, made as `npm run build` makes them, and a small entry
 *      (scripts/sea-main.cjs) that compiles the bundle from the cache as bin/load.js does;
 *   2. `node --experimental-sea-config` turns the entry into a blob, with the bundle and cache as assets;
 *   3. a copy of this very `node` binary gets the blob injected by postject, which flips the SEA fuse;
 *   4. release/linkface-linux-x64.sha256 (sha256sum format) is written beside it;
 *   5. a smoke run (`env -i … --version`) checks the result before anyone ships it.
 *
 * Why not pkg or @yao-pkg/pkg: they download patched Node binaries from outside the npm registry, which fails
 * on machines that reach only the registry. SEA needs nothing but the `node` that runs this script.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ROOT, VERSION, bundleCommandLine, trainCodeCache } from './bundle-options.mjs';

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const RELEASE = join(ROOT, 'release');
const EXE = join(RELEASE, `linkface-${process.platform}-${process.arch}`);
const WORK = join(RELEASE, '.sea');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`the single executable is built for Linux x64 only (this is ${process.platform} ${process.arch})`);
}
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 18)) fail(`Node.js 20.18 or newer is needed (this is ${process.version})`);

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });

// 1. The command-line bundle and its code cache, as `npm run build` makes them (scripts/bundle-options.mjs),
// and the executable's own entry, which compiles the bundle from the cache (both are built into the binary).
const bundle = join(WORK, 'linkface.cjs');
const cache = join(WORK, 'linkface.cache');
await bundleCommandLine(bundle);
try {
  trainCodeCache(bundle, cache);
} catch (error) {
  fail(error.message);
}
const entry = join(WORK, 'sea-main.cjs');
await build({
  entryPoints: [join(ROOT, 'scripts', 'sea-main.cjs')],
  outfile: entry,
  bundle: true,
  platform: 'node',
  target: 'node20.18',
  format: 'cjs',
  logLevel: 'warning',
});

// 2. The preparation blob. No `useSnapshot`: undici cannot be put in a startup snapshot.
const blob = join(WORK, 'sea-prep.blob');
const seaConfig = join(WORK, 'sea-config.json');
writeFileSync(
  seaConfig,
  JSON.stringify(
    {
      main: entry,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      assets: { 'linkface.cjs': bundle, 'linkface.cache': cache },
    },
    null,
    2,
  ),
);
run(process.execPath, ['--experimental-sea-config', seaConfig]);

// 3. A copy of this node, with the blob injected.
rmSync(EXE, { force: true });
copyFileSync(process.execPath, EXE);
chmodSync(EXE, 0o755);
// postject's CLI rather than its API: its harmless LIEF warnings stay out of the output unless it fails.
const postject = fileURLToPath(import.meta.resolve('postject/dist/cli.js'));
run(process.execPath, [postject, EXE, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE]);

// 4. The checksum, in the format `sha256sum -c` reads (run from release/).
const digest = createHash('sha256').update(readFileSync(EXE)).digest('hex');
writeFileSync(`${EXE}.sha256`, `${digest}  ${basename(EXE)}\n`);

// 5. Smoke run with an empty environment: no node on PATH, nothing inherited.
const smoke = spawnSync(EXE, ['--version'], { env: {}, encoding: 'utf8' });
if (smoke.status !== 0 || smoke.stdout.trim() !== VERSION) {
  fail(`the built executable does not run: exit ${smoke.status}, stdout ${JSON.stringify(smoke.stdout)}\n${smoke.stderr}`);
}
rmSync(WORK, { recursive: true, force: true });
console.log(`${EXE.slice(ROOT.length)} (${(readFileSync(EXE).length / 2 ** 20).toFixed(0)} MiB, linkface ${VERSION})`);
console.log(`sha256 ${digest}`);

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) fail(`${basename(command)} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
}

function fail(message) {
  console.error(`build:exe: ${message}`);
  process.exit(1);
}
