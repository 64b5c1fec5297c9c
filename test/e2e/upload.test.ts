import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ERROR_STATUSES, STATUS_TABLE } from '../../src/explain/statuses.js';
import { FIXTURES, runCli, sandboxEnv, useSandbox } from './harness.js';

const setup = useSandbox('e2e');

function file(name: string, content: string | Buffer): string {
  const path = join(setup.dir, name);
  writeFileSync(path, content);
  return path;
}

const ALICE = join(FIXTURES, 'liveness/alice.bin');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('linkface upload: success', () => {
  it('prints only the id on stdout, and the server got the file with credentials in the form', async () => {
    const run = await runCli(['upload', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    const [stored] = setup.sandbox.uploads();
    expect(run.stdout).toBe(`${stored?.livenessDataId}\n`);
    expect(stored?.file).toMatchObject({ sha256: sha256(readFileSync(ALICE)), filename: 'alice.bin' });
    expect(stored?.fields).toMatchObject({ api_id: 'sandbox', api_secret: 'sandbox' });
    expect(stored?.query).toEqual({});
    expect(stored?.contentType).toMatch(/^multipart\/form-data/);
    expect(stored?.userAgent).toMatch(/^linkface-cli\/\d+\.\d+\.\d+ node\//);
    expect(run.stderr).toMatch(/uploaded .*alice\.bin/);
  });

  it('prints <id><TAB><input> per upload for several inputs, and a summary on stderr', async () => {
    const inputs = ['alice.bin', 'bob.bin', 'carol.bin'].map((name) => join(FIXTURES, 'liveness', name));
    const run = await runCli(['upload', ...inputs], { env: setup.env });
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n').map((line) => line.split('\t'));
    expect(lines.map(([, input]) => input).sort()).toEqual([...inputs].sort());
    expect(lines.map(([id]) => id).sort()).toEqual(setup.sandbox.uploads().map((u) => u.livenessDataId).sort());
    expect(run.stderr).toMatch(/^3 uploaded, 0 retries; 40 KiB in \d+ ms \([\d.]+ files\/s\)$/m);
  });

  it('reads the file from standard input with -', async () => {
    const run = await runCli(['upload', '-'], { env: setup.env, stdin: 'piped liveness bytes' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${setup.sandbox.uploads()[0]?.livenessDataId}\n`);
    expect(setup.sandbox.uploads()[0]?.file?.sha256).toBe(sha256(Buffer.from('piped liveness bytes')));
  });

  it('accepts the id as image_id, as the vendor example answers', async () => {
    await setup.restart({ idField: 'image_id' });
    const run = await runCli(['upload', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${setup.sandbox.uploads()[0]?.livenessDataId}\n`);
  });

  it('sends a URL input as the url field, percent-encoded, and the server downloads it', async () => {
    const content = readFileSync(ALICE);
    const files: Server = createServer((_req, res) => res.end(content));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    try {
      const address = files.address() as { port: number };
      const url = `http://127.0.0.1:${address.port}/活体/a b.bin`;
      const run = await runCli(['upload', url], { env: setup.env });
      expect(run.code, run.stderr).toBe(0);
      expect(setup.sandbox.uploads()[0]?.url).toBe(`http://127.0.0.1:${address.port}/%E6%B4%BB%E4%BD%93/a%20b.bin`);
      expect(run.stdout).toBe(`${setup.sandbox.uploads()[0]?.livenessDataId}\n`);
    } finally {
      await new Promise((resolve) => files.close(resolve));
    }
  });

  it('--json prints one result object per input, with the SPEC fields', async () => {
    const run = await runCli(['upload', '--json', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    const record = JSON.parse(run.stdout);
    expect(Object.keys(record).sort()).toEqual(
      ['at', 'attempts', 'bytes', 'http_status', 'input', 'kind', 'liveness_data_id', 'ms', 'ok', 'request_id', 'sha256', 'status'].sort(),
    );
    expect(record).toMatchObject({
      input: ALICE,
      kind: 'file',
      sha256: sha256(readFileSync(ALICE)),
      bytes: 4096,
      ok: true,
      status: 'OK',
      liveness_data_id: setup.sandbox.uploads()[0]?.livenessDataId,
      request_id: setup.sandbox.uploads()[0]?.requestId,
      http_status: 200,
      attempts: 1,
    });
    expect(new Date(record.at).toISOString()).toBe(record.at);
    expect(run.stderr).toBe('');
  });

  it('--quiet leaves stderr empty on success', async () => {
    const run = await runCli(['upload', '--quiet', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^[0-9a-f]{32}\n$/);
  });

  it('--sandbox uploads to an embedded sandbox with no credentials at all', async () => {
    const run = await runCli(['upload', '--sandbox', ALICE]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^[0-9a-f]{32}\n$/);
    expect(run.stderr).toMatch(/embedded sandbox/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });
});

describe('linkface upload: every documented error code', () => {
  it.each(API_ERROR_STATUSES.map((status) => [status, STATUS_TABLE[status]] as const))(
    '%s is explained with its HTTP status and next step, and the right exit code',
    async (status, entry) => {
      const trigger = file(`trigger-${status}.bin`, `LINKFACE-SANDBOX-STATUS:${status}\n`);
      const run = await runCli(['upload', '--retries', '1', trigger], { env: { ...setup.env, LINKFACE_TIMEOUT: '5' } });
      const retried = entry.retry === 'always' || entry.retry === 'rate-limit';
      expect(run.code).toBe(entry.account ? 3 : 1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`${trigger}: ${status} (HTTP ${entry.httpStatus})`);
      expect(run.stderr).toContain(entry.meaning.en);
      expect(run.stderr).toContain(`next step: ${entry.nextStep.en}`);
      expect(run.stderr).toMatch(/request id: TID/);
      expect(run.stderr).toMatch(/server said: triggered by the file content LINKFACE-SANDBOX-STATUS/);
      expect(setup.sandbox.requests).toHaveLength(retried ? 2 : 1);
    },
  );

  it('names where the credentials came from under an UNAUTHORIZED failure', async () => {
    const run = await runCli(['upload', '--api-id', 'someone-else', ALICE], { env: setup.env });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/now set by: api id: flag --api-id; api secret: env LINKFACE_API_SECRET/);
  });

  it('explains in Chinese with --lang zh', async () => {
    const run = await runCli(['upload', '--lang', 'zh', ALICE], { env: { ...setup.env, LINKFACE_API_SECRET: 'wrong' } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(STATUS_TABLE.UNAUTHORIZED.meaning.zh);
    expect(run.stderr).toContain('下一步');
  });
});

describe('linkface upload: retries and network failures', () => {
  it('retries after a 500 and succeeds', async () => {
    setup.sandbox.enqueue({ kind: 'status', status: 'INTERNAL_ERROR' });
    const run = await runCli(['upload', '--verbose', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['INTERNAL_ERROR', 'OK']);
    expect(run.stdout).toBe(`${setup.sandbox.uploads()[0]?.livenessDataId}\n`);
    expect(run.stderr).toMatch(/attempt 1 POST 127\.0\.0\.1:\d+ .* → 500 INTERNAL_ERROR in .*; retrying in /);
    expect(run.stderr).toMatch(/attempt 2 POST .* → 200 OK/);
  });

  it('retries after a dropped connection, warning in --verbose that it may duplicate the upload', async () => {
    setup.sandbox.enqueue({ kind: 'reset' });
    const run = await runCli(['upload', '--verbose', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    expect(setup.sandbox.requests.map((r) => r.status)).toEqual(['RESET', 'OK']);
    expect(run.stderr).toMatch(/may store a duplicate upload/);
  });

  it("retries a proxy's HTML 502", async () => {
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: 502, body: '<html><title>502 Bad Gateway</title></html>', headers: { 'content-type': 'text/html' } });
    const run = await runCli(['upload', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    expect(setup.sandbox.requests).toHaveLength(2);
  });

  it('times out an attempt with no answer, then retries', async () => {
    setup.sandbox.enqueue({ kind: 'hang' });
    const run = await runCli(['upload', '--timeout', '0.5', '--verbose', ALICE], { env: setup.env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/TIMEOUT \(no answer within 0\.5 s \(--timeout\)\)/);
  });

  it('reports TIMEOUT with exit 1 when every attempt times out', async () => {
    setup.sandbox.enqueue({ kind: 'hang' }, { kind: 'hang' });
    const run = await runCli(['upload', '--timeout', '0.3', '--retries', '1', ALICE], { env: setup.env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${ALICE}: TIMEOUT`);
    expect(run.stderr).toMatch(/next step: Raise --timeout/);
    expect(run.stderr).toMatch(/attempts: 2/);
  });

  it('reports NETWORK_ERROR with exit 1 when nothing listens', async () => {
    const closed = setup.sandbox.url;
    await setup.restart();
    const run = await runCli(['upload', '--retries', '1', ALICE], { env: sandboxEnv(closed) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${ALICE}: NETWORK_ERROR`);
    expect(run.stderr).toMatch(/connection refused/);
  });

  it('reports BAD_RESPONSE for a 200 OK without an id, never an empty id', async () => {
    setup.sandbox.enqueue({ kind: 'raw', httpStatus: 200, body: '{"status":"OK","request_id":"TIDx"}' });
    const run = await runCli(['upload', ALICE], { env: setup.env });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/BAD_RESPONSE \(HTTP 200\)/);
  });
});

describe('linkface upload: bad input sends nothing', () => {
  it('lists every invalid input and exits 2 having sent nothing', async () => {
    const empty = file('empty.bin', '');
    const big = file('big.bin', Buffer.alloc(5 * 1024 * 1024 + 1));
    const emptyFolder = join(setup.dir, 'nothing-here');
    mkdirSync(emptyFolder, { recursive: true });
    const run = await runCli(['upload', ALICE, join(setup.dir, 'missing.bin'), empty, big, 'ftp://x/y', emptyFolder], { env: setup.env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/5 inputs are not valid; nothing was uploaded/);
    expect(run.stderr).toMatch(/missing\.bin: no such file/);
    expect(run.stderr).toMatch(/empty\.bin: is empty/);
    expect(run.stderr).toMatch(/big\.bin: is 5242881 bytes, over the 5242880-byte limit/);
    expect(run.stderr).toMatch(/ftp:\/\/x\/y: unsupported URL scheme/);
    expect(run.stderr).toMatch(/nothing-here: the directory has no files to upload/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('--max-size lowers the limit', async () => {
    const run = await runCli(['upload', '--max-size', '1KB', ALICE], { env: setup.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is 4 KiB, over the 1 KiB limit/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('--skip-invalid uploads the rest and reports the invalid ones as SKIPPED', async () => {
    const run = await runCli(['upload', '--skip-invalid', '--json', ALICE, join(setup.dir, 'missing.bin')], { env: setup.env });
    expect(run.code).toBe(0);
    const records = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(records.map((r) => r.status).sort()).toEqual(['OK', 'SKIPPED']);
    expect(setup.sandbox.uploads()).toHaveLength(1);
  });

  it('refuses a plain-http endpoint that is not loopback, before sending anything', async () => {
    const run = await runCli(['upload', ALICE], { env: { ...setup.env, LINKFACE_ENDPOINT: 'http://cloudapi.linkface.cn' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Refusing to send the API secret in clear text/);
    expect(run.stderr).toMatch(/--allow-http/);
  });

  it('exits 2 for a missing input and for an unknown flag', async () => {
    expect((await runCli(['upload'], { env: setup.env })).code).toBe(2);
    const unknown = await runCli(['upload', '--colour', ALICE], { env: setup.env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--colour'/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });
});
