import type { ResultTally } from '../engine/tally.js';

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
export function exitCodeFor(tally: Pick<ResultTally, 'accountFailed' | 'failed' | 'notAttempted'>, interrupted: boolean): number {
  if (interrupted) return ExitCode.Interrupted;
  if (tally.accountFailed) return ExitCode.Account;
  if (tally.failed > 0 || tally.notAttempted > 0) return ExitCode.UploadFailed;
  return ExitCode.Ok;
}
