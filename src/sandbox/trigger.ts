import { API_ERROR_STATUSES } from '../explain/statuses.js';
import type { ApiErrorStatus } from '../explain/statuses.js';
import { errorAnswer } from './answers.js';
import type { Answer } from './answers.js';

/**
 * Trigger content: a file (or the content behind a `url`) whose bytes start with
 * `LINKFACE-SANDBOX-STATUS:<CODE>` gets that error code with its documented HTTP status, so every code can
 * be provoked without an account.
 */
const TRIGGER_PREFIX = 'LINKFACE-SANDBOX-STATUS:';

/** The answer trigger content asks for, or undefined for ordinary content. */
export function triggeredAnswer(content: Buffer): Answer | undefined {
  if (content.toString('latin1', 0, TRIGGER_PREFIX.length) !== TRIGGER_PREFIX) return undefined;
  // The code runs to the first whitespace, so `LINKFACE-SANDBOX-STATUS:OUT_OF_QUOTA\n` works as well.
  const code = /^\S*/.exec(content.toString('latin1', TRIGGER_PREFIX.length, TRIGGER_PREFIX.length + 64))?.[0] ?? '';
  if (!isApiErrorStatus(code)) {
    return errorAnswer('INVALID_ARGUMENT', {
      reason: `unknown sandbox trigger '${code}'; use one of ${API_ERROR_STATUSES.join(', ')}`,
    });
  }
  return errorAnswer(code, {
    reason: `triggered by the file content ${TRIGGER_PREFIX}${code}: a contract emulator, it does not judge liveness`,
    ...(code === 'RATE_LIMIT_EXCEEDED' && { retryAfter: '1' }),
  });
}

function isApiErrorStatus(code: string): code is ApiErrorStatus {
  return (API_ERROR_STATUSES as readonly string[]).includes(code);
}
