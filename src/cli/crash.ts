import { UsageError } from '../errors.js';
import { withoutControls } from '../untrusted.js';
import { ExitCode } from './exit.js';
import { redact } from './terminal.js';

/** A message for people: redacted, with control characters shown escaped (it may quote a file name or a key). */
const safe = (text: string) => redact(text.split('\n').map(withoutControls).join('\n'));

/**
 * The last line of defence: a usage error thrown from deep inside becomes its message and exit 2; anything
 * else is a bug, reported by its message only (never a dump of settings or the objects around it).
 */
export function reportCrash(error: unknown): number {
  if (error instanceof UsageError) {
    const { details } = error;
    process.stderr.write(`${safe(`linkface: ${error.message}`)}\n${details.map((line) => `  ${safe(line)}\n`).join('')}`);
    return ExitCode.Usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${safe(`linkface: internal error: ${message}`)}\nThis is a bug in linkface; please report it with the command you ran.\n`);
  if (process.env.LINKFACE_DEBUG && error instanceof Error) process.stderr.write(redact(`${error.stack ?? ''}\n`));
  return ExitCode.UploadFailed;
}
