import { stat } from 'node:fs/promises';
import { DEFAULT_ENDPOINT } from '../engine/client.js';
import { VERSION } from '../version.js';
import { startCheck } from './check.js';
import type { DoctorCheck, DoctorOptions, DoctorSetting } from './types.js';

/** The oldest Node.js linkface supports (package.json `engines`). */
const OLDEST_NODE = [20, 18] as const;

export function versionsCheck(): DoctorCheck {
  const step = startCheck('versions');
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeSupported = major > OLDEST_NODE[0] || (major === OLDEST_NODE[0] && minor >= OLDEST_NODE[1]);
  const facts = { linkface: VERSION, node: process.versions.node, platform: process.platform, arch: process.arch, nodeSupported };
  const summary = `linkface ${VERSION}, Node.js ${process.versions.node} (${process.platform} ${process.arch})`;
  return nodeSupported
    ? step.pass(summary, facts)
    : step.fail(`${summary}: Node.js ${OLDEST_NODE.join('.')} or newer is needed`, facts, `Install Node.js ${OLDEST_NODE.join('.')} or newer (22 or 24 LTS), or use the single executable, which carries its own.`);
}

/**
 * The settings in force and where each came from (the secret never shown), the files they were read from
 * with their permissions, and every problem: missing credentials, a secret file others can read, warnings.
 */
export async function settingsCheck(options: DoctorOptions): Promise<DoctorCheck> {
  const step = startCheck('settings');
  const report = options.settings;
  const settings = report?.settings ?? givenSettings(options);
  const files = await Promise.all((report?.files ?? []).map(async (path) => ({ path, mode: await modeOf(path) })));
  const details = [
    ...settings.map((s) => `${s.name}: ${s.value}${s.source ? `, from ${s.source}` : ''}`),
    ...files.map((file) => `rc file ${file.path}${file.mode ? ` (mode ${file.mode})` : ''}`),
  ];
  const facts = { settings, files };
  if (report?.error) return step.fail(report.error.message, facts, report.error.fix ?? 'Fix the setting named above.', details);
  const problems: { message: string; fix: string }[] = [];
  if (!options.apiId || !options.apiSecret) {
    const missing = !options.apiId && !options.apiSecret ? 'the API id and secret are' : !options.apiId ? 'the API id is' : 'the API secret is';
    problems.push({
      message: `${missing} not set`,
      fix: 'Give them with --api-id and LINKFACE_API_SECRET_FILE (or LINKFACE_API_ID / LINKFACE_API_SECRET), or apiId and apiSecret in a .linkfacerc of mode 600.',
    });
  }
  const secretMode = report?.secretFile === undefined ? undefined : await modeOf(report.secretFile);
  if (report?.secretFile !== undefined && secretMode !== undefined && (Number.parseInt(secretMode, 8) & 0o077) !== 0) {
    problems.push({
      message: `the secret file ${report.secretFile} (mode ${secretMode}) can be read by other users`,
      fix: `Run: chmod 600 '${report.secretFile.replace(/'/g, `'\\''`)}'`,
    });
  }
  for (const warning of report?.warnings ?? []) problems.push({ message: warning, fix: warning });
  if (problems.length === 0) return step.pass(`${settings.filter((s) => s.source && s.source !== 'default').length} set, ${files.length} rc file${files.length === 1 ? '' : 's'} read`, facts, details);
  const [first] = problems;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return step.fail(`${first?.message ?? ''}${more}`, facts, problems.map((p) => p.fix).join('\n'), [...details, ...problems.slice(1).map((p) => `also: ${p.message}`)]);
}

/** Without a report from the caller: the options themselves, the secret redacted. */
function givenSettings(options: DoctorOptions): DoctorSetting[] {
  const given = (value: string | undefined) => value ?? '(not set)';
  return [
    { name: 'apiId', value: given(options.apiId), source: 'the options' },
    { name: 'apiSecret', value: options.apiSecret ? '(set, redacted)' : '(not set)', source: 'the options' },
    { name: 'endpoint', value: options.endpoint ?? DEFAULT_ENDPOINT, source: options.endpoint ? 'the options' : 'default' },
    { name: 'ca', value: options.ca ? '(PEM given)' : '(not set)', source: 'the options' },
  ];
}

/** A file's permissions as `0600`; undefined on Windows (no POSIX modes) or when it cannot be read. */
async function modeOf(path: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined;
  try {
    return ((await stat(path)).mode & 0o777).toString(8).padStart(4, '0');
  } catch {
    return undefined;
  }
}
