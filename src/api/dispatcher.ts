import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import EnvHttpProxyAgent from 'undici/lib/dispatcher/env-http-proxy-agent.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import api from 'undici/lib/api/index.js';
import redirect from 'undici/lib/interceptor/redirect.js';
import { UsageError } from '../errors.js';

// undici's index loads every part of it (fetch, WebSocket, caches, mocks) before the first request. linkface needs
// the agents, `request` and the redirect interceptor, so it loads those alone, from undici's own files (it has no
// `exports` map to forbid it). Measured against importing the index (paired runs, median): a one-file upload takes
// 1.28x as long through the index on Node.js 26, 1.12x on Node.js 20; the bundle grows from 0.87 to 1.2 MB.
// These paths are undici's private files: they stay in this file only, and test/unit/dispatcher.test.ts fails
// when undici moves them. Nothing of undici is changed: where its index would give every dispatcher a `request`
// method (a prototype patch at load), linkface calls the same function, `sendRequest` below, and gives the
// proxy's own connection pool the `connect` method undici's proxy agent calls on it (`proxyClient`).

/** undici's `request` (the method its index gives every dispatcher), sent through `dispatcher`. */
export function sendRequest(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return api.request.call(dispatcher, options);
}

/** An answer read whole: status, headers (lower-case names), and the body unless it passed the limit. */
export interface WholeAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string | undefined>;
  /** Undefined when the body grew past the limit (it is not read further: the connection is dropped). */
  readonly body: Buffer | undefined;
}

/**
 * One request through `dispatcher.dispatch`, its answer collected in memory up to `maxBytes`. For short answers
 * this does what `sendRequest` plus reading its body does, without the stream, promise and listeners that
 * undici's `request` makes for a body of any size.
 *
 * Settles at once when `signal` aborts, connection or not: undici applies an abort to a request only once it
 * has a connection, so a request still waiting for one (a proxy that never answers its CONNECT, an address that
 * drops packets, every socket busy) would outlive the per-attempt timeout. undici ends the request itself later.
 */
export function exchangeWhole(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal,
  maxBytes: number,
): Promise<WholeAnswer> {
  return new Promise((resolve, reject) => {
    let abortRequest: ((reason?: Error) => void) | undefined;
    let settled = false;
    let statusCode = 0;
    const headers: Record<string, string | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: unknown, body?: Buffer) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve({ statusCode, headers, body });
      else reject(error);
    };
    const onAbort = () => {
      abortRequest?.(signal.reason as Error);
      finish(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const handler = {
      onConnect(abort) {
        abortRequest = abort;
        if (settled) abort(signal.reason as Error);
      },
      onHeaders(status, rawHeaders) {
        statusCode = status;
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
          const name = String(rawHeaders[i]).toLowerCase();
          if (headers[name] === undefined) headers[name] = String(rawHeaders[i + 1]);
        }
        return true;
      },
      onData(chunk) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          finish(undefined, undefined); // first: the abort below reports its error to onError at once
          abortRequest?.(new Error('the answer is larger than any this API sends'));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        finish(undefined, Buffer.concat(chunks, size));
      },
      onError(error) {
        finish(error);
      },
    } as Dispatcher.DispatchHandler;
    try {
      dispatcher.dispatch(options, handler);
    } catch (error) {
      finish(error);
    }
  });
}

/**
 * The pool to the proxy itself, as undici's proxy agent makes it by default, with the one method of undici's
 * index the agent calls on it: `connect`, which opens a CONNECT tunnel.
 */
function proxyClient(origin: URL | string, options: Pool.Options): Dispatcher {
  return Object.assign(new Pool(origin, options), { connect: api.connect });
}

/** `dispatcher`, following up to `max` redirects with undici's own interceptor. */
export function followingRedirects(dispatcher: Dispatcher, max: number): Dispatcher {
  return dispatcher.compose(redirect({ maxRedirections: max }));
}

