import { closestName } from './suggest.js';

/** Every variable the settings read. */
export const ENV_VARIABLES = [
  'LINKFACE_API_ID',
  'LINKFACE_API_SECRET',
  'LINKFACE_API_SECRET_FILE',
  'LINKFACE_ENDPOINT',
  'LINKFACE_PROFILE',
  'LINKFACE_CONFIG',
  'LINKFACE_CONCURRENCY',
  'LINKFACE_RETRIES',
  'LINKFACE_TIMEOUT',
  'LINKFACE_CA_FILE',
] as const;

export type EnvVariable = (typeof ENV_VARIABLES)[number];

/**
 * The settings variables that are set, cleaned: surrounding whitespace trimmed, surrounding quotes removed
 * (with a warning), empty values dropped. Warns about `LINKFACE_*` names that look like a typo of one of ours.
 * Warnings name the variable only, never its value, which may be the secret.
 */
export function readEnvironment(
  env: Record<string, string | undefined>,
  warnings: string[],
): Map<EnvVariable, string> {
  const values = new Map<EnvVariable, string>();
  for (const name of ENV_VARIABLES) {
    const value = cleanValue(name, env[name], warnings);
    if (value) values.set(name, value);
  }
  warnAboutTypos(env, warnings);
  return values;
}

function cleanValue(name: string, raw: string | undefined, warnings: string[]): string | undefined {
  const trimmed = raw?.trim();
  // .env files, docker --env-file and CI settings pages often keep quotes literally.
  const quoted = trimmed ? /^(["'])(.*)\1$/s.exec(trimmed) : null;
  if (!quoted) return trimmed;
  warnings.push(`${name} is wrapped in quotes; they were removed. Set it without quotes to silence this warning.`);
  return quoted[2];
}

function warnAboutTypos(env: Record<string, string | undefined>, warnings: string[]): void {
  const ours: readonly string[] = ENV_VARIABLES;
  for (const name of Object.keys(env)) {
    if (!name.toUpperCase().startsWith('LINKFACE_') || ours.includes(name)) continue;
    const meant = closestName(name, ours);
    if (meant) warnings.push(`${name} is not a linkface variable and is ignored; did you mean ${meant}?`);
  }
}
