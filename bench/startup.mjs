#!/usr/bin/env node
/**
 * Start-up benchmark (`npm run bench` runs it after bench/batch.mjs; `node bench/startup.mjs` alone).
 *
 * What a user feels for a short command is mostly process start-up, so each figure is a ratio to `node -e 0`
 * measured in the same run: the commands run interleaved, round after round (the order rotating each round),
 * so drift in the machine's speed hits every command alike. Absolute times mean little here: this machine sets
 * NODE_EXTRA_CA_CERTS, which costs every node start ~40 ms; it stays set for every command, baseline included.
 *
 * Commands, each run BENCH_STARTUP_RUNS times (default 30), median wall time:
 *   node -e 0                                   the baseline
 *   linkface --version / --help                 the npm command (node bin/linkface.js → dist/cli bundle)
 *   linkface upload <one file>                  to `linkface sandbox --latency 0`, a separate process
 *   the same three with the single executable   release/linkface-linux-x64, built first if missing or stale
 *
 * Targets: `--version` <= 1.3x `node -e 0`; a one-file upload <= 1.6x `node -e 0` + the sandbox's latency.
 * Wall time is taken around a synchronous spawn from this process, the same for every command.
 *
 * Exit code: 0 when every run worked, even if a target is missed (this is a measurement, not a test); 1 when a
 * run failed or printed the wrong thing; 130/143 when interrupted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'linkface.js');
const EXE = join(ROOT, 'release', 'linkface-linux-x64');
const FILE = join(ROOT, 'fixtures', 'liveness', 'alice.bin');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const SANDBOX_LATENCY_MS = 0;
const TARGETS = { version: 1.3, upload: 1.6 };

const runs = Number.parseInt(process.env.BENCH_STARTUP_RUNS ?? '30', 10);
if (!Number.isInteger(runs) || runs < 1) fail('BENCH_STARTUP_RUNS must be a positive integer');

let sandbox;
let home;
function cleanUp() {
  if (sandbox && sandbox.exitCode === null && sandbox.signalCode === null) sandbox.kill('SIGKILL');
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
}
process.on('exit', cleanUp);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}: stopping\n`);
    process.exit(code);
  });
}

function fail(message, details = '') {
  console.error(`bench: ${message}${details ? `\n${details.trim()}` : ''}`);
  process.exit(1);
}

/** Newest modification time of the files under `dir`, in ms. */
function newest(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((max, entry) => Math.max(max, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs), 0);
}

/** The single executable, built when it is missing or older than src/; undefined (with the reason) if it cannot be. */
function singleExecutable() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { why: `no single executable for ${process.platform}/${process.arch}` };
  if (existsSync(EXE) && statSync(EXE).mtimeMs >= newest(join(ROOT, 'src'))) return { path: EXE };
  console.log(`  ${existsSync(EXE) ? 'release/linkface-linux-x64 is older than src/' : 'release/linkface-linux-x64 is missing'}: building it (npm run build:exe)…`);
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-exe.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) return { why: `npm run build:exe failed: ${(built.stderr || built.stdout).trim().split('\n').at(-1)}` };
  return { path: EXE };
}

/** `linkface sandbox --port 0 --latency 0` in its own process; its URL is the first line of its stdout. */
function startSandbox(env) {
  return new Promise((resolve, reject) => {
    sandbox = spawn(process.execPath, [CLI, 'sandbox', '--port', '0', '--latency', String(SANDBOX_LATENCY_MS)], {
      cwd: home,
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    const timer = setTimeout(() => reject(new Error('the sandbox did not print its URL within 15 s')), 15_000);
    sandbox.on('exit', (code) => reject(new Error(`the sandbox exited early (${code})`)));
    sandbox.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      const url = stdout.slice(0, stdout.indexOf('\n')).trim();
      if (/^http:\/\/[^/]+$/.test(url)) resolve(url);
      else reject(new Error(`the sandbox printed '${url}' instead of its URL`));
    });
  });
}

