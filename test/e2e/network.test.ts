import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { FIXTURES, runCli, sandboxEnv } from './harness.js';
import { hasOpenssl, useTlsFixture } from './pki.js';

/**
 * linkface on real networks, through the built command and real sockets on loopback: forward proxies
 * (HTTP(S)_PROXY, NO_PROXY), https with a private certificate authority (--ca, LINKFACE_CA_FILE,
 * NODE_EXTRA_CA_CERTS), and IPv6.
 */

const ALICE = join(FIXTURES, 'liveness/alice.bin');
/** Distinctive, so that finding it anywhere is meaningful. */
const SECRET = 'network-test-secret-4f1c9e';
const ID = 'network-test-id';

/** This machine sets NODE_EXTRA_CA_CERTS for every process; each case here says what it trusts. */
const TRUST_NOTHING_EXTRA = { NODE_EXTRA_CA_CERTS: '' };

const openssl = hasOpenssl();
const ipv6 = await hasIpv6Loopback();

const fixture = useTlsFixture('linkface-network-', { apiId: ID, apiSecret: SECRET }, openssl);
const { sandboxAt, proxy } = fixture;

function upload(endpoint: string, args: string[], env: Record<string, string>) {
  return runCli(['upload', ...args, ALICE], { env: { ...sandboxEnv(endpoint, ID, SECRET), ...TRUST_NOTHING_EXTRA, ...env } });
}

/** The one upload the sandbox stored, checked to carry the credentials in the form only. */
function storedUpload(sandbox: Sandbox) {
  expect(sandbox.uploads()).toHaveLength(1);
  const [stored] = sandbox.uploads();
  expect(stored?.fields).toMatchObject({ api_id: ID, api_secret: SECRET });
  expect(stored?.query).toEqual({});
  return stored;
}

