import { UsageError } from '../errors.js';
import { labelOf } from './describe.js';
import type { Source } from './types.js';

/** A usage or configuration error in the settings: the CLI prints `message` (and `hint`) and exits 2. */
export class SettingsError extends UsageError {
  override readonly name: string = 'SettingsError';
  /** The rc file at fault, as an absolute path. */
  readonly file?: string;
  /** The rc key at fault, with its profile path (`profiles.ci.timeout`). */
  readonly key?: string;
  /** The next step, when the message alone does not make it obvious. */
  readonly hint?: string;

  constructor(message: string, context: { file?: string; key?: string; hint?: string } = {}) {
    super(message, context.hint ? [context.hint] : [], 'SETTINGS');
    this.file = context.file;
    this.key = context.key;
    this.hint = context.hint;
  }
}

const IO_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'does not exist',
  EACCES: 'cannot be read (permission denied)',
  EPERM: 'cannot be read (permission denied)',
  EISDIR: 'is a directory',
};

/** What a file-system error means for the file, in words ("does not exist"); undefined for other errors. */
export function describeIoError(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === undefined ? undefined : IO_PROBLEMS[code];
}

/** An error about the value at `source`: `--timeout must be …`, `/p/.linkfacerc: timeout must be …`. */
export function errorAt(source: Source, problem: string): SettingsError {
  const context = source.kind === 'file' ? { file: source.name, key: source.key } : {};
  return new SettingsError(`${labelOf(source)} ${problem}`, context);
}
