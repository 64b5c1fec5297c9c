import { dirname } from 'node:path';
import { SettingsError } from './errors.js';
import type { EnvVariable } from './env.js';
import { resolveUserPath } from './paths.js';
import type { RcFile } from './rcfiles.js';
import { closestName } from './suggest.js';
import type { Setting, SettingsFlags, Source } from './types.js';
import { type ValueParser, integerIn, kindOf, parseEndpoint, parseMaxSize, parseText, parseTimeout } from './values.js';

/** The keys a profile may set; an rc file's top level may also have `profiles`. */
const SECTION_KEYS = [
  'apiId',
  'apiSecret',
  'apiSecretFile',
  'endpoint',
  'concurrency',
  'retries',
  'timeout',
  'maxSize',
  'caFile',
] as const;
const TOP_KEYS: readonly string[] = [...SECTION_KEYS, 'profiles'];

type SectionKey = (typeof SECTION_KEYS)[number];

/** A value as found, before validation. `baseDir` is what a relative `apiSecretFile` is relative to. */
interface RawEntry {
  raw: unknown;
  source: Source;
  baseDir: string;
}

type RawLayer = Partial<Record<SectionKey, RawEntry>>;

/** The secret itself, or the absolute path of the file holding it (read only if it wins). */
export type SecretRef = { text: string } | { file: string };

/** The validated values one place (the flags, the environment, one section of one rc file) sets. */
export interface Layer {
  apiId?: Setting<string>;
  secret?: Setting<SecretRef>;
  endpoint?: Setting<string>;
  concurrency?: Setting<number>;
  retries?: Setting<number>;
  timeout?: Setting<number>;
  maxSize?: Setting<number>;
  /** Absolute path of a PEM bundle of extra certificate authorities to trust. */
  caFile?: Setting<string>;
}

/** An rc file, validated: its top-level values and each of its profiles. */
export interface RcSettings {
  path: string;
  top: Layer;
  profiles: Map<string, Layer>;
  /** Whether `apiSecret` appears anywhere in the file, which makes its permissions matter. */
  holdsSecret: boolean;
}

const FLAG_NAMES = {
  apiId: '--api-id',
  apiSecret: '--api-secret',
  endpoint: '--endpoint',
  concurrency: '--concurrency',
  retries: '--retries',
  timeout: '--timeout',
  maxSize: '--max-size',
  caFile: '--ca',
} as const satisfies Partial<Record<SectionKey & keyof SettingsFlags, string>>;

const ENV_NAMES = {
  apiId: 'LINKFACE_API_ID',
  apiSecret: 'LINKFACE_API_SECRET',
  apiSecretFile: 'LINKFACE_API_SECRET_FILE',
  endpoint: 'LINKFACE_ENDPOINT',
  concurrency: 'LINKFACE_CONCURRENCY',
  retries: 'LINKFACE_RETRIES',
  timeout: 'LINKFACE_TIMEOUT',
  caFile: 'LINKFACE_CA_FILE',
} as const satisfies Partial<Record<SectionKey, EnvVariable>>;

export function flagLayer(flags: SettingsFlags, cwd: string, homeDir: string): Layer {
  const raw: RawLayer = {};
  for (const [key, name] of entriesOf(FLAG_NAMES)) {
    const value = flags[key];
    if (value !== undefined) raw[key] = { raw: value, source: { kind: 'flag', name }, baseDir: cwd };
  }
  return parseLayer(raw, homeDir);
}

export function envLayer(env: ReadonlyMap<EnvVariable, string>, cwd: string, homeDir: string): Layer {
  const raw: RawLayer = {};
  for (const [key, name] of entriesOf(ENV_NAMES)) {
    const value = env.get(name);
    if (value !== undefined) raw[key] = { raw: value, source: { kind: 'env', name }, baseDir: cwd };
  }
  return parseLayer(raw, homeDir);
}

/**
 * Checks an rc file in full (unknown keys, types, ranges, in every profile, whether selected or not) so a
 * mistake is reported the first time the file is read rather than the day a profile is used.
 */
