import type { SettingsFlags } from '../config/index.js';
import { formatBytes } from '../units.js';
import { ExitCode } from './exit.js';
import { withoutControls } from '../untrusted.js';
import { loadSettings } from './settings.js';
import { createTerminal, redact } from './terminal.js';

/** `linkface config show`: every setting in force and where it came from; the secret is never printed. */
export async function runConfigShowCommand(options: SettingsFlags & { ca?: string }): Promise<number> {
  const terminal = await createTerminal({});
  const { settings, home, describeSource } = await loadSettings(options, terminal);
  // Values and paths are the user's own, but a file name may hold anything: shown without control codes.
  const safe = (text: string) => redact(withoutControls(text));
  const rows: Array<[string, string, string]> = [];
  const add = (name: string, setting: { source: Parameters<typeof describeSource>[0] } | undefined, shown: string) => {
    rows.push([name, setting ? safe(shown) : '(not set)', setting ? safe(describeSource(setting.source, home)) : '']);
  };
  add('apiId', settings.apiId, settings.apiId?.value ?? '');
  add('apiSecret', settings.apiSecret, '(set, redacted)');
  add('endpoint', settings.endpoint, settings.endpoint.value);
  add('profile', settings.profile, settings.profile?.value ?? '');
  add('concurrency', settings.concurrency, String(settings.concurrency.value));
  add('retries', settings.retries, String(settings.retries.value));
  add('timeout', settings.timeout, `${settings.timeout.value} s`);
  add('maxSize', settings.maxSize, formatBytes(settings.maxSize.value));
  add('caFile', settings.caFile, settings.caFile?.value ?? '');
  const nameWidth = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  for (const [name, value, source] of rows) {
    process.stdout.write(`${name.padEnd(nameWidth)}  ${value.padEnd(valueWidth)}  ${source}`.trimEnd() + '\n');
  }
  process.stdout.write(`\nrc files read: ${settings.files.length ? safe(settings.files.join(', ')) : 'none'}\n`);
  return ExitCode.Ok;
}
