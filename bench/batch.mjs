#!/usr/bin/env node
/**
 * Batch benchmark of `linkface upload` against the sandbox (`npm run bench`; not part of `npm test`).
 *
 * It measures what a user of a batch feels: wall time, files per second, peak memory and CPU of the whole
 * `linkface` process, from spawn to exit (start-up and input checks included), and sets it beside:
 *   - a minimal reference client run in the same benchmark against the same sandbox: Node's own `node:http`
 *     with a keep-alive Agent, every file read into memory beforehand, multipart bodies written by hand, the same
 *     concurrency, timed from its first request to its last answer (the upload phase only). Its rate is what
 *     the network and the server allow on this machine; linkface's is reported as a ratio to it;
 *   - the baselines a user would otherwise reach for: the vendor's cURL sample in a sequential loop and the same
 *     command fanned out with `xargs -P16`.
 * The throughput runs go to `linkface sandbox --latency 50`, a separate process on 127.0.0.1, so the numbers are
 * about the client, with a server that answers as slowly as a real one on a good network.
 *
 * Memory with the number of inputs: 10,000 and then 100,000 files of 64 bytes in 100 folders, uploaded to a
 * sandbox without latency; the peak RSS of the larger run is compared with the smaller's. (100 KB files at 50 ms
 * show memory against the size of the data; these show it against the count of inputs.)
 *
 * Plain Node ESM on purpose: it runs the built CLI (`bin/linkface.js` → `dist/`) with no compile step.
 *
 * Environment:
 *   BENCH_FILES=1000          100 KB files in the main run (linkface against the reference client)
 *   BENCH_REPEAT=3            pairs of runs (reference, then linkface) over those files; the median is reported
 *   BENCH_BIG_FILES=10000     100 KB files in the long run (one pair unless BENCH_BIG_REPEAT says more)
 *   BENCH_BIG_REPEAT=1
 *   BENCH_SKIP_BIG=1          skip the long run
 *   BENCH_CURL_FILES=200      files in the sequential cURL loop (at 50 ms a file, 1,000 would take a minute)
 *   BENCH_MANY_FILES=100000   64-byte files in the memory-with-inputs run, against BENCH_MANY_BASE=10000
 *   BENCH_SKIP_MANY=1         skip the memory-with-inputs runs
 *   BENCH_SKIP_NODE26=1       skip the second set of pairs over the BENCH_FILES files on Node 26
 *
 * Node.js: every run on the Node that runs this script; then, when that is not Node 26, the pairs over
 * BENCH_FILES files again on Node 26 (the active LTS, which users run: the official binary that
 * scripts/node-runtimes.mjs keeps, fetched from the npm registry the first time), both clients on it.
 *
 * Exit code: 0 when every run worked, even if a target is missed (this is a measurement, not a test); 1 when a
 * run failed or gave wrong output (no number is reported for it); 130/143 when interrupted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedNode } from '../scripts/node-runtimes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'linkface.js');
/** The Node.js that runs this script, and every measured run unless said otherwise. */
const NODE = { path: process.execPath, version: process.versions.node };

const CONCURRENCY = 16;
const LATENCY_MS = 50;
const FILE_BYTES = 100 * 1024;
/** The memory-with-inputs runs: small files, many of them, in this many folders. */
const SMALL_FILE_BYTES = 64;
const SMALL_FOLDERS = 100;

const TARGETS = {
  vsReference: 0.9,
  vsReferenceBig: 0.95,
  vsCurlLoop: 10,
  vsXargs: 1.0,
  peakRssMb: 150,
  bigRssGrowth: 1.3,
  manyRssGrowth: 1.3,
};

