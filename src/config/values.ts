import { SettingsError, errorAt } from './errors.js';
import type { Source } from './types.js';

/** Turns a raw value (a string from a flag or variable, anything from an rc file) into a setting's value. */
export type ValueParser<T> = (raw: unknown, source: Source) => T;

/** A non-empty string. The value itself is never shown: this parser also takes the secret. */
export const parseText: ValueParser<string> = (raw, source) => {
  if (typeof raw === 'string' && raw !== '') return raw;
  const quoteHint = typeof raw === 'number' ? ' (in YAML, put it in quotes)' : '';
  throw errorAt(source, `must be a non-empty string, got ${kindOf(raw)}${quoteHint}`);
};

export const parseEndpoint: ValueParser<string> = (raw, source) => {
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : undefined;
  if (url && (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash) {
    return url.href.replace(/\/+$/, '');
  }
  throw errorAt(source, `must be an http:// or https:// URL without query or fragment, got ${shown(raw)}`);
};

/** An integer in [min, max]. */
export function integerIn(min: number, max: number): ValueParser<number> {
  return (raw, source) => {
    const value = toNumber(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    throw errorAt(source, `must be an integer from ${min} to ${max}, got ${shown(raw)}`);
  };
}

export const parseTimeout: ValueParser<number> = (raw, source) => {
  const seconds = toNumber(raw);
  if (seconds > 0 && seconds <= 3600) return seconds;
  throw errorAt(source, `must be a number of seconds > 0 and at most 3600, got ${shown(raw)}`);
};

/** A positive number of bytes, or a size string (`5MB`). */
export const parseMaxSize: ValueParser<number> = (raw, source) => {
  const bytes = typeof raw === 'string' ? sizeInBytes(raw) : raw;
  if (typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes > 0) return bytes;
  throw errorAt(source, `must be a size such as 5MB, 512KB or a number of bytes, got ${shown(raw)}`);
};

const UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Bytes in a size as people type it: `1048576`, `512k`, `512KB`, `5MB`, `5MiB` (case-insensitive). Units are
 * binary whatever their spelling: the endpoint's "5 MB" limit is 5 × 1024 × 1024 bytes.
 * @throws SettingsError when the text is not a size.
 */
export function parseSize(text: string): number {
  const bytes = sizeInBytes(text);
  if (bytes !== undefined) return bytes;
  throw new SettingsError(`'${text}' is not a size: give a number of bytes or a size such as 512KB or 5MB`);
}

function sizeInBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNIT_BYTES[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Numbers from rc files pass as they are; strings from flags and variables must be plain decimals. */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  return typeof raw === 'string' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
}

/** Names the type of a rejected value without showing it. */
export function kindOf(raw: unknown): string {
  if (raw === null) return 'null';
  if (raw === '') return 'an empty string';
  if (Array.isArray(raw)) return 'a list';
  return typeof raw === 'object' ? 'an object' : `a ${typeof raw}`;
}

/** Shows a rejected value that is not secret, so the user can find it. */
function shown(raw: unknown): string {
  if (typeof raw === 'string') return `'${raw}'`;
  return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : kindOf(raw);
}
