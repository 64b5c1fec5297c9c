import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/api/types.js';
import { BACKOFF_CAP_MS, backoffDelay, decideRetry } from '../../src/engine/retry.js';

const failure = (extra: Partial<AttemptOutcome> = {}): AttemptOutcome => ({
  ok: false,
  status: 'INTERNAL_ERROR',
  retryable: true,
  maybeDelivered: false,
  ...extra,
});

describe('decideRetry', () => {
  it('stops on success', () => {
    expect(decideRetry({ ok: true, status: 'OK', retryable: false, maybeDelivered: true }, 1, 3).retry).toBe(false);
  });

  it('stops on a failure that is not retryable', () => {
    expect(decideRetry(failure({ retryable: false }), 1, 3)).toEqual({ retry: false, why: 'not retryable' });
  });

  it('retries until the retries are used up', () => {
    expect(decideRetry(failure(), 3, 3).retry).toBe(true);
    expect(decideRetry(failure(), 4, 3)).toMatchObject({ retry: false, why: expect.stringContaining('--retries 3') });
    expect(decideRetry(failure(), 1, 0).retry).toBe(false);
  });

  it('waits what Retry-After asks, instead of the backoff', () => {
    expect(decideRetry(failure({ retryAfterMs: 7000 }), 1, 3, () => 0.99)).toEqual({ retry: true, delayMs: 7000, why: 'Retry-After' });
  });

  it('uses full-jitter backoff otherwise', () => {
    expect(decideRetry(failure(), 1, 3, () => 0.5)).toEqual({ retry: true, delayMs: 250, why: 'backoff' });
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [6, 16_000],
    [7, BACKOFF_CAP_MS],
    [30, BACKOFF_CAP_MS],
  ])('attempt %i waits below %i ms', (attempt, ceiling) => {
    expect(backoffDelay(attempt, () => 0)).toBe(0);
    expect(backoffDelay(attempt, () => 0.999_999)).toBe(ceiling - 1);
    expect(backoffDelay(attempt, () => 0.5)).toBe(ceiling / 2);
  });
});
