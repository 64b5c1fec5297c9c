import type { UploadResult } from './run.js';
import { isAccountStatus } from '../explain/statuses.js';

/**
 * What a run's summary and exit code need from its results, counted as each result comes in, so that a batch
 * of any size holds no list of its results.
 */
export class ResultTally {
  count = 0;
  uploaded = 0;
  /** Found uploaded in the manifest (`--resume`): counted as successes, not sent again. */
  resumed = 0;
  skipped = 0;
  notAttempted = 0;
  /** Bytes of the inputs uploaded. */
  bytes = 0;
  /** Failed inputs by status. */
  readonly failures = new Map<string, number>();
  /** An account error (UNAUTHORIZED, KEY_EXPIRED, NO_PERMISSION, OUT_OF_QUOTA) came back. */
  accountFailed = false;
  /** Why inputs were not attempted (all of a run's share the one reason). */
  notAttemptedReason: string | undefined;
  /** The first result: a run of one input reports it in full. */
  first: UploadResult | undefined;

  add(result: UploadResult): void {
    this.count++;
    this.first ??= result;
    if (isAccountStatus(result.status)) this.accountFailed = true;
    if (result.resumed) {
      this.resumed++;
    } else if (result.ok) {
      this.uploaded++;
      this.bytes += result.bytes ?? 0;
    } else if (result.status === 'SKIPPED') {
      this.skipped++;
    } else if (result.status === 'NOT_ATTEMPTED') {
      this.notAttempted++;
      this.notAttemptedReason ??= result.reason;
    } else {
      this.failures.set(result.status, (this.failures.get(result.status) ?? 0) + 1);
    }
  }

  /** Inputs that failed (not counting those skipped or not attempted). */
  get failed(): number {
    let failed = 0;
    for (const n of this.failures.values()) failed += n;
    return failed;
  }
}
