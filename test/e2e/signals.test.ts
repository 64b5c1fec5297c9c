/**
 * Interruptions (issue 5, item 2): a batch with `--manifest --resume` is interrupted again and again with
 * SIGINT and SIGTERM at spread-out points, then resumed to completion. After every interruption: exit 130,
 * the manifest is valid NDJSON, and every upload the server stored for an input that finished is in it.
 * Across all runs: every input stored, and none stored twice unless the manifest says an upload in flight
 * was abandoned at the 2 s grace ("may or may not have been stored") — the one duplicate a non-idempotent
 * API cannot rule out.
 *
 * The points are drawn from a seeded PRNG (LINKFACE_SIGNAL_SEED overrides the seed), so a failure can be
 * replayed; the seed is in the test name.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { type CliRun, lines, type ResultRecord, runCli, sandboxEnv, sha256 } from './harness.js';

const SEED = Number(process.env.LINKFACE_SIGNAL_SEED ?? 0x5eed2026);
/**
 * 1,200 files at 8 in flight and 150 ms a request: about 53 uploads a second, so no run can finish the
 * batch before its signal (nine runs of at most 2 s upload at most ~960), and every signal lands mid-batch.
 * (With the 20 ms of the brief's example, 300 files take well under a second and most runs would end first.)
 */
const FILES = 1200;
const LATENCY_MS = 150;
const ITERATIONS = 9;
/** Runs whose server answers only after 3 s: the signal comes early and uploads in flight outlive the grace. */
const SLOW_RUNS = new Set([3, 7]);
const SLOW_LATENCY_MS = 3000;
const MAY_HAVE_BEEN_STORED = /may or may not have been stored/;

