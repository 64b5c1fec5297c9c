import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { createDispatcher, exchangeWhole } from './dispatcher.js';
import { errorChain, UsageError } from '../errors.js';
import { UPLOAD_PATH } from './contract.js';
import { VERSION } from '../version.js';
import { FileChangedError, multipartBody } from './multipart.js';
import { interpretNetworkError, timeoutOutcome } from './network.js';
import { interpretAnswer } from './response.js';
import type { AttemptOutcome, UploadPayload } from './types.js';
import { type Redact, redactorFor } from '../untrusted.js';

/** No answer of this API comes near this size; a larger body is not read (a misconfigured endpoint, say). */
const MAX_ANSWER_BYTES = 64 * 1024;
/** How long close() lets the pool shut down gracefully once no attempt is in flight; see close(). */
const CLOSE_GRACE_MS = 200;

export interface ClientOptions {
  /** The service root, e.g. `https://cloudapi.linkface.cn`. */
  endpoint: string;
  apiId: string;
  apiSecret: string;
  /** Per-attempt timeout in milliseconds (connect, send, answer). Default 30 s. */
  timeoutMs?: number;
  /** Allow a plain-http endpoint that is not loopback (the secret would cross the network in clear). */
  allowHttp?: boolean;
  /** Sockets kept open to the endpoint; match the number of uploads in flight. Default 4. */
  connections?: number;
  /**
   * PEM text of extra certificate authorities to trust (a private CA, a TLS-inspecting proxy), on top of
   * Node's bundled ones and NODE_EXTRA_CA_CERTS. Ignored with `dispatcher`.
   */
  ca?: string;
  /** Ignore HTTPS_PROXY / HTTP_PROXY: the endpoint runs in this process (the embedded sandbox). */
  direct?: boolean;
  /** Bring your own undici dispatcher (proxy, TLS options); it is not closed by `close()`. */
  dispatcher?: Dispatcher;
}

/**
 * One HTTP attempt at a time against the upload endpoint, over a keep-alive connection pool. Retries,
 * concurrency and batches live in the engine; this class only sends and interprets.
 */
export class EndpointClient {
  readonly uploadUrl: string;
  private readonly origin: string;
  private readonly path: string;
  private readonly options: ClientOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeoutMs: number;
  /** Takes the API secret out of whatever the server sent back, before anything is cut, printed or stored. */
  private readonly redact: Redact;
  /** Attempts not yet ended, for close() to wait for. */
  private readonly inFlight = new Set<Promise<AttemptOutcome>>();

  constructor(options: ClientOptions) {
    this.uploadUrl = uploadUrlFor(options.endpoint, options.allowHttp ?? false);
    ({ origin: this.origin, pathname: this.path } = new URL(this.uploadUrl));
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.redact = redactorFor([options.apiSecret]);
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher =
      options.dispatcher ?? createDispatcher({ connections: options.connections ?? 4, ca: options.ca, direct: options.direct });
  }

  /** Sends one upload; every way it can end is returned as an outcome, never thrown. */
  send(payload: UploadPayload, signal?: AbortSignal): Promise<AttemptOutcome> {
    const attempt = this.attempt(payload, signal).then((outcome) => this.redacted(outcome));
    const ended = () => this.inFlight.delete(attempt);
    this.inFlight.add(attempt);
    attempt.then(ended, ended);
    return attempt;
  }

  /**
   * Sends the credentials alone, with no file and no url: it uploads nothing, and the answer says what the
   * service thinks of the account (`linkface doctor`). Returns the outcome with the server's `Date` header.
   */
  async checkAccount(signal?: AbortSignal): Promise<{ outcome: AttemptOutcome; serverDate?: string }> {
    const exchange = await this.exchange(undefined, signal);
    return { ...exchange, outcome: this.redacted(exchange.outcome) };
  }

  private async attempt(payload: UploadPayload, signal?: AbortSignal): Promise<AttemptOutcome> {
    return (await this.exchange(payload, signal)).outcome;
  }

