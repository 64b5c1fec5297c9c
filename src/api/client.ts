import { openAsBlob } from 'node:fs';
import { Agent, type Dispatcher, EnvHttpProxyAgent, FormData, request } from 'undici';
import { UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { interpretNetworkError, timeoutOutcome } from './network.js';
import { interpretAnswer } from './response.js';
import type { AttemptOutcome, UploadPayload } from './types.js';

export const UPLOAD_PATH = '/resources/upload_liveness_data';
/** No answer of this API comes near this size; a larger body is not read (a misconfigured endpoint, say). */
const MAX_ANSWER_BYTES = 64 * 1024;

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
  /** Bring your own undici dispatcher (proxy, TLS options); it is not closed by `close()`. */
  dispatcher?: Dispatcher;
}

/**
 * One HTTP attempt at a time against the upload endpoint, over a keep-alive connection pool. Retries,
 * concurrency and batches live in the engine; this class only sends and interprets.
 */
export class EndpointClient {
  readonly uploadUrl: string;
  private readonly options: ClientOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.uploadUrl = uploadUrlFor(options.endpoint, options.allowHttp ?? false);
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? createDispatcher(options.connections ?? 4);
  }

  /** Sends one upload; every way it can end is returned as an outcome, never thrown. */
  async send(payload: UploadPayload, signal?: AbortSignal): Promise<AttemptOutcome> {
    let body: FormData;
    try {
      body = await this.form(payload);
    } catch (error) {
      return unreadableFile(error);
    }
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
    const combined = signal ? AbortSignal.any([timeout.signal, signal]) : timeout.signal;
    try {
      const response = await request(this.uploadUrl, {
        method: 'POST',
        body,
        headers: { 'user-agent': USER_AGENT, accept: 'application/json' },
        dispatcher: this.dispatcher,
        signal: combined,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const text = await readBounded(response.body);
      return interpretAnswer(
        {
          httpStatus: response.statusCode,
          body: text,
          contentType: header(response.headers['content-type']),
          retryAfter: header(response.headers['retry-after']),
        },
        payload.kind === 'url' ? 'url' : 'file',
      );
    } catch (error) {
      if (timeout.signal.aborted) return timeoutOutcome(this.timeoutMs);
      if (signal?.aborted) return interruptedOutcome();
      return interpretNetworkError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection pool (when the client created it). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** Credentials go in the form, never in the URL, so they stay out of proxy and access logs. */
  private async form(payload: UploadPayload): Promise<FormData> {
    const form = new FormData();
    form.append('api_id', this.options.apiId);
    form.append('api_secret', this.options.apiSecret);
    switch (payload.kind) {
      case 'file':
        // openAsBlob streams from disk as the request is written: memory stays flat whatever the file size.
        form.append('file', await openAsBlob(payload.path), payload.filename);
        break;
      case 'bytes':
        form.append('file', new Blob([payload.data]), payload.filename);
        break;
      case 'url':
        form.append('url', payload.url);
        break;
    }
    return form;
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

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** A keep-alive pool; through the proxy named by HTTPS_PROXY/HTTP_PROXY (minus NO_PROXY) when one is set. */
function createDispatcher(connections: number): Dispatcher {
  const options = { connections, keepAliveTimeout: 10_000 };
  return PROXY_VARIABLES.some((name) => process.env[name]) ? new EnvHttpProxyAgent(options) : new Agent(options);
}

async function readBounded(body: AsyncIterable<Uint8Array> & { destroy(): unknown }): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function unreadableFile(error: unknown): AttemptOutcome {
  const code = (error as { code?: string }).code;
  return {
    ok: false,
    status: 'INVALID_INPUT',
    reason: code === 'ENOENT' ? 'the file disappeared before it could be sent' : `the file could not be read (${code ?? String(error)})`,
    retryable: false,
    maybeDelivered: false,
  };
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
