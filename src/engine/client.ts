import { EndpointClient } from '../api/client.js';
import { UploadError, UsageError } from '../errors.js';
import { type PlanOptions, planUploads, uploadPlan, uploadStream } from './batch.js';
import type { UploadResult } from './run.js';
import { FolderWatch, type WatchOptions } from '../watch/watch.js';
import type { ResultsStore } from './store.js';
import { ResultTally } from './tally.js';
import { failureBudget } from './stop.js';

export interface LinkfaceClientOptions {
  apiId: string;
  apiSecret: string;
  /** Service root; default `https://cloudapi.linkface.cn`. */
  endpoint?: string;
  /** Uploads in flight at once; default 4. */
  concurrency?: number;
  /** Retries after the first attempt, per input; default 3. */
  retries?: number;
  /** Per-attempt timeout in milliseconds; default 30,000. */
  timeoutMs?: number;
  /** Allow a plain http:// endpoint that is not loopback. */
  allowHttp?: boolean;
  /** PEM text of extra certificate authorities to trust, on top of Node's own and NODE_EXTRA_CA_CERTS. */
  ca?: string;
}

/** One batch: how inputs become uploads (as `planUploads`), where results go, and what to call as each settles. */
export interface BatchOptions extends PlanOptions {
  /**
   * Where results are kept and, for resume, what was uploaded before: e.g.
   * `await ManifestStore.open('uploaded.ndjson', { resume: true })`, or a store of your own.
   */
  store?: ResultsStore;
  /** Aborting stops new uploads; those in flight finish. */
  signal?: AbortSignal;
  /** Aborting abandons uploads in flight too. */
  cancelSignal?: AbortSignal;
  /**
   * Once more inputs than this failed, start no new upload; the rest are NOT_ATTEMPTED. A number of inputs
   * (`10`) or a share of the batch (`'5%'`).
   */
  maxFailures?: number | `${number}%`;
  /** Called with each result as it settles (the batch's iterator yields the same results). */
  onResult?(result: UploadResult): void;
}

export const DEFAULT_ENDPOINT = 'https://cloudapi.linkface.cn';

/**
 * The uploads of one batch as they settle, in the order they settle: iterate it with `for await`. Its
 * `summary` counts them as they come (uploaded, resumed, skipped, failed by status, not attempted); `done()`
 * resolves with it once every input settled. Results wait to be iterated; a caller that takes them from
 * `onResult` and calls `done()` without iterating holds none (a batch that never ends stays small).
 */
export class UploadBatch implements AsyncIterable<UploadResult> {
  readonly summary = new ResultTally();
  private readonly settled: UploadResult[] = [];
  private readonly finished: Promise<unknown>;
  private ended = false;
  private iterated = false;
  private buffering = true;
  private wake: (() => void) | undefined;