describe('through a forward proxy (HTTP_PROXY / HTTPS_PROXY)', () => {
  it.each(['HTTP_PROXY', 'http_proxy'])('sends an http endpoint upload to %s by absolute URI', async (variable) => {
    const sandbox = await sandboxAt();
    const forward = await proxy();
    const run = await upload(sandbox.url, [], { [variable]: forward.url });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${storedUpload(sandbox)?.livenessDataId}\n`);
    expect(forward.requests).toMatchObject([{ method: 'POST', target: `${sandbox.url}/resources/upload_liveness_data`, status: 200 }]);
    // Plain http: the proxy can read the body (that is why http is refused beyond loopback), never a URL with it.
    expect(forward.requests[0]?.target).not.toContain(SECRET);
  });

  it.runIf(openssl).each(['HTTPS_PROXY', 'https_proxy'])('tunnels an https endpoint upload through %s with CONNECT', async (variable) => {
    const sandbox = await sandboxAt({ tls: true });
    const forward = await proxy();
    const run = await upload(sandbox.url, ['--ca', fixture.pki.ca], { [variable]: forward.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${storedUpload(sandbox)?.livenessDataId}\n`);
    expect(forward.requests).toMatchObject([{ method: 'CONNECT', target: `127.0.0.1:${sandbox.port}`, status: 200 }]);
    // Everything the proxy carried was encrypted: the secret appears nowhere it could log or read.
    expect(forward.requests[0]?.sent.length).toBeGreaterThan(0);
    expect(forward.sawInClear(SECRET)).toBe(false);
    expect(forward.sawInClear('api_secret')).toBe(false);
  });

  it.runIf(openssl)('trusts NODE_EXTRA_CA_CERTS inside the tunnel too', async () => {
    const sandbox = await sandboxAt({ tls: true });
    const forward = await proxy();
    const run = await upload(sandbox.url, [], { HTTPS_PROXY: forward.url, NODE_EXTRA_CA_CERTS: fixture.pki.ca });
    expect(run.code).toBe(0);
    storedUpload(sandbox);
    expect(forward.requests).toMatchObject([{ method: 'CONNECT' }]);
  });

  it('takes a proxy written without a scheme as http://, as curl does', async () => {
    const sandbox = await sandboxAt();
    const forward = await proxy();
    const run = await upload(sandbox.url, [], { HTTP_PROXY: forward.url.replace('http://', '') });
    expect(run.code).toBe(0);
    expect(forward.requests).toHaveLength(1);
  });

  it('names the proxy when it cannot be reached, and refuses a proxy variable that is not a URL', async () => {
    const sandbox = await sandboxAt();
    const down = await upload(sandbox.url, ['--retries', '0'], { HTTP_PROXY: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/connection refused: nothing is listening at that address \(127\.0\.0\.1:9\)/);
    const broken = await upload(sandbox.url, [], { HTTPS_PROXY: 'ftp://u:hunter2@proxy' });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/HTTPS_PROXY is set but is not a proxy URL/);
    expect(broken.stderr).not.toContain('hunter2');
    expect(sandbox.requests).toHaveLength(0);
  });

  it('never sends the embedded sandbox (--sandbox) to a proxy', async () => {
    const run = await runCli(['upload', '--sandbox', ALICE], { env: { HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\w+\n$/);
  });

  // What NO_PROXY matches: the endpoint's host name exactly as written in the URL (or a subdomain of an
  // entry, optionally with :port); names are not resolved, so `localhost` does not cover 127.0.0.1.
  it.each([
    ['127.0.0.1', '127.0.0.1', false],
    ['localhost', '127.0.0.1', true],
    ['localhost', 'localhost', false],
    ['example.com,127.0.0.1', '127.0.0.1', false],
    ['*', '127.0.0.1', false],
    ['', '127.0.0.1', true],
  ])('NO_PROXY=%j and an endpoint on %s: proxied %s', async (noProxy, host, proxied) => {
    const sandbox = await sandboxAt();
    const forward = await proxy();
    const endpoint = sandbox.url.replace('127.0.0.1', host);
    const run = await upload(endpoint, [], { HTTP_PROXY: forward.url, HTTPS_PROXY: forward.url, NO_PROXY: noProxy });
    expect(run.code).toBe(0);
    storedUpload(sandbox);
    expect(forward.requests).toHaveLength(proxied ? 1 : 0);
  });

  it('reads no_proxy in lower case as well', async () => {
    const sandbox = await sandboxAt();
    const forward = await proxy();
    const run = await upload(sandbox.url, [], { http_proxy: forward.url, no_proxy: '127.0.0.1' });
    expect(run.code).toBe(0);
    expect(forward.requests).toHaveLength(0);
  });

  it.runIf(openssl).each([
    ['https', true],
    ['http', false],
  ])('bounds a proxy that never answers (%s endpoint) by --timeout', async (_scheme, tls) => {
    const sandbox = await sandboxAt({ tls });
    const hung = await proxy({ hang: true });
    const started = performance.now();
    const run = await upload(sandbox.url, ['--ca', fixture.pki.ca, '--timeout', '1', '--retries', '1', '--json'], {
      HTTPS_PROXY: hung.url,
      HTTP_PROXY: hung.url,
    });
    const elapsed = performance.now() - started;
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: false, status: 'TIMEOUT', attempts: 2 });
    expect(result.reason).toMatch(/no answer within 1 s \(--timeout\)/);
    // Two 1 s attempts and a backoff (at most 0.5 s), then the process exits: nothing waits on the proxy.
    expect(elapsed).toBeLessThan(6000);
    expect(hung.requests.length).toBeGreaterThanOrEqual(1);
    expect(hung.requests[0]?.method).toBe(tls ? 'CONNECT' : 'POST');
    expect(sandbox.requests).toHaveLength(0);
  });

  it.runIf(openssl).each([
    ['https', true],
    ['http', false],
  ])('authenticates to the proxy with the user and password in its URL (%s endpoint)', async (_scheme, tls) => {
    const sandbox = await sandboxAt({ tls });
    const guarded = await proxy({ credentials: { user: 'proxy user', password: 'p@ss:word' } });
    const run = await upload(sandbox.url, ['--ca', fixture.pki.ca], { HTTPS_PROXY: guarded.url, HTTP_PROXY: guarded.url });
    expect(run.code).toBe(0);
    storedUpload(sandbox);
    const basic = `Basic ${Buffer.from('proxy user:p@ss:word').toString('base64')}`;
    expect(guarded.requests).toMatchObject([{ method: tls ? 'CONNECT' : 'POST', proxyAuthorization: basic }]);
    expect(guarded.requests[0]?.target).not.toContain(SECRET);
  });

  it.runIf(openssl).each([
    ['https', true],
    ['http', false],
  ])('explains a 407 from the proxy, without retrying (%s endpoint)', async (_scheme, tls) => {
    const sandbox = await sandboxAt({ tls });
    const guarded = await proxy({ credentials: { user: 'u', password: 'p' } });
    const run = await upload(sandbox.url, ['--ca', fixture.pki.ca], { HTTPS_PROXY: guarded.bareUrl, HTTP_PROXY: guarded.bareUrl });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/NETWORK_ERROR/);
    expect(run.stderr).toMatch(/407 Proxy Authentication Required.*HTTPS_PROXY=http:\/\/user:password@/);
    expect(guarded.requests).toHaveLength(1);
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe.runIf(openssl)('https with a private certificate authority', () => {
  it('trusts a CA given with --ca', async () => {
    const sandbox = await sandboxAt({ tls: true });
    expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const run = await upload(sandbox.url, ['--ca', fixture.pki.ca], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${storedUpload(sandbox)?.livenessDataId}\n`);
  });

  it('trusts a CA given with LINKFACE_CA_FILE, and --ca wins over it', async () => {
    const sandbox = await sandboxAt({ tls: true });
    expect((await upload(sandbox.url, [], { LINKFACE_CA_FILE: fixture.pki.ca })).code).toBe(0);
    const overridden = await upload(sandbox.url, ['--ca', fixture.pki.otherCa], { LINKFACE_CA_FILE: fixture.pki.ca });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(/TLS certificate problem/);
  });

  it('trusts NODE_EXTRA_CA_CERTS as Node does, and --ca adds to it rather than replacing it', async () => {
    const sandbox = await sandboxAt({ tls: true });
    expect((await upload(sandbox.url, [], { NODE_EXTRA_CA_CERTS: fixture.pki.ca })).code).toBe(0);
    expect((await upload(sandbox.url, ['--ca', fixture.pki.otherCa], { NODE_EXTRA_CA_CERTS: fixture.pki.ca })).code).toBe(0);
    expect(sandbox.uploads()).toHaveLength(2);
  });

  it('refuses an untrusted certificate: NETWORK_ERROR at once, nothing sent, and how to trust the CA', async () => {
    const sandbox = await sandboxAt({ tls: true });
    const run = await upload(sandbox.url, ['--verbose'], {});
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/NETWORK_ERROR/);
    expect(run.stderr).toMatch(/TLS certificate problem \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    expect(run.stderr).toMatch(/--ca <file\.pem> or set NODE_EXTRA_CA_CERTS=<file\.pem>/);
    const json = await upload(sandbox.url, ['--json'], {});
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, status: 'NETWORK_ERROR', attempts: 1 });
    expect(sandbox.requests).toHaveLength(0);
  });

  it.each([
    ['--ca', 'a missing file', (d: string) => ['--ca', join(d, 'missing.pem')], {}, /--ca: cannot read the CA certificate file '.*missing\.pem' \(ENOENT\)/],
    ['--ca', 'a directory', (d: string) => ['--ca', d], {}, /--ca: cannot read the CA certificate file '.*' \(EISDIR\)/],
    ['--ca', 'a file that is not PEM', (d: string) => ['--ca', junk(d)], {}, /--ca: '.*junk\.pem' is not a PEM file of CA certificates/],
    ['--ca', 'a private key', (d: string) => ['--ca', join(d, 'server.key')], {}, /is not a PEM file of CA certificates/],
    ['LINKFACE_CA_FILE', 'a missing file', () => [], { LINKFACE_CA_FILE: '/nonexistent/ca.pem' }, /LINKFACE_CA_FILE: cannot read .*'\/nonexistent\/ca\.pem'/],
  ])('%s naming %s is a usage error (exit 2), nothing sent', async (_from, _what, args, env, message) => {
    const sandbox = await sandboxAt({ tls: true });
    const run = await upload(sandbox.url, args(fixture.dir), env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/PEM file/);
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe('IPv6 loopback', () => {
  it.runIf(ipv6)('uploads to http://[::1]:PORT without --allow-http', async () => {
    const sandbox = await sandboxAt({ host: '::1' });
    expect(sandbox.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const run = await upload(sandbox.url, [], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${storedUpload(sandbox)?.livenessDataId}\n`);
  });

  it.runIf(ipv6 && openssl)('uploads to https://[::1]:PORT with a certificate for ::1', async () => {
    const sandbox = await sandboxAt({ host: '::1', tls: true });
    const run = await upload(sandbox.url, ['--ca', fixture.pki.ca], {});
    expect(run.code).toBe(0);
    storedUpload(sandbox);
  });

  it.runIf(ipv6).each(['::1', '[::1]'])('bypasses the proxy with NO_PROXY=%s', async (noProxy) => {
    const sandbox = await sandboxAt({ host: '::1' });
    const forward = await proxy();
    const run = await upload(sandbox.url, [], { HTTP_PROXY: forward.url, NO_PROXY: noProxy });
    expect(run.code).toBe(0);
    expect(forward.requests).toHaveLength(0);
  });

  it.runIf(ipv6)('goes through a proxy to [::1] when NO_PROXY does not name it', async () => {
    const sandbox = await sandboxAt({ host: '::1' });
    const forward = await proxy();
    const run = await upload(sandbox.url, [], { HTTP_PROXY: forward.url });
    expect(run.code).toBe(0);
    storedUpload(sandbox);
    expect(forward.requests).toMatchObject([{ target: `${sandbox.url}/resources/upload_liveness_data` }]);
  });

  it.skipIf(ipv6)('skipped: this machine has no IPv6 loopback (::1)', () => {});
});

it.skipIf(openssl)('skipped: the openssl command is not installed, so no test certificates can be made', () => {});

function junk(d: string): string {
  const path = join(d, 'junk.pem');
  writeFileSync(path, 'not a certificate\n');
  return path;
}

function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
