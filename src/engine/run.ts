import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptOutcome, UploadPayload } from '../api/types.js';
import { isAccountStatus, type ResultStatus } from '../explain/statuses.js';
import { FileBufferPool } from '../inputs/buffers.js';
import { READ_WHOLE_BYTES, type UploadJob, withDigest } from '../inputs/check.js';
import { forEachConcurrently, inTurn } from '../pool.js';
import { SameContentUploads, sameContentResult } from './dedupe.js';
import { RateGovernor } from './governor.js';
import { AccountPause, type AccountPauseEvent } from './pause.js';
import { decideRetry, type RetryDecision } from './retry.js';
import { BatchStop } from './stop.js';
import { type ResultsStore, resumedResult } from './store.js';

/** The final word on one input: uploaded, or why not. Failures are data here, never exceptions. */
export interface UploadResult {
  readonly input: string;
  readonly kind: 'file' | 'url';
  readonly sha256?: string;
  readonly bytes?: number;
  readonly ok: boolean;
  readonly status: ResultStatus;
  readonly livenessDataId?: string;
  readonly requestId?: string;
  readonly httpStatus?: number;
  readonly reason?: string;
  /** Uploaded by an earlier run, as the manifest given to `--resume` records: not sent again. */
  readonly resumed?: boolean;
  /** Whether another run may succeed where this one failed. */
  readonly retryable: boolean;
  /** HTTP attempts made for this input (0 when none was sent). */
  readonly attempts: number;
  readonly ms: number;
  /** When the result was settled, ISO 8601. */
  readonly at: string;
}

/** Sends one payload; the engine's only view of the network. */
export interface UploadSender {
  send(payload: UploadPayload, signal?: AbortSignal): Promise<AttemptOutcome>;
}

export interface AttemptEvent {
  readonly job: UploadJob;
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  readonly ms: number;
  readonly decision: RetryDecision;
}

/** Progress, as it happens; all optional. */
export interface UploadHooks {
  onStart?(job: UploadJob): void;
  onAttempt?(event: AttemptEvent): void;
  onResult?(result: UploadResult): void;
  /** With `accountErrors: 'pause'`: an account error paused uploading, or a check found it still failing. */
  onPause?(event: AccountPauseEvent): void;
  /** With `accountErrors: 'pause'`: the check got through; uploads go on. */
  onResume?(): void;
}

export interface RunOptions {
  /** Retries after the first attempt, per input. */
  readonly retries: number;
  /** Uploads in flight at once. */
  readonly concurrency: number;
  /** When aborted, no new upload or retry starts; those in flight go on. */
  readonly stopSignal?: AbortSignal;
  /** When aborted, uploads in flight are abandoned. */
  readonly cancelSignal?: AbortSignal;
  /**
   * False: return no list of results (an empty array), for a caller that takes each from `onResult`; memory
   * then stays flat however many inputs a batch has. Default true.
   */
  readonly keepResults?: boolean;
  /**
   * Read small files into memory reused from upload to upload, so that a long batch's resident memory stays
   * flat. Only for a caller whose hooks keep no reference to `job.payload` after an attempt (the memory is
   * rewritten with another file's bytes). Default false.
   */
  readonly reuseFileBuffers?: boolean;
  /** Jitter source, [0, 1). */
  readonly random?: () => number;
  /**
   * Where results are kept: each settled result is recorded, and an input whose content (or URL) the store
   * shows uploaded by an earlier run is not sent again (resume); asked once the job's SHA-256 is known.
   */
  readonly store?: ResultsStore;
  /**
   * Once more inputs than `limit` failed, start no new upload (the rest are NOT_ATTEMPTED): an SDK mismatch
   * that fails every file need not cost one call per file. `given` is how the user wrote it (`10`, `5%`).
   */
  readonly maxFailures?: { readonly limit: number; readonly given: string };
  /**
   * What an account error (UNAUTHORIZED, KEY_EXPIRED, NO_PERMISSION, OUT_OF_QUOTA) does. 'stop' (default): no
   * new upload starts and the rest are NOT_ATTEMPTED. 'pause', for a batch that does not end (a watched folder):
   * no upload starts until a check (the same upload, sent again after a growing wait) gets through; no input
   * fails for it.
   */
  readonly accountErrors?: 'stop' | 'pause';
}

