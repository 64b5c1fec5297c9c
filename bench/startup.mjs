#!/usr/bin/env node
/**
 * Start-up benchmark (`npm run bench` runs it after bench/batch.mjs; `node bench/startup.mjs` alone).
 *
 * What a user feels for a short command is mostly process start-up, so each figure is a ratio to `node -e 0` of
 * the same Node.js, measured in the same round: every command of every runtime runs once per round, the order
 * rotating from round to round, so drift in the machine's speed hits every command alike. Each row gives the
 * median of the per-round ratios and their spread (25th–75th percentile). Absolute times mean little: this
 * machine sets NODE_EXTRA_CA_CERTS, which Node 20 reads at every start (some 40 ms) and Node 22+ only when TLS
 * needs it; it stays set for every command, baselines included.
 *
 * Runtimes: the `node` running this script (Node 20 in this project) and Node 26, the official binary that
 * scripts/node-runtimes.mjs keeps (fetched from the npm registry the first time). For each:
 *   node -e 0                          the baseline
 *   linkface --version / --help        the npm command (node bin/linkface.js → dist/cli/linkface.cjs)
 *   linkface upload <one file>         to `linkface sandbox --latency 0`, a separate process
 *   node bench/one-upload.cjs …       the same upload by a minimal script, with node:http and with undici's index:
 *                                      what the HTTP client alone costs, the floor under linkface's figure; and
 *                                      with the parts of undici linkface loads, bundled by esbuild into this run's
 *                                      temporary folder and run with Node's compile cache, as linkface is: the
 *                                      least any client built on undici can take
 * and the single executable, release/linkface-linux-x64, when it has been built (`npm run build:exe`; this script
 * does not build it), against `node -e 0` of the Node.js built into it.
 *
 * Node's compile cache (Node 22.1+, bin/linkface.js) goes to the temporary HOME of this run; the warm-up round,
 * not counted, writes it, as a user's first run does.
 *
 * Targets: Node 26 (and the executable): `--version` <= 1.3x, a one-file upload <= 1.6x; Node 20: `--version`
 * <= 1.5x. Environment: BENCH_STARTUP_RUNS (rounds, default 30).
 *
 * Exit code: 0 when every run worked, even if a target is missed (this is a measurement, not a test); 1 when a
 * run failed or printed the wrong thing; 130/143 when interrupted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { pinnedNode } from '../scripts/node-runtimes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'linkface.js');
const BUNDLE = join(ROOT, 'dist', 'cli', 'linkface.cjs');
const EXE = join(ROOT, 'release', 'linkface-linux-x64');
const FILE = join(ROOT, 'fixtures', 'liveness', 'alice.bin');
const REFERENCE = join(ROOT, 'bench', 'one-upload.cjs');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const SANDBOX_LATENCY_MS = 0;
/** By Node.js major version: the most a command may take, as a multiple of `node -e 0`. */
const TARGETS = { 20: { version: 1.5 }, 26: { version: 1.3, upload: 1.6 } };
/** The 1-minute load average above which the figures are not worth much on a small machine. */
const BUSY = 0.7;

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

/** A runtime: its binary, version and major, from the binary itself. */
function runtime(path) {
  const version = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  return { path, version, major: Number.parseInt(version, 10), label: `Node ${version}` };
}

