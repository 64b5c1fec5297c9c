/**
 * The fault matrix (issue 5, item 1): one row per way the network or the server can fail, each run through
 * the built command against servers these tests start on 127.0.0.1. Every row checks the exit code, the
 * result records (`--json` on stdout and/or `--manifest`), and that every input ended uploaded exactly once
 * or reported — nothing silently lost, no id printed that the server did not give.
 *
 * FAULT_MATRIX below is the table the README's "Reliability" section reproduces; the tests take their
 * names from it, so the two cannot drift apart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { type CliRun, lines, parseRecords, type ResultRecord, runCli, sandboxEnv, sha256, useSandbox } from './harness.js';
import { answerOk, dribbleOk, endlessBody, refusedPort, startFaultProxy, startScriptedHttpServer } from './servers.js';

/** fault → what linkface does → the test that shows it. */
export const FAULT_MATRIX = {
  refused: {
    fault: 'Connection refused (nothing listens)',
    behaviour: 'Retried with backoff; then `NETWORK_ERROR` "connection refused", exit 1; nothing stored',
    test: 'connection refused: retried, then NETWORK_ERROR, exit 1',
  },
  dropOnConnect: {
    fault: 'Connection accepted, then closed at once (nothing read)',
    behaviour: 'Retried on a new connection; uploaded once (`attempts: 2`)',
    test: 'connection dropped on connect: retried on a new connection, uploaded once',
  },
  dropEarly: {
    fault: 'Connection reset after the first bytes, before the body is sent',
    behaviour: 'Retried; uploaded once (`attempts: 2`)',
    test: 'connection reset before the body is sent: retried, uploaded once',
  },
  dropAlways: {
    fault: 'Every connection dropped on connect',
    behaviour: '`NETWORK_ERROR` after `--retries`, exit 1; the server never saw a request',
    test: 'every connection dropped: NETWORK_ERROR after the retries, exit 1',
  },
  resetAfterBody: {
    fault: 'Connection reset after the server read the body',
    behaviour: 'Retried; `attempts: 2`; `--verbose` warns the retry may store a duplicate',
    test: 'connection reset after the body was read: retried, duplicate risk shown',
  },
  resetAlways: {
    fault: 'Reset after the body, on every attempt',
    behaviour: '`NETWORK_ERROR` after `--retries`, exit 1',
    test: 'connection reset after the body on every attempt: NETWORK_ERROR, exit 1',
  },
  hang: {
    fault: 'Server accepts the request and never answers',
    behaviour: 'The attempt ends at `--timeout` as `TIMEOUT` and is retried; uploaded',
    test: 'no answer: TIMEOUT at --timeout, retried, uploaded',
  },
  hangAlways: {
    fault: 'No answer on every attempt',
    behaviour: '`TIMEOUT` after `--retries`, exit 1',
    test: 'no answer on every attempt: TIMEOUT, exit 1',
  },
  dribble: {
    fault: 'Answer headers sent, body dribbled slower than `--timeout`',
    behaviour: '`TIMEOUT` at `--timeout` (the whole attempt is timed, not the gaps); retried; `attempts: 2` and the duplicate warning show the first may have been stored',
    test: 'answer body slower than --timeout: TIMEOUT, retried',
  },
  dribbleAlways: {
    fault: 'Dribbled answer on every attempt',
    behaviour: '`TIMEOUT`, exit 1, no id printed',
    test: 'answer body slower than --timeout on every attempt: TIMEOUT, exit 1',
  },
  http5xx: {
    fault: 'HTTP 500/502/503/504 with a JSON, HTML or empty body',
    behaviour: 'Retried (5xx is transient whatever the body); the next attempt uploads',
    test: 'HTTP $status with $body body: retried, then uploaded',
  },
  http5xxAlways: {
    fault: 'HTTP 5xx on every attempt',
    behaviour: 'JSON body: its status (`INTERNAL_ERROR`); HTML or empty: `BAD_RESPONSE` quoting the page title or "(empty body)"; exit 1 after `--retries`',
    test: 'HTTP $status with $body body on every attempt: $expected, exit 1',
  },
  invalidJson: {
    fault: 'HTTP 200 with a body that is not JSON',
    behaviour: '`BAD_RESPONSE`, not retried (the upload may be stored), exit 1, nothing on stdout',
    test: 'HTTP 200 with invalid JSON: BAD_RESPONSE, exit 1, nothing on stdout',
  },
  noStatus: {
    fault: 'JSON without `status` (even with an id in it)',
    behaviour: '`BAD_RESPONSE` naming the missing field; the id is not printed',
    test: 'JSON without status: BAD_RESPONSE, the id in it is not printed',
  },
  okWithoutId: {
    fault: '`{"status":"OK"}` with the id missing, empty or null',
    behaviour: '`BAD_RESPONSE` "OK without a liveness_data_id", exit 1; never an empty id on stdout',
    test: 'OK without an id ($variant): BAD_RESPONSE, never an empty id on stdout',
  },
  huge: {
    fault: 'A 10 MB answer body',
    behaviour: '`BAD_RESPONSE` "larger than any answer of this API" after reading 64 KiB; fast',
    test: 'a 10 MB answer: BAD_RESPONSE quickly',
  },
  endless: {
    fault: 'An answer body that never ends',
    behaviour: '`BAD_RESPONSE` after a bounded read, long before `--timeout`; memory stays small',
    test: 'an endless answer body: BAD_RESPONSE after a bounded read, long before --timeout',
  },
  retryAfterSeconds: {
    fault: '`Retry-After: 1` on 403 `RATE_LIMIT_EXCEEDED`',
    behaviour: 'The retry waits about 1 s, then uploads',
    test: 'Retry-After in seconds: the retry waits that long',
  },
  retryAfterDate: {
    fault: '`Retry-After` as an HTTP date',
    behaviour: 'The retry waits until that time, then uploads',
    test: 'Retry-After as an HTTP date: the retry waits until then',
  },
  retryAfter5xx: {
    fault: '`Retry-After: 1` on a 503 (JSON or a proxy\'s HTML page)',
    behaviour: 'The retry waits about 1 s, then uploads',
    test: 'Retry-After on a 503 with a $body body: the retry waits that long',
  },
  outOfQuota: {
    fault: '`OUT_OF_QUOTA` in the middle of a batch',
    behaviour: 'No new upload starts, those in flight finish; the rest `NOT_ATTEMPTED`; exit 3; the manifest has every input; `--resume` later uploads exactly the rest',
    test: 'OUT_OF_QUOTA mid-batch: exit 3, the rest NOT_ATTEMPTED, manifest complete',
  },
  restart: {
    fault: 'The server restarts mid-batch (in-flight requests cut, refused for 0.5 s, back on the same port)',
    behaviour: 'Cut and refused attempts are retried; the batch completes with every input uploaded exactly once or reported',
    test: 'server restarted mid-batch on the same port: every input uploaded exactly once or reported',
  },
} as const;