/**
 * Files read (and hashed) at once, in the order their jobs came. libuv's thread pool, where Node's file-system
 * calls run, has four threads by default: more reads at once only take turns there, and at the start of a
 * batch every worker reads at once, so the first upload waited for some thirty other first reads (100 KB files,
 * Node 26: its connection opened 30–35 ms after the batch started, against about 10 ms in turn). Measured over
 * 1,000 such files at 50 ms latency, 8 alternating runs: the first id came 0.34 s after the start instead of
 * 0.36 s on Node 26 (0.35 s instead of 0.39 s on Node 20), and the batch ended 40–80 ms sooner. Four reads keep
 * well ahead of the uploads: a read takes a millisecond or two, an upload tens.
 */
const READS_AT_ONCE = 4;

/** A failure that counts against the budget: an upload that did not succeed (not one skipped or not attempted). */
function isFailure(result: UploadResult): boolean {
  return !result.ok && result.status !== 'SKIPPED' && result.status !== 'NOT_ATTEMPTED';
}

/**
 * Uploads every job with bounded concurrency and per-input retries, slowing the whole batch down when the
 * server answers RATE_LIMIT_EXCEEDED. Stops starting new uploads at the first account error (the rest are
 * NOT_ATTEMPTED) or when `stopSignal` aborts. Jobs are taken from the iterable as workers free up (it may be
 * one that does not end); results come back in job order (unless `keepResults` is false).
 */
export async function runUploads(
  jobs: Iterable<UploadJob> | AsyncIterable<UploadJob>,
  sender: UploadSender,
  options: RunOptions,
  hooks: UploadHooks = {},
): Promise<UploadResult[]> {
  const stop = new BatchStop(options.stopSignal);
  // The caller's cancel signal gets one listener for the whole batch, not one per upload in flight (Node warns
  // of a leak past ten, in the caller's process); each upload follows this one.
  const cancel = ownSignal(options.cancelSignal);
  if (cancel.signal) setMaxListeners(0, cancel.signal);
  const governor = new RateGovernor(options.concurrency);
  const keepResults = options.keepResults ?? true;
  const results: UploadResult[] = [];
  const sameContent = new SameContentUploads();
  const buffers = options.reuseFileBuffers ? new FileBufferPool(READ_WHOLE_BYTES) : undefined;
  const reading = inTurn(READS_AT_ONCE);
  const context: AttemptContext = {
    sender,
    governor,
    options,
    batchSignal: stop.signal,
    cancelSignal: cancel.signal,
    hooks,
    stopReason: () => stop.reason ?? 'the batch stopped',
    accountFailed: (status) => stop.stop(`the account cannot upload (${status})`),
    pause: options.accountErrors === 'pause' ? new AccountPause() : undefined,
  };

  /** Hash, then: stopped, a duplicate, uploaded before, or a new upload. */
  const settleJob = async (unhashed: UploadJob): Promise<UploadResult> => {
    if (stop.reason) return notAttempted(unhashed, stop.reason);
    const job = await reading(() => withDigest(unhashed, buffers));
    if (typeof job === 'string') return unreadable(unhashed, job);
    const result = await settleHashed(job);
    // The file's memory is reused only when nothing can still read it: it was never sent, or it was sent once
    // and the server answered OK, so it had read every byte and no write of it can be pending. (Were a server
    // to answer OK before reading the whole body, undici does not reuse a connection whose request is still
    // being written: it closes it, and with it any pending write.) After any other ending (an early answer, a
    // timeout, a reset) the memory is left to the garbage collector.
    if (buffers && job.payload.kind === 'bytes' && (result.attempts === 0 || (result.ok && result.attempts === 1))) {
      buffers.give(job.payload.data);
    }
    return result;
  };

  const settleHashed = async (job: UploadJob): Promise<UploadResult> => {
    // The same content twice in one run is uploaded once; both inputs report its id.
    const first = sameContent.earlier(job.sha256);
    if (first) return sameContentResult(job, await first);
    const earlier = await options.store?.uploadedBefore(job);
    if (earlier) return resumedResult(job, earlier);
    hooks.onStart?.(job);
    await options.store?.sending?.(job);
    const upload = uploadWithRetries(job, context);
    sameContent.track(job.sha256, upload);
    return upload;
  };

  // Twice as many workers as upload slots: while some wait for a slot (the governor admits `concurrency`
  // requests at a time), the others hash their next file, so reading never holds up the network.
  let failed = 0;
  try {
    await forEachConcurrently(jobs, 2 * options.concurrency, async (job, index) => {
      const result = await settleJob(job);
      const budget = options.maxFailures;
      if (budget && isFailure(result) && ++failed > budget.limit) {
        stop.stop(`the failure budget is spent (${failed} failed, more than --max-failures ${budget.given})`);
      }
      // Found in the store: it is there already.
      if (!result.resumed) await options.store?.record(result);
      if (keepResults) results[index] = result;
      hooks.onResult?.(result);
    });
  } finally {
    cancel.dispose();
  }
  return results;
}

