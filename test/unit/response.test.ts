import { describe, expect, it } from 'vitest';
import { interpretAnswer, parseRetryAfter } from '../../src/api/response.js';
import { API_ERROR_STATUSES, STATUS_TABLE } from '../../src/explain/statuses.js';

const json = (value: unknown) => JSON.stringify(value);

describe('interpretAnswer', () => {
  it.each([
    ['liveness_data_id', json({ request_id: 'TID1', status: 'OK', liveness_data_id: 'abc' }), 'abc'],
    ['image_id (the vendor example)', json({ request_id: 'TID1', status: 'OK', image_id: 'img' }), 'img'],
    ['both, preferring liveness_data_id', json({ status: 'OK', image_id: 'img', liveness_data_id: 'live' }), 'live'],
  ])('accepts the id as %s', (_name, body, id) => {
    const outcome = interpretAnswer({ httpStatus: 200, body }, 'file');
    expect(outcome).toMatchObject({ ok: true, status: 'OK', livenessDataId: id });
  });

  it.each(API_ERROR_STATUSES.map((status) => [status, STATUS_TABLE[status].httpStatus as number]))(
    'turns %s (HTTP %i) into a failure with its reason and request id',
    (status, httpStatus) => {
      const outcome = interpretAnswer(
        { httpStatus, body: json({ status, reason: 'why', request_id: 'TIDx' }), retryAfter: '2' },
        'file',
      );
      expect(outcome).toMatchObject({ ok: false, status, httpStatus, reason: 'why', requestId: 'TIDx' });
      const retryable = ['INTERNAL_ERROR', 'RATE_LIMIT_EXCEEDED'].includes(status);
      expect(outcome.retryable).toBe(retryable);
      expect(outcome.retryAfterMs).toBe(retryable ? 2000 : undefined);
    },
  );

  it('retries DOWNLOAD_TIMEOUT for URL inputs only', () => {
    const body = json({ status: 'DOWNLOAD_TIMEOUT' });
    expect(interpretAnswer({ httpStatus: 400, body }, 'url').retryable).toBe(true);
    expect(interpretAnswer({ httpStatus: 400, body }, 'file').retryable).toBe(false);
  });

  it.each([
    ['a proxy HTML 502', 502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', true, /502 Bad Gateway/],
    ['an empty 503', 503, '', true, /empty body/],
    ['invalid JSON with 200', 200, '{"status":"OK",', false, /not JSON/],
    ['a JSON array', 200, '[1,2]', false, /not JSON/],
    ['JSON without status', 200, json({ request_id: 'TID' }), false, /no "status"/],
    ['OK without an id', 200, json({ status: 'OK', request_id: 'TID' }), false, /without a liveness_data_id/],
    ['OK with an empty id', 200, json({ status: 'OK', liveness_data_id: '' }), false, /without a liveness_data_id/],
    ['a 500 whose JSON has no status', 500, json({ error: 'boom' }), true, /no "status"/],
  ])('reports %s as BAD_RESPONSE', (_name, httpStatus, body, retryable, reason) => {
    const outcome = interpretAnswer({ httpStatus, body, contentType: 'text/html' }, 'file');
    expect(outcome).toMatchObject({ ok: false, status: 'BAD_RESPONSE', httpStatus, retryable });
    expect(outcome.reason).toMatch(reason);
  });

  it('reports a body too large to read as BAD_RESPONSE', () => {
    expect(interpretAnswer({ httpStatus: 200, body: undefined }, 'file')).toMatchObject({ status: 'BAD_RESPONSE', ok: false });
  });

  it('keeps an unknown error code verbatim and retries it only on 5xx', () => {
    const unknown4xx = interpretAnswer({ httpStatus: 400, body: json({ status: 'NEW_CODE' }) }, 'file');
    const unknown5xx = interpretAnswer({ httpStatus: 503, body: json({ status: 'MAINTENANCE' }) }, 'file');
    expect(unknown4xx).toMatchObject({ status: 'NEW_CODE', retryable: false });
    expect(unknown5xx).toMatchObject({ status: 'MAINTENANCE', retryable: true });
  });

  it('never retries an account error, whatever the HTTP status', () => {
    expect(interpretAnswer({ httpStatus: 500, body: json({ status: 'OUT_OF_QUOTA' }) }, 'file').retryable).toBe(false);
  });
});

describe('interpretAnswer: answers from a hostile or broken server', () => {
  const ok = (id: string) => json({ status: 'OK', liveness_data_id: id, request_id: 'TID1' });

  it.each([
    ['a newline (a forged second line)', 'id-1\nFORGED\tline', /control characters/],
    ['a carriage return', 'real\rfake', /control characters/],
    ['an escape sequence', 'id\u001b[2J', /control characters/],
    ['only spaces', '   ', /only white space/],
  ])('refuses an id with %s: BAD_RESPONSE, not retried, no id', (_name, id, reason) => {
    const outcome = interpretAnswer({ httpStatus: 200, body: ok(id) }, 'file');
    expect(outcome).toMatchObject({ ok: false, status: 'BAD_RESPONSE', retryable: false, maybeDelivered: true });
    expect(outcome.livenessDataId).toBeUndefined();
    expect(outcome.reason).toMatch(reason);
  });

  it('refuses an id that holds the API secret rather than report it altered', () => {
    const outcome = interpretAnswer({ httpStatus: 200, body: ok('id-s3cr3t-1') }, 'file', { redact: (t) => t.replace('s3cr3t', '***') });
    expect(outcome).toMatchObject({ ok: false, status: 'BAD_RESPONSE' });
    expect(outcome.reason).toMatch(/contains the API secret/);
    expect(outcome.reason).not.toContain('s3cr3t');
  });

  it.each([
    [404, false],
    [500, true],
    [201, undefined],
  ])('needs an HTTP 2xx for a success: "status":"OK" with HTTP %i', (httpStatus, retryable) => {
    const outcome = interpretAnswer({ httpStatus, body: ok('id-1') }, 'file');
    if (retryable === undefined) expect(outcome).toMatchObject({ ok: true, livenessDataId: 'id-1' });
    else {
      expect(outcome).toMatchObject({ ok: false, status: 'BAD_RESPONSE', retryable });
      expect(outcome.livenessDataId).toBeUndefined();
    }
  });

  it('reports a redirect as such, whatever its body, naming where it points', () => {
    const outcome = interpretAnswer({ httpStatus: 301, body: ok('id-1'), location: 'https://new.example/x\u001b[2J' }, 'file');
    expect(outcome).toMatchObject({ ok: false, status: 'BAD_RESPONSE', retryable: false });
    expect(outcome.reason).toContain('redirects to https://new.example/x\u001b[2J');
  });

  it('accepts JSON after a byte-order mark', () => {
    expect(interpretAnswer({ httpStatus: 200, body: `\ufeff${ok('id-bom')}` }, 'file')).toMatchObject({ ok: true, livenessDataId: 'id-bom' });
  });

  it.each([
    ['plain text, with Retry-After', 'Too Many Requests', '7', 7000],
    ['an HTML page, without Retry-After', '<html><title>429 Too Many Requests</title></html>', undefined, undefined],
    ['JSON that claims OK', ok('id-1'), '1', 1000],
  ])("takes a 429 as a rate limit whatever its body: %s", (_name, body, retryAfter, retryAfterMs) => {
    const outcome = interpretAnswer({ httpStatus: 429, body, retryAfter, contentType: 'text/html' }, 'file');
    expect(outcome).toMatchObject({ ok: false, status: 'RATE_LIMIT_EXCEEDED', httpStatus: 429, retryable: true, retryAfterMs });
  });

  it('takes a 503 as a retryable outage even when its body names an account error', () => {
    const outcome = interpretAnswer({ httpStatus: 503, body: json({ status: 'NO_PERMISSION' }), retryAfter: '2' }, 'file');
    expect(outcome).toMatchObject({ ok: false, status: 'BAD_RESPONSE', retryable: true, retryAfterMs: 2000 });
  });

  it('refuses a "status" that is not an error code (control characters, lower case, too long)', () => {
    for (const status of ['BAD\u001b[2J', 'ok', 'X'.repeat(65)]) {
      const outcome = interpretAnswer({ httpStatus: 400, body: json({ status }) }, 'file');
      expect(outcome, status).toMatchObject({ ok: false, status: 'BAD_RESPONSE' });
      expect(outcome.reason).toMatch(/not an error code/);
    }
  });

  it('redacts the secret from a body excerpt before cutting it, so no part of it is left at the cut', () => {
    const secret = 'S3CR3T-canary-17c';
    const body = `${'x'.repeat(70)}${secret} and more`;
    const redact = (t: string) => t.split(secret).join('***');
    const outcome = interpretAnswer({ httpStatus: 502, body }, 'file', { redact });
    for (let n = 4; n <= secret.length; n++) expect(outcome.reason).not.toContain(secret.slice(0, n));
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-24T10:00:00Z');
  it.each([
    ['3', 3000],
    ['0', 0],
    ['1.5', 1500],
    ['600', 60_000],
    ['Tue, 24 Nov 2026 10:00:05 GMT', 5000],
    ['Tue, 24 Nov 2026 09:59:00 GMT', 0],
    ['Tue, 24 Nov 2026 11:00:00 GMT', 60_000],
  ])('reads %j as %i ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([undefined, 'soon', '-1'])('ignores %j', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });
});
