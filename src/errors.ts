import type { ResultStatus } from './explain/statuses.js';

/**
 * A mistake in how the tool was called or configured (a bad option, an unusable endpoint, invalid inputs):
 * nothing was uploaded. The CLI prints the message and exits 2.
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  /** Extra lines under the message: every problem found, or the ways to fix it. */
  readonly details: readonly string[];
  constructor(message: string, details: readonly string[] = []) {
    super(message);
    this.details = details;
  }
}

/** The failure of one upload, as thrown by the single-input library calls. */
export class LinkfaceError extends Error {
  override readonly name = 'LinkfaceError';
  readonly status: ResultStatus;
  readonly httpStatus?: number;
  readonly reason?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  constructor(failure: {
    status: ResultStatus;
    httpStatus?: number;
    reason?: string;
    requestId?: string;
    retryable: boolean;
  }) {
    super(`${failure.status}${failure.httpStatus ? ` (HTTP ${failure.httpStatus})` : ''}${failure.reason ? `: ${failure.reason}` : ''}`);
    this.status = failure.status;
    this.httpStatus = failure.httpStatus;
    this.reason = failure.reason;
    this.requestId = failure.requestId;
    this.retryable = failure.retryable;
  }
}
