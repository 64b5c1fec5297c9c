import { readCaFile } from '../api/dispatcher.js';
import { labelOf } from '../config/describe.js';
import type { SettingsFlags } from '../config/index.js';
import { tildify } from '../config/paths.js';
import { doctor } from '../doctor/index.js';
import type { DoctorCheck, DoctorCheckId, DoctorOptions, DoctorSetting } from '../doctor/types.js';
import { UsageError } from '../errors.js';
import { formatBytes } from '../units.js';
import { withoutControls } from '../untrusted.js';
import { ExitCode } from './exit.js';
import { loadSettings } from './settings.js';
import { createTerminal, type Terminal } from './terminal.js';

export interface DoctorCommandOptions extends SettingsFlags {
  ca?: string;
  allowHttp?: boolean;
  json?: boolean;
}

const LABELS: Readonly<Record<DoctorCheckId, string>> = {
  versions: 'versions',
  settings: 'settings',
  endpoint: 'endpoint',
  proxy: 'proxy',
  dns: 'DNS',
  tcp: 'TCP',
  tunnel: 'tunnel',
  tls: 'TLS',
  clock: 'clock',
  account: 'account',
};

const MARKS = { pass: '✔', fail: '✖', skip: '-' } as const;

/**
 * `linkface doctor`: the library's checks with the settings an upload would use (the same flags, variables and
 * rc files), each printed on stdout as it ends; `--json` prints one object at the end. Exit 0 when none
 * failed, 1 otherwise.
 */
export async function runDoctorCommand(options: DoctorCommandOptions): Promise<number> {
  // The report has no colour: it is read from files and tickets as often as on a terminal.
  const terminal = await createTerminal({ color: false });
  const checks: DoctorCheck[] = [];
  for await (const check of doctor(await doctorOptions(options, terminal))) {
    checks.push(check);
    if (!options.json) printCheck(check, terminal);
  }
  const failed = checks.filter((check) => check.status === 'fail');
  if (options.json) {
    terminal.outRecord({ ok: failed.length === 0, checks });
  } else {
    terminal.out('');
    terminal.out(
      failed.length === 0
        ? `No problems found (${checks.filter((check) => check.status === 'pass').length} checks passed).`
        : `${failed.length} problem${failed.length === 1 ? '' : 's'} found: ${failed.map((check) => LABELS[check.id]).join(', ')}.`,
    );
  }
  return failed.length === 0 ? ExitCode.Ok : ExitCode.UploadFailed;
}

/** The settings an upload would use, and where each came from; a setting that cannot be read is a failed check. */
async function doctorOptions(options: DoctorCommandOptions, terminal: Terminal): Promise<DoctorOptions> {
  let loaded;
  try {
    loaded = await loadSettings(options, terminal, { printWarnings: false });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { settings: { settings: [], error: { message: error.message, fix: error.details.join('\n') || undefined } } };
  }
  const { settings, home, describeSource, warnings } = loaded;
  const rows: DoctorSetting[] = [];
  const add = (name: string, setting: { source: Parameters<typeof describeSource>[0] } | undefined, value: string) => {
    rows.push({ name, value: setting ? value : '(not set)', source: setting ? describeSource(setting.source, home) : '' });
  };
  add('apiId', settings.apiId, settings.apiId?.value ?? '');
  add('apiSecret', settings.apiSecret, '(set, redacted)');
  add('endpoint', settings.endpoint, settings.endpoint.value);
  add('profile', settings.profile, settings.profile?.value ?? '');
  add('caFile', settings.caFile, tildify(settings.caFile?.value ?? '', home));
  add('concurrency', settings.concurrency, String(settings.concurrency.value));
  add('retries', settings.retries, String(settings.retries.value));
  add('timeout', settings.timeout, `${settings.timeout.value} s`);
  add('maxSize', settings.maxSize, formatBytes(settings.maxSize.value));
  const secretSource = settings.apiSecret?.source;
  const base = {
    settings: rows,
    files: settings.files,
    secretFile: secretSource?.kind === 'env' && secretSource.name === 'LINKFACE_API_SECRET_FILE' ? secretSource.key : undefined,
    warnings,
  };
  let ca: string | undefined;
  if (settings.caFile) {
    try {
      ca = readCaFile(settings.caFile.value, labelOf(settings.caFile.source));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return { settings: { ...base, error: { message: error.message, fix: error.details.join('\n') || undefined } } };
    }
  }
  return {
    apiId: settings.apiId?.value,
    apiSecret: settings.apiSecret?.value,
    endpoint: settings.endpoint.value,
    allowHttp: options.allowHttp,
    ca,
    settings: base,
  };
}

/** One check for people: its mark, name, what was found and how long it took; the fix under a failure. */
function printCheck(check: DoctorCheck, terminal: Terminal): void {
  const safe = (text: string) => withoutControls(text);
  const time = check.status === 'skip' ? '' : `  (${check.ms} ms)`;
  const summary = check.status === 'skip' ? `not checked: ${check.summary}` : check.summary;
  terminal.out(`${MARKS[check.status]} ${LABELS[check.id].padEnd(9)}${safe(summary)}${time}`);
  for (const line of check.details) terminal.out(`            ${safe(line)}`);
  if (check.fix) {
    const [first = '', ...rest] = check.fix.split('\n');
    terminal.out(`            fix: ${safe(first)}`);
    for (const line of rest) terminal.out(`                 ${safe(line)}`);
  }
}
