import { UsageError } from '../errors.js';
import { ExitCode } from './exit.js';
import { redact } from './terminal.js';

/**
 * The last line of defence: a usage error thrown from deep inside becomes its message and exit 2; anything
 * else is a bug, reported by its message only (never a dump of settings or the objects around it).
 */
export function reportCrash(error: unknown): number {
  if (error instanceof UsageError) {
    const { details } = error;
    process.stderr.write(redact(`linkface: ${error.message}\n${details.map((line) => `  ${line}\n`).join('')}`));
    return ExitCode.Usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(redact(`linkface: internal error: ${message}\nThis is a bug in linkface; please report it with the command you ran.\n`));
  if (process.env.LINKFACE_DEBUG && error instanceof Error) process.stderr.write(redact(`${error.stack ?? ''}\n`));
  return ExitCode.UploadFailed;
}
