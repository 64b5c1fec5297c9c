import type { ResultStatus } from '../explain/statuses.js';

/** What one upload sends: a file streamed from disk, bytes already in memory (stdin), or a URL the server fetches. */
export type UploadPayload =
  | { readonly kind: 'file'; readonly path: string; readonly filename: string; readonly bytes: number }
  | { readonly kind: 'bytes'; readonly data: Uint8Array; readonly filename: string }
  | { readonly kind: 'url'; readonly url: string };

/**
 * The outcome of one HTTP attempt, success or failure, as data. Every way an attempt can end (an answer in
 * any shape, a dropped connection, a timeout) becomes one of these; nothing is thrown for them.
 */
export interface AttemptOutcome {
  readonly ok: boolean;
  /** 'OK', an API error code, or one of the tool's own statuses (NETWORK_ERROR, TIMEOUT, BAD_RESPONSE, …). */
  readonly status: ResultStatus;
  readonly httpStatus?: number;
  readonly livenessDataId?: string;
  /** The server's `reason`, or the tool's own description of what went wrong. */
  readonly reason?: string;
  readonly requestId?: string;
  /** Whether another attempt may succeed. */
  readonly retryable: boolean;
  /** The server's `Retry-After`, in milliseconds, when it sent one. */
  readonly retryAfterMs?: number;
  /**
   * The request may have reached the server although no answer came back, so a retry may store the upload
   * twice (uploads are not idempotent).
   */
  readonly maybeDelivered: boolean;
}
