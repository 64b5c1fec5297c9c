import type { IdField } from './answers.js';
import type { SandboxOptions } from './types.js';
import { MAX_FILE_BYTES } from '../api/contract.js';

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
  check('latencyMs', settings.latencyMs, (v) => v >= 0, 'at least 0');
  check('failRate', settings.failRate, isProbability, 'between 0 and 1');
  check('resetRate', settings.resetRate, isProbability, 'between 0 and 1');
  check('rateLimit', settings.rateLimit ?? 1, (v) => v > 0, 'above 0');
  check('downloadTimeoutMs', settings.downloadTimeoutMs, (v) => v > 0, 'above 0');
  check('maxFileBytes', settings.maxFileBytes, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  return settings;
}

function isProbability(value: number): boolean {
  return value >= 0 && value <= 1;
}

function check(name: string, value: number, valid: (value: number) => boolean, expected: string): void {
  if (!valid(value)) throw new RangeError(`sandbox option ${name} must be ${expected}, got ${value}`);
}
