import type { Settings, SettingsFlags } from '../config/index.js';
import { failureBudget } from '../engine/stop.js';
import { UsageError } from '../errors.js';
import type { Lang } from '../explain/statuses.js';
import { missingCredentials } from './messages.js';
import type { Terminal } from './terminal.js';

export interface UploadCommandOptions extends SettingsFlags {
  filesFrom?: string[];
  include?: string[];
  exclude?: string[];
  manifest?: string;
  resume?: boolean;
  dryRun?: boolean;
  shard?: string;
  allowHttp?: boolean;
  ca?: string;
  sandbox?: boolean;
  skipInvalid?: boolean;
  maxFailures?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  lang?: Lang;
}

/**
 * The checks of `linkface upload`'s flags that need no input read: a usage error is thrown, and missing
 * credentials are explained (false: exit 2). Nothing is planned or sent before they pass.
 */
export function checkUploadOptions(args: string[], options: UploadCommandOptions, settings: Settings, terminal: Terminal): boolean {
  if (options.resume && !options.manifest) {
    throw new UsageError('--resume needs --manifest <file>: the manifest is where linkface records what it uploaded.');
  }
  // Checked before anything is planned: a mistyped budget is a usage error, as a bad flag is.
  if (options.maxFailures !== undefined) failureBudget(options.maxFailures, 0);
  if (args.length === 0 && !options.filesFrom?.length) {
    throw new UsageError('No input given.', ['Name files, directories, glob patterns or URLs, or use --files-from.']);
  }
  const needsAccount = !options.sandbox && !options.dryRun;
  if (needsAccount && (!settings.apiId || !settings.apiSecret)) {
    missingCredentials(terminal, !settings.apiId, !settings.apiSecret);
    return false;
  }
  return true;
}
