import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorCheck } from '../../src/doctor/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { runCli, sandboxEnv } from './harness.js';
import { hasOpenssl, useTlsFixture } from './pki.js';
import { refusedPort } from './servers.js';

/**
 * `linkface doctor` through the built command, against the sandbox over real sockets: a local forward proxy
 * (the one the network tests use), https with a throwaway CA, and every way the path can fail.
 */

/** Distinctive, so that finding it anywhere is meaningful. */
const SECRET = 'doctor-canary-secret-7d2e1a';
const ID = 'doctor-test-id';
/** This machine may set NODE_EXTRA_CA_CERTS for every process; each case here says what it trusts. */
const TRUST_NOTHING_EXTRA = { NODE_EXTRA_CA_CERTS: '' };
/** Far above the ~10 s the doctor allows itself: the process must end on its own, not be killed. */
const HARNESS_LIMIT_MS = 40_000;

const openssl = hasOpenssl();
const fixture = useTlsFixture('linkface-doctor-', { apiId: ID, apiSecret: SECRET }, openssl);
const { sandboxAt, proxy } = fixture;

interface DoctorRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ok: boolean;
  checks: DoctorCheck[];
  byId: (id: DoctorCheck['id']) => DoctorCheck;
}

/** `linkface doctor --json` with the sandbox's account (or `secret`) and `env` on top; the report parsed. */
async function doctorJson(endpoint: string, args: string[] = [], env: Record<string, string> = {}, secret = SECRET): Promise<DoctorRun> {
  const run = await runCli(['doctor', '--json', ...args], { env: { ...sandboxEnv(endpoint, ID, secret), ...TRUST_NOTHING_EXTRA, ...env }, timeoutMs: HARNESS_LIMIT_MS });
  expect(run.signal, 'the doctor ended on its own').toBeNull();
  expect(run.stdout).not.toContain(SECRET);
  expect(run.stderr).not.toContain(SECRET);
  const report = JSON.parse(run.stdout) as { ok: boolean; checks: DoctorCheck[] };
  expect(report.checks.map((check) => check.id)).toEqual(['versions', 'settings', 'endpoint', 'proxy', 'dns', 'tcp', 'tunnel', 'tls', 'clock', 'account']);
  const byId = (id: DoctorCheck['id']) => {
    const found = report.checks.find((check) => check.id === id);
    if (!found) throw new Error(`no ${id} check`);
    return found;
  };
  return { ...run, ...report, byId };
}

/** The one request the sandbox received: the credentials in the form, no file, no url, nothing in the query. */
function expectCredentialsOnly(sandbox: Sandbox): void {
  expect(sandbox.requests).toHaveLength(1);
  const [request] = sandbox.requests;
  expect(request?.fields).toEqual({ api_id: ID, api_secret: SECRET });
  expect(request?.file).toBeUndefined();
  expect(request?.url).toBeUndefined();
  expect(request?.query).toEqual({});
  expect(sandbox.uploads()).toHaveLength(0);
}

const statuses = (run: DoctorRun) => Object.fromEntries(run.checks.map((check) => [check.id, check.status]));