const config = {
  files: positiveIntEnv('BENCH_FILES', 1000),
  repeat: positiveIntEnv('BENCH_REPEAT', 3),
  bigFiles: positiveIntEnv('BENCH_BIG_FILES', 10_000),
  bigRepeat: positiveIntEnv('BENCH_BIG_REPEAT', 1),
  curlFiles: positiveIntEnv('BENCH_CURL_FILES', 200),
  manyFiles: positiveIntEnv('BENCH_MANY_FILES', 100_000),
  manyBase: positiveIntEnv('BENCH_MANY_BASE', 10_000),
  skipBig: process.env.BENCH_SKIP_BIG === '1',
  skipMany: process.env.BENCH_SKIP_MANY === '1',
  skipNode26: process.env.BENCH_SKIP_NODE26 === '1',
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
/** Sandbox children while they run; they get SIGTERM, as a user would stop one, and SIGKILL if they linger. */
const sandboxes = new Set();
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
  for (const child of sandboxes) if (child.exitCode === null && child.signalCode === null) killGroup(child.pid, 'SIGTERM');
  if (tempRoot) {
    rmSync(tempRoot, { recursive: true, force: true });
    tempRoot = undefined;
  }
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.once(signal, async () => {
    process.stderr.write(`\nbench: ${signal}: stopping the runs and the sandbox, removing temporary files\n`);
    cleanUp();
    await Promise.all([...sandboxes].map(stopSandbox));
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
 * python's own start-up is not counted (some 0.35 s on a small VM). The figures go back on fd 3, leaving
 * stdout/stderr to the command; `start` is the wrapper's clock (CLOCK_MONOTONIC, as process.hrtime's) when the
 * command was started, so that times of its output seen here can be told from the command's own start.
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
os.write(3, json.dumps({'start': start, 'wall': wall, 'maxrss_kib': kib, 'cpu': usage.ru_utime + usage.ru_stime}).encode())
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
    // When the first and the last output arrived (monotonic clock, s): for linkface, its first id and its last.
    let firstOut;
    let lastOut;
    child.stdout.on('data', (chunk) => {
      lastOut = Number(process.hrtime.bigint()) / 1e9;
      firstOut ??= lastOut;
      stdout.push(chunk);
    });
    const spawned = Number(process.hrtime.bigint()) / 1e9;
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
      const output = (start) => (firstOut === undefined ? {} : { firstOutS: firstOut - start, lastOutS: lastOut - start });
      const result = { code: code ?? 128, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.text };
      if (!hasPython) return resolve({ ...result, ...output(spawned), wallS, rssMb: null, cpuS: null });
      const text = Buffer.concat(usage).toString('utf8');
      if (!text) return reject(new BenchError(`the measuring wrapper reported nothing (exit ${code ?? signal})`, stderr.text));
      const figures = JSON.parse(text);
      resolve({ ...result, ...output(figures.start), wallS: figures.wall, rssMb: figures.maxrss_kib / 1024, cpuS: figures.cpu });
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
 * `count` files of 100 KB of random bytes in `dir`: every file differs, so the tool's same-content deduplication
 * never skips one, and nothing along the way can compress them. Returns their names, in order.
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

/**
 * `count` files of 64 random bytes (all different) spread over 100 folders of `dir`. Returns their paths
 * relative to `dir`, `/`-separated, as a walk of `dir` lists them.
 */
function makeSmallFiles(dir, count) {
  const names = [];
  const perFolder = Math.ceil(count / SMALL_FOLDERS);
  const width = String(perFolder).length;
  const bytes = randomBytes(count * SMALL_FILE_BYTES);
  for (let folder = 0; folder < SMALL_FOLDERS && names.length < count; folder++) {
    const sub = `d${String(folder).padStart(3, '0')}`;
    mkdirSync(join(dir, sub), { recursive: true });
    for (let i = 0; i < perFolder && names.length < count; i++) {
      const name = `${sub}/f${String(i).padStart(width, '0')}.bin`;
      const at = names.length * SMALL_FILE_BYTES;
      writeFileSync(join(dir, name), bytes.subarray(at, at + SMALL_FILE_BYTES));
      names.push(name);
    }
  }
  return names;
}

function timed(what, make) {
  const started = performance.now();
  const value = make();
  // Flushed to disk before any run: Linux writes new files back some 30 s after they were written, which would
  // put 100 MB (1 GB for the long run) of disk writes inside whichever pair runs then.
  if (process.platform !== 'win32') spawnSync('sync', { stdio: 'ignore' });
  console.log(`  created ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return value;
}

/** Starts `linkface sandbox` and reads its URL, alone on the first line of its stdout. */
function startSandbox(env, cwd, latencyMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'sandbox', '--port', '0', '--latency', String(latencyMs)], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sandboxes.add(child);
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
  sandboxes.delete(child);
}

/** Runs `body` with a sandbox answering `latencyMs` after each request arrives, and stops it after. */
async function withSandbox(env, cwd, latencyMs, body) {
  const sandbox = await startSandbox(env, cwd, latencyMs);
  try {
    return await body(sandbox.url);
  } finally {
    await stopSandbox(sandbox.child);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The reference client
// ---------------------------------------------------------------------------------------------------------

/**
 * The least a client must do, with nothing of linkface's: Node's `node:http` over a keep-alive Agent holding
 * one socket per upload in flight, every file read into memory before the clock starts, the multipart body
 * written by hand around each file, CONCURRENCY uploads in flight. The clock starts at the first request and
 * stops at the last answer. Every answer is read and must be the API's OK with an id, as linkface requires.
 * Prints {"files", "ok", "seconds"} on stdout. Arguments: upload URL, folder (its files, flat), concurrency.
 */
const REFERENCE_CLIENT = `
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const [uploadUrl, dir, concurrencyText] = process.argv.slice(1);
const concurrency = Number(concurrencyText);
const url = new URL(uploadUrl);
const files = readdirSync(dir).sort().map((name) => ({ name, data: readFileSync(join(dir, name)) }));
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const boundary = '----reference' + Date.now().toString(16);
const fields = ['api_id', 'api_secret']
  .map((name) => '--' + boundary + '\\r\\nContent-Disposition: form-data; name="' + name + '"\\r\\n\\r\\nsandbox\\r\\n')
  .join('');
const tail = Buffer.from('\\r\\n--' + boundary + '--\\r\\n');
const headers = { 'content-type': 'multipart/form-data; boundary=' + boundary };
function upload(file) {
  const head = Buffer.from(fields + '--' + boundary + '\\r\\nContent-Disposition: form-data; name="file"; filename="' + file.name +
    '"\\r\\nContent-Type: application/octet-stream\\r\\n\\r\\n');
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
        headers: { ...headers, 'content-length': head.length + file.data.length + tail.length } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            resolve(response.statusCode === 200 && answer.status === 'OK' && typeof answer.liveness_data_id === 'string');
          } catch {
            resolve(false);
          }
        });
      },
    );
    request.on('error', reject);
    request.write(head);
    request.write(file.data);
    request.end(tail);
  });
}
let next = 0;
let ok = 0;
const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < files.length) if (await upload(files[next++])) ok++;
}));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
process.stdout.write(JSON.stringify({ files: files.length, ok, seconds }));
`;

async function runReference(dir, count, uploadUrl, env, node = NODE) {
  const run = await measure(node.path, ['--input-type=module', '-e', REFERENCE_CLIENT, uploadUrl, dir, String(CONCURRENCY)], { cwd: dir, env });
  let figures;
  try {
    figures = JSON.parse(run.stdout);
  } catch {
    throw new BenchError(`reference client: exit ${run.code}, no figures`, run.stderr);
  }
  if (run.code !== 0 || figures.files !== count || figures.ok !== count) {
    throw new BenchError(`reference client: exit ${run.code}, ${figures.ok} of ${count} answers OK`, run.stderr);
  }
  // Wall time and rate: the upload phase only. Peak RSS and CPU: the whole process (reading the files included).
  const name = `reference client (node:http)${node === NODE ? '' : `, Node ${node.version}`}`;
  return { name, files: count, wallS: figures.seconds, filesPerS: count / figures.seconds, rssMb: run.rssMb, cpuS: run.cpuS };
}

// ---------------------------------------------------------------------------------------------------------
// The runs
// ---------------------------------------------------------------------------------------------------------

/**
 * Fails loudly unless linkface exited 0 and printed exactly one `<id>\t<input>` line per file, each file once.
 * `expected` are the inputs as linkface names them: `<folder>/<path in it>`.
 */
function checkLinkfaceOutput(name, run, expected) {
  if (run.code !== 0) throw new BenchError(`${name}: linkface exited ${run.code}`, run.stderr);
  const lines = run.stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== expected.length) {
    throw new BenchError(`${name}: expected ${expected.length} output lines, got ${lines.length}`, run.stderr);
  }
  const left = new Set(expected);
  for (const line of lines) {
    const match = /^([^\t\s]+)\t(.+)$/.exec(line);
    if (!match) throw new BenchError(`${name}: output line is not '<id>\\t<input>': ${JSON.stringify(line)}`);
    if (!left.delete(match[2])) throw new BenchError(`${name}: unexpected or repeated input in output: ${match[2]}`);
  }
}

/** The sandbox answers `"status":"OK"` per stored upload: a run of error answers must not look fast. */
function checkCurlOutput(name, run, count) {
  const ok = run.stdout.split('"status":"OK"').length - 1;
  if (run.code !== 0 || ok !== count) {
    throw new BenchError(`${name}: exit ${run.code}, ${ok} of ${count} answers OK`, `first output: ${run.stdout.slice(0, 300)}\n${run.stderr}`);
  }
}

/** `linkface upload -c 16 --quiet <folder>`, run from the folder's parent, the whole process measured. */
async function runLinkface(name, home, folder, names, env, node = NODE) {
  const run = await measure(node.path, [CLI, 'upload', '-c', String(CONCURRENCY), '--quiet', folder], { cwd: home, env });
  checkLinkfaceOutput(name, run, names.map((file) => `${folder}/${file}`));
  return { ...row(name, names.length, run), ...phases(run, names.length) };
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

/**
 * `repeat` pairs over one folder: the reference client, then linkface, back to back against the same sandbox,
 * so that both meet the same machine. Each pair gives one ratio.
 */
async function runPairs(label, home, folder, names, uploadUrl, env, repeat, node = NODE) {
  const pairs = [];
  for (let i = 1; i <= repeat; i++) {
    const reference = await runReference(join(home, folder), names.length, uploadUrl, env, node);
    const linkface = await runLinkface(`linkface -c ${CONCURRENCY}, ${label}`, home, folder, names, env, node);
    const pair = { reference, linkface, ratio: linkface.filesPerS / reference.filesPerS };
    console.log(
      `  ${label} #${i}: reference ${reference.filesPerS.toFixed(1)} files/s (upload phase), linkface ${linkface.filesPerS.toFixed(1)} files/s ` +
        `(whole process, ${linkface.wallS.toFixed(2)} s, ${fixed(linkface.rssMb, 0)} MB): ${pair.ratio.toFixed(3)}; ` +
        `linkface's first id after ${fixed(linkface.firstS, 2)} s, then ${fixed(linkface.steadyPerS, 1)} files/s ` +
        `(${fixed(linkface.steadyPerS && linkface.steadyPerS / reference.filesPerS, 3)} of the reference's rate)`,
    );
    pairs.push(pair);
  }
  return summarizePairs(label, pairs);
}

