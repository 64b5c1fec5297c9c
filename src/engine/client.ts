import { EndpointClient } from '../api/client.js';
import { LinkfaceError, UsageError } from '../errors.js';
import { checkInputs } from '../inputs/check.js';
import { runUploads, skippedResult, type UploadHooks, type UploadResult } from './run.js';

export interface LinkfaceClientOptions {
  apiId: string;
  apiSecret: string;
  /** Service root; default `https://cloudapi.linkface.cn`. */
  endpoint?: string;
  /** Uploads in flight at once; default 4. */
  concurrency?: number;
  /** Retries after the first attempt, per input; default 3. */
  retries?: number;
  /** Per-attempt timeout in seconds; default 30. */
  timeout?: number;
  /** Largest file accepted, bytes; default 5 MiB. */
  maxSize?: number;
  /** Allow a plain http:// endpoint that is not loopback. */
  allowHttp?: boolean;
  /** PEM text of extra certificate authorities to trust, on top of Node's own and NODE_EXTRA_CA_CERTS. */
  ca?: string;
}

export interface UploadCallOptions extends UploadHooks {
  /** Invalid inputs become SKIPPED results instead of a thrown UsageError. */
  skipInvalid?: boolean;
  /** Aborting stops new uploads; those in flight finish. */
  signal?: AbortSignal;
}

export const DEFAULT_ENDPOINT = 'https://cloudapi.linkface.cn';

/**
 * The engine without the terminal: checks inputs, uploads them with retries and bounded concurrency, and
 * returns one result per input. Reuse one client for many calls; `close()` it when done.
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
      timeoutMs: (options.timeout ?? 30) * 1000,
      allowHttp: options.allowHttp,
      connections: options.concurrency ?? 4,
      ca: options.ca,
    });
  }

  /**
   * Uploads files (paths), URLs, or `-` (standard input). Every input is checked first; an invalid one throws
   * a UsageError listing all problems (nothing sent) unless `skipInvalid` is set. Per-input failures are
   * results with `ok: false`, never exceptions.
   */
  async upload(inputs: string | readonly string[], call: UploadCallOptions = {}): Promise<UploadResult[]> {
    const list = typeof inputs === 'string' ? [inputs] : inputs;
    const { jobs, problems } = await checkInputs(list, { maxSize: this.options.maxSize ?? 5 * 1024 * 1024 });
    if (problems.length > 0 && !call.skipInvalid) {
      throw new UsageError(
        `${problems.length} input(s) are not valid; nothing was uploaded`,
        problems.map((p) => `${p.input}: ${p.reason}`),
      );
    }
    const results = await runUploads(
      jobs,
      this.endpoint,
      { retries: this.options.retries ?? 3, concurrency: this.options.concurrency ?? 4, stopSignal: call.signal },
      call,
    );
    return [...problems.map(skippedResult), ...results];
  }

  /** Uploads one input and returns its liveness_data_id; a failure throws a LinkfaceError. */
  async uploadOne(input: string): Promise<string> {
    const [result] = await this.upload(input);
    if (result?.ok && result.livenessDataId) return result.livenessDataId;
    throw new LinkfaceError(result ?? { status: 'NOT_ATTEMPTED', retryable: false });
  }

  async close(): Promise<void> {
    await this.endpoint.close();
  }
}

/** One-shot form of `LinkfaceClient.upload`: opens a client, uploads, closes it. */
export async function upload(
  inputs: string | readonly string[],
  options: LinkfaceClientOptions,
  call: UploadCallOptions = {},
): Promise<UploadResult[]> {
  const client = new LinkfaceClient(options);
  try {
    return await client.upload(inputs, call);
  } finally {
    await client.close();
  }
}
