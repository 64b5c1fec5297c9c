export interface SandboxOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Default 0: an ephemeral port, read it back from `Sandbox.port`. */
  port?: number;
  /**
   * Serve https with this key and certificate (PEM), e.g. to test a private CA; `Sandbox.url` is then
   * `https://…`. Default: plain http.
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The one account the sandbox accepts; default `sandbox`. */
  apiId?: string;
  /** Default `sandbox`. */
  apiSecret?: string;
  /** Every answer comes at least this many milliseconds after its request arrived; default 0. */
  latencyMs?: number;
  /** Probability (0..1) that an upload request gets a 500 `INTERNAL_ERROR`. */
  failRate?: number;
  /**
   * Upload requests allowed per second, as a token bucket (capacity `max(1, rateLimit)`, refilled at
   * `rateLimit` per second). Beyond it: 403 `RATE_LIMIT_EXCEEDED` with `Retry-After` in whole seconds.
   */
  rateLimit?: number;
  /** Probability (0..1) that a request's connection is destroyed without any answer. */
  resetRate?: number;
  /** Limit for downloading a `url` input; default 5000 ms, as the real service. */
  downloadTimeoutMs?: number;
  /** Largest file accepted; default 5 MiB, as the real service. */
  maxFileBytes?: number;
  /** Which id field success answers carry; default `liveness_data_id` (the vendor's example uses `image_id`). */
  idField?: 'liveness_data_id' | 'image_id' | 'both';
  /** Source of randomness for the fault rates; default `Math.random`. */
  random?: () => number;
  /** Receives one line per request (method, path, status, HTTP status, ms); never the secret. */
  log?: (line: string) => void;
  /**
   * Keep a record of every request in `Sandbox.requests` (and `uploads()`); default true. A server that runs
   * for long (`linkface sandbox`) keeps none: the records would grow for as long as it runs.
   */
  recordRequests?: boolean;
}

/** An answer the sandbox gives instead of its normal one, queued with `Sandbox.enqueue`. */
export type ScriptedResponse =
  /** A JSON error answer; `httpStatus` defaults to the documented one for known codes, 400 otherwise. */
  | { kind: 'status'; status: string; httpStatus?: number; reason?: string; retryAfter?: string }
  /** Anything else: a proxy's HTML 502, invalid JSON, a 200 without an id. */
  | { kind: 'raw'; httpStatus: number; body: string; headers?: Record<string, string> }
  /** The connection is destroyed without an answer. */
  | { kind: 'reset' }
  /** The request is read and never answered (until `close()`). */
  | { kind: 'hang' };

export interface ReceivedRequest {
  /** Arrival time, ms since the epoch. */
  at: number;
  method: string;
  /** Without the query string. */
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  contentType: string;
  userAgent: string;
  /** Form fields other than the file (multipart or urlencoded), credentials included when sent there. */
  fields: Record<string, string>;
  file?: { filename: string; bytes: number; sha256: string };
  /** The `url` parameter, decoded. */
  url?: string;
  /**
   * What the sandbox answered: an API status, `RAW` for a scripted raw answer, `RESET` / `HANG` for those,
   * `ABORTED` when the client went away first, `PENDING` while not answered yet.
   */
  status: string;
  /** 0 when no HTTP answer was (yet) given. */
  httpStatus: number;
  livenessDataId?: string;
  requestId?: string;
}

export interface Sandbox {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234` (`https://…` with the `tls` option). */
  url: string;
  port: number;
  /** Every request, in arrival order, updated as each is answered. */
  requests: ReceivedRequest[];
  /** The requests answered OK, i.e. the uploads the service would have stored. */
  uploads(): ReceivedRequest[];
  /**
   * The next requests to the upload path get these answers, in order, once their body is read (a body over
   * the size cap is refused before that and does not use one); then normal behaviour resumes.
   */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}
