import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EndpointClient } from '../../src/api/client.js';
import { LinkfaceClient } from '../../src/engine/client.js';
import { runUploads, type UploadResult } from '../../src/engine/run.js';
import { LinkfaceError, UsageError } from '../../src/errors.js';
import { checkInputs, type UploadJob } from '../../src/inputs/check.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

let dir: string;
let sandbox: Sandbox | undefined;
const clients: EndpointClient[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-engine-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox(options);
  return sandbox;
}

function client(url: string, timeoutMs = 5000): EndpointClient {
  const c = new EndpointClient({ endpoint: url, apiId: 'sandbox', apiSecret: 'sandbox', timeoutMs, connections: 8 });
  clients.push(c);
  return c;
}

/** n distinct files; `content(i)` overrides what file i holds. */
async function files(n: number, prefix: string, content: (i: number) => string = (i) => `${prefix}-${i}`): Promise<UploadJob[]> {
  const paths = Array.from({ length: n }, (_, i) => {
    const path = join(dir, `${prefix}-${i}.bin`);
    writeFileSync(path, content(i));
    return path;
  });
  const { jobs, problems } = await checkInputs(paths, { maxSize: 5 * 1024 * 1024 });
  expect(problems).toEqual([]);
  return jobs;
}

const noJitter = () => 0;

/** Every input ended uploaded exactly once, and the ids it reports are the ones the server gave. */
function expectEachUploadedOnce(results: UploadResult[], server: Sandbox, jobs: UploadJob[]) {
  expect(results.map((r) => r.status)).toEqual(jobs.map(() => 'OK'));
  const stored = server.uploads();
  // Files are hashed as they are uploaded: each result carries the SHA-256 the server saw.
  expect(results.every((r) => /^[0-9a-f]{64}$/.test(r.sha256 ?? ''))).toBe(true);
  expect(stored.map((u) => u.file?.sha256).sort()).toEqual(results.map((r) => r.sha256).sort());
  expect(results.map((r) => r.livenessDataId).sort()).toEqual(stored.map((u) => u.livenessDataId).sort());
}

