import { setMaxListeners } from 'node:events';

/**
 * Why and when a batch stops starting uploads: the caller's stop signal (Ctrl-C), or an account that cannot
 * upload. Every upload waiting for a slot or a retry listens on `signal`; the first reason given is kept.
 */
export class BatchStop {
  private readonly controller = new AbortController();
  private why: string | undefined;

  constructor(stopSignal?: AbortSignal) {
    // Every worker waiting for a slot or a retry listens: many more than Node's default warning level.
    setMaxListeners(0, this.controller.signal);
    if (stopSignal?.aborted) this.stop('the run was interrupted');
    else stopSignal?.addEventListener('abort', () => this.stop('the run was interrupted'), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the batch stopped, once it has. */
  get reason(): string | undefined {
    return this.why;
  }

  stop(why: string): void {
    this.why ??= why;
    this.controller.abort();
  }
}
