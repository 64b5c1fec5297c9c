import { isAccountStatus } from '../explain/statuses.js';

/** The exit codes of SPEC "Exit codes". */
export const ExitCode = {
  Ok: 0,
  UploadFailed: 1,
  Usage: 2,
  Account: 3,
  Interrupted: 130,
} as const;

/**
 * The exit code for a finished run: interrupted wins, then an account that cannot upload, then any input
 * that did not upload. Inputs skipped on purpose (`SKIPPED`) do not count as failures.
 */
export function exitCodeFor(results: ReadonlyArray<{ ok: boolean; status: string }>, interrupted: boolean): number {
  if (interrupted) return ExitCode.Interrupted;
  if (results.some((r) => isAccountStatus(r.status))) return ExitCode.Account;
  if (results.some((r) => !r.ok && r.status !== 'SKIPPED')) return ExitCode.UploadFailed;
  return ExitCode.Ok;
}
