import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit.js';
import { summarize } from '../../src/cli/report.js';
import { ResultTally } from '../../src/engine/tally.js';
import type { UploadResult } from '../../src/engine/run.js';
import { describeStatus, EXPLAINED_STATUSES, explainFailure, similarStatuses } from '../../src/explain/render.js';
import { API_ERROR_STATUSES, isRetryableStatus, STATUS_TABLE } from '../../src/explain/statuses.js';
import { DOCUMENTED_HTTP_STATUS } from '../documented-codes.js';

describe('the status table', () => {
  it('documents the twelve API codes with the HTTP status the endpoint gives', () => {
    expect(Object.fromEntries(API_ERROR_STATUSES.map((s) => [s, STATUS_TABLE[s].httpStatus]))).toEqual(DOCUMENTED_HTTP_STATUS);
  });

  it('marks exactly the four account errors', () => {
    const account = Object.entries(STATUS_TABLE)
      .filter(([, entry]) => entry.account)
      .map(([status]) => status);
    expect(account.sort()).toEqual(['KEY_EXPIRED', 'NO_PERMISSION', 'OUT_OF_QUOTA', 'UNAUTHORIZED']);
  });

  it.each([
    ['INTERNAL_ERROR', 'file', 500, true],
    ['RATE_LIMIT_EXCEEDED', 'file', 403, true],
    ['NETWORK_ERROR', 'file', undefined, true],
    ['TIMEOUT', 'url', undefined, true],
    ['DOWNLOAD_TIMEOUT', 'url', 400, true],
    ['DOWNLOAD_TIMEOUT', 'file', 400, false],
    ['INVALID_ARGUMENT', 'file', 400, false],
    ['WRONG_LIVENESS_DATA', 'file', 400, false],
    ['NOT_FOUND', 'file', 404, false],
    ['UNAUTHORIZED', 'file', 401, false],
    ['BAD_RESPONSE', 'file', 502, true],
    ['BAD_RESPONSE', 'file', 200, false],
  ] as const)('%s for a %s input (HTTP %s) retried: %s', (status, kind, http, retry) => {
    expect(isRetryableStatus(status, kind, http)).toBe(retry);
  });

  it('has English and Chinese text for every status', () => {
    for (const entry of Object.values(STATUS_TABLE)) {
      for (const text of [entry.meaning, entry.nextStep]) {
        expect(text.en.length).toBeGreaterThan(10);
        expect(text.zh).toMatch(/[\u4e00-\u9fff]/);
      }
    }
  });
});

describe('explainFailure', () => {
  it('gives the input, code, HTTP status, meaning, server reason, request id, next step and origins', () => {
    const explanation = explainFailure(
      { input: 'a.bin', status: 'UNAUTHORIZED', httpStatus: 401, reason: 'bad key', requestId: 'TID9' },
      'en',
      { apiId: 'env LINKFACE_API_ID', apiSecret: 'file ~/.linkfacerc', endpoint: 'default' },
    );
    expect(explanation.headline).toBe('a.bin: UNAUTHORIZED (HTTP 401)');
    expect(explanation.lines).toEqual([
      { label: '', text: STATUS_TABLE.UNAUTHORIZED.meaning.en },
      { label: 'server said', text: 'bad key' },
      { label: 'request id', text: 'TID9' },
      { label: 'next step', text: STATUS_TABLE.UNAUTHORIZED.nextStep.en },
      { label: 'now set by', text: 'api id: env LINKFACE_API_ID; api secret: file ~/.linkfacerc' },
    ]);
  });

  it('explains a code it does not know instead of failing', () => {
    const explanation = explainFailure({ status: 'BRAND_NEW', httpStatus: 418 }, 'zh');
    expect(explanation.headline).toBe('BRAND_NEW (HTTP 418)');
    expect(explanation.lines[0]?.text).toMatch(/不认识/);
  });
});