/** The pair with the median ratio stands for the set; the spread is the lowest and highest ratio. */
function summarizePairs(label, pairs) {
  const sorted = [...pairs].sort((a, b) => a.ratio - b.ratio);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const rss = pairs.map((pair) => pair.linkface.rssMb).filter((v) => v !== null).sort((a, b) => a - b);
  return {
    label,
    pairs,
    median,
    ratio: median.ratio,
    low: sorted[0].ratio,
    high: sorted.at(-1).ratio,
    rssMb: rss.length ? rss[Math.floor((rss.length - 1) / 2)] : null,
  };
}

function row(name, files, run) {
  return { name, files, wallS: run.wallS, filesPerS: files ? files / run.wallS : null, rssMb: run.rssMb, cpuS: run.cpuS };
}

/**
 * Where a linkface run's time went: from its start to its first id (start-up, walking and checking every input,
 * the first uploads' round trip), and its rate from its first id to its last, which compares with the reference
 * client's rate (its upload phase). Both from when its output arrived here.
 */
function phases(run, files) {
  if (run.firstOutS === undefined || files < 2) return { firstS: null, steadyPerS: null };
  return { firstS: run.firstOutS, steadyPerS: (files - 1) / (run.lastOutS - run.firstOutS) };
}

// ---------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------

