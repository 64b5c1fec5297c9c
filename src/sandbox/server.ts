import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { createDispatcher } from '../api/dispatcher.js';
import { errorAnswer, scriptedAnswer } from './answers.js';
import type { Answer } from './answers.js';
import { UPLOAD_PATH } from '../api/contract.js';
import { answerUpload, fileTooLarge } from './endpoint.js';
import type { EndpointConfig, UploadRequest } from './endpoint.js';
import { decodeParams, MalformedBody, parseForm, parseUrlencoded } from './form.js';
import type { RawFile, RawParam } from './form.js';
import { resolveOptions } from './options.js';
import type { SandboxSettings } from './options.js';
import { tokenBucket } from './rate-limit.js';
import type { TokenBucket } from './rate-limit.js';
import type { ReceivedRequest, Sandbox, SandboxOptions, ScriptedResponse } from './types.js';

/** Downloads of `url` parameters in flight at once from one host. */
const DOWNLOAD_CONNECTIONS = 64;

/** Room for the form around the largest file; a body beyond it is refused without reading the rest. */
const FORM_SLACK_BYTES = 64 * 1024;

interface SandboxState {
  readonly settings: SandboxSettings;
  readonly endpoint: EndpointConfig;
  readonly requests: ReceivedRequest[];
  readonly queue: ScriptedResponse[];
  readonly bucket: TokenBucket | undefined;
  /** Aborted by close(): pending latency waits and downloads stop. */
  readonly closing: AbortSignal;
}

type Outcome =
  | { readonly kind: 'answer'; readonly answer: Answer; readonly closeConnection: boolean }
  | { readonly kind: 'reset' }
  | { readonly kind: 'hang' };

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings = resolveOptions(options);
  const closing = new AbortController();
  // Its own pool, direct: a proxy the host program's environment names is not for the sandbox's downloads.
  const dispatcher = createDispatcher({ connections: DOWNLOAD_CONNECTIONS, direct: true });
  const state: SandboxState = {
    settings,
    endpoint: {
      apiId: settings.apiId,
      apiSecret: settings.apiSecret,
      idField: settings.idField,
      maxFileBytes: settings.maxFileBytes,
      download: { timeoutMs: settings.downloadTimeoutMs, dispatcher, closing: closing.signal },
    },
    requests: [],
    queue: [],
    bucket: settings.rateLimit === undefined ? undefined : tokenBucket(settings.rateLimit),
    closing: closing.signal,
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => void serve(state, req, res);
  // https.Server is an http.Server for everything used here (listen, close, closeAllConnections). node:https
  // (and TLS with it, some 4 ms) is loaded only when asked for.
  const server: Server = options.tls
    ? process.getBuiltinModule('node:https').createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : createServer(handler);
  const port = await listen(server, settings.host, settings.port);
  let closed: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'https' : 'http'}://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`,
    port,
    requests: state.requests,
    uploads: () => state.requests.filter((request) => request.status === 'OK'),
    enqueue: (...responses) => void state.queue.push(...responses),
    close: () => (closed ??= shutDown(server, closing, dispatcher)),
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function shutDown(server: Server, closing: AbortController, dispatcher: Dispatcher): Promise<void> {
  closing.abort();
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  // server.close() ends only idle keep-alive sockets; a hung or slow request's socket would hold it open.
  server.closeAllConnections();
  await stopped;
  await dispatcher.destroy();
}

/** Handles one request from arrival to log line; never rejects, since nothing awaits it. */
async function serve(state: SandboxState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const [path = '', rawQuery = ''] = (req.url ?? '').split(/\?(.*)/s);
  const query = parseUrlencoded(Buffer.from(rawQuery, 'latin1'));
  const record: ReceivedRequest = {
    at: Date.now(),
    method: req.method ?? '',
    path,
    query: decodeParams(query).values,
    contentType: req.headers['content-type'] ?? '',
    userAgent: req.headers['user-agent'] ?? '',
    fields: {},
    status: 'PENDING',
    httpStatus: 0,
  };
  if (state.settings.recordRequests) state.requests.push(record);
  try {
    const outcome = await decide(state, req, record, query);
    // Latency counts from the request's arrival, as a client sees a server's: the work of reading and
    // checking the request is part of it, not added to it.
    const wait = state.settings.latencyMs - (performance.now() - started);
    if (outcome.kind === 'answer' && wait > 0) {
      await sleep(wait, undefined, { signal: state.closing });
    }
    carryOut(outcome, req, res, record);
  } catch (error) {
    answerFailure(state, req, res, record, error);
  }
  const ms = Math.round(performance.now() - started);
  // The path only: the query string may hold the api_secret.
  state.settings.log?.(`${record.method} ${path} ${record.status} ${record.httpStatus || '-'} ${ms}ms`);
}

