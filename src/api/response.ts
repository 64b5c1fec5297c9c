import { isAccountStatus, isRetryableStatus } from '../explain/statuses.js';
import { type Redact, unprintableId } from '../untrusted.js';
import type { AttemptOutcome } from './types.js';

/** Longest `Retry-After` the tool honours; a server asking for more is waited on for this long, then retried. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface HttpAnswer {
  readonly httpStatus: number;
  /** The body as text, or undefined when it was larger than the tool reads. */
  readonly body: string | undefined;
  readonly contentType?: string;
  readonly retryAfter?: string;
  /** Where a 3xx points. */
  readonly location?: string;
}

/** The API's codes and any code a newer API may add: upper-case words joined by `_`. */
const STATUS_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Turns whatever the server answered into an outcome. A success needs an HTTP 2xx and the documented JSON
 * with a printable id, accepted as `liveness_data_id` (the field table) or `image_id` (the vendor's own
 * example), a leading byte-order mark allowed. A 429 is a rate limit and a 503 an outage, retried whatever
 * their body says; anything else that is not the documented JSON becomes BAD_RESPONSE with a short excerpt,
 * retried when the HTTP status is 5xx (a proxy's HTML 502, say). `redact` takes the API secret out of the
 * excerpt before it is cut, and an id that holds the secret is refused rather than printed altered.
 * Reasons quote what the server sent as it came (cut short): whatever shows them escapes them
 * (src/untrusted.ts), and JSON output keeps them exact.
 */
export function interpretAnswer(
  answer: HttpAnswer,
  kind: 'file' | 'url',
  options: { now?: number; redact?: Redact } = {},
): AttemptOutcome {
  const { httpStatus } = answer;
  const now = options.now ?? Date.now();
  const redact = options.redact ?? ((text: string) => text);
  const bad = (reason: string, requestId?: string) => badResponse(answer, reason, now, requestId);
  if (httpStatus >= 300 && httpStatus < 400) {
    const to = answer.location ? ` to ${redact(answer.location).slice(0, 200)}` : '';
    return bad(`HTTP ${httpStatus}: the endpoint redirects${to}; set the endpoint to the address it should use`);
  }
  const json = answer.body === undefined ? undefined : parseJsonObject(answer.body);
  const requestId = json && stringField(json, 'request_id');
  const status = json && stringField(json, 'status');
  if (httpStatus === 429) return rateLimited(answer, now, status, json && stringField(json, 'reason'), requestId, redact);
  if (answer.body === undefined) return bad('the response body is larger than any answer of this API');
  if (!json) return bad(`HTTP ${httpStatus} with a body that is not JSON${describeBody(answer, redact)}`);
  if (!status) return bad(`HTTP ${httpStatus} with JSON that has no "status"`, requestId);
  if (!STATUS_SHAPE.test(status)) {
    return bad(`HTTP ${httpStatus} with a "status" that is not an error code ("${redact(status).slice(0, 64)}")`, requestId);
  }
  if (redact(status) !== status) return bad(`HTTP ${httpStatus} with a "status" that contains the API secret`, requestId);
  if (status === 'OK') {
    if (httpStatus < 200 || httpStatus > 299) {
      return bad(`HTTP ${httpStatus} with a success body: an HTTP error and "status":"OK" together are no answer of the Linkface API`, requestId);
    }
    const id = stringField(json, 'liveness_data_id') ?? stringField(json, 'image_id');
    if (!id) return bad('the server answered OK without a liveness_data_id', requestId);
    const problem = unprintableId(id);
    if (problem) return bad(`the server answered OK with a liveness_data_id that ${problem}`, requestId);
    if (redact(id) !== id) {
      return bad('the server answered OK with a liveness_data_id that contains the API secret; it is not shown', requestId);
    }
    return { ok: true, status, httpStatus, livenessDataId: id, requestId, maybeDelivered: true, retryable: false };
  }
  const reason = stringField(json, 'reason');
  // A 503 is an outage whatever its body says, even one that names an account error.
  if (httpStatus === 503 && isAccountStatus(status)) {
    return bad(`HTTP 503 with status ${status}: an unavailable service says nothing about the account${reason ? ` (${reason})` : ''}`, requestId);
  }
  const retryable = isRetryableStatus(status, kind, httpStatus);
  return {
    ok: false,
    status,
    httpStatus,
    reason,
    requestId,
    retryable,
    retryAfterMs: retryable ? parseRetryAfter(answer.retryAfter, now) : undefined,
    // An error answer means the server did not store the upload.
    maybeDelivered: false,
  };
}

/** HTTP 429: a rate limit, from the API or from a gateway in front of it, whatever the body. */
function rateLimited(
  answer: HttpAnswer,
  now: number,
  status: string | undefined,
  reason: string | undefined,
  requestId: string | undefined,
  redact: Redact,
): AttemptOutcome {
  const said = status === undefined ? `a body that is not the API's JSON${describeBody(answer, redact)}` : `status ${redact(status).slice(0, 64)}`;
  return {
    ok: false,
    status: 'RATE_LIMIT_EXCEEDED',
    httpStatus: 429,
    reason: reason ?? `HTTP 429 Too Many Requests with ${said}`,
    requestId,
    retryable: true,
    retryAfterMs: parseRetryAfter(answer.retryAfter, now),
    maybeDelivered: false,
  };
}

function badResponse(answer: HttpAnswer, reason: string, now: number, requestId?: string): AttemptOutcome {
  const { httpStatus } = answer;
  const retryable = isRetryableStatus('BAD_RESPONSE', 'file', httpStatus);
  return {
    ok: false,
    status: 'BAD_RESPONSE',
    httpStatus,
    reason,
    requestId,
    retryable,
    // A load balancer's HTML 503 is where Retry-After is most often found.
    retryAfterMs: retryable ? parseRetryAfter(answer.retryAfter, now) : undefined,
    // A garbled answer may come after the server stored the upload; a redirect was not followed.
    maybeDelivered: httpStatus < 500 && (httpStatus < 300 || httpStatus >= 400),
  };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    // A byte-order mark before the JSON (some gateways and Windows servers add one) is not part of it.
    const value: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringField(json: Record<string, unknown>, key: string): string | undefined {
  const value = json[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A short, single-line excerpt of a non-JSON body, so a proxy's error page is recognisable. The secret is
 * taken out before the text is cut, so no part of it can be left at the cut.
 */
function describeBody(answer: HttpAnswer, redact: Redact): string {
  const text = redact(answer.body ?? '');
  if (text.trim() === '') return ' (empty body)';
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  const excerpt = (title ?? text).replace(/\s+/g, ' ').trim().slice(0, 80);
  const type = answer.contentType ? `${answer.contentType.split(';')[0]}: ` : '';
  return ` (${type}"${excerpt}")`;
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds, capped at a minute. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (/^[a-z]{3},/i.test(text)) {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  } else {
    return undefined;
  }
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}