const fixed = (value, digits) => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));

/** Prints rows of cells under titles; the first column left-aligned, the others right-aligned. */
function printColumns(titles, lines) {
  const widths = titles.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (line) => line.map((cell, i) => (i === 0 || i === line.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  console.log(format(titles));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

function printRuns(rows) {
  printColumns(
    ['run', 'files', 'wall s', 'files/s', 'peak RSS MB', 'CPU s', ''],
    rows.map((r) => [r.name, String(r.files), fixed(r.wallS, 3), fixed(r.filesPerS, 1), fixed(r.rssMb, 1), fixed(r.cpuS, 2), r.note ?? '']),
  );
}

function ratio(a, b) {
  return a === null || b === null || a === undefined || b === undefined || b === 0 ? null : a / b;
}

const spread = (set) => (set.pairs.length > 1 ? ` (${set.low.toFixed(3)}–${set.high.toFixed(3)} over ${set.pairs.length} pairs)` : '');

/** One line per target: PASS, FAIL, or SKIP when the figure was not measured. */
function verdicts({ main, node26Main, big, curlLoop, xargs, many }) {
  const x = (digits) => (v) => `${v.toFixed(digits)}x`;
  const mainRss = main.rssMb;
  const bigRss = big?.rssMb ?? null;
  const checks = [
    {
      key: 'vs_reference',
      label: `linkface ÷ reference client, ${main.median.linkface.files} files, Node ${NODE.version.split('.')[0]} >= ${TARGETS.vsReference}`,
      value: main.ratio,
      pass: (v) => v >= TARGETS.vsReference,
      show: (v) => `${v.toFixed(3)}${spread(main)}`,
    },
    {
      key: 'vs_reference_node26',
      label: `linkface ÷ reference client, ${main.median.linkface.files} files, Node 26 >= ${TARGETS.vsReference}`,
      value: node26Main?.ratio ?? null,
      pass: (v) => v >= TARGETS.vsReference,
      show: (v) => `${v.toFixed(3)}${spread(node26Main)}`,
    },
    {
      key: 'vs_reference_big',
      label: `linkface ÷ reference client, ${big?.median.linkface.files ?? config.bigFiles} files >= ${TARGETS.vsReferenceBig}`,
      value: big?.ratio ?? null,
      pass: (v) => v >= TARGETS.vsReferenceBig,
      show: (v) => `${v.toFixed(3)}${spread(big)}`,
    },
    {
      key: 'vs_curl_loop',
      label: `linkface ÷ curl loop >= ${TARGETS.vsCurlLoop}x`,
      value: ratio(main.median.linkface.filesPerS, curlLoop.filesPerS),
      pass: (v) => v >= TARGETS.vsCurlLoop,
      show: x(2),
    },
    {
      key: 'vs_xargs',
      label: `linkface ÷ xargs -P${CONCURRENCY} curl >= ${TARGETS.vsXargs.toFixed(1)}x`,
      value: ratio(main.median.linkface.filesPerS, xargs.filesPerS),
      pass: (v) => v >= TARGETS.vsXargs,
      show: x(2),
    },
    {
      key: 'peak_rss',
      label: `peak RSS < ${TARGETS.peakRssMb} MB (100 KB files, largest run)`,
      value: mainRss === null ? null : Math.max(mainRss, bigRss ?? 0, ...main.pairs.map((p) => p.linkface.rssMb)),
      pass: (v) => v < TARGETS.peakRssMb,
      show: (v) => `${v.toFixed(1)} MB`,
    },
    {
      key: 'big_rss_growth',
      label: `peak RSS ${big?.median.linkface.files ?? config.bigFiles} ÷ ${main.median.linkface.files} files (100 KB) <= ${TARGETS.bigRssGrowth}x`,
      value: ratio(bigRss, mainRss),
      pass: (v) => v <= TARGETS.bigRssGrowth,
      show: x(2),
    },
    {
      key: 'many_rss_growth',
      label: `peak RSS ${many?.large.files ?? config.manyFiles} ÷ ${many?.base.files ?? config.manyBase} files (64 B) <= ${TARGETS.manyRssGrowth}x`,
      value: many ? ratio(many.large.rssMb, many.base.rssMb) : null,
      pass: (v) => v <= TARGETS.manyRssGrowth,
      show: x(2),
    },
  ];
  return checks.map((check) => {
    const verdict = check.value === null || check.value === undefined || Number.isNaN(check.value) ? 'SKIP' : check.pass(check.value) ? 'PASS' : 'FAIL';
    return { key: check.key, label: check.label, value: check.value, verdict, shown: verdict === 'SKIP' ? 'not measured' : check.show(check.value) };
  });
}

function report({ main, node26Main, big, curlLoop, xargs, many }) {
  const rows = [];
  for (const set of [main, node26Main, big].filter(Boolean)) {
    rows.push(
      { ...set.median.reference, note: 'wall s, files/s: upload phase only; RSS, CPU: whole process' },
      { ...set.median.linkface, note: `whole process; ÷ reference ${set.ratio.toFixed(3)}${set.pairs.length > 1 ? ' (median pair)' : ''}` },
    );
  }
  rows.push(curlLoop, xargs);
  if (many) rows.push({ ...many.base, note: 'no latency' }, { ...many.large, note: 'no latency' });
  console.log('');
  printRuns(rows);
  console.log(
    `\nlinkface files/s = files ÷ wall time of the whole process, spawn to exit (start-up, input checks and uploads); ` +
      `the reference client's = files ÷ time from its first request to its last answer. ` +
      `Each pair's line splits linkface's time: spawn to its first id (start-up, every input checked before anything is sent, ` +
      `the first round trip), then its rate to the last id, beside the reference's. ` +
      `The curl loop ran over the first ${curlLoop.files} files only (at ${LATENCY_MS} ms a file the full set takes minutes); its rate stands for all.`,
  );
  const lines = verdicts({ main, node26Main, big, curlLoop, xargs, many });
  console.log('');
  printColumns(['target', 'measured', 'verdict'], lines.map((line) => [line.label, line.shown, line.verdict]));

  const round = (v, digits = 3) => (v === null || v === undefined ? null : Number(v.toFixed(digits)));
  const json = (r) =>
    r && {
      files: r.files,
      wall_s: round(r.wallS),
      files_per_s: round(r.filesPerS, 1),
      peak_rss_mb: round(r.rssMb, 1),
      cpu_s: round(r.cpuS),
      ...(r.firstS !== undefined && { first_id_s: round(r.firstS), steady_files_per_s: round(r.steadyPerS, 1) }),
    };
  const pairs = (set) =>
    set && { ratio: round(set.ratio), low: round(set.low), high: round(set.high), pairs: set.pairs.map((p) => ({ reference: json(p.reference), linkface: json(p.linkface), ratio: round(p.ratio) })) };
  const summary = {
    bench: 'linkface-batch',
    node: process.version,
    cpus: availableParallelism(),
    load_1m_at_end: Number(loadavg()[0].toFixed(2)),
    concurrency: CONCURRENCY,
    latency_ms: LATENCY_MS,
    file_bytes: FILE_BYTES,
    main: pairs(main),
    main_node26: pairs(node26Main) ?? null,
    big: pairs(big) ?? null,
    curl_loop: json(curlLoop),
    xargs: json(xargs),
    many: many ? { base: json(many.base), large: json(many.large), file_bytes: SMALL_FILE_BYTES, folders: SMALL_FOLDERS } : null,
    targets: Object.fromEntries(lines.map((line) => [line.key, { value: round(line.value), verdict: line.verdict }])),
  };
  console.log('');
  console.log(JSON.stringify(summary));
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function main() {
  checkBuild();
  tempRoot = mkdtempSync(join(tmpdir(), 'linkface-bench-'));
  const home = tempRoot;
  const env = baseEnv(home);

  console.log(`linkface batch benchmark: node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(2)}`);
  console.log(
    `  ${config.files} files × ${config.repeat} pairs, ${config.skipBig ? 'long run skipped' : `${config.bigFiles} files × ${config.bigRepeat}`}, ` +
      `${config.curlFiles} files (curl loop), ${FILE_BYTES / 1024} KB each; sandbox latency ${LATENCY_MS} ms; concurrency ${CONCURRENCY}`,
  );
  console.log(
    config.skipMany
      ? '  memory with inputs: skipped'
      : `  memory with inputs: ${config.manyBase} and ${config.manyFiles} files of ${SMALL_FILE_BYTES} bytes in ${SMALL_FOLDERS} folders, sandbox without latency`,
  );
  console.log(
    hasPython
      ? '  measured by a python3 getrusage(RUSAGE_CHILDREN) wrapper: wall clock, peak RSS of the largest process, user+sys CPU of the tree'
      : '  python3 not found: wall time measured from Node (spawn included); peak RSS and CPU not available',
  );
  const names = timed(`${config.files} files`, () => makeFiles(join(home, 'small'), config.files));

  const results = await withSandbox(env, home, LATENCY_MS, async (url) => {
    const uploadUrl = `${url}/resources/upload_liveness_data`;
    const linkfaceEnv = { ...env, LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' };
    // The vendor's sample puts the credentials in the query string; kept exactly as published.
    const curlUrl = `${uploadUrl}?api_id=sandbox&api_secret=sandbox`;

    console.log('\nrunning…');
    const main = await runPairs(`${config.files} files`, home, 'small', names, uploadUrl, linkfaceEnv, config.repeat);
    let node26Main;
    const node26 = config.skipNode26 || Number.parseInt(NODE.version, 10) === 26 ? undefined : await pinnedNode(26);
    if (node26?.path) {
      node26Main = await runPairs(`${config.files} files, Node ${node26.version}`, home, 'small', names, uploadUrl, linkfaceEnv, config.repeat, node26);
    } else if (node26) console.log(`  Node 26 pairs skipped: ${node26.why}`);
    const curlLoop = await runCurlLoop(join(home, 'small'), names.slice(0, config.curlFiles), curlUrl, env);
    console.log(`  ${curlLoop.name}: ${curlLoop.wallS.toFixed(2)} s`);
    const xargs = await runXargs(home, join(home, 'small'), names, curlUrl, env);
    console.log(`  ${xargs.name}: ${xargs.wallS.toFixed(2)} s`);

    let big;
    if (!config.skipBig) {
      const bigNames = timed(`${config.bigFiles} files`, () => makeFiles(join(home, 'big'), config.bigFiles));
      big = await runPairs(`${config.bigFiles} files`, home, 'big', bigNames, uploadUrl, linkfaceEnv, config.bigRepeat);
      rmSync(join(home, 'big'), { recursive: true, force: true });
    }
    return { main, node26Main, curlLoop, xargs, big };
  });

  if (!config.skipMany) {
    // Made once, used once each, deleted at once: 100,000 files take some 400 MB of disk blocks.
    const baseNames = timed(`${config.manyBase} files of ${SMALL_FILE_BYTES} bytes`, () => makeSmallFiles(join(home, 'many-base'), config.manyBase));
    const manyNames = timed(`${config.manyFiles} files of ${SMALL_FILE_BYTES} bytes`, () => makeSmallFiles(join(home, 'many'), config.manyFiles));
    results.many = await withSandbox(env, home, 0, async (url) => {
      const linkfaceEnv = { ...env, LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' };
      const base = await runLinkface(`linkface -c ${CONCURRENCY}, ${config.manyBase} × ${SMALL_FILE_BYTES} B`, home, 'many-base', baseNames, linkfaceEnv);
      console.log(`  ${base.name}: ${base.wallS.toFixed(2)} s, ${fixed(base.rssMb, 1)} MB`);
      const large = await runLinkface(`linkface -c ${CONCURRENCY}, ${config.manyFiles} × ${SMALL_FILE_BYTES} B`, home, 'many', manyNames, linkfaceEnv);
      console.log(`  ${large.name}: ${large.wallS.toFixed(2)} s, ${fixed(large.rssMb, 1)} MB`);
      return { base, large };
    });
    rmSync(join(home, 'many'), { recursive: true, force: true });
    rmSync(join(home, 'many-base'), { recursive: true, force: true });
  }

  report(results);
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