export interface DispatcherOptions {
  /** Sockets kept open per origin. */
  connections: number;
  /** PEM text of extra certificate authorities to trust besides Node's own (see trustingAlso). */
  ca?: string;
  /** Connect directly, ignoring the proxy variables: for a server in this very process (--sandbox). */
  direct?: boolean;
}

/** A keep-alive pool; through the proxy named by HTTPS_PROXY/HTTP_PROXY (minus NO_PROXY) when one is set. */
export function createDispatcher({ connections, ca, direct = false }: DispatcherOptions): Dispatcher {
  const tls = ca === undefined ? undefined : { secureContext: trustingAlso(ca) };
  const options = { connections, keepAliveTimeout: 10_000, connect: tls };
  if (direct) return new Agent(options);
  const httpProxy = proxyFromEnv('http_proxy', 'HTTP_PROXY');
  const httpsProxy = proxyFromEnv('https_proxy', 'HTTPS_PROXY');
  if (!httpProxy && !httpsProxy) return new Agent(options);
  return new EnvHttpProxyAgent({
    ...options,
    // Given explicitly ('' for none), or undici would read the raw variables again. As in undici, an https
    // endpoint uses HTTP_PROXY when HTTPS_PROXY is not set.
    httpProxy: httpProxy ?? '',
    httpsProxy: httpsProxy ?? '',
    noProxy: noProxyList(),
    // Through a proxy, undici takes TLS settings apart: for the endpoint inside a CONNECT tunnel, and for an
    // https:// proxy itself (a private CA often signs both).
    requestTls: tls,
    proxyTls: tls,
    // A plain-http endpoint is asked of the proxy by absolute URI, as curl does: proxies commonly allow
    // CONNECT to port 443 only (squid's default). https endpoints always go through a CONNECT tunnel.
    proxyTunnel: false,
    clientFactory: proxyClient,
  });
}

/** How a request to one endpoint leaves this machine, and why: what `createDispatcher` will do for it. */
export interface ProxyRoute {
  /** The proxy's URL (credentials included, as given), or undefined for a direct connection. */
  proxy?: string;
  /** The variable the proxy came from (`https_proxy`, `HTTP_PROXY`, …). */
  variable?: string;
  /** Why, in one sentence. */
  why: string;
}

/**
 * The route undici's EnvHttpProxyAgent (7.x, `#getProxyAgentForUrl` and `#shouldProxy`) takes for `endpoint`
 * with the variables createDispatcher gives it: an https endpoint uses the https proxy, else the http one; a
 * NO_PROXY entry matches the host as written in the URL (lower case, IPv6 bracketed) or a subdomain of it,
 * with its port when it names one; `*` turns the proxy off. Kept beside createDispatcher so the two agree.
 */
