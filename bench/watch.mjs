#!/usr/bin/env node
/**
 * Watch benchmark of `linkface watch` against the sandbox (`npm run bench`; not part of `npm test`).
 *
 * What a service feels: files are written into the watched folder at a steady 100 files/s (each written in
 * place, so each must settle: the default --settle of 2 s), and the time from a file's write to its id on the
 * watcher's stdout is its drop-to-id latency (target: p95 ≤ settle + 0.5 s). Then files come as fast as the
 * uploads take them, and the watcher's peak resident memory after 20,000 files is compared with the peak after
 * the first 2,000 (target ≤ 1.3×): memory must stay flat however long the service runs. Uploaded files are
 * deleted (--on-success delete), as a service would, and the sandbox answers 50 ms after each request, in a
 * process of its own.
 *
 * Environment:
 *   BENCH_WATCH_RATE=100         files per second in the latency phase
 *   BENCH_WATCH_FIRST=2000       files in the latency phase (peak memory is read after them)
 *   BENCH_WATCH_FILES=20000      files in all (peak memory is read again after them)
 *
 * Linux only for the memory figures (the watcher's VmHWM in /proc). Exit code: 0 when the runs worked, even if
 * a target is missed (a measurement, not a test); 1 when a run failed or gave wrong output.
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'linkface.js');
const LATENCY_MS = 50;
const SETTLE_MS = 2000;
const FILE_BYTES = 16 * 1024;
const TARGETS = { p95Ms: SETTLE_MS + 500, rssGrowth: 1.3 };

const positive = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const config = { rate: positive('BENCH_WATCH_RATE', 100), first: positive('BENCH_WATCH_FIRST', 2000), total: positive('BENCH_WATCH_FILES', 20_000) };

const work = mkdtempSync(join(tmpdir(), 'linkface-bench-watch-'));
const children = new Set();
const cleanUp = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

const env = { ...process.env, HOME: work, NO_COLOR: '1' };
for (const name of Object.keys(env)) if (/^LINKFACE_|^(https?|all|no)_proxy$/i.test(name)) delete env[name];

function start(args, options = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  return { child, stderr: () => stderr };
}

/** Peak resident memory of a process so far, MB (Linux). */
function peakRssMb(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main() {
  const sandbox = start(['sandbox', '--port', '0', '--latency', String(LATENCY_MS)]);
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sandbox printed no URL: ${sandbox.stderr()}`)), 15_000);
    createInterface({ input: sandbox.child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
  });
  mkdirSync(join(work, 'in'));
  const watcher = start(['watch', 'in', '--manifest', 'm.ndjson', '--on-success', 'delete', '-c', '16', '--quiet'], {
    env: { LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' },
  });
  const dropped = new Map();
  const latencies = [];
  let seen = 0;
  let firstPeak;
  createInterface({ input: watcher.child.stdout }).on('line', (line) => {
    const at = performance.now();
    const [id, input] = line.split('\t');
    const droppedAt = dropped.get(input);
    if (!id || droppedAt === undefined) throw new Error(`unexpected output line: ${line}`);
    dropped.delete(input);
    if (seen < config.first) latencies.push(at - droppedAt);
    seen++;
    if (seen === config.first) firstPeak = peakRssMb(watcher.child.pid);
  });
  await sleep(1000);
  const content = Buffer.alloc(FILE_BYTES);
  const drop = (i) => {
    randomFillSync(content, 0, 32);
    const name = `in/f${String(i).padStart(6, '0')}.bin`;
    writeFileSync(join(work, name), content);
    dropped.set(name, performance.now());
  };
  // Phase 1: a steady rate, each file written when its turn comes.
  const began = performance.now();
  for (let i = 0; i < config.first; ) {
    const due = Math.floor(((performance.now() - began) / 1000) * config.rate);
    while (i < Math.min(due, config.first)) drop(i++);
    await sleep(5);
  }
  // Phase 2: as fast as uploads take them, at most some 2,000 files ahead of the ids.
  for (let i = config.first; i < config.total; ) {
    while (i < config.total && i - seen < 2000) drop(i++);
    await sleep(20);
  }
  const deadline = Date.now() + 120_000;
  while (seen < config.total) {
    if (Date.now() > deadline || watcher.child.exitCode !== null) throw new Error(`only ${seen} of ${config.total} ids came: ${watcher.stderr()}`);
    await sleep(50);
  }
  const lastPeak = peakRssMb(watcher.child.pid);
  watcher.child.kill('SIGTERM');
  const code = await new Promise((resolve) => watcher.child.once('close', resolve));
  if (code !== 0) throw new Error(`the watcher exited ${code} on SIGTERM: ${watcher.stderr()}`);
  sandbox.child.kill('SIGTERM');

  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p95 = percentile(latencies, 95);
  const growth = firstPeak && lastPeak ? lastPeak / firstPeak : undefined;
  const mark = (ok) => (ok ? 'meets' : 'MISSES');
  console.log(`\nlinkface watch: ${config.first} files at ${config.rate} files/s, settle ${SETTLE_MS / 1000} s, sandbox latency ${LATENCY_MS} ms, -c 16`);
  console.log('| run | figure | target | |');
  console.log('|---|---|---|---|');
  console.log(`| drop-to-id latency, p50 / p95 | ${(p50 / 1000).toFixed(2)} s / ${(p95 / 1000).toFixed(2)} s | p95 ≤ ${TARGETS.p95Ms / 1000} s | ${mark(p95 <= TARGETS.p95Ms)} |`);
  if (growth === undefined) console.log('| peak RSS | n/a (needs /proc) | | |');
  else {
    console.log(
      `| peak RSS after ${config.first.toLocaleString('en')} / ${config.total.toLocaleString('en')} files | ${firstPeak.toFixed(0)} MB / ${lastPeak.toFixed(0)} MB (${growth.toFixed(2)}×) | ≤ ${TARGETS.rssGrowth}× | ${mark(growth <= TARGETS.rssGrowth)} |`,
    );
  }
}

main().catch((error) => {
  console.error(`bench watch: ${error.message}`);
  process.exitCode = 1;
});
