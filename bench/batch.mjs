#!/usr/bin/env node
/**
 * Batch benchmark of `linkface upload` against the sandbox (`npm run bench`; not part of `npm test`).
 *
 * It measures what a user of a batch feels: wall time, files per second, peak memory and CPU of the whole
 * `linkface` process (start-up and input checks included), next to the baselines a user would otherwise reach
 * for: the vendor's cURL sample in a sequential loop and the same command fanned out with `xargs -P16`.
 * Everything runs on 127.0.0.1 against `linkface sandbox --latency 50`, a separate process, so the numbers
 * are about the client, with a server that answers as slowly as a real one on a good network.
 *
 * Plain Node ESM on purpose: it runs the built CLI (`bin/linkface.js` → `dist/`) with no compile step.
 *
 * Environment:
 *   BENCH_FILES=1000        files in the main run
 *   BENCH_BIG_FILES=10000   files in the memory-scaling run
 *   BENCH_SKIP_BIG=1        skip the memory-scaling run
 *   BENCH_CURL_FILES=200    files in the sequential cURL loop (at 50 ms a file, 1,000 would take a minute)
 *
 * Exit code: 0 when every run worked, even if a target is missed (this is a measurement, not a test); 1 when a
 * run failed or gave wrong output (no number is reported for it); 130/143 when interrupted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'linkface.js');

/** Fixed by the targets: the ideal rate below is derived from them. */
const CONCURRENCY = 16;
const LATENCY_MS = 50;
const FILE_BYTES = 100 * 1024;
/** The best any client can do: every slot always busy, each request costing exactly the server's latency. */
const IDEAL_FILES_PER_S = CONCURRENCY / (LATENCY_MS / 1000);
const STARTUP_RUNS = 10;

const TARGETS = {
  idealShare: 0.9,
  vsCurlLoop: 10,
  vsXargs: 1.0,
  peakRssMb: 150,
  bigRssGrowth: 1.3,
};

const config = {
  files: positiveIntEnv('BENCH_FILES', 1000),
  bigFiles: positiveIntEnv('BENCH_BIG_FILES', 10_000),
  curlFiles: positiveIntEnv('BENCH_CURL_FILES', 200),
  skipBig: process.env.BENCH_SKIP_BIG === '1',
};
config.curlFiles = Math.min(config.curlFiles, config.files);

/** A run that failed or answered wrongly: the benchmark stops and reports no number for it. */
class BenchError extends Error {
  /** @param {string} message one line: what failed @param {string} [details] the failed command's own output */
  constructor(message, details = '') {
    super(message);
    this.details = details.trim();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Child processes and cleanup
// ---------------------------------------------------------------------------------------------------------

/**
 * Every child runs in its own process group (detached), so one kill reaches a whole tree (bash → curl,
 * xargs → 16 curls, wrapper → node) and a Ctrl-C in the terminal reaches only this script, which then
 * stops them itself. Measured runs are tracked here until they exit; they are disposable, so they get SIGKILL.
 */
const measuredGroups = new Set();
/** The sandbox child while it runs; it gets SIGTERM, as a user would stop it, and SIGKILL if it lingers. */
let sandboxChild;
let tempRoot;

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Synchronous, so it can run from 'exit' too; safe to call more than once. */
function cleanUp() {
  for (const pid of measuredGroups) killGroup(pid, 'SIGKILL');
  measuredGroups.clear();
  if (sandboxChild && sandboxChild.exitCode === null && sandboxChild.signalCode === null) killGroup(sandboxChild.pid, 'SIGTERM');
  if (tempRoot) {
    rmSync(tempRoot, { recursive: true, force: true });
    tempRoot = undefined;
  }
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.once(signal, async () => {
    process.stderr.write(`\nbench: ${signal}: stopping the runs and the sandbox, removing temporary files\n`);
    cleanUp();
    if (sandboxChild) await stopSandbox(sandboxChild);
    process.exit(code);
  });
}
process.on('exit', cleanUp);

/** Keeps the last `limit` characters of a stream, for error messages without unbounded memory. */
function tail(stream, limit = 4000) {
  const box = { text: '' };
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk) => {
    box.text = (box.text + chunk).slice(-limit);
  });
  return box;
}