interface AttemptContext {
  readonly sender: UploadSender;
  readonly governor: RateGovernor;
  readonly options: RunOptions;
  readonly batchSignal: AbortSignal;
  /** Follows the caller's cancel signal: abandons the uploads in flight. */
  readonly cancelSignal: AbortSignal | undefined;
  readonly hooks: UploadHooks;
  /** Why the batch stopped, once it has. */
  readonly stopReason: () => string;
  /** Called at once on an account error, before any other upload can take the freed slot. */
  readonly accountFailed: (status: string) => void;
  /** With `accountErrors: 'pause'`: account errors pause uploading instead of stopping the batch. */
  readonly pause: AccountPause | undefined;
}

async function uploadWithRetries(job: UploadJob, context: AttemptContext): Promise<UploadResult> {
  const cancel = ownSignal(context.cancelSignal);
  try {
    return await attemptUntilSettled(job, context, cancel.signal);
  } finally {
    cancel.dispose();
  }
}

/**
 * A signal of the upload's own that aborts when `batch` does. The client adds its timeout with
 * AbortSignal.any, and Node keeps an entry in a signal for every signal made from it that way, for as long as
 * that signal lives (nodejs/node#55351): given the batch's own signal, a batch of 100,000 uploads left 100,000
 * entries in it, some 6 MB. An upload's own signal goes with the upload.
 */
function ownSignal(batch: AbortSignal | undefined): { signal: AbortSignal | undefined; dispose(): void } {
  if (!batch) return { signal: undefined, dispose: () => {} };
  const own = new AbortController();
  const follow = () => own.abort(batch.reason);
  if (batch.aborted) follow();
  else batch.addEventListener('abort', follow, { once: true });
  return { signal: own.signal, dispose: () => batch.removeEventListener('abort', follow) };
}

