import type { AttemptOutcome } from './types.js';

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

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing is listening at the endpoint',
  ECONNRESET: 'the connection was reset by the server or a proxy',
  EPIPE: 'the connection was closed while the request was being sent',
  ENOTFOUND: 'the endpoint host name could not be resolved (DNS)',
  EAI_AGAIN: 'the DNS lookup of the endpoint host failed temporarily',
  EHOSTUNREACH: 'the endpoint host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connecting to the endpoint timed out',
  UND_ERR_SOCKET: 'the connection closed before the server answered',
  UND_ERR_HEADERS_TIMEOUT: 'the server accepted the request but did not answer in time',
  UND_ERR_BODY_TIMEOUT: 'the server stopped sending its answer',
};

/** The most specific error code on an error or its causes (undici wraps socket errors in UND_ERR_SOCKET). */
export function errorCode(error: unknown): string | undefined {
  let found: string | undefined;
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code !== 'UND_ERR_SOCKET') return code;
      found ??= code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return found;
}

/** Turns a failed request (no usable HTTP answer) into an outcome. */
export function interpretNetworkError(error: unknown): AttemptOutcome {
  const code = errorCode(error);
  if (code && CERTIFICATE_CODES.has(code)) {
    return {
      ok: false,
      status: 'NETWORK_ERROR',
      reason: `TLS certificate problem (${code}): the endpoint's certificate is not trusted; for a private CA set NODE_EXTRA_CA_CERTS`,
      retryable: false,
      maybeDelivered: false,
    };
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { ok: false, status: 'TIMEOUT', reason: DESCRIPTIONS[code], retryable: true, maybeDelivered: true };
  }
  const message = error instanceof Error ? error.message : String(error);
  const description = (code && DESCRIPTIONS[code]) ?? message;
  return {
    ok: false,
    status: 'NETWORK_ERROR',
    reason: code && !DESCRIPTIONS[code] ? `${description} (${code})` : description,
    retryable: true,
    maybeDelivered: !(code && NOT_SENT_CODES.has(code)),
  };
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