/**
 * Wall time, peak RSS and CPU time are taken by a tiny python3 wrapper rather than /usr/bin/time, which CI
 * images and macOS often lack or spell differently. After its child exits, getrusage(RUSAGE_CHILDREN) covers
 * that child and every descendant it waited for: user+sys CPU summed, ru_maxrss the largest single process
 * (for a bash or xargs run, the biggest of bash/xargs/curl). The wall clock runs inside the wrapper, so
 * python's own start-up is not counted. The figures go back on fd 3, leaving stdout/stderr to the command.
 */
const WRAPPER = `
import json, os, resource, subprocess, sys, time
start = time.monotonic()
try:
    code = subprocess.call(sys.argv[1:])
except OSError as error:
    sys.stderr.write('bench wrapper: cannot run %s: %s\\n' % (sys.argv[1], error))
    sys.exit(127)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
kib = usage.ru_maxrss / 1024 if sys.platform == 'darwin' else usage.ru_maxrss  # bytes on macOS, KiB elsewhere
os.write(3, json.dumps({'wall': wall, 'maxrss_kib': kib, 'cpu': usage.ru_utime + usage.ru_stime}).encode())
sys.exit(code if code >= 0 else 128 - code)
`;

const hasPython = spawnSync('python3', ['-c', 'import resource, subprocess'], { stdio: 'ignore' }).status === 0;

/**
 * Runs one command to completion and measures it. Without python3, wall time is measured from here (it then
 * includes process spawn) and memory/CPU are reported as n/a.
 * @returns {Promise<{code: number, stdout: string, stderr: string, wallS: number, rssMb: number|null, cpuS: number|null}>}
 */