/** The Node.js version built into a single executable, read from the release URL Node keeps in its binary. */
function embeddedNodeVersion(path) {
  const bytes = readFileSync(path);
  const prefix = Buffer.from('/download/release/v');
  for (let at = bytes.indexOf(prefix); at !== -1; at = bytes.indexOf(prefix, at + 1)) {
    const match = /^\/download\/release\/v(\d+\.\d+\.\d+)\/node-v\1-headers\.tar\.gz/.exec(bytes.toString('latin1', at, at + 80));
    if (match) return match[1];
  }
  return undefined;
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
function timeOnce(command) {
  const started = performance.now();
  const run = spawnSync(command.file, command.args, { cwd: home, env: command.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (run.status !== 0 || !command.check(run.stdout)) {
    fail(`${command.name}: exit ${run.status ?? run.signal}, stdout ${JSON.stringify(run.stdout.slice(0, 200))}`, run.stderr);
  }
  return ms;
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
}

function load() {
  return loadavg()[0].toFixed(2);
}

async function main() {
  if (!existsSync(BUNDLE)) fail('dist/ is missing: run `npm ci` (or `npm run build`) first');
  if (newest(join(ROOT, 'src')) > newest(join(ROOT, 'dist'))) console.log('warning: src/ has changes newer than dist/; run `npm run build` to benchmark them.');

  home = mkdtempSync(join(tmpdir(), 'linkface-startup-'));
  // No rc file, LINKFACE_* variable, proxy or compile-cache setting of the user's; NODE_EXTRA_CA_CERTS stays.
  const env = { ...process.env, HOME: home, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (/^(LINKFACE_|XDG_CACHE_HOME$|XDG_CONFIG_HOME$|NODE_COMPILE_CACHE$|NODE_DISABLE_COMPILE_CACHE$)/.test(name) || /^(https?|all|no)_proxy$/i.test(name)) {
      delete env[name];
    }
  }

  const runtimes = [runtime(process.execPath)];
  const notes = [];
  if (runtimes[0].major !== 26) {
    const node26 = await pinnedNode(26);
    if (node26.path) runtimes.push(runtime(node26.path));
    else notes.push(`Node 26 rows skipped: ${node26.why}`);
  }
  let exe;
  if (!existsSync(EXE)) {
    notes.push('single executable: not built (npm run build:exe makes release/linkface-linux-x64)');
  } else {
    const version = embeddedNodeVersion(EXE);
    const major = Number.parseInt(version ?? '', 10);
    let base = runtimes.find((candidate) => candidate.major === major);
    if (!base && version) {
      const pinned = await pinnedNode(major);
      if (pinned.path) base = runtime(pinned.path);
      if (base) runtimes.push({ ...base, baselineOnly: true });
    }
    if (!base) notes.push(`single executable: skipped, no \`node -e 0\` of the Node.js built into it (${version ?? 'unknown'})`);
    else {
      exe = { path: EXE, base, version };
      if (statSync(EXE).mtimeMs < statSync(BUNDLE).mtimeMs) notes.push('warning: release/linkface-linux-x64 is older than dist/cli/linkface.cjs');
    }
  }

  console.log(`linkface start-up benchmark: ${process.platform}/${process.arch}, ${availableParallelism()} CPUs, ${runs} rounds`);
  console.log(`  NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS ? 'is set (for every command, the baselines included)' : 'is not set'}`);
  for (const note of notes) console.log(`  ${note}`);
  console.log(`  load average (1 min) ${load()} at the start${Number(load()) >= BUSY ? `: the machine is busy (>= ${BUSY}), the figures are noisier` : ''}`);

  const url = await startSandbox(env).catch((error) => fail(error.message));
  const uploadEnv = { ...env, LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' };
  console.log(`  sandbox: ${url}, latency ${SANDBOX_LATENCY_MS} ms, a separate process; upload of ${FILE.slice(ROOT.length)} (${statSync(FILE).size} bytes)`);

  // The reference with undici's parts, bundled the way linkface is (the rest of the options as in
  // scripts/bundle-options.mjs); Node's compile cache for it goes to this run's HOME, as linkface's does.
  const referenceBundle = join(home, 'one-upload.bundle.cjs');
  await build({ entryPoints: [REFERENCE], outfile: referenceBundle, bundle: true, platform: 'node', target: 'node20.18', format: 'cjs', minifyWhitespace: true, minifySyntax: true, logLevel: 'error' });
  const referenceEnv = { ...uploadEnv, NODE_COMPILE_CACHE: join(home, '.cache', 'reference-compile-cache') };

  const isVersion = (stdout) => stdout === `${VERSION}\n`;
  const isHelp = (stdout) => stdout.startsWith('Usage: linkface');
  const isId = (stdout) => /^[0-9a-f]{32}\n$/.test(stdout);
  const commands = [];
  const linkface = (group, base, file, prefix) => {
    commands.push(
      { group, base, name: 'linkface --version', file, args: [...prefix, '--version'], check: isVersion, env, target: 'version' },
      { group, base, name: 'linkface --help', file, args: [...prefix, '--help'], check: isHelp, env },
      { group, base, name: 'linkface upload (1 file)', file, args: [...prefix, 'upload', FILE], check: isId, env: uploadEnv, target: 'upload' },
    );
  };
  for (const node of runtimes) {
    commands.push({ group: node.label, base: node, name: 'node -e 0', file: node.path, args: ['-e', '0'], check: () => true, env, baseline: true });
    if (node.baselineOnly) continue;
    linkface(`npm, ${node.label}`, node, node.path, [CLI]);
    // What the same upload costs with nothing but the HTTP client (bench/one-upload.cjs): the floor under the target.
    for (const client of ['http', 'undici']) {
      const name = `reference: ${client === 'http' ? 'node:http' : "undici's index"}, 1 file`;
      commands.push({ group: `script, ${node.label}`, base: node, name, file: node.path, args: [REFERENCE, client, FILE], check: isId, env: uploadEnv });
    }
    const name = "reference: undici's parts, bundled";
    commands.push({ group: `script, ${node.label}`, base: node, name, file: node.path, args: [referenceBundle, 'undici-parts', FILE], check: isId, env: referenceEnv });
  }
  if (exe) linkface(`executable (Node ${exe.version})`, exe.base, exe.path, []);

  // One warm-up round (disk cache, compile cache, the sandbox's first connection), not counted.
  for (const command of commands) timeOnce(command);
  const times = commands.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      const index = (k + round) % commands.length;
      times[index].push(timeOnce(commands[index]));
    }
  }

  const rows = [];
  for (const [i, command] of commands.entries()) {
    if (command.baseline) continue;
    const baseline = times[commands.findIndex((other) => other.baseline && other.base === command.base)];
    const ratios = times[i].map((ms, round) => ms / baseline[round]);
    // Judged on the ratio as printed (two decimals).
    const ratio = Number(quantile(ratios, 0.5).toFixed(2));
    const limit = TARGETS[command.base.major]?.[command.target];
    rows.push([
      command.group,
      command.name,
      `${quantile(times[i], 0.5).toFixed(1)} / ${quantile(baseline, 0.5).toFixed(1)}`,
      `${ratio.toFixed(2)}x`,
      `${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)}`,
      limit ? `<= ${limit}x` : '',
      limit ? (ratio <= limit ? 'PASS' : 'FAIL') : '',
    ]);
  }
  const header = ['runs as', 'command', 'ms (median) / node -e 0', 'ratio', 'p25-p75', 'target', ''];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const format = (row) => row.map((cell, i) => (i === 2 || i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  console.log('');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(format(row));
  console.log(`\nratio: median over the rounds of (command / node -e 0 of the same Node.js, same round); load average ${load()} at the end`);

  const stopped = new Promise((resolve) => sandbox.once('exit', resolve));
  sandbox.kill('SIGTERM');
  await stopped;
}

await main();
