import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, Agent as HttpAgent } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { DOCUMENTED_HTTP_STATUS } from '../documented-codes.js';

const UPLOAD_PATH = '/resources/upload_liveness_data';
const CREDENTIALS = { api_id: 'sandbox', api_secret: 'sandbox' };
const MiB = 1024 * 1024;
const HEX32 = /^[0-9a-f]{32}$/;
const REQUEST_ID = /^TID[0-9a-f]{32}$/;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function sandbox(options?: SandboxOptions): Promise<Sandbox> {
  const started = await startSandbox(options);
  cleanups.push(() => started.close());
  return started;
}

/** A plain HTTP server for the sandbox to download `url` inputs from. */
async function fileServer(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => closeServer(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

function multipart(
  fields: Record<string, string>,
  file?: { content: string | Uint8Array; filename?: string },
): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append('file', new Blob([file.content]), file.filename ?? 'capture.bin');
  return form;
}

interface Reply {
  httpStatus: number;
  headers: Headers;
  json: Record<string, unknown>;
}

interface PostOptions {
  search?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

type Body = FormData | URLSearchParams | string;

async function post(target: Sandbox, body: Body, options: PostOptions = {}): Promise<Reply> {
  const { search = '', ...init } = options;
  const response = await fetch(`${target.url}${UPLOAD_PATH}${search}`, { method: 'POST', body, ...init });
  const text = await response.text();
  return { httpStatus: response.status, headers: response.headers, json: JSON.parse(text) as Record<string, unknown> };
}

function upload(target: Sandbox, content: string | Uint8Array, fields: Record<string, string> = CREDENTIALS) {
  return post(target, multipart(fields, { content }));
}

function expectError(reply: Reply, status: string, httpStatus: number, reason?: RegExp | string): void {
  expect(reply.httpStatus).toBe(httpStatus);
  expect(reply.json['status']).toBe(status);
  expect(reply.json['request_id']).toMatch(REQUEST_ID);
  expect(reply.json).not.toHaveProperty('liveness_data_id');
  if (reason !== undefined) expect(reply.json['reason']).toMatch(reason);
}

describe('sandbox: successful uploads', () => {
  it('answers a multipart upload with a liveness_data_id and records what it received', async () => {
    const target = await sandbox();
    const content = 'encrypted liveness bytes';
    const reply = await post(target, multipart(CREDENTIALS, { content, filename: 'a.bin' }), {
      headers: { 'user-agent': 'linkface-test/1' },
    });

    expect(reply.httpStatus).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(reply.json).toEqual({
      request_id: expect.stringMatching(REQUEST_ID),
      status: 'OK',
      liveness_data_id: expect.stringMatching(HEX32),
    });
    expect(target.uploads()).toHaveLength(1);
    expect(target.requests[0]).toMatchObject({
      method: 'POST',
      path: UPLOAD_PATH,
      userAgent: 'linkface-test/1',
      contentType: expect.stringMatching(/^multipart\/form-data; boundary=/),
      fields: CREDENTIALS,
      query: {},
      file: { filename: 'a.bin', bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') },
      status: 'OK',
      httpStatus: 200,
      livenessDataId: reply.json['liveness_data_id'],
      requestId: reply.json['request_id'],
    });
  });

  it('gives every upload a new id, also for the same content (uploads are not idempotent)', async () => {
    const target = await sandbox();
    const first = await upload(target, 'same');
    const second = await upload(target, 'same');
    expect(first.json['liveness_data_id']).not.toBe(second.json['liveness_data_id']);
    expect(first.json['request_id']).not.toBe(second.json['request_id']);
  });

  it('answers image_id, or both fields, when asked to', async () => {
    const imageOnly = await upload(await sandbox({ idField: 'image_id' }), 'x');
    expect(imageOnly.json['image_id']).toMatch(HEX32);
    expect(imageOnly.json).not.toHaveProperty('liveness_data_id');

    const both = await upload(await sandbox({ idField: 'both' }), 'x');
    expect(both.json['liveness_data_id']).toMatch(HEX32);
    expect(both.json['image_id']).toBe(both.json['liveness_data_id']);
  });

  it('keeps no request records when told not to (a long-running server), and still logs and answers', async () => {
    const lines: string[] = [];
    const target = await sandbox({ recordRequests: false, log: (line) => lines.push(line) });
    const reply = await upload(target, 'liveness data');
    expect(reply.httpStatus).toBe(200);
    expect(reply.json['liveness_data_id']).toMatch(HEX32);
    expect(target.requests).toEqual([]);
    expect(target.uploads()).toEqual([]);
    expect(lines).toEqual([expect.stringMatching(/^POST \/resources\/upload_liveness_data OK 200 \d+ms$/)]);
  });

  it('accepts other credentials when started with them', async () => {
    const target = await sandbox({ apiId: 'id-1', apiSecret: 'secret-1' });
    expect((await upload(target, 'x', { api_id: 'id-1', api_secret: 'secret-1' })).httpStatus).toBe(200);
    expectError(await upload(target, 'x'), 'UNAUTHORIZED', 401);
  });
});

describe('sandbox: request checks', () => {
  it('answers 401 UNAUTHORIZED for a wrong id or secret', async () => {
    const target = await sandbox();
    expectError(await upload(target, 'x', { api_id: 'sandbox', api_secret: 'wrong' }), 'UNAUTHORIZED', 401);
    expectError(await upload(target, 'x', { api_id: 'wrong', api_secret: 'sandbox' }), 'UNAUTHORIZED', 401);
    expect(target.uploads()).toHaveLength(0);
  });

  it('answers 400 INVALID_ARGUMENT naming a missing credential', async () => {
    const target = await sandbox();
    expectError(await upload(target, 'x', { api_id: 'sandbox' }), 'INVALID_ARGUMENT', 400, /api_secret/);
    expectError(await upload(target, 'x', { api_secret: 'sandbox' }), 'INVALID_ARGUMENT', 400, /api_id/);
  });

  it('checks the credentials before file and url, so a call with the credentials alone (linkface doctor) tells a wrong key', async () => {
    const target = await sandbox();
    expectError(await post(target, multipart({ api_id: 'sandbox', api_secret: 'wrong' })), 'UNAUTHORIZED', 401);
    expectError(await post(target, multipart(CREDENTIALS)), 'INVALID_ARGUMENT', 400, /^must specify 'file' or 'url' argument$/);
    expect(target.uploads()).toHaveLength(0);
  });

  it('requires exactly one of file and url', async () => {
    const target = await sandbox();
    const neither = await post(target, multipart(CREDENTIALS));
    expectError(neither, 'INVALID_ARGUMENT', 400, /^must specify 'file' or 'url' argument$/);
    const both = await post(target, multipart({ ...CREDENTIALS, url: 'http://example.invalid/a' }, { content: 'x' }));
    expectError(both, 'INVALID_ARGUMENT', 400, /^specify only one of 'file' or 'url'$/);
  });

  it('answers WRONG_LIVENESS_DATA for an empty file', async () => {
    expectError(await upload(await sandbox(), ''), 'WRONG_LIVENESS_DATA', 400);
  });

  it('refuses a file over maxFileBytes, and a body over the cap without reading it all', async () => {
    const target = await sandbox({ maxFileBytes: 1024 });
    expect((await upload(target, new Uint8Array(1024))).httpStatus).toBe(200);
    expectError(await upload(target, new Uint8Array(1025)), 'INVALID_ARGUMENT', 400, /^file exceeds 1024 bytes$/);

    const huge = await post(target, multipart(CREDENTIALS, { content: new Uint8Array(4 * MiB) }));
    expectError(huge, 'INVALID_ARGUMENT', 400, /^file exceeds 1024 bytes$/);
    expect(huge.headers.get('connection')).toBe('close');
    expect(target.uploads()).toHaveLength(1);
  });

  it('stops reading a streamed body once it passes the cap', async () => {
    const target = await sandbox({ maxFileBytes: 1024 });
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    // 256 MiB offered lazily, with no Content-Length, so only reading can reveal the size.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 256 * MiB) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${target.url}${UPLOAD_PATH}`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: 'INVALID_ARGUMENT', reason: 'file exceeds 1024 bytes' });
    expect(sent).toBeLessThan(64 * MiB);
  });

  it('takes exactly 5 MiB and refuses 5 MiB + 1 byte by default', async () => {
    const target = await sandbox();
    expect((await upload(target, new Uint8Array(5 * MiB))).httpStatus).toBe(200);
    expectError(await upload(target, new Uint8Array(5 * MiB + 1)), 'INVALID_ARGUMENT', 400, /^file exceeds 5 MB$/);
  });

  it('answers 404 NOT_FOUND for another path or method', async () => {
    const target = await sandbox();
    const body = multipart(CREDENTIALS, { content: 'x' });
    const wrongPath = await fetch(`${target.url}/resources/upload_image`, { method: 'POST', body });
    expect(wrongPath.status).toBe(404);
    expect(await wrongPath.json()).toMatchObject({
      status: 'NOT_FOUND',
      request_id: expect.stringMatching(REQUEST_ID),
    });
    const wrongMethod = await fetch(`${target.url}${UPLOAD_PATH}`);
    expect(wrongMethod.status).toBe(404);
    expect(await wrongMethod.json()).toMatchObject({ status: 'NOT_FOUND' });
  });

  it('answers ENCODING_ERROR for a parameter that is not UTF-8', async () => {
    const target = await sandbox();
    const reply = await post(target, `api_id=sandbox&api_secret=sandbox&url=%FF%FE`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(reply, 'ENCODING_ERROR', 400, /url/);
  });

  it('answers INVALID_ARGUMENT for a body that is not a form', async () => {
    const target = await sandbox();
    const reply = await post(target, '{"api_id":"sandbox"}', { headers: { 'content-type': 'application/json' } });
    expectError(reply, 'INVALID_ARGUMENT', 400, /Content-Type/);
  });
});

describe('sandbox: trigger content', () => {
  it.each(Object.entries(DOCUMENTED_HTTP_STATUS))(
    'LINKFACE-SANDBOX-STATUS:%s gets HTTP %i',
    async (code, httpStatus) => {
      const reply = await upload(await sandbox(), `LINKFACE-SANDBOX-STATUS:${code}\n`);
      expectError(reply, code, httpStatus, /triggered by the file content LINKFACE-SANDBOX-STATUS/);
    },
  );

  it('works without the newline, and rejects an unknown code by naming the valid ones', async () => {
    const target = await sandbox();
    expectError(await upload(target, 'LINKFACE-SANDBOX-STATUS:KEY_EXPIRED'), 'KEY_EXPIRED', 401);
    expectError(await upload(target, 'LINKFACE-SANDBOX-STATUS:NOPE\n'), 'INVALID_ARGUMENT', 400, /NOPE.*OUT_OF_QUOTA/);
  });
});

describe('sandbox: url inputs', () => {
  it('downloads the url, with urlencoded body and credentials in the query string', async () => {
    const content = 'liveness data served over http';
    const origin = await fileServer((req, res) => {
      res.end(req.url === '/a.bin' ? content : 'LINKFACE-SANDBOX-STATUS:NO_PERMISSION');
    });
    const lines: string[] = [];
    const target = await sandbox({ apiSecret: 'top-secret', log: (line) => lines.push(line) });
    const search = '?api_id=sandbox&api_secret=top-secret';

    const reply = await post(target, new URLSearchParams({ url: `${origin}/a.bin` }), { search });
    expect(reply.httpStatus).toBe(200);
    expect(reply.json['liveness_data_id']).toMatch(HEX32);
    expect(target.requests[0]).toMatchObject({
      contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
      query: { api_id: 'sandbox', api_secret: 'top-secret' },
      fields: { url: `${origin}/a.bin` },
      url: `${origin}/a.bin`,
      status: 'OK',
    });
    expect(target.requests[0]?.file).toBeUndefined();

    // Trigger content works behind a url too.
    const triggered = await post(target, new URLSearchParams({ url: `${origin}/b.bin` }), { search });
    expectError(triggered, 'NO_PERMISSION', 403);

    expect(lines).toEqual([
      expect.stringMatching(/^POST \/resources\/upload_liveness_data OK 200 \d+ms$/),
      expect.stringMatching(/^POST \/resources\/upload_liveness_data NO_PERMISSION 403 \d+ms$/),
    ]);
    expect(lines.join('\n')).not.toContain('top-secret');
  });

  it('follows redirects to the content, as a download by the service does', async () => {
    const origin = await fileServer((req, res) => {
      if (req.url === '/moved.bin') {
        res.writeHead(302, { location: '/a.bin' }).end();
      } else {
        res.end(req.url === '/a.bin' ? 'liveness data behind a redirect' : '');
      }
    });
    const target = await sandbox();
    const reply = await post(target, multipart({ ...CREDENTIALS, url: `${origin}/moved.bin` }));
    expect(reply.httpStatus).toBe(200);
    expect(reply.json['liveness_data_id']).toMatch(HEX32);
  });

  it('answers DOWNLOAD_TIMEOUT when the url does not answer in time', async () => {
    const origin = await fileServer(() => {});
    const target = await sandbox({ downloadTimeoutMs: 200 });
    const reply = await post(target, multipart({ ...CREDENTIALS, url: `${origin}/slow.bin` }));
    expectError(reply, 'DOWNLOAD_TIMEOUT', 400, /200 ms/);
  });

  it('answers DOWNLOAD_ERROR for a refused connection, a non-2xx answer and an empty one', async () => {
    const refused = await closedPort();
    const origin = await fileServer((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end();
    });
    const target = await sandbox();
    const send = (url: string) => post(target, multipart({ ...CREDENTIALS, url }));
    expectError(await send(`http://127.0.0.1:${refused}/a.bin`), 'DOWNLOAD_ERROR', 400, /ECONNREFUSED/);
    expectError(await send(`${origin}/missing`), 'DOWNLOAD_ERROR', 400, /404/);
    expectError(await send(`${origin}/empty`), 'DOWNLOAD_ERROR', 400, /no content/);
  });

  it('refuses a url that is not http(s), and downloaded content over the limit', async () => {
    const origin = await fileServer((_req, res) => res.end(Buffer.alloc(2048)));
    const target = await sandbox({ maxFileBytes: 1024 });
    const send = (url: string) => post(target, multipart({ ...CREDENTIALS, url }));
    expectError(await send('ftp://example.com/a.bin'), 'INVALID_ARGUMENT', 400, /http or https/);
    expectError(await send(`${origin}/big.bin`), 'INVALID_ARGUMENT', 400, /^file exceeds 1024 bytes$/);
  });
});

describe('sandbox: faults', () => {
  it('answers enqueued responses in order, then behaves normally again', async () => {
    const target = await sandbox();
    target.enqueue(
      { kind: 'status', status: 'RATE_LIMIT_EXCEEDED', retryAfter: '7' },
      { kind: 'status', status: 'SOMETHING_NEW', reason: 'new code' },
      { kind: 'status', status: 'OUT_OF_QUOTA', httpStatus: 429 },
      { kind: 'raw', httpStatus: 502, body: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } },
      { kind: 'status', status: 'OK' },
    );

    const limited = await upload(target, 'x');
    expectError(limited, 'RATE_LIMIT_EXCEEDED', 403);
    expect(limited.headers.get('retry-after')).toBe('7');
    expectError(await upload(target, 'x'), 'SOMETHING_NEW', 400, 'new code');
    expectError(await upload(target, 'x'), 'OUT_OF_QUOTA', 429);

    const body = multipart(CREDENTIALS, { content: 'x' });
    const proxy = await fetch(`${target.url}${UPLOAD_PATH}`, { method: 'POST', body });
    expect(proxy.status).toBe(502);
    expect(proxy.headers.get('content-type')).toBe('text/html');
    expect(await proxy.text()).toBe('<html>Bad Gateway</html>');

    // A scripted OK is a success with an id; after the script, normal answers (an empty file is refused).
    expect((await upload(target, 'x')).json['liveness_data_id']).toMatch(HEX32);
    expectError(await upload(target, ''), 'WRONG_LIVENESS_DATA', 400);
    expect(target.requests.map((r) => r.status)).toEqual([
      'RATE_LIMIT_EXCEEDED',
      'SOMETHING_NEW',
      'OUT_OF_QUOTA',
      'RAW',
      'OK',
      'WRONG_LIVENESS_DATA',
    ]);
    expect(target.uploads()).toHaveLength(1);
  });

  it('drops the connection for an enqueued reset, and never answers an enqueued hang', async () => {
    const target = await sandbox();
    target.enqueue({ kind: 'reset' }, { kind: 'hang' });
    await expect(upload(target, 'x')).rejects.toThrow(TypeError);
    const hung = post(target, multipart(CREDENTIALS, { content: 'x' }), { signal: AbortSignal.timeout(300) });
    await expect(hung).rejects.toThrow(/aborted/i);
    expect(target.requests.map((r) => [r.status, r.httpStatus])).toEqual([['RESET', 0], ['HANG', 0]]);
    expect(target.requests[1]?.file?.bytes).toBe(1);
    expect((await upload(target, 'x')).httpStatus).toBe(200);
  });

  it('rate-limits with a token bucket and a Retry-After in whole seconds', async () => {
    const perSecond = await sandbox({ rateLimit: 1 });
    expect((await upload(perSecond, 'x')).httpStatus).toBe(200);
    const limited = await upload(perSecond, 'x');
    expectError(limited, 'RATE_LIMIT_EXCEEDED', 403);
    expect(limited.headers.get('retry-after')).toBe('1');

    const slow = await sandbox({ rateLimit: 0.25 });
    expect((await upload(slow, 'x')).httpStatus).toBe(200);
    expect((await upload(slow, 'x')).headers.get('retry-after')).toBe('4');

    const burst = await sandbox({ rateLimit: 3 });
    const statuses = await Promise.all([1, 2, 3, 4].map(async () => (await upload(burst, 'x')).httpStatus));
    expect(statuses.sort()).toEqual([200, 200, 200, 403]);
  });

  it('answers 500 INTERNAL_ERROR at the fail rate, deterministically for a given random', async () => {
    expectError(await upload(await sandbox({ failRate: 1 }), 'x'), 'INTERNAL_ERROR', 500);

    const draws = [0.2, 0.7, 0.4];
    const target = await sandbox({ failRate: 0.5, random: () => draws.shift() ?? 1 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await upload(target, 'x')).httpStatus);
    expect(statuses).toEqual([500, 200, 500]);
  });

  it('drops connections at the reset rate', async () => {
    const target = await sandbox({ resetRate: 1 });
    await expect(upload(target, 'x')).rejects.toThrow(TypeError);
    expect(target.requests[0]?.status).toBe('RESET');
    expect(target.uploads()).toHaveLength(0);
  });

  it('waits latencyMs before answering', async () => {
    const target = await sandbox({ latencyMs: 150 });
    const started = performance.now();
    expect((await upload(target, 'x')).httpStatus).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('sandbox: connections', () => {
  it('serves several requests on one keep-alive socket, and close() does not wait for it', async () => {
    const target = await sandbox();
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());
    const sockets = new Set<unknown>();
    for (let i = 0; i < 2; i++) {
      const { httpStatus, socket } = await rawPost(target, agent);
      expect(httpStatus).toBe(200);
      sockets.add(socket);
    }
    expect(sockets.size).toBe(1);

    const started = performance.now();
    await target.close();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('close() resolves with a hung request open, and the client sees the connection end', async () => {
    const target = await sandbox();
    target.enqueue({ kind: 'hang' });
    const hung = upload(target, 'x');
    await vi.waitFor(() => expect(target.requests[0]?.status).toBe('HANG'));
    await target.close();
    await expect(hung).rejects.toThrow(TypeError);
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

/** A multipart upload over node:http, written out as curl sends it, to see which socket carried it. */
function rawPost(target: Sandbox, agent: HttpAgent): Promise<{ httpStatus: number; socket: unknown }> {
  const boundary = '------------------------d74496d66958873e';
  const part = (disposition: string, content: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${content}\r\n`;
  const body =
    part('name="api_id"', 'sandbox') +
    part('name="api_secret"', 'sandbox') +
    part('name="file"; filename="a.bin"', 'data') +
    `--${boundary}--\r\n`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${target.url}${UPLOAD_PATH}`, {
      method: 'POST',
      agent,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ httpStatus: res.statusCode ?? 0, socket: req.socket }));
    });
    req.end(body);
  });
}