function measure(command, args, { cwd, env, stdinPath } = {}) {
  return new Promise((resolve, reject) => {
    const stdinFd = stdinPath ? openSync(stdinPath, 'r') : 'ignore';
    const started = performance.now();
    const child = hasPython
      ? spawn('python3', ['-c', WRAPPER, command, ...args], { cwd, env, detached: true, stdio: [stdinFd, 'pipe', 'pipe', 'pipe'] })
      : spawn(command, args, { cwd, env, detached: true, stdio: [stdinFd, 'pipe', 'pipe'] });
    if (typeof stdinFd === 'number') closeSync(stdinFd);
    measuredGroups.add(child.pid);
    const stdout = [];
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    const stderr = tail(child.stderr);
    const usage = [];
    child.stdio[3]?.on('data', (chunk) => usage.push(chunk));
    child.on('error', (error) => {
      measuredGroups.delete(child.pid);
      reject(new BenchError(`cannot start ${hasPython ? 'python3' : command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      measuredGroups.delete(child.pid);
      const wallS = (performance.now() - started) / 1000;
      const result = { code: code ?? 128, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.text };
      if (!hasPython) return resolve({ ...result, wallS, rssMb: null, cpuS: null });
      const text = Buffer.concat(usage).toString('utf8');
      if (!text) return reject(new BenchError(`the measuring wrapper reported nothing (exit ${code ?? signal})`, stderr.text));
      const figures = JSON.parse(text);
      resolve({ ...result, wallS: figures.wall, rssMb: figures.maxrss_kib / 1024, cpuS: figures.cpu });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Setup: build check, environment, test files, sandbox
// ---------------------------------------------------------------------------------------------------------

function checkBuild() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'linkface.cjs'))) {
    throw new BenchError('dist/ is missing: the benchmark runs the built CLI. Run `npm ci` (or `npm run build`) first.');
  }
  // A stale build would benchmark old code without saying so.
  const newest = (dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .reduce((max, entry) => Math.max(max, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs), 0);
  if (existsSync(join(ROOT, 'src')) && newest(join(ROOT, 'src')) > newest(join(ROOT, 'dist'))) {
    console.log('warning: src/ has changes newer than dist/; run `npm run build` to benchmark them.');
  }
  for (const [tool, args] of [['curl', ['--version']], ['xargs', ['--version']], ['bash', ['--version']]]) {
    const probe = spawnSync(tool, args, { stdio: 'ignore' });
    if (probe.error) throw new BenchError(`${tool} is needed for the baselines but was not found on PATH.`);
  }
}

/**
 * The children's environment: HOME points at the temporary folder (which also holds the data), so no rc file
 * of the user's (~/.linkfacerc, ~/.curlrc) or LINKFACE_* variable changes what is measured, and no proxy
 * variable routes loopback traffic elsewhere.
 */
function baseEnv(home) {
  const env = { ...process.env, HOME: home, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (/^(LINKFACE_|XDG_CONFIG_HOME$|CURL_HOME$)/.test(name) || /^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  }
  return env;
}

/**
 * `count` files of 100 KB of random bytes: every file differs, so the tool's same-content deduplication
 * never skips one, and nothing along the way can compress them.
 */
function makeFiles(dir, count) {
  mkdirSync(dir, { recursive: true });
  const width = String(count).length;
  const buffer = Buffer.allocUnsafe(FILE_BYTES);
  const names = [];
  for (let i = 1; i <= count; i++) {
    const name = `liveness-${String(i).padStart(width, '0')}.bin`;
    writeFileSync(join(dir, name), randomFillSync(buffer));
    names.push(name);
  }
  return names;
}

/** Starts `linkface sandbox` and reads its URL, alone on the first line of its stdout. */
function startSandbox(env, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'sandbox', '--port', '0', '--latency', String(LATENCY_MS)], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sandboxChild = child;
    // It logs one stderr line per request; reading it keeps the pipe from filling and gives context on failure.
    const stderr = tail(child.stderr);
    let stdout = '';
    const fail = (why) => {
      clearTimeout(timer);
      killGroup(child.pid, 'SIGKILL');
      reject(new BenchError(`the sandbox ${why}`, stderr.text));
    };
    const timer = setTimeout(() => fail('did not print its URL within 15 s'), 15_000);
    child.on('error', (error) => fail(`could not start: ${error.message}`));
    child.on('exit', (code, signal) => fail(`exited early (${code ?? signal})`));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const url = stdout.slice(0, newline).trim();
      if (!/^http:\/\/[^/]+$/.test(url)) return fail(`printed '${url}' instead of its URL`);
      resolve({ url, child });
    });
  });
}

/** SIGTERM, as a user would; SIGKILL if it has not stopped within 5 s. Safe to call twice. */
async function stopSandbox(child) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  if (sandboxChild === child) sandboxChild = undefined;
}

// ---------------------------------------------------------------------------------------------------------
// The runs
// ---------------------------------------------------------------------------------------------------------

/** Fails loudly unless linkface exited 0 and printed exactly one `<id>\t<input>` line per file, each file once. */
function checkLinkfaceOutput(name, run, names) {
  if (run.code !== 0) throw new BenchError(`${name}: linkface exited ${run.code}`, run.stderr);
  const lines = run.stdout.split('\n').filter((line) => line !== '');
  if (lines.length !== names.length) {
    throw new BenchError(`${name}: expected ${names.length} output lines, got ${lines.length}`, run.stderr);
  }
  const expected = new Set(names);
  for (const line of lines) {
    const match = /^([^\t\s]+)\t(.+)$/.exec(line);
    if (!match) throw new BenchError(`${name}: output line is not '<id>\\t<input>': ${JSON.stringify(line)}`);
    if (!expected.delete(basename(match[2]))) throw new BenchError(`${name}: unexpected or repeated input in output: ${match[2]}`);
  }
}

/** The sandbox answers `"status":"OK"` per stored upload: a run of error answers must not look fast. */
function checkCurlOutput(name, run, count) {
  const ok = run.stdout.split('"status":"OK"').length - 1;
  if (run.code !== 0 || ok !== count) {
    throw new BenchError(`${name}: exit ${run.code}, ${ok} of ${count} answers OK`, `first output: ${run.stdout.slice(0, 300)}\n${run.stderr}`);
  }
}

/**
 * Until the tool walks directories itself (SPEC "Inputs"), the files are passed as arguments. A two-file
 * directory tells which: exit 0 with two lines means directories work; exit 2 (an input error) means not yet.
 */
async function probeDirectorySupport(workDir, env) {
  const dir = join(workDir, 'probe');
  const names = makeFiles(dir, 2);
  const run = await measure(process.execPath, [CLI, 'upload', '-c', '2', '--quiet', dir], { cwd: workDir, env });
  if (run.code === 0) {
    checkLinkfaceOutput('directory probe', run, names);
    return { supported: true };
  }
  if (run.code === 2) return { supported: false, why: run.stderr.trim().split('\n').slice(0, 2).join(' / ').replaceAll(workDir, '<tmp>') };
  throw new BenchError(`directory probe: linkface exited ${run.code}`, run.stderr);
}

async function runLinkface(name, dir, names, env, directories) {
  // In argument mode the names are relative to the data folder, keeping argv small for 10,000 files.
  const inputs = directories ? [dir] : names;
  const run = await measure(process.execPath, [CLI, 'upload', '-c', String(CONCURRENCY), '--quiet', ...inputs], { cwd: dir, env });
  checkLinkfaceOutput(name, run, names);
  return row(name, names.length, run);
}

/** The vendor's published cURL sample, one file after another, as one measured bash process. */
async function runCurlLoop(dir, names, uploadUrl, env) {
  const script = 'url=$1; shift; for f in "$@"; do curl -s -X POST "$url" -F "file=@$f"; done';
  const run = await measure('bash', ['-c', script, 'bench-curl-loop', uploadUrl, ...names], { cwd: dir, env });
  checkCurlOutput('curl loop', run, names.length);
  return row(`curl loop (first ${names.length})`, names.length, run);
}

/** The same cURL command, 16 at a time: what a shell user gets for free. NUL-separated names read from a file. */
async function runXargs(workDir, dir, names, uploadUrl, env) {
  const list = join(workDir, 'xargs-list');
  writeFileSync(list, names.map((name) => `${name}\0`).join(''));
  const args = ['-0', `-P${CONCURRENCY}`, '-I{}', 'curl', '-s', '-X', 'POST', uploadUrl, '-F', 'file=@{}'];
  const run = await measure('xargs', args, { cwd: dir, env, stdinPath: list });
  checkCurlOutput(`xargs -P${CONCURRENCY}`, run, names.length);
  return row(`xargs -P${CONCURRENCY} curl`, names.length, run);
}

/** Median wall time of a short command run `runs` times (each run checked to exit 0). */
async function medianStartup(name, command, args, env, cwd) {
  const runs = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const run = await measure(command, args, { env, cwd });
    if (run.code !== 0) throw new BenchError(`${name}: exited ${run.code}`, run.stderr);
    runs.push(run);
  }
  runs.sort((a, b) => a.wallS - b.wallS);
  const median = runs[Math.floor(runs.length / 2)];
  return { ...row(name, 0, median), stdout: median.stdout.trim() };
}

function row(name, files, run) {
  return { name, files, wallS: run.wallS, filesPerS: files ? files / run.wallS : null, rssMb: run.rssMb, cpuS: run.cpuS };
}

// ---------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------

const fixed = (value, digits) => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));

function printTable(rows) {
  const columns = [
    ['name', (r) => r.name, 'left'],
    ['files', (r) => (r.files ? String(r.files) : '-'), 'right'],
    ['wall s', (r) => fixed(r.wallS, 3), 'right'],
    ['files/s', (r) => (r.filesPerS === null ? '-' : fixed(r.filesPerS, 1)), 'right'],
    ['peak RSS MB', (r) => fixed(r.rssMb, 1), 'right'],
    ['CPU s', (r) => fixed(r.cpuS, 2), 'right'],
  ];
  const cells = rows.map((r) => columns.map(([, get]) => get(r)));
  const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((line) => line[i].length)));
  const format = (line) => line.map((cell, i) => (columns[i][2] === 'left' ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(format(columns.map(([title]) => title)));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of cells) console.log(format(line));
}

function ratio(a, b) {
  return a === null || b === null || a === undefined || b === undefined || b === 0 ? null : a / b;
}

/** One line per target: PASS, FAIL, or SKIP when the figure was not measured. */
function verdicts(results) {
  const { linkface, curlLoop, xargs, big } = results;
  const ratios = {
    ofIdeal: ratio(linkface.filesPerS, IDEAL_FILES_PER_S),
    vsCurlLoop: ratio(linkface.filesPerS, curlLoop.filesPerS),
    vsXargs: ratio(linkface.filesPerS, xargs.filesPerS),
    bigRssGrowth: big ? ratio(big.rssMb, linkface.rssMb) : null,
  };
  const peakRss = big && big.rssMb !== null ? Math.max(linkface.rssMb, big.rssMb) : linkface.rssMb;
  const checks = [
    [`throughput >= ${TARGETS.idealShare * 100}% of ideal (${IDEAL_FILES_PER_S} files/s)`, ratios.ofIdeal, (v) => v >= TARGETS.idealShare, (v) => `${(v * 100).toFixed(1)}%`],
    [`throughput >= ${TARGETS.vsCurlLoop}x the curl loop`, ratios.vsCurlLoop, (v) => v >= TARGETS.vsCurlLoop, (v) => `${v.toFixed(2)}x`],
    [`throughput >= ${TARGETS.vsXargs.toFixed(1)}x xargs -P${CONCURRENCY}`, ratios.vsXargs, (v) => v >= TARGETS.vsXargs, (v) => `${v.toFixed(2)}x`],
    [`peak RSS < ${TARGETS.peakRssMb} MB${big ? ` (largest of the ${linkface.files} and ${big.files} runs)` : ''}`, peakRss, (v) => v < TARGETS.peakRssMb, (v) => `${v.toFixed(1)} MB`],
    [`${big?.files ?? config.bigFiles}-file peak RSS <= ${TARGETS.bigRssGrowth}x the ${linkface.files}-file peak`, ratios.bigRssGrowth, (v) => v <= TARGETS.bigRssGrowth, (v) => `${v.toFixed(2)}x`],
  ];
  const lines = checks.map(([label, value, pass, show]) => {
    const verdict = value === null || value === undefined ? 'SKIP' : pass(value) ? 'PASS' : 'FAIL';
    return { label, verdict, shown: verdict === 'SKIP' ? 'not measured' : show(value) };
  });
  return { ratios, peakRss, lines };
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function main() {
  checkBuild();
  tempRoot = mkdtempSync(join(tmpdir(), 'linkface-bench-'));
  const home = tempRoot;
  const env = baseEnv(home);

  console.log(`linkface batch benchmark: node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs`);
  console.log(
    `  ${config.files} files (main), ${config.skipBig ? 'big run skipped' : `${config.bigFiles} files (memory scaling)`}, ` +
      `${config.curlFiles} files (curl loop), ${FILE_BYTES / 1024} KB each; sandbox latency ${LATENCY_MS} ms; concurrency ${CONCURRENCY}`,
  );
  console.log(
    hasPython
      ? '  measured by a python3 getrusage(RUSAGE_CHILDREN) wrapper: wall clock, peak RSS of the largest process, user+sys CPU of the tree'
      : '  python3 not found: wall time measured from Node (spawn included); peak RSS and CPU not available',
  );

  let started = performance.now();
  const smallDir = join(home, 'small');
  const names = makeFiles(smallDir, config.files);
  console.log(`  created ${config.files} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const sandbox = await startSandbox(env, home);
  try {
    const uploadUrl = `${sandbox.url}/resources/upload_liveness_data`;
    console.log(`  sandbox: ${sandbox.url} (pid ${sandbox.child.pid})`);
    const linkfaceEnv = { ...env, LINKFACE_ENDPOINT: sandbox.url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' };
    // The vendor's sample puts the credentials in the query string; kept exactly as published.
    const curlUrl = `${uploadUrl}?api_id=sandbox&api_secret=sandbox`;

    const nodeStartup = await medianStartup('node -e 0', process.execPath, ['-e', '0'], env, home);
    const cliStartup = await medianStartup('linkface --version', process.execPath, [CLI, '--version'], env, home);

    const directories = await probeDirectorySupport(home, linkfaceEnv);
    console.log(
      directories.supported
        ? '  inputs: the data directory is passed as one argument (the tool walks it)'
        : `  inputs: directories not supported yet (${directories.why}); passing the file names as arguments instead`,
    );

    console.log('\nrunning…');
    const linkface = await runLinkface(`linkface -c ${CONCURRENCY}`, smallDir, names, linkfaceEnv, directories.supported);
    console.log(`  ${linkface.name}: ${linkface.wallS.toFixed(2)} s`);
    const curlLoop = await runCurlLoop(smallDir, names.slice(0, config.curlFiles), curlUrl, env);
    console.log(`  ${curlLoop.name}: ${curlLoop.wallS.toFixed(2)} s`);
    const xargs = await runXargs(home, smallDir, names, curlUrl, env);
    console.log(`  ${xargs.name}: ${xargs.wallS.toFixed(2)} s`);

    let big;
    if (!config.skipBig) {
      const bigDir = join(home, 'big');
      started = performance.now();
      const bigNames = makeFiles(bigDir, config.bigFiles);
      console.log(`  created ${config.bigFiles} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      big = await runLinkface(`linkface -c ${CONCURRENCY} (big)`, bigDir, bigNames, linkfaceEnv, directories.supported);
      console.log(`  ${big.name}: ${big.wallS.toFixed(2)} s`);
      rmSync(bigDir, { recursive: true, force: true });
    }

    report({ linkface, curlLoop, xargs, big, nodeStartup, cliStartup, directories });
  } finally {
    await stopSandbox(sandbox.child);
  }
}

function report({ linkface, curlLoop, xargs, big, nodeStartup, cliStartup, directories }) {
  console.log('');
  printTable([linkface, curlLoop, xargs, ...(big ? [big] : []), nodeStartup, cliStartup]);
  console.log(
    `\nfiles/s = files ÷ wall time of the whole process (start-up, input checks and uploads). ` +
      `The curl loop ran over the first ${curlLoop.files} files only (at ${LATENCY_MS} ms a file the full set takes minutes); ` +
      `its rate stands for all. Start-up rows are the median of ${STARTUP_RUNS} runs (linkface ${cliStartup.stdout}).`,
  );
  const { ratios, peakRss, lines } = verdicts({ linkface, curlLoop, xargs, big });
  const x = (v, digits = 2) => (v === null ? 'n/a' : `${v.toFixed(digits)}x`);
  console.log('\nratios');
  console.log(`  linkface ÷ ideal (${CONCURRENCY} ÷ ${LATENCY_MS / 1000} s = ${IDEAL_FILES_PER_S} files/s): ${x(ratios.ofIdeal, 3)}`);
  console.log(`  linkface ÷ curl loop:     ${x(ratios.vsCurlLoop)}`);
  console.log(`  linkface ÷ xargs -P${CONCURRENCY}:    ${x(ratios.vsXargs)}`);
  console.log(`  peak RSS ${big ? big.files : config.bigFiles} ÷ ${linkface.files}:    ${big ? x(ratios.bigRssGrowth) : 'n/a (BENCH_SKIP_BIG=1)'}`);
  console.log('\ntargets');
  for (const line of lines) console.log(`  ${line.verdict}  ${line.label}: ${line.shown}`);

  const round = (v, digits = 3) => (v === null || v === undefined ? null : Number(v.toFixed(digits)));
  const json = (r) => r && { files: r.files, wall_s: round(r.wallS), files_per_s: round(r.filesPerS, 1), peak_rss_mb: round(r.rssMb, 1), cpu_s: round(r.cpuS) };
  const summary = {
    bench: 'linkface-batch',
    node: process.version,
    cpus: availableParallelism(),
    concurrency: CONCURRENCY,
    latency_ms: LATENCY_MS,
    file_bytes: FILE_BYTES,
    inputs: directories.supported ? 'directory' : 'arguments',
    ideal_files_per_s: IDEAL_FILES_PER_S,
    runs: {
      linkface: json(linkface),
      curl_loop: json(curlLoop),
      xargs: json(xargs),
      linkface_big: json(big) ?? null,
      node_startup_s: round(nodeStartup.wallS),
      linkface_version_s: round(cliStartup.wallS),
    },
    ratios: {
      of_ideal: round(ratios.ofIdeal),
      vs_curl_loop: round(ratios.vsCurlLoop),
      vs_xargs: round(ratios.vsXargs),
      big_rss_growth: round(ratios.bigRssGrowth),
    },
    peak_rss_mb: round(peakRss, 1),
    targets: Object.fromEntries(lines.map((line, i) => [['of_ideal', 'vs_curl_loop', 'vs_xargs', 'peak_rss', 'big_rss_growth'][i], line.verdict])),
  };
  console.log('');
  console.log(JSON.stringify(summary));
}

function positiveIntEnv(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench: ${name} must be a whole number above 0, got '${text}'`);
    process.exit(1);
  }
  return value;
}

try {
  await main();
} catch (error) {
  if (error instanceof BenchError) {
    // The failed command's own words first (its last lines), then the verdict last, where it is seen.
    if (error.details) console.error(`\n--- last output of the failed run ---\n${error.details.split('\n').slice(-20).join('\n')}\n---`);
    console.error(`\nbench: FAILED: ${error.message}; no figures reported.`);
  } else {
    console.error(`\nbench: FAILED: ${error?.stack ?? error}`);
  }
  process.exitCode = 1;
} finally {
  cleanUp();
}