/** Fault order: reset, then (once the body is read) scripted answers, rate limit, fail rate, then the API. */
async function decide(
  state: SandboxState,
  req: IncomingMessage,
  record: ReceivedRequest,
  query: RawParam[],
): Promise<Outcome> {
  const { settings } = state;
  if (chance(settings, settings.resetRate)) return { kind: 'reset' };
  const body = await readBody(req, settings.maxFileBytes + FORM_SLACK_BYTES);
  if (record.method !== 'POST' || record.path !== UPLOAD_PATH) {
    const reason = `no such API: ${record.method} ${record.path}`;
    return answered(errorAnswer('NOT_FOUND', { reason }), body === undefined);
  }
  // The rest of an oversized body is left unread, so the connection cannot carry another request.
  if (body === undefined) return answered(fileTooLarge(settings.maxFileBytes), true);
  const request = readUpload(record, body, query);
  const fault = faultOutcome(state);
  if (fault) return fault;
  if (request instanceof MalformedBody) return answered(errorAnswer('INVALID_ARGUMENT', { reason: request.message }));
  return answered(await answerUpload(request, state.endpoint));
}

function faultOutcome(state: SandboxState): Outcome | undefined {
  const { settings } = state;
  const scripted = state.queue.shift();
  if (scripted) {
    if (scripted.kind === 'reset' || scripted.kind === 'hang') return { kind: scripted.kind };
    return answered(scriptedAnswer(scripted, settings.idField));
  }
  const retryAfter = state.bucket?.take();
  if (retryAfter !== undefined) {
    const reason = `over the sandbox rate limit of ${settings.rateLimit} requests per second`;
    return answered(errorAnswer('RATE_LIMIT_EXCEEDED', { reason, retryAfter: String(retryAfter) }));
  }
  if (chance(settings, settings.failRate)) {
    return answered(errorAnswer('INTERNAL_ERROR', { reason: 'injected by the sandbox fail rate' }));
  }
  return undefined;
}

function chance(settings: SandboxSettings, probability: number): boolean {
  return probability > 0 && settings.random() < probability;
}

function answered(answer: Answer, closeConnection = false): Outcome {
  return { kind: 'answer', answer, closeConnection };
}

/** The whole body, or undefined as soon as it is known to exceed maxBytes (the rest is not read). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > maxBytes) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData).pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** Parses the form and records what was received; a malformed body is answered after the faults. */
function readUpload(record: ReceivedRequest, body: Buffer, query: RawParam[]): UploadRequest | MalformedBody {
  let form;
  try {
    form = parseForm(record.contentType, body);
  } catch (error) {
    if (error instanceof MalformedBody) return error;
    throw error;
  }
  const params = decodeParams([...form.params, ...query]);
  record.fields = decodeParams(form.params).values;
  if (form.file) record.file = describeFile(form.file);
  if (params.values['url'] !== undefined) record.url = params.values['url'];
  return { params, file: form.file };
}

function describeFile(file: RawFile): NonNullable<ReceivedRequest['file']> {
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  return { filename: file.filename, bytes: file.bytes.length, sha256 };
}

function carryOut(outcome: Outcome, req: IncomingMessage, res: ServerResponse, record: ReceivedRequest): void {
  switch (outcome.kind) {
    case 'reset':
      req.socket.destroy();
      record.status = 'RESET';
      return;
    case 'hang':
      record.status = 'HANG';
      return;
    case 'answer':
      send(res, record, outcome.answer, outcome.closeConnection);
  }
}

function send(res: ServerResponse, record: ReceivedRequest, answer: Answer, closeConnection: boolean): void {
  res.writeHead(answer.httpStatus, closeConnection ? { ...answer.headers, connection: 'close' } : answer.headers);
  res.end(answer.body);
  record.status = answer.status;
  record.httpStatus = answer.httpStatus;
  if (answer.requestId) record.requestId = answer.requestId;
  if (answer.livenessDataId) record.livenessDataId = answer.livenessDataId;
}

/** A bug in the sandbox becomes a 500, as a real server's would; a vanished client just ends the record. */
function answerFailure(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
  record: ReceivedRequest,
  error: unknown,
): void {
  if (res.headersSent || req.socket.destroyed || state.closing.aborted) {
    record.status = 'ABORTED';
    return;
  }
  const reason = `the sandbox failed: ${error instanceof Error ? error.message : String(error)}`;
  send(res, record, errorAnswer('INTERNAL_ERROR', { reason }), true);
}
