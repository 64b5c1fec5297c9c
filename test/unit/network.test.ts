import { describe, expect, it } from 'vitest';
import { isLoopback, uploadUrlFor } from '../../src/api/client.js';
import { errorCode, interpretNetworkError, timeoutOutcome } from '../../src/api/network.js';
import { UsageError } from '../../src/errors.js';

const withCode = (code: string, cause?: unknown) => Object.assign(new Error(`failed: ${code}`), { code, cause });

describe('interpretNetworkError', () => {
  it.each([
    ['ECONNREFUSED', 'NETWORK_ERROR', true, false, /connection refused/],
    ['ENOTFOUND', 'NETWORK_ERROR', true, false, /could not be resolved/],
    ['ECONNRESET', 'NETWORK_ERROR', true, true, /reset/],
    ['UND_ERR_SOCKET', 'NETWORK_ERROR', true, true, /closed before the server answered/],
    ['UND_ERR_HEADERS_TIMEOUT', 'TIMEOUT', true, true, /did not answer in time/],
    ['UND_ERR_CONNECT_TIMEOUT', 'NETWORK_ERROR', true, false, /connecting .* timed out/],
    ['CERT_HAS_EXPIRED', 'NETWORK_ERROR', false, false, /TLS certificate problem/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'NETWORK_ERROR', false, false, /NODE_EXTRA_CA_CERTS/],
    ['EWEIRD', 'NETWORK_ERROR', true, true, /failed: EWEIRD \(EWEIRD\)/],
  ])('%s → %s (retryable %s, maybe delivered %s)', (code, status, retryable, maybeDelivered, reason) => {
    const outcome = interpretNetworkError(withCode(code));
    expect(outcome).toMatchObject({ ok: false, status, retryable, maybeDelivered });
    expect(outcome.reason).toMatch(reason);
  });

  it('looks through undici wrappers to the socket error underneath', () => {
    expect(errorCode(withCode('UND_ERR_SOCKET', withCode('ECONNRESET')))).toBe('ECONNRESET');
    expect(errorCode(withCode('UND_ERR_SOCKET', new Error('no code')))).toBe('UND_ERR_SOCKET');
    expect(errorCode(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }))).toBe('ECONNREFUSED');
  });

  it('describes a per-attempt timeout with the flag to change', () => {
    expect(timeoutOutcome(1500)).toMatchObject({ status: 'TIMEOUT', retryable: true, reason: 'no answer within 1.5 s (--timeout)' });
  });
});

describe('uploadUrlFor', () => {
  it.each([
    ['https://cloudapi.linkface.cn', false, 'https://cloudapi.linkface.cn/resources/upload_liveness_data'],
    ['https://cloudapi.linkface.cn/', false, 'https://cloudapi.linkface.cn/resources/upload_liveness_data'],
    ['https://gw.example.com/linkface/', false, 'https://gw.example.com/linkface/resources/upload_liveness_data'],
    ['http://127.0.0.1:8470', false, 'http://127.0.0.1:8470/resources/upload_liveness_data'],
    ['http://localhost:1', false, 'http://localhost:1/resources/upload_liveness_data'],
    ['http://[::1]:1', false, 'http://[::1]:1/resources/upload_liveness_data'],
    ['http://10.0.0.5', true, 'http://10.0.0.5/resources/upload_liveness_data'],
  ])('%s (allow http: %s) → %s', (endpoint, allowHttp, url) => {
    expect(uploadUrlFor(endpoint, allowHttp)).toBe(url);
  });

  it.each([
    ['http://cloudapi.linkface.cn', /clear text/],
    ['ftp://x', /must start with https/],
    ['not a url', /not a URL/],
    ['https://id:secret@cloudapi.linkface.cn', /user name or password/],
  ])('refuses %s', (endpoint, message) => {
    expect(() => uploadUrlFor(endpoint, false)).toThrow(UsageError);
    expect(() => uploadUrlFor(endpoint, false)).toThrow(message);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['LOCALHOST', true],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
  ])('isLoopback(%s) = %s', (host, loopback) => {
    expect(isLoopback(host)).toBe(loopback);
  });
});
