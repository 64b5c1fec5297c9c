import { readFile } from 'node:fs/promises';
import { labelOf } from './describe.js';
import { type EnvVariable, readEnvironment } from './env.js';
import { SettingsError, describeIoError, errorAt } from './errors.js';
import { type Layer, type RcSettings, type SecretRef, envLayer, flagLayer, parseRcFile } from './layers.js';
import { resolveUserPath } from './paths.js';
import { findRcFiles, loadRcFile, permissionWarning } from './rcfiles.js';
import { closestName } from './suggest.js';
import type { ResolvedSettings, Setting, SettingsInput, Source } from './types.js';
import { parseText } from './values.js';
import { MAX_FILE_BYTES } from '../api/contract.js';

const DEFAULTS = {
  endpoint: 'https://cloudapi.linkface.cn',
  concurrency: 4,
  retries: 3,
  timeout: 30,
  maxSize: MAX_FILE_BYTES,
};

/**
 * The settings in force and where each came from. Precedence, highest first: flags, environment, the nearest
 * project rc file (its selected profile, then its top level), the user's rc file (likewise), defaults.
 * Every value found is validated, even one that is overridden; the secret is read last, from the winning place.
 * @throws SettingsError for any unusable flag, variable or rc file; its message never contains the secret.
 */
export async function resolveSettings(input: SettingsInput): Promise<ResolvedSettings> {
  const { flags, cwd, homeDir } = input;
  const warnings: string[] = [];
  const env = readEnvironment(input.env, warnings);
  const fromFlags = flagLayer(flags, cwd, homeDir);
  const fromEnv = envLayer(env, cwd, homeDir);
  const profile = flagOrEnv(flags.profile, '--profile', env, 'LINKFACE_PROFILE');
  const config = flagOrEnv(flags.config, '--config', env, 'LINKFACE_CONFIG');

  const rcFiles = config
    ? [await loadRcFile(resolveUserPath(config.value, cwd, homeDir), config.source)]
    : await findRcFiles(cwd, homeDir, input.env);
  const rcSettings = rcFiles.map((file) => parseRcFile(file, homeDir));
  warnings.push(...(await permissionWarnings(rcSettings)));
  if (fromFlags.secret) {
    warnings.push('--api-secret is visible to other users in the process list; prefer LINKFACE_API_SECRET_FILE.');
  }

  const layers = [fromFlags, fromEnv, ...rcLayers(rcSettings, profile)];
  const pick = <K extends keyof Layer>(key: K): Layer[K] => layers.find((layer) => layer[key] !== undefined)?.[key];
  const secret = pick('secret');
  return {
    settings: {
      apiId: pick('apiId'),
      apiSecret: secret && (await readSecret(secret)),
      endpoint: pick('endpoint') ?? byDefault(DEFAULTS.endpoint),
      profile,
      concurrency: pick('concurrency') ?? byDefault(DEFAULTS.concurrency),
      retries: pick('retries') ?? byDefault(DEFAULTS.retries),
      timeout: pick('timeout') ?? byDefault(DEFAULTS.timeout),
      maxSize: pick('maxSize') ?? byDefault(DEFAULTS.maxSize),
      caFile: pick('caFile'),
      files: rcFiles.map((file) => file.path),
    },
    warnings,
  };
}

function flagOrEnv(
  flag: string | undefined,
  flagName: string,
  env: ReadonlyMap<EnvVariable, string>,
  envName: EnvVariable,
): Setting<string> | undefined {
  const source: Source = flag === undefined ? { kind: 'env', name: envName } : { kind: 'flag', name: flagName };
  const raw = flag ?? env.get(envName);
  return raw === undefined ? undefined : { value: parseText(raw, source), source };
}

/** Within each file, the selected profile overrides the top level. */
function rcLayers(files: RcSettings[], profile: Setting<string> | undefined): Layer[] {
  if (profile === undefined) return files.map((file) => file.top);
  if (!files.some((file) => file.profiles.has(profile.value))) throw unknownProfile(files, profile);
  return files.flatMap((file) => [file.profiles.get(profile.value), file.top].filter((layer) => layer !== undefined));
}

function unknownProfile(files: RcSettings[], profile: Setting<string>): SettingsError {
  const what = `profile '${profile.value}' (from ${labelOf(profile.source)})`;
  if (files.length === 0) {
    return new SettingsError(`${what} is not defined: no rc file was found`, {
      hint: `Define it under profiles.${profile.value} in ~/.linkfacerc or a project .linkfacerc.`,
    });
  }
  const names = [...new Set(files.flatMap((file) => [...file.profiles.keys()]))];
  const meant = closestName(profile.value, names);
  const defined = names.length === 0 ? 'no profiles are defined' : `defined profiles: ${names.join(', ')}`;
  const suggestion = meant === undefined ? '' : `; did you mean '${meant}'?`;
  const where = files.map((file) => file.path).join(' or ');
  return new SettingsError(`${what} is not defined in ${where}; ${defined}${suggestion}`);
}

async function permissionWarnings(files: RcSettings[]): Promise<string[]> {
  const holding = files.filter((file) => file.holdsSecret);
  const warnings = await Promise.all(holding.map((file) => permissionWarning(file.path)));
  return warnings.filter((warning) => warning !== undefined);
}

async function readSecret({ value, source }: Setting<SecretRef>): Promise<Setting<string>> {
  if ('text' in value) return { value: value.text, source };
  let text: string;
  try {
    text = (await readFile(value.file, 'utf8')).trimEnd();
  } catch (error) {
    const problem = describeIoError(error) ?? 'cannot be read';
    throw errorAt(source, `points to ${value.file}, which ${problem}`);
  }
  if (text === '') throw errorAt(source, `points to ${value.file}, which is empty`);
  return { value: text, source };
}

function byDefault<T>(value: T): Setting<T> {
  return { value, source: { kind: 'default', name: 'default' } };
}
