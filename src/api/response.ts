import { isRetryableStatus } from '../explain/statuses.js';
import type { AttemptOutcome } from './types.js';

/** Longest `Retry-After` the tool honours; a server asking for more is waited on for this long, then retried. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface HttpAnswer {
  readonly httpStatus: number;
  /** The body as text, or undefined when it was larger than the tool reads. */
  readonly body: string | undefined;
  readonly contentType?: string;
  readonly retryAfter?: string;
}

/**
 * Turns whatever the server answered into an outcome. Accepts the id as `liveness_data_id` (the field
 * table) or `image_id` (the vendor's own example); anything that is not the documented JSON becomes
 * BAD_RESPONSE with a short excerpt, retried when the HTTP status is 5xx (a proxy's HTML 502, say).
 */
export function interpretAnswer(answer: HttpAnswer, kind: 'file' | 'url', now = Date.now()): AttemptOutcome {
  const { httpStatus } = answer;
  const bad = (reason: string, requestId?: string) => badResponse(answer, reason, now, requestId);
  if (answer.body === undefined) {
    return bad('the response body is larger than any answer of this API');
  }
  const json = parseJsonObject(answer.body);
  if (!json) {
    return bad(`HTTP ${httpStatus} with a body that is not JSON${describeBody(answer)}`);
  }
  const requestId = stringField(json, 'request_id');
  const reason = stringField(json, 'reason');
  const status = stringField(json, 'status');
  if (!status) {
    return bad(`HTTP ${httpStatus} with JSON that has no "status"`, requestId);
  }
  if (status === 'OK') {
    const id = stringField(json, 'liveness_data_id') ?? stringField(json, 'image_id');
    if (id) return { ok: true, status, httpStatus, livenessDataId: id, requestId, maybeDelivered: true, retryable: false };
    return bad('the server answered OK without a liveness_data_id', requestId);
  }
  const retryable = isRetryableStatus(status, kind, httpStatus);
  const retryAfterMs = retryable ? parseRetryAfter(answer.retryAfter, now) : undefined;
  return {
    ok: false,
    status,
    httpStatus,
    reason,
    requestId,
    retryable,
    retryAfterMs,
    // An error answer means the server did not store the upload.
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
    // A garbled answer may come after the server stored the upload.
    maybeDelivered: httpStatus < 500,
  };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
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

/** A short, single-line excerpt of a non-JSON body, so a proxy's error page is recognisable. */
function describeBody(answer: HttpAnswer): string {
  const text = answer.body ?? '';
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