export function parseRcFile({ path, config }: RcFile, homeDir: string): RcSettings {
  const top = rcSection(config, path, '', TOP_KEYS, homeDir);
  const profiles = new Map<string, Layer>();
  let holdsSecret = config.apiSecret !== undefined;
  for (const [name, section] of Object.entries(profileSections(config.profiles, path))) {
    const prefix = `profiles.${name}.`;
    if (!isObject(section)) throw wrongType(path, `profiles.${name}`, 'an object of settings', section);
    profiles.set(name, rcSection(section, path, prefix, SECTION_KEYS, homeDir));
    holdsSecret ||= section.apiSecret !== undefined;
  }
  return { path, top, profiles, holdsSecret };
}

function profileSections(profiles: unknown, path: string): Record<string, unknown> {
  if (profiles === undefined) return {};
  if (!isObject(profiles)) throw wrongType(path, 'profiles', 'an object of profile names to settings', profiles);
  return profiles;
}

function rcSection(
  section: Record<string, unknown>,
  path: string,
  prefix: string,
  allowed: readonly string[],
  homeDir: string,
): Layer {
  const raw: RawLayer = {};
  for (const [key, value] of Object.entries(section)) {
    if (!allowed.includes(key)) throw unknownKey(path, prefix, key, allowed);
    // A JS config may leave a key undefined; that sets nothing, as if the key were absent.
    if (key === 'profiles' || value === undefined) continue;
    const source: Source = { kind: 'file', name: path, key: prefix + key };
    raw[key as SectionKey] = { raw: value, source, baseDir: dirname(path) };
  }
  return parseLayer(raw, homeDir);
}

function parseLayer(raw: RawLayer, homeDir: string): Layer {
  return {
    apiId: parseEntry(raw.apiId, parseText),
    secret: parseSecret(raw, homeDir),
    endpoint: parseEntry(raw.endpoint, parseEndpoint),
    concurrency: parseEntry(raw.concurrency, integerIn(1, 256)),
    retries: parseEntry(raw.retries, integerIn(0, 20)),
    timeout: parseEntry(raw.timeout, parseTimeout),
    maxSize: parseEntry(raw.maxSize, parseMaxSize),
    // A relative path is relative to where it was given (cwd, or the rc file's folder); ~/ is the home folder.
    caFile: raw.caFile && {
      value: resolveUserPath(parseText(raw.caFile.raw, raw.caFile.source), raw.caFile.baseDir, homeDir),
      source: raw.caFile.source,
    },
  };
}

function parseEntry<T>(entry: RawEntry | undefined, parse: ValueParser<T>): Setting<T> | undefined {
  return entry && { value: parse(entry.raw, entry.source), source: entry.source };
}

function parseSecret({ apiSecret, apiSecretFile }: RawLayer, homeDir: string): Setting<SecretRef> | undefined {
  if (apiSecret && apiSecretFile) throw bothSecrets(apiSecret.source, apiSecretFile.source);
  if (apiSecret) return { value: { text: parseText(apiSecret.raw, apiSecret.source) }, source: apiSecret.source };
  if (!apiSecretFile) return undefined;
  const { raw, source, baseDir } = apiSecretFile;
  const file = resolveUserPath(parseText(raw, source), baseDir, homeDir);
  // For a variable, the source also records which file was read; an rc file's key already says where to look.
  return { value: { file }, source: source.kind === 'env' ? { ...source, key: file } : source };
}

function bothSecrets(secret: Source, secretFile: Source): SettingsError {
  if (secret.kind !== 'file') return new SettingsError(`set only one of ${secret.name} and ${secretFile.name}`);
  return new SettingsError(`${secret.name}: set only one of ${secret.key} and ${secretFile.key}`, {
    file: secret.name,
    key: secretFile.key,
  });
}

function unknownKey(path: string, prefix: string, key: string, allowed: readonly string[]): SettingsError {
  const meant = closestName(key, allowed);
  const suggestion = meant === undefined ? '' : `; did you mean '${prefix}${meant}'?`;
  return new SettingsError(`${path}: unknown key '${prefix}${key}'${suggestion}`, {
    file: path,
    key: prefix + key,
    hint: `Valid keys${prefix ? ' in a profile' : ''}: ${allowed.join(', ')}.`,
  });
}

function wrongType(path: string, key: string, expected: string, value: unknown): SettingsError {
  return new SettingsError(`${path}: ${key} must be ${expected}, got ${kindOf(value)}`, { file: path, key });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entriesOf<K extends string, V>(record: Readonly<Record<K, V>>): [K, V][] {
  return Object.entries(record) as [K, V][];
}
