import { MAX_RETRY_AFTER_MS } from '../api/response.js';
import type { AttemptOutcome } from '../api/types.js';

/** Backoff: exponential with full jitter, base 0.5 s, capped at 20 s (SPEC "Retries"). */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 20_000;

export type RetryDecision = { readonly retry: false; readonly why: string } | { readonly retry: true; readonly delayMs: number; readonly why: string };

/**
 * Whether to try again after attempt number `attempt` (1-based) ended with `outcome`, and how long to wait.
 * `random` returns [0, 1), injected so tests can pin the jitter.
 */
export function decideRetry(
  outcome: AttemptOutcome,
  attempt: number,
  retries: number,
  random: () => number = Math.random,
): RetryDecision {
  if (outcome.ok) return { retry: false, why: 'uploaded' };
  if (!outcome.retryable) return { retry: false, why: 'not retryable' };
  if (attempt > retries) return { retry: false, why: `no retries left (--retries ${retries})` };
  if (outcome.retryAfterMs !== undefined) {
    return { retry: true, delayMs: Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS), why: 'Retry-After' };
  }
  return { retry: true, delayMs: backoffDelay(attempt, random), why: 'backoff' };
}

/** Full jitter: a uniform wait in [0, min(cap, base × 2^(attempt-1))). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