  private async exchange(payload: UploadPayload | undefined, signal?: AbortSignal): Promise<{ outcome: AttemptOutcome; serverDate?: string }> {
    // Credentials go in the form, never in the URL, so they stay out of proxy and access logs.
    const form = multipartBody(
      [
        ['api_id', this.options.apiId],
        ['api_secret', this.options.apiSecret],
      ],
      payload,
    );
    // One signal for the attempt, aborted by its timeout or by the caller's signal. Not AbortSignal.any: on Node
    // 20 each call makes weak references and a finalizer, which a batch pays for on every upload.
    const abandon = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abandon.abort();
    }, this.timeoutMs);
    const cancel = () => abandon.abort(signal?.reason);
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
    const combined = abandon.signal;
    try {
      const response = await exchangeWhole(
        this.dispatcher,
        {
          origin: this.origin,
          path: this.path,
          method: 'POST',
          body: bodyFor(form.body()),
          headers: {
            'user-agent': USER_AGENT,
            accept: 'application/json',
            'content-type': form.contentType,
            'content-length': String(form.contentLength),
          },
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        },
        combined,
        MAX_ANSWER_BYTES,
      );
      const text = response.body?.toString('utf8');
      const serverDate = header(response.headers.date);
      const outcome = interpretAnswer(
        {
          httpStatus: response.statusCode,
          body: text,
          contentType: header(response.headers['content-type']),
          retryAfter: header(response.headers['retry-after']),
          location: header(response.headers.location),
        },
        payload?.kind === 'url' ? 'url' : 'file',
        { redact: this.redact },
      );
      return { outcome, serverDate };
    } catch (error) {
      if (timedOut) return { outcome: timeoutOutcome(this.timeoutMs) };
      if (signal?.aborted) return { outcome: interruptedOutcome() };
      return { outcome: unreadableFile(error) ?? interpretNetworkError(error) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** The outcome with the secret taken out of every text in it (the id was checked by interpretAnswer). */
  private redacted(outcome: AttemptOutcome): AttemptOutcome {
    const reason = outcome.reason && this.redact(outcome.reason);
    const requestId = outcome.requestId && this.redact(outcome.requestId);
    return reason === outcome.reason && requestId === outcome.requestId ? outcome : { ...outcome, reason, requestId };
  }

  /**
   * Closes the connection pool (when the client created it), once the attempts in flight have ended. undici's
   * close() also waits for work that an ended attempt left behind and that nothing bounds, such as the
   * CONNECT of an aborted attempt that a hung proxy never answers: whatever is still open after a short grace
   * is destroyed, so that a process can exit.
   */
  async close(): Promise<void> {
    if (!this.ownsDispatcher) return;
    await Promise.allSettled(this.inFlight);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
    });
    try {
      const closed = this.dispatcher.close().then(
        () => true,
        () => true,
      );
      if (!(await Promise.race([closed, late]))) await this.dispatcher.destroy();
    } finally {
      clearTimeout(timer);
    }
  }
}

export const USER_AGENT = `linkface-cli/${VERSION} node/${process.versions.node} (${process.platform}; ${process.arch})`;

/** The upload URL for an endpoint, refusing plain http to anything but loopback unless allowed. */
export function uploadUrlFor(endpoint: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`The endpoint '${endpoint}' is not a URL.`, ['Set it to e.g. https://cloudapi.linkface.cn']);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`The endpoint '${endpoint}' must start with https://.`);
  }
  if (url.username || url.password) {
    throw new UsageError('The endpoint must not contain a user name or password; give credentials with --api-id and LINKFACE_API_SECRET.');
  }
  if (url.protocol === 'http:' && !allowHttp && !isLoopback(url.hostname)) {
    throw new UsageError(`Refusing to send the API secret in clear text to ${url.host}.`, [
      'Use an https:// endpoint, or pass --allow-http if this network is trusted.',
    ]);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${UPLOAD_PATH}`;
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}


/**
 * The request body as undici takes it: chunks already in memory as they are (undici writes them to the socket
 * one after the other, with no stream in between), a file's stream as a Readable, which undici destroys when
 * the attempt is abandoned. undici documents an Iterable body (docs/api/Dispatcher.md, `request`'s `body`);
 * its type declarations leave it out, hence the cast.
 */
function bodyFor(body: readonly Uint8Array[] | AsyncIterable<Uint8Array>): Dispatcher.RequestOptions['body'] {
  if (Array.isArray(body)) return body as unknown as Dispatcher.RequestOptions['body'];
  return Readable.from(body as AsyncIterable<Uint8Array>, { objectMode: false });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The file went away or changed while it was being sent: an input problem, not a network one. */
function unreadableFile(error: unknown): AttemptOutcome | undefined {
  const cause = findFileError(error);
  if (!cause) return undefined;
  const reason =
    cause instanceof FileChangedError
      ? cause.message
      : cause.code === 'ENOENT'
        ? 'the file disappeared before it could be sent'
        : `the file could not be read (${cause.code})`;
  return { ok: false, status: 'INVALID_INPUT', reason, retryable: false, maybeDelivered: false };
}

/** A socket's read fails with these too (a connection reset mid-upload); a file read never does. */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN']);

/** undici wraps errors thrown by the body stream; look through the causes for ours or a file-system one. */
function findFileError(error: unknown): (Error & { code?: string }) | undefined {
  for (const e of errorChain(error)) {
    if (e instanceof FileChangedError) return e;
    const { code, syscall } = e as { code?: string; syscall?: string };
    if (code && !SOCKET_CODES.has(code) && (syscall === 'open' || syscall === 'read')) return e as Error & { code?: string };
  }
  return undefined;
}

function interruptedOutcome(): AttemptOutcome {
  return {
    ok: false,
    status: 'NETWORK_ERROR',
    reason: 'interrupted before the server answered; the upload may or may not have been stored',
    retryable: false,
    maybeDelivered: true,
  };
}
