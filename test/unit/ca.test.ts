import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaFile } from '../../src/api/dispatcher.js';
import { interpretNetworkError } from '../../src/api/network.js';
import { UsageError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'linkface-ca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const [first = '', second = ''] = rootCertificates;

describe('readCaFile', () => {
  it('returns every certificate of a PEM bundle, without the text around them', () => {
    const path = file('bundle.pem', `# corporate CAs\n${first}\nsubject=whatever\n${second}\n`);
    expect(readCaFile(path, '--ca')).toBe(`${first.trim()}\n${second.trim()}`);
  });

  it.each([
    ['missing', () => join(dir, 'nope.pem'), /--ca: cannot read the CA certificate file '.*nope\.pem' \(ENOENT\)/],
    ['a directory', () => dir, /\(EISDIR\)/],
    ['not PEM', () => file('der.cer', 'MIIB\x00\x01binary'), /is not a PEM file of CA certificates/],
    ['a damaged certificate', () => file('bad.pem', first.replace(/[A-Za-z]{12}\n/, '\n')), /is not a PEM file of CA certificates/],
  ])('refuses a file that is %s with a usage error naming the flag and the path', (_what, path, message) => {
    const call = () => readCaFile(path(), '--ca');
    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
  });
});

describe('interpretNetworkError: certificates and proxies', () => {
  const withCode = (code: string, message = `failed: ${code}`, cause?: unknown) => Object.assign(new Error(message, { cause }), { code });

  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /not trust .*--ca <file\.pem> or set NODE_EXTRA_CA_CERTS/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /not trust .*--ca <file\.pem>/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /not issued for this host name \(failed: ERR_TLS_CERT_ALTNAME_INVALID\)/],
    ['CERT_HAS_EXPIRED', /has expired; check this machine's clock/],
  ])('%s: not retried, with what to do', (code, reason) => {
    const outcome = interpretNetworkError(withCode(code));
    expect(outcome).toMatchObject({ status: 'NETWORK_ERROR', retryable: false, maybeDelivered: false });
    expect(outcome.reason).toMatch(new RegExp(`^TLS certificate problem \\(${code}\\): `));
    expect(outcome.reason).toMatch(reason);
  });

  it('finds a certificate problem wrapped by undici (a proxy with a certificate for another name)', () => {
    const wrapped = withCode('UND_ERR_PRX_TLS', 'Secure Proxy Connection failed', withCode('ERR_TLS_CERT_ALTNAME_INVALID'));
    expect(interpretNetworkError(wrapped)).toMatchObject({ retryable: false, reason: expect.stringMatching(/ALTNAME_INVALID/) });
  });

  it.each([
    ['Proxy response (407) !== 200 when HTTP Tunneling', false, /407 Proxy Authentication Required.*user:password@/],
    ['Proxy Authentication Required (407)', false, /407 Proxy Authentication Required/],
    ['Proxy response (403) !== 200 when HTTP Tunneling', false, /proxy refused .*\(HTTP 403\)/],
    ['Proxy response (502) !== 200 when HTTP Tunneling', true, /proxy refused .*\(HTTP 502\)/],
  ])('a proxy answering %j: retryable %s', (message, retryable, reason) => {
    const outcome = interpretNetworkError(withCode('UND_ERR_ABORTED', message));
    expect(outcome).toMatchObject({ status: 'NETWORK_ERROR', retryable, maybeDelivered: false });
    expect(outcome.reason).toMatch(reason);
  });

  it('names the address a connection was refused at, which behind a proxy is the proxy', () => {
    const refused = Object.assign(withCode('ECONNREFUSED'), { address: '::1', port: 3128 });
    expect(interpretNetworkError(withCode('UND_ERR_SOCKET', 'other side closed', refused)).reason).toBe(
      'connection refused: nothing is listening at that address ([::1]:3128)',
    );
  });
});