describe('runUploads against the sandbox', () => {
  it('uploads every file once and reports the ids in input order', async () => {
    const server = await start();
    const jobs = await files(20, 'plain');
    const results = await runUploads(jobs, client(server.url), { retries: 0, concurrency: 4 });
    expectEachUploadedOnce(results, server, jobs);
    expect(results.map((r) => r.input)).toEqual(jobs.map((j) => j.input));
    expect(results.every((r) => r.attempts === 1 && r.httpStatus === 200 && r.requestId?.startsWith('TID'))).toBe(true);
  });

  it('with reused file memory, every server receives exactly the bytes hashed, retries and duplicates included', async () => {
    let seed = 11;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const server = await start({ failRate: 0.15, resetRate: 0.1, random });
    // Distinct sizes and contents, so that a view of reused memory holding another file's bytes would show.
    const jobs = await files(60, 'reused', (i) => `${'x'.repeat(1000 + ((i * 7919) % 5000))}-${i}`);
    const results = await runUploads(jobs, client(server.url), { retries: 8, concurrency: 4, random: noJitter, reuseFileBuffers: true });
    expectEachUploadedOnce(results, server, jobs);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    for (const upload of server.uploads()) {
      const result = results.find((r) => r.livenessDataId === upload.livenessDataId);
      expect(upload.file?.bytes).toBe(result?.bytes);
    }
  });

  it('keeps at most --concurrency uploads in flight', async () => {
    const server = await start({ latencyMs: 40 });
    const jobs = await files(12, 'bounded');
    let inFlight = 0;
    let peak = 0;
    const sender = client(server.url);
    const counting = {
      send: async (...args: Parameters<EndpointClient['send']>) => {
        peak = Math.max(peak, ++inFlight);
        try {
          return await sender.send(...args);
        } finally {
          inFlight--;
        }
      },
    };
    await runUploads(jobs, counting, { retries: 0, concurrency: 3 });
    expect(peak).toBe(3);
  });

  it('retries 500s and dropped connections until every input is uploaded exactly once or reported', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const server = await start({ failRate: 0.2, resetRate: 0.1, random });
    const jobs = await files(40, 'faulty');
    const results = await runUploads(jobs, client(server.url), { retries: 8, concurrency: 4, random: noJitter });
    // A dropped connection is dropped before the sandbox stores anything, so no upload is duplicated here.
    expectEachUploadedOnce(results, server, jobs);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    expect(server.requests.length).toBe(results.reduce((sum, r) => sum + r.attempts, 0));
  });

  it('honours Retry-After on RATE_LIMIT_EXCEEDED', async () => {
    const server = await start();
    server.enqueue({ kind: 'status', status: 'RATE_LIMIT_EXCEEDED', retryAfter: '1' });
    const [job] = await files(1, 'limited');
    const started = Date.now();
    const [result] = await runUploads([job as UploadJob], client(server.url), { retries: 2, concurrency: 1, random: noJitter });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up after the retries and reports the last failure', async () => {
    const server = await start({ failRate: 1 });
    const [job] = await files(1, 'always-500');
    const [result] = await runUploads([job as UploadJob], client(server.url), { retries: 2, concurrency: 1, random: noJitter });
    expect(result).toMatchObject({ ok: false, status: 'INTERNAL_ERROR', httpStatus: 500, attempts: 3, retryable: true });
    expect(server.requests).toHaveLength(3);
  });

  it('times out an attempt that gets no answer, then retries it', async () => {
    const server = await start();
    server.enqueue({ kind: 'hang' });
    const [job] = await files(1, 'hung');
    const events: string[] = [];
    const [result] = await runUploads([job as UploadJob], client(server.url, 300), { retries: 1, concurrency: 1, random: noJitter }, {
      onAttempt: (e) => events.push(`${e.outcome.status}:${e.decision.retry}:${e.outcome.maybeDelivered}`),
    });
    expect(events).toEqual(['TIMEOUT:true:true', 'OK:false:true']);
    expect(result).toMatchObject({ ok: true, attempts: 2 });
  });

  it('stops at the first account error: the rest are NOT_ATTEMPTED', async () => {
    const server = await start({ latencyMs: 20 });
    server.enqueue({ kind: 'status', status: 'OUT_OF_QUOTA', reason: 'quota used up' });
    const jobs = await files(10, 'quota');
    const results = await runUploads(jobs, client(server.url), { retries: 3, concurrency: 2, random: noJitter });
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 'OUT_OF_QUOTA')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'NOT_ATTEMPTED').length).toBeGreaterThanOrEqual(7);
    // Only the upload already in flight beside the failed one may have finished.
    expect(server.requests.length).toBeLessThanOrEqual(3);
    expect(results.find((r) => r.status === 'NOT_ATTEMPTED')?.reason).toMatch(/OUT_OF_QUOTA/);
  });

  it('uploads the same content once and reports its id for both inputs', async () => {
    const server = await start();
    const jobs = await files(3, 'dupe', (i) => (i === 2 ? 'unique' : 'same'));
    const results = await runUploads(jobs, client(server.url), { retries: 0, concurrency: 4 });
    expect(server.uploads()).toHaveLength(2);
    expect(results[0]?.livenessDataId).toBe(results[1]?.livenessDataId);
    // Whichever of the two is hashed first is uploaded; the other reports its id.
    const [uploaded, copied] = results[0]?.attempts === 0 ? [results[1], results[0]] : [results[0], results[1]];
    expect(uploaded).toMatchObject({ ok: true, attempts: 1 });
    expect(copied).toMatchObject({ ok: true, attempts: 0, reason: `same content as ${uploaded?.input}, uploaded once` });
  });

  it('keeps no list with keepResults false: every result reaches onResult, duplicates included', async () => {
    const server = await start();
    const jobs = await files(6, 'unkept', (i) => (i < 3 ? 'same' : `unique-${i}`));
    const seen: UploadResult[] = [];
    const returned = await runUploads(
      jobs,
      client(server.url),
      { retries: 0, concurrency: 2, keepResults: false },
      { onResult: (result) => seen.push(result) },
    );
    expect(returned).toEqual([]);
    expect(seen.map((r) => r.input).sort()).toEqual(jobs.map((j) => j.input).sort());
    expect(server.uploads()).toHaveLength(4);
    const same = seen.filter((r) => r.sha256 === seen.find((x) => x.input === jobs[0]?.input)?.sha256);
    expect(same).toHaveLength(3);
    expect(new Set(same.map((r) => r.livenessDataId)).size).toBe(1);
    expect(same.filter((r) => r.attempts === 1)).toHaveLength(1);
    expect(same.filter((r) => r.attempts === 0).every((r) => r.ok && r.reason?.startsWith('same content as '))).toBe(true);
  });

  it("a caller's cancel signal ends an attempt in flight at once, and finished attempts leave no listener on it", async () => {
    const server = await start();
    const jobs = await files(20, 'cancel');
    const c = client(server.url, 30_000);
    // One long-lived signal for many attempts: each attempt's listener goes when the attempt ends.
    const batch = new AbortController();
    const outcomes = await Promise.all(jobs.map((job) => c.send(job.payload, batch.signal)));
    expect(outcomes.map((o) => o.status)).toEqual(jobs.map(() => 'OK'));
    expect(getEventListeners(batch.signal, 'abort')).toHaveLength(0);

    server.enqueue({ kind: 'hang' });
    const cancel = new AbortController();
    const pending = c.send((jobs[0] as UploadJob).payload, cancel.signal);
    await sleep(200);
    cancel.abort();
    const outcome = await pending;
    // Interrupted, not timed out: the 30 s timeout is far away.
    expect(outcome).toMatchObject({ ok: false, status: 'NETWORK_ERROR', maybeDelivered: true });
    expect(outcome.reason).toMatch(/^interrupted/);
    expect(getEventListeners(cancel.signal, 'abort')).toHaveLength(0);
  });

  it("a batch puts one listener on the caller's cancel signal, however many uploads are in flight", async () => {
    const server = await start({ latencyMs: 100 });
    const jobs = await files(40, 'listeners');
    const cancel = new AbortController();
    let most = 0;
    const results = await runUploads(jobs, client(server.url), { retries: 0, concurrency: 16, cancelSignal: cancel.signal }, {
      onStart: () => (most = Math.max(most, getEventListeners(cancel.signal, 'abort').length)),
    });
    expect(results.every((r) => r.ok)).toBe(true);
    // More than ten would make Node warn of a leak in the caller's process.
    expect(most).toBe(1);
    expect(getEventListeners(cancel.signal, 'abort')).toHaveLength(0);
  });

  it('starts nothing after the stop signal', async () => {
    const server = await start({ latencyMs: 50 });
    const jobs = await files(8, 'stopped');
    const stop = new AbortController();
    const results = await runUploads(jobs, client(server.url), { retries: 0, concurrency: 2, stopSignal: stop.signal }, {
      onResult: () => stop.abort(),
    });
    expect(results.filter((r) => r.ok)).toHaveLength(server.uploads().length);
    expect(results.filter((r) => r.status === 'NOT_ATTEMPTED').length).toBeGreaterThanOrEqual(5);
  });

  it('streams a 5 MiB file and the server receives it intact', async () => {
    const server = await start();
    const path = join(dir, 'five.bin');
    const data = Buffer.alloc(5 * 1024 * 1024, 7);
    writeFileSync(path, data);
    const { jobs } = await checkInputs([path], { maxSize: 5 * 1024 * 1024 });
    const [result] = await runUploads(jobs, client(server.url), { retries: 0, concurrency: 1 });
    expect(result?.ok).toBe(true);
    expect(server.uploads()[0]?.file).toMatchObject({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  });
});