type Row = keyof typeof FAULT_MATRIX;
const name = (row: Row) => FAULT_MATRIX[row].test;

const setup = useSandbox('faults');

let fileCounter = 0;
/** A fresh input with unique content (so dedupe and resume never mix tests up); its path and SHA-256. */
function input(content?: string | Buffer): { path: string; sha256: string } {
  const n = fileCounter++;
  const path = join(setup.dir, `input-${String(n).padStart(3, '0')}.bin`);
  const data = content ?? `fault matrix liveness ${n} ${Date.now()}`;
  writeFileSync(path, data);
  return { path, sha256: sha256(data) };
}


interface Upload {
  readonly run: CliRun;
  readonly ms: number;
  /** `--json` records from stdout; undefined without --json. */
  readonly json?: ResultRecord[];
  /** The manifest's records. */
  readonly manifest: ResultRecord[];
}

/** `linkface upload --manifest <fresh> ARGS` against `endpoint`, timed, with its records parsed. */
async function upload(endpoint: string, args: string[], options: { json?: boolean } = {}): Promise<Upload> {
  const manifestPath = join(setup.dir, `manifest-${fileCounter++}.ndjson`);
  const json = options.json ?? true;
  const started = Date.now();
  const run = await runCli(['upload', '--manifest', manifestPath, ...(json ? ['--json'] : []), ...args], {
    env: sandboxEnv(endpoint),
    cwd: setup.dir,
    timeoutMs: 30_000,
  });
  const ms = Date.now() - started;
  let manifestText = '';
  try {
    manifestText = readFileSync(manifestPath, 'utf8');
  } catch {
    // No manifest: the run stopped before it opened one (checked by the callers through their records).
  }
  if (manifestText !== '') expect(manifestText.endsWith('\n'), 'the manifest ends with a complete line').toBe(true);
  return { run, ms, json: json ? parseRecords(run.stdout) : undefined, manifest: parseRecords(manifestText) };
}