describe.runIf(openssl)('every check passes', () => {
  it('through the local proxy (CONNECT) to an https sandbox trusted with --ca, uploading nothing', async () => {
    const sandbox = await sandboxAt({ tls: true });
    const forward = await proxy();
    const run = await doctorJson(sandbox.url, ['--ca', fixture.pki.ca], { HTTPS_PROXY: forward.url });
    expect(run.code).toBe(0);
    expect(run.ok).toBe(true);
    expect(statuses(run)).toEqual({
      versions: 'pass', settings: 'pass', endpoint: 'pass', proxy: 'pass', dns: 'pass', tcp: 'pass', tunnel: 'pass', tls: 'pass', clock: 'pass', account: 'pass',
    });
    expect(run.byId('proxy').facts).toMatchObject({ proxy: forward.url, variable: 'HTTPS_PROXY' });
    expect(run.byId('proxy').details.join('\n')).toMatch(/HTTPS_PROXY is set and NO_PROXY is not/);
    expect(run.byId('tcp').facts).toMatchObject({ to: 'proxy', port: Number(new URL(forward.url).port) });
    expect(run.byId('tunnel').facts).toMatchObject({ target: `127.0.0.1:${sandbox.port}`, httpStatus: 200 });
    expect(run.byId('tls').facts).toMatchObject({ trustedBy: 'ca', subject: 'CN=localhost', issuer: 'CN=linkface test CA' });
    expect(run.byId('tls').facts).toHaveProperty('protocol', expect.stringMatching(/^TLSv1\.[23]$/));
    expect(run.byId('account').facts).toMatchObject({ status: 'INVALID_ARGUMENT', httpStatus: 400 });
    expect(run.byId('account').summary).toMatch(/credentials were not rejected/);
    for (const check of run.checks) expect(check.ms, check.id).toBeGreaterThanOrEqual(0);
    // The probe's tunnel and the HTTP call's; the secret crossed the proxy encrypted only.
    expect(forward.requests.map((request) => [request.method, request.status])).toEqual([['CONNECT', 200], ['CONNECT', 200]]);
    expect(forward.sawInClear(SECRET)).toBe(false);
    expectCredentialsOnly(sandbox);
  });

  it('prints one line a check for people, with the settings and where each came from, the secret never', async () => {
    const sandbox = await sandboxAt({ tls: true });
    const forward = await proxy();
    const run = await runCli(['doctor'], {
      env: { ...sandboxEnv(sandbox.url, ID, SECRET), NODE_EXTRA_CA_CERTS: fixture.pki.ca, HTTPS_PROXY: forward.url },
      timeoutMs: HARNESS_LIMIT_MS,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(SECRET);
    expect(run.stderr).toBe('');
    for (const label of ['versions', 'settings', 'endpoint', 'proxy', 'DNS', 'TCP', 'tunnel', 'TLS', 'clock', 'account']) {
      expect(run.stdout).toMatch(new RegExp(`^✔ ${label} +.*\\(\\d+ ms\\)$`, 'm'));
    }
    expect(run.stdout).toMatch(/apiSecret: \(set, redacted\), from env LINKFACE_API_SECRET$/m);
    expect(run.stdout).toMatch(/apiId: doctor-test-id, from env LINKFACE_API_ID$/m);
    expect(run.stdout).toMatch(/trusted by NODE_EXTRA_CA_CERTS/);
    expect(run.stdout).toMatch(/No problems found \(10 checks passed\)\.\n$/);
  });
});

describe('each failure says which hop failed and what to do', () => {
  it('nothing listening at the endpoint: TCP fails, the rest is not tried', async () => {
    const port = await refusedPort();
    const run = await doctorJson(`http://127.0.0.1:${port}`);
    expect(run.code).toBe(1);
    expect(run.ok).toBe(false);
    expect(statuses(run)).toMatchObject({ dns: 'pass', tcp: 'fail', tunnel: 'skip', tls: 'skip', clock: 'skip', account: 'skip' });
    expect(run.byId('tcp').summary).toMatch(/connection refused: nothing is listening at that address \(127\.0\.0\.1:\d+\)/);
    expect(run.byId('tcp').fix).toMatch(/service is up/);
    const human = await runCli(['doctor'], { env: { ...sandboxEnv(`http://127.0.0.1:${port}`, ID, SECRET) } });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^✖ TCP +cannot connect to the endpoint/m);
    expect(human.stdout).toMatch(/^ +fix: Check that the endpoint's address and port/m);
    expect(human.stdout).toMatch(/^- account +not checked: /m);
    expect(human.stdout).toMatch(/1 problem found: TCP\.\n$/);
  });

  it('a proxy with nothing listening: TCP to the proxy fails, and the fix names the proxy variable', async () => {
    const sandbox = await sandboxAt();
    const port = await refusedPort();
    const run = await doctorJson(sandbox.url, [], { HTTP_PROXY: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(run.byId('proxy').facts).toMatchObject({ variable: 'HTTP_PROXY' });
    expect(run.byId('tcp')).toMatchObject({ status: 'fail', facts: { to: 'proxy' } });
    expect(run.byId('tcp').fix).toMatch(/HTTPS_PROXY \/ HTTP_PROXY.*NO_PROXY/);
    expect(sandbox.requests).toHaveLength(0);
  });

  it.runIf(openssl)('a proxy that refuses the tunnel (HTTP 502) or asks for credentials (407)', async () => {
    const forward = await proxy();
    const port = await refusedPort();
    const refused = await doctorJson(`https://127.0.0.1:${port}`, [], { HTTPS_PROXY: forward.url });
    expect(refused.code).toBe(1);
    expect(statuses(refused)).toMatchObject({ tcp: 'pass', tunnel: 'fail', tls: 'skip', account: 'skip' });
    expect(refused.byId('tunnel').facts).toMatchObject({ httpStatus: 502 });
    expect(refused.byId('tunnel').fix).toMatch(/would not connect to 127\.0\.0\.1:\d+.*NO_PROXY/);

    const sandbox = await sandboxAt({ tls: true });
    const guarded = await proxy({ credentials: { user: 'u', password: 'p' } });
    const run = await doctorJson(sandbox.url, ['--ca', fixture.pki.ca], { HTTPS_PROXY: guarded.bareUrl });
    expect(run.byId('tunnel')).toMatchObject({ status: 'fail', facts: { httpStatus: 407 } });
    expect(run.byId('tunnel').fix).toMatch(/HTTPS_PROXY=http:\/\/user:password@/);
    expect(sandbox.requests).toHaveLength(0);
    // With the credentials in the URL the tunnel opens (the password is never shown).
    const authed = await doctorJson(sandbox.url, ['--ca', fixture.pki.ca], { HTTPS_PROXY: guarded.url });
    expect(authed.code).toBe(0);
    expect(authed.byId('proxy').facts).toMatchObject({ proxy: `${guarded.bareUrl.replace('http://', 'http://u:***@')}` });
    expect(authed.stdout).not.toContain(':p@');
  });

  it.runIf(openssl)('a proxy that never answers CONNECT: the tunnel check fails in bounded time and the process exits', async () => {
    const sandbox = await sandboxAt({ tls: true });
    const hung = await proxy({ hang: true });
    const run = await doctorJson(sandbox.url, ['--ca', fixture.pki.ca], { HTTPS_PROXY: hung.url });
    expect(run.code).toBe(1);
    expect(statuses(run)).toMatchObject({ tcp: 'pass', tunnel: 'fail', tls: 'skip', clock: 'skip', account: 'skip' });
    expect(run.byId('tunnel').summary).toMatch(/accepted the connection but did not answer CONNECT/);
    expect(hung.requests.map((request) => request.method)).toEqual(['CONNECT']);
    expect(sandbox.requests).toHaveLength(0);
  });

  it('a proxy that never answers a plain-http request: the account check times out within the run’s bound', async () => {
    const sandbox = await sandboxAt();
    const hung = await proxy({ hang: true });
    const run = await doctorJson(sandbox.url, [], { HTTP_PROXY: hung.url });
    expect(run.code).toBe(1);
    expect(statuses(run)).toMatchObject({ tcp: 'pass', tunnel: 'skip', clock: 'skip', account: 'fail' });
    expect(run.byId('account').facts).toMatchObject({ status: 'TIMEOUT' });
    expect(hung.requests.map((request) => request.method)).toEqual(['POST']);
  });

  it.runIf(openssl)('an untrusted certificate: TLS fails naming it and how to trust its CA; --ca or NODE_EXTRA_CA_CERTS fixes it', async () => {
    const sandbox = await sandboxAt({ tls: true });
    const untrusted = await doctorJson(sandbox.url);
    expect(untrusted.code).toBe(1);
    expect(statuses(untrusted)).toMatchObject({ tcp: 'pass', tls: 'fail', clock: 'skip', account: 'skip' });
    expect(untrusted.byId('tls').facts).toMatchObject({ error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', subject: 'CN=localhost', issuer: 'CN=linkface test CA' });
    expect(untrusted.byId('tls').fix).toMatch(/--ca <file\.pem> or set NODE_EXTRA_CA_CERTS=<file\.pem>/);
    const wrongCa = await doctorJson(sandbox.url, ['--ca', fixture.pki.otherCa]);
    expect(wrongCa.byId('tls')).toMatchObject({ status: 'fail', facts: { error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
    // Nothing was sent over a connection that was not trusted.
    expect(sandbox.requests).toHaveLength(0);

    const withCa = await doctorJson(sandbox.url, ['--ca', fixture.pki.ca]);
    expect(withCa.code).toBe(0);
    expect(withCa.byId('tls').facts).toMatchObject({ trustedBy: 'ca' });
    const fromFile = await doctorJson(sandbox.url, [], { LINKFACE_CA_FILE: fixture.pki.ca });
    expect(fromFile.byId('tls').facts).toMatchObject({ trustedBy: 'ca' });
    expect((fromFile.byId('settings').facts as { settings: unknown[] }).settings).toContainEqual({ name: 'caFile', value: fixture.pki.ca, source: 'env LINKFACE_CA_FILE' });
    const extra = await doctorJson(sandbox.url, [], { NODE_EXTRA_CA_CERTS: fixture.pki.ca });
    expect(extra.byId('tls').facts).toMatchObject({ trustedBy: 'NODE_EXTRA_CA_CERTS' });
    expect(sandbox.requests).toHaveLength(3);
  });

  it('a wrong key: the account check fails with UNAUTHORIZED and says where the credentials came from', async () => {
    const sandbox = await sandboxAt();
    const wrong = `${SECRET}-wrong`;
    const run = await doctorJson(sandbox.url, [], {}, wrong);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain(wrong);
    expect(statuses(run)).toMatchObject({ clock: 'pass', account: 'fail' });
    expect(run.byId('account')).toMatchObject({ summary: expect.stringMatching(/^wrong API id or secret: UNAUTHORIZED \(HTTP 401\)/), facts: { status: 'UNAUTHORIZED' } });
    expect(run.byId('account').fix).toMatch(/Now set by: apiId: env LINKFACE_API_ID; apiSecret: env LINKFACE_API_SECRET\./);
  });

  it.each([
    ['KEY_EXPIRED', /^the account has expired: KEY_EXPIRED \(HTTP 401\)/, /Renew the account/],
    ['NO_PERMISSION', /^the account may not call upload_liveness_data: NO_PERMISSION \(HTTP 403\)/, /Ask Linkface to enable/],
  ])('an account answered %s: told apart from a wrong key, with the server’s reason', async (status, summary, fix) => {
    const sandbox = await sandboxAt();
    sandbox.enqueue({ kind: 'status', status, reason: 'account 42 expired on 2026-01-01' });
    const run = await doctorJson(sandbox.url);
    expect(run.code).toBe(1);
    expect(run.byId('account').summary).toMatch(summary);
    expect(run.byId('account').fix).toMatch(fix);
    expect(run.byId('account').details).toContain('server said: account 42 expired on 2026-01-01');
    expect(sandbox.requests).toHaveLength(1);
  });

  it('a clock far from the server’s Date', async () => {
    const sandbox = await sandboxAt();
    const date = new Date(Date.now() - 3_600_000).toUTCString();
    const body = JSON.stringify({ status: 'INVALID_ARGUMENT', reason: "must specify 'file' or 'url' argument", request_id: 'TIDclock' });
    sandbox.enqueue({ kind: 'raw', httpStatus: 400, body, headers: { 'content-type': 'application/json', date } });
    const run = await doctorJson(sandbox.url);
    expect(run.code).toBe(1);
    expect(run.byId('clock')).toMatchObject({ status: 'fail', facts: { serverDate: date } });
    expect(run.byId('clock').summary).toMatch(/is 3\d{3}\.\d s ahead of the server's Date/);
    expect(run.byId('account').status).toBe('pass');
  });

  it('settings: missing credentials, a secret file or rc file others can read, a broken rc file, a missing --ca file', async () => {
    const sandbox = await sandboxAt();
    const none = await runCli(['doctor', '--json'], { env: { LINKFACE_ENDPOINT: sandbox.url } });
    const report = JSON.parse(none.stdout) as { checks: DoctorCheck[] };
    expect(none.code).toBe(1);
    expect(report.checks.find((check) => check.id === 'settings')).toMatchObject({ status: 'fail', summary: 'the API id and secret are not set' });
    expect(report.checks.find((check) => check.id === 'account')).toMatchObject({ status: 'skip' });

    const secretFile = join(fixture.dir, 'secret');
    writeFileSync(secretFile, `${SECRET}\n`);
    chmodSync(secretFile, 0o644);
    const open = await doctorJson(sandbox.url, [], { LINKFACE_API_SECRET: '', LINKFACE_API_SECRET_FILE: secretFile });
    if (process.platform !== 'win32') {
      expect(open.byId('settings')).toMatchObject({ status: 'fail', summary: `the secret file ${secretFile} (mode 0644) can be read by other users` });
      expect(open.byId('settings').fix).toBe(`Run: chmod 600 '${secretFile}'`);
    }
    expect(open.byId('account').status).toBe('pass');

    // An rc file holding the secret that others can read: the ssh-style warning fails the check, with its chmod.
    const home = mkdtempSync(join(fixture.dir, 'home-'));
    const rc = join(home, '.linkfacerc');
    writeFileSync(rc, JSON.stringify({ apiId: ID, apiSecret: SECRET }));
    chmodSync(rc, 0o644);
    const rcRun = await runCli(['doctor', '--json'], { home, env: { LINKFACE_ENDPOINT: sandbox.url }, timeoutMs: HARNESS_LIMIT_MS });
    expect(rcRun.stdout).not.toContain(SECRET);
    const rcSettings = (JSON.parse(rcRun.stdout) as { checks: DoctorCheck[] }).checks.find((check) => check.id === 'settings');
    if (process.platform !== 'win32') {
      expect(rcRun.code).toBe(1);
      expect(rcSettings).toMatchObject({ status: 'fail', facts: { files: [{ path: rc, mode: '0644' }] } });
      expect(rcSettings?.summary).toMatch(/^Permissions 0644 for '.*\.linkfacerc' are too open/);
      expect(rcSettings?.fix).toMatch(/Run: chmod 600 /);
    }

    const broken = join(fixture.dir, 'broken.json');
    writeFileSync(broken, '{"apiId": ');
    const bad = await doctorJson(sandbox.url, ['--config', broken]);
    expect(bad.code).toBe(1);
    expect(bad.byId('settings').status).toBe('fail');
    expect(bad.byId('settings').summary).toMatch(/broken\.json/);
    expect(statuses(bad)).toMatchObject({ endpoint: 'skip', account: 'skip' });

    const sent = sandbox.requests.length;
    const noCa = await doctorJson(sandbox.url, ['--ca', join(fixture.dir, 'missing.pem')]);
    expect(noCa.code).toBe(1);
    expect(noCa.byId('settings')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^--ca: cannot read the CA certificate file '.*missing\.pem' \(ENOENT\)/) });
    expect(noCa.byId('settings').fix).toMatch(/PEM file/);
    expect(statuses(noCa)).toMatchObject({ endpoint: 'skip', account: 'skip' });
    expect(sandbox.requests).toHaveLength(sent);
  });
});
