const secrets = new Set<string>();

/** Remembers a secret so that nothing this process prints can contain it. */
export function registerSecret(secret: string | undefined): void {
  // Short values (the sandbox's default 'sandbox', say) would redact ordinary words; real keys are long.
  if (secret && secret.length >= 8) secrets.add(secret);
}

/** Replaces every registered secret in text (a server may echo a parameter back in its `reason`). */
export function redact(text: string): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('***');
  return result;
}

/** Where the CLI writes: data on stdout, everything for people on stderr; both redacted. */
export interface Terminal {
  /** A line of data on stdout. */
  out(line: string): void;
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

/**
 * An input as it is shown in a line of text: backslashes and control characters (newline, tab, escape…)
 * written as `\n`, `\t`, `\x1b`, so a file name can neither break the one-line-per-upload output nor send
 * codes to the terminal. `--json` has the exact names.
 */
export function shown(input: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped here.
  return input.replace(/[\\\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
