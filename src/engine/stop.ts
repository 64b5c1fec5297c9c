import { setMaxListeners } from 'node:events';
import { UsageError } from '../errors.js';

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

/**
 * `--max-failures <n|p%>` for a batch of `total` inputs: at most n failed inputs, or p% of the batch (rounded
 * down); more than that stops the batch.
 */
export function failureBudget(given: string, total: number): { limit: number; given: string } {
  const text = given.trim();
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
  const value = Number(match?.[1]);
  if (!match || !Number.isFinite(value) || (match[2] === '' && !Number.isSafeInteger(value)) || (match[2] === '%' && value > 100)) {
    throw new UsageError(`--max-failures must be a number of inputs (10) or a share of the batch (5%), got '${given}'.`);
  }
  return { limit: match[2] === '%' ? Math.floor((value / 100) * total) : value, given: text };
}