  /** `run` uploads, handing each result to its callback; the batch starts at once. */
  constructor(run: (onResult: (result: UploadResult) => void) => Promise<unknown>) {
    const ended = () => {
      this.ended = true;
      this.wake?.();
    };
    this.finished = run((result) => {
      this.summary.add(result);
      if (this.buffering) this.settled.push(result);
      this.wake?.();
    });
    this.finished.then(ended, ended);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<UploadResult> {
    this.iterated = true;
    for (;;) {
      const next = this.settled.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) {
        await this.finished;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  /** Resolves with the summary once every input settled; rejects if the batch could not run (invalid inputs). */
  async done(): Promise<ResultTally> {
    if (!this.iterated) {
      this.buffering = false;
      this.settled.length = 0;
    }
    await this.finished;
    return this.summary;
  }
}

/**
 * linkface without the terminal: the same pipeline as the command line (inputs expanded and checked,
 * uploads with retries, rate adaptation, same-content deduplication, a results store for resume). Reuse one
 * client for many batches; `close()` it when done.
 */
export class LinkfaceClient {
  private readonly options: LinkfaceClientOptions;
  private readonly endpoint: EndpointClient;

  constructor(options: LinkfaceClientOptions) {
    this.options = options;
    this.endpoint = new EndpointClient({
      endpoint: options.endpoint ?? DEFAULT_ENDPOINT,
      apiId: options.apiId,
      apiSecret: options.apiSecret,
      timeoutMs: options.timeoutMs,
      allowHttp: options.allowHttp,
      connections: options.concurrency ?? 4,
      ca: options.ca,
    });
  }

  /**
   * Uploads files, folders, glob patterns, URLs and `-` (standard input). Every input is checked first: an
   * invalid one fails the batch with an InvalidInputsError listing all problems (nothing sent) unless
   * `skipInvalid`. Per-input failures are results with `ok: false`, never exceptions.
   *
   * Given an async iterable (which may never end), files and URLs are checked and uploaded as they come, an
   * invalid one reported SKIPPED; `include`, `exclude`, `filesFrom` and `shard` do not apply, and a share of
   * the batch cannot be a `maxFailures`.
   */
  uploadAll(inputs: readonly string[] | AsyncIterable<string>, batch: BatchOptions = {}): UploadBatch {
    if (Symbol.asyncIterator in inputs) return new UploadBatch((onResult) => this.stream(inputs, batch, onResult));
    return new UploadBatch((onResult) => this.run(inputs, batch, onResult, false));
  }

  /**
   * Watches a folder: each file is uploaded once it is complete (unchanged for `settleMs`, or renamed in),
   * through this client, its result recorded in `store`, and the file then kept, deleted or moved. Runs
   * until `signal` aborts; account errors pause it (see `onPause`) rather than fail files.
   */
  watch(dir: string, options: WatchOptions): Promise<FolderWatch> {
    const { retries, concurrency } = this.runOptions({});
    return FolderWatch.start(dir, { sender: this.endpoint, retries, concurrency }, options);
  }

  private async stream(inputs: AsyncIterable<string>, batch: BatchOptions, onResult: (result: UploadResult) => void): Promise<void> {
    if (typeof batch.maxFailures === 'string') throw new UsageError('maxFailures of an endless batch must be a number of inputs, not a share.');
    await uploadStream(
      inputs,
      this.endpoint,
      {
        ...this.runOptions(batch),
        keepResults: false,
        cwd: batch.cwd,
        maxSizeBytes: batch.maxSizeBytes,
        maxFailures: batch.maxFailures === undefined ? undefined : failureBudget(String(batch.maxFailures), 0),
      },
      {
        onResult: (result) => {
          onResult(result);
          batch.onResult?.(result);
        },
      },
    );
  }

  private runOptions(batch: BatchOptions) {
    return {
      retries: this.options.retries ?? 3,
      concurrency: this.options.concurrency ?? 4,
      stopSignal: batch.signal,
      cancelSignal: batch.cancelSignal,
      store: batch.store,
    };
  }

  /** `uploadAll`, collected: one result per input, in the inputs' order (invalid ones first, with `skipInvalid`). */
  async upload(inputs: string | readonly string[], batch: BatchOptions = {}): Promise<UploadResult[]> {
    return this.run(typeof inputs === 'string' ? [inputs] : inputs, batch, () => {}, true);
  }

  private async run(inputs: readonly string[], batch: BatchOptions, onResult: (result: UploadResult) => void, keepResults: boolean): Promise<UploadResult[]> {
    const plan = await planUploads(inputs, batch);
    const options = {
      ...this.runOptions(batch),
      keepResults,
      maxFailures: batch.maxFailures === undefined ? undefined : failureBudget(String(batch.maxFailures), plan.jobs.length + plan.invalid.length),
    };
    return uploadPlan(plan, this.endpoint, options, {
      onResult: (result) => {
        onResult(result);
        batch.onResult?.(result);
      },
    });
  }

  /** Uploads one input and returns its liveness_data_id; a failure throws an UploadError. */
  async uploadOne(input: string, batch: BatchOptions = {}): Promise<string> {
    const [result] = await this.upload(input, batch);
    if (result?.ok && result.livenessDataId) return result.livenessDataId;
    throw new UploadError(result ?? { status: 'NOT_ATTEMPTED', retryable: false });
  }

  async close(): Promise<void> {
    await this.endpoint.close();
  }
}

/** One-shot form of `LinkfaceClient.uploadAll`: opens a client for the batch and closes it at the end. */
export function uploadAll(inputs: readonly string[], options: LinkfaceClientOptions & BatchOptions): UploadBatch {
  return new UploadBatch(async (onResult) => {
    const client = new LinkfaceClient(options);
    try {
      for await (const result of client.uploadAll(inputs, options)) onResult(result);
    } finally {
      await client.close();
    }
  });
}

/** One-shot form of `LinkfaceClient.upload`: opens a client, uploads, closes it. */
export async function upload(inputs: string | readonly string[], options: LinkfaceClientOptions & BatchOptions): Promise<UploadResult[]> {
  const client = new LinkfaceClient(options);
  try {
    return await client.upload(inputs, options);
  } finally {
    await client.close();
  }
}
