import type { AttemptOutcome } from './types.js';
import { errorChain } from '../errors.js';

/** Errors raised before any byte of the request left this machine: retrying cannot duplicate the upload. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Certificate problems: retrying the same server gives the same answer, so they are reported at once. */
const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
]);

/** The certificate is fine but signed by an authority this machine does not trust (yet). */
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing is listening at that address',
  ECONNRESET: 'the connection was reset by the server or a proxy',
  EPIPE: 'the connection was closed while the request was being sent',
  ENOTFOUND: 'the host name could not be resolved by DNS',
  EAI_AGAIN: 'the DNS lookup of the host name failed temporarily',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connecting to the endpoint timed out',
  UND_ERR_SOCKET: 'the connection closed before the server answered',
  UND_ERR_HEADERS_TIMEOUT: 'the server accepted the request but did not answer in time',
  UND_ERR_BODY_TIMEOUT: 'the server stopped sending its answer',
};

/** The most specific error code on an error or its causes (undici wraps socket errors in UND_ERR_SOCKET). */
export function errorCode(error: unknown): string | undefined {
  let found: string | undefined;
  for (const { code } of errorChain(error)) {
    if (typeof code === 'string') {
      if (code !== 'UND_ERR_SOCKET') return code;
      found ??= code;
    }
  }
  return found;
}

/** Turns a failed request (no usable HTTP answer) into an outcome. */
export function interpretNetworkError(error: unknown): AttemptOutcome {
  const certificate = certificateProblem(error);
  if (certificate) return certificate;
  const proxy = proxyRefusal(error);
  if (proxy) return proxy;
  const code = errorCode(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { ok: false, status: 'TIMEOUT', reason: DESCRIPTIONS[code], retryable: true, maybeDelivered: true };
  }
  const message = error instanceof Error ? error.message : String(error);
  const description = (code && DESCRIPTIONS[code]) ?? message;
  const peer = code && DESCRIPTIONS[code] ? failedPeer(error) : undefined;
  return {
    ok: false,
    status: 'NETWORK_ERROR',
    reason: code && !DESCRIPTIONS[code] ? `${description} (${code})` : peer ? `${description} (${peer})` : description,
    retryable: true,
    maybeDelivered: !(code && NOT_SENT_CODES.has(code)),
  };
}

/**
 * The address or host name a connection failed on, as Node's socket and DNS errors carry it. Behind a proxy
 * it is the proxy's, which tells a stale HTTPS_PROXY apart from an endpoint that is down.
 */
function failedPeer(error: unknown): string | undefined {
  for (const e of errorChain(error)) {
    const { address, port, hostname } = e as { address?: unknown; port?: unknown; hostname?: unknown };
    if (typeof address === 'string') {
      const host = address.includes(':') ? `[${address}]` : address;
      return typeof port === 'number' ? `${host}:${port}` : host;
    }
    if (typeof hostname === 'string') return hostname;
  }
  return undefined;
}

/**
 * A certificate the TLS handshake rejected, with what to do about it. Verification is never turned off: the
 * fix for a private CA, or a proxy that inspects TLS, is to trust that CA. Searched through the causes, as
 * undici wraps some (a proxy's own certificate, say).
 */
function certificateProblem(error: unknown): AttemptOutcome | undefined {
  const found = [...errorChain(error)].find(({ code }) => typeof code === 'string' && CERTIFICATE_CODES.has(code));
  if (!found) return undefined;
  const { code } = found as Error & { code: string };
  const reason = `TLS certificate problem (${code}): ${certificateAdvice(code, found.message)}`;
  return { ok: false, status: 'NETWORK_ERROR', reason, retryable: false, maybeDelivered: false };
}

export function certificateAdvice(code: string, message: string): string {
  if (UNTRUSTED_CODES.has(code)) {
    return (
      "the endpoint's certificate is signed by an authority this machine does not trust (a private CA, or a proxy " +
      'that inspects TLS); to trust it, pass its certificate with --ca <file.pem> or set NODE_EXTRA_CA_CERTS=<file.pem>'
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the endpoint's certificate is not issued for this host name (${message}); use a host name the certificate names`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    const when = code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet';
    return `the endpoint's certificate ${when}; check this machine's clock, or ask the endpoint's operator to renew it`;
  }
  return "the endpoint's certificate was rejected (revoked, or a bad signature); ask the endpoint's operator";
}

/**
 * The proxy answered the tunnel request (CONNECT), or a proxied plain-http request, with a refusal; undici
 * reports it only in the message. Nothing reached the endpoint.
 */
function proxyRefusal(error: unknown): AttemptOutcome | undefined {
  const message = error instanceof Error ? error.message : '';
  const match =
    /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/.exec(message) ??
    /^Proxy Authentication Required \((407)\)$/.exec(message);
  if (!match) return undefined;
  const httpStatus = Number(match[1]);
  const reason =
    httpStatus === 407
      ? 'the proxy asks for credentials (407 Proxy Authentication Required): put them in the proxy URL, ' +
        'e.g. HTTPS_PROXY=http://user:password@proxy:3128, or exclude the endpoint with NO_PROXY'
      : `the proxy refused to connect to the endpoint (HTTP ${httpStatus}); check HTTPS_PROXY / HTTP_PROXY, or exclude the endpoint with NO_PROXY`;
  return { ok: false, status: 'NETWORK_ERROR', reason, retryable: httpStatus >= 500, maybeDelivered: false };
}

/** The outcome of an attempt cut short by the per-attempt timeout. */
export function timeoutOutcome(timeoutMs: number): AttemptOutcome {
  return {
    ok: false,
    status: 'TIMEOUT',
    reason: `no answer within ${formatSeconds(timeoutMs)} (--timeout)`,
    retryable: true,
    maybeDelivered: true,
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