describe('LinkfaceClient (the library entry)', () => {
  it('uploads and returns results as data', async () => {
    const server = await start();
    const lib = new LinkfaceClient({ endpoint: server.url, apiId: 'sandbox', apiSecret: 'sandbox' });
    try {
      const [job] = await files(1, 'lib');
      const id = await lib.uploadOne((job as UploadJob).input);
      expect(server.uploads()[0]?.livenessDataId).toBe(id);
    } finally {
      await lib.close();
    }
  });

  it('throws a typed LinkfaceError for a failed single upload', async () => {
    const server = await start();
    const lib = new LinkfaceClient({ endpoint: server.url, apiId: 'sandbox', apiSecret: 'wrong' });
    try {
      const [job] = await files(1, 'lib-fail');
      const error = await lib.uploadOne((job as UploadJob).input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LinkfaceError);
      expect(error).toMatchObject({ status: 'UNAUTHORIZED', httpStatus: 401, retryable: false, requestId: expect.stringMatching(/^TID/) });
    } finally {
      await lib.close();
    }
  });

  it('refuses invalid inputs with every problem listed, sending nothing', async () => {
    const server = await start();
    const lib = new LinkfaceClient({ endpoint: server.url, apiId: 'sandbox', apiSecret: 'sandbox' });
    try {
      const error = await lib.upload([join(dir, 'nope-1.bin'), join(dir, 'nope-2.bin')]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).details).toHaveLength(2);
      expect(server.requests).toHaveLength(0);
    } finally {
      await lib.close();
    }
  });
});

describe('rate adaptation', () => {
  it('settles near a rate-limited account: every input uploaded once, at most 25% of requests refused', async () => {
    const server = await start({ rateLimit: 20 });
    const jobs = await files(100, 'rated');
    const results = await runUploads(jobs, client(server.url), { retries: 10, concurrency: 8 });
    expectEachUploadedOnce(results, server, jobs);
    const refused = server.requests.filter((r) => r.status === 'RATE_LIMIT_EXCEEDED').length;
    expect(refused).toBeGreaterThan(0);
    expect(refused / server.requests.length).toBeLessThanOrEqual(0.25);
  }, 30_000);
});