/** mulberry32: a small seeded PRNG, [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'linkface-signals-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));



/** The manifest, checked line by line: every line a JSON record, the last one terminated. */
function readManifest(path: string): ResultRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  if (text !== '') expect(text.endsWith('\n'), 'the manifest ends with a complete line').toBe(true);
  return lines(text).map((line, i) => {
    let record: ResultRecord;
    try {
      record = JSON.parse(line) as ResultRecord;
    } catch {
      throw new Error(`manifest line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
    }
    expect(typeof record.input, `manifest line ${i + 1} has an input`).toBe('string');
    expect(typeof record.status, `manifest line ${i + 1} has a status`).toBe('string');
    return record;
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// Windows has no POSIX signals: child.kill('SIGINT' | 'SIGTERM') terminates the child at once (no handler, no
// grace, no exit 130), and NTFS allows 1,023 hard links to a file, not the 10,000 made here.
describe.skipIf(process.platform === 'win32')('signals during a batch with --manifest --resume', () => {
  it(`SIGINT/SIGTERM at ${ITERATIONS} points (seed ${SEED}), then --resume: exit 130 each time, nothing lost, nothing stored twice`, { timeout: 90_000 }, async () => {
    const dir = join(root, 'batch');
    const contents = new Map<string, string>();
    mkdirSync(join(dir, 'captures'), { recursive: true });
    for (let i = 0; i < FILES; i++) {
      const content = `signals liveness ${i}`;
      writeFileSync(join(dir, 'captures', `${String(i).padStart(4, '0')}.bin`), content);
      contents.set(sha256(content), `captures/${String(i).padStart(4, '0')}.bin`);
    }
    const manifestPath = join(dir, 'm.ndjson');
    const args = ['upload', 'captures/', '-c', '8', '--manifest', 'm.ndjson', '--resume', '-q'];

    const random = prng(SEED);
    // Spread: one delay in each of ITERATIONS equal slices of 200 ms–2 s, in a shuffled order.
    const delays = Array.from({ length: ITERATIONS }, (_, i) => 200 + Math.floor(((i + random()) * 1800) / ITERATIONS));
    for (let i = delays.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [delays[i], delays[j]] = [delays[j] as number, delays[i] as number];
    }

    const servers: Sandbox[] = [];
    let abandoned = 0;
    try {
      for (let iteration = 0; iteration < ITERATIONS; iteration++) {
        const slow = SLOW_RUNS.has(iteration);
        const signal: NodeJS.Signals = iteration % 2 === 0 ? 'SIGINT' : 'SIGTERM';
        // A slow run is interrupted early enough that its uploads in flight outlive the 2 s grace.
        const delay = slow ? 200 + Math.floor(random() * 400) : (delays[iteration] as number);
        const context = `run ${iteration + 1} (${signal} ${delay} ms after the first request${slow ? ', slow server' : ''}, seed ${SEED})`;
        const server = await startSandbox({ latencyMs: slow ? SLOW_LATENCY_MS : LATENCY_MS });
        servers.push(server);
        const before = readManifest(manifestPath).length;

        let child: import('node:child_process').ChildProcess | undefined;
        let ended: CliRun | undefined;
        const running = runCli(args, { env: sandboxEnv(server.url), cwd: dir, timeoutMs: 20_000, onSpawn: (c) => (child = c) });
        void running.then((run) => (ended = run));
        // Counted from the first request: the command is then uploading, past its start-up.
        await waitFor(() => server.requests.length > 0 || ended !== undefined, 10_000, `the first request of ${context}`);
        if (ended) expect.fail(`${context} ended before its first request (exit ${ended.code}): ${ended.stderr}`);
        await sleep(delay);
        child?.kill(signal);
        const run = await running;
        expect(run.code, `${context}: ${run.stderr}`).toBe(130);
        expect(run.stderr).toMatch(/interrupted/);
        // Answers still owed (a slow server answers after the client gave up) are stored all the same.
        await waitFor(() => server.requests.every((r) => r.status !== 'PENDING'), 10_000, `the server to settle after ${context}`);

        const manifest = readManifest(manifestPath);
        const written = manifest.slice(before);
        expect(written.length, `${context} recorded something`).toBeGreaterThan(0);
        expect(written.some((r) => r.status === 'NOT_ATTEMPTED'), `${context} was cut mid-batch`).toBe(true);
        // Every upload this server stored for an input is in the manifest: with its id, or as the abandoned
        // upload it is.
        for (const stored of server.uploads()) {
          const records = written.filter((r) => r.sha256 === stored.file?.sha256);
          const accounted = records.some(
            (r) => (r.ok && r.liveness_data_id === stored.livenessDataId) || (r.status === 'NETWORK_ERROR' && MAY_HAVE_BEEN_STORED.test(r.reason ?? '')),
          );
          expect(accounted, `${context}: stored ${contents.get(stored.file?.sha256 ?? '')} is in the manifest`).toBe(true);
        }
        // And the other way: every id recorded or printed is one the server gave.
        const ids = new Set(server.uploads().map((u) => u.livenessDataId));
        for (const r of written.filter((w) => w.ok)) expect(ids.has(r.liveness_data_id), `${context}: ${r.input}`).toBe(true);
        // stdout also names the inputs --resume found uploaded by an earlier run, with the id an earlier server gave.
        const everId = new Set(servers.flatMap((each) => each.uploads().map((u) => u.livenessDataId)));
        for (const line of lines(run.stdout)) expect(everId.has(line.split('\t')[0]), `${context}: stdout ${line}`).toBe(true);
        const abandonedNow = written.filter((r) => r.status === 'NETWORK_ERROR' && MAY_HAVE_BEEN_STORED.test(r.reason ?? ''));
        if (slow) expect(abandonedNow.length, `${context}: uploads in flight were abandoned at the grace`).toBeGreaterThan(0);
        abandoned += abandonedNow.length;
        await server.close();
      }

      const last = await startSandbox();
      servers.push(last);
      const final = await runCli(args, { env: sandboxEnv(last.url), cwd: dir, timeoutMs: 30_000 });
      expect(final.code, final.stderr).toBe(0);
      expect(final.stderr).not.toMatch(/not result records/);

      const manifest = readManifest(manifestPath);
      expect(abandoned, 'the slow runs abandoned uploads at the grace').toBeGreaterThan(0);
      const storedCount = new Map<string, number>();
      for (const server of servers) {
        for (const u of server.uploads()) storedCount.set(u.file?.sha256 ?? '', (storedCount.get(u.file?.sha256 ?? '') ?? 0) + 1);
      }
      const problems: string[] = [];
      for (const [content, input] of contents) {
        const stored = storedCount.get(content) ?? 0;
        const ambiguous = manifest.filter((r) => r.sha256 === content && r.status === 'NETWORK_ERROR' && MAY_HAVE_BEEN_STORED.test(r.reason ?? '')).length;
        const okRecords = manifest.filter((r) => r.sha256 === content && r.ok).length;
        if (stored === 0) problems.push(`${input}: never stored`);
        if (stored > 1 + ambiguous) problems.push(`${input}: stored ${stored} times, ${ambiguous} abandoned upload(s) recorded`);
        if (okRecords !== 1) problems.push(`${input}: ${okRecords} ok records in the manifest`);
      }
      expect(problems).toEqual([]);
      expect([...storedCount.keys()].every((content) => contents.has(content))).toBe(true);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it('a signal before the first upload starts (inputs still being read) also exits 130, having sent nothing', { timeout: 30_000 }, async () => {
    // The list of inputs comes through a named pipe: opening it to write returns only once linkface has opened
    // it to read, by which time its signal handlers are in place (they come first) and nothing has been sent.
    // No sleep to guess that moment, however loaded the machine.
    const dir = join(root, 'early');
    mkdirSync(join(dir, 'captures'), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, 'captures', `${i}.bin`), `early signal ${i}`);
    const list = join(dir, 'list.fifo');
    execFileSync('mkfifo', [list]);
    const server = await startSandbox();
    try {
      let child: import('node:child_process').ChildProcess | undefined;
      const running = runCli(['upload', '--files-from', 'list.fifo', '--manifest', 'm.ndjson', '--resume'], {
        env: sandboxEnv(server.url),
        cwd: dir,
        onSpawn: (c) => (child = c),
      });
      const writer = await open(list, 'w');
      expect(server.requests, 'the signal comes before any upload').toHaveLength(0);
      child?.kill('SIGTERM');
      try {
        await writer.write('captures/0.bin\ncaptures/1.bin\ncaptures/2.bin\n');
      } catch {
        // linkface may have stopped reading already: a closed pipe is as good as a finished list here.
      } finally {
        await writer.close().catch(() => {});
      }
      const run = await running;
      expect(server.requests).toHaveLength(0);
      expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 130, signal: null });
    } finally {
      await server.close();
    }
  });
});
