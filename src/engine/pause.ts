import type { AttemptOutcome } from '../api/types.js';

/** First wait before the account is checked again after an account error; it doubles up to the cap. */
const ACCOUNT_RECHECK_FIRST_MS = 2000;
const ACCOUNT_RECHECK_CAP_MS = 5 * 60_000;

/** An account error paused uploading: what the server said and when the account is checked again. */
export interface AccountPauseEvent {
  readonly status: AttemptOutcome['status'];
  readonly httpStatus?: number;
  readonly reason?: string;
  /** When the upload that met the error is sent again, as the check (ms since the epoch). */
  readonly recheckAt: number;
  /** Checks made since the pause began (0 for the first wait). */
  readonly checks: number;
}

/**
 * A long-running batch (a watched folder) that meets an account error (wrong key, expired key, no permission,
 * quota) pauses instead of stopping: no upload starts, and the upload that met the error is sent again after
 * a wait that doubles (2 s, 4 s, … 5 min) until the server takes it; then every upload goes on. Only one upload
 * makes these checks: the others wait at `open()` without calling the server.
 */
export class AccountPause {
  private paused: { resume: () => void; resumed: Promise<void>; checks: number } | undefined;
  private readonly firstMs: number;

  constructor(firstMs = ACCOUNT_RECHECK_FIRST_MS) {
    this.firstMs = firstMs;
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  /** Resolves when uploads may start: at once unless paused; false when `signal` aborts first. */
  async open(signal: AbortSignal): Promise<boolean> {
    while (this.paused) {
      if (signal.aborted) return false;
      const { resumed } = this.paused;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        signal.addEventListener('abort', done, { once: true });
        void resumed.then(done);
      });
    }
    return !signal.aborted;
  }

  /**
   * An upload met an account error. The first one to meet it while not paused (or the checking one) becomes
   * the check, and gets the wait before it sends again; any other waits at `open()` (undefined).
   */
  failed(outcome: AttemptOutcome, checking: boolean): AccountPauseEvent | undefined {
    if (this.paused && !checking) return undefined;
    if (!this.paused) {
      let resume = () => {};
      const resumed = new Promise<void>((resolve) => {
        resume = resolve;
      });
      this.paused = { resume, resumed, checks: 0 };
    } else {
      this.paused.checks++;
    }
    const waitMs = Math.min(ACCOUNT_RECHECK_CAP_MS, this.firstMs * 2 ** this.paused.checks);
    return { status: outcome.status, httpStatus: outcome.httpStatus, reason: outcome.reason, recheckAt: Date.now() + waitMs, checks: this.paused.checks };
  }

  /** The check got through (any answer that is not an account error): uploads go on. */
  resume(): void {
    const paused = this.paused;
    this.paused = undefined;
    paused?.resume();
  }
}