describe('describeStatus', () => {
  it('describes every listed status in both languages', () => {
    for (const status of EXPLAINED_STATUSES) {
      expect(describeStatus(status, 'en')?.[0]).toContain(status);
      expect(describeStatus(status.toLowerCase(), 'zh')?.join('\n')).toMatch(/下一步/);
    }
  });

  it('says which codes stop a batch', () => {
    expect(describeStatus('OUT_OF_QUOTA')?.join('\n')).toContain('exit code 3');
    expect(describeStatus('WRONG_LIVENESS_DATA')?.join('\n')).not.toContain('exit code 3');
  });

  it('knows nothing of made-up codes, but suggests near ones', () => {
    expect(describeStatus('UNAUTHORISED')).toBeUndefined();
    expect(similarStatuses('UNAUTHORISED')).toEqual(['UNAUTHORIZED']);
    expect(similarStatuses('quota')).toEqual(['OUT_OF_QUOTA']);
    expect(similarStatuses('x')).toEqual([]);
  });
});

describe('exitCodeFor', () => {
  const ok = { ok: true, status: 'OK' };
  it.each([
    ['all uploaded', [ok, ok], false, 0],
    ['nothing to do', [], false, 0],
    ['one failed', [ok, { ok: false, status: 'WRONG_LIVENESS_DATA' }], false, 1],
    ['skipped on purpose', [ok, { ok: false, status: 'SKIPPED' }], false, 0],
    ['an account error', [{ ok: false, status: 'OUT_OF_QUOTA' }, { ok: false, status: 'NOT_ATTEMPTED' }], false, 3],
    ['interrupted', [ok, { ok: false, status: 'UNAUTHORIZED' }], true, 130],
  ])('%s → %i', (_name, results, interrupted, code) => {
    const tally = new ResultTally();
    for (const result of results) tally.add(result as UploadResult);
    expect(exitCodeFor(tally, interrupted)).toBe(code);
  });
});

describe('who said what', () => {
  it("labels the tool's own descriptions as details, and the server's reason as what the server said", () => {
    const timeout = explainFailure({ status: 'TIMEOUT', reason: 'no answer within 1 s (--timeout)' });
    expect(timeout.lines).toContainEqual({ label: 'details', text: 'no answer within 1 s (--timeout)' });
    const refused = explainFailure({ status: 'WRONG_LIVENESS_DATA', httpStatus: 400, reason: 'bad data' });
    expect(refused.lines).toContainEqual({ label: 'server said', text: 'bad data' });
  });
});

describe('ResultTally and the summary line', () => {
  const result = (status: string, extra: Partial<UploadResult> = {}) =>
    ({ input: `${status}.bin`, kind: 'file', ok: status === 'OK', status, retryable: false, attempts: 1, ms: 5, at: '', ...extra }) as UploadResult;

  it('counts each kind of ending; the summary lists failures most frequent first, then by name', () => {
    const tally = new ResultTally();
    for (const r of [
      result('OK', { bytes: 1024 }),
      result('WRONG_LIVENESS_DATA'),
      result('SKIPPED'),
      result('OK', { bytes: 2048 }),
      result('INVALID_INPUT'),
      result('WRONG_LIVENESS_DATA'),
      result('BAD_RESPONSE'),
      result('NOT_ATTEMPTED', { reason: 'not started: the run was interrupted' }),
    ]) {
      tally.add(r);
    }
    expect(tally).toMatchObject({ count: 8, uploaded: 2, skipped: 1, notAttempted: 1, bytes: 3072, accountFailed: false, failed: 4 });
    expect(tally.notAttemptedReason).toBe('not started: the run was interrupted');
    expect(tally.first?.input).toBe('OK.bin');
    expect(summarize(tally, 1, 2000)).toBe(
      '2 uploaded, 1 skipped, 4 failed (WRONG_LIVENESS_DATA 2, BAD_RESPONSE 1, INVALID_INPUT 1), 1 not attempted, 1 retry; 3 KiB in 2 s (1.0 files/s)',
    );
  });
});
