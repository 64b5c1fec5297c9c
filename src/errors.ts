import type { ResultStatus } from './explain/statuses.js';

/**
 * The base of every error linkface throws, with a stable `code` to branch on (`error.code === 'USAGE'`).
 * Per-input failures inside a batch are not thrown: they are results (`UploadResult`, `ok: false`).
 */
export class LinkfaceError extends Error {
  override readonly name: string = 'LinkfaceError';
  /** `USAGE`, `SETTINGS`, `INVALID_INPUT`, or, for an upload that failed, its status (`UNAUTHORIZED`, `TIMEOUT`, …). */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A mistake in how the tool was called or configured (a bad option, an unusable endpoint): nothing was
 * uploaded. The command line prints the message and exits 2.
 */
export class UsageError extends LinkfaceError {
  override readonly name: string = 'UsageError';
  /** Extra lines under the message: every problem found, or the ways to fix it. */
  readonly details: readonly string[];
  constructor(message: string, details: readonly string[] = [], code = 'USAGE') {
    super(code, message);
    this.details = details;
  }
}

/** Why an input cannot be uploaded; nothing is sent for it. */
export interface InputProblem {
  readonly input: string;
  readonly reason: string;
}

/** Inputs that cannot be uploaded, every one of them listed; nothing was sent. */
export class InvalidInputsError extends UsageError {
  override readonly name: string = 'InvalidInputsError';
  readonly problems: readonly InputProblem[];
  constructor(problems: readonly InputProblem[]) {
    const noun = problems.length === 1 ? 'input is' : 'inputs are';
    super(`${problems.length} ${noun} not valid; nothing was uploaded`, problems.map((p) => `${p.input}: ${p.reason}`), 'INVALID_INPUT');
    this.problems = problems;
  }
}

/** The failure of one upload, as the single-input calls (`uploadOne`) throw it. `code` is its status. */
export class UploadError extends LinkfaceError {
  override readonly name: string = 'UploadError';
  readonly status: ResultStatus;
  readonly httpStatus?: number;
  readonly reason?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  constructor(failure: { status: ResultStatus; httpStatus?: number; reason?: string; requestId?: string; retryable: boolean }) {
    const http = failure.httpStatus ? ` (HTTP ${failure.httpStatus})` : '';
    super(failure.status, `${failure.status}${http}${failure.reason ? `: ${failure.reason}` : ''}`);
    this.status = failure.status;
    this.httpStatus = failure.httpStatus;
    this.reason = failure.reason;
    this.requestId = failure.requestId;
    this.retryable = failure.retryable;
  }
}

/**
 * An error and its causes, outermost first, at most `depth` of them: undici and Node wrap the error that
 * says what happened (a socket's ECONNRESET, a certificate's code, a file's ENOENT) in others.
 */
export function* errorChain(error: unknown, depth = 5): Generator<Error & { code?: unknown }> {
  for (let e: unknown = error, n = 0; e instanceof Error && n < depth; n++, e = e.cause) yield e;
}
