import { jsonLine, type Redact, redactorFor } from '../untrusted.js';

const secrets = new Set<string>();
let redactSecrets: Redact = (text) => text;

/** Remembers a secret, of any length, so that nothing this process prints can contain it. */
export function registerSecret(secret: string | undefined): void {
  if (!secret || secrets.has(secret)) return;
  secrets.add(secret);
  redactSecrets = redactorFor(secrets);
}

/** Replaces every registered secret in text (a server may echo a parameter back in its `reason`). */
export function redact(text: string): string {
  return redactSecrets(text);
}

/** Where the CLI writes: data on stdout, everything for people on stderr; both redacted. */
export interface Terminal {
  /** A line of data on stdout. */
  out(line: string): void;
  /** A record on stdout, as one NDJSON line. */
  outRecord(record: Readonly<Record<string, unknown>>): void;
  /** A line for people on stderr. */
  err(line: string): void;
  readonly color: Colors;
  /** stderr is a terminal: spinners and live progress are allowed. */
  readonly interactive: boolean;
}

/** The styles linkface uses, from chalk when colour is on. */
export interface Colors {
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
}

const PLAIN: Colors = { red: (text) => text, yellow: (text) => text, dim: (text) => text };

/**
 * Colour follows chalk's detection for stderr (FORCE_COLOR included); `--no-color` and a non-empty NO_COLOR
 * turn it off (chalk 5 does not read NO_COLOR itself). When stderr is not a terminal and FORCE_COLOR is not set,
 * chalk would say no colour: it is not loaded at all then (scripts and CI start faster for it).
 */
export async function createTerminal(options: { color?: boolean }): Promise<Terminal> {
  const noColor = options.color === false || Boolean(process.env.NO_COLOR);
  const colorPossible = Boolean(process.stderr.isTTY) || process.env.FORCE_COLOR !== undefined;
  return {
    out: (line) => process.stdout.write(`${redact(line)}\n`),
    outRecord: (record) => process.stdout.write(`${jsonLine(record, redactSecrets)}\n`),
    err: (line) => process.stderr.write(`${redact(line)}\n`),
    color: noColor || !colorPossible ? PLAIN : await chalkColors(),
    // A pseudo-terminal without a size (columns 0) sends ora's line arithmetic into an endless clear.
    interactive: Boolean(process.stderr.isTTY) && process.env.TERM !== 'dumb' && (process.stderr.columns ?? 0) > 0,
  };
}

async function chalkColors(): Promise<Colors> {
  const { Chalk, supportsColorStderr } = await import('chalk');
  return new Chalk({ level: supportsColorStderr ? supportsColorStderr.level : 0 });
}