/** What a server received; an entry with an id is an upload it stored (answered OK). */
type Stored = ReadonlyArray<{ sha256?: string; id?: string }>;
const fromSandbox = (...servers: Sandbox[]): Stored =>
  servers.flatMap((s) => s.uploads().map((u) => ({ sha256: u.file?.sha256, id: u.livenessDataId })));

/**
 * Nothing lost: every input has exactly one record, in the manifest and (with --json) on stdout alike; an
 * uploaded input's id is one the server stored for its content, and its content was stored exactly once
 * (`duplicatesAllowed`: inputs whose first attempt the server may have stored while the answer was lost);
 * a failed input is reported with a status and a reason, has no id, and was not stored.
 */
function expectAccounted(result: Upload, inputs: ReadonlyArray<{ path: string; sha256: string }>, stored: Stored, duplicatesAllowed = false) {
  const { manifest } = result;
  expect(manifest.map((r) => r.input).sort(), 'one manifest record per input').toEqual(inputs.map((i) => i.path).sort());
  if (result.json) expect(result.json, '--json records are the manifest records').toEqual(manifest);
  for (const record of manifest) {
    const content = inputs.find((i) => i.path === record.input)?.sha256;
    const copies = stored.filter((s) => s.id !== undefined && s.sha256 === content);
    if (record.ok) {
      expect(record.status).toBe('OK');
      expect(record.liveness_data_id).toMatch(/^\S+$/);
      expect(copies.map((c) => c.id), `${record.input}: its id is one the server stored`).toContain(record.liveness_data_id);
      if (!duplicatesAllowed) expect(copies, `${record.input}: stored exactly once`).toHaveLength(1);
    } else {
      expect(record.liveness_data_id, `${record.input}: a failure has no id`).toBeUndefined();
      expect(record.reason, `${record.input}: a failure says why`).toMatch(/\S/);
      if (!duplicatesAllowed) expect(copies, `${record.input}: not stored`).toHaveLength(0);
    }
  }
}

const HTML_502 = '<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>';
const BODIES = {
  json: { body: '{"status":"INTERNAL_ERROR","reason":"upstream is down","request_id":"TIDjson"}', headers: { 'content-type': 'application/json' } },
  html: { body: HTML_502, headers: { 'content-type': 'text/html' } },
  empty: { body: '', headers: {} },
} as const;