export function proxyRoute(endpoint: URL): ProxyRoute {
  const https = endpoint.protocol === 'https:';
  const httpsProxy = proxyFromEnv('https_proxy', 'HTTPS_PROXY');
  const httpProxy = proxyFromEnv('http_proxy', 'HTTP_PROXY');
  const [proxy, variable] = https && httpsProxy
    ? [httpsProxy, variableOf('https_proxy', 'HTTPS_PROXY')]
    : httpProxy
      ? [httpProxy, variableOf('http_proxy', 'HTTP_PROXY')]
      : [undefined, undefined];
  if (!proxy || !variable) return { why: https ? 'neither HTTPS_PROXY nor HTTP_PROXY is set' : 'HTTP_PROXY is not set' };
  const via = https && !httpsProxy ? ` (HTTPS_PROXY is not set, so the https endpoint uses ${variable})` : '';
  const noProxyName = variableOf('no_proxy', 'NO_PROXY');
  const value = noProxyList() ?? '';
  const entries = value.split(/[,\s]/).filter(Boolean);
  if (entries.length === 0) return { proxy, variable, why: `${variable} is set${via} and NO_PROXY is not` };
  if (value === '*') return { why: `${noProxyName}=* turns the proxy off` };
  const host = endpoint.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number(endpoint.port) || (https ? 443 : 80);
  for (const entry of entries) {
    const parsed = /^(.+):(\d+)$/.exec(entry);
    const name = (parsed?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase();
    if (parsed && Number(parsed[2]) !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return { why: `${noProxyName} entry '${entry}' matches ${host}, so the connection is direct` };
  }
  return { proxy, variable, why: `${variable} is set${via} and no ${noProxyName} entry matches ${host} (names are compared as written, not resolved)` };
}

/**
 * A proxy variable's value as a URL (the lower-case name first, as undici and curl read them). A value
 * without a scheme (`proxy.example.com:3128`, which curl accepts) means http://. Anything else unusable is a
 * usage error naming the variable, not its value, which may hold a password.
 */
function proxyFromEnv(lower: string, upper: string): string | undefined {
  const name = variableOf(lower, upper);
  const value = process.env[name]?.trim();
  if (!value) return undefined;
  const url = /^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let protocol: string | undefined;
  try {
    ({ protocol } = new URL(url));
  } catch {
    // reported below
  }
  if (!protocol || !['http:', 'https:', 'socks5:', 'socks:'].includes(protocol)) {
    throw new UsageError(`${name} is set but is not a proxy URL.`, [
      'Set it like http://proxy.example.com:3128 (with http://user:password@… if the proxy asks for credentials), or unset it.',
    ]);
  }
  return url;
}

/** Which of a variable's two spellings is read: the lower-case one when set at all, as undici and curl do. */
function variableOf(lower: string, upper: string): string {
  return process.env[lower] === undefined ? upper : lower;
}

/**
 * The certificates in a PEM file of certificate authorities to trust (`--ca`, LINKFACE_CA_FILE), read once
 * and checked now, so that a wrong path is a usage error before anything is sent rather than a TLS failure
 * on every upload. `from` names where the path came from.
 */
export function readCaFile(path: string, from: string): string {
  const fix = 'Give a PEM file holding the certificate(s) of the authority to trust (-----BEGIN CERTIFICATE----- …).';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`${from}: cannot read the CA certificate file '${path}' (${code}).`, [fix]);
  }
  const blocks = pemCertificates(text);
  const parses = (block: string) => {
    try {
      return Boolean(new X509Certificate(block));
    } catch {
      return false;
    }
  };
  if (blocks.length === 0 || !blocks.every(parses)) {
    throw new UsageError(`${from}: '${path}' is not a PEM file of CA certificates.`, [fix]);
  }
  return blocks.join('\n');
}

/** The certificates (`-----BEGIN CERTIFICATE-----` blocks) in a PEM text. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

/**
 * A TLS context trusting Node's certificate authorities and those in `pem`. Node drops both its bundled
 * roots and NODE_EXTRA_CA_CERTS as soon as a `ca` option is given, so they are listed again here. Built
 * once: building it (parsing some 150 certificates) takes about 20 ms, which a `ca` option would cost on
 * every connection.
 */
export function trustingAlso(pem: string): SecureContext {
  // node:tls is loaded here, only when needed: undici loads it for https endpoints only, and it costs ~4 ms.
  const { createSecureContext, rootCertificates } = process.getBuiltinModule('node:tls');
  const ca = [...rootCertificates, pem];
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      ca.push(readFileSync(extra, 'utf8'));
    } catch {
      // Node has already warned at start-up that it could not read this file, and ignores it too.
    }
  }
  return createSecureContext({ ca });
}

/**
 * NO_PROXY as undici should read it. undici compares a host in its URL form, so an IPv6 address matches only
 * bracketed (`[::1]`), and it reads a bare `::1` as host `:` with port 1: bare IPv6 addresses are bracketed.
 */
function noProxyList(): string | undefined {
  const value = process.env[variableOf('no_proxy', 'NO_PROXY')];
  return value
    ?.split(/[,\s]+/)
    .map((entry) => (isIPv6(entry) ? `[${entry}]` : entry))
    .join(',');
}
