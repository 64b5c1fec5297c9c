import type { AttemptOutcome } from '../api/types.js';
import { statusEntry } from '../explain/statuses.js';
import type { CheckBuilder } from './check.js';
import { skipped, startCheck } from './check.js';
import type { DoctorCheck, DoctorOptions } from './types.js';

/** Beyond this, the clock is reported wrong: certificates' validity and the times in manifests depend on it. */
const CLOCK_TOLERANCE_MS = 5 * 60_000;

/** This machine's clock against the server's `Date` (whole seconds), read at the middle of the round trip. */
export function clockCheck(serverDate: string | undefined, localMs: number, roundTripMs: number): DoctorCheck {
  const server = serverDate === undefined ? Number.NaN : Date.parse(serverDate);
  if (Number.isNaN(server)) return skipped('clock', 'the server sent no usable Date header');
  const step = startCheck('clock');
  // Date has whole seconds: the server's clock was somewhere in [server, server + 1 s).
  const offsetMs = Math.round(server + 500 - localMs);
  const facts = { serverDate, offsetMs };
  const margin = 500 + roundTripMs / 2;
  const ahead =
    Math.abs(offsetMs) <= margin
      ? `agrees with the server's Date (within ±${(margin / 1000).toFixed(1)} s)`
      : `is ${Math.abs(offsetMs / 1000).toFixed(1)} s ${offsetMs > 0 ? 'behind' : 'ahead of'} the server's Date (±${(margin / 1000).toFixed(1)} s)`;
  if (Math.abs(offsetMs) <= CLOCK_TOLERANCE_MS) return { ...step.pass(`this machine's clock ${ahead}`, facts), ms: roundTripMs };
  return {
    ...step.fail(`this machine's clock ${ahead}`, facts, "Set the clock right: turn on time synchronisation (timedatectl set-ntp true; on Windows w32tm /resync). Certificates look expired or not yet valid to a wrong clock."),
    ms: roundTripMs,
  };
}

/**
 * What the service's answer to a call with the credentials and no file says about the account. INVALID_ARGUMENT
 * (no file or url) means the credentials were not rejected: the service looked past them.
 */
export function accountCheck(step: CheckBuilder<'account'>, outcome: AttemptOutcome, options: DoctorOptions): DoctorCheck {
  const { status, httpStatus, reason, requestId } = outcome;
  const facts = { status, httpStatus, reason, requestId };
  const said = [reason && `server said: ${reason}`, requestId && `request id: ${requestId}`].filter((line): line is string => Boolean(line));
  const code = `${status}${httpStatus ? ` (HTTP ${httpStatus})` : ''}`;
  const from = settingsLine(options);
  switch (status) {
    case 'INVALID_ARGUMENT':
      return step.pass(`the credentials were not rejected: ${code} for a call with no file, as documented`, facts, said);
    case 'OK':
      return step.pass(`the credentials were accepted: ${code}`, facts, said);
    case 'RATE_LIMIT_EXCEEDED':
      return step.pass(`the credentials were not rejected, but the account is being rate limited now: ${code}`, facts, said);
    case 'UNAUTHORIZED':
      return step.fail(`wrong API id or secret: ${code}`, facts, `${nextStep(status)}${from}`, said);
    case 'KEY_EXPIRED':
      return step.fail(`the account has expired: ${code}`, facts, `${nextStep(status)}${from}`, said);
    case 'NO_PERMISSION':
      return step.fail(`the account may not call upload_liveness_data: ${code}`, facts, `${nextStep(status)}${from}`, said);
    case 'OUT_OF_QUOTA':
      return step.fail(`the account's call quota is used up: ${code}`, facts, nextStep(status), said);
    default: {
      // Without an HTTP status the reason is linkface's own (a timeout, a refused connection), not the server's.
      const summary = httpStatus ? code : `${code}: ${reason ?? ''}`;
      const fix = nextStep(status) || 'Check the endpoint URL shown above, and try again later.';
      return step.fail(`no answer about the account: ${summary}`, facts, fix, httpStatus ? said : said.slice(1));
    }
  }
}

function nextStep(status: string): string {
  return statusEntry(status)?.nextStep.en ?? '';
}

/** Where the credentials came from, when the caller said. */
function settingsLine(options: DoctorOptions): string {
  const sources = (options.settings?.settings ?? []).filter((s) => s.name === 'apiId' || s.name === 'apiSecret');
  return sources.length ? ` Now set by: ${sources.map((s) => `${s.name}: ${s.source}`).join('; ')}.` : '';
}