async function attemptUntilSettled(job: UploadJob, context: AttemptContext, cancelSignal: AbortSignal | undefined): Promise<UploadResult> {
  const { sender, governor, options, batchSignal, hooks, stopReason, pause } = context;
  const started = Date.now();
  let last: AttemptOutcome | undefined;
  // Requests sent; `attempt` counts only those that were not account errors met while pausing (see AccountPause).
  let sent = 0;
  let checking = false;
  for (let attempt = 1; ; attempt++) {
    // The batch stopped while this input waited for its turn: it ends as it stood.
    const mayStart = checking || !pause || (await pause.open(batchSignal));
    if (!mayStart || !(await governor.acquire(batchSignal))) {
      return last && !(pause && isAccountStatus(last.status)) ? settle(job, last, sent, started) : notAttempted(job, stopReason(), sent);
    }
    // Paused while this upload waited for its slot: only the check goes to the server.
    if (pause?.isPaused && !checking) {
      governor.release('other');
      attempt--;
      continue;
    }
    const attemptStarted = Date.now();
    const outcome = await sender.send(job.payload, cancelSignal);
    sent++;
    const accountError = isAccountStatus(outcome.status);
    if (accountError && !pause) context.accountFailed(outcome.status);
    governor.release(outcome.ok ? 'ok' : outcome.status === 'RATE_LIMIT_EXCEEDED' ? 'rate-limited' : 'other');
    last = outcome;
    if (pause && accountError) {
      // Paused: this upload either makes the next check (after the wait) or waits for the one that does.
      attempt--;
      const wait = pause.failed(outcome, checking);
      checking = wait !== undefined;
      if (!wait) continue;
      hooks.onPause?.(wait);
      try {
        await sleep(Math.max(0, wait.recheckAt - Date.now()), undefined, { signal: batchSignal });
      } catch {
        return notAttempted(job, stopReason(), sent);
      }
      continue;
    }
    if (checking) {
      checking = false;
      pause?.resume();
      hooks.onResume?.();
    }
    const decision = decideRetry(outcome, attempt, options.retries, options.random);
    hooks.onAttempt?.({ job, attempt, outcome, ms: Date.now() - attemptStarted, decision });
    if (!decision.retry || batchSignal.aborted) return settle(job, outcome, sent, started);
    try {
      await sleep(decision.delayMs, undefined, { signal: batchSignal });
    } catch {
      // The batch stopped while this input waited to retry: it ends with its last outcome.
      return settle(job, outcome, sent, started);
    }
  }
}

function settle(job: UploadJob, outcome: AttemptOutcome, attempts: number, started: number): UploadResult {
  return {
    ...identity(job),
    ok: outcome.ok,
    status: outcome.status,
    livenessDataId: outcome.livenessDataId,
    requestId: outcome.requestId,
    httpStatus: outcome.httpStatus,
    reason: outcome.reason,
    retryable: outcome.retryable,
    attempts,
    ms: Date.now() - started,
    at: new Date().toISOString(),
  };
}

function notAttempted(job: UploadJob, why: string, attempts = 0): UploadResult {
  return {
    ...identity(job),
    ok: false,
    status: 'NOT_ATTEMPTED',
    reason: attempts === 0 ? `not started: ${why}` : `not uploaded: ${why} while uploading was paused by an account error`,
    retryable: true,
    attempts,
    ms: 0,
    at: new Date().toISOString(),
  };
}

function unreadable(job: UploadJob, why: string): UploadResult {
  return { ...identity(job), ok: false, status: 'INVALID_INPUT', reason: `${why} (when it was about to be sent)`, retryable: false, attempts: 0, ms: 0, at: new Date().toISOString() };
}

function identity(job: UploadJob): Pick<UploadResult, 'input' | 'kind' | 'sha256' | 'bytes'> {
  return { input: job.input, kind: job.kind, sha256: job.sha256, bytes: job.bytes };
}

/**
 * The SPEC's result object, as one NDJSON line of `--json` and one line of a manifest hold it (the
 * library's `UploadResult` with the API's field names).
 */
export type ResultRecord = {
  input: string;
  kind: 'file' | 'url';
  sha256?: string;
  bytes?: number;
  ok: boolean;
  status: ResultStatus;
  liveness_data_id?: string;
  /** Uploaded by an earlier run, as the results store (`--resume`) shows; not sent again. */
  resumed?: boolean;
  reason?: string;
  request_id?: string;
  http_status?: number;
  attempts: number;
  ms: number;
  at: string;
};

/** The result as its record: the NDJSON line and the manifest line. */
export function toResultRecord(result: UploadResult): ResultRecord {
  return {
    input: result.input,
    kind: result.kind,
    sha256: result.sha256,
    bytes: result.bytes,
    ok: result.ok,
    status: result.status,
    liveness_data_id: result.livenessDataId,
    resumed: result.resumed,
    reason: result.reason,
    request_id: result.requestId,
    http_status: result.httpStatus,
    attempts: result.attempts,
    ms: result.ms,
    at: result.at,
  };
}
