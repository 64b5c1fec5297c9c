import type { IdField } from './answers.js';
import type { SandboxOptions } from './types.js';
import { MAX_FILE_BYTES } from '../api/contract.js';
import { UsageError } from '../errors.js';

export interface SandboxSettings {
  readonly host: string;
  readonly port: number;
  readonly apiId: string;
  readonly apiSecret: string;
  readonly latencyMs: number;
  readonly failRate: number;
  readonly rateLimit: number | undefined;
  readonly resetRate: number;
  readonly downloadTimeoutMs: number;
  readonly maxFileBytes: number;
  readonly idField: IdField;
  readonly random: () => number;
  readonly log: ((line: string) => void) | undefined;
  readonly recordRequests: boolean;
}

type NumericOption = 'port' | 'latencyMs' | 'failRate' | 'resetRate' | 'rateLimit' | 'downloadTimeoutMs' | 'maxFileBytes';

/** What each numeric option may be: the one place both `startSandbox` and `linkface sandbox` check against. */
const RULES: Record<NumericOption, { readonly integer?: boolean; readonly min: number; readonly max?: number; readonly aboveMin?: boolean }> = {
  port: { integer: true, min: 0, max: 65535 },
  latencyMs: { integer: true, min: 0, max: 600_000 },
  failRate: { min: 0, max: 1 },
  resetRate: { min: 0, max: 1 },
  rateLimit: { min: 0, aboveMin: true },
  downloadTimeoutMs: { min: 0, aboveMin: true },
  maxFileBytes: { integer: true, min: 0, aboveMin: true },
};

/** Why `value` is not a valid `name` ("must be a whole number from 0 to 65535"), or undefined when it is. */
export function optionProblem(name: NumericOption, value: number): string | undefined {
  const { integer = false, min, max, aboveMin = false } = RULES[name];
  const fits = (integer ? Number.isInteger(value) : Number.isFinite(value)) && (aboveMin ? value > min : value >= min) && (max === undefined || value <= max);
  if (fits) return undefined;
  const kind = integer ? 'a whole number' : 'a number';
  return max === undefined ? `must be ${kind} above ${min}` : `must be ${kind} from ${min} to ${max}`;
}

/** Defaults are the real service's limits, so that what passes the sandbox passes the service. */
export function resolveOptions(options: SandboxOptions): SandboxSettings {
  const settings: SandboxSettings = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    apiId: options.apiId ?? 'sandbox',
    apiSecret: options.apiSecret ?? 'sandbox',
    latencyMs: options.latencyMs ?? 0,
    failRate: options.failRate ?? 0,
    rateLimit: options.rateLimit,
    resetRate: options.resetRate ?? 0,
    downloadTimeoutMs: options.downloadTimeoutMs ?? 5000,
    maxFileBytes: options.maxFileBytes ?? MAX_FILE_BYTES,
    idField: options.idField ?? 'liveness_data_id',
    random: options.random ?? Math.random,
    log: options.log,
    recordRequests: options.recordRequests ?? true,
  };
  for (const name of Object.keys(RULES) as NumericOption[]) {
    const value = settings[name];
    const problem = value === undefined ? undefined : optionProblem(name, value);
    if (problem) throw new UsageError(`sandbox option ${name} ${problem}, got ${value}`);
  }
  return settings;
}
