import { randomBytes } from 'node:crypto';
import { statusEntry } from '../explain/statuses.js';
import type { SandboxOptions, ScriptedResponse } from './types.js';

export type IdField = NonNullable<SandboxOptions['idField']>;

/** One HTTP answer, plus what `Sandbox.requests` records about it. */
export interface Answer {
  readonly httpStatus: number;
  /** The API status, or `RAW` for a scripted raw answer. */
  readonly status: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly requestId?: string;
  readonly livenessDataId?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export function successAnswer(idField: IdField, httpStatus = 200): Answer {
  const requestId = newRequestId();
  const livenessDataId = randomHex();
  const payload = {
    request_id: requestId,
    status: 'OK',
    ...(idField !== 'image_id' && { liveness_data_id: livenessDataId }),
    ...(idField !== 'liveness_data_id' && { image_id: livenessDataId }),
  };
  return { httpStatus, status: 'OK', headers: JSON_HEADERS, body: JSON.stringify(payload), requestId, livenessDataId };
}

export interface ErrorDetails {
  readonly reason?: string;
  /** Default: the documented HTTP status of the code, 400 for codes the endpoint does not document. */
  readonly httpStatus?: number;
  readonly retryAfter?: string;
}

export function errorAnswer(status: string, details: ErrorDetails = {}): Answer {
  const requestId = newRequestId();
  const payload = { status, ...(details.reason !== undefined && { reason: details.reason }), request_id: requestId };
  return {
    httpStatus: details.httpStatus ?? statusEntry(status)?.httpStatus ?? 400,
    status,
    headers: details.retryAfter === undefined ? JSON_HEADERS : { ...JSON_HEADERS, 'retry-after': details.retryAfter },
    body: JSON.stringify(payload),
    requestId,
  };
}

/** A scripted `status` answer of `OK` is a normal success, id included, so scripts can mix successes in. */
export function scriptedAnswer(
  response: Extract<ScriptedResponse, { kind: 'status' | 'raw' }>,
  idField: IdField,
): Answer {
  if (response.kind === 'raw') {
    return { httpStatus: response.httpStatus, status: 'RAW', headers: response.headers ?? {}, body: response.body };
  }
  if (response.status === 'OK') return successAnswer(idField, response.httpStatus);
  return errorAnswer(response.status, response);
}

function newRequestId(): string {
  return `TID${randomHex()}`;
}

/** Ids come from crypto, not from `options.random`: a stubbed `random` must not make two uploads share an id. */
function randomHex(): string {
  return randomBytes(16).toString('hex');
}
