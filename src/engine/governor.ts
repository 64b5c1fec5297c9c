import { setTimeout as sleep } from 'node:timers/promises';

/** Slowest pace the governor goes down to: one upload start every two seconds. */
export const MIN_RATE = 0.5;
/** Cut to this share of the rate that was getting through when the server says "too frequent". */
const DECREASE = 0.7;
/** Growth per successful call while paced: about 10% a second at the pace it runs. */
const INCREASE = 0.1;
/** Successes counted to measure the rate that gets through. */
const WINDOW_MS = 2000;
/** A burst of rate-limit answers to requests already in flight counts as one signal. */
const CUT_COOLDOWN_MS = 1000;

export interface GovernorState {
  readonly inFlight: number;
  /** Uploads allowed in flight now (≤ the configured concurrency). */
  readonly limit: number;
  /** Upload starts per second, once the server has pushed back; undefined while unpaced. */
  readonly rate: number | undefined;
}

/**
 * Adapts a batch to the account's rate limit (AIMD). Until the server first answers RATE_LIMIT_EXCEEDED,
 * uploads run at the configured concurrency, unpaced. From then on, starts are paced: each rate-limit
 * signal cuts the pace to 70% of what was getting through and the in-flight limit likewise, and the next
 * start waits one step of the new pace; each success raises them again a little. A batch so settles just
 * under the account's rate instead of hammering it.
 *
 * The server's Retry-After delays the retry of the input it was sent for (see retry.ts), not every slot:
 * holding the whole batch back for each refusal's Retry-After put the pauses in series (one request every
 * Retry-After), and froze for a minute a batch whose other uploads the server still accepted.
 */
export class RateGovernor {
  private readonly max: number;
  private readonly now: () => number;
  private limit: number;
  private rate: number | undefined;
  private inFlight = 0;
  private nextStartAt = 0;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private readonly successes: number[] = [];
  private waiters: Array<() => void> = [];

  constructor(maxConcurrency: number, now: () => number = Date.now) {
    this.max = Math.max(1, maxConcurrency);
    this.limit = this.max;
    this.now = now;
  }

  get state(): GovernorState {
    return { inFlight: this.inFlight, limit: Math.floor(this.limit), rate: this.rate };
  }

  /**
   * Waits for the right to start one request. Resolves false, without taking a slot, when `signal` aborts
   * first (the batch is stopping).
   */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      if (this.inFlight >= Math.floor(this.limit)) {
        await this.nextRelease(signal);
        continue;
      }
      const wait = this.startDelay();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          return false;
        }
        continue;
      }
      this.take();
      return true;
    }
  }

  /** How long, from now, before a start is allowed by the pace (not counting free slots). */
  startDelay(): number {
    return Math.max(0, this.nextStartAt - this.now());
  }

  /** Records a start; `acquire` calls it. Public for tests of the arithmetic. */
  take(): void {
    const now = this.now();
    this.inFlight++;
    if (this.rate !== undefined) this.nextStartAt = Math.max(now, this.nextStartAt) + 1000 / this.rate;
  }

  /** Gives the slot back and learns from how the request ended. */
  release(ending: 'ok' | 'rate-limited' | 'other'): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (ending === 'ok') this.onSuccess();
    if (ending === 'rate-limited') this.onRateLimited();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private onSuccess(): void {
    const now = this.now();
    this.successes.push(now);
    while (this.successes.length > 0 && (this.successes[0] as number) < now - WINDOW_MS) this.successes.shift();
    this.limit = Math.min(this.max, this.limit + 1 / this.limit);
    if (this.rate !== undefined) this.rate *= 1 + INCREASE / Math.max(1, this.rate);
  }

  private onRateLimited(): void {
    const now = this.now();
    if (now - this.lastCutAt < CUT_COOLDOWN_MS) return;
    this.lastCutAt = now;
    // Nothing got through yet (the account was refused from the start): take the in-flight limit as a rate a
    // second, so that the first cuts come down from about the batch's own pace rather than from one a second.
    const gettingThrough = this.successRate(now) ?? this.rate ?? this.limit;
    this.rate = Math.max(MIN_RATE, DECREASE * Math.min(this.rate ?? Number.POSITIVE_INFINITY, gettingThrough));
    this.limit = Math.max(1, this.limit * DECREASE);
    this.nextStartAt = Math.max(this.nextStartAt, now + 1000 / this.rate);
  }

  /**
   * Successes a second over the last two seconds, or over the time since the first of them when the batch is
   * younger (at least a second, so that an opening burst does not count as a sustained rate).
   */
  private successRate(now: number): number | undefined {
    const recent = this.successes.filter((at) => at >= now - WINDOW_MS);
    if (recent.length === 0) return undefined;
    const span = Math.min(WINDOW_MS, Math.max(1000, now - (recent[0] as number)));
    return recent.length / (span / 1000);
  }

  private nextRelease(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