describe('fault matrix: connections', () => {
  it(name('refused'), async () => {
    const port = await refusedPort();
    const inputs = [input(), input()];
    const result = await upload(`http://127.0.0.1:${port}`, ['--retries', '1', ...inputs.map((i) => i.path)]);
    expect(result.run.code, result.run.stderr).toBe(1);
    for (const record of result.manifest) {
      expect(record).toMatchObject({ ok: false, status: 'NETWORK_ERROR', attempts: 2 });
      expect(record.reason).toMatch(/connection refused/);
    }
    expect(result.run.stderr).toMatch(/NETWORK_ERROR/);
    expectAccounted(result, inputs, []);
  });

  it(name('dropOnConnect'), async () => {
    const proxy = await startFaultProxy(setup.sandbox.port, (i) => (i === 0 ? 'drop-on-connect' : 'forward'));
    try {
      const inputs = [input()];
      const result = await upload(proxy.url, ['-c', '1', inputs[0]!.path]);
      expect(result.run.code, result.run.stderr).toBe(0);
      expect(result.manifest[0]).toMatchObject({ ok: true, attempts: 2 });
      expect(proxy.connections[0]).toBe('drop-on-connect');
      expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['OK']);
      expectAccounted(result, inputs, fromSandbox(setup.sandbox));
    } finally {
      await proxy.close();
    }
  });

  it(name('dropEarly'), async () => {
    const proxy = await startFaultProxy(setup.sandbox.port, (i) => (i === 0 ? 'drop-after-first-bytes' : 'forward'));
    try {
      // 1 MiB: the request cannot fit in the first chunk the server reads, so the body is cut short.
      const big = input(Buffer.alloc(1024 * 1024, 7));
      const result = await upload(proxy.url, ['-c', '1', big.path]);
      expect(result.run.code, result.run.stderr).toBe(0);
      expect(result.manifest[0]).toMatchObject({ ok: true, attempts: 2 });
      expect(proxy.droppedBytes).toBeGreaterThan(0);
      expect(proxy.droppedBytes).toBeLessThan(1024 * 1024);
      expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['OK']);
      expectAccounted(result, [big], fromSandbox(setup.sandbox));
    } finally {
      await proxy.close();
    }
  });

  it(name('dropAlways'), async () => {
    const proxy = await startFaultProxy(setup.sandbox.port, () => 'drop-on-connect');
    try {
      const inputs = [input()];
      const result = await upload(proxy.url, ['--retries', '2', inputs[0]!.path]);
      expect(result.run.code, result.run.stderr).toBe(1);
      expect(result.manifest[0]).toMatchObject({ ok: false, status: 'NETWORK_ERROR', attempts: 3 });
      expect(proxy.connections.length).toBeGreaterThanOrEqual(3);
      expect(setup.sandbox.requests).toHaveLength(0);
      expect(result.run.stderr).toContain(`${inputs[0]!.path}: NETWORK_ERROR`);
      expectAccounted(result, inputs, fromSandbox(setup.sandbox));
    } finally {
      await proxy.close();
    }
  });

  it(name('resetAfterBody'), async () => {
    setup.sandbox.enqueue({ kind: 'reset' });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, ['--verbose', inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(0);
    expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['RESET', 'OK']);
    expect(result.manifest[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(result.run.stderr).toMatch(/attempt 1 .*NETWORK_ERROR.*may store a duplicate upload/);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it(name('resetAlways'), async () => {
    setup.sandbox.enqueue({ kind: 'reset' }, { kind: 'reset' });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, ['--retries', '1', inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(1);
    expect(result.manifest[0]).toMatchObject({ ok: false, status: 'NETWORK_ERROR', attempts: 2 });
    expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['RESET', 'RESET']);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });
});

describe('fault matrix: slow servers', () => {
  it(name('hang'), async () => {
    setup.sandbox.enqueue({ kind: 'hang' });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, ['--timeout', '0.5', '--verbose', inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(0);
    expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['HANG', 'OK']);
    expect(result.manifest[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(result.manifest[0]!.ms).toBeGreaterThanOrEqual(500);
    expect(result.run.stderr).toMatch(/attempt 1 .*TIMEOUT \(no answer within 0\.5 s \(--timeout\)\).*may store a duplicate upload/);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it(name('hangAlways'), async () => {
    setup.sandbox.enqueue({ kind: 'hang' }, { kind: 'hang' });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, ['--timeout', '0.3', '--retries', '1', inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(1);
    expect(result.manifest[0]).toMatchObject({ ok: false, status: 'TIMEOUT', attempts: 2 });
    expect(result.ms).toBeLessThan(8000);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it(name('dribble'), async () => {
    // ~80 bytes at one per 100 ms: 8 s for the answer, though a byte arrives well within every 0.5 s.
    const server = await startScriptedHttpServer((i) => (i === 0 ? dribbleOk(100) : answerOk));
    try {
      const inputs = [input()];
      const result = await upload(server.url, ['--timeout', '0.5', '--verbose', inputs[0]!.path]);
      expect(result.run.code, result.run.stderr).toBe(0);
      expect(result.ms).toBeLessThan(6000);
      expect(server.received).toHaveLength(2);
      expect(server.received.every((r) => r.sha256 === inputs[0]!.sha256)).toBe(true);
      // The answer that counts is the second one; the first was stored too, as the warning says it may be.
      expect(result.manifest[0]).toMatchObject({ ok: true, attempts: 2, liveness_data_id: server.received[1]!.id });
      expect(result.run.stderr).toMatch(/attempt 1 .*TIMEOUT.*may store a duplicate upload/);
      expectAccounted(result, inputs, server.received, true);
    } finally {
      await server.close();
    }
  });

  it(name('dribbleAlways'), async () => {
    const server = await startScriptedHttpServer(() => dribbleOk(100));
    try {
      const inputs = [input()];
      const result = await upload(server.url, ['--timeout', '0.4', '--retries', '1', inputs[0]!.path], { json: false });
      expect(result.run.code, result.run.stderr).toBe(1);
      expect(result.run.stdout).toBe('');
      expect(result.manifest[0]).toMatchObject({ ok: false, status: 'TIMEOUT', attempts: 2 });
      expect(result.ms).toBeLessThan(6000);
      expect(server.received).toHaveLength(2);
      // Reported, though the server stored it (twice): the one loss a non-idempotent API cannot rule out.
      expectAccounted(result, inputs, server.received, true);
    } finally {
      await server.close();
    }
  });
});

describe('fault matrix: server errors', () => {
  const cases = [500, 502, 503, 504].flatMap((status) => (['json', 'html', 'empty'] as const).map((body) => ({ status, body })));
  it.each(cases)(name('http5xx'), async ({ status, body }) => {
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: status, ...BODIES[body] });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, [inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(0);
    expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['RAW', 'OK']);
    expect(result.manifest[0]).toMatchObject({ ok: true, attempts: 2 });
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it.each([
    { status: 500, body: 'json', expected: 'INTERNAL_ERROR', reason: /upstream is down/ },
    { status: 502, body: 'html', expected: 'BAD_RESPONSE', reason: /text\/html: "502 Bad Gateway"/ },
    { status: 504, body: 'empty', expected: 'BAD_RESPONSE', reason: /\(empty body\)/ },
  ] as const)(name('http5xxAlways'), async ({ status, body, expected, reason }) => {
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: status, ...BODIES[body] }, { kind: 'raw', httpStatus: status, ...BODIES[body] });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, ['--retries', '1', inputs[0]!.path], { json: false });
    expect(result.run.code, result.run.stderr).toBe(1);
    expect(result.run.stdout).toBe('');
    expect(result.manifest[0]).toMatchObject({ ok: false, status: expected, http_status: status, attempts: 2 });
    expect(result.manifest[0]!.reason).toMatch(reason);
    expect(result.run.stderr).toContain(`${inputs[0]!.path}: ${expected} (HTTP ${status})`);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });
});

describe('fault matrix: answers that are not the API', () => {
  it(name('invalidJson'), async () => {
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: 200, body: '{"status":"OK","liveness_data_id":"0123456789abcdef', headers: { 'content-type': 'application/json' } });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, [inputs[0]!.path], { json: false });
    expect(result.run.code, result.run.stderr).toBe(1);
    expect(result.run.stdout).toBe('');
    expect(result.manifest[0]).toMatchObject({ ok: false, status: 'BAD_RESPONSE', http_status: 200, attempts: 1 });
    expect(result.manifest[0]!.reason).toMatch(/not JSON/);
    expect(setup.sandbox.requests).toHaveLength(1);
    expect(result.run.stderr).toContain(`${inputs[0]!.path}: BAD_RESPONSE (HTTP 200)`);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it(name('noStatus'), async () => {
    const id = 'fedcba9876543210fedcba9876543210';
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: 200, body: JSON.stringify({ liveness_data_id: id, request_id: 'TIDnostatus' }) });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, [inputs[0]!.path], { json: false });
    expect(result.run.code, result.run.stderr).toBe(1);
    expect(result.run.stdout).toBe('');
    expect(result.manifest[0]).toMatchObject({ ok: false, status: 'BAD_RESPONSE', attempts: 1 });
    expect(result.manifest[0]!.reason).toMatch(/no "status"/);
    expect(JSON.stringify(result.manifest)).not.toContain(id);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it.each([
    { variant: 'missing', body: '{"status":"OK","request_id":"TIDx"}' },
    { variant: 'empty', body: '{"status":"OK","liveness_data_id":"","request_id":"TIDx"}' },
    { variant: 'null', body: '{"status":"OK","liveness_data_id":null,"image_id":null}' },
  ])(name('okWithoutId'), async ({ body }) => {
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: 200, body, headers: { 'content-type': 'application/json' } });
    // Two inputs, one at a time: whichever goes first gets the bad answer; stdout must list only the other.
    const inputs = [input(), input()];
    const result = await upload(setup.sandbox.url, ['-c', '1', ...inputs.map((i) => i.path)], { json: false });
    expect(result.run.code, result.run.stderr).toBe(1);
    const rows = lines(result.run.stdout);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^[0-9a-f]{32}\t\S+$/);
    const bad = result.manifest.find((r) => !r.ok);
    expect(bad).toMatchObject({ status: 'BAD_RESPONSE', http_status: 200, attempts: 1 });
    expect(bad?.reason).toMatch(/OK without a liveness_data_id/);
    expect(result.run.stdout).not.toContain(bad?.input);
    expect(result.run.stderr).toContain(`${bad?.input}: BAD_RESPONSE (HTTP 200)`);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it(name('huge'), async () => {
    // Valid JSON with a 10 MB id: a client that read it all would print a 10 MB "id".
    const body = `{"status":"OK","liveness_data_id":"${'a'.repeat(10 * 1024 * 1024)}"}`;
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: 200, body, headers: { 'content-type': 'application/json' } });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, ['--timeout', '20', inputs[0]!.path], { json: false });
    expect(result.run.code, result.run.stderr).toBe(1);
    expect(result.run.stdout).toBe('');
    expect(result.manifest[0]).toMatchObject({ ok: false, status: 'BAD_RESPONSE', http_status: 200 });
    expect(result.manifest[0]!.reason).toMatch(/larger than any answer/);
    expect(result.ms).toBeLessThan(5000);
    expect(result.run.stderr.length).toBeLessThan(10_000);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it(name('endless'), async () => {
    const stats = { sentBytes: 0 };
    const server = await startScriptedHttpServer(() => endlessBody(stats));
    try {
      const inputs = [input()];
      const result = await upload(server.url, ['--timeout', '20', inputs[0]!.path]);
      expect(result.run.code, result.run.stderr).toBe(1);
      expect(result.manifest[0]).toMatchObject({ ok: false, status: 'BAD_RESPONSE', http_status: 200, attempts: 1 });
      expect(result.manifest[0]!.reason).toMatch(/larger than any answer/);
      expect(result.ms).toBeLessThan(5000);
      // What the server managed to hand to its socket: bounded by what the client read, plus buffers.
      expect(stats.sentBytes).toBeLessThan(8 * 1024 * 1024);
      expectAccounted(result, inputs, server.received);
    } finally {
      await server.close();
    }
  });
});

describe('fault matrix: Retry-After', () => {
  it(name('retryAfterSeconds'), async () => {
    setup.sandbox.enqueue({ kind: 'status', status: 'RATE_LIMIT_EXCEEDED', retryAfter: '1' });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, [inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(0);
    const [first, second] = setup.sandbox.requests;
    expect(first?.status).toBe('RATE_LIMIT_EXCEEDED');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(second!.at - first!.at).toBeLessThan(4000);
    expect(result.manifest[0]).toMatchObject({ ok: true, attempts: 2 });
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it(name('retryAfterDate'), async () => {
    // An HTTP date has whole seconds: at least 2 s from now, so at least ~1.5 s after the request arrives.
    const until = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    setup.sandbox.enqueue({ kind: 'status', status: 'RATE_LIMIT_EXCEEDED', retryAfter: new Date(until).toUTCString() });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, [inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(0);
    const [first, second] = setup.sandbox.requests;
    expect(first?.status).toBe('RATE_LIMIT_EXCEEDED');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(second!.at).toBeGreaterThanOrEqual(until - 100);
    expect(second!.at - until).toBeLessThan(3000);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });

  it.each([{ body: 'json' }, { body: 'html' }] as const)(name('retryAfter5xx'), async ({ body }) => {
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: 503, body: BODIES[body].body, headers: { ...BODIES[body].headers, 'retry-after': '1' } });
    const inputs = [input()];
    const result = await upload(setup.sandbox.url, [inputs[0]!.path]);
    expect(result.run.code, result.run.stderr).toBe(0);
    const [first, second] = setup.sandbox.requests;
    expect(second!.at - first!.at, 'the retry waited for Retry-After').toBeGreaterThanOrEqual(900);
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
  });
});

describe('fault matrix: batches', () => {
  it(name('outOfQuota'), async () => {
    await setup.restart({ latencyMs: 40 });
    const inputs = Array.from({ length: 20 }, (_, i) => (i === 8 ? input('LINKFACE-SANDBOX-STATUS:OUT_OF_QUOTA\n') : input()));
    const manifestPath = join(setup.dir, 'quota.ndjson');
    const args = ['upload', '--manifest', manifestPath, '--resume', '-c', '2', ...inputs.map((i) => i.path)];
    const run = await runCli(args, { env: setup.env, cwd: setup.dir });
    expect(run.code, run.stderr).toBe(3);
    const text = readFileSync(manifestPath, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const result: Upload = { run, ms: 0, manifest: parseRecords(text) };
    expectAccounted(result, inputs, fromSandbox(setup.sandbox));
    const byStatus = (status: string) => result.manifest.filter((r) => r.status === status);
    expect(byStatus('OUT_OF_QUOTA').map((r) => r.input)).toEqual([inputs[8]!.path]);
    expect(byStatus('OK').length + byStatus('OUT_OF_QUOTA').length + byStatus('NOT_ATTEMPTED').length).toBe(20);
    expect(byStatus('NOT_ATTEMPTED').length).toBeGreaterThanOrEqual(9);
    for (const record of byStatus('NOT_ATTEMPTED')) {
      expect(record.attempts).toBe(0);
      expect(record.reason).toMatch(/OUT_OF_QUOTA/);
    }
    // Nothing was sent for an input that was not attempted.
    const sent = new Set(setup.sandbox.requests.map((r) => r.file?.sha256));
    for (const record of byStatus('NOT_ATTEMPTED')) expect(sent.has(record.sha256)).toBe(false);
    expect(run.stderr).toMatch(/\d+ not attempted: the account cannot upload \(OUT_OF_QUOTA\)/);
    expect(lines(run.stdout)).toHaveLength(byStatus('OK').length);

    // Quota back: the same command with --resume uploads exactly what is missing.
    const quotaInput = inputs[8]!;
    writeFileSync(quotaInput.path, 'quota restored');
    const fixedInputs = inputs.map((i) => (i === quotaInput ? { path: i.path, sha256: sha256('quota restored') } : i));
    const resumed = await runCli(args, { env: setup.env, cwd: setup.dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    // Every input's id: the ones uploaded now, and the ones the manifest shows uploaded before.
    expect(lines(resumed.stdout)).toHaveLength(20);
    for (const record of byStatus('OK')) expect(resumed.stdout).toContain(`${record.liveness_data_id}\t`);
    const stored = fromSandbox(setup.sandbox);
    for (const i of fixedInputs) expect(stored.filter((s) => s.sha256 === i.sha256), i.path).toHaveLength(1);
  });

  it(name('restart'), { timeout: 40_000 }, async () => {
    // Both servers are the test's sandbox in turn, so each is closed after the test whatever happens.
    const first = await setup.restart({ latencyMs: 100 });
    const port = first.port;
    const inputs = Array.from({ length: 40 }, () => input());
    const pending = upload(first.url, ['-c', '4', '--retries', '6', ...inputs.map((i) => i.path)]);
    // Some uploads done, some in flight: then the server goes away.
    const midBatch = () => first.uploads().length >= 8 && first.requests.some((r) => r.status === 'PENDING');
    for (let i = 0; i < 1000 && !midBatch(); i++) await sleep(5);
    if (first.uploads().length < 8) expect.fail(`the batch did not get going: ${(await pending).run.stderr}`);
    await first.close();
    await sleep(500);
    const second = await setup.restart({ port, latencyMs: 100 });
    const result = await pending;
    expect([0, 1], result.run.stderr).toContain(result.run.code);
    const cut = first.requests.filter((r) => r.status !== 'OK');
    expect(cut.length, `requests were cut by the restart: ${first.requests.map((r) => r.status).join(' ')}`).toBeGreaterThan(0);
    expect(second.uploads().length, 'the new server took over').toBeGreaterThan(0);
    expectAccounted(result, inputs, fromSandbox(first, second));
    if (result.run.code === 0) expect(result.manifest.every((r) => r.ok)).toBe(true);
    // The files never changed: a failure can only be the network's.
    for (const r of result.manifest.filter((m) => !m.ok)) expect(['NETWORK_ERROR', 'TIMEOUT'], `${r.input}: ${r.reason}`).toContain(r.status);
  });
});
