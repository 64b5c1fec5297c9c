/**
 * `linkface watch` (issue 12, item 1) through the built command against the sandbox: a file written slowly
 * is taken once complete; a renamed-in file at once; 2,000 files dropped at a steady rate are each uploaded
 * once; a SIGKILL and a restart lose nothing and resend nothing recorded, and name what may have been stored;
 * moves write the record beside each file; SIGTERM drains and exits 0; an account error pauses uploading
 * until the server accepts again. Short --settle and --rescan keep it quick.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { BIN, lines, parseRecords, type ResultRecord, sandboxEnv, sha256 } from './harness.js';

/** A secret that must never appear in anything the watcher writes. */
const CANARY = 'canary-secret-5f1e9c';

let dir: string;
let sandbox: Sandbox | undefined;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-watch-'));
  mkdirSync(join(dir, 'in'));
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sandbox?.close();
  sandbox = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function sandboxWith(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ apiSecret: CANARY, ...options });
  return sandbox;
}

interface Watcher {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `linkface watch in --manifest m.ndjson ARGS` in the test's folder, running in the background. */
function startWatch(server: Sandbox, args: readonly string[]): Watcher {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const child = spawn(process.execPath, [BIN, 'watch', 'in', '--manifest', 'm.ndjson', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', ...sandboxEnv(server.url, 'sandbox', CANARY) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => Buffer.concat(out).toString('utf8'), stderr: () => Buffer.concat(err).toString('utf8'), exited };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string, watcher?: Watcher): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${watcher ? `\nstderr:\n${watcher.stderr().slice(-3000)}` : ''}`);
    await sleep(20);
  }
}

/** Stops the watcher with SIGTERM and returns how it exited. */
async function stop(watcher: Watcher): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  watcher.child.kill('SIGTERM');
  return watcher.exited;
}

/** How many times the server stored each content. */
function storedCounts(server: Sandbox): Map<string, number> {
  const counts = new Map<string, number>();
  for (const upload of server.uploads()) counts.set(upload.file?.sha256 ?? '', (counts.get(upload.file?.sha256 ?? '') ?? 0) + 1);
  return counts;
}

function manifest(): ResultRecord[] {
  const path = join(dir, 'm.ndjson');
  return existsSync(path) ? parseRecords(readFileSync(path, 'utf8')).filter((record) => !(record as { sending?: boolean }).sending) : [];
}

function expectNoSecret(watcher: Watcher): void {
  expect(watcher.stdout()).not.toContain(CANARY);
  expect(watcher.stderr()).not.toContain(CANARY);
  if (existsSync(join(dir, 'm.ndjson'))) expect(readFileSync(join(dir, 'm.ndjson'), 'utf8')).not.toContain(CANARY);
}

describe('linkface watch', () => {
  it('a file written slowly in chunks over 3 s is uploaded once, with the SHA-256 of its final content', async () => {
    const server = await sandboxWith();
    const watcher = startWatch(server, ['--settle', '1500ms', '--rescan', '1s']);
    await waitFor(() => /watching in/.test(watcher.stderr()), 10_000, 'the watcher to start', watcher);
    const path = join(dir, 'in', 'slow.bin');
    let content = '';
    for (let i = 0; i < 10; i++) {
      const chunk = `chunk ${i} of a liveness capture written slowly\n`;
      appendFileSync(path, chunk);
      content += chunk;
      await sleep(300);
    }
    await waitFor(() => server.uploads().length > 0, 15_000, 'the upload', watcher);
    // Another settle time and a rescan: nothing more is sent for it.
    await sleep(2500);
    expect(server.requests.map((request) => request.file?.sha256)).toEqual([sha256(content)]);
    expect(lines(watcher.stdout())).toEqual([`${server.uploads()[0]?.livenessDataId}\tin/slow.bin`]);
    expect(await stop(watcher)).toEqual({ code: 0, signal: null });
    expectNoSecret(watcher);
  });

  it('a file renamed in is taken at once; hidden and temporary names are never taken', async () => {
    const server = await sandboxWith();
    const watcher = startWatch(server, ['--settle', '30s', '--rescan', '1s']);
    await waitFor(() => /watching in/.test(watcher.stderr()), 10_000, 'the watcher to start', watcher);
    for (const name of ['.hidden.bin', 'x.tmp', 'x.part', 'x.partial', 'x.crdownload', '~lock.bin']) writeFileSync(join(dir, 'in', name), `never ${name}`);
    // Written in place: it has to settle (30 s), so it is not taken during this test.
    writeFileSync(join(dir, 'in', 'written.bin'), 'written in place');
    writeFileSync(join(dir, 'in', '.renamed.bin.part'), 'renamed in once complete');
    renameSync(join(dir, 'in', '.renamed.bin.part'), join(dir, 'in', 'renamed.bin'));
    const renamedAt = Date.now();
    await waitFor(() => server.uploads().length > 0, 20_000, 'the renamed file to be uploaded', watcher);
    // Well before the 30 s settle time: taken because it was renamed in.
    expect(Date.now() - renamedAt).toBeLessThan(20_000);
    await sleep(1500);
    expect(server.requests.map((request) => request.file?.sha256)).toEqual([sha256('renamed in once complete')]);
    expect(lines(watcher.stdout())).toEqual([`${server.uploads()[0]?.livenessDataId}\tin/renamed.bin`]);
    expect(await stop(watcher)).toEqual({ code: 0, signal: null });
  });

  it('2,000 files dropped at a steady rate while uploads take 50 ms are each uploaded exactly once', async () => {
    const server = await sandboxWith({ latencyMs: 50, recordRequests: true });
    const watcher = startWatch(server, ['--settle', '300ms', '--rescan', '2s', '-c', '16', '--on-success', 'delete', '--status', '1s']);
    await waitFor(() => /watching in/.test(watcher.stderr()), 10_000, 'the watcher to start', watcher);
    const contents = new Map<string, string>();
    mkdirSync(join(dir, 'in', 'sub'));
    // 2,000 files over about 5 s: 20 every 50 ms, some in a subfolder.
    for (let i = 0; i < 2000; i++) {
      const name = `${i % 5 === 0 ? 'sub/' : ''}f${String(i).padStart(4, '0')}.bin`;
      const content = `capture ${i} ${'x'.repeat(i % 97)}`;
      contents.set(`in/${name}`, content);
      writeFileSync(join(dir, 'in', name), content);
      if (i % 20 === 19) await sleep(50);
    }
    await waitFor(() => server.uploads().length >= 2000, 60_000, 'all 2,000 uploads', watcher);
    await sleep(2500);
    const counts = storedCounts(server);
    expect(server.uploads()).toHaveLength(2000);
    for (const content of contents.values()) expect(counts.get(sha256(content))).toBe(1);
    expect(server.requests).toHaveLength(2000);
    const printed = lines(watcher.stdout()).map((line) => line.split('\t')[1]);
    expect(printed.sort()).toEqual([...contents.keys()].sort());
    expect(manifest().filter((record) => record.ok)).toHaveLength(2000);
    // Deleted after their upload: only the empty subfolder is left.
    expect(readdirSync(join(dir, 'in'))).toEqual(['sub']);
    expect(readdirSync(join(dir, 'in', 'sub'))).toEqual([]);
    // The status line, plain, as in a log.
    expect(watcher.stderr()).toMatch(/^watching in: \d+ taken, \d+ uploaded, 0 failed, \d+ waiting, [\d.]+ files\/s$/m);
    expect(await stop(watcher)).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('killed with SIGKILL mid-stream and started again: nothing lost, nothing recorded sent twice, and what may have been stored is named', async () => {
    const server = await sandboxWith({ latencyMs: 150 });
    const contents = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const content = `kill test capture ${i}`;
      contents.set(`in/k${String(i).padStart(3, '0')}.bin`, content);
      writeFileSync(join(dir, 'in', `k${String(i).padStart(3, '0')}.bin`), content);
    }
    const first = startWatch(server, ['--settle', '200ms', '--rescan', '1s', '-c', '8']);
    await waitFor(() => server.uploads().length >= 40, 20_000, '40 uploads', first);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // Requests the server had when the watcher died are answered (to no one) within its latency.
    await waitFor(() => server.requests.every((request) => request.status !== 'PENDING'), 5_000, 'the requests in flight to end');
    const recordedBefore = new Set(manifest().filter((record) => record.ok).map((record) => record.sha256));
    // Whatever the server stored that the manifest does not show uploaded may be stored again.
    const storedUnrecorded = [...new Set(server.uploads().map((upload) => upload.file?.sha256))].filter((sha) => !recordedBefore.has(sha));

    const second = startWatch(server, ['--settle', '200ms', '--rescan', '1s', '-c', '8']);
    await waitFor(() => storedCounts(server).size >= 200, 30_000, 'every file stored', second);
    await waitFor(() => manifest().filter((record) => record.ok).length >= 200, 10_000, 'every file recorded', second);
    expect(await stop(second)).toEqual({ code: 0, signal: null });

    const counts = storedCounts(server);
    for (const content of contents.values()) expect(counts.get(sha256(content)) ?? 0).toBeGreaterThanOrEqual(1);
    // Recorded as uploaded before the kill: not sent again (the second run found them in the manifest).
    for (const sha of recordedBefore) expect(counts.get(sha ?? '')).toBe(1);
    // Stored twice only if the server had it when the watcher died, before its answer was recorded: named.
    const named = lines(second.stderr())
      .map((line) => /may have been stored: (\S+)/.exec(line)?.[1])
      .filter((input): input is string => input !== undefined);
    for (const sha of storedUnrecorded) {
      const input = [...contents].find(([, content]) => sha256(content) === sha)?.[0];
      expect(named, `${input} was stored before the kill without being recorded`).toContain(input);
    }
    for (const [sha, n] of counts) if (n > 1) expect(storedUnrecorded).toContain(sha);
    expect(second.stderr()).toMatch(/in flight when linkface last stopped, and no answer was recorded: the server may have stored/);
    // Every file is in the folder still (--on-success keep): the second run reported the recorded ones
    // as uploaded before and sent nothing for them.
    expect(manifest().filter((record) => record.ok).length).toBeGreaterThanOrEqual(200);
  }, 90_000);

  it('moves: each uploaded or failed file is renamed into its folder with <name>.json beside it', async () => {
    const server = await sandboxWith();
    mkdirSync(join(dir, 'in', 'sub'));
    mkdirSync(join(dir, 'ok'));
    writeFileSync(join(dir, 'ok', 'a.bin'), 'already there: never replaced');
    writeFileSync(join(dir, 'in', 'a.bin'), 'good capture a');
    writeFileSync(join(dir, 'in', 'sub', 'b.bin'), 'good capture b');
    writeFileSync(join(dir, 'in', 'bad.bin'), 'LINKFACE-SANDBOX-STATUS:WRONG_LIVENESS_DATA bad capture');
    const watcher = startWatch(server, ['--settle', '300ms', '--rescan', '1s', '--on-success', 'move:ok', '--on-failure', 'move:failed', '--json']);
    await waitFor(() => lines(watcher.stdout()).length >= 3, 15_000, 'three results', watcher);
    expect(await stop(watcher)).toEqual({ code: 0, signal: null });
    const results = parseRecords(watcher.stdout()) as Array<ResultRecord & { file?: string; moved_to?: string }>;
    const byInput = new Map(results.map((record) => [record.input, record]));
    expect([...byInput.keys()].sort()).toEqual(['in/a.bin', 'in/bad.bin', 'in/sub/b.bin']);

    const record = (path: string) => JSON.parse(readFileSync(join(dir, path), 'utf8')) as ResultRecord;
    expect(readFileSync(join(dir, 'ok', 'a.bin'), 'utf8')).toBe('already there: never replaced');
    expect(readFileSync(join(dir, 'ok', 'a-2.bin'), 'utf8')).toBe('good capture a');
    expect(record('ok/a-2.bin.json')).toMatchObject({ input: 'in/a.bin', ok: true, status: 'OK', liveness_data_id: byInput.get('in/a.bin')?.liveness_data_id, sha256: sha256('good capture a') });
    expect(byInput.get('in/a.bin')).toMatchObject({ file: 'moved', moved_to: join('ok', 'a-2.bin') });
    expect(readFileSync(join(dir, 'ok', 'sub', 'b.bin'), 'utf8')).toBe('good capture b');
    expect(record('ok/sub/b.bin.json')).toMatchObject({ input: 'in/sub/b.bin', ok: true, liveness_data_id: byInput.get('in/sub/b.bin')?.liveness_data_id });
    expect(existsSync(join(dir, 'failed', 'bad.bin'))).toBe(true);
    expect(record('failed/bad.bin.json')).toMatchObject({ input: 'in/bad.bin', ok: false, status: 'WRONG_LIVENESS_DATA' });
    expect(byInput.get('in/bad.bin')?.liveness_data_id).toBeUndefined();
    expect(readdirSync(join(dir, 'in'))).toEqual(['sub']);
    for (const path of ['ok/a-2.bin.json', 'ok/sub/b.bin.json', 'failed/bad.bin.json']) expect(readFileSync(join(dir, path), 'utf8')).not.toContain(CANARY);
    expect(server.requests).toHaveLength(3);
    expectNoSecret(watcher);
  });

  it('SIGTERM: nothing new starts, uploads in flight finish, exit 0; what did not start is taken at the next start', async () => {
    const server = await sandboxWith({ latencyMs: 1500 });
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, 'in', `t${i}.bin`), `sigterm capture ${i}`);
    const watcher = startWatch(server, ['--settle', '200ms', '--rescan', '1s', '-c', '2', '--on-success', 'move:done']);
    await waitFor(() => server.requests.length >= 2, 15_000, 'two uploads in flight', watcher);
    const exit = await stop(watcher);
    expect(exit, watcher.stderr()).toEqual({ code: 0, signal: null });
    expect(watcher.stderr()).toMatch(/stopping: nothing new starts; finishing uploads in flight \(at most 10 s\)/);
    // The two in flight finished and were moved; the other two stay for the next start.
    expect(server.requests).toHaveLength(2);
    expect(server.uploads()).toHaveLength(2);
    expect(lines(watcher.stdout())).toHaveLength(2);
    expect(readdirSync(join(dir, 'done')).filter((name) => name.endsWith('.bin'))).toHaveLength(2);
    expect(readdirSync(join(dir, 'in'))).toHaveLength(2);

    const again = startWatch(server, ['--settle', '200ms', '--rescan', '1s', '-c', '2', '--on-success', 'move:done']);
    await waitFor(() => server.uploads().length >= 4, 15_000, 'the other two', again);
    await waitFor(() => readdirSync(join(dir, 'in')).length === 0, 5_000, 'the other two moved', again);
    expect(await stop(again)).toEqual({ code: 0, signal: null });
    expect(new Set(server.uploads().map((upload) => upload.file?.sha256)).size).toBe(4);
  });

  it('an account error pauses uploading, re-checks with backoff, and uploading goes on once the server accepts again', async () => {
    const server = await sandboxWith();
    server.enqueue({ kind: 'status', status: 'UNAUTHORIZED', reason: 'wrong api_id or api_secret' }, { kind: 'status', status: 'UNAUTHORIZED', reason: 'wrong api_id or api_secret' });
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, 'in', `p${i}.bin`), `paused capture ${i}`);
    const watcher = startWatch(server, ['--settle', '200ms', '--rescan', '1s', '-c', '1']);
    await waitFor(() => /paused: the account cannot upload/.test(watcher.stderr()), 10_000, 'the pause', watcher);
    expect(watcher.stderr()).toMatch(/paused: the account cannot upload \(UNAUTHORIZED \(HTTP 401\): wrong api_id or api_secret\)\. Files wait in the folder, none is lost; checking again in [\d.]+ s, at \d\d:\d\d:\d\d\./);
    // While paused, only the checks reach the server.
    await waitFor(() => /still paused: .*checking again in/.test(watcher.stderr()), 10_000, 'the second check', watcher);
    expect(server.requests).toHaveLength(2);
    await waitFor(() => server.uploads().length >= 3, 20_000, 'every file uploaded after the pause', watcher);
    expect(watcher.stderr()).toMatch(/resumed: the account accepts uploads again/);
    expect(await stop(watcher)).toEqual({ code: 0, signal: null });
    expect(new Set(server.uploads().map((upload) => upload.file?.sha256)).size).toBe(3);
    expect(server.requests).toHaveLength(5);
    // No file failed for it: three ids on stdout, no failure in the manifest.
    expect(lines(watcher.stdout())).toHaveLength(3);
    expect(manifest().every((record) => record.ok)).toBe(true);
    expectNoSecret(watcher);
  });

  it('needs --manifest and a folder: exit 2 with what to do', async () => {
    const server = await sandboxWith();
    const noManifest = spawn(process.execPath, [BIN, 'watch', 'in'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...sandboxEnv(server.url, 'sandbox', CANARY) } });
    let stderr = '';
    noManifest.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((resolve) => noManifest.on('close', resolve))).toBe(2);
    expect(stderr).toMatch(/linkface watch needs --manifest <file>/);
    const watcher = startWatch(server, ['--settle', 'soon']);
    expect((await watcher.exited).code).toBe(2);
    expect(watcher.stderr()).toMatch(/--settle must be a duration such as 2s, 500ms or 1m, got 'soon'/);
    rmSync(join(dir, 'in'), { recursive: true });
    const missing = startWatch(server, []);
    expect((await missing.exited).code).toBe(2);
    expect(missing.stderr()).toMatch(/in is not a folder/);
  });
});