/** One run: wall time in ms around a synchronous spawn; the output checked, so a failing command cannot look fast. */
function timeOnce(command, env) {
  const started = performance.now();
  const run = spawnSync(command.file, command.args, { cwd: home, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (run.status !== 0 || !command.check(run.stdout)) {
    fail(`${command.name}: exit ${run.status ?? run.signal}, stdout ${JSON.stringify(run.stdout.slice(0, 200))}`, run.stderr);
  }
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'linkface.cjs'))) fail('dist/ is missing: run `npm ci` (or `npm run build`) first');
  if (newest(join(ROOT, 'src')) > newest(join(ROOT, 'dist'))) console.log('warning: src/ has changes newer than dist/; run `npm run build` to benchmark them.');

  home = mkdtempSync(join(tmpdir(), 'linkface-startup-'));
  // No rc file, LINKFACE_* variable or proxy of the user's; NODE_EXTRA_CA_CERTS stays, for every command alike.
  const env = { ...process.env, HOME: home, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (/^(LINKFACE_|XDG_CONFIG_HOME$)/.test(name) || /^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  }

  console.log(`linkface start-up benchmark: node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs, ${runs} runs each`);
  console.log(`  NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS ? 'is set (for every command, the baseline included)' : 'is not set'}`);
  const exe = singleExecutable();
  if (!exe.path) console.log(`  single executable rows skipped: ${exe.why}`);

  const url = await startSandbox(env).catch((error) => fail(error.message));
  const uploadEnv = { ...env, LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' };
  console.log(`  sandbox: ${url}, latency ${SANDBOX_LATENCY_MS} ms, a separate process; upload of ${FILE.slice(ROOT.length)} (${statSync(FILE).size} bytes)`);

  const isVersion = (stdout) => stdout === `${VERSION}\n`;
  const isHelp = (stdout) => stdout.startsWith('Usage: linkface');
  const isId = (stdout) => /^[0-9a-f]{32}\n$/.test(stdout);
  const commands = [{ name: 'node -e 0', file: process.execPath, args: ['-e', '0'], check: () => true, env }];
  const variants = [['npm bin', process.execPath, [CLI]]];
  if (exe.path) variants.push(['executable', exe.path, []]);
  for (const [label, file, prefix] of variants) {
    commands.push(
      { name: `${label}: linkface --version`, file, args: [...prefix, '--version'], check: isVersion, env, target: 'version' },
      { name: `${label}: linkface --help`, file, args: [...prefix, '--help'], check: isHelp, env },
      { name: `${label}: linkface upload (1 file)`, file, args: [...prefix, 'upload', FILE], check: isId, env: uploadEnv, target: 'upload' },
    );
  }

  // One warm-up round (disk cache, the sandbox's first connection), not counted.
  for (const command of commands) timeOnce(command, command.env);
  const times = commands.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      const index = (k + round) % commands.length;
      times[index].push(timeOnce(commands[index], commands[index].env));
    }
  }

  const baseline = median(times[0]);
  const rows = commands.map((command, i) => {
    const ms = median(times[i]);
    const ratio = ms / baseline;
    let target = '';
    let verdict = '';
    if (command.target === 'version') {
      target = `<= ${TARGETS.version}x`;
      verdict = ratio <= TARGETS.version ? 'PASS' : 'FAIL';
    } else if (command.target === 'upload') {
      const limit = TARGETS.upload + SANDBOX_LATENCY_MS / baseline;
      target = `<= ${TARGETS.upload}x + ${SANDBOX_LATENCY_MS} ms`;
      verdict = ratio <= limit ? 'PASS' : 'FAIL';
    }
    return [command.name, ms.toFixed(1), `${ratio.toFixed(2)}x`, target, verdict];
  });
  const header = ['command', 'median ms', 'vs node -e 0', 'target', ''];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const format = (row) => row.map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  console.log('');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(format(row));
  console.log('\n(absolute times depend on the machine; the ratios are the figures to compare)');

  const stopped = new Promise((resolve) => sandbox.once('exit', resolve));
  sandbox.kill('SIGTERM');
  await stopped;
}

await main();
